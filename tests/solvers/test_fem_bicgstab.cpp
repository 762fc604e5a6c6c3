// The fused batched BiCGStab (solvers/fem/krylov.cpp, BicgstabSweep) against a naive double
// BiCGStab written here, per sample, on non-symmetric blocks whose samples converge at different
// iterations; batch independence; and the launches a solve takes (counted through Kokkos' tool
// callbacks, the hooks SURRO_PROFILE uses).
#include "solvers/fem/krylov.hpp"
#include "solvers/fem/space.hpp"
#include "solvers/fem/system.hpp"
#include "tests/solvers/fem_meshes.hpp"
#include "tests/spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace surro;
using namespace surro::solvers::fem;

namespace {

// A batch of non-symmetric blocks (sample k on a jittered sizes[k]^2 mesh, P2): sample k's block is
// A = M + kappa_k K + gamma_k S (P2 mass, stiffness, and S_ij = sign(j - i) |M_ij + kappa_k K_ij| off
// the diagonal, so S is skew-symmetric and the symmetric part M + kappa K is positive definite:
// BiCGStab converges, at a speed set by gamma_k and kappa_k).
struct Batch {
  std::vector<mesh::Mesh> meshes;
  std::vector<Space> spaces;
  BatchLayout layout;
  CsrPattern pattern;
  std::vector<double> value, b, x0;  // (nnz), (Nd), (Nd)
};

Batch make_system(const std::vector<int>& sizes, const std::vector<double>& kappa,
                  const std::vector<double>& gamma) {
  Batch s;
  for (std::size_t k = 0; k < sizes.size(); ++k)
    s.meshes.push_back(test::jittered_square(sizes[k], 60 + sizes[k]));
  for (const auto& m : s.meshes) s.spaces.push_back(make_space(m, 2));
  std::vector<const mesh::Mesh*> mp;
  std::vector<const Space*> sp;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    mp.push_back(&s.meshes[k]);
    sp.push_back(&s.spaces[k]);
  }
  s.layout = make_batch(mp, sp);
  s.pattern = make_pattern(s.layout);
  // The symmetric part through the library's assembly (host space), then the skew part here.
  HostExec exec;
  const System<HostExec> sys(s.layout, s.pattern);
  const int nb = sys.batch;
  View1<double, HostExec::memory_space> one("one", nb), kap("kappa", nb), a("a", sys.nnz);
  Kokkos::deep_copy(one, 1.0);
  for (int k = 0; k < nb; ++k) kap(k) = kappa[k];
  View3<double, HostExec::memory_space> em("em", sys.num_cells, sys.nk, sys.nk);
  sys.element_mass_stiffness(exec, one, kap, em);
  sys.assemble_matrix(exec, em, a);
  exec.fence();
  s.value.assign(a.data(), a.data() + sys.nnz);
  const auto& rp = s.pattern.row_ptr;
  const auto& col = s.pattern.col;
  for (int k = 0; k < nb; ++k)
    for (long long i = s.layout.dof_offset[k]; i < s.layout.dof_offset[k + 1]; ++i)
      for (long long e = rp[i]; e < rp[i + 1]; ++e)
        if (col[e] != i) s.value[e] += gamma[k] * (col[e] > i ? 1.0 : -1.0) * std::fabs(s.value[e]);
  // Right-hand side and initial guess from the row's index in its sample (the same alone or batched).
  for (int k = 0; k < nb; ++k)
    for (long long i = 0; i < s.layout.dof_offset[k + 1] - s.layout.dof_offset[k]; ++i) {
      s.b.push_back(std::sin(1.0 + 0.37 * i) + 0.5);
      s.x0.push_back(0.1 * std::cos(0.11 * i));
    }
  return s;
}

struct Reference {
  std::vector<double> x;  // (rows of the sample)
  int iterations = 0;
  double residual = 0;  // true relative residual at exit
};

