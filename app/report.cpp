#include "app/report.hpp"

#include "app/plot.hpp"
#include "app/png_file.hpp"
#include "app/run_program.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "datasets/hdf5.hpp"

#include <nlohmann/json.hpp>
#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDataArray.h>
#include <vtkIdList.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLImageDataReader.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

namespace surro::app {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace impl::report {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) SURRO_THROW(ErrorKind::input, path << ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Numbers as the report shows them: 6 significant digits (printf %.6g), which the test compares
// with metrics.json formatted the same way.
std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// A CSV file with a header row; cells as text, columns by name.
struct Csv {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  int index(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  }
  std::vector<double> column(const std::string& name) const {
    const int c = index(name);
    if (c < 0) SURRO_THROW(ErrorKind::input, path << ": no column " << name << " in the header");
    std::vector<double> out;
    for (const auto& r : rows) {
      if (std::size_t(c) >= r.size())
        SURRO_THROW(ErrorKind::input,
                    path << ": a row has " << r.size() << " cells: expected " << header.size());
      try {
        out.push_back(std::stod(r[std::size_t(c)]));
      } catch (const std::exception&) {
        out.push_back(std::nan(""));  // "nan", "inf" and empty cells are gaps in a curve
      }
    }
    return out;
  }
};

std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  return cells;
}

Csv read_csv(const std::string& path) {
  Csv csv;
  csv.path = path;
  std::istringstream in(read_text(path));
  std::string line;
  if (!std::getline(in, line)) SURRO_THROW(ErrorKind::input, path << ": empty, expected a header row");
  csv.header = split_row(line);
  while (std::getline(in, line))
    if (!line.empty()) csv.rows.push_back(split_row(line));
  return csv;
}

std::vector<double> to_vector(const json& j) {
  std::vector<double> out;
  for (const auto& v : j) out.push_back(v.is_number() ? v.get<double>() : std::nan(""));
  return out;
}

std::vector<double> iota(std::size_t n, double first) {
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = first + double(i);
  return out;
}

// The HTML page under construction.
struct Page {
  std::ostringstream body;
  int images = 0;

