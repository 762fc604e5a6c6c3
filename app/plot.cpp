#include "app/plot.hpp"

#include "core/constants.hpp"
#include "core/error.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <memory>

namespace surro::plot {
namespace impl::plot {


struct Rgb {
  double r, g, b;
};

// A qualitative palette (distinct hues that stay apart for colour-blind readers).
const Rgb kPalette[] = {{0.00, 0.45, 0.70}, {0.84, 0.37, 0.00}, {0.00, 0.62, 0.45}, {0.80, 0.47, 0.65},
                        {0.34, 0.71, 0.91}, {0.90, 0.62, 0.00}, {0.50, 0.50, 0.50}, {0.00, 0.00, 0.00}};

// Colour maps as piecewise-linear control points: a sequential map from dark blue-violet to yellow
// (monotone in lightness, like viridis), and a diverging blue-white-red one for signed errors.
const Rgb kSequential[] = {{0.267, 0.005, 0.329},
                           {0.229, 0.322, 0.546},
                           {0.128, 0.567, 0.551},
                           {0.369, 0.789, 0.383},
                           {0.993, 0.906, 0.144}};
const Rgb kDiverging[] = {{0.23, 0.30, 0.75}, {0.97, 0.97, 0.97}, {0.71, 0.02, 0.15}};

Rgb colour_map(double t, bool diverging) {
  if (!std::isfinite(t)) return {0.6, 0.6, 0.6};
  t = std::clamp(t, 0.0, 1.0);
  const Rgb* map = diverging ? kDiverging : kSequential;
  const int n = diverging ? 3 : 5;
  const double s = t * (n - 1);
  const int i = std::min(n - 2, static_cast<int>(s));
  const double f = s - i;
  return {map[i].r + f * (map[i + 1].r - map[i].r), map[i].g + f * (map[i + 1].g - map[i].g),
          map[i].b + f * (map[i + 1].b - map[i].b)};
}

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string to_png(cairo_surface_t* surface) {
  std::string png;
  cairo_surface_flush(surface);
  const cairo_status_t st = cairo_surface_write_to_png_stream(surface, append_bytes, &png);
  if (st != CAIRO_STATUS_SUCCESS)
    SURRO_THROW(ErrorKind::runtime, "report: cairo could not encode a PNG: " << cairo_status_to_string(st));
  return png;
}

// A white canvas of w x h pixels with the report's font.
std::pair<Surface, Context> canvas(int w, int h) {
  Surface s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
  if (cairo_surface_status(s.get()) != CAIRO_STATUS_SUCCESS)
    SURRO_THROW(ErrorKind::runtime,
                "report: cairo could not create a "
                    << w << "x" << h << " image: " << cairo_status_to_string(cairo_surface_status(s.get())));
  Context cr(cairo_create(s.get()), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr.get(), 12);
  return {std::move(s), std::move(cr)};
}

// Text anchored at (x, y): ax 0 left, 0.5 centred, 1 right; ay likewise from the top.
void text(cairo_t* cr, const std::string& s, double x, double y, double ax, double ay, double angle = 0) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -ax * e.x_advance, -ay * e.height - e.y_bearing);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

std::string number(double v, int digits = 3) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, std::abs(v) < 1e-300 ? 0.0 : v);
  return buf;
}

// A round tick spacing (1, 2 or 5 times a power of ten) giving about 5 ticks over `range`.
double nice_step(double range) {
  const double raw = range / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  return raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
}