// Textbook right-Jacobi-preconditioned BiCGStab on rows r0 .. r1 - 1 (columns in the same range),
// sequential sums, stopping at |r| <= tol |b| on the recurrence residual; no restarts.
Reference reference_bicgstab(const Batch& s, long long r0, long long r1, double tol, int max_it) {
  const auto& rp = s.pattern.row_ptr;
  const auto& col = s.pattern.col;
  const long long n = r1 - r0;
  auto apply = [&](const std::vector<double>& in, std::vector<double>& out) {  // out = A in
    for (long long i = 0; i < n; ++i) {
      double sum = 0;
      for (long long e = rp[r0 + i]; e < rp[r0 + i + 1]; ++e) sum += s.value[e] * in[col[e] - r0];
      out[i] = sum;
    }
  };
  auto dot = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double sum = 0;
    for (long long i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
  };
  std::vector<double> b(s.b.begin() + r0, s.b.begin() + r1), x(s.x0.begin() + r0, s.x0.begin() + r1);
  std::vector<double> dinv(n), r(n), rhat, p(n, 0.0), v(n, 0.0), y(n), sv(n), z(n), t(n), ax(n);
  for (long long i = 0; i < n; ++i)
    for (long long e = rp[r0 + i]; e < rp[r0 + i + 1]; ++e)
      if (col[e] == r0 + i) dinv[i] = 1.0 / s.value[e];
  const double bb = dot(b, b), limit = tol * tol * bb;
  apply(x, ax);
  for (long long i = 0; i < n; ++i) r[i] = b[i] - ax[i];
  rhat = r;
  double rho = 1, alpha = 1, omega = 1;
  Reference out;
  while (dot(r, r) > limit && out.iterations < max_it) {
    const double rho_new = dot(rhat, r);
    const double beta = (rho_new / rho) * (alpha / omega);
    rho = rho_new;
    for (long long i = 0; i < n; ++i) {
      p[i] = r[i] + beta * (p[i] - omega * v[i]);
      y[i] = dinv[i] * p[i];
    }
    apply(y, v);
    alpha = rho / dot(rhat, v);
    for (long long i = 0; i < n; ++i) {
      sv[i] = r[i] - alpha * v[i];
      z[i] = dinv[i] * sv[i];
    }
    apply(z, t);
    omega = dot(sv, sv) <= limit ? 0.0 : dot(t, sv) / dot(t, t);
    for (long long i = 0; i < n; ++i) {
      x[i] += alpha * y[i] + omega * z[i];
      r[i] = sv[i] - omega * t[i];
    }
    ++out.iterations;
  }
  apply(x, ax);
  for (long long i = 0; i < n; ++i) ax[i] = b[i] - ax[i];
  out.residual = std::sqrt(dot(ax, ax) / bb);
  out.x = x;
  return out;
}

struct Solved {
  std::vector<double> x;  // (Nd)
  KrylovReport report;
};

// The library's BiCGStab on the whole batch (all of s's samples at once).
template <class Exec>
Solved solve_batch(const Batch& s, double tol, int max_it) {
  Exec exec;
  const System<Exec> sys(s.layout, s.pattern);
  const auto a = to_view<double>(exec, s.value, "a");
  const auto b = to_view<double>(exec, s.b, "b");
  const auto x = to_view<double>(exec, s.x0, "x");
  Krylov<Exec> krylov(sys);
  Solved out;
  out.report = krylov.bicgstab(exec, a, b, x, tol, max_it);
  out.x = to_vector(x);
  return out;
}

// |A (x - y)| on rows r0 .. r1 - 1 (2-norm), and |b| there.
double residual_gap(const Batch& s, long long r0, long long r1, const std::vector<double>& x,
                    const std::vector<double>& y) {
  double sum = 0;
  for (long long i = r0; i < r1; ++i) {
    double row = 0;
    for (long long e = s.pattern.row_ptr[i]; e < s.pattern.row_ptr[i + 1]; ++e)
      row += s.value[e] * (x[s.pattern.col[e]] - y[s.pattern.col[e] - r0]);
    sum += row * row;
  }
  return std::sqrt(sum);
}
double norm(const std::vector<double>& v, long long r0, long long r1) {
  double sum = 0;
  for (long long i = r0; i < r1; ++i) sum += v[i] * v[i];
  return std::sqrt(sum);
}

