// cuBLAS backend for Kokkos::Cuda. Compiled only when Kokkos has CUDA (core/CMakeLists.txt).
//
// cuBLAS is column-major. A row-major matrix with leading dimension ld is, read column-major, its
// transpose, so row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: we pass B first,
// swap m and n, and keep each operand's op unchanged.
#include "core/error.hpp"
#include "core/gemm.hpp"

#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <map>
#include <tuple>

namespace surro::gemm {
namespace {

#define SURRO_CUBLAS(call, label)                                                    \
  do {                                                                               \
    const cublasStatus_t surro_s_ = (call);                                          \
    if (surro_s_ != CUBLAS_STATUS_SUCCESS)                                           \
      SURRO_THROW(::surro::ErrorKind::runtime,                                       \
                  label << ": " #call " failed: " << cublasGetStatusName(surro_s_)); \
  } while (false)

cublasOperation_t to_cublas(Op op) {
  switch (op) {
    case Op::none:
      return CUBLAS_OP_N;
    case Op::trans:
      return CUBLAS_OP_T;
    case Op::conj_trans:
      return CUBLAS_OP_C;
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

// The largest power of two (up to 256) that divides a pointer's address: cuBLASLt's heuristic
// assumes 256-byte aligned operands unless told otherwise, and our operands are often offsets into
// one activation buffer.
std::uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t align = 256;
  while (align > 4 && a % align != 0) align /= 2;
  return align;
}

// One cuBLASLt product with an epilogue: its descriptors and the algorithm the heuristic chose,
// planned on the first call of a (shape, type, epilogue, alignments) and reused.
struct LtPlan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, out = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;  // false: no algorithm takes this product; the caller falls back
  LtPlan() = default;
  LtPlan(const LtPlan&) = delete;
  LtPlan& operator=(const LtPlan&) = delete;
  ~LtPlan() {
    if (out) cublasLtMatrixLayoutDestroy(out);
    if (second) cublasLtMatrixLayoutDestroy(second);
    if (first) cublasLtMatrixLayoutDestroy(first);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

// Whether epilogues go to cuBLASLt (SURRO_CUBLASLT, read once per Gemm): "all" (the default) or
// "off" (every epilogue in the pass after cublasGemm, impl::apply_epilogue): the same values, a way
// to compare the two in one build or to step around a cuBLASLt problem.
bool lt_from_environment() {
  const char* env = std::getenv("SURRO_CUBLASLT");
  const std::string mode = env && *env ? env : "all";
  if (mode == "all") return true;
  if (mode == "off") return false;
  SURRO_THROW(ErrorKind::usage, "SURRO_CUBLASLT (environment): expected all or off, got \"" << mode << "\"");
}

using LtKey = std::tuple<int, int, int, int, int, int, int, int, int, int, int, std::uint32_t, std::uint32_t,
                         std::uint32_t, std::uint32_t>;
// (A, B, C addresses, scalar size, batch, strides, outer strides): what an entry pointer array holds.
using PointerKey = std::tuple<std::uintptr_t, std::uintptr_t, std::uintptr_t, std::size_t, int, index_t,
                              index_t, index_t, index_t, index_t, index_t, index_t>;

}  // namespace

template <>
struct Gemm<Kokkos::Cuda>::State {
  cublasHandle_t handle = nullptr;
  cublasLtHandle_t lt = nullptr;     // created on the first product with an epilogue
  void* workspace = nullptr;         // (kLtWorkspace bytes) for cuBLASLt's split-K algorithms
  std::map<LtKey, LtPlan> lt_plans;  // one per (shape, type, epilogue, alignments)
  bool use_lt = true;                // SURRO_CUBLASLT
  // (3, entries) device pointers for each product with an outer count (gemm.hpp): B's, A's and C's
  // entries for cublasGemmBatchedEx, one array per (operand addresses, strides, scalar size). The
  // values are a function of the key alone, so an array is written once and reused: a model's
  // planned buffers keep their addresses, and its later steps launch no pointer kernel (the
  // IFactFormer-m step made 220 such launches). The cache is bounded (kMaxPointerBytes); a full one
  // is emptied (cudaFree synchronizes the device, so no product still reads a freed array).
  std::map<PointerKey, void**> pointer_arrays;
  std::size_t pointer_bytes = 0;
  static constexpr std::size_t kMaxPointerBytes = std::size_t(64) << 20;
  static constexpr std::size_t kLtWorkspace = std::size_t(32) << 20;  // NVIDIA's advice for Hopper
  static constexpr std::size_t kLtMaxPlans = 1024;
  void clear_pointer_arrays() {
    for (auto& entry : pointer_arrays) cudaFree(entry.second);
    pointer_arrays.clear();
    pointer_bytes = 0;
  }
  ~State() {
    lt_plans.clear();
    clear_pointer_arrays();
    if (workspace) cudaFree(workspace);
    if (lt) cublasLtDestroy(lt);
    if (handle) cublasDestroy(handle);
  }
};

namespace {

// Plans (first call) or finds the cuBLASLt product C = epilogue(alpha op(A) op(B) + beta C) for a
// single row-major product, read as the column-major C^T = op(B)^T op(A)^T as cublasGemm is above.
template <class Scalar>
const LtPlan& lt_plan(Gemm<Kokkos::Cuda>::State& st, const Shape& s, const Scalar* a, const Scalar* b,
                      const Scalar* c, const Epilogue<Scalar>& ep, cublasComputeType_t compute) {
  constexpr const char* label = "surro::gemm::cublasLt";
  constexpr cudaDataType_t type = CublasType<Scalar>::data;
  const std::uint32_t al_a = alignment_of(a), al_b = alignment_of(b), al_c = alignment_of(c),
                      al_bias = ep.bias ? alignment_of(ep.bias) : 256;
  const LtKey key{int(type),
                  int(compute),
                  int(s.op_a),
                  int(s.op_b),
                  s.m,
                  s.n,
                  s.k,
                  s.lda,
                  s.ldb,
                  s.ldc,
                  (ep.bias ? 1 : 0) + (ep.relu ? 2 : 0),
                  al_a,
                  al_b,
                  al_c,
                  al_bias};
  auto found = st.lt_plans.find(key);
  if (found != st.lt_plans.end()) return found->second;
  if (!st.lt) {
    SURRO_CUBLAS(cublasLtCreate(&st.lt), label);
    if (cudaMalloc(&st.workspace, st.kLtWorkspace) != cudaSuccess)
      SURRO_THROW(ErrorKind::runtime,
                  label << ": cudaMalloc of a " << (st.kLtWorkspace >> 20) << " MiB workspace failed");
  }
  // Graph batches change the row count from one batch to the next, so the plans are bounded: a
  // full cache starts again (a plan costs one heuristic query and four descriptors).
  if (st.lt_plans.size() >= st.kLtMaxPlans) st.lt_plans.clear();
  LtPlan& plan = st.lt_plans[key];
  try {  // a plan that failed half-way is not kept: the next call plans again
    const cudaDataType_t scale = type;
    SURRO_CUBLAS(cublasLtMatmulDescCreate(&plan.op, compute, scale), label);
    const cublasOperation_t op_first = s.op_b == Op::none ? CUBLAS_OP_N : CUBLAS_OP_T,
                            op_second = s.op_a == Op::none ? CUBLAS_OP_N : CUBLAS_OP_T;
    SURRO_CUBLAS(
        cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_first, sizeof(op_first)),
        label);
    SURRO_CUBLAS(
        cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &op_second, sizeof(op_second)),
        label);
    const cublasLtEpilogue_t epilogue = ep.bias
                                            ? (ep.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                                            : (ep.relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
    SURRO_CUBLAS(
        cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)),
        label);
    if (ep.bias)  // the heuristic reads the pointer's alignment from it
      SURRO_CUBLAS(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &ep.bias,
                                                  sizeof(ep.bias)),
                   label);
    // Column-major views: the first operand is B (n x k, or k x n transposed), the second A.
    const bool bn = s.op_b == Op::none, an = s.op_a == Op::none;
    SURRO_CUBLAS(cublasLtMatrixLayoutCreate(&plan.first, type, bn ? s.n : s.k, bn ? s.k : s.n, s.ldb), label);
    SURRO_CUBLAS(cublasLtMatrixLayoutCreate(&plan.second, type, an ? s.k : s.m, an ? s.m : s.k, s.lda),
                 label);
    SURRO_CUBLAS(cublasLtMatrixLayoutCreate(&plan.out, type, s.n, s.m, s.ldc), label);
    cublasLtMatmulPreference_t pref = nullptr;
    SURRO_CUBLAS(cublasLtMatmulPreferenceCreate(&pref), label);
    const std::uint64_t ws_bytes = st.kLtWorkspace;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes,
                                         sizeof(ws_bytes));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_b,
                                         sizeof(al_b));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_a,
                                         sizeof(al_a));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c,
                                         sizeof(al_c));
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c,
                                         sizeof(al_c));
    cublasLtMatmulHeuristicResult_t result{};
    int count = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
        st.lt, plan.op, plan.first, plan.second, plan.out, plan.out, pref, 1, &result, &count);
    cublasLtMatmulPreferenceDestroy(pref);
    plan.found = status == CUBLAS_STATUS_SUCCESS && count > 0 && result.state == CUBLAS_STATUS_SUCCESS;
    if (plan.found) plan.algo = result.algo;
  } catch (...) {
    st.lt_plans.erase(key);
    throw;
  }
  return plan;
}

