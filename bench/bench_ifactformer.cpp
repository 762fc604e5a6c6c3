// IFactFormer speed and memory, one case per run: a training step (forward, relative-L2 loss
// averaged over the batch as the reference's training loop, backward, AdamW with lr 5e-4 and
// weight decay 0.01) or one inference forward, float32, on surro::ExecSpace. Prints one JSON line in
// the schema bench/peers/ifactformer.py prints for the PyTorch peer (bench/peers/table.py merges
// them). The model is op::IFactFormer (operators/models/ifactformer.hpp), configured and
// initialized through op::IFactFormerArchitecture.
//
// Usage: bench_ifactformer --case NAME --grid 32,33,16 --batch 5 --in 3 --out 3 --mode train|infer
//                  [--dim 96] [--heads 5] [--dim-head 96] [--km 3] [--layers 10] [--lift 16]
//                  [--fourier-scale 8] [--lengths 12.566,2,4.189] [--variant parallel|chained]
//                  [--warmup 5] [--reps 10] [--iters 5] [--seed 0] [--dump DIR] [--matmul fp32|tf32]
//                  [--keep-u auto|always|never] [--graph on|off]
//
// --layers is n_layer (the weight-shared iterations), --km the kernel multiplier, --lift the
// per-field lift channels G; --in is T_in * C (window frames times fields), --out C; --keep-u is
// model.keep_u (training keeps each iteration's attention output or recomputes it in backward).
//
// Timing, memory, --graph and --dump as bench_fno.cpp (see there): `warmup` calls excluded, then `reps`
// repetitions of `iters` back-to-back calls between fences, median per call; resident_mib is
// cudaMemGetInfo's used bytes after the warm-up minus those after Kokkos::initialize (CUDA only, else
// null); planned_mib is what the model itself planned (IFactFormer::planned_scalars, every backend).
//
// --dump DIR writes, before the warm-up: DIR/table.json (case, model config, parameter table: name,
// shape, offset, count per tensor, offsets in floats into params.bin; every tensor is real, in the
// layout its table entry names, e.g. linear weights (Cout, Cin) as torch's nn.Linear), params.bin,
// input.bin (B, T C, N...), output.bin (B, C, N...); train mode also target.bin (B, C, N...) and
// grads.bin (table.size(); the frozen Fourier matrix's entries are 0), the gradient of the batch-mean
// relative L2 of (output, target) before any update.
#include "bench/bench_common.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "operators/loss.hpp"
#include "operators/models/ifactformer.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct Args {
  std::string name, mode = "train", dump;
  surro::op::IFactFormerCfg cfg;
  std::vector<int> grid;
  int batch = 1, warmup = 5, reps = 10, iters = 5;
  std::uint64_t seed = 0;
  bool graph = false;
};

// Comma-separated numbers; `integers` refuses fractions.
std::vector<double> parse_numbers(const std::string& flag, const std::string& s, bool integers) {
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t end = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, end - pos);
    char* rest = nullptr;
    const double v = std::strtod(item.c_str(), &rest);
    SURRO_REQUIRE(!item.empty() && *rest == '\0' && (!integers || v == double(long(v))),
                  flag << ": expected comma-separated " << (integers ? "integers" : "numbers") << ", got '"
                       << s << "'");
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