// Launches of kernels labelled surro::... between start() and stop(), through the tool callbacks.
struct LaunchCounter {
  static int& total() {
    static int n = 0;
    return n;
  }
  static int& sweeps() {
    static int n = 0;
    return n;
  }
  static void begin(const char* name, const std::uint32_t, std::uint64_t* id) {
    *id = 0;
    if (std::strncmp(name, "surro::", 7) != 0) return;
    ++total();
    if (std::strcmp(name, "surro::fem::krylov::bicgstab::sweep") == 0) ++sweeps();
  }
  static void end(const std::uint64_t) {}
  static void start() {
    total() = sweeps() = 0;
    namespace E = Kokkos::Tools::Experimental;
    E::set_begin_parallel_for_callback(begin);
    E::set_begin_parallel_reduce_callback(begin);
    E::set_begin_parallel_scan_callback(begin);
    E::set_end_parallel_for_callback(end);
    E::set_end_parallel_reduce_callback(end);
    E::set_end_parallel_scan_callback(end);
  }
  static void stop() {
    namespace E = Kokkos::Tools::Experimental;
    E::set_begin_parallel_for_callback(nullptr);
    E::set_begin_parallel_reduce_callback(nullptr);
    E::set_begin_parallel_scan_callback(nullptr);
    E::set_end_parallel_for_callback(nullptr);
    E::set_end_parallel_reduce_callback(nullptr);
    E::set_end_parallel_scan_callback(nullptr);
  }
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("fem: fused BiCGStab matches a naive double BiCGStab per sample", "[fem_bicgstab]",
                        test::ExecSpaces) {
  // Exact arithmetic gives both the same iterates; in double they differ by rounding (the library
  // sums per 256-row chunk, then over chunks), far below the tolerance, so each sample takes the
  // same number of iterations. Both stop at |b - A x| <= tol |b|, so |A (x - x_ref)| <= 2 tol |b|
  // (the triangle inequality), the bound checked; rounding in forming A (x - x_ref) is ~1e-15 |b|.
  const double tol = 1e-8;
  const int max_it = 500;
  const Batch s = make_system({5, 9, 14, 7}, {1e-3, 2e-2, 1e-3, 1e-2}, {0.02, 0.4, 0.9, 0.1});
  const Solved all = solve_batch<TestType>(s, tol, max_it);
  all.report.require_converged("fused BiCGStab", tol);
  std::vector<int> iterations;
  for (std::size_t k = 0; k < s.meshes.size(); ++k) {
    const long long r0 = s.layout.dof_offset[k], r1 = s.layout.dof_offset[k + 1];
    const Reference ref = reference_bicgstab(s, r0, r1, tol, max_it);
    INFO("sample " << k << ": " << r1 - r0 << " rows, reference iterations " << ref.iterations);
    REQUIRE(ref.residual <= tol);  // the reference's recurrence residual held on the true one
    CHECK(all.report.iterations[k] == ref.iterations);
    CHECK(residual_gap(s, r0, r1, all.x, ref.x) <= 2 * tol * norm(s.b, r0, r1));
    CHECK(all.report.residual[k] <= tol);
    iterations.push_back(ref.iterations);
    std::printf("fem BiCGStab sample %zu (%lld rows): %d iterations, reference %d, residual %.2e\n", k,
                r1 - r0, all.report.iterations[k], ref.iterations, all.report.residual[k]);
  }
  // The premise: the samples converge at different iterations (so early ones must stop changing).
  CHECK(*std::min_element(iterations.begin(), iterations.end()) <
        *std::max_element(iterations.begin(), iterations.end()));
}

TEMPLATE_LIST_TEST_CASE("fem: fused BiCGStab solves each sample as if alone", "[fem_bicgstab]",
                        test::ExecSpaces) {
  // Per-sample teams, scalars and reduction order: a sample that converged stops changing while the
  // others iterate, so the batched result equals the single solve bitwise.
  const std::vector<int> sizes = {5, 14, 7};
  const std::vector<double> kappa = {1e-3, 1e-3, 1e-2}, gamma = {0.02, 0.9, 0.1};
  const Solved all = solve_batch<TestType>(make_system(sizes, kappa, gamma), 1e-10, 500);
  long long offset = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const Solved one = solve_batch<TestType>(make_system({sizes[k]}, {kappa[k]}, {gamma[k]}), 1e-10, 500);
    CHECK(one.report.iterations[0] == all.report.iterations[k]);
    CHECK(one.report.residual[0] == all.report.residual[k]);
    const std::vector<double> part(all.x.begin() + offset, all.x.begin() + offset + one.x.size());
    CHECK(part == one.x);
    offset += static_cast<long long>(one.x.size());
  }
  CHECK(all.report.iterations[0] < all.report.iterations[1]);
}

