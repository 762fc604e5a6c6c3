#include "operators/rollout.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "datasets/well.hpp"
#include "mesh/vtk_writer.hpp"

#include <algorithm>

namespace surro::op {

namespace {

long long grid_points(const std::vector<int>& grid) {
  long long p = 1;
  for (int n : grid) p *= n;
  return p;
}

// window (B, T * C, P), frame (B, C, P); one thread per (b, c, p) walks t in order.
struct ShiftWindow {
  float* window;
  const float* frame;
  int in_frames, channels;
  long long points;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t p = i % points;
    const index_t c = (i / points) % channels;
    const index_t b = i / (points * channels);
    const index_t stride = static_cast<index_t>(channels) * points;  // one frame
    float* col = window + b * in_frames * stride + c * points + p;
    for (int t = 0; t + 1 < in_frames; ++t) col[t * stride] = col[(t + 1) * stride];
    col[(in_frames - 1) * stride] = frame[i];
  }
};

struct CopyFloats {
  float* dst;
  const float* src;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const { dst[i] = src[i]; }
};

}  // namespace

void shift_window(const ExecSpace& exec, index_t rows, int in_frames, int channels, long long points,
                  float* window, const float* frame) {
  const index_t n = rows * channels * points;
  Kokkos::parallel_for("surro::op::shift_window", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
                       ShiftWindow{window, frame, in_frames, channels, points});
}

Rollout::Rollout(const ExecSpace& exec, Surrogate& model, index_t max_rows) : m_model(&model) {
  m_max_rows = max_rows > 0 ? max_rows : model.max_rows();
  m_in_frames = model.in_frames();
  SURRO_REQUIRE(m_in_frames > 0, "rollout: model in_frames = " << m_in_frames << ": expected > 0");
  SURRO_REQUIRE(model.channels() > 0, "rollout: model channels = " << model.channels() << ": expected > 0");
  const std::vector<int> grid = model.grid();  // empty on meshes
  for (std::size_t i = 0; i < grid.size(); ++i)
    SURRO_REQUIRE(grid[i] > 0, "rollout: model grid[" << i << "] = " << grid[i] << ": expected > 0");
  SURRO_REQUIRE(m_max_rows >= 1 && m_max_rows <= model.max_rows(),
                "rollout: max_rows = " << m_max_rows << ": expected 1 .. " << model.max_rows()
                                       << " (the model's max_rows)");
  m_frame_size = static_cast<long long>(model.channels()) * grid_points(grid);
  m_window = make_scratch<View1<float>>(exec, "surro::op::rollout::window",
                                        static_cast<std::size_t>(m_max_rows) * m_in_frames * m_frame_size);
  m_frame = make_scratch<View1<float>>(exec, "surro::op::rollout::frame",
                                       static_cast<std::size_t>(m_max_rows) * m_frame_size);
}

void Rollout::run(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* initial_window,
                  int steps, const FrameCallback& on_frame, const FrameHook& hook) {
  ScopedRegion region("surro::op::rollout");
  const index_t rows = batch.rows();
  SURRO_REQUIRE(rows >= 1 && rows <= m_max_rows,
                "rollout: a batch of " << rows << " rows: expected 1 .. " << m_max_rows);
  SURRO_REQUIRE(steps >= 0, "rollout: steps = " << steps << ": expected >= 0");
  const int channels = m_model->channels();
  const long long points = m_frame_size / channels;
  const index_t window_n = rows * m_in_frames * m_frame_size;
  Kokkos::parallel_for("surro::op::rollout::load", Kokkos::RangePolicy<ExecSpace>(exec, 0, window_n),
                       CopyFloats{m_window.data(), initial_window});
  // A model that cannot be recorded stays unrecorded (one warning, not one per run).
  if (m_predict.state() != DeviceGraph::State::direct) m_predict.reset();
  for (int s = 0; s < steps; ++s) {
    m_predict.run(exec, [&] { m_model->predict(exec, batch, m_window.data(), m_frame.data()); });
    if (hook) hook(s, m_frame.data());
    if (on_frame) on_frame(s, m_frame.data());
    if (s + 1 < steps)
      shift_window(exec, rows, m_in_frames, channels, points, m_window.data(), m_frame.data());
  }
}

void rollout(const ExecSpace& exec, Surrogate& model, int batch, const float* initial_window, int steps,
             const FrameCallback& on_frame) {
  Rollout r(exec, model, batch);
  r.run(exec, batch, initial_window, steps, on_frame);
}

std::vector<std::string> channel_names(const data::DatasetSpec& spec) {
  std::vector<std::string> names;
  for (const auto& f : spec.fields)
    if (f.time_varying) names.push_back(f.name);
  return names;
}

