// GEMM dispatch against a naive triple loop, every op combination, batched, padded, broadcast.
//
// Tolerance per element (Higham, "Accuracy and Stability", eq. 3.13): a k-term dot product
// computed in precision u satisfies |c - c_hat| <= gamma_k |a|^T |b|, gamma_k = k u / (1 - k u).
// With alpha and beta the terms become gamma_{k+2} (|alpha| (|A||B|)_ij + |beta| |C0_ij|); a
// complex multiply-add costs up to a factor 2 more (Higham sec. 3.6). We check against
// 2 * gamma_{k+2} * that sum, computed per element.
#include "core/gemm.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <complex>
#include <cstdlib>
#include <random>

using namespace surro;
using surro::test::epsilon;

namespace {

template <class T>
struct Traits {
  using real = T;
  static constexpr bool is_complex = false;
};
template <class R>
struct Traits<Complex<R>> {
  using real = R;
  static constexpr bool is_complex = true;
};

using cd = std::complex<double>;
template <class T>
cd to_cd(const T& v) {
  if constexpr (Traits<T>::is_complex)
    return cd(v.real(), v.imag());
  else
    return cd(double(v), 0.0);
}

template <class T>
T random_value(std::mt19937& gen) {
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  if constexpr (Traits<T>::is_complex)
    return T(d(gen), d(gen));
  else
    return T(d(gen));
}

// Element (r, c) of op(X) for a row-major X with leading dimension ld.
template <class T>
cd op_at(const std::vector<T>& x, index_t offset, int ld, gemm::Op op, int r, int c) {
  if (op == gemm::Op::none) return to_cd(x[offset + index_t(r) * ld + c]);
  const cd v = to_cd(x[offset + index_t(c) * ld + r]);
  return op == gemm::Op::conj_trans ? std::conj(v) : v;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("gemm: strided batched matches a naive loop for every op", "[gemm]",
                        surro::test::GemmCases) {
  using Exec = typename TestType::exec;
  using T = typename TestType::scalar;
  const auto op_a = GENERATE(gemm::Op::none, gemm::Op::trans, gemm::Op::conj_trans);
  const auto op_b = GENERATE(gemm::Op::none, gemm::Op::trans, gemm::Op::conj_trans);
  const bool broadcast_a = GENERATE(false, true);  // stride_a = 0: one A for every batch entry
  // outer 2: two strided batches in one call, each operand's outer stride leaving a gap after its
  // batch (C's gap must stay unwritten); a broadcast A is then one A per outer entry.
  const int outer = GENERATE(1, 2);
  CAPTURE(int(op_a), int(op_b), broadcast_a, outer);

  gemm::Shape s;
  s.op_a = op_a;
  s.op_b = op_b;
  s.m = 5;
  s.n = 7;
  s.k = 33;
  s.batch = 3;
  const int a_rows = op_a == gemm::Op::none ? s.m : s.k, a_cols = op_a == gemm::Op::none ? s.k : s.m;
  const int b_rows = op_b == gemm::Op::none ? s.k : s.n, b_cols = op_b == gemm::Op::none ? s.n : s.k;
  s.lda = a_cols + 2;  // padded rows exercise the leading dimensions
  s.ldb = b_cols + 1;
  s.ldc = s.n + 3;
  const index_t a_mat = index_t(a_rows) * s.lda;
  s.stride_a = broadcast_a ? 0 : a_mat;
  s.stride_b = index_t(b_rows) * s.ldb;
  s.stride_c = index_t(s.m) * s.ldc;
  s = gemm::with_outer(s, outer, (broadcast_a ? 1 : s.batch) * a_mat + 4, s.batch * s.stride_b + 3,
                       s.batch * s.stride_c + 5);

  std::mt19937 gen(42);
  std::vector<T> a(outer * s.outer_a), b(outer * s.outer_b), c0(outer * s.outer_c);
  for (auto& v : a) v = random_value<T>(gen);
  for (auto& v : b) v = random_value<T>(gen);
  for (auto& v : c0) v = random_value<T>(gen);
  const T alpha = random_value<T>(gen), beta = random_value<T>(gen);

  Exec exec;
  gemm::Gemm<Exec> g(exec);
  auto da = test::to_device<Exec>(a, "a");
  auto db = test::to_device<Exec>(b, "b");
  auto dc = test::to_device<Exec>(c0, "c");
  g(exec, s, alpha, da.data(), db.data(), beta, dc.data());
  exec.fence();
  const std::vector<T> c = test::to_host(dc);

  const double u = epsilon<typename Traits<T>::real>();
  const double gamma = (s.k + 2) * u / (1 - (s.k + 2) * u);
  std::vector<char> product(c.size(), 0);  // 1 where some entry's C(i, j) lies
  for (index_t q = 0; q < s.entries(); ++q) {
    const index_t oa = gemm::Shape::offset(q, s.batch, s.stride_a, s.outer_a),
                  ob = gemm::Shape::offset(q, s.batch, s.stride_b, s.outer_b),
                  oc = gemm::Shape::offset(q, s.batch, s.stride_c, s.outer_c);
    for (int i = 0; i < s.m; ++i)
      for (int j = 0; j < s.n; ++j) {
        const index_t at = oc + index_t(i) * s.ldc + j;
        product[at] = 1;
        cd dot = 0;
        double mag = 0;
        for (int p = 0; p < s.k; ++p) {
          const cd x = op_at(a, oa, s.lda, op_a, i, p), y = op_at(b, ob, s.ldb, op_b, p, j);
          dot += x * y;
          mag += std::abs(x) * std::abs(y);
        }
        const cd want = to_cd(alpha) * dot + to_cd(beta) * to_cd(c0[at]);
        const double bound =
            2 * gamma * (std::abs(to_cd(alpha)) * mag + std::abs(to_cd(beta)) * std::abs(to_cd(c0[at])));
        INFO("entry " << q << " C(" << i << ", " << j << ")");
        REQUIRE(std::abs(to_cd(c[at]) - want) <= bound);
      }
  }
  for (std::size_t at = 0; at < c.size(); ++at)  // row padding and the gaps are never written
    if (!product[at]) REQUIRE(to_cd(c[at]) == to_cd(c0[at]));
}

// The epilogue (bias per column, then ReLU) against the naive product. The bound is the one above
// with the bias as one more term: gamma_{k+3} (|alpha| (|A||B|)_ij + |beta| |C0_ij| + |bias_j|); a
// ReLU is 1-Lipschitz and keeps it. Operands start one element past an aligned address, so that
// cuBLASLt is planned for the alignment our activation buffers give it, not its default 256 bytes.
TEMPLATE_LIST_TEST_CASE("gemm: an epilogue adds a bias per column and applies ReLU", "[gemm]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using T = typename TestType::scalar;
  const auto op_a = GENERATE(gemm::Op::none, gemm::Op::trans);
  const auto op_b = GENERATE(gemm::Op::none, gemm::Op::trans);
  const int batch = GENERATE(1, 2);    // 2: the pass after the product on every backend
  const int kind = GENERATE(1, 2, 3);  // bias, relu, both
  const double beta = GENERATE(0.0, 0.75);
  const bool with_bias = kind & 1, relu = kind & 2;
  CAPTURE(int(op_a), int(op_b), batch, with_bias, relu, beta);

  const int m = 37, n = 20, k = 33;
  const int a_rows = op_a == gemm::Op::none ? m : k, a_cols = op_a == gemm::Op::none ? k : m;
  const int b_rows = op_b == gemm::Op::none ? k : n, b_cols = op_b == gemm::Op::none ? n : k;
  const int ldc = n + 3;
  const gemm::Shape s = gemm::make_shape(op_a, op_b, m, n, k, a_cols, b_cols, ldc, index_t(a_rows) * a_cols,
                                         index_t(b_rows) * b_cols, index_t(m) * ldc, batch);
  std::mt19937 gen(7);
  std::vector<T> a(1 + batch * s.stride_a), b(1 + batch * s.stride_b), c0(1 + batch * s.stride_c),
      bias(1 + n);
  for (auto* v : {&a, &b, &c0, &bias})
    for (auto& x : *v) x = random_value<T>(gen);
  const T alpha = T(1.25);

  Exec exec;
  gemm::Gemm<Exec> g(exec);
  auto da = test::to_device<Exec>(a, "a");
  auto db = test::to_device<Exec>(b, "b");
  auto dc = test::to_device<Exec>(c0, "c");
  auto dbias = test::to_device<Exec>(bias, "bias");
  const gemm::Epilogue<T> ep{with_bias ? dbias.data() + 1 : nullptr, relu};
  g(exec, s, alpha, da.data() + 1, db.data() + 1, T(beta), dc.data() + 1, ep);
  exec.fence();
  const std::vector<T> c = test::to_host(dc);

  const double u = epsilon<T>(), gamma = (k + 3) * u / (1 - (k + 3) * u);
  REQUIRE(c[0] == c0[0]);
  for (int bi = 0; bi < batch; ++bi)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < ldc; ++j) {
        const index_t at = 1 + bi * s.stride_c + index_t(i) * ldc + j;
        if (j >= n) {  // padding between rows of C is never written
          REQUIRE(c[at] == c0[at]);
          continue;
        }
        double dot = 0, mag = 0;
        for (int p = 0; p < k; ++p) {
          const double x = op_at(a, 1 + bi * s.stride_a, s.lda, op_a, i, p).real(),
                       y = op_at(b, 1 + bi * s.stride_b, s.ldb, op_b, p, j).real();
          dot += x * y;
          mag += std::abs(x) * std::abs(y);
        }
        const double bj = with_bias ? double(bias[1 + j]) : 0.0;
        const double z = double(alpha) * dot + beta * double(c0[at]) + bj;
        const double want = relu ? std::max(z, 0.0) : z;
        const double bound =
            2 * gamma * (std::abs(double(alpha)) * mag + beta * std::abs(double(c0[at])) + std::abs(bj));
        INFO("batch " << bi << " C(" << i << ", " << j << ") = " << c[at] << ", want " << want);
        REQUIRE(std::abs(double(c[at]) - want) <= bound);
      }
}

TEMPLATE_LIST_TEST_CASE("gemm: View form infers the shape and broadcasts rank-2 weights", "[gemm]",
                        surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  Exec exec;
  gemm::Gemm<Exec> g(exec);
  // y(b) = x(b) W^T: x (B, N, Cin), W (Cout, Cin) shared, y (B, N, Cout) -- a pointwise linear layer.
  const int B = 2, N = 4, Cin = 3, Cout = 5;
  View3<double, Mem> x("x", B, N, Cin), y("y", B, N, Cout);
  View2<double, Mem> w("w", Cout, Cin);
  auto hx = Kokkos::create_mirror_view(x);
  auto hw = Kokkos::create_mirror_view(w);
  for (int b = 0; b < B; ++b)
    for (int n = 0; n < N; ++n)
      for (int c = 0; c < Cin; ++c) hx(b, n, c) = 1 + b + 2 * n - c;
  for (int o = 0; o < Cout; ++o)
    for (int c = 0; c < Cin; ++c) hw(o, c) = 0.5 * o - c;
  Kokkos::deep_copy(x, hx);
  Kokkos::deep_copy(w, hw);
  gemm::batched(g, exec, gemm::Op::none, gemm::Op::trans, 1.0, x, w, 0.0, y);
  exec.fence();
  auto hy = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
  for (int b = 0; b < B; ++b)
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < Cout; ++o) {
        double want = 0;  // small integers and halves: exact in double
        for (int c = 0; c < Cin; ++c) want += hx(b, n, c) * hw(o, c);
        REQUIRE(hy(b, n, o) == want);
      }