// The outer * batch entries' pointers (B's, then A's, then C's: cuBLAS's operand order): found in
// st.pointer_arrays, or written there by a kernel on the call's stream, fenced so that a later call
// on another stream reads a complete array.
template <class Scalar>
void** entry_pointers(Gemm<Kokkos::Cuda>::State& st, const Kokkos::Cuda& exec, const Shape& s,
                      const Scalar* a, const Scalar* b, Scalar* c) {
  const index_t count = s.entries();
  const PointerKey key{reinterpret_cast<std::uintptr_t>(a),
                       reinterpret_cast<std::uintptr_t>(b),
                       reinterpret_cast<std::uintptr_t>(c),
                       sizeof(Scalar),
                       s.batch,
                       count,
                       s.stride_a,
                       s.stride_b,
                       s.stride_c,
                       s.outer_a,
                       s.outer_b,
                       s.outer_c};
  const auto found = st.pointer_arrays.find(key);
  if (found != st.pointer_arrays.end()) return found->second;
  const std::size_t bytes = 3 * sizeof(void*) * std::size_t(count);
  if (st.pointer_bytes + bytes > st.kMaxPointerBytes) st.clear_pointer_arrays();
  void** p = nullptr;
  if (cudaMalloc(reinterpret_cast<void**>(&p), bytes) != cudaSuccess)
    SURRO_THROW(ErrorKind::runtime,
                "surro::gemm::cublas: cudaMalloc of " << 3 * count << " entry pointers failed");
  st.pointer_arrays.emplace(key, p);
  st.pointer_bytes += bytes;
  const int batch = s.batch;
  const index_t sa = s.stride_a, sb = s.stride_b, sc = s.stride_c, oa = s.outer_a, ob = s.outer_b,
                oc = s.outer_c;
  Scalar* a_ = const_cast<Scalar*>(a);  // cuBLAS reads A and B through const pointers
  Scalar* b_ = const_cast<Scalar*>(b);
  Kokkos::parallel_for(
      "surro::gemm::entry_pointers", Kokkos::RangePolicy<Kokkos::Cuda>(exec, 0, count),
      KOKKOS_LAMBDA(const index_t q) {
        p[q] = b_ + Shape::offset(q, batch, sb, ob);
        p[count + q] = a_ + Shape::offset(q, batch, sa, oa);
        p[2 * count + q] = c + Shape::offset(q, batch, sc, oc);
      });
  exec.fence();
  return p;
}

}  // namespace

