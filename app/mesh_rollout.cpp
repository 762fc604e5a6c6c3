// surro rollout / surro eval on mesh datasets: K trajectories rolled out together as one
// block-diagonal graph batch (operators/graph_batch.hpp) by the shared Rollout (operators/rollout.hpp).
//
// Each step, nodes the model does not predict (INFLOW, WALL: everything but NORMAL and OUTFLOW)
// take their reference values, as MeshGraphNets' and graph-physics' rollouts do. Errors are
// reported over the PREDICTED nodes only (the papers average over every node, including the
// copied ones whose error is 0, which dilutes theirs): per field, per step, at MeshGraphNets'
// horizons 1/10/20/50/100/200 and over the whole rollout (operators/metrics.hpp). When the fields
// hold velocity and pressure and the trajectories carry the cylinder's parameters, the drag and
// lift histories and the Strouhal number of the prediction are compared with the reference's,
// both evaluated by the same method (solvers/cylinder_forces.hpp).
//
//   rollout -> <output>/rollout.pvd + .vtu   prediction, reference, error of one trajectory
//              <output>/compare.py           opens them side by side in ParaView (app/paraview_script.hpp)
//              <output>/rollout.hdf5         every predicted trajectory, in the mesh dataset layout
//              <output>/metrics.{json,csv}   errors (see above); forces.csv when computed
//   eval    -> the metrics only (files when -o is given), and the table on stdout.
#include "app/mesh_rollout.hpp"
#include "app/paraview_script.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "datasets/mesh_file.hpp"
#include "operators/graph_batch.hpp"
#include "operators/metrics.hpp"
#include "operators/model_surrogate.hpp"
#include "operators/rollout.hpp"
#include "solvers/cylinder_forces.hpp"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <algorithm>