  View3<double, Mem> bad("bad", B, N, Cout + 1);
  CHECK_THROWS_WITH(gemm::batched(g, exec, gemm::Op::none, gemm::Op::none, 1.0, x, w, 0.0, bad),
                    Catch::Contains("shapes do not agree"));
}

TEST_CASE("gemm: leading dimensions are validated", "[gemm]") {
  HostExec exec;
  gemm::Gemm<HostExec> g(exec);
  gemm::Shape s;
  s.m = 2;
  s.n = 3;
  s.k = 4;
  s.lda = 3;  // < k
  s.ldb = 3;
  s.ldc = 3;
  std::vector<double> a(8), b(12), c(6);
  CHECK_THROWS_WITH(g(exec, s, 1.0, a.data(), b.data(), 0.0, c.data()),
                    Catch::Contains("lda = 3: expected >= 4"));
}

#if defined(KOKKOS_ENABLE_CUDA)
// SURRO_CUBLASLT is read when a CUDA Gemm is built: all (the default) or off; anything else is an
// error naming the variable and the values it takes.
TEST_CASE("gemm: SURRO_CUBLASLT takes all or off and refuses anything else", "[gemm]") {
  Kokkos::Cuda exec;
  ::setenv("SURRO_CUBLASLT", "fused", 1);
  CHECK_THROWS_WITH(gemm::Gemm<Kokkos::Cuda>(exec),
                    Catch::Contains("SURRO_CUBLASLT (environment): expected all or off, got \"fused\""));
  for (const char* mode : {"off", "all", ""}) {
    ::setenv("SURRO_CUBLASLT", mode, 1);
    CHECK_NOTHROW(gemm::Gemm<Kokkos::Cuda>(exec));
  }
  ::unsetenv("SURRO_CUBLASLT");
}
#endif

