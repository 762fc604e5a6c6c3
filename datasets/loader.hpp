#pragma once
// Training data: a dataset split held in host memory, cut into samples and staged in mini-batches
// onto the device. One store and one loader serve both dataset kinds (docs/datasets.md): grids (The
// Well's layout, every trajectory on the same grid) and meshes (every trajectory on its own mesh).
//
// TrajectoryStore: every trajectory of one split, one host array per trajectory:
//   grid (T, C, N...)   channel-first: T frames, C = the requested fields in the requested order,
//                       N... the grid (the same for every trajectory).
//   mesh (T, V_s, C)    channel-last: V_s nodes of trajectory s's own mesh; C = the sum of the
//                       requested fields' components, field-major in the requested order (velocity,
//                       pressure -> velocity_x, velocity_y, pressure).
// T is the number of recorded times when any requested field varies in time; a constant field
// (Darcy's coefficient a, a mesh's signed distance) is then repeated in every frame. When no
// requested field varies in time (steady datasets such as Darcy), T = 1.
//
// WindowLoader: samples of one of two kinds, chosen by the constructor.
//   windows (WindowSpec): sample (s, t0) has inputs frames t0 .. t0+t_in-1 and targets frames
//     t0+t_in .. t0+t_in+t_out-1 of trajectory s, every field of the store;
//       grid: x (B, t_in * C, N...)       y (B, t_out * C, N...)
//       mesh: x (V_batch, t_in * C)       y (V_batch, t_out * C)
//     channels frame-major, oldest first: channel t * C + c is field channel c at window step t (the
//     layout operators/surrogate.hpp documents). On meshes a row is one node: the batch's samples'
//     meshes one after the other in batch order (sample i owns rows [batch_offsets()[i],
//     batch_offsets()[i + 1])), V_batch = the sum of their node counts: the block-diagonal node order
//     of operators/graph_batch.hpp. Starts t0 = 0, stride, 2 stride, ... while the window fits
//     (all_starts), or t0 = 0 only. The FNO-2D benchmark ("first 10 in, next 40 out") is
//     {t_in = 10, t_out = 40, all_starts = false}.
//   pairs (PairSpec, grids only): one sample per trajectory s;
//       x: (B, Cin, N...)  fields `inputs` at frame input_frame
//       y: (B, Cout, N...) fields `targets` at frame target_frame
//     frames count from the end when negative (-1 = last). Darcy a -> u: store {"a", "u"},
//     PairSpec{{"a"}, {"u"}}; Burgers u(0) -> u(T): store {"u"}, PairSpec{{"u"}, {"u"}, 0, -1}.
//
// Sample order: start_epoch(e) orders the samples by the Philox key of (seed, stream = e,
// index = sample), ties by sample index: a permutation that depends only on (seed, epoch) and is the
// same on every platform. Without shuffle the order is natural (trajectory-major, then t0).
// Sample numbering: trajectory s's k-th window is s * windows_per_trajectory + k. The same rules
// hold for both kinds.
#include "core/types.hpp"
#include "datasets/normalizer.hpp"
#include "datasets/spec.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace surro::data {

class TrajectoryStore;

// Reads every <dataset_dir>/data/<split>/*.hdf5 (and *.h5; sorted by name, dot-files ignored) and
// keeps `fields`, in that order, of every trajectory. The first file decides the layout: mesh files
// (is_mesh_file, read with read_mesh_file) give a mesh store, others are read with read_well_file.
// The files must all have that layout and agree with the first one on dataset name, spatial dims
// and times, hold every requested field with the same time dependence (and, on meshes, the same
// component count and sample parameters); grid files also on the grid (dims and coordinates).
// Errors: Error(input) naming the file (and the field), also for a missing or empty split folder
// and a file of the other layout; Error(usage) for an empty or repeated field list.
TrajectoryStore load_split(const std::string& dataset_dir, const std::string& split,
                           const std::vector<std::string>& fields);

// A store over trajectories held in memory (a solver's output): block fields laid out as `spec`
// says (spec.hpp: (count, T, N...) or (count, N...) on grids, the samples' ([T,] V_b, C)
// concatenated on meshes, with block.meshes). `origin` names the source in errors.
TrajectoryStore store_from_block(const DatasetSpec& spec, const Block& block,
                                 const std::vector<std::string>& fields, const std::string& origin);

class TrajectoryStore {
 public:
  TrajectoryStore() = default;

