// FNO speed and memory, one case per run: a training step (forward, relative-L2 loss summed over
// the batch, backward, Adam) or one inference forward, float32, on surro::ExecSpace. Prints one
// JSON line in the schema bench/peers/fno.py prints for the PyTorch peer (bench/peers/table.py
// merges them).
//
// Usage: bench_fno --case NAME --modes 8,8 --width 20 --grid 64,64 --batch 20 --in 10 --out 1
//                  --mode train|infer [--pad 0,0,6] [--layers 4] [--projection 128]
//                  [--warmup 5] [--reps 10] [--iters 5] [--seed 0] [--dump DIR] [--matmul fp32|tf32]
//                  [--graph on|off]
//
// Timing: `warmup` calls first (excluded), then `reps` repetitions of `iters` back-to-back calls,
// each repetition between two fences; a call's time is the repetition's time / iters, and the
// line reports the median (and min, max) over the repetitions.
//
// --graph on (inference): the forward is recorded as one CUDA graph on its second call and replayed
// after (core/device_graph.hpp); the line adds the recording's state and the largest difference
// between a replayed and a direct forward's output (graph, graph_max_abs_diff).
//
// Memory (CUDA only, else null): what is really resident on the device, as cudaMemGetInfo's used
// bytes after the warm-up minus those right after Kokkos::initialize. Every surro buffer
// (parameters, gradients, moments, activations, FFT plans and spectra, GEMM handles) is planned
// once before the first call and nothing is allocated later, so the post-warm-up usage is the
// peak. It includes library workspaces and lazily loaded kernels, as the peer's resident figure
// does. Run one case per process, so no earlier case's memory is counted.
//
// --dump DIR writes, before the warm-up, the initialized parameters and one deterministic input so
// the peer can load identical weights and compare outputs (bench/peers/fno.py --load DIR):
//   DIR/table.json   the case, the model config and the parameter table (name, shape, kind,
//                    offset, count per tensor; offsets in floats into params.bin)
//   DIR/params.bin   float32 (table.size()): the flat parameter View; complex tensors are
//                    interleaved (re, im), spectral weights laid out (blocks, Mx[, My[, Mz]], Cin, Cout)
//   DIR/input.bin    float32 (B, Cin, N...)
//   DIR/output.bin   float32 (B, Cout, N...): forward(params, input)
//   train mode also: DIR/target.bin (B, Cout, N...) and DIR/grads.bin (table.size()), the gradient
//                    of the summed relative L2 of (output, target) before any update.
#include "bench/bench_common.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "operators/loss.hpp"
#include "operators/models/fno.hpp"
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
  std::string name = "fno", mode = "train", dump;
  surro::op::FnoCfg cfg;
  std::vector<int> grid;
  int batch = 1, warmup = 5, reps = 10, iters = 5;
  std::uint64_t seed = 0;
  bool graph = false;
};

std::vector<int> parse_list(const std::string& flag, const std::string& s) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t end = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, end - pos);
    char* rest = nullptr;
    const long v = std::strtol(item.c_str(), &rest, 10);
    SURRO_REQUIRE(!item.empty() && *rest == '\0',
                  flag << ": expected comma-separated integers, got '" << s << "'");
    out.push_back(static_cast<int>(v));
    pos = end + 1;
  }
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
  a.name = take("--case");
  a.mode = take("--mode");
  a.dump = take("--dump");
  a.cfg.modes = parse_list("--modes", take("--modes"));
  a.grid = parse_list("--grid", take("--grid"));
  const std::string pad = take("--pad");
  if (!pad.empty()) a.cfg.padding = parse_list("--pad", pad);
  a.cfg.width = num("--width", 20);
  a.cfg.in_channels = num("--in", 1);
  a.cfg.out_channels = num("--out", 1);
  a.cfg.layers = num("--layers", 4);
  a.cfg.projection = num("--projection", 128);
  a.batch = num("--batch", 1);
  a.warmup = num("--warmup", 5);
  a.reps = num("--reps", 10);
  a.iters = num("--iters", 5);
  a.seed = static_cast<std::uint64_t>(num("--seed", 0));
  a.cfg.gemm = bench::matmul_flag(take("--matmul"));
  a.graph = bench::graph_flag(take("--graph"));
  SURRO_REQUIRE(kv.empty(), "unknown flag " << kv.begin()->first);
  SURRO_REQUIRE(!a.name.empty(), "--case NAME is required");
  SURRO_REQUIRE(a.mode == "train" || a.mode == "infer",
                "--mode: expected train or infer, got '" << a.mode << "'");
  SURRO_REQUIRE(a.reps > 0 && a.iters > 0 && a.warmup >= 0, "--reps and --iters must be > 0");
  SURRO_REQUIRE(!a.graph || a.mode == "infer",
                "--graph on: inference only (a training step reads its loss back to the host)");
  return a;
}

