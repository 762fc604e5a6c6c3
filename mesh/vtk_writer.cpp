#include "mesh/vtk_writer.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "core/threads.hpp"

#include <vtkCellArray.h>
#include <vtkCellType.h>
#include <vtkDataSetAttributes.h>
#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkCellData.h>
#include <vtkPoints.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLImageDataWriter.h>
#include <vtkXMLUnstructuredGridWriter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

namespace surro::mesh {
namespace {

// Names end up inside XML attributes; keep them free of characters that need escaping.
bool xml_safe(const std::string& s) {
  return !s.empty() && s.find_first_of("\"'<>&") == std::string::npos;
}

std::string format_time(double t) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", t);  // round-trips a double exactly
  return buf;
}

void add_time_value(vtkFieldData* fd, double time) {
  vtkNew<vtkDoubleArray> tv;
  tv->SetName("TimeValue");
  tv->SetNumberOfTuples(1);
  tv->SetValue(0, time);
  fd->AddArray(tv);
}

// Both writers: appended raw binary (not base64) after the XML, zlib, 64-bit block headers so arrays
// above 4 GiB stay addressable.
template <class Writer>
void configure_and_write(Writer* w, const std::string& path, const std::string& tmp, const char* what) {
  w->SetFileName(tmp.c_str());
  w->SetDataModeToAppended();
  w->EncodeAppendedDataOff();
  w->SetCompressorTypeToZLib();
  w->SetHeaderTypeToUInt64();
  const int written = w->Write();
  if (written != 1 || w->GetErrorCode() != vtkErrorCode::NoError)
    SURRO_THROW(ErrorKind::runtime, path << ": " << what << " failed: "
                                         << vtkErrorCode::GetStringFromErrorCode(w->GetErrorCode()));
}

// A failed write (disk full) makes VTK's pipeline print a multi-line report of its own; the writer's
// error code becomes the one error line instead. VTK's switch is one global, so it is turned off
// once by the thread that starts the writes, around all of them, never by the workers themselves
// (two workers saving and restoring it could leave it off).
class WarningsOff {
 public:
  WarningsOff() : m_display(vtkObject::GetGlobalWarningDisplay()) { vtkObject::GlobalWarningDisplayOff(); }
  ~WarningsOff() { vtkObject::SetGlobalWarningDisplay(m_display); }
  WarningsOff(const WarningsOff&) = delete;
  WarningsOff& operator=(const WarningsOff&) = delete;

