#include "operators/models/ifactformer.hpp"

#include "core/device_memory.hpp"
#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/axis_mean.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/field_lift.hpp"
#include "operators/layers/fourier_features.hpp"
#include "operators/layers/geglu.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/instance_norm.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/layer_norm.hpp"
#include "operators/layers/linear.hpp"
#include "operators/layers/param_init.hpp"
#include "operators/layers/rope.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace surro::op {

namespace iff_impl {

const char* const kAxis[3] = {"x", "y", "z"};

std::string name(const std::string& part) {
  return "ifactformer." + part;
}
std::string reducer(int a, const char* part) {
  return name(std::string("block.reducer_") + kAxis[a] + "." + part);
}
std::string kernel(int a, const char* part) {
  return name(std::string("block.kernel_") + kAxis[a] + "." + part);
}

// Elementwise steps of the model. Free functions: nvcc's extended lambdas cannot live in private
// member functions.

// out = in + scale * blk (out may alias in): one weight-shared iteration's residual update.
template <class Exec, class Real>
void residual(const Exec& exec, index_t n, const Real* in, const Real* blk, Real scale, Real* out) {
  Kokkos::parallel_for(
      "surro::ifactformer::residual", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { out[i] = in[i] + scale * blk[i]; });
}

// dst = scale * src.
template <class Exec, class Real>
void scale_copy(const Exec& exec, index_t n, const Real* src, Real scale, Real* dst) {
  Kokkos::parallel_for(
      "surro::ifactformer::scale", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { dst[i] = scale * src[i]; });
}

// dst += src.
template <class Exec, class Real>
void add_into(const Exec& exec, index_t n, const Real* src, Real* dst) {
  Kokkos::parallel_for(
      "surro::ifactformer::add_into", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { dst[i] += src[i]; });
}

// dst (B, n) += src (n) for every sample: the positional encoding added to u.
template <class Exec, class Real>
void add_broadcast(const Exec& exec, int batch, index_t n, const Real* src, Real* dst) {
  Kokkos::parallel_for(
      "surro::ifactformer::add_broadcast", Kokkos::RangePolicy<Exec>(exec, 0, index_t(batch) * n),
      KOKKOS_LAMBDA(const index_t i) { dst[i] += src[i % n]; });
}

// dst (n) = sum_b src (B, n): the positional encoding's gradient.
template <class Exec, class Real>
void batch_sum(const Exec& exec, int batch, index_t n, const Real* src, Real* dst) {
  Kokkos::parallel_for(
      "surro::ifactformer::batch_sum", Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const index_t i) {
        Real s = 0;
        for (int b = 0; b < batch; ++b) s += src[index_t(b) * n + i];
        dst[i] = s;
      });
}

}  // namespace iff_impl

double IFactFormerCfg::kernel_scale() const {
  return kernel_multiplier > 4 ? 1.0 / std::sqrt(double(kernel_dim())) : 1.0;
}

IFactFormerCfg read_ifactformer_section(config::Node& node, int in_channels, int out_channels) {
  IFactFormerCfg c;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  c.dim = int(node.get_int("dim", c.dim, config::positive()));
  if (c.dim % 2 != 0)
    node.fail("dim", "expected an even number (dim/2 Fourier features, a dim/2 output hidden layer), got " +
                         std::to_string(c.dim));
  c.heads = int(node.get_int("heads", c.heads, config::positive()));
  c.dim_head = int(node.get_int("dim_head", c.dim_head, config::positive()));
  c.kernel_multiplier = int(node.get_int("kernel_multiplier", c.kernel_multiplier, config::positive()));
  if (c.kernel_dim() % 2 != 0)
    node.fail("kernel_multiplier", "dim_head * kernel_multiplier = " + std::to_string(c.kernel_dim()) +
                                       ": expected an even number (the rotary embedding rotates pairs)");
  c.n_layer = int(node.get_int("n_layer", c.n_layer, config::positive()));
  c.lift_channels = int(node.get_int("lift_channels", c.lift_channels, config::positive()));
  c.fourier_scale =
      node.get_number("fourier_scale", c.fourier_scale,
                      config::Check<double>{[](const double& v) { return v >= 0; }, "a non-negative number"});
  c.lengths = node.get_number_array("lengths", {}, config::positive_number());
  const long long dims =
      node.get_int("dims", c.lengths.empty() ? 2 : (long long)c.lengths.size(), config::positive());
  if (dims != 2 && dims != 3) node.fail("dims", "expected 2 or 3 spatial axes, got " + std::to_string(dims));
  c.dims = int(dims);
  if (!c.lengths.empty() && int(c.lengths.size()) != c.dims)
    node.fail("lengths", "expected " + std::to_string(c.dims) + " entries (one per spatial axis), got " +
                             std::to_string(c.lengths.size()));
  const std::string variant = node.get_string("variant", "parallel", config::one_of({"parallel", "chained"}));
  c.variant = variant == "chained" ? FactorizedVariant::chained : FactorizedVariant::parallel;
  c.gemm = read_gemm_options(node);
  c.keep_u = parse_keep_u(node.get_string("keep_u", "auto", config::one_of({"auto", "always", "never"})),
                          "model.keep_u");
  node.finish();
  return c;
}

const char* keep_u_name(IFactFormerCfg::KeepU k) {
  return k == IFactFormerCfg::KeepU::always ? "always" : k == IFactFormerCfg::KeepU::never ? "never" : "auto";
}

IFactFormerCfg::KeepU parse_keep_u(const std::string& name, const std::string& what) {
  for (auto k :
       {IFactFormerCfg::KeepU::automatic, IFactFormerCfg::KeepU::always, IFactFormerCfg::KeepU::never})
    if (name == keep_u_name(k)) return k;
  SURRO_THROW(ErrorKind::usage, what << ": expected auto, always or never, got '" << name << "'");
}

