#pragma once
// Training data: a dataset split held in host memory, cut into samples and staged in mini-batches
// onto the device.
//
// TrajectoryStore: every trajectory of one split, channel-first, one host array per trajectory:
//   (T, C, N...)   T frames, C = the requested fields in the requested order, N... the grid.
// T is the number of recorded times when any requested field varies in time; a constant field
// (Darcy's coefficient a) is then repeated in every frame. When no requested field varies in time
// (steady datasets such as Darcy), T = 1.
//
// WindowLoader: samples of one of two kinds, chosen by the constructor.
//   windows (WindowSpec): sample (s, t0) has inputs frames t0 .. t0+t_in-1 and targets frames
//     t0+t_in .. t0+t_in+t_out-1 of trajectory s, every field of the store;
//       x: (B, t_in * C, N...)   y: (B, t_out * C, N...)
//     channels frame-major, oldest first: channel t * C + c is field c at window step t (the
//     layout operators/surrogate.hpp documents). Starts t0 = 0, stride, 2 stride, ... while the
//     window fits (all_starts), or t0 = 0 only. The FNO-2D benchmark ("first 10 in, next 40
//     out") is {t_in = 10, t_out = 40, all_starts = false}.
//   pairs (PairSpec): one sample per trajectory s;
//       x: (B, Cin, N...)  fields `inputs` at frame input_frame
//       y: (B, Cout, N...) fields `targets` at frame target_frame
//     frames count from the end when negative (-1 = last). Darcy a -> u: store {"a", "u"},
//     PairSpec{{"a"}, {"u"}}; Burgers u(0) -> u(T): store {"u"}, PairSpec{{"u"}, {"u"}, 0, -1}.
//
// Sample order: start_epoch(e) orders the samples by the Philox key of (seed, stream = e,
// index = sample), ties by sample index: a permutation that depends only on (seed, epoch) and is the
// same on every platform. Without shuffle the order is natural (trajectory-major, then t0).
// Sample numbering: trajectory s's k-th window is s * windows_per_trajectory + k.
#include "core/types.hpp"
#include "datasets/normalizer.hpp"
#include "datasets/spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace surro::data {

class TrajectoryStore;

// Reads every <dataset_dir>/data/<split>/*.hdf5 (and *.h5; sorted by name, dot-files ignored) with
// read_well_file and keeps `fields`, in that order, of every trajectory. The files must agree with
// the first one on dataset name, grid (dims and coordinates) and times, and hold every requested
// field with the same time dependence. Errors: Error(input) naming the file (and the field), also
// for a missing or empty split folder; Error(usage) for an empty or repeated field list.
TrajectoryStore load_split(const std::string& dataset_dir, const std::string& split,
                           const std::vector<std::string>& fields);

// A store over trajectories held in memory (a solver's output): block fields laid out as `spec`
// says ((count, T, N...) or (count, N...) for constant fields). `origin` names the source in errors.
TrajectoryStore store_from_block(const DatasetSpec& spec, const Block& block,
                                 const std::vector<std::string>& fields, const std::string& origin);

class TrajectoryStore {
 public:
  TrajectoryStore() = default;

  int trajectories() const { return static_cast<int>(m_data.size()); }  // S
  int frames() const { return m_frames; }                               // T
  int channels() const { return static_cast<int>(m_fields.size()); }    // C
  index_t points() const { return m_points; }                           // Nx * Ny * ...
  const std::vector<int>& grid() const { return m_grid; }               // (Nx[, Ny[, Nz]])
  const std::vector<std::string>& fields() const { return m_fields; }   // (C) channel order
  const DatasetSpec& spec() const { return m_spec; }                    // of the first file
  const std::vector<std::string>& files() const { return m_files; }     // in load order
  // Channel of a field name; Error(usage) listing the stored fields when absent.
  int channel(const std::string& field) const;
  // One frame of trajectory s: (C, N...).
  const float* frame(int s, int t) const {
    return m_data[static_cast<std::size_t>(s)].data() +
           static_cast<std::size_t>(t) * m_fields.size() * m_points;
  }

 private:
  friend TrajectoryStore load_split(const std::string&, const std::string&, const std::vector<std::string>&);
  friend TrajectoryStore store_from_block(const DatasetSpec&, const Block&, const std::vector<std::string>&,
                                          const std::string&);
  void set_spec(const DatasetSpec& spec, const std::string& origin);
  void append(const Block& block);

  DatasetSpec m_spec;
  std::vector<std::string> m_fields;
  std::vector<std::string> m_files;
  std::vector<int> m_grid;
  index_t m_points = 0;
  int m_frames = 0;
  std::vector<std::vector<float>> m_data;  // (S) x (T, C, N...)
  std::vector<bool> m_varying;             // (C) field varies in time
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
  // trajectories, an unknown field name or a frame outside the trajectories.
  WindowLoader(const TrajectoryStore& store, const WindowSpec& spec, int batch, std::uint64_t seed,
               bool shuffle, bool drop_last);
  WindowLoader(const TrajectoryStore& store, const PairSpec& spec, int batch, std::uint64_t seed,
               bool shuffle, bool drop_last);

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

  // Orders the samples for an epoch (see the top of this file). Error(usage) for epoch < 0.
  void start_epoch(int epoch);
  const std::vector<long long>& order() const { return m_order; }  // (samples) this epoch's order

  // Gathers batch `batch_index` of this epoch into the host staging buffer and copies it with one
  // deep_copy each to x: (B, x_channels, N...) and y: (B, y_channels, N...) in Exec's memory,
  // B = batch_size (only the first `returned` samples are written). Returns the number of samples
  // in this batch: batch_size, or fewer for the last batch unless drop_last. The copies have
  // completed on return (exec is fenced: the staging buffer is reused).
  // Error(usage) for batch_index outside [0, batches()). Instantiated for ExecSpace and HostExec.
  template <class Exec>
  int fill(const Exec& exec, int batch_index, float* x, float* y);

 private:
  struct Source {
    int frame;    // relative to the sample's t0 (windows) or absolute (pairs, t0 = 0)
    int channel;  // in the store
  };
  void finish_setup();
  int gather(int batch_index);

  const TrajectoryStore* m_store = nullptr;
  int m_batch = 1;
  std::uint64_t m_seed = 0;
  bool m_shuffle = true, m_drop_last = false;
  int m_per_trajectory = 1, m_stride = 1;
  std::vector<Source> m_x, m_y;    // (x_channels), (y_channels)
  std::vector<long long> m_order;  // (samples)
  std::vector<float> m_hx, m_hy;   // (batch, x_channels, N...), (batch, y_channels, N...)
};

// Fits a Gaussian normalizer of the named fields (in that order: its channels) over frames
// [t0, t0 + count) of every trajectory of `store` (negative t0 counts from the end; count 0 = every
// frame from t0 on). Each (trajectory, frame) is one sample of (fields, N...). Error(usage) for an
// unknown field or a frame range outside the trajectories.
GaussianNormalizer fit_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                  NormKind kind, int t0, int count);

}  // namespace surro::data