  void heading(const std::string& text) { body << "<h2>" << escape(text) << "</h2>\n"; }
  void note(const std::string& text) { body << "<p class=\"note\">" << escape(text) << "</p>\n"; }
  void image(const std::string& png, const std::string& alt) {
    ++images;
    body << "<img alt=\"" << escape(alt) << "\" src=\"data:image/png;base64," << plot::base64(png) << "\">\n";
  }
  void figure(const std::string& png, const std::string& alt, const std::string& caption) {
    body << "<figure>";
    image(png, alt);
    body << "<figcaption>" << escape(caption) << "</figcaption></figure>\n";
  }
  // A number tagged with the metrics.json path it comes from (data-key), for the test.
  void cell(const std::string& key, double v) {
    body << "<td class=\"num\" data-key=\"" << escape(key) << "\">" << fmt(v) << "</td>";
  }
};

// ---- training run ------------------------------------------------------------------------------

void training_section(Page& page, const std::string& dir) {
  page.heading("Training");
  const std::string path = dir + "/history.csv";
  if (!fs::exists(path)) {
    page.note(dir + ": no history.csv (no epoch finished yet)");
    return;
  }
  const Csv h = read_csv(path);
  const std::vector<double> epoch = h.column("epoch"), train = h.column("train_loss"),
                            valid = h.column("valid_loss"), lr = h.column("lr");
  plot::LineChart loss{"Loss per epoch", "epoch", "loss", false, true, {}};
  loss.series.push_back({"training", epoch, train, 0, false});
  loss.series.push_back({"validation", epoch, valid, 1, false});
  page.image(plot::line_chart_png(loss), "loss curves");
  plot::LineChart rate{"Learning rate (last step of each epoch)", "epoch", "learning rate", false, false, {}};
  rate.series.push_back({"lr", epoch, lr, 2, false});
  page.image(plot::line_chart_png(rate), "learning-rate curve");
  if (h.rows.empty()) return;
  std::size_t best = 0;
  for (std::size_t i = 0; i < valid.size(); ++i)
    if (valid[i] < valid[best]) best = i;
  page.body << "<table><tr><th></th><th>epoch</th><th>step</th><th>training loss</th><th>validation loss</th>"
               "<th>learning rate</th></tr>\n";
  auto row = [&](const char* what, std::size_t i) {
    page.body << "<tr><th>" << what << "</th><td>" << h.rows[i][std::size_t(h.index("epoch"))] << "</td><td>"
              << h.rows[i][std::size_t(h.index("step"))] << "</td><td class=\"num\">" << fmt(train[i])
              << "</td><td class=\"num\">" << fmt(valid[i]) << "</td><td class=\"num\">" << fmt(lr[i])
              << "</td></tr>\n";
  };
  row("last", h.rows.size() - 1);
  row("best validation", best);
  page.body << "</table>\n";
}

void config_section(Page& page, const std::string& dir) {
  const std::string path = dir + "/config.json";
  if (!fs::exists(path)) return;
  std::string text = read_text(path);
  try {
    text = json::parse(text).dump(2);
  } catch (const json::parse_error&) {
    // shown as it is
  }
  page.body << "<details><summary>Resolved config (" << escape(path) << ")</summary><pre>" << escape(text)
            << "</pre></details>\n";
}

// ---- rollout metrics ---------------------------------------------------------------------------

void summary_table(Page& page, const json& m) {
  page.body << "<table><tr><th>quantity</th><th>value</th></tr>\n";
  static const char* const keys[][2] = {
      {"samples", "trajectories"},
      {"steps", "steps"},
      {"rel_l2_mean", "relative L2 over the trajectory (mean over samples)"},
      {"rmse", "RMSE over every value"},
      {"spectrum_error_mean", "energy-spectrum error (decades, resolved shells)"},
      {"rmse_one_step", "RMSE, horizon 1 (predicted nodes)"},
      {"rmse_all_rollout", "RMSE over the whole rollout (predicted nodes)"}};
  for (const auto& k : keys) {
    if (!m.contains(k[0]) || !m[k[0]].is_number()) continue;
    page.body << "<tr><th>" << k[1] << "</th>";
    page.cell(k[0], m[k[0]].get<double>());
    page.body << "</tr>\n";
  }
  page.body << "</table>\n";
}

// Every per-step series of metrics.json, one row per step (numbered from 1 as the printed table).
void per_step_table(Page& page, const json& per_step) {
  std::vector<std::string> names;
  for (auto it = per_step.begin(); it != per_step.end(); ++it)
    if (it.value().is_array()) names.push_back(it.key());
  if (names.empty()) return;
  const std::size_t n = per_step[names[0]].size();
  page.body << "<details><summary>Per-step values (metrics.json per_step)</summary><table><tr><th>step</th>";
  for (const auto& s : names) page.body << "<th>" << escape(s) << "</th>";
  page.body << "</tr>\n";
  for (std::size_t t = 0; t < n; ++t) {
    page.body << "<tr><td>" << t + 1 << "</td>";
    for (const auto& s : names)
      if (t < per_step[s].size() && per_step[s][t].is_number())
        page.cell("per_step." + s + "[" + std::to_string(t) + "]", per_step[s][t].get<double>());
      else
        page.body << "<td></td>";
    page.body << "</tr>\n";
  }
  page.body << "</table></details>\n";
}

void metrics_section(Page& page, const std::string& dir) {
  const std::string path = dir + "/metrics.json";
  json m;
  try {
    m = json::parse(read_text(path));
  } catch (const json::parse_error& e) {
    SURRO_THROW(ErrorKind::input, path << ": not valid JSON: " << e.what());
  }
  const json ps = m.value("per_step", json::object());
  // A pair model (Darcy a -> u) predicts once: its one "step" is no curve.
  const bool curves = m.value("steps", 0) > 1;
  page.heading(curves ? "Rollout error" : "Prediction error");
  summary_table(page, m);
  if (curves && ps.contains("rmse")) {
    const std::vector<double> rmse = to_vector(ps["rmse"]), steps = iota(rmse.size(), 1);
    plot::LineChart c{"RMSE against rollout step", "step", "RMSE", false, true, {}};
    const bool per_field = m.contains("fields") && m["fields"].size() > 1;
    c.series.push_back(
        {per_field ? "prediction - reference, all fields" : "prediction - reference", steps, rmse, 0, false});
    if (per_field) {
      int colour = 2;
      for (auto it = m["fields"].begin(); it != m["fields"].end(); ++it)
        if (it.value().contains("per_step_rmse"))
          c.series.push_back({it.key(), steps, to_vector(it.value()["per_step_rmse"]), colour++, false});
    }
    if (ps.contains("reference_change_rms"))
      c.series.push_back(
          {"reference - its initial frame (scale)", steps, to_vector(ps["reference_change_rms"]), 1, true});
    page.image(plot::line_chart_png(c), "RMSE against rollout step");
    if (ps.contains("reference_change_rms"))
      page.note(
          "Dashed: the RMS of the reference's own change since the last frame of the input window, "
          "over the same values; a prediction error near it carries no more information than holding the "
          "initial frame.");
  }
  if (curves && ps.contains("rel_l2")) {
    const std::vector<double> rel = to_vector(ps["rel_l2"]), steps = iota(rel.size(), 1);
    plot::LineChart c{"Relative L2 error against rollout step", "step", "relative L2", false, true, {}};
    c.series.push_back({"relative L2 (mean over samples)", steps, rel, 0, false});
    page.image(plot::line_chart_png(c), "relative L2 against rollout step");
  }
  if (curves && ps.contains("spectrum_error")) {
    const std::vector<double> e = to_vector(ps["spectrum_error"]), steps = iota(e.size(), 1);
    plot::LineChart c{"Energy-spectrum error against rollout step", "step", "decades", false, false, {}};
    c.series.push_back({"RMS of log10(E_pred / E_ref) over resolved shells", steps, e, 3, false});
    page.image(plot::line_chart_png(c), "spectrum error against rollout step");
  }
  per_step_table(page, ps);
}

void spectrum_section(Page& page, const std::string& dir) {
  const std::string path = dir + "/spectrum.csv";
  if (!fs::exists(path)) return;
  const Csv s = read_csv(path);
  page.heading("Energy spectrum (mean over samples and steps)");
  plot::LineChart c{"Energy spectrum", "wavenumber shell k", "energy", true, true, {}};
  c.series.push_back({"prediction", s.column("k"), s.column("energy_pred"), 0, false});
  c.series.push_back({"reference", s.column("k"), s.column("energy_ref"), 1, true});
  page.image(plot::line_chart_png(c), "energy spectra");
}

// statistics.csv: quantity,axis,index,field,pred,ref. One chart per (field, axis) with the mean and
// rms profiles of prediction and reference.
void profiles_section(Page& page, const std::string& dir) {
  const std::string path = dir + "/statistics.csv";
  if (!fs::exists(path)) return;
  const Csv s = read_csv(path);
  const int iq = s.index("quantity"), ia = s.index("axis"), ii = s.index("index"), iff = s.index("field"),
            ip = s.index("pred"), ir = s.index("ref");
  if (std::min({iq, ia, ii, iff, ip, ir}) < 0)
    SURRO_THROW(ErrorKind::input, path << ": expected the columns quantity,axis,index,field,pred,ref");
  // (field, axis) -> quantity -> (index, pred, ref) points, in file order.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::array<std::vector<double>, 3>>> by;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& r : s.rows) {
    if (r.size() < s.header.size()) continue;
    const std::string q = r[std::size_t(iq)];
    if (q != "mean" && q != "rms") continue;
    const auto key = std::make_pair(r[std::size_t(iff)], r[std::size_t(ia)]);
    if (!by.count(key)) order.push_back(key);
    auto& pts = by[key][q];
    pts[0].push_back(std::stod(r[std::size_t(ii)]));
    pts[1].push_back(std::stod(r[std::size_t(ip)]));
    pts[2].push_back(std::stod(r[std::size_t(ir)]));
  }
  if (order.empty()) return;
  page.heading("Profiles (averaged over the other axes, samples and steps)");
  for (std::size_t k = 0; k < order.size() && k < 6; ++k) {
    const auto& [field, axis] = order[k];
    plot::LineChart c{
        field + ": profiles along axis " + axis, "index along axis " + axis, field, false, false, {}};
    int colour = 0;
    for (const auto& [q, pts] : by[order[k]]) {
      c.series.push_back({q + " prediction", pts[0], pts[1], colour, false});
      c.series.push_back({q + " reference", pts[0], pts[2], colour, true});
      colour += 1;
    }
    page.image(plot::line_chart_png(c), field + " profiles along axis " + axis);
  }
}

