#pragma once
// Images for the run report (app/report.cpp), drawn with cairo (Debian libcairo2-dev) into PNG
// image surfaces: it needs no display, no OpenGL and no fonts beyond fontconfig's defaults, so it
// runs on a login node or a CI container. Every function returns the PNG file's bytes. Host only.
#include <string>
#include <vector>

namespace surro::plot {

struct Series {
  std::string name;
  std::vector<double> x,
      y;           // (n) points; non-finite values, and non-positive ones on a log axis, are skipped
  int colour = 0;  // index into the report's palette
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series;
  int width = 640, height = 400;
};

// A line chart with axes, ticks, labels and a legend. A chart with no drawable point still gives a
// valid PNG that says so.
std::string line_chart_png(const LineChart& chart);

// One panel of a snapshot: a title and values over a grid or a triangle mesh.
struct Panel {
  std::string title;
  std::vector<double> values;  // (V) on a mesh; (Ny, Nx) on a grid, x fastest, row 0 at the bottom
  double lo = 0, hi = 1;       // colour range
  bool diverging = false;      // blue-white-red around 0 (errors); else a sequential map
};

// Panels side by side over one grid of nx x ny points (cells drawn as nearest-value squares).
std::string grid_panels_png(int nx, int ny, const std::vector<Panel>& panels);

// Panels side by side over one 2D triangle mesh: points (V, 2), triangles (Nc, 3); colours are
// interpolated linearly across each triangle (cairo mesh patterns: the P1 field itself).
std::string mesh_panels_png(const std::vector<double>& points, const std::vector<int>& triangles,
                            const std::vector<Panel>& panels);

// "cairo X.Y.Z": the library that draws the images (for the report's build table).
std::string library_version();

// RFC 4648 base64 (for data: URIs).
std::string base64(const std::string& bytes);

}  // namespace surro::plot
