// CBLAS backend (OpenBLAS) for host execution spaces. CBLAS takes row-major operands directly.
#include "core/error.hpp"
#include "core/gemm.hpp"

#include <cblas.h>

namespace surro::gemm {
namespace {

CBLAS_TRANSPOSE to_cblas(Op op, bool is_complex) {
  switch (op) {
    case Op::none: return CblasNoTrans;
    case Op::trans: return CblasTrans;
    case Op::conj_trans: return is_complex ? CblasConjTrans : CblasTrans;
  }
  return CblasNoTrans;
}

void call(const Shape& s, index_t b, float alpha, const float* a, const float* bm, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, to_cblas(s.op_a, false), to_cblas(s.op_b, false), s.m, s.n, s.k, alpha,
              a + b * s.stride_a, s.lda, bm + b * s.stride_b, s.ldb, beta, c + b * s.stride_c, s.ldc);
}
void call(const Shape& s, index_t b, double alpha, const double* a, const double* bm, double beta,
          double* c) {
  cblas_dgemm(CblasRowMajor, to_cblas(s.op_a, false), to_cblas(s.op_b, false), s.m, s.n, s.k, alpha,
              a + b * s.stride_a, s.lda, bm + b * s.stride_b, s.ldb, beta, c + b * s.stride_c, s.ldc);
}
void call(const Shape& s, index_t b, Complex<float> alpha, const Complex<float>* a,
          const Complex<float>* bm, Complex<float> beta, Complex<float>* c) {
  cblas_cgemm(CblasRowMajor, to_cblas(s.op_a, true), to_cblas(s.op_b, true), s.m, s.n, s.k, &alpha,
              a + b * s.stride_a, s.lda, bm + b * s.stride_b, s.ldb, &beta, c + b * s.stride_c, s.ldc);
}
void call(const Shape& s, index_t b, Complex<double> alpha, const Complex<double>* a,
          const Complex<double>* bm, Complex<double> beta, Complex<double>* c) {
  cblas_zgemm(CblasRowMajor, to_cblas(s.op_a, true), to_cblas(s.op_b, true), s.m, s.n, s.k, &alpha,
              a + b * s.stride_a, s.lda, bm + b * s.stride_b, s.ldb, &beta, c + b * s.stride_c, s.ldc);
}

}  // namespace

template <>
struct Gemm<HostExec>::State {};

template <>
Gemm<HostExec>::Gemm(const HostExec&, Options options)
    : m_options(options), m_state(std::make_shared<State>()) {}

template <>
template <class Scalar>
void Gemm<HostExec>::operator()(const HostExec& exec, const Shape& s, Scalar alpha, const Scalar* a,
                                const Scalar* b, Scalar beta, Scalar* c) const {
  validate(s, "surro::gemm::cblas");
  const auto region = impl::profile_region("cblas", s, beta, false);
  exec.fence();  // operands may come from kernels still running on this instance
  for (index_t i = 0; i < s.batch; ++i) call(s, i, alpha, a, b, beta, c);
}

template void Gemm<HostExec>::operator()<float>(const HostExec&, const Shape&, float, const float*,
                                                const float*, float, float*) const;
template void Gemm<HostExec>::operator()<double>(const HostExec&, const Shape&, double, const double*,
                                                 const double*, double, double*) const;
template void Gemm<HostExec>::operator()<Complex<float>>(const HostExec&, const Shape&, Complex<float>,
                                                         const Complex<float>*, const Complex<float>*,
                                                         Complex<float>, Complex<float>*) const;
template void Gemm<HostExec>::operator()<Complex<double>>(const HostExec&, const Shape&, Complex<double>,
                                                          const Complex<double>*, const Complex<double>*,
                                                          Complex<double>, Complex<double>*) const;

template <>
std::string Gemm<HostExec>::backend_name() {
  std::string config = openblas_get_config();
  return "OpenBLAS (CBLAS) " + config;
}

}  // namespace surro::gemm
