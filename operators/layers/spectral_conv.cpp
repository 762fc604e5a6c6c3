#include "operators/layers/spectral_conv.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <sstream>

namespace surro::op {

index_t SpectralConvCfg::mode_count() const {
  index_t m = blocks();
  for (int e : modes) m *= e;
  return m;
}

void spectral_conv_validate(const SpectralConvCfg& cfg, const std::vector<int>& grid) {
  const int d = cfg.dims();
  if (d < 1 || d > 3)
    SURRO_THROW(ErrorKind::usage, "spectral_conv: " << d << " mode counts: expected 1, 2 or 3");
  if (cfg.c_in <= 0 || cfg.c_out <= 0)
    SURRO_THROW(ErrorKind::usage, "spectral_conv: channels (" << cfg.c_in << ", " << cfg.c_out
                                                              << "): expected positive integers");
  static const char* axis[3] = {"x", "y", "z"};
  for (int t = 0; t < d; ++t)
    if (cfg.modes[t] <= 0)
      SURRO_THROW(ErrorKind::usage,
                  "spectral_conv: modes[" << t << "] = " << cfg.modes[t] << ": expected a positive integer");
  if (grid.empty()) return;
  if (int(grid.size()) != d)
    SURRO_THROW(ErrorKind::usage, "spectral_conv: a grid of " << grid.size() << " axes for " << d
                                                              << " mode counts: expected " << d << " axes");
  for (int t = 0; t < d; ++t) {
    if (grid[t] <= 0)
      SURRO_THROW(ErrorKind::usage,
                  "spectral_conv: grid N" << axis[t] << " = " << grid[t] << ": expected positive");
    const bool half = t == d - 1;  // the rFFT's half-spectrum axis
    const int limit = half ? grid[t] / 2 + 1 : grid[t] / 2;
    if (cfg.modes[t] > limit)
      SURRO_THROW(ErrorKind::usage, "spectral_conv: modes["
                                        << t << "] = " << cfg.modes[t] << " on N" << axis[t] << " = "
                                        << grid[t] << ": expected at most " << limit
                                        << (half ? " (N/2 + 1 columns of the half spectrum)"
                                                 : " (N/2: the +k and -k blocks must not overlap)"));
  }
}

void spectral_conv_register(ParamTable& table, const std::string& prefix, const SpectralConvCfg& cfg) {
  spectral_conv_validate(cfg, {});
  std::vector<int> shape{cfg.blocks()};
  for (int m : cfg.modes) shape.push_back(m);
  shape.push_back(cfg.c_in);
  shape.push_back(cfg.c_out);
  table.add(prefix + ".weight", shape, ParamKind::complex);
}

// Kernels: free functions in a named namespace (nvcc's extended lambdas reject internal linkage).
namespace spectral_impl {

// Copies the retained modes of `spec` (S signals of `spectrum` values; signal s = b * C + c) into
// packed (M, B, C) (scatter below goes back). Each value is multiplied by `single` on the half
// axis' columns 0 and N/2 (even N) and by `other` elsewhere.
template <class Exec, class Real>
void pack(const Exec& exec, const View1<index_t, typename Exec::memory_space>& offset, int batch,
          int channels, index_t spectrum, int h, int last, Real single, Real other, const Complex<Real>* spec,
          Complex<Real>* packed) {
  const int m_count = int(offset.extent(0));
  profile::add_work("surro::op::spectral_conv::pack",
                    2.0 * m_count * batch * channels * sizeof(Complex<Real>));
  for_each_3d(
      exec, "surro::op::spectral_conv::pack", m_count, batch, channels,
      KOKKOS_LAMBDA(const int m, const int b, const int c) {
        const index_t off = offset(m);
        const int col = int(off % h);
        const Real f = (col == 0 || 2 * col == last) ? single : other;
        packed[(index_t(m) * batch + b) * channels + c] =
            f * spec[(index_t(b) * channels + c) * spectrum + off];
      });
}

// The whole spectrum `spec` (S signals of `spectrum` values; signal s = b * C + c) from packed
// (M, B, C) in one pass: the retained modes times `single` (the half axis' columns 0 and N/2, even N)
// or `other`, zero elsewhere, and on columns 0 and (with `nyquist`) N/2 of the half axis the
// Hermitian part X(k) <- (X(k) + conj(X(-k))) / 2 over the leading axes (n0, n1), with X(-k) from
// packed as well. Every C2R then returns 1/N sum w Re(X e^{i theta}), whatever it does with
// non-Hermitian input. One write per spectrum value: this replaces a zero fill, a scatter of the
// modes and a pass over the two columns (three launches, two of them over the whole spectrum).
template <class Exec, class Real>
void scatter(const Exec& exec, const View1<int, typename Exec::memory_space>& mode_at, int batch,
             int channels, int n0, int n1, int h, int last, bool nyquist, Real single, Real other,
             const Complex<Real>* packed /* (M, B, C) */, Complex<Real>* spec /* (B C, spectrum) */) {
  // Over (signal s = b C + c, row of the leading axes, half-axis column): packed (M, B, C) is
  // (M, S), so mode m of signal s sits at m S + s and no index needs splitting into (b, c). Rows
  // and columns come from for_each_3d (no division per element on the host, two 32-bit ones on a
  // device), where one flat index took three 64-bit divisions an element.
  const index_t signals = index_t(batch) * channels, rows = index_t(n0) * n1;
  const index_t spectrum = rows * h;
  profile::add_work("surro::op::spectral_conv::scatter", double(signals * spectrum) * sizeof(Complex<Real>));
  for_each_3d(
      exec, "surro::op::spectral_conv::scatter", signals, rows, h,
      KOKKOS_LAMBDA(const index_t s, const index_t row, const index_t col) {
        const Real f = (col == 0 || 2 * col == last) ? single : other;
        auto value = [&](const index_t q) {
          const int m = mode_at(q);
          return m < 0 ? Complex<Real>(0) : f * packed[index_t(m) * signals + s];
        };
        const index_t p = row * h + col;
        Complex<Real> v = value(p);
        if (col == 0 || (nyquist && col == h - 1)) {
          const index_t i0 = row / n1, i1 = row % n1;
          const index_t partner = (((n0 - i0) % n0) * n1 + (n1 - i1) % n1) * h + col;
          v = Real(0.5) * (v + Kokkos::conj(value(partner)));
        }
        spec[s * spectrum + p] = v;
      });
}

template <class Exec, class Real>
void uniform_complex(const Exec& exec, index_t n, Real scale, std::uint64_t seed, std::uint64_t stream,
                     Complex<Real>* w) {
  const rng::Philox gen{seed};
  Kokkos::parallel_for(
      "surro::op::spectral_conv::init", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t e) {
        w[e] = Complex<Real>(scale * gen.uniform<Real>(stream, 2 * std::uint64_t(e)),
                             scale * gen.uniform<Real>(stream, 2 * std::uint64_t(e) + 1));
      });
}

}  // namespace spectral_impl

