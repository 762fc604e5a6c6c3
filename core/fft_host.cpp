// FFTW backend for host execution spaces.
//
// Plans are made with FFTW_ESTIMATE (no timing runs, input arrays untouched) and FFTW_UNALIGNED,
// because Kokkos subviews need not have the alignment FFTW saw at plan time; execution uses the
// new-array interface (fftw_execute_dft_r2c & co) on the caller's pointers.
//
// The plans transform one field; a batch is a parallel loop over its fields on the host execution
// space (OpenMP threads or Serial). Each field is transformed by the same plan whichever thread
// takes it, so the results do not depend on the thread count, and the FFTs scale with the threads
// (FFTW's own threading would choose its algorithm by the thread count).
#include "core/fft.hpp"

#include <fftw3.h>

#include <mutex>

namespace surro::fft {
namespace {

// FFTW's planner is not thread-safe; execution is.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

template <class Real>
struct Fftw;

template <>
struct Fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static void* malloc(std::size_t n) { return fftw_malloc(n); }
  static void free(void* p) { fftw_free(p); }
  static plan r2c(int rank, const int* n, int howmany, double* in, complex* out, unsigned flags) {
    int idist = 1, odist = 1;
    for (int i = 0; i < rank; ++i) idist *= n[i];
    odist = idist / n[rank - 1] * (n[rank - 1] / 2 + 1);
    return fftw_plan_many_dft_r2c(rank, n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, flags);
  }
  static plan c2r(int rank, const int* n, int howmany, complex* in, double* out, unsigned flags) {
    int odist = 1;
    for (int i = 0; i < rank; ++i) odist *= n[i];
    const int idist = odist / n[rank - 1] * (n[rank - 1] / 2 + 1);
    return fftw_plan_many_dft_c2r(rank, n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, flags);
  }
  static void exec_r2c(plan p, double* in, complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
};

template <>
struct Fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static void* malloc(std::size_t n) { return fftwf_malloc(n); }
  static void free(void* p) { fftwf_free(p); }
  static plan r2c(int rank, const int* n, int howmany, float* in, complex* out, unsigned flags) {
    int idist = 1;
    for (int i = 0; i < rank; ++i) idist *= n[i];
    const int odist = idist / n[rank - 1] * (n[rank - 1] / 2 + 1);
    return fftwf_plan_many_dft_r2c(rank, n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, flags);
  }
  static plan c2r(int rank, const int* n, int howmany, complex* in, float* out, unsigned flags) {
    int odist = 1;
    for (int i = 0; i < rank; ++i) odist *= n[i];
    const int idist = odist / n[rank - 1] * (n[rank - 1] / 2 + 1);
    return fftwf_plan_many_dft_c2r(rank, n, howmany, in, nullptr, 1, idist, out, nullptr, 1, odist, flags);
  }
  static void exec_r2c(plan p, float* in, complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
};

template <class Real>
class FftwEngine final : public impl::Engine<Real, HostExec> {
  using F = Fftw<Real>;

 public:
  FftwEngine(const std::vector<int>& shape, index_t batch, Norm norm, const std::string& label)
      : m_label(label) {
    const int rank = static_cast<int>(shape.size());
    index_t n_real = 1;
    for (int e : shape) n_real *= e;
    const index_t n_complex = n_real / shape.back() * (shape.back() / 2 + 1);
    SURRO_REQUIRE(
        batch * n_real <= index_t(std::numeric_limits<int>::max()),
        label << ": batch x size = " << batch * n_real << " exceeds FFTW's int indexing; split the batch");
    m_batch = batch;
    m_n_real = n_real;
    m_n_complex = n_complex;
    m_forward_scale = static_cast<Real>(scale_factor(norm, false, double(n_real)));
    m_inverse_scale = static_cast<Real>(scale_factor(norm, true, double(n_real)));

    // Plan one field on scratch arrays of its size; FFTW_ESTIMATE does not write them.
    Real* r = static_cast<Real*>(F::malloc(sizeof(Real) * m_n_real));
    auto* c = static_cast<typename F::complex*>(F::malloc(sizeof(typename F::complex) * m_n_complex));
    {
      std::lock_guard<std::mutex> lock(planner_mutex());
      const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
      m_r2c = F::r2c(rank, shape.data(), 1, r, c, flags);
      m_c2r = F::c2r(rank, shape.data(), 1, c, r, flags);
    }
    F::free(r);
    F::free(c);
    SURRO_REQUIRE(m_r2c && m_c2r, label << ": FFTW could not create a plan");
  }
  ~FftwEngine() override {
    std::lock_guard<std::mutex> lock(planner_mutex());
    F::destroy(m_r2c);
    F::destroy(m_c2r);
  }

  // x (batch, N...) -> x_hat (batch, N.../2 + 1), one field per iteration.
  void forward(const HostExec& exec, const Real* x, Complex<Real>* x_hat) override {
    // r2c does not modify its input; FFTW's signature is just not const-correct.
    Real* in = const_cast<Real*>(x);
    auto* out = reinterpret_cast<typename F::complex*>(x_hat);
    const auto plan = m_r2c;
    const index_t nr = m_n_real, nc = m_n_complex;
    Kokkos::parallel_for("surro::fft::fftw::r2c", Kokkos::RangePolicy<HostExec>(exec, 0, m_batch),
                         [=](const index_t b) { F::exec_r2c(plan, in + b * nr, out + b * nc); });
    scale(exec, x_hat, m_batch * m_n_complex, m_forward_scale, "surro::fft::fftw::scale_forward");
  }
  // x_hat (batch, N.../2 + 1) -> x (batch, N...); x_hat is overwritten (FFTW's c2r).
  void inverse(const HostExec& exec, Complex<Real>* x_hat, Real* x) override {
    auto* in = reinterpret_cast<typename F::complex*>(x_hat);
    const auto plan = m_c2r;
    const index_t nr = m_n_real, nc = m_n_complex;
    Kokkos::parallel_for("surro::fft::fftw::c2r", Kokkos::RangePolicy<HostExec>(exec, 0, m_batch),
                         [=](const index_t b) { F::exec_c2r(plan, in + b * nc, x + b * nr); });
    scale(exec, x, m_batch * m_n_real, m_inverse_scale, "surro::fft::fftw::scale_inverse");
  }

 private:
  std::string m_label;
  index_t m_batch = 0, m_n_real = 0, m_n_complex = 0;  // fields; real and complex values per field
  Real m_forward_scale = 1, m_inverse_scale = 1;
  typename F::plan m_r2c = nullptr;
  typename F::plan m_c2r = nullptr;
};

}  // namespace

namespace impl {
template <class Real>
std::unique_ptr<Engine<Real, HostExec>> make_engine(const HostExec&, const std::vector<int>& shape,
                                                    index_t batch, Norm norm, const std::string& label) {
  return std::make_unique<FftwEngine<Real>>(shape, batch, norm, label);
}
template std::unique_ptr<Engine<float, HostExec>> make_engine<float>(const HostExec&, const std::vector<int>&,
                                                                     index_t, Norm, const std::string&);
template std::unique_ptr<Engine<double, HostExec>> make_engine<double>(const HostExec&,
                                                                       const std::vector<int>&, index_t, Norm,
                                                                       const std::string&);
}  // namespace impl

template <>
std::string backend_name<HostExec>() {
  return std::string("FFTW ") + fftw_version;
}

}  // namespace surro::fft