void ifactformer_validate(const IFactFormerCfg& c, const std::vector<int>& grid) {
  auto fail = [](const std::string& msg) { SURRO_THROW(ErrorKind::usage, "ifactformer: " << msg); };
  if (c.dims != 2 && c.dims != 3) fail("model.dims = " + std::to_string(c.dims) + ": expected 2 or 3");
  if (int(grid.size()) != c.dims)
    fail("the data grid has " + std::to_string(grid.size()) +
         " axes but model.dims = " + std::to_string(c.dims) + " (set model.dims or model.lengths)");
  for (std::size_t a = 0; a < grid.size(); ++a)
    if (grid[a] <= 0)
      fail("grid N" + std::string(iff_impl::kAxis[a]) + " = " + std::to_string(grid[a]) +
           ": expected positive");
  if (c.in_channels <= 0 || c.out_channels <= 0 || c.in_channels % c.out_channels != 0)
    fail("in_channels " + std::to_string(c.in_channels) + ", out_channels " + std::to_string(c.out_channels) +
         ": expected in_channels = T_in * out_channels (a window of T_in frames of the predicted fields)");
  if (c.dim <= 0 || c.dim % 2 != 0)
    fail("model.dim = " + std::to_string(c.dim) + ": expected a positive even number");
  if (c.heads <= 0 || c.dim_head <= 0 || c.kernel_multiplier <= 0 || c.n_layer <= 0 || c.lift_channels <= 0)
    fail("model.heads, dim_head, kernel_multiplier, n_layer and lift_channels must all be positive");
  if (c.kernel_dim() % 2 != 0)
    fail("model.dim_head * kernel_multiplier = " + std::to_string(c.kernel_dim()) +
         ": expected an even number");
  if (!c.lengths.empty() && int(c.lengths.size()) != c.dims)
    fail("model.lengths has " + std::to_string(c.lengths.size()) + " entries: expected " +
         std::to_string(c.dims));
  for (double l : c.lengths)
    if (!(l > 0)) fail("model.lengths: expected positive lengths");
}

void ifactformer_register(ParamTable& table, const IFactFormerCfg& c) {
  using namespace iff_impl;
  const int D = c.dim, C = c.out_channels, T = c.frames();
  SURRO_REQUIRE(c.out_channels > 0 && c.in_channels % c.out_channels == 0,
                "ifactformer: in_channels " << c.in_channels << " is not a multiple of out_channels "
                                            << c.out_channels);
  field_lift_register(table, name("lift.field"), {C, T, c.lift_channels});
  linear_register(table, name("lift.linear"), {C * c.lift_channels * T, D, false});
  linear_register(table, name("pos.linear"), {D, D, true});
  layer_norm_register(table, name("block.norm"), {D});
  linear_register(table, name("block.to_v"), {D, c.heads * c.dim_head, false});
  linear_register(table, name("block.to_in"), {D, D, false});
  for (int a = 0; a < c.dims; ++a) {
    linear_register(table, reducer(a, "to_in"), {D, D, false});
    layer_norm_register(table, reducer(a, "norm"), {D});
    linear_register(table, reducer(a, "mlp1"), {D, 2 * D, true});
    linear_register(table, reducer(a, "mlp2"), {D, D, true});
  }
  for (int a = 0; a < c.dims; ++a) {
    linear_register(table, kernel(a, "to_q"), {D, c.heads * c.kernel_dim(), false});
    linear_register(table, kernel(a, "to_k"), {D, c.heads * c.kernel_dim(), false});
  }
  linear_register(table, name("block.to_out1"), {c.u_groups() * c.dim_head, D, false});
  linear_register(table, name("block.to_out2"), {D, D, false});
  linear_register(table, name("head.linear1"), {D, D / 2, false});
  linear_register(table, name("head.linear2"), {D / 2, C, true});
  fourier_features_register(table, name("pos.fourier"), {c.dims, D / 2, c.fourier_scale});  // frozen: last
}

template <class Exec, class Real>
void ifactformer_init(const Exec& exec, const IFactFormerCfg& c, const ParamTable& table, Real* params,
                      std::uint64_t seed) {
  using namespace iff_impl;
  const int D = c.dim;
  // Stream of a tensor: its slot index (a bias is registered right after its weight: stream + 1).
  auto stream = [&](const std::string& n) -> std::uint64_t {
    const auto& slots = table.slots();
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (slots[i].name == n) return i;
    SURRO_THROW(ErrorKind::runtime, "ifactformer_init: no parameter '" << n << "' in the table");
  };
  auto at = [&](const std::string& n) { return params + table.slot(n).offset; };
  auto linear = [&](const std::string& n, LinearCfg lc) {
    linear_init(exec, lc, at(n + ".weight"), lc.bias ? at(n + ".bias") : nullptr, seed,
                stream(n + ".weight"));
  };
  auto norm = [&](const std::string& n) {
    layer_norm_init(exec, LayerNormCfg{D}, at(n + ".weight"), at(n + ".bias"));
  };
  const FieldLiftCfg lift{c.out_channels, c.frames(), c.lift_channels};
  field_lift_init(exec, lift, at(name("lift.field.weight")), at(name("lift.field.bias")), seed,
                  stream(name("lift.field.weight")));
  linear(name("lift.linear"), {lift.out_channels(), D, false});
  linear(name("pos.linear"), {D, D, true});
  norm(name("block.norm"));
  linear(name("block.to_v"), {D, c.heads * c.dim_head, false});
  linear(name("block.to_in"), {D, D, false});
  // Xavier-uniform with gain 0.02 (LowRankKernel.init_gain): fan_in D, fan_out H Dk.
  const double qk_bound = 0.02 * std::sqrt(6.0 / double(D + c.heads * c.kernel_dim()));
  for (int a = 0; a < c.dims; ++a) {
    linear(reducer(a, "to_in"), {D, D, false});
    norm(reducer(a, "norm"));
    linear(reducer(a, "mlp1"), {D, 2 * D, true});
    linear(reducer(a, "mlp2"), {D, D, true});
    for (const char* qk : {"to_q.weight", "to_k.weight"})
      init_uniform(exec, index_t(c.heads) * c.kernel_dim() * D, qk_bound, seed, stream(kernel(a, qk)),
                   at(kernel(a, qk)));
  }
  linear(name("block.to_out1"), {c.u_groups() * c.dim_head, D, false});
  linear(name("block.to_out2"), {D, D, false});
  linear(name("head.linear1"), {D, D / 2, false});
  linear(name("head.linear2"), {D / 2, c.out_channels, true});
  fourier_features_init(exec, FourierFeaturesCfg{c.dims, D / 2, c.fourier_scale}, at(name("pos.fourier.B")),
                        seed, stream(name("pos.fourier.B")));
}

