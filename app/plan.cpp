#include "app/plan.hpp"

#include "app/commands.hpp"
#include "app/resources.hpp"
#include "app/run_config.hpp"
#include "app/train_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "datasets/loader.hpp"

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace surro::app {

namespace impl::plan {
// The meter's state: Kokkos' callbacks are plain function pointers.
double g_current = 0, g_peak = 0;
bool g_active = false;

bool counted(const Kokkos::Tools::SpaceHandle& space) {
  return std::string(space.name) == ExecSpace::memory_space::name();
}
void on_allocate(const Kokkos::Tools::SpaceHandle space, const char*, const void*, const std::uint64_t size) {
  if (!counted(space)) return;
  g_current += double(size);
  if (g_current > g_peak) g_peak = g_current;
}
void on_deallocate(const Kokkos::Tools::SpaceHandle space, const char*, const void*,
                   const std::uint64_t size) {
  if (counted(space)) g_current -= double(size);
}
}  // namespace impl::plan

AllocationMeter::AllocationMeter() {
  SURRO_REQUIRE(!impl::plan::g_active, "AllocationMeter: another meter is already counting");
  impl::plan::g_active = true;
  impl::plan::g_current = impl::plan::g_peak = 0;
  Kokkos::Tools::Experimental::set_allocate_data_callback(impl::plan::on_allocate);
  Kokkos::Tools::Experimental::set_deallocate_data_callback(impl::plan::on_deallocate);
}
AllocationMeter::~AllocationMeter() {
  Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr);
  Kokkos::Tools::Experimental::set_deallocate_data_callback(nullptr);
  impl::plan::g_active = false;
}
double AllocationMeter::current() const {
  return impl::plan::g_current;
}
double AllocationMeter::peak() const {
  return impl::plan::g_peak;
}

double MemoryPlan::total(long long b) const {
  double sum = 0;
  for (const auto& item : items) sum += item.bytes(b);
  return sum;
}

long long MemoryPlan::largest_batch(double memory) const {
  double fixed = 0, per = 0;
  for (const auto& item : items) {
    fixed += item.fixed;
    per += item.per_sample;
  }
  if (!(memory >= fixed + per)) return 0;
  if (!(per > 0)) return std::numeric_limits<long long>::max();
  return static_cast<long long>(std::floor((memory - fixed) / per));
}

namespace {

// Bytes a constructor allocates, kept alive until measured: the peak of the meter while `build`
// runs and its result is still held.
template <class Build>
double measured_bytes(Build&& build) {
  AllocationMeter meter;
  {
    auto held = build();
    (void)held;
  }
  return meter.peak();
}

// (fixed, per_sample) from sizes at 1 and 2 samples: a model's buffers are affine in the batch.
PlanItem affine(const std::string& name, double at1, double at2) {
  const double per = std::max(0.0, at2 - at1);
  return PlanItem{name, std::max(0.0, at1 - per), per};
}

}  // namespace