  bool on_mesh() const { return m_spec.on_mesh; }
  int trajectories() const { return static_cast<int>(m_data.size()); }  // S
  int frames() const { return m_frames; }                               // T
  int channels() const { return m_channels; }                           // C (sum of components)
  // Grid: Nx * Ny * ... Mesh: the largest V_s (an upper bound for buffers sized per trajectory).
  index_t points() const { return m_points; }
  // V_s of trajectory s (meshes), or points() (grids).
  index_t points(int s) const { return on_mesh() ? m_mesh_points[static_cast<std::size_t>(s)] : m_points; }
  const std::vector<int>& grid() const { return m_grid; }              // (Nx[, Ny[, Nz]]); empty on meshes
  const std::vector<std::string>& fields() const { return m_fields; }  // (F) requested order
  const std::vector<int>& components() const { return m_components; }  // (F) 1 per grid field
  const DatasetSpec& spec() const { return m_spec; }                   // of the first file
  const std::vector<double>& times() const { return m_spec.times; }    // (T) recorded times, or empty
  const std::vector<std::string>& files() const { return m_files; }    // in load order
  // Trajectory s's mesh (meshes only; Error(usage) on a grid store or for s out of range).
  const mesh::Mesh& mesh(int s) const;
  // A per-trajectory sample parameter (mesh datasets: viscosity, reynolds, ...). Error(usage)
  // naming the parameter and listing the known ones, or for s out of range.
  double sample_parameter(const std::string& name, int s) const;
  // The names sample_parameter knows, sorted.
  std::vector<std::string> sample_parameter_names() const {
    std::vector<std::string> names;
    for (const auto& kv : m_sample_parameters) names.push_back(kv.first);
    return names;
  }
  // The first channel of a field name (its components follow); Error(usage) listing the stored
  // fields when absent. On grids the channel index of the field.
  int channel(const std::string& field) const;
  // One frame of trajectory s: (C, N...) on grids, (V_s, C) on meshes.
  const float* frame(int s, int t) const {
    return m_data[static_cast<std::size_t>(s)].data() + static_cast<std::size_t>(t) *
                                                            static_cast<std::size_t>(m_channels) *
                                                            static_cast<std::size_t>(points(s));
  }

 private:
  friend TrajectoryStore load_split(const std::string&, const std::string&, const std::vector<std::string>&);
  friend TrajectoryStore store_from_block(const DatasetSpec&, const Block&, const std::vector<std::string>&,
                                          const std::string&);
  void set_spec(const DatasetSpec& spec, const std::string& origin);
  void append(const Block& block, const std::string& origin);
  void append_mesh(const Block& block, const std::string& origin);

  DatasetSpec m_spec;
  std::vector<std::string> m_fields;
  std::vector<int> m_components;  // (F)
  std::vector<std::string> m_files;
  std::vector<int> m_grid;
  index_t m_points = 0;
  int m_channels = 0;
  int m_frames = 0;
  std::vector<std::vector<float>> m_data;                          // (S) x (T, C, N...) or (T, V_s, C)
  std::vector<bool> m_varying;                                     // (F) field varies in time
  std::vector<mesh::Mesh> m_meshes;                                // (S) meshes only
  std::vector<index_t> m_mesh_points;                              // (S) V_s, meshes only
  std::map<std::string, std::vector<double>> m_sample_parameters;  // name -> (S)
};

struct WindowSpec {
  int t_in = 10;           // input frames
  int t_out = 1;           // target frames
  bool all_starts = true;  // every t0 that fits (stepping by stride), else t0 = 0 only
  int stride = 1;          // step between window starts t0
};

struct PairSpec {
  std::vector<std::string> inputs, targets;  // field names of the store
  int input_frame = 0;
  int target_frame = -1;  // negative: from the end (-1 = last frame)
};

class WindowLoader {
 public:
  // The store must outlive the loader. Allocates the host staging buffers once and starts epoch 0.
  // Errors: Error(usage) for a non-positive t_in, t_out, stride or batch, a window longer than the
  // trajectories, an unknown field name or a frame outside the trajectories, and for pairs on a
  // mesh store.
  WindowLoader(const TrajectoryStore& store, const WindowSpec& spec, int batch, std::uint64_t seed,
               bool shuffle, bool drop_last);
  WindowLoader(const TrajectoryStore& store, const PairSpec& spec, int batch, std::uint64_t seed,
               bool shuffle, bool drop_last);

  bool on_mesh() const { return m_store->on_mesh(); }
  long long samples() const { return static_cast<long long>(m_order.size()); }
  int batches() const;
  int batch_size() const { return m_batch; }
  int x_channels() const { return static_cast<int>(m_x.size()); }  // t_in * C, or Cin
  int y_channels() const { return static_cast<int>(m_y.size()); }  // t_out * C, or Cout
  index_t points() const { return m_store->points(); }
  const std::vector<int>& grid() const { return m_store->grid(); }
  int windows_per_trajectory() const { return m_per_trajectory; }
  // The sample (trajectory, first frame) of a sample number.
  int trajectory_of(long long sample) const { return static_cast<int>(sample / m_per_trajectory); }
  int start_of(long long sample) const { return static_cast<int>(sample % m_per_trajectory) * m_stride; }
  // The most rows x and y can have for a batch of `batch` samples: on meshes the sum of the
  // `batch` largest V_s, each trajectory counted up to windows_per_trajectory() times (a batch may
  // hold several windows of one trajectory); on grids `batch` (a row is a sample). Size the device
  // buffers x and y as max_rows(batch_size()) * x_channels() (* points() on grids) and
  // max_rows(batch_size()) * y_channels() (* points()).
  index_t max_rows(int batch) const;