std::vector<int> parse_list(const std::string& flag, const std::string& s) {
  std::vector<int> out;
  for (double v : parse_numbers(flag, s, true)) out.push_back(int(v));
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    SURRO_REQUIRE(key.rfind("--", 0) == 0 && i + 1 < argc,
                  "expected --flag VALUE pairs, got '" << key << "'");
    kv[key] = argv[++i];
  }
  auto take = [&](const std::string& k) {
    auto it = kv.find(k);
    if (it == kv.end()) return std::string();
    std::string v = it->second;
    kv.erase(it);
    return v;
  };
  auto num = [&](const std::string& k, int fallback) {
    const std::string v = take(k);
    return v.empty() ? fallback : parse_list(k, v).at(0);
  };
  surro::op::IFactFormerCfg& c = a.cfg;
  a.name = take("--case");
  a.mode = take("--mode");
  a.dump = take("--dump");
  a.grid = parse_list("--grid", take("--grid"));
  c.dims = int(a.grid.size());
  c.in_channels = num("--in", 1);
  c.out_channels = num("--out", 1);
  c.dim = num("--dim", c.dim);
  c.heads = num("--heads", c.heads);
  c.dim_head = num("--dim-head", c.dim_head);
  c.kernel_multiplier = num("--km", c.kernel_multiplier);
  c.n_layer = num("--layers", c.n_layer);
  c.lift_channels = num("--lift", c.lift_channels);
  const std::string fs = take("--fourier-scale");
  if (!fs.empty()) c.fourier_scale = parse_numbers("--fourier-scale", fs, false).at(0);
  const std::string lengths = take("--lengths");
  if (!lengths.empty()) c.lengths = parse_numbers("--lengths", lengths, false);
  const std::string variant = take("--variant");
  SURRO_REQUIRE(variant.empty() || variant == "parallel" || variant == "chained",
                "--variant: expected parallel or chained, got '" << variant << "'");
  c.variant =
      variant == "chained" ? surro::op::FactorizedVariant::chained : surro::op::FactorizedVariant::parallel;
  const std::string keep = take("--keep-u");
  if (!keep.empty()) c.keep_u = surro::op::parse_keep_u(keep, "--keep-u");
  a.batch = num("--batch", 1);
  a.warmup = num("--warmup", 5);
  a.reps = num("--reps", 10);
  a.iters = num("--iters", 5);
  a.graph = bench::graph_flag(take("--graph"));
  SURRO_REQUIRE(!a.graph || a.mode == "infer",
                "--graph on: inference only (a training step reads its loss back to the host)");
  a.seed = static_cast<std::uint64_t>(num("--seed", 0));
  c.gemm = bench::matmul_flag(take("--matmul"));
  SURRO_REQUIRE(kv.empty(), "unknown flag " << kv.begin()->first);
  SURRO_REQUIRE(!a.name.empty(), "--case NAME is required");
  SURRO_REQUIRE(a.mode == "train" || a.mode == "infer",
                "--mode: expected train or infer, got '" << a.mode << "'");
  SURRO_REQUIRE(a.reps > 0 && a.iters > 0 && a.warmup >= 0, "--reps and --iters must be > 0");
  SURRO_REQUIRE(a.batch > 0, "--batch must be > 0");
  return a;
}

