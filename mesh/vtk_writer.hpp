#pragma once
// ParaView time series on uniform grids: one VTK XML image file per step plus a .pvd collection.
//
//   <dir>/<basename>_000000.vti, _000001.vti, ...   vtkXMLImageDataWriter, appended raw binary, zlib
//   <dir>/<basename>.pvd                             <Collection> of (timestep, file) entries
//
// Each .vti carries the named point-data arrays and a Float64 FieldData array "TimeValue" (VTK >= 8.2
// readers turn it into the step's time). Every file is written atomically, and the .pvd is rewritten
// after each step, so a run killed at any moment leaves a .pvd that ParaView opens with every finished
// step. This header does not include VTK: only surro_mesh links it.
#include <string>
#include <utility>
#include <vector>

namespace surro::mesh {

class VtkSeries {
 public:
  // dims: grid points (Nx[, Ny[, Nz]]), 1 to 3 entries. origin and spacing: one entry per dim, in
  // physical units (spacing > 0). Creates `dir` when missing. Errors: Error(runtime).
  VtkSeries(std::string dir, std::string basename, std::vector<double> origin, std::vector<double> spacing,
            std::vector<int> dims);

  // Writes one step. Each field: (name, data) with data (Nx[, Ny[, Nz]]) float32, LayoutRight, x the
  // slowest index (surro's layout); ParaView's x axis is our x. Times must increase strictly.
  void write_step(double time, const std::vector<std::pair<std::string, const float*>>& point_fields);

  // Ends the series (the .pvd is already complete); later write_step calls are errors.
  void finish();

  int steps() const { return static_cast<int>(m_entries.size()); }
  std::string pvd_path() const;
  std::string step_path(int step) const;  // <dir>/<basename>_%06d.vti

 private:
  void write_pvd() const;

  std::string m_dir, m_basename;
  std::vector<double> m_origin, m_spacing;                // padded to 3: (x, y, z)
  std::vector<int> m_dims;                                // padded to 3 with 1
  std::vector<std::pair<double, std::string>> m_entries;  // (time, file name relative to dir)
  bool m_finished = false;
};

}  // namespace surro::mesh