// ------------------------------------------------------------------------------------------------ State

template <class Exec, class Real>
struct IFactFormer<Exec, Real>::State {
  using mem = typename Exec::memory_space;
  using Buf = View1<Real, mem>;

  // Per-iteration tensors of the reducers and kernels, every axis packed into one buffer: rows
  // (B N_0 | B N_1 | ..) for the D-wide ones, (B, H, N_a, Dk) blocks for q and k, (B, H, N_a, N_a) for K.
  struct Small {
    // (sum_a B N_a, D) each: the axis means of ubar, to_in, the reducer's to_in, norm, GeGLU and mlp2.
    Buf mean, t, s, sn, gg, r;
    Buf lnm, lnr;  // (sum_a B N_a): the reducer norms' statistics
    Buf hid;       // (sum_a B N_a, 2D): mlp1
    Buf q, k;      // (sum_a B H N_a Dk): after the rotary embedding
    Buf K;         // (sum_a B H N_a^2)
  };

  // Sizes.
  int B, d, D, H, Dh, Dk, L, K;  // K = C G T lift channels
  index_t N;
  int n[3] = {1, 1, 1};
  index_t row_off[3] = {0, 0, 0}, rows = 0;  // packed row offsets (times B) and their total, sum_a N_a
  index_t kk_off[3] = {0, 0, 0}, kk = 0;     // offsets of K_a in the packed K

  // Parameter offsets.
  struct Slots {
    std::size_t lift_w, lift_b, lift_lin, pos_w, pos_b, pos_B, ln_w, ln_b, to_v, to_in, out1, out2, head1,
        head2_w, head2_b;
    std::size_t red_in[3], rln_w[3], rln_b[3], mlp1_w[3], mlp1_b[3], mlp2_w[3], mlp2_b[3], q[3], k[3];
  } p;

  // Layers. One GEMM handle shared by every linear layer.
  gemm::Gemm<Exec> gemm;
  FieldLiftCfg lift_cfg;
  LayerNormCfg ln;
  FourierFeaturesCfg ff;
  RopeCfg rope;
  InstanceNormWorkspace<Exec> inorm;
  AxisMeanCfg am;
  LinearWorkspace<Exec> lift_lin, pos_lin, to_v, to_in, to_out1, to_out2, head1, head2;
  std::vector<LinearWorkspace<Exec>> red_in, mlp1, mlp2, to_q, to_k;  // per axis
  FactorizedWorkspace<Exec, Real> fac;

  // Constant inputs: grid coordinates (N, d) for the Fourier features; per axis the coordinates
  // (double) and the rotary table (N_a, Dk/2, 2).
  Buf coords;
  View1<double, mem> axis_coords[3];
  Buf rope_table[3];

  // Activations.
  Buf x_saved;             // (B, T C, N): the input, for field_lift's weight gradient (training)
  Buf lift_a, lift_g;      // (B, K, N) before / after GELU (inference: lift_g only)
  Buf ff_out, pe;          // (N, D)
  std::vector<Buf> u;      // (B, N, D): L + 1 (training) or 1 (updated in place)
  std::vector<Buf> v, z1;  // (B, H, N, Dh), (B, N, D): L (training) or 1
  std::vector<Small> sm;   // L (training) or 1
  Buf ubar, lnm, lnr;      // (B, N, D), (B N), (B N): LayerNorm(u), recomputed in backward
  // u_size, (B, G, N, Dh) head-major: the factorized product's output before its instance norm,
  // which writes U channel-last (B, N, G Dh) for to_out1's one GEMM. One buffer: forward's value
  // is not kept; backward writes the norm's input gradient into it. A view of h1 where it fits.
  Buf U_pre;
  // u_size, inter_size, (B G Dh): the attention output U after its instance norm, (B, N, G Dh), the
  // chained intermediates and the norm's rstd; L of each where training keeps them (keep_u), else 1
  // (recomputed in backward).
  bool keep_u = false;
  std::vector<Buf> U, inter, in_rstd;
  int u_slot(int iteration) const { return keep_u ? iteration : 0; }
  Buf h1, blk;  // (B, N, D): GELU(z), block output
  Buf hh, ha;   // (B, N, D/2): head hidden before / after GELU
  // Gradients (training only).
  Buf du, dtmp, d1, dubar, dv, dU, dpe, dr2, dha, dlift;
  // Backward scratch, used by one call at a time: linear_backward's for the layers with B > 1
  // samples in a head-major or channel-first layout (their per-sample weight gradients in one call),
  // and the block LayerNorm's block-parallel parameter sums over its B N rows (a team per channel
  // ran at 2% of the copy bandwidth, bench/RESULTS.md 2026-12-07). The largest of them.
  Buf bwd_scratch;
  Small dsm;

  std::size_t planned = 0;

