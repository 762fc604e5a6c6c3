#include "operators/layers/linear.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/param_init.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace surro::op {

void linear_register(ParamTable& table, const std::string& prefix, const LinearCfg& cfg) {
  SURRO_REQUIRE(cfg.c_in > 0 && cfg.c_out > 0,
                prefix << ": linear channels (" << cfg.c_in << ", " << cfg.c_out << "): expected positive");
  table.add(prefix + ".weight", {cfg.c_out, cfg.c_in});
  if (cfg.bias) table.add(prefix + ".bias", {cfg.c_out});
}

namespace linear_impl {

enum class Lay { last, first, grouped };

inline Lay kind(int groups, int channels) {
  return groups == 1 ? Lay::last : (groups == channels ? Lay::first : Lay::grouped);
}

// The channel of element i of a (B, R, C) activation stored in `groups` groups (linear.hpp). The
// workspace bounds B R C by INT_MAX, so this is 32-bit arithmetic: 64-bit divisions cost a GPU many
// instructions and held the bias fill at a quarter of the copy bandwidth.
KOKKOS_INLINE_FUNCTION int channel_of(int i, int rows, int channels, int groups) {
  if (groups == 1) return i % channels;
  const int dg = channels / groups;
  return (i / (rows * dg)) % groups * dg + i % dg;
}

// y = bias, broadcast over rows: what a beta = 1 GEMM then adds to.
template <class Exec, class Real>
void fill_bias(const Exec& exec, const LinearShape& sh, int c_out, const Real* bias, Real* y) {
  const int rows = int(sh.rows), groups = sh.out_groups;
  profile::add_work("surro::op::linear::bias", (double(sh.batch) * rows * c_out + c_out) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::linear::bias", Kokkos::RangePolicy<Exec>(exec, 0, index_t(sh.batch) * rows * c_out),
      KOKKOS_LAMBDA(const index_t i) { y[i] = bias[channel_of(int(i), rows, c_out, groups)]; });
}

// y = relu(y + bias) (bias null: relu(y)) in one read and one write of y, after a beta = 0 GEMM.
template <class Exec, class Real>
void bias_relu(const Exec& exec, const LinearShape& sh, int c_out, const Real* bias, Real* y) {
  const int rows = int(sh.rows), groups = sh.out_groups;
  gemm::Epilogue<Real> ep;  // the GEMM's epilogue, with the channel of this layout for its column
  ep.bias = bias;
  ep.relu = true;
  profile::add_work("surro::op::linear::bias_relu", (2.0 * sh.batch * rows * c_out + c_out) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::linear::bias_relu", Kokkos::RangePolicy<Exec>(exec, 0, index_t(sh.batch) * rows * c_out),
      KOKKOS_LAMBDA(const index_t i) { y[i] = ep(y[i], channel_of(int(i), rows, c_out, groups)); });
}

// Term of dbias for column_sums_by_team: dy(b, r, o) at row q = b R + r of a dy in `groups` layout.
template <class Real>
struct OutChannel {
  const Real* dy;  // (B, R, Cout) in `groups` layout
  index_t rows;    // R
  int groups, dg;  // G, Cout / G
  KOKKOS_INLINE_FUNCTION Real operator()(const index_t q, const int o) const {
    const index_t b = q / rows, r = q % rows;
    return dy[((b * groups + o / dg) * rows + r) * dg + o % dg];
  }
};

constexpr gemm::Op N = gemm::Op::none, T = gemm::Op::trans;

// Whether backward computes dW as B per-sample products side by side in the scratch and then their
// sum (add_sample_sums), rather than B GEMM calls accumulating into dW one after another: every
// layout pair but channel-last on both sides (one GEMM over all B R rows), when B > 1.
bool folds_samples(const LinearShape& sh, int c_in, int c_out) {
  return sh.batch > 1 && !(kind(sh.in_groups, c_in) == Lay::last && kind(sh.out_groups, c_out) == Lay::last);
}

// dw(e) += sum_b partial(b, e), b in sample order (deterministic), e < n.
template <class Exec, class Real>
void add_sample_sums(const Exec& exec, index_t B, index_t n, const Real* partial /* (B, n) */,
                     Real* dw /* (n) += */) {
  profile::add_work("surro::op::linear::weight_grad_sum", double(B + 2) * n * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::linear::weight_grad_sum", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t e) {
        Real s = partial[e];
        for (index_t b = 1; b < B; ++b) s += partial[b * n + e];
        dw[e] += s;
      });
}

}  // namespace linear_impl

