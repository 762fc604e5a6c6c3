// CBLAS backend (OpenBLAS) for host execution spaces. CBLAS takes row-major operands directly.
#include "core/error.hpp"
#include "core/gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <type_traits>

namespace surro::gemm {
namespace {

CBLAS_TRANSPOSE to_cblas(Op op, bool is_complex) {
  switch (op) {
    case Op::none:
      return CblasNoTrans;
    case Op::trans:
      return CblasTrans;
    case Op::conj_trans:
      return is_complex ? CblasConjTrans : CblasTrans;
  }
  return CblasNoTrans;
}

// One tile of entry b (o * batch + i, Shape::offset): rows [r0, r0 + mr) and columns [c0, c0 + nc) of C, all
// of k. Row r of op(A) starts at A + r lda (no transpose) or at A + r (transposed: a column of A); column j
// of op(B) at B + j (no transpose) or B + j ldb.
struct Tile {
  index_t b;
  int r0, mr, c0, nc;
};
template <class T>
const T* a_tile(const Shape& s, const T* a, const Tile& t) {
  return a + Shape::offset(t.b, s.batch, s.stride_a, s.outer_a) +
         (s.op_a == Op::none ? index_t(t.r0) * s.lda : index_t(t.r0));
}
template <class T>
const T* b_tile(const Shape& s, const T* bm, const Tile& t) {
  return bm + Shape::offset(t.b, s.batch, s.stride_b, s.outer_b) +
         (s.op_b == Op::none ? index_t(t.c0) : index_t(t.c0) * s.ldb);
}
template <class T>
T* c_tile(const Shape& s, T* c, const Tile& t) {
  return c + Shape::offset(t.b, s.batch, s.stride_c, s.outer_c) + index_t(t.r0) * s.ldc + t.c0;
}

void call(const Shape& s, const Tile& t, float alpha, const float* a, const float* bm, float beta, float* c) {
  cblas_sgemm(CblasRowMajor, to_cblas(s.op_a, false), to_cblas(s.op_b, false), t.mr, t.nc, s.k, alpha,
              a_tile(s, a, t), s.lda, b_tile(s, bm, t), s.ldb, beta, c_tile(s, c, t), s.ldc);
}
void call(const Shape& s, const Tile& t, double alpha, const double* a, const double* bm, double beta,
          double* c) {
  cblas_dgemm(CblasRowMajor, to_cblas(s.op_a, false), to_cblas(s.op_b, false), t.mr, t.nc, s.k, alpha,
              a_tile(s, a, t), s.lda, b_tile(s, bm, t), s.ldb, beta, c_tile(s, c, t), s.ldc);
}
void call(const Shape& s, const Tile& t, Complex<float> alpha, const Complex<float>* a,
          const Complex<float>* bm, Complex<float> beta, Complex<float>* c) {
  cblas_cgemm(CblasRowMajor, to_cblas(s.op_a, true), to_cblas(s.op_b, true), t.mr, t.nc, s.k, &alpha,
              a_tile(s, a, t), s.lda, b_tile(s, bm, t), s.ldb, &beta, c_tile(s, c, t), s.ldc);
}
void call(const Shape& s, const Tile& t, Complex<double> alpha, const Complex<double>* a,
          const Complex<double>* bm, Complex<double> beta, Complex<double>* c) {
  cblas_zgemm(CblasRowMajor, to_cblas(s.op_a, true), to_cblas(s.op_b, true), t.mr, t.nc, s.k, &alpha,
              a_tile(s, a, t), s.lda, b_tile(s, bm, t), s.ldb, &beta, c_tile(s, c, t), s.ldc);
}

// With OpenMP host threads, OpenBLAS runs single-threaded and the threads share out fixed tiles
// of C (kTile x kTile, all of k each): OpenBLAS's own threading cuts C by its thread count, and
// its kernels round the tile edges differently, so results would follow OMP_NUM_THREADS (seen on
// a MeshGraphNet validation loss). The tiles depend on the shape alone. A Serial host space keeps
// OpenBLAS's threading: one call per matrix.
#ifdef KOKKOS_ENABLE_OPENMP
constexpr bool kTiled = std::is_same_v<HostExec, Kokkos::OpenMP>;
#else
constexpr bool kTiled = false;
#endif
constexpr int kTile = 256;

}  // namespace

template <>
struct Gemm<HostExec>::State {};

template <>
Gemm<HostExec>::Gemm(const HostExec&, Options options)
    : m_options(options), m_state(std::make_shared<State>()) {
  if constexpr (kTiled) openblas_set_num_threads(1);
}

template <>
template <class Scalar>
void Gemm<HostExec>::operator()(const HostExec& exec, const Shape& shape, Scalar alpha, const Scalar* a,
                                const Scalar* b, Scalar beta, Scalar* c,
                                const Epilogue<Scalar>& epilogue) const {
  validate(shape, "surro::gemm::cblas");
  const Shape s = flattened(shape);  // the same products; the profile names the plain batch
  impl::validate_epilogue(s, epilogue);
  const auto region = impl::profile_region("cblas", s, beta, false);
  exec.fence();  // operands may come from kernels still running on this instance
  if constexpr (kTiled) {
    const int tm = (s.m + kTile - 1) / kTile, tn = (s.n + kTile - 1) / kTile;
    const index_t tiles = s.entries() * tm * tn;
    Kokkos::parallel_for("surro::gemm::cblas_tiles", Kokkos::RangePolicy<HostExec>(exec, 0, tiles),
                         [=](const index_t q) {
                           const int i = int(q % tn), j = int(q / tn % tm);
                           const Tile t{q / (index_t(tm) * tn), j * kTile, std::min(kTile, s.m - j * kTile),
                                        i * kTile, std::min(kTile, s.n - i * kTile)};
                           call(s, t, alpha, a, b, beta, c);
                         });
    exec.fence();
  } else {
    for (index_t i = 0; i < s.entries(); ++i) call(s, Tile{i, 0, s.m, 0, s.n}, alpha, a, b, beta, c);
  }
  impl::apply_epilogue(exec, s, epilogue, c);
}

#define SURRO_X(T)                                                                                         \
  template void Gemm<HostExec>::operator()<T>(const HostExec&, const Shape&, T, const T*, const T*, T, T*, \
                                              const Epilogue<T>&) const;
SURRO_X(float)
SURRO_X(double)
SURRO_X(Complex<float>)
SURRO_X(Complex<double>)
#undef SURRO_X

int host_blas_threads() {
  return kTiled ? 0 : openblas_get_num_threads();
}

int share_host_blas_threads(int local_processes) {
  if (kTiled) return 0;
  bool user_set = false;
  for (const char* name : {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"})
    user_set = user_set || std::getenv(name) != nullptr;
  const int n = shared_blas_threads(openblas_get_num_threads(), int(std::thread::hardware_concurrency()),
                                    local_processes, user_set);
  if (n > 0) openblas_set_num_threads(n);
  return n;
}

template <>
std::string Gemm<HostExec>::backend_name() {
  std::string config = openblas_get_config();
  return "OpenBLAS (CBLAS) " + config;
}

}  // namespace surro::gemm