  Buf buf(const Exec& exec, const char* label, index_t size) {
    planned += std::size_t(size);
    return make_scratch<Buf>(exec, std::string("surro::ifactformer::") + label, size);
  }
  Small small(const Exec& exec, bool with_stats) {
    Small s;
    const index_t R = index_t(B) * rows;
    s.mean = buf(exec, "axis_mean", R * D);
    s.t = buf(exec, "to_in", R * D);
    s.s = buf(exec, "reducer_in", R * D);
    s.sn = buf(exec, "reducer_norm", R * D);
    s.gg = buf(exec, "reducer_geglu", R * D);
    s.r = buf(exec, "reducer_out", R * D);
    if (with_stats) {
      s.lnm = buf(exec, "reducer_norm_mean", R);
      s.lnr = buf(exec, "reducer_norm_rstd", R);
    }
    s.hid = buf(exec, "reducer_hidden", R * 2 * D);
    s.q = buf(exec, "q", R * H * Dk);
    s.k = buf(exec, "k", R * H * Dk);
    s.K = buf(exec, "kernel", index_t(B) * H * kk);
    return s;
  }

  static FactorizedCfg fac_cfg(const IFactFormerCfg& c, int batch, const std::vector<int>& grid) {
    FactorizedCfg f;
    f.grid = grid;
    f.blocks = batch * c.heads;
    f.channels = c.dim_head;
    f.kernel_dim = c.kernel_dim();
    f.scale = c.kernel_scale();
    f.variant = c.variant;
    return f;
  }
  static index_t points(const std::vector<int>& g) {
    index_t r = 1;
    for (int e : g) r *= e;
    return r;
  }
  // The instance norm over the B G slabs of U's N points and Dh channels, writing U channel-last.
  static InstanceNormCfg u_norm_cfg(const IFactFormerCfg& c, int batch, index_t points) {
    InstanceNormCfg r{index_t(batch) * c.u_groups(), points, c.dim_head};
    r.y_groups = c.u_groups();
    return r;
  }