// ---- snapshots ---------------------------------------------------------------------------------

struct PvdEntry {
  std::string time, file;  // as the .pvd writes them; file relative to the .pvd's folder
};

std::vector<PvdEntry> read_pvd(const std::string& path) {
  const std::string text = read_text(path);
  static const std::regex entry(R"re(<DataSet[^>]*timestep="([^"]*)"[^>]*file="([^"]*)")re");
  std::vector<PvdEntry> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry); it != std::sregex_iterator(); ++it)
    out.push_back({(*it)[1], (*it)[2]});
  return out;
}

// One value per point: the value of a scalar array, the magnitude of a vector one.
std::vector<double> point_values(vtkDataArray* a) {
  const vtkIdType n = a->GetNumberOfTuples();
  const int nc = a->GetNumberOfComponents();
  std::vector<double> out(static_cast<std::size_t>(n));
  for (vtkIdType i = 0; i < n; ++i) {
    if (nc == 1) {
      out[std::size_t(i)] = a->GetComponent(i, 0);
      continue;
    }
    double s = 0;
    for (int c = 0; c < nc; ++c) s += a->GetComponent(i, c) * a->GetComponent(i, c);
    out[std::size_t(i)] = std::sqrt(s);
  }
  return out;
}

// Prediction, reference (one colour range for both) and error (symmetric around 0 for a scalar,
// from 0 for a vector's magnitude) of field `name`, restricted to the points `keep` (empty: all).
std::vector<plot::Panel> field_panels(vtkPointData* pd, const std::string& name,
                                      const std::vector<vtkIdType>& keep) {
  vtkDataArray* arrays[3] = {pd->GetArray((name + "_pred").c_str()), pd->GetArray((name + "_ref").c_str()),
                             pd->GetArray((name + "_error").c_str())};
  if (!arrays[0] || !arrays[1] || !arrays[2]) return {};
  const bool vector = arrays[0]->GetNumberOfComponents() > 1;
  std::vector<plot::Panel> panels(3);
  const char* const titles[] = {" prediction", " reference", " error"};
  for (int k = 0; k < 3; ++k) {
    std::vector<double> v = point_values(arrays[k]);
    if (!keep.empty()) {
      std::vector<double> kept;
      for (vtkIdType i : keep) kept.push_back(v[std::size_t(i)]);
      v.swap(kept);
    }
    panels[std::size_t(k)].title = name + (vector ? " |.|" : "") + titles[k];
    panels[std::size_t(k)].values = std::move(v);
  }
  double lo = INFINITY, hi = -INFINITY, emax = 0;
  for (int k = 0; k < 2; ++k)
    for (double x : panels[std::size_t(k)].values)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  for (double x : panels[2].values)
    if (std::isfinite(x)) emax = std::max(emax, std::abs(x));
  if (!(hi >= lo)) lo = 0, hi = 1;
  for (int k = 0; k < 2; ++k) panels[std::size_t(k)].lo = lo, panels[std::size_t(k)].hi = hi;
  panels[2].diverging = !vector;
  panels[2].lo = vector ? 0 : -emax;
  panels[2].hi = emax > 0 ? emax : 1;
  return panels;
}

