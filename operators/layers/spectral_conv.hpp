#pragma once
// spectral_conv: FNO's Fourier layer kernel (SpectralConv{1,2,3}d) for d = 1, 2, 3 spatial axes.
//
//   x (B, Cin, N...) --rFFT over the d axes--> x_hat (B, Cin, Nx[, Ny], Nlast/2+1)
//   keep the retained modes, y_hat(k, b, o) = sum_i x_hat(k, b, i) W(k, i, o) per retained mode k,
//   all other modes zero --inverse rFFT (1/N)--> y (B, Cout, N...)
//
// Retained modes, in blocks (the reference's weights1..4; mx, my, mz = cfg.modes):
//   1D: kx in [0, mx)                                            1 block
//   2D: kx in [0, mx) (block 0) or [Nx-mx, Nx) (block 1), ky in [0, my)             2 blocks
//   3D: (kx, ky) in the (+,+), (-,+), (+,-), (-,-) corners (blocks 0..3), kz in [0, mz)    4 blocks
// The weight is ONE complex tensor, mode-major so the mixing is a batched complex GEMM over the
// M = blocks * mx [* my [* mz]] modes:
//   W: (blocks, Mx[, My[, Mz]], Cin, Cout)   complex;  mode index ((blk * Mx + a) * My + b) * Mz + c
// Limits (validated, usage errors): on the two-sided axes 2 m <= N (the +/- blocks never overlap),
// on the last (half-spectrum) axis m <= N/2 + 1.
//
// The inverse transform of a spectrum that is non-zero only on some modes is defined as the real
// part of the Hermitian-completed inverse DFT, the result torch.fft.irfftn (pocketfft) gives:
//   y(n) = 1/N sum_{k in half spectrum} w(k_last) Re(y_hat(k) e^{2 pi i k.n/N}),
//   w = 1 on columns 0 and N/2 (even N) of the last axis, 2 elsewhere.
// To make this hold on every FFT backend, the DC and Nyquist columns are projected onto their
// Hermitian part before the C2R (cuFFT and FFTW leave non-Hermitian input unspecified).
#include "core/fft.hpp"
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace surro::op {

struct SpectralConvCfg {
  int c_in = 0, c_out = 0;
  std::vector<int> modes;  // (mx[, my[, mz]]): d = modes.size() spatial axes
  int dims() const { return static_cast<int>(modes.size()); }
  int blocks() const { return 1 << (dims() - 1); }  // 1, 2, 4
  index_t mode_count() const;                       // M = blocks * prod(modes)
};

// Throws a usage error unless 1 <= d <= 3, channels > 0, and the modes fit `grid` (Nx[, Ny[, Nz]]).
// grid may be empty: only the config itself is checked.
void spectral_conv_validate(const SpectralConvCfg& cfg, const std::vector<int>& grid);

// Adds prefix.weight: complex (blocks, Mx[, My[, Mz]], Cin, Cout). parameter_count() counts it x2,
// as the reference's count_params does.
void spectral_conv_register(ParamTable& table, const std::string& prefix, const SpectralConvCfg& cfg);

// The reference's scale * torch.rand(..., dtype=cfloat): real and imaginary parts each
// scale * U[0, 1), scale = 1 / (Cin * Cout). Element e (in the mode-major order above) takes its real
// part from Philox(seed).uniform(stream, 2e) and its imaginary part from index 2e + 1; `stream` is a
// per-tensor id chosen by the model. (Element order differs from torch's (in, out, m...) tensor, so
// values are not torch's draws; the distribution is.)
template <class Exec, class Real>
void spectral_conv_init(const Exec& exec, const SpectralConvCfg& cfg, Complex<Real>* w /* (M, Cin, Cout) */,
                        std::uint64_t seed, std::uint64_t stream);

// FFT plans, GEMM handle and spectra for one (config, batch, grid); nothing is allocated later.
template <class Exec, class Real>
struct SpectralConvWorkspace {
  using complex_type = Complex<Real>;
  using mem = typename Exec::memory_space;
  SpectralConvWorkspace(const Exec& exec, const SpectralConvCfg& cfg, int batch,
                        const std::vector<int>& grid, gemm::Options precision = {});

  SpectralConvCfg cfg;
  int batch = 0;
  std::vector<int> grid;                           // (Nx[, Ny[, Nz]])
  index_t points = 0;                              // N = prod(grid)
  index_t spectrum = 0;                            // half-spectrum size of one signal
  index_t modes = 0;                               // M
  int last = 0;                                    // N of the last axis
  fft::RealFftPlan<Real, Exec> plan_in, plan_out;  // batch B*Cin and B*Cout, Norm::backward
  gemm::Gemm<Exec> gemm;
  View1<index_t, mem> mode_offset;                 // (M): offset of mode m in one half spectrum
  View1<int, mem> mode_at;                         // (spectrum): the mode at an offset, -1 where none
  View1<complex_type, mem> spec_in, spec_out;      // (B*Cin, spectrum), (B*Cout, spectrum)
  View1<complex_type, mem> packed_in, packed_out;  // (M, B, Cin), (M, B, Cout)
};

// y = spectral_conv(x). x_modes, when not null, receives the retained modes of x's spectrum
// (M, B, Cin), which backward needs; null uses the workspace (then backward must follow before the
// workspace serves another forward).
template <class Exec, class Real>
void spectral_conv_forward(const Exec& exec, SpectralConvWorkspace<Exec, Real>& ws,
                           const Complex<Real>* w /* (M, Cin, Cout) */, const Real* x /* (B, Cin, N...) */,
                           Real* y /* (B, Cout, N...) */, Complex<Real>* x_modes /* (M, B, Cin) or null */);

// dw += sum_b conj(x_hat) dy_hat per mode (the gradient with respect to Re W and Im W, as the
// interleaved pair); dx overwritten through the exact adjoint of the chain; dx may be null.
template <class Exec, class Real>
void spectral_conv_backward(
    const Exec& exec, SpectralConvWorkspace<Exec, Real>& ws, const Complex<Real>* w /* (M, Cin, Cout) */,
    const Complex<Real>* x_modes /* (M, B, Cin) from forward, or null: the workspace's */,
    const Real* dy /* (B, Cout, N...) */, Complex<Real>* dw /* (M, Cin, Cout) += */,
    Real* dx /* (B, Cin, N...) overwritten; may be null */);

}  // namespace surro::op
