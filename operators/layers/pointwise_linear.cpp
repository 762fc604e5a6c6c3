#include "operators/layers/pointwise_linear.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/instantiate.hpp"

#include <algorithm>
#include <cmath>

namespace surro::op {

void pointwise_linear_register(ParamTable& table, const std::string& prefix, const PointwiseLinearCfg& cfg) {
  SURRO_REQUIRE(cfg.c_in > 0 && cfg.c_out > 0, prefix << ": pointwise_linear channels (" << cfg.c_in << ", "
                                                      << cfg.c_out << "): expected positive");
  table.add(prefix + ".weight", {cfg.c_out, cfg.c_in});
  if (cfg.bias) table.add(prefix + ".bias", {cfg.c_out});
}

template <class Exec>
PointwiseLinearWorkspace<Exec>::PointwiseLinearWorkspace(const Exec& exec, const PointwiseLinearCfg& c, int b,
                                                         index_t r, gemm::Options precision)
    : cfg(c), batch(b), points(r), gemm(exec, precision) {
  // The bias gradient's chunks: whole pieces of one sample's R values, as many per sample as make
  // about min(256, B R / 4096) in all, and at least one per sample. The partial buffer serves the
  // weight partials (B Cout Cin) and, after them, the bias partials (Cout chunks).
  const index_t per_sample = std::max<index_t>(1, std::min<index_t>(256, index_t(b) * r / 4096) / b);
  bias_chunks = int(b * per_sample);
  partial = make_scratch<View1<double, typename Exec::memory_space>>(
      exec, "surro::op::pointwise_linear::partial",
      std::size_t(std::max<index_t>(index_t(b) * c.c_out * c.c_in, index_t(c.c_out) * bias_chunks)));
  SURRO_REQUIRE(c.c_in > 0 && c.c_out > 0,
                "pointwise_linear: channels (" << c.c_in << ", " << c.c_out << "): expected positive");
  SURRO_REQUIRE(b > 0 && r > 0, "pointwise_linear: batch " << b << ", points " << r << ": expected positive");
  SURRO_REQUIRE(r <= index_t(2147483647) / std::max(c.c_in, c.c_out),
                "pointwise_linear: " << r << " points x " << std::max(c.c_in, c.c_out)
                                     << " channels exceed the GEMM's 32-bit extents");
}

// Kernels: free functions in a named namespace (nvcc's extended lambdas reject internal linkage).
namespace linear_impl {

// y(b, o, n) = bias(o), or += bias(o) with accumulate: before the GEMM adds W x onto y.
template <class Exec, class Real>
void put_bias(const Exec& exec, int batch, int c_out, index_t r, const Real* bias, Real* y, bool accumulate) {
  profile::add_work("surro::op::pointwise_linear::bias",
                    ((accumulate ? 2.0 : 1.0) * double(batch) * c_out * r + c_out) * sizeof(Real));
  // Two-dimensional over (B Cout, R): no 64-bit division per element, which made this pass run at
  // 1 GB/s on the CPU.
  for_each_2d(
      exec, "surro::op::pointwise_linear::bias", index_t(batch) * c_out, r,
      KOKKOS_LAMBDA(const index_t bo, const index_t n) {
        const Real b = bias[int(bo) % c_out];
        y[bo * r + n] = accumulate ? y[bo * r + n] + b : b;
      });
}

// y(b, o, n) += bias(o) (when bias is not null), then a(b, o, n) = gelu(y(b, o, n)); y is written
// only where a does not alias it.
template <class Exec, class Real>
void bias_gelu(const Exec& exec, int batch, int c_out, index_t r, const Real* bias, Real* y, Real* a) {
  const bool keep = a != y;
  profile::add_work("surro::op::pointwise_linear::bias_gelu",
                    ((keep ? 3.0 : 2.0) * double(batch) * c_out * r + c_out) * sizeof(Real));
  for_each_2d(
      exec, "surro::op::pointwise_linear::bias_gelu", index_t(batch) * c_out, r,
      KOKKOS_LAMBDA(const index_t bo, const index_t n) {
        const index_t i = bo * r + n;
        const Real v = bias ? y[i] + bias[int(bo) % c_out] : y[i];
        if (keep) y[i] = v;
        a[i] = gelu_value(v);
      });
}

// db(o) += sum_{b, n} dy(b, o, n) in two deterministic passes: one team per (channel, chunk) writes
// its partial sum, then one thread per channel adds the chunks in order. A chunk is a contiguous
// piece of one sample's R values (chunks / B of them per sample; PointwiseLinearWorkspace), so the
// team reads consecutive addresses and no index is divided per value (one 64-bit division per
// value took this pass to 2 GB/s on the CPU). One team per channel alone would leave most of a GPU
// idle (Cout is 1 to 128).
template <class Exec, class Real>
void bias_grad(const Exec& exec, int batch, int c_out, index_t r, int chunks, const Real* dy, Real* partial,
               Real* db) {
  using Team = typename Kokkos::TeamPolicy<Exec>::member_type;
  const int per_sample = chunks / batch;
  const index_t per_chunk = (r + per_sample - 1) / per_sample;
  profile::add_work("surro::op::pointwise_linear::bias_grad_partial",
                    double(batch) * r * c_out * sizeof(Real));
  Kokkos::parallel_for(
      "surro::op::pointwise_linear::bias_grad_partial",
      Kokkos::TeamPolicy<Exec>(exec, c_out * chunks, Kokkos::AUTO), KOKKOS_LAMBDA(const Team& team) {
        const int o = team.league_rank() / chunks, k = team.league_rank() % chunks;
        const int b = k / per_sample, j = k % per_sample;
        const index_t n0 = j * per_chunk < r ? j * per_chunk : r;
        const index_t n1 = n0 + per_chunk < r ? n0 + per_chunk : r;
        const Real* row = dy + (index_t(b) * c_out + o) * r;
        Real sum = 0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, n0, n1), [&](const index_t n, Real& acc) { acc += row[n]; }, sum);
        Kokkos::single(Kokkos::PerTeam(team), [&]() { partial[index_t(o) * chunks + k] = sum; });
      });
  Kokkos::parallel_for(
      "surro::op::pointwise_linear::bias_grad_sum", Kokkos::RangePolicy<Exec>(exec, 0, c_out),
      KOKKOS_LAMBDA(const int o) {
        Real sum = 0;
        for (int k = 0; k < chunks; ++k) sum += partial[index_t(o) * chunks + k];
        db[o] += sum;
      });
}