  State(const Exec& exec, const IFactFormerCfg& c, const ParamTable& table, int batch,
        const std::vector<int>& grid, bool training)
      : B(batch),
        d(c.dims),
        D(c.dim),
        H(c.heads),
        Dh(c.dim_head),
        Dk(c.kernel_dim()),
        L(c.n_layer),
        K(c.out_channels * c.lift_channels * c.frames()),
        N(points(grid)),
        gemm(exec, c.gemm),
        lift_cfg{c.out_channels, c.frames(), c.lift_channels},
        ln{c.dim},
        ff{c.dims, c.dim / 2, c.fourier_scale},
        rope{c.kernel_dim()},
        inorm(exec, u_norm_cfg(c, batch, points(grid))),
        am{grid, c.dim},
        lift_lin(gemm, {K, c.dim, false}, {batch, points(grid), K, 1}),
        pos_lin(gemm, {c.dim, c.dim, true}, {1, points(grid), 1, 1}),
        to_v(gemm, {c.dim, c.heads * c.dim_head, false}, {batch, points(grid), 1, c.heads}),
        to_in(gemm, {c.dim, c.dim, false}, {1, index_t(batch) * am.packed_rows(), 1, 1}),
        to_out1(gemm, {c.u_groups() * c.dim_head, c.dim, false}, {1, index_t(batch) * points(grid), 1, 1}),
        to_out2(gemm, {c.dim, c.dim, false}, {1, index_t(batch) * points(grid), 1, 1}),
        head1(gemm, {c.dim, c.dim / 2, false}, {1, index_t(batch) * points(grid), 1, 1}),
        head2(gemm, {c.dim / 2, c.out_channels, true}, {batch, points(grid), 1, c.out_channels}),
        fac(exec, fac_cfg(c, batch, grid)) {
    using namespace iff_impl;
    for (int a = 0; a < d; ++a) {
      n[a] = grid[a];
      row_off[a] = rows;
      rows += n[a];
      kk_off[a] = kk;
      kk += index_t(n[a]) * n[a];
      const index_t ra = index_t(B) * n[a];
      red_in.emplace_back(gemm, LinearCfg{D, D, false}, LinearShape{1, ra, 1, 1});
      mlp1.emplace_back(gemm, LinearCfg{D, 2 * D, true}, LinearShape{1, ra, 1, 1});
      mlp2.emplace_back(gemm, LinearCfg{D, D, true}, LinearShape{1, ra, 1, 1});
      to_q.emplace_back(gemm, LinearCfg{D, H * Dk, false}, LinearShape{B, n[a], 1, H});
      to_k.emplace_back(gemm, LinearCfg{D, H * Dk, false}, LinearShape{B, n[a], 1, H});
    }

    // Slots.
    auto off = [&](const std::string& nm) { return table.slot(nm).offset; };
    p.lift_w = off(name("lift.field.weight"));
    p.lift_b = off(name("lift.field.bias"));
    p.lift_lin = off(name("lift.linear.weight"));
    p.pos_w = off(name("pos.linear.weight"));
    p.pos_b = off(name("pos.linear.bias"));
    p.pos_B = off(name("pos.fourier.B"));
    p.ln_w = off(name("block.norm.weight"));
    p.ln_b = off(name("block.norm.bias"));
    p.to_v = off(name("block.to_v.weight"));
    p.to_in = off(name("block.to_in.weight"));
    p.out1 = off(name("block.to_out1.weight"));
    p.out2 = off(name("block.to_out2.weight"));
    p.head1 = off(name("head.linear1.weight"));
    p.head2_w = off(name("head.linear2.weight"));
    p.head2_b = off(name("head.linear2.bias"));
    for (int a = 0; a < d; ++a) {
      p.red_in[a] = off(reducer(a, "to_in.weight"));
      p.rln_w[a] = off(reducer(a, "norm.weight"));
      p.rln_b[a] = off(reducer(a, "norm.bias"));
      p.mlp1_w[a] = off(reducer(a, "mlp1.weight"));
      p.mlp1_b[a] = off(reducer(a, "mlp1.bias"));
      p.mlp2_w[a] = off(reducer(a, "mlp2.weight"));
      p.mlp2_b[a] = off(reducer(a, "mlp2.bias"));
      p.q[a] = off(kernel(a, "to_q.weight"));
      p.k[a] = off(kernel(a, "to_k.weight"));
    }

    // Coordinates: linspace(0, L_a, N_a) per axis (the reference's get_pos_lst), and their grid.
    {
      std::vector<std::vector<double>> lin(d);
      for (int a = 0; a < d; ++a)
        for (int i = 0; i < n[a]; ++i) lin[a].push_back(n[a] > 1 ? c.length(a) * i / double(n[a] - 1) : 0.0);
      coords = buf(exec, "coords", N * d);
      auto hc = Kokkos::create_mirror_view(coords);
      for (index_t q = 0; q < N; ++q) {
        const index_t idx[3] = {q / (n[1] * n[2]), (q / n[2]) % n[1], q % n[2]};
        for (int a = 0; a < d; ++a) hc(q * d + a) = Real(lin[a][idx[a]]);
      }
      Kokkos::deep_copy(exec, coords, hc);
      for (int a = 0; a < d; ++a) {
        axis_coords[a] = View1<double, mem>("surro::ifactformer::axis_coords", n[a]);
        auto ha = Kokkos::create_mirror_view(axis_coords[a]);
        for (int i = 0; i < n[a]; ++i) ha(i) = lin[a][i];
        Kokkos::deep_copy(exec, axis_coords[a], ha);
        rope_table[a] = buf(exec, "rope_table", index_t(n[a]) * Dk);
        rope_table_fill(exec, a);
      }
      exec.fence();  // the host mirrors go out of scope
    }

    // Activations.
    const index_t BND = index_t(B) * N * D, BKN = index_t(B) * K * N;
    if (training) {
      x_saved = buf(exec, "input", index_t(B) * c.in_channels * N);
      lift_a = buf(exec, "lift_pre", BKN);
    }
    lift_g = buf(exec, "lift", BKN);
    ff_out = buf(exec, "fourier_features", N * D);
    pe = buf(exec, "pos_encoding", N * D);
    const int iters = training ? L : 1;
    for (int i = 0; i < (training ? L + 1 : 1); ++i) u.push_back(buf(exec, "u", BND));
    for (int i = 0; i < iters; ++i) {
      v.push_back(buf(exec, "v", index_t(B) * H * N * Dh));
      z1.push_back(buf(exec, "out_hidden", BND));
      sm.push_back(small(exec, true));
    }
    ubar = buf(exec, "ubar", BND);
    lnm = buf(exec, "norm_mean", index_t(B) * N);
    lnr = buf(exec, "norm_rstd", index_t(B) * N);
    // keep_u's auto rule reads the GPU's free memory, now, before the buffers it decides on.
    const long long kept = L * (fac.cfg.u_size() + fac.cfg.inter_size());
    keep_u = training &&
             c.keeps_u(kept, is_device_exec_v<Exec> ? (long long)(gpu_free_bytes() / sizeof(Real)) : 0);
    h1 = buf(exec, "out_hidden_act", BND);
    // U_pre lives in h1 where it fits (the chained variant: u_size = B N D): h1 is written after the
    // instance norm has read U_pre in forward and in backward's recompute, and is dead once to_out2's
    // backward has read it, before the norm's backward writes U_pre.
    U_pre = fac.cfg.u_size() <= BND ? Buf(h1.data(), fac.cfg.u_size())
                                    : buf(exec, "U_pre_norm", fac.cfg.u_size());
    for (int i = 0; i < (keep_u ? L : 1); ++i) {
      U.push_back(buf(exec, "U", fac.cfg.u_size()));
      inter.push_back(fac.cfg.inter_size() > 0 ? buf(exec, "chain", fac.cfg.inter_size()) : Buf());
      in_rstd.push_back(buf(exec, "instance_norm_rstd", inorm.cfg.slabs * inorm.cfg.channels));
    }
    blk = buf(exec, "block", BND);
    hh = buf(exec, "head_hidden", BND / 2);
    ha = buf(exec, "head_hidden_act", BND / 2);
    planned += fac.partial.extent(0) + fac.group.extent(0) + fac.chain.extent(0) + inorm.partial.extent(0) +
               inorm.stats.extent(0);
    if (!training) return;
    du = buf(exec, "d_u", BND);
    dtmp = buf(exec, "d_tmp", BND);
    d1 = buf(exec, "d_hidden", BND);
    dubar = buf(exec, "d_ubar", BND);
    dv = buf(exec, "d_v", index_t(B) * H * N * Dh);
    dU = buf(exec, "d_U", fac.cfg.u_size());
    dpe = buf(exec, "d_pos_encoding", N * D);
    dsm = small(exec, false);
    dr2 = buf(exec, "d_reducer_out_k", index_t(B) * rows * D);
    dha = buf(exec, "d_head_hidden", BND / 2);
    dlift = buf(exec, "d_lift", BKN);
    std::size_t need = std::max({linear_backward_scratch(to_out1), linear_backward_scratch(to_v),
                                 linear_backward_scratch(head2), linear_backward_scratch(lift_lin)});
    for (int a = 0; a < d; ++a)
      need = std::max({need, linear_backward_scratch(to_q[a]), linear_backward_scratch(to_k[a])});
    need = std::max(need, column_sum_scratch(index_t(B) * N, D));
    bwd_scratch = buf(exec, "backward_scratch", index_t(need));
  }

  void rope_table_fill(const Exec& exec, int a) {
    op::rope_table(exec, rope, n[a], axis_coords[a].data(), rope_table[a].data());
  }

  // Packed offsets of axis a: D-wide rows, and the q/k and K blocks.
  index_t rows_of(int a) const { return index_t(B) * n[a]; }
  index_t row0(int a) const { return index_t(B) * row_off[a]; }
  index_t qk0(int a) const { return row0(a) * H * Dk; }
  index_t kk0(int a) const { return index_t(B) * H * kk_off[a]; }
};

// ------------------------------------------------------------------------------------------------ model