namespace surro::app {

namespace mesh_rollout_impl {

// frame (V, C): rows whose `predicted` flag is 0 take ref's values.
void impose_reference(const ExecSpace& exec, index_t rows, int channels, const int* predicted,
                      const float* ref, float* frame) {
  Kokkos::parallel_for(
      "surro::rollout::impose_reference", Kokkos::RangePolicy<ExecSpace>(exec, 0, rows * channels),
      KOKKOS_LAMBDA(const index_t k) {
        if (!predicted[k / channels]) frame[k] = ref[k];
      });
}

// dst (n, C) = src rows index[0 .. n).
void gather_rows(const ExecSpace& exec, index_t n, int channels, const int* index, const float* src,
                 float* dst) {
  Kokkos::parallel_for(
      "surro::rollout::gather_rows", Kokkos::RangePolicy<ExecSpace>(exec, 0, n * channels),
      KOKKOS_LAMBDA(const index_t k) {
        const index_t r = k / channels, c = k - r * channels;
        dst[k] = src[index[r] * channels + c];
      });
}

}  // namespace mesh_rollout_impl

namespace {

using HostFloats = Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

// The fields of the store as a channel-last layout.
op::FieldLayout field_layout(const data::TrajectoryStore& store) {
  op::FieldLayout layout;
  layout.names = store.fields();
  layout.components = store.components();
  layout.channel_last = true;
  return layout;
}

// The K trajectories' frames at time t, stacked as the graph batch's rows: (V, C).
void stack_frames(const data::TrajectoryStore& store, int K, int t, float* out) {
  std::size_t at = 0;
  for (int s = 0; s < K; ++s) {
    const std::size_t n = std::size_t(store.points(s)) * store.channels();
    std::copy(store.frame(s, t), store.frame(s, t) + n, out + at);
    at += n;
  }
}

// Everything one rollout needs on the device, planned once.
struct MeshRolloutPlan {
  op::HostGraphBatch host;
  std::unique_ptr<op::GraphBatch<ExecSpace>> graph;
  std::vector<long long> kept_offsets;  // (K + 1) offsets of each trajectory's predicted nodes
  View1<int> kept_index;                // (kept) row of each predicted node
  View1<float> window, ref, pred_kept, ref_kept;
};

MeshRolloutPlan plan_rollout(const ExecSpace& exec, const data::TrajectoryStore& store, int K,
                             const op::MaskSpec& mask, int t_in, int start) {
  MeshRolloutPlan p;
  std::vector<mesh::Mesh> meshes;
  for (int s = 0; s < K; ++s) meshes.push_back(store.mesh(s));
  p.host = op::build_host_graph_batch(meshes, mask);
  p.graph = std::make_unique<op::GraphBatch<ExecSpace>>(p.host.capacity(), p.host.dim);
  p.graph->upload(exec, p.host);
  const int C = store.channels();
  const index_t V = p.host.nodes();
  std::vector<int> index;
  p.kept_offsets.push_back(0);
  for (int s = 0; s < K; ++s) {
    for (index_t r = p.host.node_offsets[s]; r < p.host.node_offsets[s + 1]; ++r)
      if (p.host.predicted[std::size_t(r)]) index.push_back(int(r));
    p.kept_offsets.push_back(static_cast<long long>(index.size()));
  }
  p.kept_index = View1<int>("surro::rollout::kept_index", index.size());
  Kokkos::deep_copy(
      exec, p.kept_index,
      Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(index.data(), index.size()));
  // The initial window (V, t_in * C): row r holds frames start .. start + t_in - 1 of its node.
  std::vector<float> window(std::size_t(V) * t_in * C), frame(std::size_t(V) * C);
  for (int t = 0; t < t_in; ++t) {
    stack_frames(store, K, start + t, frame.data());
    for (index_t r = 0; r < V; ++r)
      std::copy(frame.begin() + r * C, frame.begin() + (r + 1) * C, window.begin() + (r * t_in + t) * C);
  }
  p.window = View1<float>("surro::rollout::window", window.size());
  Kokkos::deep_copy(exec, p.window, HostFloats(window.data(), window.size()));
  p.ref = View1<float>("surro::rollout::reference", frame.size());
  p.pred_kept = View1<float>("surro::rollout::pred_kept", index.size() * C);
  p.ref_kept = View1<float>("surro::rollout::ref_kept", index.size() * C);
  exec.fence();
  return p;
}

}  // namespace

// The rollout's prediction on the host.
struct Predicted {
  op::FieldLayout layout;
  std::vector<double> times;     // (steps)
  std::vector<float> values;     // (steps, V, C) every trajectory's nodes stacked
  std::vector<index_t> offsets;  // (K + 1) each trajectory's first row
  int first_frame = 0;           // the store frame step 0 predicts
  // Trajectory s as (steps, V_s, C).
  std::vector<float> trajectory(int s, int C) const {
    const std::size_t steps = times.size(), V = std::size_t(offsets.back());
    const std::size_t first = std::size_t(offsets[s]), n = std::size_t(offsets[s + 1]) - first;
    std::vector<float> out(steps * n * C);
    for (std::size_t t = 0; t < steps; ++t)
      std::copy(values.begin() + (t * V + first) * C, values.begin() + (t * V + first + n) * C,
                out.begin() + t * n * C);
    return out;
  }
};

// Trajectory s's reference over the rollout's steps: (steps, V_s, C).
std::vector<float> reference_trajectory(const data::TrajectoryStore& store, int s, int first_frame,
                                        int steps) {
  const std::size_t n = std::size_t(store.points(s)) * store.channels();
  std::vector<float> out(std::size_t(steps) * n);
  for (int t = 0; t < steps; ++t)
    std::copy(store.frame(s, first_frame + t), store.frame(s, first_frame + t) + n,
              out.begin() + std::size_t(t) * n);
  return out;
}

// rollout.pvd of one trajectory (steps vtk_every, 2 vtk_every, ... and the last) and rollout.hdf5
// of every predicted trajectory in the mesh layout.
void write_fields(const RolloutArgs& a, const std::string& dataset, const data::TrajectoryStore& store, int K,
                  const Predicted& p) {
  const int C = store.channels(), steps = static_cast<int>(p.times.size());
  const int s = static_cast<int>(a.vtk_sample);
  const std::vector<float> pred = p.trajectory(s, C);
  std::vector<int> vtk_steps;
  for (int step = 0; step < steps; ++step)
    if ((step + 1) % a.vtk_every == 0 || step == steps - 1) vtk_steps.push_back(step);
  const std::size_t n = std::size_t(store.points(s)) * C;
  std::vector<float> vp(vtk_steps.size() * n), vr(vtk_steps.size() * n);
  std::vector<double> vt;
  for (std::size_t i = 0; i < vtk_steps.size(); ++i) {
    const int step = vtk_steps[i];
    std::copy(pred.begin() + std::size_t(step) * n, pred.begin() + std::size_t(step + 1) * n,
              vp.begin() + i * n);
    const float* ref = store.frame(s, p.first_frame + step);
    std::copy(ref, ref + n, vr.begin() + i * n);
    vt.push_back(p.times[std::size_t(step)]);
  }
  const std::string pvd =
      op::write_rollout_vtu(a.output, "rollout", store.mesh(s), p.layout, vt, vp.data(), vr.data());
  write_paraview_compare(pvd, p.layout.names);

  data::DatasetSpec spec = store.spec();
  spec.times = p.times;
  record_rollout_provenance(a, dataset, K, spec.provenance);
  spec.fields.clear();
  for (int f = 0; f < p.layout.fields(); ++f)
    spec.fields.push_back({p.layout.names[f], true, p.layout.components[f]});
  data::Block block;
  block.first = 0;
  block.count = K;
  for (int k = 0; k < K; ++k) {
    block.meshes.push_back(store.mesh(k));
    const std::vector<float> traj = p.trajectory(k, C);  // (steps, V_k, C)
    const std::size_t V = std::size_t(store.points(k));
    for (int f = 0; f < p.layout.fields(); ++f) {
      auto& out = block.fields[p.layout.names[f]];
      const int c0 = p.layout.first_channel(f), cf = p.layout.components[f];
      for (std::size_t t = 0; t < std::size_t(steps); ++t)
        for (std::size_t v = 0; v < V; ++v)
          for (int c = 0; c < cf; ++c) out.push_back(traj[(t * V + v) * C + c0 + c]);
    }
    for (const auto& name : store.sample_parameter_names())
      block.sample_parameters[name].push_back(store.sample_parameter(name, k));
  }
  data::write_mesh_file(a.output + "/rollout.hdf5", spec, block);
  SURRO_LOG_INFO("wrote " << pvd << " (" << vtk_steps.size() << " of " << steps << " steps), "
                          << kParaviewScriptName << ", " << a.output
                          << "/rollout.hdf5, metrics.json, metrics.csv");
}

// Splits (T, V, C) channel-last values into velocity (T, V, 2) and pressure (T, V).
void split_fields(const std::vector<float>& values, int C, int cu, int cp, std::vector<float>& u,
                  std::vector<float>& pr) {
  const std::size_t rows = values.size() / std::size_t(C);
  u.resize(rows * 2);
  pr.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    u[2 * r] = values[r * C + cu];
    u[2 * r + 1] = values[r * C + cu + 1];
    pr[r] = values[r * C + cp];
  }
}

