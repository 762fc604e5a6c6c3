#pragma once
// ParaView time series: one VTK XML file per step plus a .pvd collection, on a uniform grid (.vti)
// or on an unstructured simplex mesh (.vtu).
//
//   <dir>/<basename>_000000.vti|.vtu, _000001..., vtkXML{ImageData,UnstructuredGrid}Writer, appended
//                                                  raw binary, zlib, UInt64 headers
//   <dir>/<basename>.pvd                           <Collection> of (timestep, file) entries
//
// Each step file carries the named float32 arrays and a Float64 FieldData array "TimeValue" (VTK >= 8.2
// readers turn it into the step's time). Every file is written atomically, and the .pvd is rewritten
// after each step, so a run killed at any moment leaves a .pvd that ParaView opens with every finished
// step. This header does not include VTK: only surro_mesh links it.
//
// One family: VtkSeries owns the series (basename, strictly increasing times, atomic writes, the .pvd,
// finish()); a subclass only checks the fields against its dataset and builds and writes one step's file.
#include "mesh/mesh.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace surro::mesh {

// One named array of a step. data: (N, C) float32, LayoutRight, N the dataset's points (or cells) in
// the order the subclass documents, C = components.
struct VtkField {
  VtkField(std::string name, const float* data, int components = 1, long long count = -1)
      : name(std::move(name)), data(data), components(components), count(count) {}
  std::string name;
  const float* data;  // (N, C)
  int components;     // C
  long long count;    // N as the caller knows it (checked against the dataset); -1: not stated
};

// One step's fields, as a VtkSeries::write_steps producer builds them on a worker thread. scratch
// holds arrays the producer computes (an error field, a gathered slice); the fields may point into
// it. The same object is handed to the same worker's next step, so its buffers are reused.
struct VtkStepFields {
  std::vector<VtkField> point, cell;
  std::vector<std::vector<float>> scratch;
};

class VtkSeries {
 public:
  virtual ~VtkSeries() = default;
  VtkSeries(const VtkSeries&) = delete;
  VtkSeries& operator=(const VtkSeries&) = delete;

  // Writes one step: at least one point field, cell fields where the dataset has cells. Names are
  // unique within each list. Times must increase strictly. Errors name the step's file: Error(runtime).
  void write_step(double time, const std::vector<VtkField>& point_fields,
                  const std::vector<VtkField>& cell_fields = {});

  // Writes times.size() steps at once, their files on worker threads, then the .pvd once: for a
  // caller that holds every step already (a finished rollout, a solved block). produce(t, fields)
  // fills step t's fields (t indexes `times`, from 0); it runs on worker threads, several steps at
  // once, so it may only read shared data. The checks and files are those of write_step. threads:
  // the most workers (0: the CPUs the process may use; 1: in order on this thread); fewer are used
  // where a step's arrays are large (about 512 MiB of them in flight). On an error no further step
  // starts; the .pvd lists the steps before the first failed one, and the error of that step is
  // thrown (files of later steps that were already being written stay, unlisted, complete; a rerun
  // overwrites them). Errors: Error(runtime).
  using StepProducer = std::function<void(std::size_t t, VtkStepFields& fields)>;
  void write_steps(const std::vector<double>& times, const StepProducer& produce, unsigned threads = 0);

  // Ends the series (the .pvd is already complete); later write_step calls are errors.
  void finish();

  int steps() const { return static_cast<int>(m_entries.size()); }
  std::string pvd_path() const;
  std::string step_path(int step) const;  // <dir>/<basename>_%06d.<extension>

 protected:
  // extension: "vti" or "vtu"; ctx names the series in constructor errors. Creates `dir` when missing.
  VtkSeries(std::string dir, std::string basename, std::string extension, const std::string& ctx);

  // For check_fields: data non-null, components in [1, max_components], count (when stated) = n.
  static void check_field(const std::string& path, const VtkField& f, const char* where, long long n,
                          int max_components);