std::vector<std::string> field_names(vtkPointData* pd) {
  std::vector<std::string> names;
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i) {
    const char* n = pd->GetArrayName(i);
    const std::string s = n ? n : "";
    if (s.size() > 5 && s.compare(s.size() - 5, 5, "_pred") == 0) names.push_back(s.substr(0, s.size() - 5));
  }
  return names;
}

constexpr std::size_t kMaxSnapshotFields = 3;

void grid_snapshot(Page& page, const std::string& file, const std::string& caption) {
  vtkNew<vtkXMLImageDataReader> reader;
  reader->SetFileName(file.c_str());
  reader->Update();
  vtkImageData* img = reader->GetOutput();
  int dims[3] = {0, 0, 0};
  if (img) img->GetDimensions(dims);
  if (!img || dims[0] < 1) SURRO_THROW(ErrorKind::input, file << ": not a readable VTK image file");
  const int nx = dims[0], ny = dims[1], nz = dims[2];
  // 3D grids show their middle z slice.
  std::vector<vtkIdType> keep;
  if (nz > 1)
    for (vtkIdType i = 0; i < vtkIdType(nx) * ny; ++i) keep.push_back(i + vtkIdType(nx) * ny * (nz / 2));
  const std::vector<std::string> names = field_names(img->GetPointData());
  for (std::size_t f = 0; f < names.size() && f < kMaxSnapshotFields; ++f) {
    const std::vector<plot::Panel> panels = field_panels(img->GetPointData(), names[f], keep);
    if (panels.empty()) continue;
    if (ny == 1 && nz == 1) {  // 1D: curves
      plot::LineChart c{names[f] + ", " + caption, "grid index", names[f], false, false, {}};
      const std::vector<double> x = iota(std::size_t(nx), 0);
      for (int k = 0; k < 3; ++k)
        c.series.push_back({panels[std::size_t(k)].title, x, panels[std::size_t(k)].values, k, k == 1});
      page.image(plot::line_chart_png(c), names[f] + " " + caption);
    } else {
      page.image(plot::grid_panels_png(nx, ny, panels), names[f] + " " + caption);
    }
  }
  if (nz > 1) page.note("3D grid: the middle z slice (k = " + std::to_string(nz / 2) + ").");
}

