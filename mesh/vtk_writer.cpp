#include "mesh/vtk_writer.hpp"

#include "core/error.hpp"
#include "core/io.hpp"

#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataWriter.h>

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

}  // namespace

VtkSeries::VtkSeries(std::string dir, std::string basename, std::vector<double> origin,
                     std::vector<double> spacing, std::vector<int> dims)
    : m_dir(std::move(dir)), m_basename(std::move(basename)) {
  const std::string ctx = "VtkSeries(" + m_dir + ", " + m_basename + ")";
  SURRO_REQUIRE(
      xml_safe(m_basename) && m_basename.find('/') == std::string::npos,
      ctx << ": basename '" << m_basename << "': expected a non-empty file name without / \" ' < > &");
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
  m_dims = dims;
  m_origin = origin;
  m_spacing = spacing;
  m_dims.resize(3, 1);
  m_origin.resize(3, 0.0);
  m_spacing.resize(3, 1.0);
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  if (ec) SURRO_THROW(ErrorKind::runtime, ctx << ": cannot create folder " << m_dir << ": " << ec.message());
}

std::string VtkSeries::pvd_path() const {
  return (std::filesystem::path(m_dir) / (m_basename + ".pvd")).string();
}

std::string VtkSeries::step_path(int step) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "_%06d.vti", step);
  return (std::filesystem::path(m_dir) / (m_basename + buf)).string();
}

void VtkSeries::write_step(double time,
                           const std::vector<std::pair<std::string, const float*>>& point_fields) {
  const int step = steps();
  const std::string path = step_path(step);
  SURRO_REQUIRE(!m_finished, path << ": write_step after finish(): expected no more steps");
  SURRO_REQUIRE(std::isfinite(time), path << ": time = " << time << ": expected a finite number");
  SURRO_REQUIRE(m_entries.empty() || time > m_entries.back().first,
                path << ": time = " << format_time(time) << ": expected greater than the previous step's "
                     << format_time(m_entries.back().first));
  SURRO_REQUIRE(!point_fields.empty(), path << ": no point fields: expected at least one");
  std::set<std::string> names;
  for (const auto& f : point_fields) {
    SURRO_REQUIRE(xml_safe(f.first),
                  path << ": field name '" << f.first << "': expected non-empty, without \" ' < > &");
    SURRO_REQUIRE(names.insert(f.first).second, path << ": field '" << f.first << "' given twice");
    SURRO_REQUIRE(f.second != nullptr, path << ": field '" << f.first << "': null data");
  }

  const int nx = m_dims[0], ny = m_dims[1], nz = m_dims[2];
  const vtkIdType n = static_cast<vtkIdType>(nx) * ny * nz;
  vtkNew<vtkImageData> image;
  image->SetDimensions(nx, ny, nz);
  image->SetOrigin(m_origin[0], m_origin[1], m_origin[2]);
  image->SetSpacing(m_spacing[0], m_spacing[1], m_spacing[2]);
  for (const auto& f : point_fields) {
    vtkNew<vtkFloatArray> a;
    a->SetName(f.first.c_str());
    a->SetNumberOfComponents(1);
    a->SetNumberOfTuples(n);
    float* dst = a->GetPointer(0);  // VTK point order: x fastest, id = i + nx * (j + ny * k)
    const float* src = f.second;    // ours: (Nx, Ny, Nz) LayoutRight, x slowest, (i * ny + j) * nz + k
    // We keep VTK's x equal to our x (ParaView's axes are the physical ones) and transpose here.
    for (int i = 0; i < nx; ++i)
      for (int j = 0; j < ny; ++j)
        for (int k = 0; k < nz; ++k)
          dst[i + static_cast<vtkIdType>(nx) * (j + static_cast<vtkIdType>(ny) * k)] =
              src[(static_cast<vtkIdType>(i) * ny + j) * nz + k];
    image->GetPointData()->AddArray(a);
  }
  image->GetPointData()->SetActiveScalars(point_fields.front().first.c_str());
  vtkNew<vtkDoubleArray> tv;
  tv->SetName("TimeValue");
  tv->SetNumberOfTuples(1);
  tv->SetValue(0, time);
  image->GetFieldData()->AddArray(tv);

  io::write_atomic(path, [&](const std::string& tmp) {
    vtkNew<vtkXMLImageDataWriter> w;
    w->SetFileName(tmp.c_str());
    w->SetInputData(image);
    w->SetDataModeToAppended();
    w->EncodeAppendedDataOff();  // raw binary after the XML, not base64
    w->SetCompressorTypeToZLib();
    w->SetHeaderTypeToUInt64();  // arrays above 4 GiB stay addressable
    if (w->Write() != 1 || w->GetErrorCode() != vtkErrorCode::NoError)
      SURRO_THROW(ErrorKind::runtime, path << ": vtkXMLImageDataWriter failed: "
                                           << vtkErrorCode::GetStringFromErrorCode(w->GetErrorCode()));
  });
  m_entries.emplace_back(time, std::filesystem::path(path).filename().string());
  write_pvd();
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

}  // namespace surro::mesh
