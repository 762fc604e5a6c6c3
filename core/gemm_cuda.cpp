// cuBLAS backend for Kokkos::Cuda. Compiled only when Kokkos has CUDA (core/CMakeLists.txt).
//
// cuBLAS is column-major. A row-major matrix with leading dimension ld is, read column-major, its
// transpose, so row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: we pass B first,
// swap m and n, and keep each operand's op unchanged.
#include "core/error.hpp"
#include "core/gemm.hpp"

#include <cublas_v2.h>

namespace surro::gemm {
namespace {

#define SURRO_CUBLAS(call, label)                                                             \
  do {                                                                                        \
    const cublasStatus_t surro_s_ = (call);                                                   \
    if (surro_s_ != CUBLAS_STATUS_SUCCESS)                                                    \
      SURRO_THROW(::surro::ErrorKind::runtime, label << ": " #call " failed: "                \
                                                     << cublasGetStatusName(surro_s_));       \
  } while (false)

cublasOperation_t to_cublas(Op op) {
  switch (op) {
    case Op::none: return CUBLAS_OP_N;
    case Op::trans: return CUBLAS_OP_T;
    case Op::conj_trans: return CUBLAS_OP_C;
  }
  return CUBLAS_OP_N;
}

template <class Scalar>
struct CublasType;
template <>
struct CublasType<float> {
  static constexpr cudaDataType_t data = CUDA_R_32F;
};
template <>
struct CublasType<double> {
  static constexpr cudaDataType_t data = CUDA_R_64F;
};
template <>
struct CublasType<Complex<float>> {
  static constexpr cudaDataType_t data = CUDA_C_32F;
};
template <>
struct CublasType<Complex<double>> {
  static constexpr cudaDataType_t data = CUDA_C_64F;
};

}  // namespace

template <>
struct Gemm<Kokkos::Cuda>::State {
  cublasHandle_t handle = nullptr;
  ~State() {
    if (handle) cublasDestroy(handle);
  }
};

template <>
Gemm<Kokkos::Cuda>::Gemm(const Kokkos::Cuda&, Options options)
    : m_options(options), m_state(std::make_shared<State>()) {
  SURRO_CUBLAS(cublasCreate(&m_state->handle), "surro::gemm::cublas");
}

template <>
template <class Scalar>
void Gemm<Kokkos::Cuda>::operator()(const Kokkos::Cuda& exec, const Shape& s, Scalar alpha,
                                    const Scalar* a, const Scalar* b, Scalar beta, Scalar* c) const {
  constexpr const char* label = "surro::gemm::cublas";
  validate(s, label);
  if (s.batch == 0 || s.m == 0 || s.n == 0) return;
  constexpr cudaDataType_t type = CublasType<Scalar>::data;
  cublasComputeType_t compute = CUBLAS_COMPUTE_64F;
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, Complex<float>>)
    compute = m_options.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const auto region = impl::profile_region("cublas", s, beta, m_options.allow_tf32);
  // Op::conj_trans on real data is a plain transpose; cuBLAS accepts OP_C for real types too.
  SURRO_CUBLAS(cublasSetStream(m_state->handle, exec.cuda_stream()), label);
  SURRO_CUBLAS(cublasGemmStridedBatchedEx(m_state->handle, to_cublas(s.op_b), to_cublas(s.op_a), s.n,
                                          s.m, s.k, &alpha, b, type, s.ldb, s.stride_b, a, type, s.lda,
                                          s.stride_a, &beta, c, type, s.ldc, s.stride_c, s.batch,
                                          compute, CUBLAS_GEMM_DEFAULT),
               label);
}

template void Gemm<Kokkos::Cuda>::operator()<float>(const Kokkos::Cuda&, const Shape&, float,
                                                    const float*, const float*, float, float*) const;
template void Gemm<Kokkos::Cuda>::operator()<double>(const Kokkos::Cuda&, const Shape&, double,
                                                     const double*, const double*, double,
                                                     double*) const;
template void Gemm<Kokkos::Cuda>::operator()<Complex<float>>(
    const Kokkos::Cuda&, const Shape&, Complex<float>, const Complex<float>*, const Complex<float>*,
    Complex<float>, Complex<float>*) const;
template void Gemm<Kokkos::Cuda>::operator()<Complex<double>>(
    const Kokkos::Cuda&, const Shape&, Complex<double>, const Complex<double>*, const Complex<double>*,
    Complex<double>, Complex<double>*) const;

template <>
std::string Gemm<Kokkos::Cuda>::backend_name() {
  int version = 0;
  cublasGetProperty(MAJOR_VERSION, &version);
  int minor = 0, patch = 0;
  cublasGetProperty(MINOR_VERSION, &minor);
  cublasGetProperty(PATCH_LEVEL, &patch);
  return "cuBLAS " + std::to_string(version) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace surro::gemm
