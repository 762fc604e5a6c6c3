// 2D Darcy flow: thresholded-GRF coefficient and batched Jacobi-preconditioned CG (see darcy2d.hpp).
#include "solvers/darcy2d.hpp"

#include "core/constants.hpp"
#include "core/fft.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"

#include <cmath>
#include <functional>
#include <iomanip>
#include <sstream>

namespace surro::solvers {

// Named namespace: nvcc rejects extended lambdas in functions with internal linkage.
namespace impl::darcy {

// Per-sample CG state.
enum Status : int { converged = 0, active = 1, breakdown = 2, exhausted = 3 };

void validate(const DarcySettings& s, const std::function<void(const char*, const std::string&)>& fail) {
  if (s.grid < 3 || s.grid > 65536)
    fail("grid", "expected an integer in [3, 65536], got " + std::to_string(s.grid));
  if (s.record_grid < 2 || s.record_grid > s.grid || (s.grid - 1) % (s.record_grid - 1) != 0)
    fail("record_grid", "expected nr >= 2 with (grid - 1) / (nr - 1) an integer (grid = " +
                            std::to_string(s.grid) + "), got " + std::to_string(s.record_grid));
  if (!(s.a_high > 0) || !(s.a_low > 0))
    fail("values", "expected two positive numbers, got [" + format_number(s.a_high) + ", " +
                       format_number(s.a_low) + "]");
  if (!(s.alpha > 0)) fail("alpha", "expected a positive number, got " + format_number(s.alpha));
  if (!(s.tau >= 0)) fail("tau", "expected a non-negative number, got " + format_number(s.tau));
  if (!(s.tolerance > 0 && s.tolerance < 1))
    fail("tolerance", "expected a number in (0, 1), got " + format_number(s.tolerance));
  if (s.max_iterations < 0)
    fail("max_iterations", "expected a positive integer, got " + std::to_string(s.max_iterations));
}

// ---------------------------------------------------------------------------------------------
// Coefficient field.

// X (B, M, M/2+1), M = 2(n-1): the half spectrum whose real inverse FFT (Norm::none) is the cosine
// sum z(i, j) = sum_{k1,k2 < n} Z_k1k2 cos(pi k1 i/(n-1)) cos(pi k2 j/(n-1)) on 0 <= i, j < n. Rows
// k1 and M - k1 share the draw of K1 = min(k1, M - k1), so X is real and even; amplitude (n, n)
// carries the 1/2 per axis that the two mirror terms of an interior mode need.
template <class Exec>
void grf_spectrum(const Exec& exec, rng::Philox philox, index_t first, const View2<double>& amplitude,
                  const View3<Complex<double>>& x_hat) {
  const index_t m = static_cast<index_t>(x_hat.extent(1)), h = static_cast<index_t>(x_hat.extent(2));
  const index_t n = static_cast<index_t>(amplitude.extent(0));
  Kokkos::parallel_for(
      "surro::darcy::grf_spectrum", Kokkos::RangePolicy<Exec>(exec, 0, x_hat.extent(0) * m * h),
      KOKKOS_LAMBDA(const index_t idx) {
        const index_t b = idx / (m * h), k1 = (idx / h) % m, k2 = idx % h;
        const index_t kk1 = k1 <= m / 2 ? k1 : m - k1;
        const double s = amplitude(kk1, k2);
        const double xi = s != 0.0 ? philox.normal<double>(static_cast<std::uint64_t>(first + b),
                                                           static_cast<std::uint64_t>(kk1 * n + k2))
                                   : 0.0;
        x_hat(b, k1, k2) = Complex<double>(s * xi, 0.0);
      });
}

// z (B, n, n) = the top-left n x n corner of the synthesized (B, M, M) field.
template <class Exec>
void crop(const Exec& exec, const View3<double>& full, const View3<double>& z) {
  const int n = static_cast<int>(z.extent(1));
  Kokkos::parallel_for(
      "surro::darcy::crop",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<3>>(exec, {0, 0, 0},
                                                   {index_t(z.extent(0)), index_t(n), index_t(n)}),
      KOKKOS_LAMBDA(const index_t b, const index_t i, const index_t j) { z(b, i, j) = full(b, i, j); });
}

// a (B, n, n) = z >= 0 ? high : low, in place.
template <class Exec>
void threshold(const Exec& exec, const View3<double>& z, double high, double low) {
  double* d = z.data();
  Kokkos::parallel_for(
      "surro::darcy::threshold", Kokkos::RangePolicy<Exec>(exec, 0, static_cast<index_t>(z.span())),
      KOKKOS_LAMBDA(const index_t i) { d[i] = d[i] >= 0.0 ? high : low; });
}

// ---------------------------------------------------------------------------------------------
// Matrix-free operator and CG kernels. Arrays are (B, n, n) with zero boundary entries; the
// h^2-scaled operator at interior node (i, j) is
//   (A p)_ij = sum_f a_f (p_ij - p_f),   a_f = (a_ij + a_f-neighbour) / 2.

template <class V>
KOKKOS_INLINE_FUNCTION double apply_operator(const V& a, const V& p, int b, int i, int j) {
  const double c = a(b, i, j);
  const double ae = 0.5 * (c + a(b, i + 1, j)), aw = 0.5 * (c + a(b, i - 1, j));
  const double an = 0.5 * (c + a(b, i, j + 1)), as = 0.5 * (c + a(b, i, j - 1));
  return (ae + aw + an + as) * p(b, i, j) - ae * p(b, i + 1, j) - aw * p(b, i - 1, j) - an * p(b, i, j + 1) -
         as * p(b, i, j - 1);
}

template <class V>
KOKKOS_INLINE_FUNCTION double diagonal(const V& a, int b, int i, int j) {
  const double c = a(b, i, j);
  return 2.0 * c + 0.5 * (a(b, i + 1, j) + a(b, i - 1, j) + a(b, i, j + 1) + a(b, i, j - 1));
}

// One team per grid row (b, i): row sums go to part1/part2 (B, n), which sample_step() adds per
// sample in row order. Boundary rows contribute 0.
template <class Exec>
struct RowKernel {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  enum Op { init, apply_dot, update_xr, update_p, true_residual, restart };
  Op op;
  int n;
  double h2;                   // h^2: the scaled right-hand side is h^2 f
  View3<double> a, f;          // (B, n, n) inputs
  View3<double> x, r, p, q;    // (B, n, n) CG vectors
  View3<double> dinv;          // (B, n, n) inverse Jacobi diagonal (0 on the boundary)
  View2<double> part1, part2;  // (B, n) row partial sums
  View1<double> alpha, beta;   // (B)
  View1<int> status;           // (B)

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int b = team.league_rank() / n, i = team.league_rank() % n;
    const bool boundary = i == 0 || i == n - 1;
    const int st = status(b);
    // init and true_residual visit every sample; the others only samples still iterating.
    const bool visit = op == init || op == true_residual || st == active;
    if (boundary || !visit) {
      Kokkos::single(Kokkos::PerTeam(team), [&]() {
        part1(b, i) = 0.0;
        part2(b, i) = 0.0;
      });
      return;
    }
    // Two sums in one team reduction: Kokkos::complex adds componentwise and has a sum identity
    // (Kokkos 3.4 cannot reduce two values in a nested parallel_reduce). real: s1, imag: s2.
    using Pair = Kokkos::complex<double>;
    Pair sums(0.0, 0.0);
    switch (op) {
      case init:  // dinv; x = 0; r = h^2 f; p = dinv r; s1 = r.dinv.r, s2 = r.r
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, 1, n - 1),
            [&](const int j, Pair& acc) {
              const double di = 1.0 / diagonal(a, b, i, j), rj = h2 * f(b, i, j);
              dinv(b, i, j) = di;
              x(b, i, j) = 0.0;
              r(b, i, j) = rj;
              p(b, i, j) = di * rj;
              acc += Pair(rj * di * rj, rj * rj);
            },
            sums);
        break;
      case apply_dot:  // q = A p; s1 = p.q
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, 1, n - 1),
            [&](const int j, Pair& acc) {
              const double qj = apply_operator(a, p, b, i, j);
              q(b, i, j) = qj;
              acc += Pair(p(b, i, j) * qj, 0.0);
            },
            sums);
        break;
      case update_xr: {  // x += alpha p; r -= alpha q; s1 = r.dinv.r, s2 = r.r
        const double al = alpha(b);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, 1, n - 1),
            [&](const int j, Pair& acc) {
              x(b, i, j) += al * p(b, i, j);
              const double rj = r(b, i, j) - al * q(b, i, j);
              r(b, i, j) = rj;
              acc += Pair(rj * dinv(b, i, j) * rj, rj * rj);
            },
            sums);
        break;
      }
      case update_p: {  // p = dinv r + beta p
        const double be = beta(b);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 1, n - 1),
                             [&](const int j) { p(b, i, j) = dinv(b, i, j) * r(b, i, j) + be * p(b, i, j); });
        break;
      }
      case true_residual:  // s2 = |h^2 f - A x|^2
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, 1, n - 1),
            [&](const int j, Pair& acc) {
              const double rj = h2 * f(b, i, j) - apply_operator(a, x, b, i, j);
              acc += Pair(0.0, rj * rj);
            },
            sums);
        break;
      case restart:  // r = h^2 f - A x; p = dinv r; s1 = r.dinv.r, s2 = r.r
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, 1, n - 1),
            [&](const int j, Pair& acc) {
              const double rj = h2 * f(b, i, j) - apply_operator(a, x, b, i, j);
              r(b, i, j) = rj;
              p(b, i, j) = dinv(b, i, j) * rj;
              acc += Pair(rj * dinv(b, i, j) * rj, rj * rj);
            },
            sums);
        break;
    }
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      part1(b, i) = sums.real();
      part2(b, i) = sums.imag();
    });
  }
};