void mesh_snapshot(Page& page, const std::string& file, const std::string& caption) {
  vtkNew<vtkXMLUnstructuredGridReader> reader;
  reader->SetFileName(file.c_str());
  reader->Update();
  vtkUnstructuredGrid* grid = reader->GetOutput();
  if (!grid || !grid->GetPoints())
    SURRO_THROW(ErrorKind::input, file << ": not a readable VTK unstructured grid");
  std::vector<double> points;  // (V, 2)
  for (vtkIdType v = 0; v < grid->GetNumberOfPoints(); ++v) {
    double p[3];
    grid->GetPoint(v, p);
    points.push_back(p[0]);
    points.push_back(p[1]);
  }
  std::vector<int> triangles;  // (Nc, 3)
  vtkNew<vtkIdList> ids;
  for (vtkIdType c = 0; c < grid->GetNumberOfCells(); ++c) {
    if (grid->GetCellType(c) != VTK_TRIANGLE) continue;
    grid->GetCellPoints(c, ids);
    for (int k = 0; k < 3; ++k) triangles.push_back(static_cast<int>(ids->GetId(k)));
  }
  if (triangles.empty()) {
    page.note(file + ": no triangles (a 3D mesh): open the .pvd in ParaView for its snapshots.");
    return;
  }
  const std::vector<std::string> names = field_names(grid->GetPointData());
  for (std::size_t f = 0; f < names.size() && f < kMaxSnapshotFields; ++f) {
    const std::vector<plot::Panel> panels = field_panels(grid->GetPointData(), names[f], {});
    if (!panels.empty())
      page.image(plot::mesh_panels_png(points, triangles, panels), names[f] + " " + caption);
  }
}