template <class Exec>
LinearWorkspace<Exec>::LinearWorkspace(const Exec& exec, const LinearCfg& c, const LinearShape& s)
    : LinearWorkspace(gemm::Gemm<Exec>(exec), c, s) {}

template <class Exec>
LinearWorkspace<Exec>::LinearWorkspace(const gemm::Gemm<Exec>& shared, const LinearCfg& c,
                                       const LinearShape& s)
    : cfg(c), shape(s), gemm(shared) {
  using namespace linear_impl;
  SURRO_REQUIRE(c.c_in > 0 && c.c_out > 0,
                "linear: channels (" << c.c_in << ", " << c.c_out << "): expected positive");
  SURRO_REQUIRE(s.batch > 0 && s.rows > 0,
                "linear: batch " << s.batch << ", rows " << s.rows << ": expected positive");
  SURRO_REQUIRE(s.in_groups > 0 && c.c_in % s.in_groups == 0,
                "linear: in_groups = " << s.in_groups << ": expected a divisor of Cin = " << c.c_in);
  SURRO_REQUIRE(s.out_groups > 0 && c.c_out % s.out_groups == 0,
                "linear: out_groups = " << s.out_groups << ": expected a divisor of Cout = " << c.c_out);
  const Lay lx = kind(s.in_groups, c.c_in), ly = kind(s.out_groups, c.c_out);
  SURRO_REQUIRE(!(lx == Lay::grouped && ly != Lay::last) && !(ly == Lay::grouped && lx != Lay::last),
                "linear: in_groups " << s.in_groups << " -> out_groups " << s.out_groups
                                     << ": a group-major side needs a channel-last other side");
  SURRO_REQUIRE(s.batch * s.rows <= index_t(INT_MAX) / std::max(c.c_in, c.c_out),
                "linear: " << s.batch << " x " << s.rows << " rows x " << std::max(c.c_in, c.c_out)
                           << " channels exceed the GEMM's 32-bit extents");
}

template <class Exec>
std::size_t linear_backward_scratch(const LinearWorkspace<Exec>& ws) {
  using namespace linear_impl;
  const LinearShape& sh = ws.shape;
  const int ci = ws.cfg.c_in, co = ws.cfg.c_out;
  const std::size_t sums = ws.cfg.bias && kind(sh.out_groups, co) == Lay::last
                               ? column_sum_scratch(index_t(sh.batch) * sh.rows, co)
                               : 0;
  const std::size_t samples = folds_samples(sh, ci, co) ? std::size_t(sh.batch) * co * ci : 0;
  return std::max(sums, samples);
}

template <class Exec, class Real>
void linear_init(const Exec& exec, const LinearCfg& cfg, Real* w, Real* bias, std::uint64_t seed,
                 std::uint64_t stream) {
  const double bound = 1.0 / std::sqrt(double(cfg.c_in));
  init_uniform(exec, index_t(cfg.c_out) * cfg.c_in, bound, seed, stream, w);
  if (cfg.bias && bias) init_uniform(exec, index_t(cfg.c_out), bound, seed, stream + 1, bias);
}