std::string write_rollout_vtk(const std::string& dir, const std::string& basename,
                              const data::DatasetSpec& spec, const std::vector<double>& times,
                              const float* pred, const float* ref) {
  const std::vector<std::string> names = channel_names(spec);
  SURRO_REQUIRE(!names.empty(), "write_rollout_vtk: " << spec.dataset_name << ": no time-varying field");
  SURRO_REQUIRE(pred != nullptr, "write_rollout_vtk: pred is null");
  std::vector<double> origin, spacing;
  for (const auto& c : spec.coords) {
    origin.push_back(c.empty() ? 0.0 : c[0]);
    spacing.push_back(c.size() > 1 ? c[1] - c[0] : 1.0);
  }
  const long long points = spec.points();
  const std::size_t channels = names.size();
  mesh::VtkGridSeries series(dir, basename, origin, spacing, spec.shape());
  // Step t on a worker: its error arrays in the worker's scratch, one (N...) per channel.
  series.write_steps(times, [&](std::size_t t, mesh::VtkStepFields& f) {
    f.scratch.resize(ref ? channels : 0);
    for (std::size_t c = 0; c < channels; ++c) {
      const long long off = (static_cast<long long>(t) * channels + c) * points;
      f.point.emplace_back(names[c] + "_pred", pred + off);
      if (ref) {
        std::vector<float>& error = f.scratch[c];  // (N...)
        error.resize(points);
        for (long long i = 0; i < points; ++i) error[i] = pred[off + i] - ref[off + i];
        f.point.emplace_back(names[c] + "_ref", ref + off);
        f.point.emplace_back(names[c] + "_error", error.data());
      }
    }
  });
  series.finish();
  return series.pvd_path();
}

std::string write_rollout_vtu(const std::string& dir, const std::string& basename, const mesh::Mesh& mesh,
                              const FieldLayout& layout, const std::vector<double>& times, const float* pred,
                              const float* ref) {
  layout.validate("write_rollout_vtu");
  SURRO_REQUIRE(layout.channel_last, "write_rollout_vtu: expected a channel-last (T, V, C) field layout");
  SURRO_REQUIRE(pred != nullptr, "write_rollout_vtu: pred is null");
  for (const std::string& name : layout.names)
    SURRO_REQUIRE(
        !name.empty() && name != "node_type",
        "write_rollout_vtu: field name '" << name << "': expected a non-empty name other than node_type");
  const long long points = mesh.num_points();
  const int channels = layout.channels(), nf = layout.fields();
  mesh::VtkMeshSeries series(dir, basename, mesh);
  // Step t on a worker: per field, its (V, C_f) slices of the frame (pred, ref and error, gathered
  // from (V, C)) in the worker's scratch.
  series.write_steps(times, [&](std::size_t t, mesh::VtkStepFields& fields) {
    fields.scratch.resize(static_cast<std::size_t>(nf) * 3);
    const std::size_t frame = t * static_cast<std::size_t>(points) * channels;
    for (int f = 0; f < nf; ++f) {
      const int c0 = layout.first_channel(f), cf = layout.components[f];
      for (int k = 0; k < 3; ++k) fields.scratch[f * 3 + k].resize(static_cast<std::size_t>(points) * cf);
      float* p = fields.scratch[f * 3].data();      // (V, C_f)
      float* r = fields.scratch[f * 3 + 1].data();  // (V, C_f)
      float* e = fields.scratch[f * 3 + 2].data();  // (V, C_f)
      for (long long v = 0; v < points; ++v)
        for (int c = 0; c < cf; ++c) {
          const std::size_t src = frame + static_cast<std::size_t>(v) * channels + c0 + c;
          p[v * cf + c] = pred[src];
          if (ref) {
            r[v * cf + c] = ref[src];
            e[v * cf + c] = pred[src] - ref[src];
          }
        }
      fields.point.emplace_back(layout.names[f] + "_pred", p, cf, points);
      if (ref) {
        fields.point.emplace_back(layout.names[f] + "_ref", r, cf, points);
        fields.point.emplace_back(layout.names[f] + "_error", e, cf, points);
      }
    }
  });
  series.finish();
  return series.pvd_path();
}

data::Block rollout_block(const data::DatasetSpec& spec, long long first, long long count,
                          const float* traj) {
  const std::vector<std::string> names = channel_names(spec);
  SURRO_REQUIRE(!names.empty(), "rollout_block: " << spec.dataset_name << ": no time-varying field");
  SURRO_REQUIRE(count > 0, "rollout_block: count = " << count << ": expected > 0");
  const long long points = spec.points();
  const long long steps = static_cast<long long>(spec.times.size());
  const long long channels = static_cast<long long>(names.size());
  data::Block block;
  block.first = first;
  block.count = count;
  for (long long c = 0; c < channels; ++c) {
    std::vector<float>& out = block.fields[names[c]];  // (count, T, N...)
    out.resize(static_cast<std::size_t>(count * steps * points));
    for (long long b = 0; b < count; ++b)
      for (long long t = 0; t < steps; ++t) {
        const float* src = traj + ((b * steps + t) * channels + c) * points;
        std::copy(src, src + points, out.data() + (b * steps + t) * points);
      }
  }
  return block;
}

void write_rollout_hdf5(const std::string& path, const data::DatasetSpec& spec, const data::Block& block) {
  data::DatasetSpec s = spec;
  s.provenance.emplace("content", "surrogate rollout");
  data::write_well_file(path, s, block);
}

}  // namespace surro::op