// The first, middle and last entries of rollout.pvd (or prediction.pvd for pair models).
void snapshots_section(Page& page, const std::string& dir) {
  std::string pvd = dir + "/rollout.pvd";
  if (!fs::exists(pvd)) pvd = dir + "/prediction.pvd";
  if (!fs::exists(pvd)) return;
  const std::vector<PvdEntry> entries = read_pvd(pvd);
  if (entries.empty()) return;
  page.heading("Snapshots: prediction, reference, error (" + fs::path(pvd).filename().string() + ")");
  std::vector<std::size_t> pick = {0, entries.size() / 2, entries.size() - 1};
  pick.erase(std::unique(pick.begin(), pick.end()), pick.end());
  for (std::size_t i : pick) {
    const std::string file = dir + "/" + entries[i].file;
    const std::string caption = "at time " + entries[i].time;
    page.body << "<h3>" << escape(entries[i].file) << ", time " << escape(entries[i].time) << "</h3>\n";
    if (file.size() > 4 && file.compare(file.size() - 4, 4, ".vtu") == 0)
      mesh_snapshot(page, file, caption);
    else
      grid_snapshot(page, file, caption);
  }
}

// ---- ParaView render ---------------------------------------------------------------------------

// The last non-empty line of the file `path` (a log), "" when none.
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

// surro report --paraview: renders <dir>/compare.png with compare.py. Returns "" on success, else
// what failed (the command, its exit code or time limit, its log); never throws for a failed render.
std::string render_compare(const ReportArgs& a) {
  const std::string script = a.dir + "/compare.py";
  if (!fs::exists(script))
    return script +
           ": not found (surro rollout writes it beside rollout.pvd): nothing for --paraview to render";
  const std::string pvpython = find_program(a.paraview);
  if (pvpython.empty())
    return "--paraview " + a.paraview + ": no such executable" +
           (a.paraview.find('/') == std::string::npos ? " on PATH" : "") +
           " (scripts/paraview_private.sh writes one: docs/paraview.md)";
  const fs::path dir = fs::absolute(a.dir);
  const std::string tmp = (dir / "compare.tmp.png").string(), png = (dir / kParaviewPngName).string();
  const std::string log = (dir / kParaviewLogName).string();
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::remove(log, ec);
  const std::vector<std::string> argv = {pvpython, (dir / "compare.py").string(), "--png", tmp};
  std::string cmd = command_line(argv);
  try {
    // Debian's ParaView renders through X: without a display, an Xvfb of the render's own, which
    // reports its display once it accepts connections (run_program.hpp).
    std::unique_ptr<XServer> x;
    std::vector<std::string> env;
    const char* display = std::getenv("DISPLAY");
    const std::string xvfb = find_program("Xvfb");
    if ((!display || !*display) && !xvfb.empty()) {
      x = std::make_unique<XServer>(xvfb, log, 30.0);
      env = {"DISPLAY=" + x->display()};
      cmd = "DISPLAY=" + x->display() + " " + cmd;
    }
    SURRO_LOG_INFO("report: rendering " << png << ": " << cmd);
    const ProgramResult r = run_program(argv, log, a.paraview_timeout, env);
    std::string failed;
    if (r.timed_out)
      failed = "did not finish in " + fmt(a.paraview_timeout) + " s and was stopped";
    else if (r.signal != 0)
      failed = "was ended by signal " + std::to_string(r.signal);
    else if (r.exit_code != 0)
      failed = "exited with code " + std::to_string(r.exit_code);
    if (!failed.empty()) {
      const std::string last = last_line(log);
      fs::remove(tmp, ec);
      return "`" + cmd + "` " + failed + " (its output: " + log +
             (last.empty() ? "" : "; last line: " + last) + ")";
    }
    check_png(tmp, read_text(tmp));
    fs::rename(tmp, png);
  } catch (const std::exception& e) {
    fs::remove(tmp, ec);
    return "`" + cmd + "`: " + e.what();
  }
  return "";
}