TEST_CASE("gemm: an epilogue on complex scalars is refused", "[gemm]") {
  HostExec exec;
  gemm::Gemm<HostExec> g(exec);
  const gemm::Shape s = gemm::make_shape(gemm::Op::none, gemm::Op::none, 2, 2, 2, 2, 2, 2);
  std::vector<Complex<double>> a(4), b(4), c(4);
  gemm::Epilogue<Complex<double>> ep;
  ep.relu = true;
  CHECK_THROWS_WITH(g(exec, s, Complex<double>(1), a.data(), b.data(), Complex<double>(0), c.data(), ep),
                    Catch::Contains("needs a real scalar type"));
}

TEST_CASE("gemm: an outer count becomes a plain batch where the strides allow", "[gemm]") {
  using gemm::Op;
  const gemm::Shape one = gemm::make_shape(Op::none, Op::none, 2, 3, 4, 4, 3, 3, 8, 12, 6, 1);
  // Batch 1: the outer strides become the batch's.
  gemm::Shape f = gemm::flattened(gemm::with_outer(one, 5, 10, 0, 7));
  CHECK((f.outer == 1 && f.batch == 5 && f.stride_a == 10 && f.stride_b == 0 && f.stride_c == 7));
  // Outer entries that follow one another: one batch of outer x batch.
  gemm::Shape two = one;
  two.batch = 2;
  f = gemm::flattened(gemm::with_outer(two, 3, 16, 24, 12));
  CHECK((f.outer == 1 && f.batch == 6 && f.stride_a == 8 && f.stride_b == 12 && f.stride_c == 6));
  // A gap between them (or a broadcast operand repeated per outer entry): unchanged.
  f = gemm::flattened(gemm::with_outer(two, 3, 16, 24, 13));
  CHECK((f.outer == 3 && f.batch == 2 && f.outer_c == 13));
  f = gemm::flattened(
      gemm::with_outer(gemm::make_shape(Op::none, Op::none, 2, 3, 4, 4, 3, 3, 0, 12, 6, 2), 3, 8, 24, 12));
  CHECK((f.outer == 3 && f.batch == 2));
}