 private:
  int m_display;
};

// A float32 array of n tuples from data (n, c); c = 2 is padded to 3 components with zeros (see the
// header: ParaView's vector filters need 3 components).
void add_mesh_array(vtkDataSetAttributes* attrs, const VtkField& f, vtkIdType n) {
  const int out_c = f.components == 2 ? 3 : f.components;
  vtkNew<vtkFloatArray> a;
  a->SetName(f.name.c_str());
  a->SetNumberOfComponents(out_c);
  a->SetNumberOfTuples(n);
  float* dst = a->GetPointer(0);  // (n, out_c)
  for (vtkIdType i = 0; i < n; ++i)
    for (int c = 0; c < out_c; ++c)
      dst[i * out_c + c] = c < f.components ? f.data[i * f.components + c] : 0.0f;
  attrs->AddArray(a);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// The series

VtkSeries::VtkSeries(std::string dir, std::string basename, std::string extension, const std::string& ctx)
    : m_dir(std::move(dir)), m_basename(std::move(basename)), m_extension(std::move(extension)) {
  SURRO_REQUIRE(
      xml_safe(m_basename) && m_basename.find('/') == std::string::npos,
      ctx << ": basename '" << m_basename << "': expected a non-empty file name without / \" ' < > &");
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  if (ec) SURRO_THROW(ErrorKind::runtime, ctx << ": cannot create folder " << m_dir << ": " << ec.message());
}

std::string VtkSeries::pvd_path() const {
  return (std::filesystem::path(m_dir) / (m_basename + ".pvd")).string();
}

std::string VtkSeries::step_path(int step) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06d.", step);
  return (std::filesystem::path(m_dir) / (m_basename + buf + m_extension)).string();
}

void VtkSeries::check_field(const std::string& path, const VtkField& f, const char* where, long long n,
                            int max_components) {
  SURRO_REQUIRE(f.data != nullptr, path << ": " << where << " field '" << f.name << "': null data");
  SURRO_REQUIRE(f.components >= 1 && f.components <= max_components,
                path << ": " << where << " field '" << f.name << "': components = " << f.components
                     << ": expected 1 to " << max_components);
  SURRO_REQUIRE(f.count < 0 || f.count == n, path << ": " << where << " field '" << f.name << "': " << f.count
                                                  << " " << where << "s: expected " << n);
}

void VtkSeries::check_step(const std::string& path, double time, double previous,
                           const std::vector<VtkField>& point_fields,
                           const std::vector<VtkField>& cell_fields) const {
  SURRO_REQUIRE(!m_finished, path << ": write_step after finish(): expected no more steps");
  SURRO_REQUIRE(std::isfinite(time), path << ": time = " << time << ": expected a finite number");
  SURRO_REQUIRE(std::isnan(previous) || time > previous,
                path << ": time = " << format_time(time) << ": expected greater than the previous step's "
                     << format_time(previous));
  SURRO_REQUIRE(!point_fields.empty(), path << ": no point fields: expected at least one");
  for (const auto* list : {&point_fields, &cell_fields}) {
    const char* where = list == &point_fields ? "point" : "cell";
    std::set<std::string> names;
    for (const auto& f : *list) {
      SURRO_REQUIRE(xml_safe(f.name), path << ": " << where << " field name '" << f.name
                                           << "': expected non-empty, without \" ' < > &");
      SURRO_REQUIRE(names.insert(f.name).second,
                    path << ": " << where << " field '" << f.name << "' given twice");
    }
  }
  check_fields(path, point_fields, cell_fields);
}

void VtkSeries::write_step(double time, const std::vector<VtkField>& point_fields,
                           const std::vector<VtkField>& cell_fields) {
  const std::string path = step_path(steps());
  check_step(path, time, m_entries.empty() ? std::nan("") : m_entries.back().first, point_fields,
             cell_fields);
  {
    WarningsOff quiet;
    io::write_atomic(
        path, [&](const std::string& tmp) { write_dataset(path, tmp, time, point_fields, cell_fields); });
  }
  m_entries.emplace_back(time, std::filesystem::path(path).filename().string());
  write_pvd();
}

void VtkSeries::write_steps(const std::vector<double>& times, const StepProducer& produce, unsigned threads) {
  const std::size_t T = times.size();
  if (T == 0) return;
  const int first = steps();
  SURRO_REQUIRE(!m_finished, step_path(first) << ": write_steps after finish(): expected no more steps");
  // Times are checked up front, so no file is written for a series whose later times are wrong.
  for (std::size_t t = 0; t < T; ++t) {
    const double previous = t > 0 ? times[t - 1] : m_entries.empty() ? std::nan("") : m_entries.back().first;
    SURRO_REQUIRE(
        std::isfinite(times[t]) && (std::isnan(previous) || times[t] > previous),
        step_path(first + static_cast<int>(t))
            << ": time = " << format_time(times[t]) << ": expected a finite number"
            << (std::isnan(previous) ? "" : " greater than the previous step's " + format_time(previous)));
  }
  std::vector<char> written(T, 0);  // (T); each entry set by the one worker that wrote that step
  auto write_one = [&](std::size_t t, VtkStepFields& f) {
    f.point.clear();
    f.cell.clear();
    produce(t, f);
    const std::string path = step_path(first + static_cast<int>(t));
    check_step(path, times[t], std::nan(""), f.point, f.cell);
    io::write_atomic(path,
                     [&](const std::string& tmp) { write_dataset(path, tmp, times[t], f.point, f.cell); });
    written[t] = 1;
  };
  auto record = [&]() {  // the steps written without a gap from the first, into the .pvd
    for (std::size_t t = 0; t < T && written[t]; ++t)
      m_entries.emplace_back(
          times[t], std::filesystem::path(step_path(first + static_cast<int>(t))).filename().string());
    write_pvd();
  };
  WarningsOff quiet;
  try {
    // Step 0 on this thread first: VTK builds some of its statics (object factories, information
    // keys) on first use, which is not safe from several threads at once; and its size bounds the
    // workers: about 512 MiB of step arrays (and as much again for VTK's copies) in flight.
    VtkStepFields first_fields;
    write_one(0, first_fields);
    std::size_t step_bytes = 1;
    for (const auto& fld : first_fields.point)
      step_bytes += std::size_t(size(false)) * fld.components * sizeof(float);
    for (const auto& fld : first_fields.cell)
      step_bytes += std::size_t(size(true)) * fld.components * sizeof(float);
    const std::size_t by_memory = std::max<std::size_t>(1, (std::size_t(512) << 20) / step_bytes);
    const unsigned workers = host_workers(T - 1, static_cast<unsigned>(std::min<std::size_t>(
                                                     threads == 0 ? usable_cpus() : threads, by_memory)));
    std::vector<VtkStepFields> fields(workers);
    fields[0] = std::move(first_fields);
    host_parallel_for(T - 1, workers, [&](std::size_t i, unsigned w) { write_one(i + 1, fields[w]); });
  } catch (...) {
    record();
    throw;
  }
  record();
}

void VtkSeries::finish() {
  if (m_finished) return;
  write_pvd();
  m_finished = true;
}

void VtkSeries::write_pvd() const {
  std::ostringstream os;
  os << "<?xml version=\"1.0\"?>\n"
     << "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
     << "  <Collection>\n";
  for (const auto& e : m_entries)
    os << "    <DataSet timestep=\"" << format_time(e.first) << "\" group=\"\" part=\"0\" file=\"" << e.second
       << "\"/>\n";
  os << "  </Collection>\n"
     << "</VTKFile>\n";
  io::write_text_atomic(pvd_path(), os.str());
}

// ---------------------------------------------------------------------------------------------------
// Uniform grid (.vti)

VtkGridSeries::VtkGridSeries(std::string dir, std::string basename, std::vector<double> origin,
                             std::vector<double> spacing, std::vector<int> dims)
    : VtkSeries(dir, basename, "vti", "VtkGridSeries(" + dir + ", " + basename + ")") {
  const std::string ctx = "VtkGridSeries(" + dir + ", " + basename + ")";
  SURRO_REQUIRE(!dims.empty() && dims.size() <= 3,
                ctx << ": dims has " << dims.size() << " entries: expected 1 to 3");
  SURRO_REQUIRE(origin.size() == dims.size() && spacing.size() == dims.size(),
                ctx << ": origin has " << origin.size() << " and spacing " << spacing.size()
                    << " entries: expected one per dim (" << dims.size() << ")");
  for (std::size_t k = 0; k < dims.size(); ++k) {
    SURRO_REQUIRE(dims[k] > 0, ctx << ": dims[" << k << "] = " << dims[k] << ": expected > 0");
    SURRO_REQUIRE(spacing[k] > 0 && std::isfinite(spacing[k]),
                  ctx << ": spacing[" << k << "] = " << spacing[k] << ": expected a positive number");
    SURRO_REQUIRE(std::isfinite(origin[k]),
                  ctx << ": origin[" << k << "] = " << origin[k] << ": expected a finite number");
  }
  m_dims = std::move(dims);
  m_origin = std::move(origin);
  m_spacing = std::move(spacing);
  m_dims.resize(3, 1);
  m_origin.resize(3, 0.0);
  m_spacing.resize(3, 1.0);
}

long long VtkGridSeries::size(bool cells) const {
  return cells ? 0 : static_cast<long long>(m_dims[0]) * m_dims[1] * m_dims[2];
}

void VtkGridSeries::check_fields(const std::string& path, const std::vector<VtkField>& point_fields,
                                 const std::vector<VtkField>& cell_fields) const {
  SURRO_REQUIRE(cell_fields.empty(), path << ": " << cell_fields.size()
                                          << " cell fields: expected none on a grid (point data only)");
  const long long n = static_cast<long long>(m_dims[0]) * m_dims[1] * m_dims[2];
  for (const auto& f : point_fields) check_field(path, f, "point", n, 1);
}

void VtkGridSeries::write_dataset(const std::string& path, const std::string& tmp, double time,
                                  const std::vector<VtkField>& point_fields,
                                  const std::vector<VtkField>& /*cell_fields*/) const {
  const int nx = m_dims[0], ny = m_dims[1], nz = m_dims[2];
  const vtkIdType n = static_cast<vtkIdType>(nx) * ny * nz;
  vtkNew<vtkImageData> image;
  image->SetDimensions(nx, ny, nz);
  image->SetOrigin(m_origin[0], m_origin[1], m_origin[2]);
  image->SetSpacing(m_spacing[0], m_spacing[1], m_spacing[2]);
  for (const auto& f : point_fields) {
    vtkNew<vtkFloatArray> a;
    a->SetName(f.name.c_str());
    a->SetNumberOfComponents(1);
    a->SetNumberOfTuples(n);
    float* dst = a->GetPointer(0);  // VTK point order: x fastest, id = i + nx * (j + ny * k)
    const float* src = f.data;      // ours: (Nx, Ny, Nz) LayoutRight, x slowest, (i * ny + j) * nz + k
    // We keep VTK's x equal to our x (ParaView's axes are the physical ones) and transpose here.
    for (int i = 0; i < nx; ++i)
      for (int j = 0; j < ny; ++j)
        for (int k = 0; k < nz; ++k)
          dst[i + static_cast<vtkIdType>(nx) * (j + static_cast<vtkIdType>(ny) * k)] =
              src[(static_cast<vtkIdType>(i) * ny + j) * nz + k];
    image->GetPointData()->AddArray(a);
  }
  image->GetPointData()->SetActiveScalars(point_fields.front().name.c_str());
  add_time_value(image->GetFieldData(), time);

  vtkNew<vtkXMLImageDataWriter> w;
  w->SetInputData(image);
  configure_and_write(w.GetPointer(), path, tmp, "vtkXMLImageDataWriter");
}

// ---------------------------------------------------------------------------------------------------
// Unstructured mesh (.vtu)

VtkMeshSeries::VtkMeshSeries(std::string dir, std::string basename, Mesh mesh)
    : VtkSeries(dir, basename, "vtu", "VtkMeshSeries(" + dir + ", " + basename + ")"),
      m_mesh(std::move(mesh)) {
  const std::string ctx = "VtkMeshSeries(" + dir + ", " + basename + ")";
  const Mesh& m = m_mesh;
  SURRO_REQUIRE(m.dim == 2 || m.dim == 3, ctx << ": mesh.dim = " << m.dim << ": expected 2 or 3");
  SURRO_REQUIRE(!m.points.empty() && m.points.size() % m.dim == 0,
                ctx << ": mesh.points has " << m.points.size()
                    << " values: expected a positive multiple of dim (" << m.dim << ")");
  SURRO_REQUIRE(m.cells.size() % m.nodes_per_cell() == 0, ctx << ": mesh.cells has " << m.cells.size()
                                                              << " values: expected a multiple of "
                                                              << m.nodes_per_cell());
  const long long V = m.num_points();
  for (std::size_t i = 0; i < m.points.size(); ++i)
    SURRO_REQUIRE(std::isfinite(m.points[i]), ctx << ": mesh.points[" << i / m.dim << "][" << i % m.dim
                                                  << "] = " << m.points[i] << ": expected a finite number");
  for (std::size_t i = 0; i < m.cells.size(); ++i)
    SURRO_REQUIRE(m.cells[i] >= 0 && m.cells[i] < V, ctx << ": mesh.cells[" << i / m.nodes_per_cell() << "]["
                                                         << i % m.nodes_per_cell() << "] = " << m.cells[i]
                                                         << ": expected a point index in [0, " << V << ")");
  SURRO_REQUIRE(m.node_type.empty() || static_cast<long long>(m.node_type.size()) == V,
                ctx << ": mesh.node_type has " << m.node_type.size() << " entries: expected 0 or V = " << V);
}

void VtkMeshSeries::check_fields(const std::string& path, const std::vector<VtkField>& point_fields,
                                 const std::vector<VtkField>& cell_fields) const {
  for (const auto& f : point_fields) {
    SURRO_REQUIRE(m_mesh.node_type.empty() || f.name != "node_type",
                  path << ": point field 'node_type': the name is taken by the mesh's node types");
    check_field(path, f, "point", m_mesh.num_points(), 3);
  }
  for (const auto& f : cell_fields) check_field(path, f, "cell", m_mesh.num_cells(), 3);
}

void VtkMeshSeries::write_dataset(const std::string& path, const std::string& tmp, double time,
                                  const std::vector<VtkField>& point_fields,
                                  const std::vector<VtkField>& cell_fields) const {
  const Mesh& m = m_mesh;
  const vtkIdType V = m.num_points(), Nc = m.num_cells();
  const int dim = m.dim, nk = m.nodes_per_cell();
  vtkNew<vtkUnstructuredGrid> grid;

  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(V);
  for (vtkIdType v = 0; v < V; ++v)
    points->SetPoint(v, m.points[v * dim], m.points[v * dim + 1], dim == 3 ? m.points[v * dim + 2] : 0.0);
  grid->SetPoints(points);

  vtkNew<vtkCellArray> cells;
  cells->AllocateExact(Nc, Nc * nk);
  vtkIdType ids[4];
  for (vtkIdType c = 0; c < Nc; ++c) {
    for (int k = 0; k < nk; ++k) ids[k] = m.cells[c * nk + k];
    cells->InsertNextCell(nk, ids);
  }
  grid->SetCells(dim == 2 ? VTK_TRIANGLE : VTK_TETRA, cells);

  for (const auto& f : point_fields) add_mesh_array(grid->GetPointData(), f, V);
  for (const auto& f : cell_fields) add_mesh_array(grid->GetCellData(), f, Nc);
  if (!m.node_type.empty()) {
    vtkNew<vtkIntArray> nt;  // Int32 in the file
    nt->SetName("node_type");
    nt->SetNumberOfTuples(V);
    for (vtkIdType v = 0; v < V; ++v) nt->SetValue(v, m.node_type[v]);
    grid->GetPointData()->AddArray(nt);
  }
  add_time_value(grid->GetFieldData(), time);

  vtkNew<vtkXMLUnstructuredGridWriter> w;
  w->SetInputData(grid);
  configure_and_write(w.GetPointer(), path, tmp, "vtkXMLUnstructuredGridWriter");
}

}  // namespace surro::mesh