// Per-sample CG scalars, all (B).
struct CgScalars {
  View1<double> rz, rr, bb, alpha, beta;  // r.dinv.r, r.r, |h^2 f|^2, step lengths
  View1<int> status, iterations;
};

// The per-sample steps between row kernels; each sums its sample's row partials in row order.
enum class Step { init, alpha, beta, verify, restart };

template <class Exec>
void sample_step(const Exec& exec, Step step, double tol2, long long max_it, const View2<double>& part1,
                 const View2<double>& part2, const CgScalars& s) {
  const int n = static_cast<int>(part1.extent(1));
  Kokkos::parallel_for(
      "surro::darcy::cg::sample_step", Kokkos::RangePolicy<Exec>(exec, 0, part1.extent(0)),
      KOKKOS_LAMBDA(const index_t b) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; ++i) {
          s1 += part1(b, i);
          s2 += part2(b, i);
        }
        switch (step) {
          case Step::init:
            s.rz(b) = s1;
            s.rr(b) = s2;
            s.bb(b) = s2;
            s.iterations(b) = 0;
            s.status(b) = s2 > 0.0 ? active : converged;  // f = 0: u = 0 exactly
            break;
          case Step::alpha:
            if (s.status(b) != active) return;
            if (s1 > 0.0)
              s.alpha(b) = s.rz(b) / s1;
            else
              s.status(b) = breakdown;  // p.Ap <= 0: impossible for SPD A unless p = 0
            break;
          case Step::beta:
            if (s.status(b) != active) return;
            s.iterations(b) += 1;
            s.rr(b) = s2;
            if (s2 <= tol2 * s.bb(b)) {
              s.status(b) = converged;
            } else if (s.iterations(b) >= max_it) {
              s.status(b) = exhausted;
            } else {
              s.beta(b) = s1 / s.rz(b);
              s.rz(b) = s1;
            }
            break;
          case Step::verify:  // the recurrence converged; reopen samples whose true residual did not
            s.rr(b) = s2;
            if (s.status(b) == converged && s2 > tol2 * s.bb(b))
              s.status(b) = s.iterations(b) >= max_it ? exhausted : active;
            break;
          case Step::restart:
            if (s.status(b) != active) return;
            s.rz(b) = s1;
            s.rr(b) = s2;
            break;
        }
      });
}