constexpr std::size_t kMaxEmbeddedPng = 32u << 20;  // bytes: a larger file is named, not embedded

// <dir>/compare.png when present: checked as a PNG (a file that fails is named in a warning and a
// note, and left out), captioned with its Description text (compare.py writes field and time there).
void paraview_section(Page& page, const std::string& dir, const std::string& render_failure) {
  const std::string path = dir + "/" + kParaviewPngName;
  if (!fs::exists(path) && render_failure.empty()) return;
  page.heading("ParaView: prediction, reference, error (" + std::string(kParaviewPngName) + ")");
  if (!render_failure.empty()) page.note("ParaView render failed: " + render_failure);
  if (!fs::exists(path)) return;
  try {
    if (fs::file_size(path) > kMaxEmbeddedPng)
      SURRO_THROW(ErrorKind::input, path << ": " << fs::file_size(path) << " bytes: expected at most "
                                         << kMaxEmbeddedPng << " to embed");
    const std::string png = read_text(path);
    const PngInfo info = check_png(path, png);
    const auto it = info.text.find("Description");
    const std::string caption = it != info.text.end() ? latin1_to_utf8(it->second) : "no Description text";
    page.figure(png, "ParaView render " + std::string(kParaviewPngName),
                std::string(kParaviewPngName) + " (" + std::to_string(info.width) + "x" +
                    std::to_string(info.height) + "): " + caption);
  } catch (const std::exception& e) {
    SURRO_LOG_WARN("report: " << kParaviewPngName << " not embedded: " << e.what());
    page.note(std::string(kParaviewPngName) + " not embedded: " + e.what());
    return;
  }
  for (const char* series : {"rollout.pvd", "prediction.pvd"}) {
    std::error_code ec;
    const auto made = fs::last_write_time(path, ec), data = fs::last_write_time(dir + "/" + series, ec);
    if (!ec && made < data)
      page.note(std::string(kParaviewPngName) + " is older than " + series +
                ": it may show an earlier rollout (render it again: docs/paraview.md).");
  }
}

// ---- provenance and build ----------------------------------------------------------------------

// rollout.hdf5's surro_* attributes (checkpoint, source dataset, split, trajectories, start frame).
std::map<std::string, std::string> rollout_provenance(const std::string& dir) {
  std::map<std::string, std::string> out;
  const std::string path = dir + "/rollout.hdf5";
  if (!fs::exists(path)) return out;
  data::h5::File f = data::h5::open_file(path);
  for (const std::string& name : data::h5::attr_names(f))
    if (name.rfind("surro_", 0) == 0) {
      try {
        out[name.substr(6)] = data::h5::read_string_attr(f, name);
      } catch (const Error&) {
        // not a string attribute (surro_first_trajectory): not provenance
      }
    }
  return out;
}

void provenance_section(Page& page, const std::map<std::string, std::string>& prov,
                        const std::string& training) {
  page.heading("Run and build");
  page.body << "<table>\n";
  auto row = [&](const std::string& k, const std::string& v) {
    page.body << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>\n";
  };
  row("report written by",
      std::string("surro ") + kVersion + " (git " + kGitHash + "), images by " + plot::library_version());
  if (!training.empty()) row("training run", training);
  for (const auto& [k, v] : prov) row("rollout.hdf5 " + k, v);
  page.body << "</table>\n";
}

