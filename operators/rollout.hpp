#pragma once
// Autoregressive rollout of a Surrogate, and the files a rollout produces.
//
// A rollout keeps one window (rows, T_in * C, P) and one frame (rows, C, P) on surro::ExecSpace, in
// the row layout of operators/batch.hpp (grids: rows = samples; meshes: rows = nodes, P = 1). Each
// step predicts the frame after the window, lets an optional hook overwrite values of it (meshes:
// the prescribed inflow and wall nodes take their reference values, as MeshGraphNets' rollout),
// hands it to the caller, then shifts the window on the device: frame t + 1 moves to slot t (the
// oldest frame is dropped) and the (hooked) prediction fills the newest slot. Both buffers are
// members, allocated once in Rollout's constructor: run() and the loop inside it allocate nothing,
// and successive runs reuse the same memory. The model is only called through Surrogate::predict
// (inference), so no activations are kept. On a CUDA space with SURRO_DEVICE_GRAPH=on the
// prediction, the same call on the same buffers every step, is recorded once per run as a CUDA graph
// and replayed (core/device_graph.hpp): one launch a step instead of one per kernel.
#include "core/device_graph.hpp"
#include "core/types.hpp"
#include "datasets/spec.hpp"
#include "mesh/mesh.hpp"
#include "operators/metrics.hpp"
#include "operators/surrogate.hpp"

#include <functional>
#include <string>
#include <vector>

namespace surro::op {

// step counts from 0; frame: (B, C, N...) on ExecSpace, valid until on_frame returns (the next
// step overwrites it). Work issued on `exec` before the call has not necessarily finished: fence
// or copy on the same instance before reading it from the host.
using FrameCallback = std::function<void(int step, const float* frame)>;
// Called with each new frame (rows, C, P) on ExecSpace before on_frame and the shift; may modify it.
using FrameHook = std::function<void(int step, float* frame)>;

class Rollout {
 public:
  // Buffers for up to max_rows rows of model's window and frame (default: model.max_rows(), which
  // on grids is model.max_batch() samples). Errors: Error(runtime) for a model with non-positive
  // in_frames/channels/grid extents or max_rows outside [1, model.max_rows()].
  Rollout(const ExecSpace& exec, Surrogate& model, index_t max_rows = 0);

  // initial_window: (rows, T_in * C, P) on ExecSpace, copied in (the caller's buffer is not
  // modified). Calls hook (when set) and on_frame for steps 0 .. steps - 1. Errors: Error(runtime)
  // for a batch of no rows or more than max_rows, or steps < 0.
  void run(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* initial_window, int steps,
           const FrameCallback& on_frame, const FrameHook& hook = {});
  // Grids: a batch of `batch` samples.
  void run(const ExecSpace& exec, int batch, const float* initial_window, int steps,
           const FrameCallback& on_frame) {
    run(exec, grid_batch<ExecSpace>(batch), initial_window, steps, on_frame);
  }

  index_t max_rows() const { return m_max_rows; }
  int max_batch() const { return int(m_max_rows); }              // grids: samples
  long long frame_size() const { return m_frame_size; }         // C * P, one row
  const float* window_data() const { return m_window.data(); }  // (max_rows, T_in * C, P)
  const float* frame_data() const { return m_frame.data(); }    // (max_rows, C, P)

 private:
  Surrogate* m_model;
  index_t m_max_rows;
  int m_in_frames;
  long long m_frame_size;
  View1<float> m_window;  // (max_rows * T_in * C * P)
  View1<float> m_frame;   // (max_rows * C * P)
  // The step's prediction, recorded per run (its batch may differ). Off unless
  // SURRO_DEVICE_GRAPH=on until the GPU tests have run with it (none has yet: sessions 25 and 26
  // got no GPU).
  DeviceGraph m_predict{false};
};

// One-shot form: builds a Rollout for `batch` samples (the only allocation) and runs it.
void rollout(const ExecSpace& exec, Surrogate& model, int batch, const float* initial_window, int steps,
             const FrameCallback& on_frame);

// The window shift on its own (what Rollout::run does after each prediction), in place:
// window (rows, T * C, P) <- frames 1 .. T - 1 of window, then frame (rows, C, P). Parallel over
// (r, c, p); each thread moves its column through t in order, so the update is race-free.
void shift_window(const ExecSpace& exec, index_t rows, int in_frames, int channels, long long points,
                  float* window, const float* frame);

// The time-varying fields of `spec`, in order, are the C channels of a frame.
std::vector<std::string> channel_names(const data::DatasetSpec& spec);

// ParaView series <dir>/<basename>.pvd + _NNNNNN.vti, one step per entry of `times`. Each step
// carries, per channel c named f: point fields f_pred and, when ref is given, f_ref and
// f_error = pred - ref. pred, ref: host (T, C, N...) with T = times.size(), C =
// channel_names(spec).size(), N... = spec.shape(). Grid origin and spacing come from spec.coords.
// Returns the .pvd path. Errors: Error(runtime).
std::string write_rollout_vtk(const std::string& dir, const std::string& basename,
                              const data::DatasetSpec& spec, const std::vector<double>& times,
                              const float* pred, const float* ref);

// The same series on an unstructured mesh: <dir>/<basename>.pvd + _NNNNNN.vtu (mesh::VtkMeshSeries),
// for ONE trajectory on its mesh. Each step carries, per field f of layout (C_f components): point
// arrays f_pred and, when ref is given, f_ref and f_error = pred - ref, each (V, C_f) (a 2-component
// field is read back as a 3-component vector with z = 0), and the Int32 array node_type when the
// mesh has one. pred, ref: host (T, V, C) channel-last (layout.channel_last), T = times.size(),
// V = mesh.num_points(), C = layout.channels(). Returns the .pvd path. Errors: Error(runtime).
std::string write_rollout_vtu(const std::string& dir, const std::string& basename, const mesh::Mesh& mesh,
                              const FieldLayout& layout, const std::vector<double>& times, const float* pred,
                              const float* ref);

// Trajectories (count, T, C, N...) host, channel-first as a rollout produces them, regrouped into
// a dataset Block (one (count, T, N...) array per time-varying field of spec; T = spec.times.size()).
// Constant fields of spec are not produced by a rollout: remove them from spec, or add them to the
// block yourself, before writing.
data::Block rollout_block(const data::DatasetSpec& spec, long long first, long long count, const float* traj);

// Predicted trajectories as a dataset file in The Well's layout (datasets/well.hpp), so every
// dataset tool (validate, export, stats) reads them. Adds provenance "content" = "surrogate
// rollout" unless spec already sets it. Written atomically. Errors: Error(runtime).
void write_rollout_hdf5(const std::string& path, const data::DatasetSpec& spec, const data::Block& block);

}  // namespace surro::op