int run(int argc, char** argv) {
  using namespace surro;
  using namespace surro::op;
  const Args a = parse(argc, argv);
  const ExecSpace exec;
  const double used0 = device_used_bytes();

  const FnoCfg& c = a.cfg;
  fno_validate(c, a.grid);
  ParamTable table;
  fno_register(table, c);
  index_t n = 1;
  for (int e : a.grid) n *= e;
  const index_t B = a.batch, in_size = B * c.in_channels * n, out_size = B * c.out_channels * n;
  const bool training = a.mode == "train";

  FlatParams<float> params(table, "surro::bench::params"), grads;
  Fno<ExecSpace, float> model(exec, c, table, a.batch, a.grid, training);
  model.init(exec, params.values().data(), a.seed);
  View1<float> x("surro::bench::x", in_size);   // (B, Cin, N...)
  View1<float> y("surro::bench::y", out_size);  // (B, Cout, N...)
  View1<float> target, dy;                      // (B, Cout, N...) each, training only
  fill_uniform(exec, x.data(), in_size, a.seed, 1);
  AdamConfig adam_cfg;  // torch.optim.Adam(lr=1e-3, weight_decay=1e-4), as the FNO scripts; no clipping
  adam_cfg.lr = 1e-3;
  adam_cfg.weight_decay = 1e-4;
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
    loss = rel_l2_loss(exec, Reduction::sum, B, out_size / B, y.data(), target.data(), dy.data());
    Kokkos::deep_copy(exec, grads.values(), 0.0f);
    model.backward(exec, p, dy.data(), grads.values().data(), nullptr);
    adam->step(exec, params, grads, adam_cfg.lr);
  };

  json line;
  line["impl"] = "surro";
  line["case"] = a.name;
  line["mode"] = a.mode;
  line["dims"] = c.dims();
  line["modes"] = c.modes;
  line["width"] = c.width;
  line["layers"] = c.layers;
  line["projection"] = c.projection;
  line["matmul"] = gemm_options_name(c.gemm);
  line["pad"] = c.padding;
  line["grid"] = a.grid;
  line["batch"] = a.batch;
  line["in_ch"] = c.in_channels;
  line["out_ch"] = c.out_channels;
  line["params"] = table.parameter_count();
  line["params_paper"] = fno_reference_parameter_count(c, table);

  if (!a.dump.empty()) {
    // One forward (and, training, one backward) from the initialized parameters, before any update.
    model.forward(exec, p, x.data(), y.data());
    if (training) {
      rel_l2_loss(exec, Reduction::sum, B, out_size / B, y.data(), target.data(), dy.data());
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
    meta["adam"] = {{"lr", adam_cfg.lr}, {"weight_decay", adam_cfg.weight_decay}};
    meta["layout"] =
        "float32, native byte order; activations (B, C, N...) row-major; complex (re, im) interleaved";
    io::write_text_atomic(a.dump + "/table.json", meta.dump(1) + "\n");
  }

  time_calls(exec, a.warmup, a.reps, a.iters, used0, call, line);
  if (a.graph) graph_report(exec, graph, forward, y.data(), out_size, line);
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
    std::fprintf(stderr, "bench_fno: %s\n", e.what());
    return 2;
  }
}