// Drag, lift and Strouhal number of prediction and reference per trajectory, printed as a summary
// and returned as CSV text, when the fields hold velocity (2 components) and pressure and the
// trajectories carry the cylinder's parameters; "" otherwise (with a log line saying why).
std::string physics_report(const data::TrajectoryStore& store, int K, const Predicted& p) {
  const auto& names = p.layout.names;
  const auto iu = std::find(names.begin(), names.end(), "velocity"),
             ip = std::find(names.begin(), names.end(), "pressure");
  const std::vector<std::string> known = store.sample_parameter_names();
  const bool params = std::find(known.begin(), known.end(), "u_max") != known.end() &&
                      std::find(known.begin(), known.end(), "radius") != known.end();
  if (iu == names.end() || ip == names.end() || p.layout.components[std::size_t(iu - names.begin())] != 2 ||
      !params || p.times.size() < 2) {
    SURRO_LOG_INFO(
        "forces: not computed (they need the fields velocity (2 components) and pressure, the "
        "sample parameters u_max and radius, and at least 2 steps)");
    return "";
  }
  const int C = store.channels();
  const int cu = p.layout.first_channel(int(iu - names.begin())),
            cp = p.layout.first_channel(int(ip - names.begin()));
  std::ostringstream csv;
  csv.precision(8);
  csv << "sample,drag_mean_pred,drag_mean_ref,drag_max_pred,drag_max_ref,lift_amplitude_pred,"
         "lift_amplitude_ref,strouhal_pred,strouhal_ref\n";
  double e_drag = 0, e_lift = 0, e_st = 0;
  int n_st = 0;
  std::vector<float> u, pr;
  for (int s = 0; s < K; ++s) {
    solvers::CylinderParams cp_s;
    cp_s.viscosity = store.sample_parameter("viscosity", s);
    cp_s.density = store.sample_parameter("density", s);
    cp_s.u_max = store.sample_parameter("u_max", s);
    cp_s.radius = store.sample_parameter("radius", s);
    const int steps = static_cast<int>(p.times.size());
    split_fields(p.trajectory(s, C), C, cu, cp, u, pr);
    const solvers::CylinderForces fp =
        solvers::cylinder_forces(store.mesh(s), p.times, u.data(), pr.data(), cp_s);
    split_fields(reference_trajectory(store, s, p.first_frame, steps), C, cu, cp, u, pr);
    const solvers::CylinderForces fr =
        solvers::cylinder_forces(store.mesh(s), p.times, u.data(), pr.data(), cp_s);
    csv << s << ',' << fp.drag_mean << ',' << fr.drag_mean << ',' << fp.drag_max << ',' << fr.drag_max << ','
        << fp.lift_amplitude << ',' << fr.lift_amplitude << ',' << fp.strouhal << ',' << fr.strouhal << '\n';
    e_drag += std::abs(fp.drag_mean - fr.drag_mean) / std::abs(fr.drag_mean);
    e_lift += std::abs(fp.lift_amplitude - fr.lift_amplitude) / std::max(std::abs(fr.lift_amplitude), 1e-12);
    if (std::isfinite(fp.strouhal) && std::isfinite(fr.strouhal)) {
      e_st += std::abs(fp.strouhal - fr.strouhal) / fr.strouhal;
      ++n_st;
    }
  }
  std::printf(
      "forces (mean relative error over %d trajectories, prediction vs reference): drag mean %.3e, "
      "lift amplitude %.3e, Strouhal %s\n",
      K, e_drag / K, e_lift / K,
      n_st ? (std::to_string(e_st / n_st) + " (" + std::to_string(n_st) + " with two lift periods)").c_str()
           : "n/a (fewer than two lift periods)");
  return csv.str();
}