MemoryPlan plan_training_memory(const op::Architecture& arch, const PlanInputs& in) {
  SURRO_REQUIRE(arch.bound(), "plan: the architecture is not bound to the data");
  MemoryPlan plan;
  plan.model_type = arch.type();
  plan.batch = in.batch;
  op::ParamTable table;
  arch.register_params(table);
  const double p = double(table.size()) * sizeof(float);
  plan.parameter_count = double(table.size());
  plan.items.push_back({"parameters", p, 0});
  plan.items.push_back({"gradients", p, 0});
  plan.items.push_back({"optimizer moments (Adam m, v)", 2 * p, 0});

  const bool mesh = arch.shape().on_mesh();
  auto shape_for = [&](int b) {
    op::PlanShape s;
    s.batch = b;
    if (mesh) s.graph = in.capacity(b);
    return s;
  };
  ExecSpace exec;
  for (const bool training : {true, false}) {
    const double at1 = measured_bytes([&] { return arch.make(exec, table, shape_for(1), training); });
    const double at2 = measured_bytes([&] { return arch.make(exec, table, shape_for(2), training); });
    plan.items.push_back(affine(training
                                    ? "model, training instance (activations, saved buffers, FFT/GEMM work)"
                                    : "model, inference instance (validation)",
                                at1, at2));
  }
  // Rows per sample: one on grids; on meshes the nodes a sample adds to the capacity.
  const double rows1 = mesh ? double(in.capacity(1).nodes) : 1.0;
  const double rows2 = mesh ? double(in.capacity(2).nodes) : 2.0;
  const double row = double(arch.shape().points()) * sizeof(float);
  const double cin = arch.in_channels(), cout = arch.out_channels();
  // The Trainer's prediction and its gradient (rows, Cout, P), and the noisy input (rows, Cin, P).
  const double trainer_row = row * (2 * cout + (in.input_noise ? cin : 0.0));
  plan.items.push_back(
      affine("trainer (prediction, its gradient, noisy input)", rows1 * trainer_row, rows2 * trainer_row));
  // train.cpp's batch buffers x (rows, Cin, P) and y (rows, t_out * Cout, P).
  const double staging_row = row * (cin + in.y_channels);
  plan.items.push_back(affine("data batch staging (x, y)", rows1 * staging_row, rows2 * staging_row));
  if (mesh) {
    const int dims = arch.shape().mesh_dims;
    const double g1 =
        measured_bytes([&] { return std::make_unique<op::GraphBatch<ExecSpace>>(in.capacity(1), dims); });
    const double g2 =
        measured_bytes([&] { return std::make_unique<op::GraphBatch<ExecSpace>>(in.capacity(2), dims); });
    // One graph batch for training and one for validation.
    plan.items.push_back(affine("graph batches (training, validation)", 2 * g1, 2 * g2));
  }
  return plan;
}

double parse_bytes(const std::string& key, const std::string& text) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  const std::vector<std::pair<std::string, double>> units = {{"", 1},
                                                             {"B", 1},
                                                             {"KiB", 1024.0},
                                                             {"MiB", 1048576.0},
                                                             {"GiB", 1073741824.0},
                                                             {"TiB", 1099511627776.0},
                                                             {"KB", 1e3},
                                                             {"kB", 1e3},
                                                             {"MB", 1e6},
                                                             {"GB", 1e9},
                                                             {"TB", 1e12}};
  for (const auto& [name, scale] : units)
    if (used > 0 && unit == name && value > 0 && std::isfinite(value)) return value * scale;
  SURRO_THROW(ErrorKind::usage,
              key << ": expected a positive size such as 80GiB, 512MiB or 1.5GB, got '" << text << "'");
}