template <class Exec, class Real>
IFactFormer<Exec, Real>::IFactFormer(const Exec& exec, const IFactFormerCfg& cfg, const ParamTable& table,
                                     int batch, std::vector<int> grid, bool training)
    : GridModel<Exec, Real>(batch),
      m_cfg(cfg),
      m_batch(batch),
      m_grid(std::move(grid)),
      m_training(training) {
  ifactformer_validate(cfg, m_grid);
  SURRO_REQUIRE(batch > 0, "ifactformer: batch = " << batch << ": expected > 0");
  m_state = std::make_unique<State>(exec, cfg, table, batch, m_grid, training);
}

template <class Exec, class Real>
IFactFormer<Exec, Real>::~IFactFormer() = default;

template <class Exec, class Real>
std::size_t IFactFormer<Exec, Real>::planned_scalars() const {
  return m_state->planned;
}

template <class Exec, class Real>
bool IFactFormer<Exec, Real>::keeps_u() const {
  return m_state->keep_u;
}

namespace iff_impl {

// One block's forward for iteration state (S, v, z1) and U slot `slot` (State::keep_u); u_out may
// alias u_in (inference).
template <class Exec, class Real, class State, class Small>
void block_forward(const Exec& exec, State& s, const Real* P, const Real* u_in, Real* v, Small& S, Real* z1,
                   int slot, Real* u_out) {
  Real *U = s.U[slot].data(), *rstd = s.in_rstd[slot].data();
  const index_t BN = index_t(s.B) * s.N, BND = BN * s.D;
  layer_norm_forward(exec, s.ln, BN, P + s.p.ln_w, P + s.p.ln_b, u_in, s.ubar.data(), s.lnm.data(),
                     s.lnr.data());
  linear_forward(exec, s.to_v, P + s.p.to_v, (const Real*)nullptr, s.ubar.data(), v);
  axis_mean_forward(exec, s.am, s.B, s.ubar.data(), S.mean.data());
  linear_forward(exec, s.to_in, P + s.p.to_in, (const Real*)nullptr, S.mean.data(), S.t.data());
  AxisPtrs<const Real> K{};
  for (int a = 0; a < s.d; ++a) {
    const index_t o = s.row0(a) * s.D, ra = s.rows_of(a), q0 = s.qk0(a);
    linear_forward(exec, s.red_in[a], P + s.p.red_in[a], (const Real*)nullptr, S.t.data() + o,
                   S.s.data() + o);
    layer_norm_forward(exec, s.ln, ra, P + s.p.rln_w[a], P + s.p.rln_b[a], S.s.data() + o, S.sn.data() + o,
                       S.lnm.data() + s.row0(a), S.lnr.data() + s.row0(a));
    linear_forward(exec, s.mlp1[a], P + s.p.mlp1_w[a], P + s.p.mlp1_b[a], S.sn.data() + o,
                   S.hid.data() + 2 * o);
    geglu_forward(exec, ra, s.D, S.hid.data() + 2 * o, S.gg.data() + o);
    linear_forward(exec, s.mlp2[a], P + s.p.mlp2_w[a], P + s.p.mlp2_b[a], S.gg.data() + o, S.r.data() + o);
    linear_forward(exec, s.to_q[a], P + s.p.q[a], (const Real*)nullptr, S.r.data() + o, S.q.data() + q0);
    linear_forward(exec, s.to_k[a], P + s.p.k[a], (const Real*)nullptr, S.r.data() + o, S.k.data() + q0);
    rope_forward(exec, s.rope, index_t(s.B) * s.H, s.n[a], s.rope_table[a].data(), S.q.data() + q0,
                 S.q.data() + q0);
    rope_forward(exec, s.rope, index_t(s.B) * s.H, s.n[a], s.rope_table[a].data(), S.k.data() + q0,
                 S.k.data() + q0);
    lowrank_kernel_forward(exec, s.fac, a, S.q.data() + q0, S.k.data() + q0, S.K.data() + s.kk0(a));
    K[a] = S.K.data() + s.kk0(a);
  }
  factorized_forward(exec, s.fac, K, (const Real*)v, s.inter[slot].data(), s.U_pre.data());
  instance_norm_forward(exec, s.inorm, (const Real*)s.U_pre.data(), U, rstd);
  linear_forward(exec, s.to_out1, P + s.p.out1, (const Real*)nullptr, (const Real*)U, z1);
  gelu_forward(exec, BND, (const Real*)z1, s.h1.data());
  linear_forward(exec, s.to_out2, P + s.p.out2, (const Real*)nullptr, s.h1.data(), s.blk.data());
  residual(exec, BND, u_in, s.blk.data(), Real(1.0 / s.L), u_out);
}

// One block's backward: du holds dL/du_out on entry and dL/du_in on exit. Recomputes LayerNorm(u_in)
// and GELU(z1) from what forward kept, and U with its InstanceNorm unless forward kept them in
// `slot` (State::keep_u: the same bits either way).
template <class Exec, class Real, class State, class Small>
void block_backward(const Exec& exec, State& s, const Real* P, Real* G, const Real* u_in, const Real* v,
                    const Small& S, const Real* z1, int slot, Real* du) {
  Real *U = s.U[slot].data(), *rstd = s.in_rstd[slot].data(), *inter = s.inter[slot].data();
  const index_t BN = index_t(s.B) * s.N, BND = BN * s.D;
  AxisPtrs<const Real> K{};
  AxisPtrs<Real> dK{};
  for (int a = 0; a < s.d; ++a) {
    K[a] = S.K.data() + s.kk0(a);
    dK[a] = s.dsm.K.data() + s.kk0(a);
  }
  // Recompute.
  layer_norm_forward(exec, s.ln, BN, P + s.p.ln_w, P + s.p.ln_b, u_in, s.ubar.data(), s.lnm.data(),
                     s.lnr.data());
  if (!s.keep_u) {
    factorized_forward(exec, s.fac, K, v, inter, s.U_pre.data());
    instance_norm_forward(exec, s.inorm, (const Real*)s.U_pre.data(), U, rstd);
  }
  gelu_forward(exec, BND, z1, s.h1.data());

  // to_out: dblk = du / L.
  scale_copy(exec, BND, (const Real*)du, Real(1.0 / s.L), s.dtmp.data());
  linear_backward(exec, s.to_out2, P + s.p.out2, s.h1.data(), s.dtmp.data(), G + s.p.out2, (Real*)nullptr,
                  s.d1.data());
  gelu_backward(exec, BND, z1, s.d1.data(), s.d1.data());
  linear_backward(exec, s.to_out1, P + s.p.out1, (const Real*)U, s.d1.data(), G + s.p.out1, (Real*)nullptr,
                  s.dU.data(), s.bwd_scratch.data());
  // dU is channel-last as U; the norm's input gradient (head-major) goes into U_pre, free by now.
  instance_norm_backward(exec, s.inorm, (const Real*)U, (const Real*)rstd, (const Real*)s.dU.data(),
                         s.U_pre.data());
  factorized_backward(exec, s.fac, K, v, (const Real*)inter, (const Real*)s.U_pre.data(), dK, s.dv.data());
  linear_backward(exec, s.to_v, P + s.p.to_v, s.ubar.data(), s.dv.data(), G + s.p.to_v, (Real*)nullptr,
                  s.dubar.data(), s.bwd_scratch.data());

  // Kernels and reducers, axis by axis, down to d(axis means).
  for (int a = 0; a < s.d; ++a) {
    const index_t o = s.row0(a) * s.D, ra = s.rows_of(a), q0 = s.qk0(a), bh = index_t(s.B) * s.H;
    Real *dq = s.dsm.q.data() + q0, *dk = s.dsm.k.data() + q0;
    lowrank_kernel_backward(exec, s.fac, a, S.q.data() + q0, S.k.data() + q0, (const Real*)dK[a], dq, dk);
    rope_backward(exec, s.rope, bh, s.n[a], s.rope_table[a].data(), (const Real*)dq, dq);
    rope_backward(exec, s.rope, bh, s.n[a], s.rope_table[a].data(), (const Real*)dk, dk);
    linear_backward(exec, s.to_q[a], P + s.p.q[a], S.r.data() + o, (const Real*)dq, G + s.p.q[a],
                    (Real*)nullptr, s.dsm.r.data() + o, s.bwd_scratch.data());
    linear_backward(exec, s.to_k[a], P + s.p.k[a], S.r.data() + o, (const Real*)dk, G + s.p.k[a],
                    (Real*)nullptr, s.dr2.data() + o, s.bwd_scratch.data());
    add_into(exec, ra * s.D, (const Real*)s.dr2.data() + o, s.dsm.r.data() + o);
    linear_backward(exec, s.mlp2[a], P + s.p.mlp2_w[a], S.gg.data() + o, (const Real*)s.dsm.r.data() + o,
                    G + s.p.mlp2_w[a], G + s.p.mlp2_b[a], s.dsm.gg.data() + o);
    geglu_backward(exec, ra, s.D, S.hid.data() + 2 * o, (const Real*)s.dsm.gg.data() + o,
                   s.dsm.hid.data() + 2 * o);
    linear_backward(exec, s.mlp1[a], P + s.p.mlp1_w[a], S.sn.data() + o,
                    (const Real*)s.dsm.hid.data() + 2 * o, G + s.p.mlp1_w[a], G + s.p.mlp1_b[a],
                    s.dsm.sn.data() + o);
    layer_norm_backward(exec, s.ln, ra, P + s.p.rln_w[a], S.s.data() + o, S.lnm.data() + s.row0(a),
                        S.lnr.data() + s.row0(a), (const Real*)s.dsm.sn.data() + o, G + s.p.rln_w[a],
                        G + s.p.rln_b[a], s.dsm.s.data() + o);
    linear_backward(exec, s.red_in[a], P + s.p.red_in[a], S.t.data() + o, (const Real*)s.dsm.s.data() + o,
                    G + s.p.red_in[a], (Real*)nullptr, s.dsm.t.data() + o);
  }
  linear_backward(exec, s.to_in, P + s.p.to_in, S.mean.data(), (const Real*)s.dsm.t.data(), G + s.p.to_in,
                  (Real*)nullptr, s.dsm.mean.data());
  axis_mean_backward(exec, s.am, s.B, (const Real*)s.dsm.mean.data(), s.dtmp.data());
  add_into(exec, BND, (const Real*)s.dtmp.data(), s.dubar.data());
  layer_norm_backward(exec, s.ln, BN, P + s.p.ln_w, u_in, s.lnm.data(), s.lnr.data(),
                      (const Real*)s.dubar.data(), G + s.p.ln_w, G + s.p.ln_b, s.d1.data(),
                      s.bwd_scratch.data());
  add_into(exec, BND, (const Real*)s.d1.data(), du);  // the residual path
}

}  // namespace iff_impl