// dw(e) += sum_b partial(b, e) over the Cout Cin entries, b in order.
template <class Exec, class Real>
void sum_batches(const Exec& exec, int batch, index_t size, const Real* partial, Real* dw) {
  Kokkos::parallel_for(
      "surro::op::pointwise_linear::weight_grad_sum", Kokkos::RangePolicy<Exec>(exec, 0, size),
      KOKKOS_LAMBDA(const index_t e) {
        Real sum = 0;
        for (int b = 0; b < batch; ++b) sum += partial[b * size + e];
        dw[e] += sum;
      });
}

template <class Exec, class Real>
void uniform_fill(const Exec& exec, index_t n, Real bound, std::uint64_t seed, std::uint64_t stream,
                  Real* out) {
  const rng::Philox gen{seed};
  Kokkos::parallel_for(
      "surro::op::pointwise_linear::init", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) {
        out[i] = bound * (Real(2) * gen.uniform<Real>(stream, std::uint64_t(i)) - Real(1));
      });
}

}  // namespace linear_impl

template <class Exec, class Real>
void pointwise_linear_init(const Exec& exec, const PointwiseLinearCfg& cfg, Real* w, Real* bias,
                           std::uint64_t seed, std::uint64_t stream) {
  const Real bound = Real(1.0 / std::sqrt(double(cfg.c_in)));
  linear_impl::uniform_fill(exec, index_t(cfg.c_out) * cfg.c_in, bound, seed, stream, w);
  if (cfg.bias && bias) linear_impl::uniform_fill(exec, index_t(cfg.c_out), bound, seed, stream + 1, bias);
}

template <class Exec, class Real>
void pointwise_linear_forward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws, const Real* w,
                              const Real* bias, const Real* x, Real* y, bool accumulate) {
  ScopedRegion region("surro::op::pointwise_linear::forward");
  const PointwiseLinearCfg& c = ws.cfg;
  const bool with_bias = c.bias && bias;
  // The bias goes into y first (filled, or added onto what y holds), then the GEMM adds W x to it.
  if (with_bias) linear_impl::put_bias(exec, ws.batch, c.c_out, ws.points, bias, y, accumulate);
  gemm::Shape s;  // y_b (Cout x R) = W (Cout x Cin) . x_b (Cin x R)
  s.m = c.c_out;
  s.n = int(ws.points);
  s.k = c.c_in;
  s.lda = c.c_in;
  s.ldb = int(ws.points);
  s.ldc = int(ws.points);
  s.stride_a = 0;
  s.stride_b = index_t(c.c_in) * ws.points;
  s.stride_c = index_t(c.c_out) * ws.points;
  s.batch = ws.batch;
  ws.gemm(exec, s, Real(1), w, x, with_bias || accumulate ? Real(1) : Real(0), y);
}