const char* const kStyle =
    "body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.5em}h3{font-size:1em}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:2px "
    "8px;text-align:left}"
    "td.num{text-align:right;font-family:monospace}img{display:block;margin:.5em 0;max-width:100%}"
    "pre{background:#f6f6f6;padding:.5em;overflow:auto}.note{color:#555;font-size:.9em}";

// Marks the page when every image has decoded (body data-images="decoded/total"): what a browser
// test reads back; harmless to a reader.
const char* const kImageCheck =
    "window.addEventListener('load',function(){var im=document.images,n=0;for(var i=0;i<im.length;i++)"
    "if(im[i].complete&&im[i].naturalWidth>0)n++;document.body.setAttribute('data-images',n+'/"
    "'+im.length);});";

// The training folder of the report on `dir`: the one given, `dir` itself when it holds history.csv,
// else the folder of the checkpoint rollout.hdf5 names (when it still exists).
std::string training_dir(const ReportArgs& a, const std::map<std::string, std::string>& prov) {
  if (!a.training.empty()) return a.training;
  if (fs::exists(a.dir + "/history.csv") || fs::exists(a.dir + "/config.json")) return a.dir;
  const auto it = prov.find("checkpoint");
  if (it == prov.end()) return "";
  for (const fs::path& p : {fs::path(it->second), fs::path(a.dir) / ".." / it->second}) {
    std::error_code ec;
    if (fs::exists(p, ec)) return p.parent_path().empty() ? "." : p.parent_path().string();
  }
  return "";
}

}  // namespace impl::report

using namespace impl::report;

std::string write_report(const ReportArgs& args) {
  if (!fs::is_directory(args.dir)) SURRO_THROW(ErrorKind::usage, args.dir << ": no such folder");
  const bool has_metrics = fs::exists(args.dir + "/metrics.json");
  const std::map<std::string, std::string> prov = rollout_provenance(args.dir);
  const std::string training = training_dir(args, prov);
  const bool has_training = !training.empty() && fs::is_directory(training);
  if (!has_metrics && !(has_training && fs::exists(training + "/history.csv")))
    SURRO_THROW(ErrorKind::usage, args.dir << ": nothing to report: expected history.csv (a surro train "
                                           << "run.output_dir) or metrics.json (surro rollout/eval -o)");
  const std::string render_failure = args.paraview.empty() ? "" : render_compare(args);
  Page page;
  if (has_training) training_section(page, training);
  if (has_metrics) {
    metrics_section(page, args.dir);
    spectrum_section(page, args.dir);
    profiles_section(page, args.dir);
    snapshots_section(page, args.dir);
  }
  paraview_section(page, args.dir, render_failure);
  provenance_section(page, prov, has_training ? training : "");
  if (has_training) config_section(page, training);

  std::ostringstream html;
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  const std::string title = "surro report: " + fs::path(fs::absolute(args.dir)).lexically_normal().string();
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escape(title)
       << "</title><style>" << kStyle << "</style></head>\n<body>\n<h1>" << escape(title)
       << "</h1>\n<p class=\"note\">" << stamp << ", " << page.images << " images</p>\n"
       << page.body.str() << "<script>" << kImageCheck << "</script>\n</body></html>\n";
  const std::string path = args.dir + "/report.html";
  io::write_text_atomic(path, html.str());
  if (!render_failure.empty())
    SURRO_THROW(ErrorKind::runtime, "report: ParaView render failed: " << render_failure << "; " << path
                                                                       << " written without it");
  return path;
}

void report_after_job(const ReportArgs& args) noexcept {
  try {
    const std::string path = write_report(args);
    SURRO_LOG_INFO("wrote " << path);
  } catch (const std::exception& e) {
    try {
      SURRO_LOG_WARN("report: not written (the job's results are complete): " << e.what());
    } catch (...) {
    }
  } catch (...) {
  }
}

}  // namespace surro::app
