// cuFFT backend for Kokkos::Cuda. Compiled only when Kokkos has CUDA (core/CMakeLists.txt).
//
// cufftPlanMany allocates the plan's work area once, at plan time; execute() binds the plan to the
// stream of the execution-space instance it is given, so transforms order with the caller's kernels.
#include "core/fft.hpp"

#include <cufft.h>

namespace surro::fft {
namespace {

const char* cufft_error_name(cufftResult r) {
  switch (r) {
    case CUFFT_SUCCESS:
      return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
      return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
      return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_VALUE:
      return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
      return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
      return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
      return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
      return "CUFFT_INVALID_SIZE";
    default:
      return "cufftResult";
  }
}

#define SURRO_CUFFT(call, label)                                                                             \
  do {                                                                                                       \
    const cufftResult surro_r_ = (call);                                                                     \
    if (surro_r_ != CUFFT_SUCCESS)                                                                           \
      SURRO_THROW(::surro::ErrorKind::runtime, label << ": " #call " failed: " << cufft_error_name(surro_r_) \
                                                     << " (" << int(surro_r_) << ")");                       \
  } while (false)

template <class Real>
struct CufftTypes;
template <>
struct CufftTypes<float> {
  using complex = cufftComplex;
  static constexpr cufftType r2c = CUFFT_R2C, c2r = CUFFT_C2R;
  static cufftResult exec_r2c(cufftHandle p, float* in, complex* out) { return cufftExecR2C(p, in, out); }
  static cufftResult exec_c2r(cufftHandle p, complex* in, float* out) { return cufftExecC2R(p, in, out); }
};
template <>
struct CufftTypes<double> {
  using complex = cufftDoubleComplex;
  static constexpr cufftType r2c = CUFFT_D2Z, c2r = CUFFT_Z2D;
  static cufftResult exec_r2c(cufftHandle p, double* in, complex* out) { return cufftExecD2Z(p, in, out); }
  static cufftResult exec_c2r(cufftHandle p, complex* in, double* out) { return cufftExecZ2D(p, in, out); }
};

template <class Real>
class CufftEngine final : public impl::Engine<Real, Kokkos::Cuda> {
  using T = CufftTypes<Real>;

 public:
  CufftEngine(const std::vector<int>& shape, index_t batch, Norm norm, const std::string& label)
      : m_label(label) {
    const int rank = static_cast<int>(shape.size());
    long long n[3] = {0, 0, 0}, inembed[3], onembed[3];
    index_t n_real = 1;
    for (int i = 0; i < rank; ++i) {
      n[i] = inembed[i] = onembed[i] = shape[i];
      n_real *= shape[i];
    }
    const index_t n_complex = n_real / shape.back() * (shape.back() / 2 + 1);
    onembed[rank - 1] = shape.back() / 2 + 1;  // half-spectrum is the packed layout of x_hat
    m_n_real = batch * n_real;
    m_n_complex = batch * n_complex;
    m_forward_scale = static_cast<Real>(scale_factor(norm, false, double(n_real)));
    m_inverse_scale = static_cast<Real>(scale_factor(norm, true, double(n_real)));

    std::size_t work = 0;
    SURRO_CUFFT(cufftCreate(&m_r2c), label);
    SURRO_CUFFT(
        cufftMakePlanMany64(m_r2c, rank, n, inembed, 1, n_real, onembed, 1, n_complex, T::r2c, batch, &work),
        label);
    SURRO_CUFFT(cufftCreate(&m_c2r), label);
    SURRO_CUFFT(
        cufftMakePlanMany64(m_c2r, rank, n, onembed, 1, n_complex, inembed, 1, n_real, T::c2r, batch, &work),
        label);
  }
  ~CufftEngine() override {
    cufftDestroy(m_r2c);
    cufftDestroy(m_c2r);
  }

  void forward(const Kokkos::Cuda& exec, const Real* x, Complex<Real>* x_hat) override {
    SURRO_CUFFT(cufftSetStream(m_r2c, exec.cuda_stream()), m_label);
    SURRO_CUFFT(T::exec_r2c(m_r2c, const_cast<Real*>(x), reinterpret_cast<typename T::complex*>(x_hat)),
                m_label);
    scale(exec, x_hat, m_n_complex, m_forward_scale, "surro::fft::cufft::scale_forward");
  }
  void inverse(const Kokkos::Cuda& exec, Complex<Real>* x_hat, Real* x) override {
    SURRO_CUFFT(cufftSetStream(m_c2r, exec.cuda_stream()), m_label);
    SURRO_CUFFT(T::exec_c2r(m_c2r, reinterpret_cast<typename T::complex*>(x_hat), x), m_label);
    scale(exec, x, m_n_real, m_inverse_scale, "surro::fft::cufft::scale_inverse");
  }

 private:
  std::string m_label;
  index_t m_n_real = 0, m_n_complex = 0;
  Real m_forward_scale = 1, m_inverse_scale = 1;
  cufftHandle m_r2c = 0, m_c2r = 0;
};

}  // namespace

namespace impl {
template <class Real>
std::unique_ptr<Engine<Real, Kokkos::Cuda>> make_engine(const Kokkos::Cuda&, const std::vector<int>& shape,
                                                        index_t batch, Norm norm, const std::string& label) {
  return std::make_unique<CufftEngine<Real>>(shape, batch, norm, label);
}
template std::unique_ptr<Engine<float, Kokkos::Cuda>> make_engine<float>(const Kokkos::Cuda&,
                                                                         const std::vector<int>&, index_t,
                                                                         Norm, const std::string&);
template std::unique_ptr<Engine<double, Kokkos::Cuda>> make_engine<double>(const Kokkos::Cuda&,
                                                                           const std::vector<int>&, index_t,
                                                                           Norm, const std::string&);
}  // namespace impl

template <>
std::string backend_name<Kokkos::Cuda>() {
  int version = 0;
  cufftGetVersion(&version);
  return "cuFFT " + std::to_string(version);
}

}  // namespace surro::fft
