#pragma once
// Strided-batched GEMM with row-major semantics, dispatched on the execution space:
// CBLAS (OpenBLAS) on host spaces, cuBLAS on CUDA (on the instance's stream).
//
// For each b in [0, batch):   C_b = alpha * op(A_b) * op(B_b) + beta * C_b
//   op(A_b): (m, k), op(B_b): (k, n), C_b: (m, n), all row-major with leading dimensions lda, ldb,
//   ldc (the distance between consecutive rows), and X_b = X + b * stride_x. A stride of 0
//   broadcasts one matrix to every batch entry (shared weights).
// An outer count repeats that batch with strides of its own: entry (o, b), o < outer, is
//   X_{o,b} = X + o * outer_x + b * stride_x, all outer * batch products in one library call (on
//   CUDA through pointer arrays). It is how a block of P matrices for each of M blocks, laid out
//   with a block stride that is not P times the matrix stride, runs as one call instead of M.
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
  int outer = 1;  // see above; 1: a plain strided batch
  index_t outer_a = 0, outer_b = 0, outer_c = 0;
  index_t entries() const { return index_t(outer) * batch; }
  // The offset of entry q = o * batch + b (q < entries()) in an operand with these strides.
  KOKKOS_INLINE_FUNCTION static index_t offset(index_t q, int batch, index_t stride, index_t outer_stride) {
    return q / batch * outer_stride + q % batch * stride;
  }
};

struct Options {
  // float GEMMs may use TF32 tensor cores (cuBLAS only; about 1e-3 relative error). Off by default
  // and in every test: it is a precision policy the caller opts into.
  bool allow_tf32 = false;
};