int run_mesh_rollout(const RolloutInputs& in) {
  const RolloutArgs& a = in.args;
  const data::TrajectoryStore& store = in.store;
  const int K = in.samples, steps = in.steps, t_in = in.t_in, C = store.channels();
  const int start = static_cast<int>(a.start);
  ExecSpace exec;
  const TrainedModel& trained = in.model;
  MeshRolloutPlan p = plan_rollout(exec, store, K, trained.architecture().graph_mask(), t_in, start);
  const index_t V = p.host.nodes();
  op::PlanShape shape;
  shape.batch = K;
  shape.graph = p.host.capacity();
  op::ModelSurrogate model([&](const ExecSpace& e, int) { return trained.make(e, shape); }, trained.params(),
                           t_in * C, C, K, V);
  SURRO_LOG_INFO("rollout: " << K << " trajectories (" << V << " nodes, " << p.kept_offsets.back()
                             << " predicted) of " << in.dataset << ", " << steps << " steps from frames "
                             << start << ".." << start + t_in - 1 << ", on " << ExecSpace::name());

  const op::FieldLayout layout = field_layout(store);
  std::vector<long long> kept_points(K);
  for (int s = 0; s < K; ++s) kept_points[s] = p.kept_offsets[s + 1] - p.kept_offsets[s];
  op::EvalReport report(steps, kept_points, layout);
  op::StepErrors<ExecSpace> step_errors(layout, K);
  std::vector<float> ref_host(std::size_t(V) * C);
  Kokkos::View<float*, Kokkos::HostSpace> pred_step("surro::rollout::pred_step", std::size_t(V) * C);
  std::vector<float> pred(std::size_t(steps) * V * C);  // (steps, V, C): every trajectory's prediction
  const op::Batch<ExecSpace> batch = op::graph_batch(*p.graph);
  const index_t kept = p.kept_offsets.back();
  // The reference's change since the last input frame over the predicted nodes, RMS per step
  // (metrics.json per_step.reference_change_rms): the scale of the prediction's error.
  std::vector<float> initial(std::size_t(V) * C);
  stack_frames(store, K, start + t_in - 1, initial.data());
  std::vector<double> ref_change(static_cast<std::size_t>(steps));
  Kokkos::Timer timer;
  op::Rollout rollout(exec, model, V);
  auto hook = [&](int step, float* frame) {
    stack_frames(store, K, start + t_in + step, ref_host.data());
    Kokkos::deep_copy(exec, p.ref, HostFloats(ref_host.data(), ref_host.size()));
    mesh_rollout_impl::impose_reference(exec, V, C, p.graph->predicted(), p.ref.data(), frame);
  };
  rollout.run(
      exec, batch, p.window.data(), steps,
      [&](int step, const float* f) {
        // ref_host holds this step's reference: the hook ran before this callback.
        double d2 = 0;
        for (index_t r = 0; r < V; ++r)
          if (p.host.predicted[std::size_t(r)])
            for (int c = 0; c < C; ++c) {
              const double d = double(ref_host[std::size_t(r) * C + c]) - initial[std::size_t(r) * C + c];
              d2 += d * d;
            }
        ref_change[std::size_t(step)] = std::sqrt(d2 / double(std::max<index_t>(1, kept * C)));
        mesh_rollout_impl::gather_rows(exec, kept, C, p.kept_index.data(), f, p.pred_kept.data());
        mesh_rollout_impl::gather_rows(exec, kept, C, p.kept_index.data(), p.ref.data(), p.ref_kept.data());
        step_errors.add(exec, report, step, 0, p.kept_offsets, p.pred_kept.data(), p.ref_kept.data());
        Kokkos::deep_copy(
            exec, pred_step,
            Kokkos::View<const float*, MemSpace, Kokkos::MemoryUnmanaged>(f, std::size_t(V) * C));
        exec.fence();
        check_finite_prediction(a.checkpoint, step + 1, 1, static_cast<long long>(V) * C, pred_step.data());
        std::copy(pred_step.data(), pred_step.data() + std::size_t(V) * C,
                  pred.begin() + std::size_t(step) * V * C);
      },
      hook);
  report.finalize();
  report.reference_change_rms = std::move(ref_change);
  const double seconds = timer.seconds();

  // Report: per field, the horizons and the whole rollout.
  std::printf("RMSE over predicted nodes  %-12s", "all fields");
  for (const auto& f : layout.names) std::printf(" %-12s", f.c_str());
  std::printf("\n");
  for (std::size_t h = 0; h < report.horizons.size(); ++h) {
    std::printf("  horizon %-16d %-12.4e", report.horizons[h], report.horizon_rmse[h]);
    for (int f = 0; f < layout.fields(); ++f)
      std::printf(" %-12.4e", report.field_horizon_rmse[std::size_t(f) * report.horizons.size() + h]);
    std::printf("\n");
  }
  std::printf("  all-rollout (%4d steps) %-12.4e", steps, report.rmse_all_rollout);
  for (int f = 0; f < layout.fields(); ++f)
    std::printf(" %-12.4e", report.field_rmse_all_rollout[std::size_t(f)]);
  std::printf("\ntrajectory: relative L2 %.4e (mean over %d samples); %.2f s\n", report.rel_l2_mean, K,
              seconds);

  std::vector<double> times;
  for (int step = 0; step < steps; ++step) {
    const std::size_t t = std::size_t(start + t_in + step);
    times.push_back(t < store.times().size() ? store.times()[t] : double(t));
  }
  const Predicted predicted{layout, times, std::move(pred), p.host.node_offsets, start + t_in};
  const std::string forces = physics_report(store, K, predicted);
  if (!a.output.empty()) {
    io::begin_output(a.output);  // .incomplete until the last file is written
    op::write_report_json(a.output + "/metrics.json", report);
    op::write_report_csv(a.output + "/metrics.csv", report);
    if (!forces.empty()) io::write_text_atomic(a.output + "/forces.csv", forces);
    if (a.write_fields) write_fields(a, in.dataset, store, K, predicted);
    io::end_output(a.output);
  }
  SURRO_LOG_INFO("rollout: " << timer.seconds() << " s from the first step to the last output (" << seconds
                             << " s stepping)");
  return 0;
}

}  // namespace surro::app