template <class Exec, class Real>
void linear_forward(const Exec& exec, const LinearWorkspace<Exec>& ws, const Real* w, const Real* bias,
                    const Real* x, Real* y, Activation act) {
  using namespace linear_impl;
  ScopedRegion region("surro::op::linear::forward");
  const LinearShape& sh = ws.shape;
  const index_t ci = ws.cfg.c_in, co = ws.cfg.c_out, R = sh.rows, B = sh.batch;
  const bool with_bias = ws.cfg.bias && bias, relu = act == Activation::relu;
  const Lay lx = kind(sh.in_groups, int(ci)), ly = kind(sh.out_groups, int(co));
  // A channel-last y has one bias per column: the bias and the ReLU go into the GEMM's epilogue
  // (core/gemm.hpp; on CUDA cuBLASLt's store, so y is written once). The other layouts have the
  // bias along rows, which an epilogue does not take: the bias is written first and the GEMM adds
  // to it (beta = 1), or, with a ReLU, the GEMM writes y and one pass adds the bias and applies it.
  const bool in_epilogue = ly == Lay::last;
  const gemm::Epilogue<Real> ep{with_bias ? bias : nullptr, relu};
  const bool filled = !in_epilogue && with_bias && !relu;
  if (filled) fill_bias(exec, sh, int(co), bias, y);
  const Real beta = filled ? Real(1) : Real(0);
  if (lx == Lay::last && ly == Lay::last) {  // (B R x Cout) = (B R x Cin) W^T
    ws.gemm(exec, gemm::make_shape(N, T, B * R, co, ci, ci, ci, co), Real(1), x, w, beta, y, ep);
  } else if (lx == Lay::first && ly == Lay::last) {  // y_b (R x Cout) = x_b^T W^T
    ws.gemm(exec, gemm::make_shape(T, T, R, co, ci, R, ci, co, ci * R, 0, R * co, int(B)), Real(1), x, w,
            beta, y, ep);
  } else if (lx == Lay::last && ly == Lay::first) {  // y_b (Cout x R) = W x_b^T
    ws.gemm(exec, gemm::make_shape(N, T, co, R, ci, ci, ci, R, 0, R * ci, co * R, int(B)), Real(1), w, x,
            beta, y);
  } else if (lx == Lay::first && ly == Lay::first) {  // y_b (Cout x R) = W x_b
    ws.gemm(exec, gemm::make_shape(N, N, co, R, ci, ci, R, R, 0, ci * R, co * R, int(B)), Real(1), w, x, beta,
            y);
  } else if (lx == Lay::grouped) {  // y_b (R x Cout) += x_{b,g} (R x Dg) W_g^T, W_g = W(:, g Dg : (g+1) Dg)
    const index_t G = sh.in_groups, dg = ci / G;
    for (index_t g = 0; g < G; ++g)  // the epilogue once, on the last group's sum
      ws.gemm(exec, gemm::make_shape(N, T, R, co, dg, dg, ci, co, G * R * dg, 0, R * co, int(B)), Real(1),
              x + g * R * dg, w + g * dg, g == 0 ? beta : Real(1), y,
              g + 1 == G ? ep : gemm::Epilogue<Real>{});
  } else {  // y_{b,g} (R x Dg) = x_b (R x Cin) W_g^T, W_g = W(g Dg : (g+1) Dg, :)
    // All B G products in one call: G per sample (W_g at its stride), samples at the outer stride.
    const index_t G = sh.out_groups, dg = co / G;
    const gemm::Shape one = gemm::make_shape(N, T, R, dg, ci, ci, ci, dg, 0, dg * ci, R * dg, int(G));
    ws.gemm(exec, gemm::with_outer(one, B, R * ci, 0, G * R * dg), Real(1), x, w, beta, y);
  }
  if (relu && !in_epilogue)
    bias_relu(exec, sh, int(co), with_bias ? bias : static_cast<const Real*>(nullptr), y);
}