template <class Exec, class Real>
void spectral_conv_init(const Exec& exec, const SpectralConvCfg& cfg, Complex<Real>* w, std::uint64_t seed,
                        std::uint64_t stream) {
  spectral_conv_validate(cfg, {});
  const Real scale = Real(1.0 / (double(cfg.c_in) * cfg.c_out));
  spectral_impl::uniform_complex(exec, cfg.mode_count() * cfg.c_in * cfg.c_out, scale, seed, stream, w);
}

namespace {
std::vector<int> checked_grid(const SpectralConvCfg& cfg, int batch, const std::vector<int>& grid) {
  spectral_conv_validate(cfg, grid);
  SURRO_REQUIRE(batch > 0, "spectral_conv: batch = " << batch << ": expected > 0");
  return grid;
}
}  // namespace

template <class Exec, class Real>
SpectralConvWorkspace<Exec, Real>::SpectralConvWorkspace(const Exec& exec, const SpectralConvCfg& c, int b,
                                                         const std::vector<int>& g, gemm::Options precision)
    : cfg(c),
      batch(b),
      grid(checked_grid(c, b, g)),
      plan_in(exec, grid, index_t(b) * c.c_in, fft::Norm::backward, "surro::op::spectral_conv::fft_in"),
      plan_out(exec, grid, index_t(b) * c.c_out, fft::Norm::backward, "surro::op::spectral_conv::fft_out"),
      gemm(exec, precision) {
  const int d = c.dims();
  points = plan_in.real_size();
  spectrum = plan_in.complex_size();
  modes = c.mode_count();
  last = grid.back();
  // Internal axes (n0, n1, n2): the grid right-aligned, leading axes of extent 1.
  int n[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) n[3 - d + t] = grid[t];
  const int h = n[2] / 2 + 1;
  int m[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) m[t] = c.modes[t];

  mode_offset = View1<index_t, mem>("surro::op::spectral_conv::mode_offset", modes);
  auto off = Kokkos::create_mirror_view(mode_offset);
  index_t e = 0;
  for (int blk = 0; blk < c.blocks(); ++blk)
    for (int a = 0; a < m[0]; ++a)
      for (int bb = 0; bb < m[1]; ++bb)
        for (int cc = 0; cc < m[2]; ++cc) {
          int u[3] = {a, bb, cc};
          for (int t = 0; t < d - 1; ++t)  // two-sided axes: block bit t picks the negative frequencies
            if ((blk >> t) & 1) u[t] = grid[t] - m[t] + u[t];
          int idx[3] = {0, 0, 0};
          for (int t = 0; t < d; ++t) idx[3 - d + t] = u[t];
          off(e++) = (index_t(idx[0]) * n[1] + idx[1]) * h + idx[2];
        }
  Kokkos::deep_copy(mode_offset, off);
  mode_at = View1<int, mem>("surro::op::spectral_conv::mode_at", spectrum);
  auto at = Kokkos::create_mirror_view(mode_at);
  for (index_t q = 0; q < spectrum; ++q) at(q) = -1;
  for (index_t m = 0; m < modes; ++m) at(off(m)) = int(m);
  Kokkos::deep_copy(mode_at, at);

  using CV = View1<complex_type, mem>;
  spec_in = make_scratch<CV>(exec, "surro::op::spectral_conv::spec_in", index_t(b) * c.c_in * spectrum);
  spec_out = make_scratch<CV>(exec, "surro::op::spectral_conv::spec_out", index_t(b) * c.c_out * spectrum);
  packed_in = make_scratch<CV>(exec, "surro::op::spectral_conv::packed_in", modes * b * c.c_in);
  packed_out = make_scratch<CV>(exec, "surro::op::spectral_conv::packed_out", modes * b * c.c_out);
}