// What the product's own store also does to C, after alpha op(A) op(B) + beta C (real scalars):
//   C(b, i, j) += bias[j]      bias (n): one value per column of row-major C, for every batch entry
//   C = max(C, 0)              with relu, after the bias
// cuBLASLt applies both in the GEMM's epilogue (CUBLASLT_EPILOGUE_BIAS / RELU_BIAS / RELU) for a
// single product, so C is written once; the host backend and batched products apply them in one
// pass after the GEMM (impl::apply_epilogue). An empty Epilogue is a plain GEMM.
template <class Scalar>
struct Epilogue {
  const Scalar* bias = nullptr;  // (n) or null
  bool relu = false;
  bool empty() const { return bias == nullptr && !relu; }
  // v after the epilogue, v in column j (real scalars): what every pass that applies it computes.
  KOKKOS_INLINE_FUNCTION Scalar operator()(const Scalar v, const int j) const {
    const Scalar z = bias ? v + bias[j] : v;
    return relu && !(z > Scalar(0)) ? Scalar(0) : z;
  }
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

// Throws unless the epilogue can be applied to these products: a real scalar type, and no outer
// count (no caller needs both). Backends check it before the product, so a refused call writes nothing.
template <class Scalar>
void validate_epilogue(const Shape& s, const Epilogue<Scalar>& ep) {
  if constexpr (!std::is_floating_point_v<Scalar>) {
    SURRO_REQUIRE(ep.empty(), "surro::gemm: an epilogue (bias, relu) needs a real scalar type");
  } else {
    SURRO_REQUIRE(ep.empty() || s.outer == 1, "surro::gemm: an epilogue (bias, relu) with outer = "
                                                  << s.outer << ": expected outer 1 (no caller needs both)");
  }
}

// Element q of the (batch, m, n) outputs through the epilogue: one element per device thread, so that
// a warp writes consecutive columns (the row and column from q's divisions, 32-bit where
// for_each_index allows).
template <class Scalar>
struct EpilogueAt {
  Scalar* c;
  Epilogue<Scalar> ep;
  index_t m, n, ldc, stride;
  template <class I>
  KOKKOS_INLINE_FUNCTION void operator()(const I q) const {
    const I r = q / I(n), j = q - r * I(n);
    Scalar& v = c[index_t(r / I(m)) * stride + index_t(r % I(m)) * ldc + j];
    v = ep(v, int(j));
  }
};

// The epilogue as a pass over C (batch, m, n) after the product: what the host backend does, and
// what the CUDA one does where cuBLASLt does not take it (batched products, no algorithm found).
// The caller has checked validate_epilogue.
template <class Exec, class Scalar>
void apply_epilogue(const Exec& exec, const Shape& s, const Epilogue<Scalar>& ep, Scalar* c) {
  if constexpr (std::is_floating_point_v<Scalar>) {
    if (ep.empty() || s.batch == 0 || s.m == 0 || s.n == 0) return;
    const index_t rows = index_t(s.batch) * s.m, m = s.m, ldc = s.ldc, stride = s.stride_c;
    const int n = s.n;
    profile::add_work("surro::gemm::epilogue", (2.0 * double(rows) * n + (ep.bias ? n : 0)) * sizeof(Scalar));
    if constexpr (is_device_exec_v<Exec>) {
      for_each_index(exec, "surro::gemm::epilogue", rows * n, EpilogueAt<Scalar>{c, ep, m, n, ldc, stride});
    } else {  // a host thread per row, its columns in a loop: no division per element
      Kokkos::parallel_for(
          "surro::gemm::epilogue", Kokkos::RangePolicy<Exec>(exec, 0, rows), KOKKOS_LAMBDA(const index_t r) {
            Scalar* row = c + r / m * stride + r % m * ldc;
            for (int j = 0; j < n; ++j) row[j] = ep(row[j], j);
          });
    }
  }
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

// The same products as a plain strided batch (outer 1) where the strides allow it: batch 1 (the outer
// strides become the batch's), or each operand's outer stride batch times its stride (the outer
// entries follow one another). Otherwise s itself. Backends call it first, so that a caller may use
// an outer count without asking whether it is needed (cuBLAS then needs no pointer arrays).
inline Shape flattened(Shape s) {
  if (s.outer == 1) return s;
  const bool contiguous = s.outer_a == index_t(s.batch) * s.stride_a &&
                          s.outer_b == index_t(s.batch) * s.stride_b &&
                          s.outer_c == index_t(s.batch) * s.stride_c;
  if (s.batch == 1) {
    s.stride_a = s.outer_a;
    s.stride_b = s.outer_b;
    s.stride_c = s.outer_c;
  } else if (!contiguous) {
    return s;
  }
  s.batch = int(s.entries());
  s.outer = 1;
  s.outer_a = s.outer_b = s.outer_c = 0;
  return s;
}

// The Shape with an outer count and its strides (Shape's outer, outer_a, outer_b, outer_c).
inline Shape with_outer(Shape s, index_t outer, index_t outer_a, index_t outer_b, index_t outer_c) {
  s.outer = int(outer);
  s.outer_a = outer_a;
  s.outer_b = outer_b;
  s.outer_c = outer_c;
  return s;
}

template <class Exec>
class Gemm {
 public:
  explicit Gemm(const Exec& exec, Options options = {});

  // C = alpha op(A) op(B) + beta C, then the epilogue (real scalars; empty by default).
  template <class Scalar>
  void operator()(const Exec& exec, const Shape& s, Scalar alpha, const Scalar* a, const Scalar* b,
                  Scalar beta, Scalar* c, const Epilogue<Scalar>& epilogue = {}) const;

  const Options& options() const { return m_options; }
  // Library name and version, e.g. "OpenBLAS 0.3.21 (CBLAS)".
  static std::string backend_name();

  // Backend handles and plans; defined per backend (named here so that a backend's helper
  // functions can take it).
  struct State;

 private:
  Options m_options;
  std::shared_ptr<State> m_state;
};
// OpenBLAS's own threads, where host GEMMs use them: a Serial host space hands each matrix to
// OpenBLAS whole (gemm_host.cpp), and OpenBLAS starts, unless told otherwise, one thread per CPU of
// the process's affinity mask. With OpenMP host threads OpenBLAS runs single-threaded (0 here).
int host_blas_threads();
// For `local_processes` processes of one run on this node (comm::local_size()): OpenBLAS's threads
// cut to the node's hardware threads shared among them (shared_blas_threads), so that N unbound
// processes (mpirun binds more than 2 ranks to sockets, not cores) do not start N times the cores:
// a threaded OpenBLAS call waits for its threads, and on an oversubscribed core they wait for a
// turn. Measured on a 2-core machine: two unbound ranks (mpirun --bind-to none) training one FNO
// epoch took 18.5-22.4 s with 2 OpenBLAS threads each and 15.2-15.6 s with 1; one rollout took 7.4 s
// instead of 2.4 s with OpenBLAS's 2 threads while a compiler used the cores. Returns the count
// set, 0 where nothing changed.
int share_host_blas_threads(int local_processes);
// The rule: where OpenBLAS threads (blas_threads > 1), no thread variable is set (user_set:
// OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS, which OpenBLAS reads itself) and more
// than one process shares the node: min(blas_threads, max(1, hardware_threads / local_processes));
// otherwise 0 (keep).
int shared_blas_threads(int blas_threads, int hardware_threads, int local_processes, bool user_set);

// Each backend's source specializes Gemm's members for its execution space (gemm_host.cpp,
// gemm_cuda.cpp). Declared here, so that a source compiled before them in the same unity unit
// (profile.cpp's calibration, say) does not instantiate the primary members first.
#define SURRO_GEMM_BACKEND(EXEC)                                                                         \
  template <>                                                                                            \
  Gemm<EXEC>::Gemm(const EXEC& exec, Options options);                                                   \
  template <>                                                                                            \
  template <class Scalar>                                                                                \
  void Gemm<EXEC>::operator()(const EXEC& exec, const Shape& s, Scalar alpha, const Scalar* a,           \
                              const Scalar* b, Scalar beta, Scalar* c, const Epilogue<Scalar>& epilogue) \
      const;                                                                                             \
  template <>                                                                                            \
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