template <class Exec>
int count_active(const Exec& exec, const View1<int>& status) {
  int count = 0;
  Kokkos::parallel_reduce(
      "surro::darcy::cg::count_active", Kokkos::RangePolicy<Exec>(exec, 0, status.extent(0)),
      KOKKOS_LAMBDA(const index_t b, int& c) { c += status(b) == active ? 1 : 0; }, count);
  return count;
}

// out (B, nr, nr) = float(in (B, n, n)) at every stride-th node.
template <class Exec>
void subsample(const Exec& exec, const View3<double>& in, int stride, const View3<float>& out) {
  Kokkos::parallel_for(
      "surro::darcy::subsample",
      Kokkos::MDRangePolicy<Exec, Kokkos::Rank<3>>(
          exec, {0, 0, 0},
          {static_cast<index_t>(out.extent(0)), static_cast<index_t>(out.extent(1)),
           static_cast<index_t>(out.extent(2))}),
      KOKKOS_LAMBDA(const index_t b, const index_t i, const index_t j) {
        out(b, i, j) = static_cast<float>(in(b, i * stride, j * stride));
      });
}

template <class Exec>
void fill(const Exec& exec, const View3<double>& v, double value) {
  double* d = v.data();
  Kokkos::parallel_for(
      "surro::darcy::fill", Kokkos::RangePolicy<Exec>(exec, 0, static_cast<index_t>(v.span())),
      KOKKOS_LAMBDA(const index_t i) { d[i] = value; });
}

}  // namespace impl::darcy

