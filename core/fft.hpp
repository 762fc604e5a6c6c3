#pragma once
// Batched real-to-complex / complex-to-real FFTs over the last 1, 2 or 3 axes of a LayoutRight View.
//
//   x     : (..., N0[, N1[, N2]])        real, the leading axes multiply to `batch`
//   x_hat : (..., N0[, N1], Nlast/2+1)   complex, Hermitian half-spectrum along the last axis
//
// A RealFftPlan is built once per (shape, batch) and reused; execute() allocates nothing. The
// backend follows the execution space: FFTW on host spaces, cuFFT (on the instance's stream) on
// CUDA. Transforms are unnormalized in both libraries; the Norm chosen at plan time is applied by
// the plan (the mode names follow numpy.fft):
//   backward : forward unscaled, inverse scaled by 1/N   (irfft(rfft(x)) == x)
//   forward  : forward scaled by 1/N, inverse unscaled
//   ortho    : both scaled by 1/sqrt(N)
//   none     : neither (a round trip multiplies by N)
// where N is the product of the transformed extents.
//
// inverse() uses its complex input as workspace: FFTW and cuFFT both overwrite the input of a
// multi-dimensional C2R transform, and copying it would cost a pass and an allocation.
#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/types.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace surro::fft {

enum class Norm { backward, forward, ortho, none };

namespace impl {

template <class Real, class Exec>
class Engine {
 public:
  virtual ~Engine() = default;
  virtual void forward(const Exec& exec, const Real* x, Complex<Real>* x_hat) = 0;
  virtual void inverse(const Exec& exec, Complex<Real>* x_hat, Real* x) = 0;
};

// One overload per backend, chosen by the execution space, each defined and explicitly
// instantiated in its own source (fft_host.cpp, fft_cuda.cpp): distinct templates, so the two
// sources can share a unity unit.
template <class Real>
std::unique_ptr<Engine<Real, HostExec>> make_engine(const HostExec& exec, const std::vector<int>& shape,
                                                    index_t batch, Norm norm, const std::string& label);
#if defined(KOKKOS_ENABLE_CUDA)
template <class Real>
std::unique_ptr<Engine<Real, Kokkos::Cuda>> make_engine(const Kokkos::Cuda& exec,
                                                        const std::vector<int>& shape, index_t batch,
                                                        Norm norm, const std::string& label);
#endif

}  // namespace impl

// Library name and version of the FFT backend used for Exec, e.g. "FFTW fftw-3.3.10".
template <class Exec>
std::string backend_name();
// Each backend's source defines its specialization (fft_host.cpp, fft_cuda.cpp); declared here so
// that a use compiled before the definition (in the same unity unit) does not instantiate the
// primary template.
template <>
std::string backend_name<HostExec>();
#if defined(KOKKOS_ENABLE_CUDA)
template <>
std::string backend_name<Kokkos::Cuda>();
#endif

template <class Real, class Exec>
class RealFftPlan {
 public:
  using complex_type = Complex<Real>;

  // shape: the transformed extents (1 to 3 of them, each > 0); batch: how many transforms.
  RealFftPlan(const Exec& exec, std::vector<int> shape, index_t batch, Norm norm,
              std::string label = "surro::fft")
      : m_shape(std::move(shape)), m_batch(batch), m_label(std::move(label)) {
    SURRO_REQUIRE(!m_shape.empty() && m_shape.size() <= 3,
                  m_label << ": " << m_shape.size() << " transform axes: expected 1, 2 or 3");
    for (std::size_t i = 0; i < m_shape.size(); ++i)
      SURRO_REQUIRE(m_shape[i] > 0,
                    m_label << ": shape[" << i << "] = " << m_shape[i] << ": expected a positive extent");
    SURRO_REQUIRE(m_batch > 0, m_label << ": batch = " << m_batch << ": expected > 0");
    m_engine = impl::make_engine<Real>(exec, m_shape, m_batch, norm, m_label);
  }

  int rank() const { return static_cast<int>(m_shape.size()); }
  index_t batch() const { return m_batch; }
  const std::vector<int>& shape() const { return m_shape; }
  // Elements of one real signal and of its half-spectrum.
  index_t real_size() const {
    index_t n = 1;
    for (int e : m_shape) n *= e;
    return n;
  }
  index_t complex_size() const { return real_size() / m_shape.back() * (m_shape.back() / 2 + 1); }