TEST_CASE("gemm: an epilogue with an outer count is refused", "[gemm]") {
  HostExec exec;
  gemm::Gemm<HostExec> g(exec);
  // Two batches of two with a gap between them: a real outer count (a plain batch would be taken).
  const gemm::Shape s = gemm::with_outer(
      gemm::make_shape(gemm::Op::none, gemm::Op::none, 2, 2, 2, 2, 2, 2, 4, 4, 4, 2), 2, 10, 10, 10);
  std::vector<double> a(20, 1.0), b(20, 1.0), c(20, 7.0), bias(2);
  const gemm::Epilogue<double> ep{bias.data(), false};
  CHECK_THROWS_WITH(g(exec, s, 1.0, a.data(), b.data(), 0.0, c.data(), ep), Catch::Contains("outer = 2"));
  CHECK(c == std::vector<double>(20, 7.0));  // refused before the product: nothing written
}

TEST_CASE("gemm: processes on one node share OpenBLAS's threads unless a thread count is set", "[gemm]") {
  // (blas_threads, hardware_threads, local_processes, user_set) -> the count to set, 0 = keep.
  CHECK(gemm::shared_blas_threads(16, 16, 1, false) == 0);   // one process: OpenBLAS's own default
  CHECK(gemm::shared_blas_threads(16, 16, 4, false) == 4);   // 4 ranks: a quarter of the node each
  CHECK(gemm::shared_blas_threads(8, 16, 4, false) == 4);    // bound to a socket of 8: still 4
  CHECK(gemm::shared_blas_threads(2, 16, 4, false) == 0);    // bound to 2 cores: already below a share
  CHECK(gemm::shared_blas_threads(16, 16, 32, false) == 1);  // more ranks than cores: one thread each
  CHECK(gemm::shared_blas_threads(16, 16, 4, true) == 0);    // OPENBLAS_NUM_THREADS (or the like) set
  CHECK(gemm::shared_blas_threads(1, 16, 4, false) == 0);    // single-threaded OpenBLAS: nothing to cut
}