using namespace impl::darcy;

// ---------------------------------------------------------------------------------------------

DarcySettings read_darcy_2d(config::Node& node) {
  DarcySettings s;
  s.grid = static_cast<int>(node.get_int(
      "grid", s.grid, {[](const long long& v) { return v >= 3 && v <= 65536; }, "an integer in [3, 65536]"}));
  // 85 when the stride (grid - 1) / 84 is an integer, else every node.
  const long long nr = (s.grid - 1) % (s.record_grid - 1) == 0 ? s.record_grid : s.grid;
  s.record_grid = static_cast<int>(
      node.get_int("record_grid", nr,
                   {[](const long long& v) { return v >= 2 && v <= 65536; }, "an integer in [2, 65536]"}));
  const std::vector<double> values =
      node.get_number_array("values", {s.a_high, s.a_low}, config::positive_number());
  if (values.size() != 2)
    node.fail("values", "expected two positive numbers [a where the GRF >= 0, a where it < 0], got " +
                            std::to_string(values.size()) + " values");
  s.a_high = values[0];
  s.a_low = values[1];
  s.alpha = node.get_number("alpha", s.alpha, config::positive_number());
  s.tau = node.get_number("tau", s.tau, {[](const double& v) { return v >= 0; }, "a non-negative number"});
  s.tolerance = node.get_number("tolerance", s.tolerance,
                                {[](const double& v) { return v > 0 && v < 1; }, "a number in (0, 1)"});
  s.max_iterations = node.get_int("max_iterations", 20LL * s.grid, config::positive());
  validate(s, [&](const char* key, const std::string& msg) { node.fail(key, msg); });
  node.finish();
  return s;
}

std::unique_ptr<Solver> make_darcy_2d(config::Node& section) {
  return std::make_unique<Darcy2D>(read_darcy_2d(section));
}

// The synthesis FFT plan for one batch size (its buffers are allocated per call: they are large
// and only needed while the field is drawn).
struct Darcy2D::Synthesis {
  Synthesis(const ExecSpace& exec, int m, index_t batch)
      : batch(batch), plan(exec, {m, m}, batch, fft::Norm::none, "surro::darcy::fft") {}
  index_t batch;
  fft::RealFftPlan<double, ExecSpace> plan;  // (B, M, M) <- (B, M, M/2+1)
};

Darcy2D::~Darcy2D() = default;

View2<double> Darcy2D::grf_amplitude() const {
  if (m_grf_amplitude.extent(0) == 0) {
    const int n = m_settings.grid;
    m_grf_amplitude = View2<double>("surro::darcy::grf_amplitude", n, n);
    Kokkos::deep_copy(
        m_grf_amplitude,
        Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
            m_grf_amplitude_host.data(), n, n));
  }
  return m_grf_amplitude;
}

