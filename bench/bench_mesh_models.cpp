// Speed and memory of surro's graph models on a Gmsh channel mesh, one case per run: the mesh
// transformer (op::MeshTransformer, graph-physics' EncodeTransformDecode) or MeshGraphNet
// (op::MeshGraphNet), float32 on surro::ExecSpace, on a batch of BATCH copies of the DFG/CylinderFlow
// channel (mesh::generate_channel). Prints one JSON line; bench/peers/mesh_models.py builds the same
// model in PyTorch from a --dump and prints its own line with the ratios.
//
// Usage: bench_mesh_models MODEL SIZE BATCH [--layers L] [--width W] [--heads H] [--k-hop K]
//                          [--global-nodes G]
//                          [--steps N] [--warmup N] [--seed S] [--matmul fp32|tf32] [--dump DIR]
//                          [--case NAME]
//   MODEL  mesh_transformer | meshgraphnet
//   SIZE   the far-field Gmsh element size (0.0275: CylinderFlow's ~1,900 nodes; smaller: more
//          nodes); size_obstacle keeps the default geometry's ratio 0.01 / 0.0275. `nodes:N` picks
//          the size for about N nodes per mesh (a few meshings, each correcting the size by
//          sqrt(V / N), stopping within 3%).
//   --width is dim (transformer) or hidden (MeshGraphNet); defaults are the models' (128, 15 layers,
//   4 heads). --k-hop (transformer only) widens the attention mask to k hops; --global-nodes G adds
//   G global nodes per mesh to it (operators/attention_masks.hpp). --case names the case in
//   the JSON line (bench/peers/mesh_table.py pairs lines by it).
//
// Timing: `warmup` calls, then `steps` back-to-back calls between two fences; the figure is the mean.
//   infer_ms   one forward
//   train_ms   forward, MSE over all outputs (operators/loss.hpp; it returns the loss to the host,
//              which fences every step), zeroing the gradients, backward, Adam (lr 1e-3, PyTorch's
//              defaults: operators/optim/adam.hpp)
// The models plan one set of buffers for training (activations saved for backward and backward's
// scratch); inference runs the same planned model, so there is no separate inference plan.
// Memory: planned_bytes = the model's planned_scalars() plus parameters, gradients and the two
// Adam moments, all float32 (the graph batch's index arrays are not counted); resident_mib (CUDA)
// = cudaMemGetInfo's used bytes after the warm-up minus those after Kokkos started, i.e. the
// high-water of a process that allocates everything up front (cuBLAS workspaces included).
//
// --dump DIR writes, from the initialized parameters, the inputs before the model is planned (so a
// model that does not fit still leaves them for the peer: meta.json then lists no outputs) and the
// outputs of one forward and backward before the warm-up (files float32 unless named otherwise,
// native byte order, row-major):
//   meta.json           the case, config, counts, node_offsets (B + 1), the parameter table
//                       (name, shape, offset, count per tensor; offsets in floats into params.bin;
//                       linear weights (Cout, Cin) as torch's nn.Linear), loss, file list
//   params.bin (table.size())  x.bin (V, Cin)  target.bin (V, Cout)  y.bin (V, Cout) one forward
//   dy.bin (V, Cout) dLoss/dy of the MSE   grads.bin (table.size()) one backward of dy, from zero
//   node_type.bin int32 (V)  positions.bin float64 (V, dim)  senders.bin, receivers.bin int32 (E)
//   mask_offsets.bin int64 (V + 1), mask_indices.bin int32 (nnz): the attention mask, CSR by
//   receiver (query); column = key
// SURRO_PROFILE=1 adds `steps` profiled training steps after the timing, their table on stderr.
// Exit codes: 0 ok, 2 usage or input error, 3 the case failed at run time (e.g. out of device
// memory); the JSON line then has "status": "error" and the message.
#include "bench/bench_common.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/types.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/mesh.hpp"
#include "operators/graph_batch.hpp"
#include "operators/loss.hpp"
#include "operators/models/mesh_transformer.hpp"
#include "operators/models/meshgraphnet.hpp"
#include "operators/optim/adam.hpp"
#include "operators/params.hpp"

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bench {

struct MeshArgs {
  std::string model, size, dump, matmul, name;
  int batch = 1, layers = 0, width = 0, heads = 0, k_hop = 1, global_nodes = 0, steps = 10, warmup = 3;
  std::uint64_t seed = 0;
};

int parse_int(const std::string& flag, const std::string& v, int lo) {
  char* rest = nullptr;
  const long n = std::strtol(v.c_str(), &rest, 10);
  SURRO_REQUIRE(!v.empty() && *rest == '\0' && n >= lo && n < (1L << 30),
                flag << ": expected an integer >= " << lo << ", got '" << v << "'");
  return int(n);
}

MeshArgs parse_mesh_args(int argc, char** argv) {
  SURRO_REQUIRE(argc >= 4,
                "usage: bench_mesh_models mesh_transformer|meshgraphnet SIZE|nodes:N BATCH "
                "[--layers L] [--width W] [--heads H] [--k-hop K] [--global-nodes G] [--steps N] [--warmup N] "
                "[--seed S] [--matmul fp32|tf32] [--dump DIR] [--case NAME]");
  MeshArgs a;
  a.model = argv[1];
  a.size = argv[2];
  a.batch = parse_int("BATCH", argv[3], 1);
  SURRO_REQUIRE(a.model == "mesh_transformer" || a.model == "meshgraphnet",
                "MODEL: expected mesh_transformer or meshgraphnet, got '" << a.model << "'");
  std::map<std::string, std::string> kv;
  for (int i = 4; i < argc; ++i) {
    const std::string key = argv[i];
    SURRO_REQUIRE(key.rfind("--", 0) == 0 && i + 1 < argc,
                  "expected --flag VALUE pairs, got '" << key << "'");
    kv[key] = argv[++i];
  }
  auto take = [&](const std::string& k, int fallback, int lo) {
    auto it = kv.find(k);
    if (it == kv.end()) return fallback;
    const int v = parse_int(k, it->second, lo);
    kv.erase(it);
    return v;
  };
  a.layers = take("--layers", 0, 1);
  a.width = take("--width", 0, 1);
  a.heads = take("--heads", 0, 1);
  a.k_hop = take("--k-hop", 1, 1);
  a.global_nodes = take("--global-nodes", 0, 0);
  a.steps = take("--steps", 10, 1);
  a.warmup = take("--warmup", 3, 0);
  a.seed = std::uint64_t(take("--seed", 0, 0));
  for (auto [k, dst] : {std::pair{"--dump", &a.dump}, {"--matmul", &a.matmul}, {"--case", &a.name}}) {
    auto it = kv.find(k);
    if (it == kv.end()) continue;
    *dst = it->second;
    kv.erase(it);
  }
  SURRO_REQUIRE(kv.empty(), "unknown flag " << kv.begin()->first);
  SURRO_REQUIRE(a.model == "mesh_transformer" || (a.k_hop == 1 && a.heads == 0 && a.global_nodes == 0),
                "--k-hop, --global-nodes and --heads apply to mesh_transformer only");
  return a;
}

// The default channel with far-field size `size` and the default ratio of obstacle to far-field size.
surro::mesh::Mesh channel_mesh(double size) {
  surro::mesh::ChannelGeometry g;
  g.size_obstacle *= size / g.size;
  g.size = size;
  return surro::mesh::generate_channel(g);
}

// SIZE or nodes:N (see the header). `size_used` receives the far-field size meshed last.
surro::mesh::Mesh make_mesh(const std::string& spec, double& size_used) {
  const std::string prefix = "nodes:";
  if (spec.rfind(prefix, 0) != 0) {
    char* rest = nullptr;
    size_used = std::strtod(spec.c_str(), &rest);
    SURRO_REQUIRE(!spec.empty() && *rest == '\0' && size_used > 0,
                  "SIZE: expected a positive Gmsh element size or nodes:N, got '" << spec << "'");
    return channel_mesh(size_used);
  }
  const double target = parse_int("SIZE nodes:N", spec.substr(prefix.size()), 100);
  const surro::mesh::ChannelGeometry defaults;
  // Start from V ~ 1 / size^2 through the default mesh (1,873 nodes at size 0.0275).
  size_used = defaults.size * std::sqrt(1873.0 / target);
  surro::mesh::Mesh m;
  for (int round = 0; round < 4; ++round) {
    m = channel_mesh(size_used);
    const double V = double(m.num_points());
    if (std::fabs(V - target) <= 0.03 * target) break;
    size_used *= std::sqrt(V / target);
  }
  return m;
}

template <class T>
void dump_host(const std::string& path, const std::vector<T>& v) {
  surro::io::write_text_atomic(path,
                               std::string(reinterpret_cast<const char*>(v.data()), sizeof(T) * v.size()));
}

// One model's buffers and calls, shared by both models (their forward/backward signatures agree).
struct Case {
  const MeshArgs& args;
  const surro::op::HostGraphBatch& host;
  const surro::op::GraphBatch<surro::ExecSpace>& batch;
  const surro::op::ParamTable& table;
  int cin, cout;
};

// File list of the dump: name -> {dtype, shape}; `outputs` adds the files of one forward/backward.
json dump_files(const Case& c, bool outputs) {
  const index_t V = c.host.nodes(), E = c.host.edges(), nnz = c.host.nnz(), P = index_t(c.table.size());
  auto f = [](const char* dtype, std::vector<index_t> shape) {
    return json{{"dtype", dtype}, {"shape", shape}};
  };
  json files{{"params.bin", f("float32", {P})},
             {"x.bin", f("float32", {V, c.cin})},
             {"target.bin", f("float32", {V, c.cout})},
             {"node_type.bin", f("int32", {V})},
             {"positions.bin", f("float64", {V, c.host.dim})},
             {"senders.bin", f("int32", {E})},
             {"receivers.bin", f("int32", {E})},
             {"mask_offsets.bin", f("int64", {V + 1})},
             {"mask_indices.bin", f("int32", {nnz})}};
  if (outputs) {
    files["y.bin"] = f("float32", {V, c.cout});
    files["dy.bin"] = f("float32", {V, c.cout});
    files["grads.bin"] = f("float32", {P});
  }
  return files;
}

// meta.json (rewritten once the outputs exist: a dump whose model did not fit has inputs only).
void write_meta(const Case& c, const json& line, bool outputs, double loss) {
  json meta = line;
  meta.erase("impl");
  meta["node_offsets"] = c.host.node_offsets;
  meta["params_size"] = c.table.size();
  meta["slots"] = table_json(c.table);
  if (outputs) meta["loss"] = loss;
  meta["files"] = dump_files(c, outputs);
  meta["adam"] = {{"lr", 1e-3}, {"betas", {0.9, 0.999}}, {"eps", 1e-8}, {"weight_decay", 0.0}};
  meta["layout"] = "float32 unless named; native byte order; row-major; x (V, Cin) channel-last";
  surro::io::write_text_atomic(c.args.dump + "/meta.json", meta.dump(1) + "\n");
}

// The inputs: mesh, mask, parameters, x, target (before the model is planned).
void write_dump_inputs(const Case& c, const json& line, const float* p, const float* x, const float* target) {
  const std::string& dir = c.args.dump;
  std::filesystem::create_directories(dir);
  const index_t V = c.host.nodes();
  dump_floats(dir + "/params.bin", p, index_t(c.table.size()));
  dump_floats(dir + "/x.bin", x, V * c.cin);
  dump_floats(dir + "/target.bin", target, V * c.cout);
  dump_host(dir + "/node_type.bin", c.host.node_type);
  dump_host(dir + "/positions.bin", c.host.positions);
  dump_host(dir + "/senders.bin", c.host.senders);
  dump_host(dir + "/receivers.bin", c.host.receivers);
  dump_host(dir + "/mask_offsets.bin", c.host.mask.offsets);
  dump_host(dir + "/mask_indices.bin", c.host.mask.indices);
  write_meta(c, line, false, 0.0);
}

// Plans the model (make()), then times inference and a training step; fills `line`. The dump's inputs
// are written before planning, so a model that does not fit still leaves them for the peer.
template <class Make, class Init>
void run_case(const Case& c, Make&& make, Init&& init, double used0, json& line) {
  using namespace surro;
  using namespace surro::op;
  const ExecSpace exec;
  const index_t V = c.host.nodes(), nout = V * c.cout;
  FlatParams<float> params(c.table, "surro::bench::params");
  float* p = params.values().data();
  init(exec, p);
  View1<float> x("surro::bench::x", V * c.cin);                                     // (V, Cin)
  View1<float> target("surro::bench::target", nout), dy("surro::bench::dy", nout);  // (V, Cout)
  View1<float> y("surro::bench::y", nout);                                          // (V, Cout)
  fill_uniform(exec, x.data(), V * c.cin, c.args.seed, 1);
  fill_uniform(exec, target.data(), nout, c.args.seed, 2);
  exec.fence();
  if (!c.args.dump.empty()) write_dump_inputs(c, line, p, x.data(), target.data());

  auto model = make();
  FlatParams<float> grads(c.table, "surro::bench::grads");
  float* g = grads.values().data();
  const AdamConfig adam_cfg;  // torch.optim.Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8
  Adam<ExecSpace> adam(c.table, adam_cfg);
  double loss = 0.0;
  auto forward = [&] { model->forward(exec, p, c.batch, x.data(), y.data()); };
  auto forward_backward = [&] {
    forward();
    loss = mse_loss(exec, index_t(1), nout, y.data(), target.data(), dy.data());
    Kokkos::deep_copy(exec, grads.values(), 0.0f);
    model->backward(exec, p, c.batch, dy.data(), g, nullptr);
  };
  auto train = [&] {
    forward_backward();
    adam.step(exec, params, grads, adam_cfg.lr);
  };
  if (!c.args.dump.empty()) {
    forward_backward();
    exec.fence();
    dump_floats(c.args.dump + "/y.bin", y.data(), nout);
    dump_floats(c.args.dump + "/dy.bin", dy.data(), nout);
    dump_floats(c.args.dump + "/grads.bin", g, index_t(c.table.size()));
    write_meta(c, line, true, loss);
  }
  auto time_mean = [&](auto&& call) {
    for (int i = 0; i < c.args.warmup; ++i) call();
    exec.fence();
    Kokkos::Timer t;
    for (int i = 0; i < c.args.steps; ++i) call();
    exec.fence();
    return t.seconds() * 1e3 / c.args.steps;
  };
  line["infer_ms"] = time_mean(forward);
  line["train_ms"] = time_mean(train);
  const double used1 = device_used_bytes();
  line["loss"] = loss;
  const double planned = double(model->planned_scalars()) * 4.0 + 4.0 * 4.0 * double(c.table.size());
  line["planned_bytes"] = planned;
  line["planned_mib"] = planned / (1 << 20);
  line["planned_bytes_per_node"] = planned / double(V);
  line["resident_mib"] = used0 >= 0 ? json((used1 - used0) / (1 << 20)) : json(nullptr);
  line["resident_bytes_per_node"] = used0 >= 0 ? json((used1 - used0) / double(V)) : json(nullptr);
  profile_calls(c.args.steps, train);  // SURRO_PROFILE=1: the training step's kernels on stderr
}

// Registers, plans and times the model MODEL names (args.model); fills `line`.
void run_model(const MeshArgs& a, const Case& c, surro::op::ParamTable& table, const surro::ExecSpace& exec,
               double used0, const surro::gemm::Options& gemm_opts, json& line) {
  using namespace surro;
  using namespace surro::op;
  const HostGraphBatch& host = c.host;
  if (a.model == "mesh_transformer") {
    MeshTransformerCfg cfg;
    if (a.width) cfg.dim = a.width;
    if (a.layers) cfg.layers = a.layers;
    if (a.heads) cfg.heads = a.heads;
    cfg.gemm = gemm_opts;
    mesh_transformer_register(table, cfg);
    line["width"] = cfg.dim;
    line["layers"] = cfg.layers;
    line["heads"] = cfg.heads;
    line["gated_mult"] = cfg.gated_mult;
    line["head_layout"] = "interleaved";
    line["params"] = table.parameter_count();
    run_case(
        c,
        [&] {
          return std::make_unique<MeshTransformer<ExecSpace, float>>(exec, cfg, table, host.capacity());
        },
        [&](const ExecSpace& e, float* p) { mesh_transformer_init(e, cfg, table, p, a.seed); }, used0, line);
  } else {
    MeshGraphNetCfg cfg;
    if (a.width) cfg.hidden = a.width;
    if (a.layers) cfg.blocks = a.layers;
    cfg.dims = host.dim;
    cfg.gemm = gemm_opts;
    meshgraphnet_register(table, cfg);
    line["width"] = cfg.hidden;
    line["layers"] = cfg.blocks;
    line["hidden_layers"] = cfg.hidden_layers;
    line["params"] = table.parameter_count();
    run_case(
        c,
        [&] { return std::make_unique<MeshGraphNet<ExecSpace, float>>(exec, cfg, table, host.capacity()); },
        [&](const ExecSpace& e, float* p) { meshgraphnet_init(e, cfg, table, p, a.seed); }, used0, line);
  }
}

int run(int argc, char** argv) {
  using namespace surro;
  using namespace surro::op;
  const MeshArgs a = parse_mesh_args(argc, argv);
  const ExecSpace exec;
  const double used0 = device_used_bytes();

  Kokkos::Timer mesh_timer;
  double size = 0;
  const mesh::Mesh mesh = make_mesh(a.size, size);
  MaskSpec mask = MaskSpec::hops(a.k_hop);
  mask.global_nodes = a.global_nodes;
  const HostGraphBatch host = build_host_graph_batch(std::vector<mesh::Mesh>(a.batch, mesh), mask);
  const double mesh_s = mesh_timer.seconds();
  GraphBatch<ExecSpace> batch(host.capacity(), host.dim);
  batch.upload(exec, host);

  json line;
  line["impl"] = "surro";
  line["model"] = a.model;
  if (!a.name.empty()) line["case"] = a.name;
  line["mesh_size"] = size;
  line["nodes_per_mesh"] = mesh.num_points();
  line["batch"] = a.batch;
  line["nodes"] = host.nodes();
  line["edges"] = host.edges();
  line["nnz"] = host.nnz();
  line["k_hop"] = a.k_hop;
  line["global_nodes"] = a.global_nodes;
  line["mesh_seconds"] = mesh_s;
  line["steps"] = a.steps;
  line["warmup"] = a.warmup;
  const gemm::Options gemm_opts = matmul_flag(a.matmul);
  line["matmul"] = gemm_opts.allow_tf32 ? "tf32" : "fp32";
  line["space"] = ExecSpace::name();
  line["device"] = backend_info()["device"].value("name", std::string("cpu"));
  line["git"] = kGitHash;

  ParamTable table;
  const Case c{a, host, batch, table, 2, 2};
  try {
    run_model(a, c, table, exec, used0, gemm_opts, line);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // e.g. a device allocation that does not fit: report the case
    line["status"] = "error";
    line["error"] = e.what();
    std::printf("%s\n", line.dump().c_str());
    std::fprintf(stderr, "bench_mesh_models: %s\n", e.what());
    return 3;
  }
  line["status"] = "ok";
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  try {
    return bench::run(argc, argv);
  } catch (const surro::Error& e) {
    std::fprintf(stderr, "bench_mesh_models: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // e.g. a device allocation that does not fit
    bench::json line{{"impl", "surro"}, {"status", "error"}, {"error", e.what()}};
    if (argc > 3) {
      line["model"] = argv[1];
      line["mesh"] = argv[2];
      line["batch"] = argv[3];
    }
    std::printf("%s\n", line.dump().c_str());
    std::fprintf(stderr, "bench_mesh_models: %s\n", e.what());
    return 3;
  }
}