template <>
Gemm<Kokkos::Cuda>::Gemm(const Kokkos::Cuda&, Options options)
    : m_options(options), m_state(std::make_shared<State>()) {
  SURRO_CUBLAS(cublasCreate(&m_state->handle), "surro::gemm::cublas");
  m_state->use_lt = lt_from_environment();
}

template <>
template <class Scalar>
void Gemm<Kokkos::Cuda>::operator()(const Kokkos::Cuda& exec, const Shape& shape, Scalar alpha,
                                    const Scalar* a, const Scalar* b, Scalar beta, Scalar* c,
                                    const Epilogue<Scalar>& epilogue) const {
  constexpr const char* label = "surro::gemm::cublas";
  validate(shape, label);
  const Shape s = flattened(shape);  // pointer arrays only where the outer count needs them
  impl::validate_epilogue(s, epilogue);
  if (s.entries() == 0 || s.m == 0 || s.n == 0) return;
  constexpr cudaDataType_t type = CublasType<Scalar>::data;
  cublasComputeType_t compute = CUBLAS_COMPUTE_64F;
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, Complex<float>>)
    compute = m_options.allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  // A single real product with an epilogue goes to cuBLASLt, which applies it in the GEMM's store;
  // batched ones, and shapes no cuBLASLt algorithm takes, run as a plain GEMM and one pass after.
  if constexpr (std::is_floating_point_v<Scalar>) {
    if (!epilogue.empty() && s.entries() == 1 && m_state->use_lt) {
      const LtPlan& plan = lt_plan(*m_state, s, a, b, c, epilogue, compute);
      if (plan.found) {
        const char* name = !epilogue.bias  ? "cublasLt(relu)"
                           : epilogue.relu ? "cublasLt(bias,relu)"
                                           : "cublasLt(bias)";
        const auto region = impl::profile_region(name, s, beta, m_options.allow_tf32);
        if (epilogue.bias)
          SURRO_CUBLAS(cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                      &epilogue.bias, sizeof(epilogue.bias)),
                       label);
        SURRO_CUBLAS(cublasLtMatmul(m_state->lt, plan.op, &alpha, b, plan.first, a, plan.second, &beta, c,
                                    plan.out, c, plan.out, &plan.algo, m_state->workspace,
                                    m_state->kLtWorkspace, exec.cuda_stream()),
                     label);
        return;
      }
    }
  }
  const auto region = impl::profile_region("cublas", s, beta, m_options.allow_tf32);
  // Op::conj_trans on real data is a plain transpose; cuBLAS accepts OP_C for real types too.
  SURRO_CUBLAS(cublasSetStream(m_state->handle, exec.cuda_stream()), label);
  if (s.outer != 1) {  // entries at two levels of strides: through pointer arrays
    void** p = entry_pointers(*m_state, exec, s, a, b, c);
    const int count = int(s.entries());
    SURRO_CUBLAS(cublasGemmBatchedEx(m_state->handle, to_cublas(s.op_b), to_cublas(s.op_a), s.n, s.m, s.k,
                                     &alpha, p, type, s.ldb, p + count, type, s.lda, &beta, p + 2 * count,
                                     type, s.ldc, count, compute, CUBLAS_GEMM_DEFAULT),
                 label);
  } else {
    SURRO_CUBLAS(
        cublasGemmStridedBatchedEx(m_state->handle, to_cublas(s.op_b), to_cublas(s.op_a), s.n, s.m, s.k,
                                   &alpha, b, type, s.ldb, s.stride_b, a, type, s.lda, s.stride_a, &beta, c,
                                   type, s.ldc, s.stride_c, s.batch, compute, CUBLAS_GEMM_DEFAULT),
        label);
  }
  impl::apply_epilogue(exec, s, epilogue, c);
}

#define SURRO_X(T)                                                                                          \
  template void Gemm<Kokkos::Cuda>::operator()<T>(const Kokkos::Cuda&, const Shape&, T, const T*, const T*, \
                                                  T, T*, const Epilogue<T>&) const;
SURRO_X(float)
SURRO_X(double)
SURRO_X(Complex<float>)
SURRO_X(Complex<double>)
#undef SURRO_X

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
