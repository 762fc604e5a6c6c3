#pragma once
// Strided-batched GEMM with row-major semantics, dispatched on the execution space:
// CBLAS (OpenBLAS) on host spaces, cuBLAS on CUDA (on the instance's stream).
//
// For each b in [0, batch):   C_b = alpha * op(A_b) * op(B_b) + beta * C_b
//   op(A_b): (m, k), op(B_b): (k, n), C_b: (m, n), all row-major with leading dimensions lda, ldb,
//   ldc (the distance between consecutive rows), and X_b = X + b * stride_x. A stride of 0
//   broadcasts one matrix to every batch entry (shared weights).
// Scalars: float, double, Kokkos::complex<float>, Kokkos::complex<double>. Op::conj_trans on a
// real type is the same as Op::trans.
//
// A Gemm object is built once (it owns the cuBLAS handle) and reused; calls allocate nothing.
#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/types.hpp"

#include <memory>
#include <string>
#include <type_traits>

namespace surro::gemm {

enum class Op { none, trans, conj_trans };

struct Shape {
  Op op_a = Op::none, op_b = Op::none;
  int m = 0, n = 0, k = 0;
  int lda = 0, ldb = 0, ldc = 0;
  index_t stride_a = 0, stride_b = 0, stride_c = 0;
  int batch = 1;
};

struct Options {
  // float GEMMs may use TF32 tensor cores (cuBLAS only; about 1e-3 relative error). Off by default
  // and in every test: it is a precision policy the caller opts into.
  bool allow_tf32 = false;
};

// Throws if lda/ldb/ldc are too small for the shape or a size is negative.
void validate(const Shape& s, const char* label);

namespace impl {
// The profiler's region for one call (only while the profiler is on): named by backend, type and
// shape, e.g. "surro::gemm::cublas sgemm NT 96x1440x84480 b1"; its work is A and B read once and
// C written once (also read when beta != 0), and 2mnk flops per matrix (8mnk when complex).
std::unique_ptr<profile::Region> profile_region(const char* backend, const Shape& s, char type,
                                                std::size_t bytes, bool reads_c, bool tf32);
template <class Scalar>
std::unique_ptr<profile::Region> profile_region(const char* backend, const Shape& s, Scalar beta, bool tf32) {
  if (!profile::enabled()) return nullptr;
  constexpr char type = std::is_same_v<Scalar, float>            ? 's'
                        : std::is_same_v<Scalar, double>         ? 'd'
                        : std::is_same_v<Scalar, Complex<float>> ? 'c'
                                                                 : 'z';
  return profile_region(backend, s, type, sizeof(Scalar), beta != Scalar(0),
                        tf32 && (type == 's' || type == 'c'));
}
}  // namespace impl

// A Shape in one expression (the field order of Shape); strides 0 and batch 1 by default.
inline Shape make_shape(Op op_a, Op op_b, index_t m, index_t n, index_t k, index_t lda, index_t ldb,
                        index_t ldc, index_t stride_a = 0, index_t stride_b = 0, index_t stride_c = 0,
                        index_t batch = 1) {
  Shape s;
  s.op_a = op_a;
  s.op_b = op_b;
  s.m = int(m);
  s.n = int(n);
  s.k = int(k);
  s.lda = int(lda);
  s.ldb = int(ldb);
  s.ldc = int(ldc);
  s.stride_a = stride_a;
  s.stride_b = stride_b;
  s.stride_c = stride_c;
  s.batch = int(batch);
  return s;
}

template <class Exec>
class Gemm {
 public:
  explicit Gemm(const Exec& exec, Options options = {});

  template <class Scalar>
  void operator()(const Exec& exec, const Shape& s, Scalar alpha, const Scalar* a, const Scalar* b,
                  Scalar beta, Scalar* c) const;

  const Options& options() const { return m_options; }
  // Library name and version, e.g. "OpenBLAS 0.3.21 (CBLAS)".
  static std::string backend_name();

 private:
  struct State;  // backend handle; defined per backend
  Options m_options;
  std::shared_ptr<State> m_state;
};
// Each backend's source specializes Gemm's members for its execution space (gemm_host.cpp,
// gemm_cuda.cpp). Declared here, so that a source compiled before them in the same unity unit
// (profile.cpp's calibration, say) does not instantiate the primary members first.
#define SURRO_GEMM_BACKEND(EXEC)                                                               \
  template <>                                                                                  \
  Gemm<EXEC>::Gemm(const EXEC& exec, Options options);                                         \
  template <>                                                                                  \
  template <class Scalar>                                                                      \
  void Gemm<EXEC>::operator()(const EXEC& exec, const Shape& s, Scalar alpha, const Scalar* a, \
                              const Scalar* b, Scalar beta, Scalar* c) const;                  \
  template <>                                                                                  \
  std::string Gemm<EXEC>::backend_name();
SURRO_GEMM_BACKEND(HostExec)
#if defined(KOKKOS_ENABLE_CUDA)
SURRO_GEMM_BACKEND(Kokkos::Cuda)
#endif
#undef SURRO_GEMM_BACKEND

// View form for the common case: contiguous LayoutRight (batch, rows, cols) operands, or rank-2
// operands broadcast over the batch. op_a/op_b say how A and B are read.
template <class Exec, class AV, class BV, class CV>
void batched(const Gemm<Exec>& gemm, const Exec& exec, Op op_a, Op op_b,
             typename CV::non_const_value_type alpha, const AV& a, const BV& b,
             typename CV::non_const_value_type beta, const CV& c) {
  static_assert(CV::rank == 3, "gemm::batched: C must be (batch, m, n)");
  static_assert(AV::rank == 2 || AV::rank == 3, "gemm::batched: A must be (batch, r, c) or (r, c)");
  static_assert(BV::rank == 2 || BV::rank == 3, "gemm::batched: B must be (batch, r, c) or (r, c)");
  Shape s;
  s.op_a = op_a;
  s.op_b = op_b;
  s.batch = static_cast<int>(c.extent(0));
  s.m = static_cast<int>(c.extent(1));
  s.n = static_cast<int>(c.extent(2));
  const int ar = AV::rank == 3 ? 1 : 0, br = BV::rank == 3 ? 1 : 0;
  s.k = static_cast<int>(op_a == Op::none ? a.extent(ar + 1) : a.extent(ar));
  s.lda = static_cast<int>(a.extent(ar + 1));
  s.ldb = static_cast<int>(b.extent(br + 1));
  s.ldc = s.n;
  s.stride_a = AV::rank == 3 ? index_t(a.extent(1) * a.extent(2)) : 0;
  s.stride_b = BV::rank == 3 ? index_t(b.extent(1) * b.extent(2)) : 0;
  s.stride_c = index_t(s.m) * s.n;
  const int a_rows = op_a == Op::none ? s.m : s.k, b_rows = op_b == Op::none ? s.k : s.n;
  const int b_cols = op_b == Op::none ? s.n : s.k;
  SURRO_REQUIRE(
      int(a.extent(ar)) == a_rows && int(b.extent(br)) == b_rows && s.ldb == b_cols &&
          (AV::rank == 2 || int(a.extent(0)) == s.batch) && (BV::rank == 2 || int(b.extent(0)) == s.batch),
      "gemm::batched: shapes do not agree: C (" << s.batch << ", " << s.m << ", " << s.n << "), k = " << s.k);
  gemm(exec, s, alpha, a.data(), b.data(), beta, c.data());
}

}  // namespace surro::gemm