 private:
  // The dataset-specific part. check_fields throws (naming `path`) for fields this dataset cannot
  // take; write_dataset builds the step's dataset and writes it to `tmp`, renamed to `path` after.
  virtual void check_fields(const std::string& path, const std::vector<VtkField>& point_fields,
                            const std::vector<VtkField>& cell_fields) const = 0;
  virtual void write_dataset(const std::string& path, const std::string& tmp, double time,
                             const std::vector<VtkField>& point_fields,
                             const std::vector<VtkField>& cell_fields) const = 0;
  // The dataset's points (cells = false) or cells: the N of its fields.
  virtual long long size(bool cells) const = 0;
  void write_pvd() const;
  // write_step's checks of one step: not finished, a finite time after `previous` (NaN: none), at
  // least one point field, names XML-safe and unique per list, then check_fields.
  void check_step(const std::string& path, double time, double previous,
                  const std::vector<VtkField>& point_fields, const std::vector<VtkField>& cell_fields) const;

  std::string m_dir, m_basename, m_extension;
  std::vector<std::pair<double, std::string>> m_entries;  // (time, file name relative to dir)
  bool m_finished = false;
};

// Uniform grid, .vti. Point fields only, one component, data (Nx[, Ny[, Nz]]) float32 LayoutRight with
// x the slowest index (surro's layout); ParaView's x axis is our x.
class VtkGridSeries final : public VtkSeries {
 public:
  // dims: grid points (Nx[, Ny[, Nz]]), 1 to 3 entries. origin and spacing: one entry per dim, in
  // physical units (spacing > 0). Creates `dir` when missing. Errors: Error(runtime).
  VtkGridSeries(std::string dir, std::string basename, std::vector<double> origin,
                std::vector<double> spacing, std::vector<int> dims);

 private:
  void check_fields(const std::string& path, const std::vector<VtkField>& point_fields,
                    const std::vector<VtkField>& cell_fields) const override;
  void write_dataset(const std::string& path, const std::string& tmp, double time,
                     const std::vector<VtkField>& point_fields,
                     const std::vector<VtkField>& cell_fields) const override;
  long long size(bool cells) const override;

  std::vector<double> m_origin, m_spacing;  // padded to 3: (x, y, z)
  std::vector<int> m_dims;                  // padded to 3 with 1
};

// Unstructured simplex mesh, .vtu: VTK_TRIANGLE cells in 2D, VTK_TETRA in 3D, points as Float64 with
// 2D points embedded at z = 0. The mesh is static, but every file holds the full geometry, because
// ParaView reads each step file on its own. Point fields (V, C) and cell fields (Nc, C), C in 1..3,
// float32. A 2-component field is padded to 3 components with a zero z (it is read back as (N, 3)):
// ParaView's Glyph and Stream Tracer take only 3-component vectors, and the zeros match the z = 0
// embedding of the points; zlib makes the padding almost free. With mesh.node_type set, each file also
// has the Int32 point array "node_type" (MeshGraphNets' NodeType values), so no point field may use
// that name.
class VtkMeshSeries final : public VtkSeries {
 public:
  // Validates the mesh (dim 2 or 3, cells in range, finite points, node_type empty or (V)) and keeps a
  // copy. Errors: Error(runtime).
  VtkMeshSeries(std::string dir, std::string basename, Mesh mesh);

  const Mesh& mesh() const { return m_mesh; }

 private:
  void check_fields(const std::string& path, const std::vector<VtkField>& point_fields,
                    const std::vector<VtkField>& cell_fields) const override;
  void write_dataset(const std::string& path, const std::string& tmp, double time,
                     const std::vector<VtkField>& point_fields,
                     const std::vector<VtkField>& cell_fields) const override;
  long long size(bool cells) const override { return cells ? m_mesh.num_cells() : m_mesh.num_points(); }

  Mesh m_mesh;
};

}  // namespace surro::mesh