// One axis: the data range and where ticks go. On a log axis positions are log10 of values.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;  // in axis units (log10 on a log axis)
  std::vector<double> ticks;

  double unit(double v) const { return log ? std::log10(v) : v; }
  bool usable(double v) const { return std::isfinite(v) && (!log || v > 0); }

  void fit(double min_v, double max_v, bool pad) {
    lo = unit(min_v);
    hi = unit(max_v);
    if (!(hi > lo)) {
      const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
      lo -= d;
      hi += d;
    } else if (pad && !log) {
      const double d = 0.05 * (hi - lo);
      lo -= d;
      hi += d;
    }
    if (log) {
      // Wide ranges tick at decades; narrower ones at 1, 2, 5 (or every digit) times a power of
      // ten, so a curve spanning less than a decade still fills the plot.
      const double d = 0.03 * (hi - lo);
      lo -= d;
      hi += d;
      if (hi - lo >= 2) {
        const double step = std::ceil((hi - lo) / 8);
        for (double t = std::ceil(lo / step) * step; t <= hi; t += step) ticks.push_back(t);
        return;
      }
      for (const std::vector<int>& mantissas :
           {std::vector<int>{1, 2, 5}, std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
        ticks.clear();
        for (double e = std::floor(lo); e <= std::ceil(hi); e += 1)
          for (int m : mantissas) {
            const double t = e + std::log10(double(m));
            if (t >= lo && t <= hi) ticks.push_back(t);
          }
        if (ticks.size() >= 3) break;
      }
      if (ticks.size() < 2) {  // within a factor of a few: evenly spaced values
        ticks.clear();
        const double a = std::pow(10.0, lo), b = std::pow(10.0, hi), step = nice_step(b - a);
        for (double t = std::ceil(a / step) * step; t <= b; t += step) ticks.push_back(std::log10(t));
      }
      return;
    }
    const double step = nice_step(hi - lo);
    for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) ticks.push_back(t);
  }
  // Tick labels with the fewest significant digits (3 or more) that tell neighbours apart.
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    for (int digits = 3; digits <= 12; ++digits) {
      out.clear();
      for (double t : ticks) {
        const bool decade = log && std::abs(t - std::round(t)) < 1e-9;
        // Decades far from 1 as powers of ten ("1e-06"), everything else as the value.
        out.push_back(decade && std::abs(t) > 3.5 ? "1e" + number(std::round(t))
                                                  : number(log ? std::pow(10.0, t) : t, digits));
      }
      std::vector<std::string> sorted = out;
      std::sort(sorted.begin(), sorted.end());
      if (std::unique(sorted.begin(), sorted.end()) == sorted.end()) break;
    }
    return out;
  }
};

// The plot area of a chart in pixels.
struct PlotBox {
  double left, top, w, h;
};

// Grid lines and tick labels of both axes.
void draw_ticks(cairo_t* cr, const Axis& ax, const Axis& ay, const PlotBox& b) {
  cairo_set_line_width(cr, 1);
  const std::vector<std::string> x_labels = ax.labels(), y_labels = ay.labels();
  for (std::size_t i = 0; i < ax.ticks.size(); ++i) {
    const double px = b.left + (ax.ticks[i] - ax.lo) / (ax.hi - ax.lo) * b.w;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, px, b.top);
    cairo_line_to(cr, px, b.top + b.h);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, x_labels[i], px, b.top + b.h + 5, 0.5, 0);
  }
  for (std::size_t i = 0; i < ay.ticks.size(); ++i) {
    const double py = b.top + b.h - (ay.ticks[i] - ay.lo) / (ay.hi - ay.lo) * b.h;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, b.left, py);
    cairo_line_to(cr, b.left + b.w, py);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, y_labels[i], b.left - 5, py, 1, 0.5);
  }
}

// One row per series from (lx, ly) down: a line sample in its colour and dash, then its name.
void draw_legend(cairo_t* cr, const std::vector<Series>& series, double lx, double ly) {
  const double dash[] = {6, 4};
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const Rgb c = kPalette[static_cast<std::size_t>(s.colour) % std::size(kPalette)];
    const double yy = ly + 8 + 16.0 * k;
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    cairo_move_to(cr, lx, yy);
    cairo_line_to(cr, lx + 26, yy);
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, s.name, lx + 32, yy, 0, 0.5);
  }
}

}  // namespace impl::plot

using namespace impl::plot;