namespace {

void print_plan(const MemoryPlan& plan, const PlanArgs& args, double memory, const std::string& source) {
  const long long largest = plan.largest_batch(memory);
  const long long ranks = std::max<long long>(1, args.ranks);
  const long long per_rank = (plan.batch + ranks - 1) / ranks;
  if (args.json) {
    nlohmann::json j;
    j["model"] = plan.model_type;
    j["parameters"] = plan.parameter_count;
    j["batch"] = plan.batch;
    for (const auto& item : plan.items)
      j["items"].push_back({{"name", item.name},
                            {"bytes", item.bytes(plan.batch)},
                            {"fixed_bytes", item.fixed},
                            {"per_sample_bytes", item.per_sample}});
    j["total_bytes"] = plan.total();
    j["memory_bytes"] = std::isfinite(memory) ? nlohmann::json(memory) : nlohmann::json(nullptr);
    j["memory_source"] = source;
    j["largest_batch"] = largest;
    j["ranks"] = ranks;
    j["batch_per_rank"] = per_rank;
    j["bytes_per_rank"] = plan.total(per_rank);
    std::cout << j.dump(2) << '\n';
    return;
  }
  char line[256];
  std::printf("memory plan: model %s, %.4g parameters, train.batch %lld (device memory, float)\n",
              plan.model_type.c_str(), plan.parameter_count, plan.batch);
  std::printf("  %-70s %12s %12s\n", "item", "at batch", "per sample");
  for (const auto& item : plan.items) {
    std::snprintf(line, sizeof(line), "  %-70s %12s %12s", item.name.c_str(),
                  format_bytes(item.bytes(plan.batch)).c_str(), format_bytes(item.per_sample).c_str());
    std::puts(line);
  }
  std::printf("  %-70s %12s\n", "total", format_bytes(plan.total()).c_str());
  std::printf("memory: %s (%s)\n", std::isfinite(memory) ? format_bytes(memory).c_str() : "unknown",
              source.c_str());
  std::printf("largest train.batch that fits: %lld\n", largest);
  std::printf("ranks: %lld, batch per rank %lld (global batch / ranks), %s per rank\n", ranks, per_rank,
              format_bytes(plan.total(per_rank)).c_str());
  std::printf("not counted: memory outside Kokkos (FFT/BLAS library plans, the CUDA context)%s\n",
              plan.items.empty() ? "" : "; unrolled modes' per-step buffers");
}

}  // namespace

void run_plan(const JobArgs& args, const PlanArgs& plan_args) {
  TrainingSections sec;
  const ResolvedConfig cfg =
      resolve_config(args.config, args.sets, [&](config::Node& root) { sec = read_training_sections(root); });
  SURRO_REQUIRE(plan_args.ranks >= 1, "--ranks: expected a positive integer, got " << plan_args.ranks);
  const data::TrajectoryStore train_store =
      data::load_split(sec.data.dataset, sec.data.train_split, sec.data.fields);
  const data::TrajectoryStore valid_store =
      data::load_split(sec.data.dataset, sec.data.valid_split, sec.data.fields);
  auto make_loader = [&](const data::TrajectoryStore& store, int batch) {
    return sec.data.kind == "window"
               ? data::WindowLoader(store, sec.data.window, batch, cfg.run.seed, false, false)
               : data::WindowLoader(store, sec.data.pair, batch, cfg.run.seed, false, false);
  };
  const data::WindowLoader train_loader = make_loader(train_store, 1);
  const data::WindowLoader valid_loader = make_loader(valid_store, 1);
  const bool multi = sec.train.mode != "teacher_forcing";
  const int t_out = multi ? sec.data.window.t_out : 1;
  const op::DataShape shape =
      data_shape(sec, train_store, train_loader.x_channels(), train_loader.y_channels() / t_out);
  sec.model->bind(shape);

  PlanInputs in;
  in.batch = sec.train.batch;
  in.y_channels = train_loader.y_channels();
  in.input_noise = sec.train.input_noise > 0;
  std::unique_ptr<op::GraphBatchCache> train_cache, valid_cache;
  if (shape.on_mesh()) {
    auto cache = [&](const data::TrajectoryStore& store) {
      std::vector<mesh::Mesh> meshes;
      for (int s = 0; s < store.trajectories(); ++s) meshes.push_back(store.mesh(s));
      return std::make_unique<op::GraphBatchCache>(meshes, sec.model->graph_mask());
    };
    train_cache = cache(train_store);
    valid_cache = cache(valid_store);
    in.capacity = [&](int b) {
      return op::max_capacity(train_cache->capacity(b, train_loader.windows_per_trajectory()),
                              valid_cache->capacity(b, valid_loader.windows_per_trajectory()));
    };
  }
  const MemoryPlan plan = plan_training_memory(*sec.model, in);
  std::string source = "--memory";
  const double memory = plan_args.memory.empty() ? available_memory_bytes(true, &source)
                                                 : parse_bytes("--memory", plan_args.memory);
  print_plan(plan, plan_args, memory, source);
}

}  // namespace surro::app