  template <class XView, class XHatView>
  void forward(const Exec& exec, const XView& x, const XHatView& x_hat) const {
    check_view(x, false, "x");
    check_view(x_hat, true, "x_hat");
    const auto region = profile_region("r2c");
    m_engine->forward(exec, x.data(), reinterpret_cast<complex_type*>(x_hat.data()));
  }

  template <class XHatView, class XView>
  void inverse(const Exec& exec, const XHatView& x_hat, const XView& x) const {
    check_view(x_hat, true, "x_hat");
    check_view(x, false, "x");
    const auto region = profile_region("c2r");
    m_engine->inverse(exec, reinterpret_cast<complex_type*>(x_hat.data()), x.data());
  }

  // Raw forms for callers that manage their own buffers: x has batch*real_size() elements,
  // x_hat batch*complex_size().
  void forward_raw(const Exec& exec, const Real* x, complex_type* x_hat) const {
    const auto region = profile_region("r2c");
    m_engine->forward(exec, x, x_hat);
  }
  void inverse_raw(const Exec& exec, complex_type* x_hat, Real* x) const {
    const auto region = profile_region("c2r");
    m_engine->inverse(exec, x_hat, x);
  }

 private:
  // While the profiler is on: a region "<label>::r2c" (or c2r) whose work is the input read once
  // and the output written once.
  std::unique_ptr<profile::Region> profile_region(const char* direction) const {
    if (!profile::enabled()) return nullptr;
    const double bytes = double(m_batch) *
                         (double(real_size()) * sizeof(Real) + double(complex_size()) * sizeof(complex_type));
    return std::make_unique<profile::Region>(m_label + "::" + direction, bytes);
  }

  template <class V>
  void check_view(const V& v, bool spectral, const char* name) const {
    using value_type = typename V::non_const_value_type;
    static_assert(std::is_same_v<typename V::array_layout, Kokkos::LayoutRight>,
                  "RealFftPlan: views must be LayoutRight (transform axes innermost)");
    static_assert(Kokkos::SpaceAccessibility<Exec, typename V::memory_space>::accessible,
                  "RealFftPlan: view memory must be accessible from the plan's execution space");
    static_assert(std::is_same_v<value_type, Real> || std::is_same_v<value_type, complex_type>,
                  "RealFftPlan: view value type must be Real or Kokkos::complex<Real>");
    const bool is_complex = std::is_same_v<value_type, complex_type>;
    SURRO_REQUIRE(is_complex == spectral,
                  m_label << ": " << name << " must be " << (spectral ? "complex" : "real"));
    const int r = static_cast<int>(V::rank);
    SURRO_REQUIRE(r >= rank(),
                  m_label << ": " << name << " has rank " << r << ": expected at least " << rank());
    for (int i = 0; i < rank(); ++i) {
      const bool last = i == rank() - 1;
      const index_t want = (spectral && last) ? m_shape[i] / 2 + 1 : m_shape[i];
      const index_t got = static_cast<index_t>(v.extent(r - rank() + i));
      SURRO_REQUIRE(got == want, m_label << ": " << name << ".extent(" << r - rank() + i << ") = " << got
                                         << ": expected " << want);
    }
    const index_t per = spectral ? complex_size() : real_size();
    SURRO_REQUIRE(static_cast<index_t>(v.span()) == per * m_batch && v.span_is_contiguous(),
                  m_label << ": " << name << " spans " << v.span() << " contiguous elements: expected "
                          << per * m_batch << " (batch " << m_batch << " x " << per << ")");
  }

  std::vector<int> m_shape;
  index_t m_batch;
  std::string m_label;
  std::shared_ptr<impl::Engine<Real, Exec>> m_engine;
};

// 1/N, 1/sqrt(N) or 1 for the given normalization and direction; shared by the backends.
inline double scale_factor(Norm norm, bool inverse, double n) {
  switch (norm) {
    case Norm::backward:
      return inverse ? 1.0 / n : 1.0;
    case Norm::forward:
      return inverse ? 1.0 : 1.0 / n;
    case Norm::ortho:
      return 1.0 / std::sqrt(n);
    case Norm::none:
      return 1.0;
  }
  return 1.0;
}

// Multiplies n elements of `data` by `factor` on `exec`; no-op for factor == 1.
template <class Exec, class T, class Real>
void scale(const Exec& exec, T* data, index_t n, Real factor, const char* label) {
  if (factor == Real(1)) return;
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<Exec>(exec, 0, n), KOKKOS_LAMBDA(const index_t i) { data[i] *= factor; });
}

}  // namespace surro::fft