namespace {
// Leading internal extents (n0, n1) and the half-axis width h of a workspace.
template <class WS>
void internal_axes(const WS& ws, int& n0, int& n1, int& h) {
  const int d = int(ws.grid.size());
  n0 = d == 3 ? ws.grid[0] : 1;
  n1 = d >= 2 ? ws.grid[d - 2] : 1;
  h = ws.last / 2 + 1;
}
}  // namespace

template <class Exec, class Real>
void spectral_conv_forward(const Exec& exec, SpectralConvWorkspace<Exec, Real>& ws, const Complex<Real>* w,
                           const Real* x, Real* y, Complex<Real>* x_modes) {
  ScopedRegion region("surro::op::spectral_conv::forward");
  const int B = ws.batch, ci = ws.cfg.c_in, co = ws.cfg.c_out;
  int n0, n1, h;
  internal_axes(ws, n0, n1, h);
  Complex<Real>* xm = x_modes ? x_modes : ws.packed_in.data();
  ws.plan_in.forward_raw(exec, x, ws.spec_in.data());
  spectral_impl::pack(exec, ws.mode_offset, B, ci, ws.spectrum, h, ws.last, Real(1), Real(1),
                      ws.spec_in.data(), xm);
  gemm::Shape s;  // per mode: y_hat (B x Cout) = x_hat (B x Cin) . W_m (Cin x Cout)
  s.m = B;
  s.n = co;
  s.k = ci;
  s.lda = ci;
  s.ldb = co;
  s.ldc = co;
  s.stride_a = index_t(B) * ci;
  s.stride_b = index_t(ci) * co;
  s.stride_c = index_t(B) * co;
  s.batch = int(ws.modes);
  ws.gemm(exec, s, Complex<Real>(1), xm, w, Complex<Real>(0), ws.packed_out.data());
  const bool nyquist = ws.last % 2 == 0 && ws.cfg.modes.back() == h;
  spectral_impl::scatter(exec, ws.mode_at, B, co, n0, n1, h, ws.last, nyquist, Real(1), Real(1),
                         ws.packed_out.data(), ws.spec_out.data());
  ws.plan_out.inverse_raw(exec, ws.spec_out.data(), y);
}