  // Orders the samples for an epoch (see the top of this file). Error(usage) for epoch < 0.
  void start_epoch(int epoch);
  const std::vector<long long>& order() const { return m_order; }  // (samples) this epoch's order

  // Gathers batch `batch_index` of this epoch into the host staging buffer and copies it with one
  // deep_copy each to x and y in Exec's memory:
  //   grid: x (B, x_channels, N...), y (B, y_channels, N...), B = batch_size (only the first
  //         `returned` samples are written);
  //   mesh: x (V_batch, x_channels), y (V_batch, y_channels), V_batch = batch_offsets().back().
  // Returns the number of samples in this batch: batch_size, or fewer for the last batch unless
  // drop_last. The copies have completed on return (exec is fenced: the staging buffer is reused).
  // Error(usage) for batch_index outside [0, batches()). Instantiated for ExecSpace and HostExec.
  template <class Exec>
  int fill(const Exec& exec, int batch_index, float* x, float* y);

  // Of the batch the last fill() wrote (empty before the first):
  const std::vector<int>& batch_trajectories() const { return m_batch_trajectories; }  // (B) s per sample
  // (B + 1) the first row of each sample: mesh node offsets (V_s of the sample's trajectory each);
  // on grids a row is a sample, so offsets are 0, 1, ..., B.
  const std::vector<index_t>& batch_offsets() const { return m_batch_offsets; }

 private:
  struct Source {
    int frame;    // relative to the sample's t0 (windows) or absolute (pairs, t0 = 0)
    int channel;  // in the store
  };
  void finish_setup();
  int gather(int batch_index);
  void copy_grid_sample(const std::vector<Source>& sources, int s, int t0, int i,
                        std::vector<float>& dst) const;
  void copy_mesh_rows(const std::vector<Source>& sources, int s, int t0, index_t row,
                      std::vector<float>& dst) const;

  const TrajectoryStore* m_store = nullptr;
  int m_batch = 1;
  std::uint64_t m_seed = 0;
  bool m_shuffle = true, m_drop_last = false;
  int m_per_trajectory = 1, m_stride = 1;
  std::vector<Source> m_x, m_y;           // (x_channels), (y_channels)
  std::vector<long long> m_order;         // (samples)
  std::vector<float> m_hx, m_hy;          // (batch, x_channels, N...), (batch, y_channels, N...); meshes
                                          // (max_rows, x_channels), (max_rows, y_channels)
  std::vector<int> m_batch_trajectories;  // (B) of the last gathered batch
  std::vector<index_t> m_batch_offsets;   // (B + 1) rows
};

// Fits a Gaussian normalizer of the named fields (in that order: its channels, every component of
// each) over frames [t0, t0 + count) of every trajectory of `store` (negative t0 counts from the
// end; count 0 = every frame from t0 on). Grids: each (trajectory, frame) is one sample of (C, N...).
// Meshes: only NormKind::channel; every node of every (trajectory, frame) is one sample of (C, 1),
// so the normalizer has points() = 1 and encodes channel-last (V, C) data as (V rows, C, 1 point).
// Error(usage) for an unknown field, a frame range outside the trajectories, or pointwise on meshes.
GaussianNormalizer fit_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                  NormKind kind, int t0, int count);

// The same for the change between frames: samples frame(t + 1) - frame(t) (in double) for t in
// [t0, t0 + count) (negative t0 counts from the end; count 0 = every t from t0 while t + 1 is a
// frame). MeshGraphNets normalizes its targets, the velocity change per step, this way. Pointwise
// is allowed on grids. Error(usage) as fit_normalizer, also for a store of a single frame.
GaussianNormalizer fit_delta_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                        NormKind kind, int t0, int count);

// Per-channel statistics of MeshGraphNet's edge features over every training mesh: for each mesh
// edge in both directions (s -> r and r -> s, as the model sees them) the features
// [pos(s) - pos(r), |pos(s) - pos(r)|], dim + 1 channels (so the dx means are 0 by symmetry).
// DeepMind's edge normalizer accumulates the same features over its first batches; surro's meshes
// are static, so it reads them once. Error(usage) on a grid store or a store whose meshes have no edges.
GaussianNormalizer fit_edge_normalizer(const TrajectoryStore& store);

}  // namespace surro::data