Darcy2D::Darcy2D(const DarcySettings& s) : m_settings(s) {
  validate(s, [](const char* key, const std::string& msg) {
    SURRO_THROW(ErrorKind::usage, "darcy_2d." << key << ": " << msg);
  });
  const int n = s.grid, nr = s.record_grid;
  m_max_iterations = s.max_iterations > 0 ? s.max_iterations : 20LL * n;

  // Interior cosine modes appear twice (k and M - k) in the length-M FFT, hence the 1/2.
  // Host table here; device copy on first use (construction must not need Kokkos: solver.hpp).
  m_grf_amplitude_host.assign(std::size_t(n) * n, 0.0);
  auto amp = [&](int k1, int k2) -> double& { return m_grf_amplitude_host[std::size_t(k1) * n + k2]; };
  for (int k1 = 0; k1 < n; ++k1)
    for (int k2 = 0; k2 < n; ++k2) {
      const double c1 = k1 == 0 ? 1.0 : std::sqrt(2.0), c2 = k2 == 0 ? 1.0 : std::sqrt(2.0);
      const double w1 = (k1 == 0 || k1 == n - 1) ? 1.0 : 0.5, w2 = (k2 == 0 || k2 == n - 1) ? 1.0 : 0.5;
      const double lambda =
          std::pow(kPi * kPi * (double(k1) * k1 + double(k2) * k2) + s.tau * s.tau, -s.alpha);
      amp(k1, k2) = (k1 == 0 && k2 == 0) ? 0.0 : std::sqrt(lambda) * c1 * c2 * w1 * w2;
    }

  m_spec.dataset_name = "darcy_2d";
  m_spec.dims = {"x", "y"};
  std::vector<double> x(nr);
  for (int i = 0; i < nr; ++i) x[i] = double(i) / (nr - 1);
  m_spec.coords = {x, x};
  m_spec.boundaries = {data::Boundary::wall, data::Boundary::wall};
  m_spec.fields = {{"a", false}, {"u", false}};
  m_spec.parameters = {{"a_high", s.a_high}, {"a_low", s.a_low}, {"forcing", 1.0}};
  std::ostringstream grf;
  grf << "a = " << s.a_high << " where z >= 0, " << s.a_low << " elsewhere; z ~ N(0, (-Delta + " << s.tau
      << "^2 I)^-" << s.alpha << "), Neumann";
  m_spec.provenance = {
      {"solver", "darcy_2d"},
      {"method", "5-point finite differences (arithmetic face means), Jacobi-preconditioned CG"},
      {"grid", std::to_string(n)},
      {"tolerance", format_number(s.tolerance)},
      {"coefficient", grf.str()}};
}

View3<double> Darcy2D::random_field(std::uint64_t seed, long long first, long long count) {
  ScopedRegion region("surro::darcy::random_field");
  SURRO_REQUIRE(count > 0 && first >= 0, "darcy_2d: samples [" << first << ", " << first + count
                                                               << "): expected first >= 0 and count > 0");
  const int n = m_settings.grid, m = 2 * (n - 1);
  ExecSpace exec;
  if (!m_synthesis || m_synthesis->batch != count) {
    m_synthesis.reset();
    m_synthesis = std::make_unique<Synthesis>(exec, m, count);
  }
  using Kokkos::view_alloc, Kokkos::WithoutInitializing;
  View3<Complex<double>> x_hat(view_alloc(WithoutInitializing, "surro::darcy::grf_spectrum"), count, m,
                               m / 2 + 1);  // (B, M, M/2+1)
  View3<double> full(view_alloc(WithoutInitializing, "surro::darcy::grf_full"), count, m, m);  // (B, M, M)
  View3<double> z(view_alloc(WithoutInitializing, "surro::darcy::z"), count, n, n);            // (B, n, n)
  grf_spectrum(exec, rng::Philox{seed}, first, grf_amplitude(), x_hat);
  m_synthesis->plan.inverse(exec, x_hat, full);
  crop(exec, full, z);
  exec.fence();
  return z;
}

View3<double> Darcy2D::coefficient(std::uint64_t seed, long long first, long long count) {
  View3<double> a = random_field(seed, first, count);
  threshold(ExecSpace(), a, m_settings.a_high, m_settings.a_low);
  return a;
}