template <class Exec, class Real>
void pointwise_linear_gelu_forward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws, const Real* w,
                                   const Real* bias, const Real* x, Real* y, Real* a, bool accumulate) {
  ScopedRegion region("surro::op::pointwise_linear::gelu_forward");
  pointwise_linear_forward(exec, ws, w, static_cast<const Real*>(nullptr), x, y, accumulate);
  linear_impl::bias_gelu(exec, ws.batch, ws.cfg.c_out, ws.points, ws.cfg.bias ? bias : nullptr, y, a);
}

template <class Exec, class Real>
void pointwise_linear_backward(const Exec& exec, const PointwiseLinearWorkspace<Exec>& ws, const Real* w,
                               const Real* x, const Real* dy, Real* dw, Real* dbias, Real* dx) {
  ScopedRegion region("surro::op::pointwise_linear::backward");
  const PointwiseLinearCfg& c = ws.cfg;
  const int r = int(ws.points);
  // dW (Cout x Cin) += sum_b dy_b (Cout x R) . x_b^T (R x Cin): one batched GEMM into per-sample
  // partials (a batched call cannot accumulate into one C), then their sum in sample order.
  Real* partial = reinterpret_cast<Real*>(ws.partial.data());
  const index_t wsize = index_t(c.c_out) * c.c_in;
  gemm::Shape s;
  s.op_b = gemm::Op::trans;
  s.m = c.c_out;
  s.n = c.c_in;
  s.k = r;
  s.lda = r;
  s.ldb = r;
  s.ldc = c.c_in;
  s.stride_a = index_t(c.c_out) * r;
  s.stride_b = index_t(c.c_in) * r;
  s.stride_c = wsize;
  s.batch = ws.batch;
  ws.gemm(exec, s, Real(1), dy, x, Real(0), partial);
  linear_impl::sum_batches(exec, ws.batch, wsize, partial, dw);
  if (c.bias && dbias)
    linear_impl::bias_grad(exec, ws.batch, c.c_out, ws.points, ws.bias_chunks, dy, partial, dbias);
  if (!dx) return;
  gemm::Shape t;  // dx_b (Cin x R) = W^T (Cin x Cout) . dy_b (Cout x R)
  t.op_a = gemm::Op::trans;
  t.m = c.c_in;
  t.n = r;
  t.k = c.c_out;
  t.lda = c.c_in;
  t.ldb = r;
  t.ldc = r;
  t.stride_a = 0;
  t.stride_b = index_t(c.c_out) * r;
  t.stride_c = index_t(c.c_in) * r;
  t.batch = ws.batch;
  ws.gemm(exec, t, Real(1), w, dy, Real(0), dx);
}

#if SURRO_OP_DEVICE_BUILD
template struct PointwiseLinearWorkspace<HostExec>;
template struct PointwiseLinearWorkspace<ExecSpace>;
#else
template struct PointwiseLinearWorkspace<HostExec>;
#endif

#define SURRO_X(Exec, Real)                                                                                \
  template void pointwise_linear_init<Exec, Real>(const Exec&, const PointwiseLinearCfg&, Real*, Real*,    \
                                                  std::uint64_t, std::uint64_t);                           \
  template void pointwise_linear_forward<Exec, Real>(const Exec&, const PointwiseLinearWorkspace<Exec>&,   \
                                                     const Real*, const Real*, const Real*, Real*, bool);  \
  template void pointwise_linear_gelu_forward<Exec, Real>(                                                \
      const Exec&, const PointwiseLinearWorkspace<Exec>&, const Real*, const Real*, const Real*, Real*,    \
      Real*, bool);                                                                                        \
  template void pointwise_linear_backward<Exec, Real>(const Exec&, const PointwiseLinearWorkspace<Exec>&,  \
                                                      const Real*, const Real*, const Real*, Real*, Real*, \
                                                      Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