template <class Exec, class Real>
void IFactFormer<Exec, Real>::forward(const Exec& exec, const Real* params, const Real* x, Real* y) {
  ScopedRegion region("surro::ifactformer::forward");
  State& s = *m_state;
  const Real* P = params;
  const index_t BKN = index_t(s.B) * s.K * s.N;
  Real* lift_pre = m_training ? s.lift_a.data() : s.lift_g.data();
  if (m_training)
    iff_impl::scale_copy(exec, index_t(s.B) * m_cfg.in_channels * s.N, x, Real(1), s.x_saved.data());
  field_lift_forward(exec, s.lift_cfg, s.B, s.N, P + s.p.lift_w, P + s.p.lift_b, x, lift_pre);
  gelu_forward(exec, BKN, (const Real*)lift_pre, s.lift_g.data());
  linear_forward(exec, s.lift_lin, P + s.p.lift_lin, (const Real*)nullptr, s.lift_g.data(), s.u[0].data());
  fourier_features_forward(exec, s.ff, s.N, P + s.p.pos_B, s.coords.data(), s.ff_out.data());
  linear_forward(exec, s.pos_lin, P + s.p.pos_w, P + s.p.pos_b, s.ff_out.data(), s.pe.data());
  iff_impl::add_broadcast(exec, s.B, s.N * s.D, (const Real*)s.pe.data(), s.u[0].data());
  for (int i = 0; i < s.L; ++i) {
    const int k = m_training ? i : 0;
    Real* u_out = m_training ? s.u[i + 1].data() : s.u[0].data();
    iff_impl::block_forward(exec, s, P, (const Real*)s.u[k].data(), s.v[k].data(), s.sm[k], s.z1[k].data(),
                            s.u_slot(i), u_out);
  }
  const Real* u_last = s.u.back().data();
  linear_forward(exec, s.head1, P + s.p.head1, (const Real*)nullptr, u_last, s.hh.data());
  gelu_forward(exec, index_t(s.B) * s.N * (s.D / 2), (const Real*)s.hh.data(), s.ha.data());
  linear_forward(exec, s.head2, P + s.p.head2_w, P + s.p.head2_b, s.ha.data(), y);
}