View3<double> Darcy2D::solve(const View3<double>& a, const View3<double>& f, long long first,
                             std::vector<CgReport>* report) {
  ScopedRegion region("surro::darcy::solve");
  const int n = m_settings.grid;
  const index_t batch = static_cast<index_t>(a.extent(0));
  SURRO_REQUIRE(batch > 0 && int(a.extent(1)) == n && int(a.extent(2)) == n,
                "darcy_2d: coefficient has shape (" << a.extent(0) << ", " << a.extent(1) << ", "
                                                    << a.extent(2) << "): expected (B > 0, grid = " << n
                                                    << ", " << n << ")");
  SURRO_REQUIRE(f.extent(0) == a.extent(0) && f.extent(1) == a.extent(1) && f.extent(2) == a.extent(2),
                "darcy_2d: forcing has shape (" << f.extent(0) << ", " << f.extent(1) << ", " << f.extent(2)
                                                << "): expected the coefficient's (" << batch << ", " << n
                                                << ", " << n << ")");
  ExecSpace exec;
  const double h = 1.0 / (n - 1);
  // Zero-initialized: boundary entries of every vector stay 0 (the Dirichlet condition).
  View3<double> x("surro::darcy::cg::x", batch, n, n), r("surro::darcy::cg::r", batch, n, n);
  View3<double> p("surro::darcy::cg::p", batch, n, n), q("surro::darcy::cg::q", batch, n, n);
  View3<double> dinv("surro::darcy::cg::dinv", batch, n, n);
  View2<double> part1("surro::darcy::cg::part1", batch, n), part2("surro::darcy::cg::part2", batch, n);
  CgScalars s{
      View1<double>("surro::darcy::cg::rz", batch),     View1<double>("surro::darcy::cg::rr", batch),
      View1<double>("surro::darcy::cg::bb", batch),     View1<double>("surro::darcy::cg::alpha", batch),
      View1<double>("surro::darcy::cg::beta", batch),   View1<int>("surro::darcy::cg::status", batch),
      View1<int>("surro::darcy::cg::iterations", batch)};
  const double tol2 = m_settings.tolerance * m_settings.tolerance;
  const long long max_it = m_max_iterations;

  using Row = RowKernel<ExecSpace>;
  Row row{Row::init, n, h * h, a, f, x, r, p, q, dinv, part1, part2, s.alpha, s.beta, s.status};
  auto rows = [&](typename Row::Op op) {
    row.op = op;
    Kokkos::parallel_for("surro::darcy::cg::rows",
                         Kokkos::TeamPolicy<ExecSpace>(exec, batch * n, Kokkos::AUTO), row);
  };
  auto step = [&](Step st) { sample_step(exec, st, tol2, max_it, part1, part2, s); };

  rows(Row::init);
  step(Step::init);
  // Iterate until no sample is active; converged samples are then checked on their true residual
  // and reopened (restarted from their iterate) if it is above the tolerance.
  constexpr int check_every = 8;  // iterations between host polls; idle samples cost nothing
  for (;;) {
    while (count_active(exec, s.status) > 0) {
      for (int k = 0; k < check_every; ++k) {
        rows(Row::apply_dot);
        step(Step::alpha);
        rows(Row::update_xr);
        step(Step::beta);
        rows(Row::update_p);
      }
    }
    rows(Row::true_residual);
    step(Step::verify);
    if (count_active(exec, s.status) == 0) break;
    rows(Row::restart);
    step(Step::restart);
  }

  auto status = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.status);
  auto iterations = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.iterations);
  auto rr = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.rr);
  auto bb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.bb);
  if (report) report->assign(batch, CgReport{});
  for (index_t b = 0; b < batch; ++b) {
    const double residual = bb(b) > 0 ? std::sqrt(rr(b) / bb(b)) : 0.0;
    if (report) (*report)[b] = CgReport{iterations(b), residual};
    if (status(b) == breakdown)
      SURRO_THROW(ErrorKind::runtime, "darcy_2d: sample "
                                          << first + b << ": CG broke down (p.Ap <= 0) after "
                                          << iterations(b) << " iterations at relative residual "
                                          << format_number(residual) << "; is the coefficient positive?");
    if (status(b) != converged)
      SURRO_THROW(ErrorKind::runtime, "darcy_2d: sample "
                                          << first + b << ": CG did not reach the relative residual "
                                          << format_number(m_settings.tolerance) << " in " << max_it
                                          << " iterations (darcy_2d.max_iterations): relative residual "
                                          << format_number(residual));
  }
  return x;
}

data::Block Darcy2D::run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) {
  ScopedRegion region("surro::darcy::run");
  ExecSpace exec;
  const int n = m_settings.grid, nr = m_settings.record_grid, stride = (n - 1) / (nr - 1);
  const View3<double> a = coefficient(seed, first, count);
  View3<double> f(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::darcy::f"), count, n,
                  n);  // (B, n, n)
  fill(exec, f, 1.0);
  std::vector<CgReport> report;
  const View3<double> u = solve(a, f, first, &report);

  data::Block block;
  block.first = first;
  block.count = count;
  View3<float> narrow(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::darcy::record"), count, nr, nr);
  const std::pair<const char*, View3<double>> recorded[] = {{"a", a}, {"u", u}};
  for (const auto& [name, field] : recorded) {
    subsample(exec, field, stride, narrow);
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), narrow);
    block.fields[name].assign(host.data(), host.data() + host.span());
  }
  if (diag) {
    diag->names = {"cg_iterations", "cg_residual"};
    diag->times.clear();
    diag->values.assign(2, std::vector<double>(count));
    for (long long b = 0; b < count; ++b) {
      diag->values[0][b] = report[b].iterations;
      diag->values[1][b] = report[b].residual;
    }
  }
  return block;
}

}  // namespace surro::solvers