int run(int argc, char** argv) {
  using namespace surro;
  using namespace surro::op;
  const Args a = parse(argc, argv);
  const ExecSpace exec;
  const double used0 = device_used_bytes();

  IFactFormerArchitecture arch(a.cfg);
  arch.bind(DataShape{a.cfg.in_channels, a.cfg.out_channels, a.grid});
  const IFactFormerCfg& c = arch.cfg();
  ParamTable table;
  arch.register_params(table);
  index_t n = 1;
  for (int e : a.grid) n *= e;
  const index_t B = a.batch, in_size = B * c.in_channels * n, out_size = B * c.out_channels * n;
  const bool training = a.mode == "train";

  FlatParams<float> params(table, "surro::bench::params"), grads;
  IFactFormer<ExecSpace, float> model(exec, c, table, a.batch, a.grid, training);
  arch.init(exec, table, params.values().data(), a.seed);
  View1<float> x("surro::bench::x", in_size);   // (B, T C, N...)
  View1<float> y("surro::bench::y", out_size);  // (B, C, N...)
  View1<float> target, dy;                      // (B, C, N...) each, training only
  fill_uniform(exec, x.data(), in_size, a.seed, 1);
  AdamConfig adam_cfg;  // torch.optim.AdamW(lr=5e-4) with its default weight decay 0.01, as the reference
  adam_cfg.decay = AdamConfig::Decay::decoupled;
  adam_cfg.lr = 5e-4;
  adam_cfg.weight_decay = 0.01;
  std::unique_ptr<Adam<ExecSpace>> adam;
  if (training) {
    grads = FlatParams<float>(table, "surro::bench::grads");
    target = View1<float>("surro::bench::target", out_size);
    dy = View1<float>("surro::bench::dy", out_size);
    fill_uniform(exec, target.data(), out_size, a.seed, 2);
    adam = std::make_unique<Adam<ExecSpace>>(table, adam_cfg);
  }
  float* p = params.values().data();
  double loss = 0.0;
  DeviceGraph graph;  // --graph on: the forward replayed as one CUDA graph
  auto forward = [&] { model.forward(exec, p, x.data(), y.data()); };
  auto call = [&] {
    if (a.graph) return graph.run(exec, forward);
    forward();
    if (!training) return;
    loss = rel_l2_loss(exec, Reduction::mean, B, out_size / B, y.data(), target.data(), dy.data());
    Kokkos::deep_copy(exec, grads.values(), 0.0f);
    model.backward(exec, p, dy.data(), grads.values().data(), nullptr);
    adam->step(exec, params, grads, adam_cfg.lr);
  };

  json line;
  line["impl"] = "surro";
  line["model"] = "ifactformer";
  line["case"] = a.name;
  line["mode"] = a.mode;
  line["dims"] = c.dims;
  line["variant"] = c.variant == FactorizedVariant::parallel ? "parallel" : "chained";
  line["dim"] = c.dim;
  line["heads"] = c.heads;
  line["dim_head"] = c.dim_head;
  line["km"] = c.kernel_multiplier;
  line["layers"] = c.n_layer;
  line["lift"] = c.lift_channels;
  line["matmul"] = gemm_options_name(c.gemm);
  line["fourier_scale"] = c.fourier_scale;
  line["keep_u"] = keep_u_name(c.keep_u);
  std::vector<double> lengths;
  for (int ax = 0; ax < c.dims; ++ax) lengths.push_back(c.length(ax));
  line["lengths"] = lengths;
  line["grid"] = a.grid;
  line["batch"] = a.batch;
  line["in_ch"] = c.in_channels;
  line["out_ch"] = c.out_channels;
  line["params"] = table.parameter_count();

  if (!a.dump.empty()) {
    // One forward (and, training, one backward) from the initialized parameters, before any update.
    model.forward(exec, p, x.data(), y.data());
    if (training) {
      rel_l2_loss(exec, Reduction::mean, B, out_size / B, y.data(), target.data(), dy.data());
      Kokkos::deep_copy(exec, grads.values(), 0.0f);
      model.backward(exec, p, dy.data(), grads.values().data(), nullptr);
      dump_floats(a.dump + "/target.bin", target.data(), out_size);
      dump_floats(a.dump + "/grads.bin", grads.values().data(), index_t(table.size()));
    }
    dump_floats(a.dump + "/params.bin", p, index_t(table.size()));
    dump_floats(a.dump + "/input.bin", x.data(), in_size);
    dump_floats(a.dump + "/output.bin", y.data(), out_size);
    json meta = line;
    meta.erase("impl");
    meta["params_size"] = table.size();
    meta["slots"] = table_json(table);
    meta["adamw"] = {{"lr", adam_cfg.lr}, {"weight_decay", adam_cfg.weight_decay}};
    meta["layout"] = "float32, native byte order; x (B, T C, N...) frame-major, y (B, C, N...), row-major";
    io::write_text_atomic(a.dump + "/table.json", meta.dump(1) + "\n");
  }

  time_calls(exec, a.warmup, a.reps, a.iters, used0, call, line);
  if (a.graph) graph_report(exec, graph, forward, y.data(), out_size, line);
  line["planned_mib"] = double(model.planned_scalars()) * sizeof(float) / (1 << 20);
  line["u_kept"] = model.keeps_u();  // keep_u as resolved (auto: by size and free memory)
  line["peak_alloc_mib"] = nullptr;
  line["peak_reserved_mib"] = nullptr;
  if (training) line["loss"] = loss;
  line["status"] = "ok";
  std::printf("%s\n", line.dump().c_str());
  profile_calls(a.iters, call);
  return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  try {
    return bench::run(argc, argv);
  } catch (const surro::Error& e) {
    std::fprintf(stderr, "bench_ifactformer: %s\n", e.what());
    return 2;
  }
}