template <class Exec, class Real>
void IFactFormer<Exec, Real>::backward(const Exec& exec, const Real* params, const Real* dy, Real* grads,
                                       Real* dx) {
  SURRO_REQUIRE(m_training, "ifactformer: backward on a model built for inference (training = false)");
  ScopedRegion region("surro::ifactformer::backward");
  State& s = *m_state;
  const Real* P = params;
  Real* G = grads;
  const index_t BKN = index_t(s.B) * s.K * s.N, BNH = index_t(s.B) * s.N * (s.D / 2);
  linear_backward(exec, s.head2, P + s.p.head2_w, s.ha.data(), dy, G + s.p.head2_w, G + s.p.head2_b,
                  s.dha.data(), s.bwd_scratch.data());
  gelu_backward(exec, BNH, (const Real*)s.hh.data(), (const Real*)s.dha.data(), s.dha.data());
  linear_backward(exec, s.head1, P + s.p.head1, (const Real*)s.u[s.L].data(), (const Real*)s.dha.data(),
                  G + s.p.head1, (Real*)nullptr, s.du.data());
  for (int i = s.L - 1; i >= 0; --i)
    iff_impl::block_backward(exec, s, P, G, (const Real*)s.u[i].data(), (const Real*)s.v[i].data(), s.sm[i],
                             (const Real*)s.z1[i].data(), s.u_slot(i), s.du.data());
  // u0 = lift + pe: pe's gradient is the batch sum; the frozen Fourier matrix gets none.
  iff_impl::batch_sum(exec, s.B, s.N * s.D, (const Real*)s.du.data(), s.dpe.data());
  linear_backward(exec, s.pos_lin, P + s.p.pos_w, s.ff_out.data(), (const Real*)s.dpe.data(), G + s.p.pos_w,
                  G + s.p.pos_b, (Real*)nullptr);
  linear_backward(exec, s.lift_lin, P + s.p.lift_lin, s.lift_g.data(), (const Real*)s.du.data(),
                  G + s.p.lift_lin, (Real*)nullptr, s.dlift.data(), s.bwd_scratch.data());
  gelu_backward(exec, BKN, (const Real*)s.lift_a.data(), (const Real*)s.dlift.data(), s.dlift.data());
  field_lift_backward(exec, s.lift_cfg, s.B, s.N, P + s.p.lift_w, s.x_saved.data(),
                      (const Real*)s.dlift.data(), G + s.p.lift_w, G + s.p.lift_b, dx);
}

// ------------------------------------------------------------------------------------------------
// architecture

std::string IFactFormerArchitecture::summary(const ParamTable& table) const {
  const IFactFormerCfg& c = m_cfg;
  std::size_t frozen = 0;
  for (const auto& s : table.slots())
    if (s.frozen) frozen += s.count;
  std::ostringstream os;
  os << "ifactformer " << c.dims << "D, "
     << (c.variant == FactorizedVariant::parallel ? "parallel (IFactFormer-m)" : "chained (IFactFormer-o)")
     << ", dim " << c.dim << ", " << c.heads << " heads x " << c.dim_head << " (kernel " << c.kernel_dim()
     << "), " << c.n_layer << " weight-shared iterations, " << table.parameter_count() << " parameters ("
     << table.parameter_count() - frozen << " trained, " << frozen << " in the fixed Fourier matrix), "
     << gemm_options_name(c.gemm) << " GEMMs";
  return os.str();
}

void IFactFormerArchitecture::bind(const DataShape& shape) {
  if (shape.on_mesh())
    SURRO_THROW(ErrorKind::usage,
                "model.type: ifactformer works on grids, but the data are on meshes (use "
                "mesh_transformer or meshgraphnet)");
  IFactFormerCfg cfg = m_cfg;
  cfg.in_channels = shape.in_channels;
  cfg.out_channels = shape.out_channels;
  ifactformer_validate(cfg, shape.grid);
  record_shape(shape);
  m_cfg = cfg;
}

void IFactFormerArchitecture::init(const ExecSpace& exec, const ParamTable& table, float* params,
                                   std::uint64_t seed) const {
  require_bound("init");
  ifactformer_init(exec, m_cfg, table, params, seed);
}

std::unique_ptr<Model<ExecSpace, float>> IFactFormerArchitecture::make(const ExecSpace& exec,
                                                                       const ParamTable& table,
                                                                       const PlanShape& plan,
                                                                       bool training) const {
  require_bound("make");
  return std::make_unique<IFactFormer<ExecSpace, float>>(exec, m_cfg, table, plan.batch, shape().grid,
                                                         training);
}

#define SURRO_X(Exec, Real)                                                                                \
  template class IFactFormer<Exec, Real>;                                                                  \
  template void ifactformer_init<Exec, Real>(const Exec&, const IFactFormerCfg&, const ParamTable&, Real*, \
                                             std::uint64_t);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