template <class Exec, class Real>
void linear_backward(const Exec& exec, const LinearWorkspace<Exec>& ws, const Real* w, const Real* x,
                     const Real* dy, Real* dw, Real* dbias, Real* dx, Real* partial) {
  using namespace linear_impl;
  ScopedRegion region("surro::op::linear::backward");
  const LinearShape& sh = ws.shape;
  const index_t ci = ws.cfg.c_in, co = ws.cfg.c_out, R = sh.rows, B = sh.batch;
  const Lay lx = kind(sh.in_groups, int(ci)), ly = kind(sh.out_groups, int(co));
  // dW (Cout x Cin) += sum_b dy_b^T x_b. Channel-last on both sides is one GEMM over all B R rows.
  // Otherwise each sample is one product (batched over the groups where a side is group-major): with
  // the scratch, all B of them in one call (gemm's outer count over samples) into `partial` (B, Cout,
  // Cin) and then their sum; without it, one call per sample accumulating into dW (beta = 1), since
  // one batched call cannot have its entries accumulate into the same dW.
  auto per_sample = [&](const gemm::Shape& one, index_t dy_outer, index_t x_outer) {
    if (partial && folds_samples(sh, int(ci), int(co))) {  // sample b's products at partial + b Cout Cin
      ws.gemm(exec, gemm::with_outer(one, B, dy_outer, x_outer, co * ci), Real(1), dy, x, Real(0), partial);
      add_sample_sums(exec, B, co * ci, (const Real*)partial, dw);
    } else {
      for (index_t b = 0; b < B; ++b)
        ws.gemm(exec, one, Real(1), dy + b * dy_outer, x + b * x_outer, Real(1), dw);
    }
  };
  if (lx == Lay::last && ly == Lay::last) {
    ws.gemm(exec, gemm::make_shape(T, N, co, ci, B * R, co, ci, ci), Real(1), dy, x, Real(1), dw);
  } else if (lx == Lay::grouped) {  // dW_g (Cout x Dg) += dy_b^T x_{b,g}, batched over g
    const index_t G = sh.in_groups, dg = ci / G;
    per_sample(gemm::make_shape(T, N, co, dg, R, co, dg, ci, 0, R * dg, dg, int(G)), R * co, G * R * dg);
  } else if (ly == Lay::grouped) {  // dW_g (Dg x Cin) += dy_{b,g}^T x_b, batched over g
    const index_t G = sh.out_groups, dg = co / G;
    per_sample(gemm::make_shape(T, N, dg, ci, R, dg, ci, ci, R * dg, 0, dg * ci, int(G)), G * R * dg, R * ci);
  } else {
    const gemm::Op op_dy = ly == Lay::first ? N : T, op_x = lx == Lay::first ? T : N;
    const index_t ld_dy = ly == Lay::first ? R : co, ld_x = lx == Lay::first ? R : ci;
    per_sample(gemm::make_shape(op_dy, op_x, co, ci, R, ld_dy, ld_x, ci), R * co, R * ci);
  }
  // dbias: plain rows block-parallel with a scratch; else one team per channel (a channel-first dy's
  // channel is contiguous, which that pass reads in order).
  if (ws.cfg.bias && dbias && ly == Lay::last)
    column_sums(exec, "surro::op::linear::bias_grad", B * R, int(co), ColumnOf<Real>{dy, co}, partial, dbias);
  else if (ws.cfg.bias && dbias)
    column_sums_by_team(exec, "surro::op::linear::bias_grad", B * R, int(co),
                        OutChannel<Real>{dy, R, sh.out_groups, int(co) / sh.out_groups}, dbias);
  if (!dx) return;
  if (lx == Lay::last && ly == Lay::last) {  // dx (B R x Cin) = dy W
    ws.gemm(exec, gemm::make_shape(N, N, B * R, ci, co, co, ci, ci), Real(1), dy, w, Real(0), dx);
  } else if (lx == Lay::first && ly == Lay::last) {  // dx_b (Cin x R) = W^T dy_b^T
    ws.gemm(exec, gemm::make_shape(T, T, ci, R, co, ci, co, R, 0, R * co, ci * R, int(B)), Real(1), w, dy,
            Real(0), dx);
  } else if (lx == Lay::last && ly == Lay::first) {  // dx_b (R x Cin) = dy_b^T W
    ws.gemm(exec, gemm::make_shape(T, N, R, ci, co, R, ci, ci, co * R, 0, R * ci, int(B)), Real(1), dy, w,
            Real(0), dx);
  } else if (lx == Lay::first && ly == Lay::first) {  // dx_b (Cin x R) = W^T dy_b
    ws.gemm(exec, gemm::make_shape(T, N, ci, R, co, ci, R, R, 0, co * R, ci * R, int(B)), Real(1), w, dy,
            Real(0), dx);
  } else if (lx == Lay::grouped) {  // dx_{b,g} (R x Dg) = dy_b W_g
    // All B G products in one call, as the forward of a group-major y.
    const index_t G = sh.in_groups, dg = ci / G;
    const gemm::Shape one = gemm::make_shape(N, N, R, dg, co, co, ci, dg, 0, dg, R * dg, int(G));
    ws.gemm(exec, gemm::with_outer(one, B, R * co, 0, G * R * dg), Real(1), dy, w, Real(0), dx);
  } else {  // dx_b (R x Cin) = sum_g dy_{b,g} W_g
    const index_t G = sh.out_groups, dg = co / G;
    for (index_t g = 0; g < G; ++g)
      ws.gemm(exec, gemm::make_shape(N, N, R, ci, dg, dg, ci, ci, G * R * dg, 0, R * ci, int(B)), Real(1),
              dy + g * R * dg, w + g * dg * ci, g == 0 ? Real(0) : Real(1), dx);
  }
}

#if SURRO_OP_DEVICE_BUILD
template struct LinearWorkspace<HostExec>;
template struct LinearWorkspace<ExecSpace>;
template std::size_t linear_backward_scratch(const LinearWorkspace<HostExec>&);
template std::size_t linear_backward_scratch(const LinearWorkspace<ExecSpace>&);
#else
template struct LinearWorkspace<HostExec>;
template std::size_t linear_backward_scratch(const LinearWorkspace<HostExec>&);
#endif

#define SURRO_X(Exec, Real)                                                                         \
  template void linear_init<Exec, Real>(const Exec&, const LinearCfg&, Real*, Real*, std::uint64_t, \
                                        std::uint64_t);                                             \
  template void linear_forward<Exec, Real>(const Exec&, const LinearWorkspace<Exec>&, const Real*,  \
                                           const Real*, const Real*, Real*, Activation);            \
  template void linear_backward<Exec, Real>(const Exec&, const LinearWorkspace<Exec>&, const Real*, \
                                            const Real*, const Real*, Real*, Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