std::string line_chart_png(const LineChart& chart) {
  // The legend sits under the plot, one row per series, so it never hides a curve.
  const int height = chart.height + 16 * static_cast<int>(chart.series.size());
  auto [surface, ctx] = canvas(chart.width, height);
  cairo_t* cr = ctx.get();
  const double left = 78, right = 16, top = 30, bottom = 46;
  const double pw = chart.width - left - right, ph = chart.height - top - bottom;  // the plot area
  Axis ax, ay;
  ax.log = chart.log_x;
  ay.log = chart.log_y;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : chart.series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (ax.usable(s.x[i]) && ay.usable(s.y[i])) {
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 14);
  text(cr, chart.title, chart.width / 2.0, 8, 0.5, 0);
  cairo_set_font_size(cr, 12);
  if (!std::isfinite(x0)) {
    text(cr, "(no data to plot)", chart.width / 2.0, height / 2.0, 0.5, 0.5);
    return to_png(surface.get());
  }
  ax.fit(x0, x1, false);
  ay.fit(y0, y1, true);
  auto X = [&](double v) { return left + (ax.unit(v) - ax.lo) / (ax.hi - ax.lo) * pw; };
  auto Y = [&](double v) { return top + ph - (ay.unit(v) - ay.lo) / (ay.hi - ay.lo) * ph; };

  draw_ticks(cr, ax, ay, {left, top, pw, ph});
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, left, top, pw, ph);
  cairo_stroke(cr);
  text(cr, chart.x_label, left + pw / 2, chart.height - 4, 0.5, 1);
  text(cr, chart.y_label, 4, top + ph / 2, 0.5, 0, -kPi / 2);

  // Series: polylines broken where a point cannot be drawn; markers when the points are few.
  cairo_save(cr);
  cairo_rectangle(cr, left, top, pw, ph);
  cairo_clip(cr);
  for (const Series& s : chart.series) {
    const Rgb c = kPalette[static_cast<std::size_t>(s.colour) % std::size(kPalette)];
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_set_line_width(cr, 2);
    const double dash[] = {6, 4};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    const std::size_t n = std::min(s.x.size(), s.y.size());
    bool pen = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (!ax.usable(s.x[i]) || !ay.usable(s.y[i])) {
        pen = false;
        continue;
      }
      if (pen)
        cairo_line_to(cr, X(s.x[i]), Y(s.y[i]));
      else
        cairo_move_to(cr, X(s.x[i]), Y(s.y[i]));
      pen = true;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    if (n <= 40)
      for (std::size_t i = 0; i < n; ++i)
        if (ax.usable(s.x[i]) && ay.usable(s.y[i])) {
          cairo_arc(cr, X(s.x[i]), Y(s.y[i]), 2.5, 0, 2 * kPi);
          cairo_fill(cr);
        }
  }
  cairo_restore(cr);

  // Legend under the x label.
  draw_legend(cr, chart.series, left + 10, chart.height + 2);
  return to_png(surface.get());
}

namespace impl::plot {

// A panel is kPanelW wide; its drawing fits a kBox square and the panel's height follows the
// drawing's (a long channel gives a short panel).
constexpr double kPanelW = 260, kBox = 220;

int panel_height(double drawing) {
  return static_cast<int>(28 + drawing + 60);
}

// A panel's title above and colour bar below the drawing (height `drawing`) at (x0, 28).
void panel_frame(cairo_t* cr, const Panel& p, double x0, double drawing) {
  cairo_set_source_rgb(cr, 0, 0, 0);
  text(cr, p.title, x0 + kPanelW / 2, 6, 0.5, 0);
  const double bx = x0 + 20, by = 28 + drawing + 12, bw = kBox, bh = 12;
  for (int i = 0; i < static_cast<int>(bw); ++i) {
    const Rgb c = colour_map((i + 0.5) / bw, p.diverging);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_rectangle(cr, bx + i, by, 1, bh);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, bx, by, bw, bh);
  cairo_stroke(cr);
  text(cr, number(p.lo), bx, by + bh + 4, 0, 0);
  text(cr, number(p.hi), bx + bw, by + bh + 4, 1, 0);
  if (p.diverging) text(cr, "0", bx + bw / 2, by + bh + 4, 0.5, 0);
}

double unit_value(const Panel& p, double v) {
  return p.hi > p.lo ? (v - p.lo) / (p.hi - p.lo) : 0.5;
}

}  // namespace impl::plot