// The adjoints, with <u, v> = Re sum conj(u) v and w = 1 on half-axis columns 0 and N/2, 2 elsewhere:
//   C2R (Norm::backward, Hermitian-projected): y = 1/N sum_k w_k Re(X_k e^{i theta})
//       adjoint: X_k = (w_k / N) rfft(dy)_k            (unnormalized R2C of the real dy)
//   R2C: X_k = sum_n x_n e^{-i theta}
//       adjoint: dx_n = Re sum_k dX_k e^{i theta} = C2R(N dX / w)    (C2R as above)
//   mixing y_hat = x_hat W per mode: dW += x_hat^H dy_hat, dx_hat = dy_hat W^H.
template <class Exec, class Real>
void spectral_conv_backward(const Exec& exec, SpectralConvWorkspace<Exec, Real>& ws, const Complex<Real>* w,
                            const Complex<Real>* x_modes, const Real* dy, Complex<Real>* dw, Real* dx) {
  ScopedRegion region("surro::op::spectral_conv::backward");
  const int B = ws.batch, ci = ws.cfg.c_in, co = ws.cfg.c_out;
  int n0, n1, h;
  internal_axes(ws, n0, n1, h);
  const Complex<Real>* xm = x_modes ? x_modes : ws.packed_in.data();
  const Real n = Real(ws.points);
  ws.plan_out.forward_raw(exec, dy, ws.spec_out.data());
  spectral_impl::pack(exec, ws.mode_offset, B, co, ws.spectrum, h, ws.last, Real(1) / n, Real(2) / n,
                      ws.spec_out.data(), ws.packed_out.data());
  gemm::Shape s;  // per mode: dW_m (Cin x Cout) += x_hat^H (Cin x B) . dy_hat (B x Cout)
  s.op_a = gemm::Op::conj_trans;
  s.m = ci;
  s.n = co;
  s.k = B;
  s.lda = ci;
  s.ldb = co;
  s.ldc = co;
  s.stride_a = index_t(B) * ci;
  s.stride_b = index_t(B) * co;
  s.stride_c = index_t(ci) * co;
  s.batch = int(ws.modes);
  ws.gemm(exec, s, Complex<Real>(1), xm, ws.packed_out.data(), Complex<Real>(1), dw);
  if (!dx) return;
  gemm::Shape t;  // per mode: dx_hat (B x Cin) = dy_hat (B x Cout) . W_m^H (Cout x Cin)
  t.op_b = gemm::Op::conj_trans;
  t.m = B;
  t.n = ci;
  t.k = co;
  t.lda = co;
  t.ldb = co;
  t.ldc = ci;
  t.stride_a = index_t(B) * co;
  t.stride_b = index_t(ci) * co;
  t.stride_c = index_t(B) * ci;
  t.batch = int(ws.modes);
  ws.gemm(exec, t, Complex<Real>(1), ws.packed_out.data(), w, Complex<Real>(0), ws.packed_in.data());
  const bool nyquist = ws.last % 2 == 0 && ws.cfg.modes.back() == h;
  spectral_impl::scatter(exec, ws.mode_at, B, ci, n0, n1, h, ws.last, nyquist, n, n / Real(2),
                         ws.packed_in.data(), ws.spec_in.data());
  ws.plan_in.inverse_raw(exec, ws.spec_in.data(), dx);
}

#define SURRO_X(Exec, Real)                                                                                  \
  template struct SpectralConvWorkspace<Exec, Real>;                                                         \
  template void spectral_conv_init<Exec, Real>(const Exec&, const SpectralConvCfg&, Complex<Real>*,          \
                                               std::uint64_t, std::uint64_t);                                \
  template void spectral_conv_forward<Exec, Real>(const Exec&, SpectralConvWorkspace<Exec, Real>&,           \
                                                  const Complex<Real>*, const Real*, Real*, Complex<Real>*); \
  template void spectral_conv_backward<Exec, Real>(const Exec&, SpectralConvWorkspace<Exec, Real>&,          \
                                                   const Complex<Real>*, const Complex<Real>*, const Real*,  \
                                                   Complex<Real>*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