TEMPLATE_LIST_TEST_CASE("fem: BiCGStab iterations take one launch per 16", "[fem_bicgstab]",
                        test::ExecSpaces) {
  // Kernel structure of bicgstab() without a true-residual restart: start (Jacobi, A x, b - A x,
  // b.b with r.r, status, zero-rhs: 6), restart (2), then one sweep launch per 16 iterations of the
  // slowest sample (the active count comes back with it), then the true-residual check (A x,
  // b - A x, its dot, verify, active count: 5). A kernel-per-step BiCGStab took 16 launches per
  // iteration (5 dots, 7 vector and scalar kernels, 2 Jacobi, 2 products) plus a poll every 8.
  const Batch s = make_system({5, 14, 7}, {1e-3, 1e-3, 1e-2}, {0.02, 0.9, 0.1});
  using Exec = TestType;
  Exec exec;
  const System<Exec> sys(s.layout, s.pattern);
  const auto a = to_view<double>(exec, s.value, "a");
  const auto b = to_view<double>(exec, s.b, "b");
  const auto x = to_view<double>(exec, s.x0, "x");
  Krylov<Exec> krylov(sys);
  LaunchCounter::start();
  const KrylovReport rep = krylov.bicgstab(exec, a, b, x, 1e-10, 500);
  exec.fence();
  LaunchCounter::stop();
  rep.require_converged("launch count", 1e-10);
  const int slowest = *std::max_element(rep.iterations.begin(), rep.iterations.end());
  const int sweeps = (slowest + 15) / 16;
  CHECK(LaunchCounter::sweeps() == sweeps);
  CHECK(LaunchCounter::total() == 6 + 2 + sweeps + 5);
  std::printf("fem BiCGStab launches: %d iterations (slowest sample), %d sweep launches, %d in all\n",
              slowest, LaunchCounter::sweeps(), LaunchCounter::total());
}

TEMPLATE_LIST_TEST_CASE("fem: fused BiCGStab stops samples at b = 0 and at max_it", "[fem_bicgstab]",
                        test::ExecSpaces) {
  // Sample 0 has b = 0: x = 0 without an iteration. Sample 1 needs 32 iterations (the first test
  // case) but gets max_it = 3: exhausted after exactly 3, reported by require_converged.
  Batch s = make_system({5, 9}, {1e-3, 2e-2}, {0.02, 0.4});
  for (long long i = 0; i < s.layout.dof_offset[1]; ++i) s.b[i] = 0.0;
  const Solved out = solve_batch<TestType>(s, 1e-8, 3);
  CHECK(out.report.status[0] == KrylovStatus::converged);
  CHECK(out.report.iterations[0] == 0);
  for (long long i = 0; i < s.layout.dof_offset[1]; ++i) CHECK(out.x[i] == 0.0);
  CHECK(out.report.status[1] == KrylovStatus::exhausted);
  CHECK(out.report.iterations[1] == 3);
  CHECK_THROWS_WITH(out.report.require_converged("momentum", 1e-8),
                    Catch::Contains("momentum: sample 1: no convergence after 3 iterations"));
}