std::string grid_panels_png(int nx, int ny, const std::vector<Panel>& panels) {
  SURRO_REQUIRE(nx > 0 && ny > 0, "report: a grid snapshot of " << nx << " x " << ny << " points");
  const double scale = kBox / std::max(nx, ny);
  auto [surface, ctx] = canvas(static_cast<int>(kPanelW * panels.size()), panel_height(ny * scale));
  cairo_t* cr = ctx.get();
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    SURRO_REQUIRE(p.values.size() == std::size_t(nx) * ny, "report: panel "
                                                               << p.title << ": " << p.values.size()
                                                               << " values for " << nx << " x " << ny);
    // One pixel per grid point (row 0 of the data is the bottom row of the picture), scaled up with
    // nearest-neighbour filtering so each point stays a visible square.
    Surface img(cairo_image_surface_create(CAIRO_FORMAT_RGB24, nx, ny), cairo_surface_destroy);
    cairo_surface_flush(img.get());
    unsigned char* data = cairo_image_surface_get_data(img.get());
    const int stride = cairo_image_surface_get_stride(img.get());
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        const Rgb c = colour_map(unit_value(p, p.values[std::size_t(j) * nx + i]), p.diverging);
        auto* px = reinterpret_cast<std::uint32_t*>(data + std::size_t(ny - 1 - j) * stride) + i;
        *px = (std::uint32_t(c.r * 255 + 0.5) << 16) | (std::uint32_t(c.g * 255 + 0.5) << 8) |
              std::uint32_t(c.b * 255 + 0.5);
      }
    cairo_surface_mark_dirty(img.get());
    const double x0 = kPanelW * k;
    const double ox = x0 + 20 + (kBox - nx * scale) / 2, oy = 28;
    cairo_save(cr);
    cairo_translate(cr, ox, oy);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, img.get(), 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, nx, ny);
    cairo_fill(cr);
    cairo_restore(cr);
    panel_frame(cr, p, x0, ny * scale);
  }
  return to_png(surface.get());
}

std::string mesh_panels_png(const std::vector<double>& points, const std::vector<int>& triangles,
                            const std::vector<Panel>& panels) {
  const std::size_t V = points.size() / 2;
  SURRO_REQUIRE(V > 0 && triangles.size() % 3 == 0, "report: a mesh snapshot of " << V << " points and "
                                                                                  << triangles.size()
                                                                                  << " triangle indices");
  double x0 = points[0], x1 = x0, y0 = points[1], y1 = y0;
  for (std::size_t v = 0; v < V; ++v) {
    x0 = std::min(x0, points[2 * v]), x1 = std::max(x1, points[2 * v]);
    y0 = std::min(y0, points[2 * v + 1]), y1 = std::max(y1, points[2 * v + 1]);
  }
  const double scale = kBox / std::max({x1 - x0, y1 - y0, 1e-300});
  // Long thin domains (a channel) keep their aspect: the box shrinks to the mesh's height.
  const double h = (y1 - y0) * scale;
  auto [surface, ctx] = canvas(static_cast<int>(kPanelW * panels.size()), panel_height(h));
  cairo_t* cr = ctx.get();
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    SURRO_REQUIRE(p.values.size() == V, "report: panel " << p.title << ": " << p.values.size()
                                                         << " values for " << V << " mesh points");
    const double ox = kPanelW * k + 20 + (kBox - (x1 - x0) * scale) / 2, oy = 28;
    auto px = [&](int v) { return ox + (points[2 * std::size_t(v)] - x0) * scale; };
    auto py = [&](int v) { return oy + h - (points[2 * std::size_t(v) + 1] - y0) * scale; };
    cairo_pattern_t* mesh = cairo_pattern_create_mesh();
    for (std::size_t t = 0; t + 2 < triangles.size(); t += 3) {
      cairo_mesh_pattern_begin_patch(mesh);
      cairo_mesh_pattern_move_to(mesh, px(triangles[t]), py(triangles[t]));
      cairo_mesh_pattern_line_to(mesh, px(triangles[t + 1]), py(triangles[t + 1]));
      cairo_mesh_pattern_line_to(mesh, px(triangles[t + 2]), py(triangles[t + 2]));
      for (unsigned c = 0; c < 3; ++c) {
        const Rgb rgb = colour_map(unit_value(p, p.values[std::size_t(triangles[t + c])]), p.diverging);
        cairo_mesh_pattern_set_corner_color_rgb(mesh, c, rgb.r, rgb.g, rgb.b);
      }
      cairo_mesh_pattern_end_patch(mesh);
    }
    cairo_set_source(cr, mesh);
    cairo_paint(cr);
    cairo_pattern_destroy(mesh);
    panel_frame(cr, p, kPanelW * k, h);
  }
  return to_png(surface.get());
}

std::string library_version() {
  return std::string("cairo ") + cairo_version_string();
}

std::string base64(const std::string& bytes) {
  static const char* const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 3; ++k)
      w = (w << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? digits[(w >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

}  // namespace surro::plot
