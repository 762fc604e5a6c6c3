// 1D viscous Burgers: ETDRK4 pseudo-spectral solver (see burgers1d.hpp for the method).
#include "solvers/burgers1d.hpp"

#include "core/constants.hpp"
#include "core/fft.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"

#include <cmath>
#include <complex>
#include <functional>
#include <iomanip>
#include <limits>
#include <sstream>

namespace surro::solvers {

// Kernels live in a named namespace (not an anonymous one): nvcc rejects extended lambdas whose
// enclosing function has internal linkage.
namespace impl::burgers {

using cplx = std::complex<double>;

// ---------------------------------------------------------------------------------------------
// Host setup: ETDRK4 weights and the linear stability bound.

// ETDRK4 weights divided by h, as functions of z = h L (Cox & Matthews 2002, eq. 26):
//   q  = (e^{z/2} - 1) / z
//   f1 = (-4 - z + e^z (4 - 3z + z^2)) / z^3
//   f2 = ( 2 + z + e^z (z - 2)) / z^3
//   f3 = (-4 - 3z - z^2 + e^z (4 - z)) / z^3
struct Phi {
  cplx q, f1, f2, f3;
};

Phi phi_closed(cplx z) {
  const cplx ez = std::exp(z), z3 = z * z * z;
  return {(std::exp(0.5 * z) - 1.0) / z, (-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3,
          (2.0 + z + ez * (z - 2.0)) / z3, (-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3};
}

// The closed forms lose about -log10|z^3/6| digits to cancellation as z -> 0 (all four are entire,
// with a removable singularity at 0). For |z| < 1 we use Cauchy's formula instead, as Kassam &
// Trefethen do: each weight is its mean over the circle |w - z| = 2, evaluated by the trapezoidal
// rule on 64 points. On that circle |w| >= 1, where the closed forms lose at most two digits; the
// rule's truncation error for these entire functions is below (2/8)^64 max|f| on |w - z| = 8, i.e.
// < 1e-30. Against a long-double Taylor series both branches agree to 4e-15 relative on [-3, 1.5].
Phi phi(cplx z) {
  if (std::abs(z) >= 1.0) return phi_closed(z);
  constexpr int points = 64;
  constexpr double radius = 2.0;
  Phi sum{};
  for (int j = 0; j < points; ++j) {
    const Phi p = phi_closed(z + std::polar(radius, 2.0 * kPi * (j + 0.5) / points));
    sum.q += p.q;
    sum.f1 += p.f1;
    sum.f2 += p.f2;
    sum.f3 += p.f3;
  }
  const double inv = 1.0 / points;
  return {sum.q * inv, sum.f1 * inv, sum.f2 * inv, sum.f3 * inv};
}

// ETDRK4's amplification factor for v' = L v + lambda v with the second term treated as the
// explicit "nonlinear" part: z = h L, w = h lambda. The stages mirror etdrk4_stage below.
cplx amplification(double z, cplx w) {
  const Phi p = phi(z);
  const double e = std::exp(z), e2 = std::exp(0.5 * z);
  const cplx nv = w;
  const cplx a = e2 + p.q * nv, na = w * a;
  const cplx b = e2 + p.q * na, nb = w * b;
  const cplx c = e2 * a + p.q * (2.0 * nb - nv), nc = w * c;
  return e + p.f1 * nv + 2.0 * p.f2 * (na + nb) + p.f3 * nc;
}

int retained_modes(int grid) {
  return (grid - 1) / 3;
}

double grf_lambda(double alpha, double tau, double sigma, int m) {
  const double k2 = 4.0 * kPi * kPi * double(m) * double(m);
  return sigma * sigma * std::pow(k2 + tau * tau, -alpha);
}

// Checks shared by the config reader (which reports "file: solver.key: ...") and the constructor;
// returns the stability bound at the config amplitude.
double validate(const BurgersSettings& s, const std::function<void(const char*, const std::string&)>& fail) {
  if (!(s.viscosity > 0)) fail("viscosity", "expected a positive number, got " + format_number(s.viscosity));
  if (s.grid < 4) fail("grid", "expected an integer >= 4, got " + std::to_string(s.grid));
  if (s.record_grid < 1 || s.grid % s.record_grid != 0)
    fail("record_grid", "expected a positive divisor of grid = " + std::to_string(s.grid) + ", got " +
                            std::to_string(s.record_grid));
  if (!(s.t_final > 0)) fail("t_final", "expected a positive number, got " + format_number(s.t_final));
  if (s.record_steps < 1)
    fail("record_steps", "expected a positive integer, got " + std::to_string(s.record_steps));
  if (!(s.alpha > 0)) fail("alpha", "expected a positive number, got " + format_number(s.alpha));
  if (!(s.tau >= 0)) fail("tau", "expected a non-negative number, got " + format_number(s.tau));
  if (!(s.sigma > 0)) fail("sigma", "expected a positive number, got " + format_number(s.sigma));
  if (!(s.dt > 0)) fail("dt", "expected a positive number, got " + format_number(s.dt));
  const double interval = s.t_final / s.record_steps;
  const double amplitude = 6.0 * burgers_grf_std(s);
  const double bound = burgers_stability_bound(s.grid, s.viscosity, amplitude, interval);
  if (s.dt > bound)
    fail("dt", "expected dt <= " + format_number(bound) + " (the ETDRK4 stability bound for grid " +
                   std::to_string(s.grid) + ", viscosity " + format_number(s.viscosity) + " and amplitude " +
                   format_number(amplitude) + " = 6 GRF standard deviations), got " + format_number(s.dt));
  return bound;
}

// ---------------------------------------------------------------------------------------------
// Kernels.

// v_hat (B, H) = DFT of the GRF draw of samples first..first+B-1; scale (H) holds N sqrt(lambda/2).
template <class Exec>
void grf_spectrum(const Exec& exec, rng::Philox philox, index_t first, const View1<double>& scale,
                  const View2<Complex<double>>& v_hat) {
  const index_t h = static_cast<index_t>(v_hat.extent(1));
  Kokkos::parallel_for(
      "surro::burgers::grf_spectrum", Kokkos::RangePolicy<Exec>(exec, 0, v_hat.extent(0) * h),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t b = i / h, m = i - b * h;
        const double s = scale(m);
        double z0 = 0, z1 = 0;
        if (s != 0.0)
          philox.normal2(static_cast<std::uint64_t>(first + b), static_cast<std::uint64_t>(m), z0, z1);
        v_hat(b, m) = Complex<double>(s * z0, s * z1);
      });
}

// Projects v (B, H) onto the 2/3 band |m| <= mc and copies it into work (B, H).
template <class Exec>
void project(const Exec& exec, int mc, const View2<Complex<double>>& v, const View2<Complex<double>>& work) {
  const index_t h = static_cast<index_t>(v.extent(1));
  Kokkos::parallel_for(
      "surro::burgers::project", Kokkos::RangePolicy<Exec>(exec, 0, v.extent(0) * h),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t b = i / h, m = i - b * h;
        const Complex<double> x = m <= mc ? v(b, m) : Complex<double>(0.0, 0.0);
        v(b, m) = x;
        work(b, m) = x;
      });
}

// u (n values) <- u^2 / 2.
template <class Exec>
void half_square(const Exec& exec, double* u, index_t n) {
  Kokkos::parallel_for(
      "surro::burgers::half_square", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { u[i] = 0.5 * u[i] * u[i]; });
}

// One ETDRK4 stage. On entry nl (B, H) holds DFT(u^2/2) of the current stage input; g = -i k nl
// (masked to the band) is the stage's Nl. With weights from coef (6, H):
//   stage 0: Nv = g,  a = E2 v + Q Nv,             acc = E v + f1 Nv,   work = a
//   stage 1: Na = g,  b = E2 v + Q Na,             acc += 2 f2 Na,      work = b
//   stage 2: Nb = g,  c = E2 a + Q (2 Nb - Nv),    acc += 2 f2 Nb,      work = c
//   stage 3: Nc = g,  v = acc + f3 Nc,                                  work = v
// work is the next inverse FFT's input (which it consumes); v, acc, nv, a are (B, H).
template <class Exec>
void etdrk4_stage(const Exec& exec, int stage, int mc, const View2<double>& coef,
                  const View2<Complex<double>>& nl, const View2<Complex<double>>& v,
                  const View2<Complex<double>>& acc, const View2<Complex<double>>& nv,
                  const View2<Complex<double>>& a, const View2<Complex<double>>& work) {
  const index_t h = static_cast<index_t>(v.extent(1));
  Kokkos::parallel_for(
      "surro::burgers::etdrk4_stage", Kokkos::RangePolicy<Exec>(exec, 0, v.extent(0) * h),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t b = i / h, m = i - b * h;
        const double k = m <= mc ? 2.0 * kPi * double(m) : 0.0;
        const Complex<double> raw = nl(b, m);
        const Complex<double> g(k * raw.imag(), -k * raw.real());
        const double e = coef(0, m), e2 = coef(1, m), q = coef(2, m);
        if (stage == 0) {
          const Complex<double> vm = v(b, m), am = e2 * vm + q * g;
          nv(b, m) = g;
          a(b, m) = am;
          work(b, m) = am;
          acc(b, m) = e * vm + coef(3, m) * g;
        } else if (stage == 1) {
          work(b, m) = e2 * v(b, m) + q * g;
          acc(b, m) += 2.0 * coef(4, m) * g;
        } else if (stage == 2) {
          work(b, m) = e2 * a(b, m) + q * (2.0 * g - nv(b, m));
          acc(b, m) += 2.0 * coef(4, m) * g;
        } else {
          const Complex<double> vn = acc(b, m) + coef(5, m) * g;
          v(b, m) = vn;
          work(b, m) = vn;
        }
      });
}

// One team per sample: frames(b, k, :) = u(b, ::stride); stats(b, k, :) = (mean u, mean u^2/2).
template <class Exec>
struct RecordFrame {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  View2<double> u;       // (B, N)
  View3<double> frames;  // (B, T, Nr)
  View3<double> stats;   // (B, T, 2)
  int k, stride;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int b = team.league_rank();
    const int n = static_cast<int>(u.extent(1)), nr = static_cast<int>(frames.extent(2));
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nr),
                         [&](const int j) { frames(b, k, j) = u(b, j * stride); });
    double sum = 0, sum2 = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n), [&](const int j, double& s) { s += u(b, j); }, sum);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, n), [&](const int j, double& s) { s += u(b, j) * u(b, j); }, sum2);
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      stats(b, k, 0) = sum / n;
      stats(b, k, 1) = 0.5 * sum2 / n;
    });
  }
};

// One team per sample: out(b) = max_j |u(b, j)|.
template <class Exec>
struct MaxAbs {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  View2<double> u;    // (B, N)
  View1<double> out;  // (B)

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int b = team.league_rank();
    double mx = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, static_cast<int>(u.extent(1))),
        [&](const int j, double& s) {
          const double x = ::fabs(u(b, j));
          if (x > s) s = x;
        },
        Kokkos::Max<double>(mx));
    Kokkos::single(Kokkos::PerTeam(team), [&]() { out(b) = mx; });
  }
};

// out (n) = float(in (n)).
template <class Exec>
void to_float(const Exec& exec, const double* in, float* out, index_t n) {
  Kokkos::parallel_for(
      "surro::burgers::to_float", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { out[i] = static_cast<float>(in[i]); });
}

}  // namespace impl::burgers

using namespace impl::burgers;

// ---------------------------------------------------------------------------------------------
// Public host functions.

double burgers_grf_std(const BurgersSettings& s) {
  double var = 0;
  for (int m = retained_modes(s.grid); m >= 1; --m) var += 2.0 * grf_lambda(s.alpha, s.tau, s.sigma, m);
  return std::sqrt(var);
}

double burgers_stability_bound(int grid, double viscosity, double amplitude, double h_max) {
  const int mc = retained_modes(grid);
  // |R| = 1 - O(h^6) on the imaginary axis near 0, so 1e-12 separates round-off from growth.
  auto stable = [&](double h) {
    for (int m = 1; m <= mc; ++m) {
      const double k = 2.0 * kPi * m;
      if (std::abs(amplification(-viscosity * k * k * h, cplx(0.0, -k * amplitude * h))) > 1.0 + 1e-12)
        return false;
    }
    return true;
  };
  // Start a factor 4 below RK4's imaginary-axis limit |k U h| <= 2 sqrt(2) at the top mode (the
  // undamped limit of ETDRK4), scan by 2^(1/4) to the first unstable h, then bisect that bracket.
  const double factor = std::pow(2.0, 0.25), floor = h_max * 1e-15;
  const double top_k = 2.0 * kPi * mc;
  double lo = amplitude > 0 ? 0.25 * std::min(h_max, 2.0 * std::sqrt(2.0) / (top_k * amplitude)) : h_max;
  double hi = lo;
  if (stable(lo)) {
    for (hi = lo * factor; stable(hi); hi *= factor) {
      if (hi >= h_max) return std::numeric_limits<double>::infinity();
      lo = hi;
    }
  } else {
    while (!stable(lo)) {
      hi = lo;
      lo /= factor;
      if (lo < floor) return 0.0;
    }
  }
  for (int it = 0; it < 40; ++it) {
    const double mid = 0.5 * (lo + hi);
    (stable(mid) ? lo : hi) = mid;
  }
  return lo;
}

BurgersSettings read_burgers_1d(config::Node& node) {
  BurgersSettings s;
  const config::Check<double> non_negative{[](const double& v) { return v >= 0; }, "a non-negative number"};
  s.viscosity = node.get_number("viscosity", s.viscosity, config::positive_number());
  s.grid = static_cast<int>(
      node.get_int("grid", s.grid,
                   {[](const long long& v) { return v >= 4 && v <= (1 << 30); }, "an integer in [4, 2^30]"}));
  // 1024 when it divides the grid, else every grid point.
  s.record_grid = static_cast<int>(
      node.get_int("record_grid", s.grid % s.record_grid == 0 ? s.record_grid : s.grid, config::positive()));
  s.t_final = node.get_number("t_final", s.t_final, config::positive_number());
  s.record_steps = static_cast<int>(
      node.get_int("record_steps", s.record_steps,
                   {[](const long long& v) { return v >= 1 && v <= (1 << 30); }, "a positive integer"}));
  s.alpha = node.get_number("alpha", s.alpha, config::positive_number());
  s.tau = node.get_number("tau", s.tau, non_negative);
  s.sigma = node.get_number("sigma", s.sigma, config::positive_number());
  // Default step: the accuracy target (BurgersSettings::dt), or half the stability bound when the
  // grid and viscosity make that smaller.
  const double bound =
      burgers_stability_bound(s.grid, s.viscosity, 6.0 * burgers_grf_std(s), s.t_final / s.record_steps);
  s.dt = node.get_number("dt", std::min(s.dt, 0.5 * bound), config::positive_number());
  validate(s, [&](const char* key, const std::string& msg) { node.fail(key, msg); });
  node.finish();
  return s;
}

std::unique_ptr<Solver> make_burgers_1d(config::Node& section) {
  return std::make_unique<Burgers1D>(read_burgers_1d(section));
}

// ---------------------------------------------------------------------------------------------
// Burgers1D.

// FFT plan and buffers for one batch size; built on the first run with that size.
struct Burgers1D::Workspace {
  Workspace(const ExecSpace& exec, int n, index_t batch)
      : batch(batch),
        plan(exec, {n}, batch, fft::Norm::backward, "surro::burgers::fft"),
        v("surro::burgers::v", batch, n / 2 + 1),
        acc("surro::burgers::acc", batch, n / 2 + 1),
        nv("surro::burgers::nv", batch, n / 2 + 1),
        a("surro::burgers::a", batch, n / 2 + 1),
        nl("surro::burgers::nl", batch, n / 2 + 1),
        work("surro::burgers::work", batch, n / 2 + 1),
        u("surro::burgers::u", batch, n) {}

  // nl <- DFT(u^2/2) where u = IDFT(work); consumes work.
  void nonlinear(const ExecSpace& exec) {
    plan.inverse(exec, work, u);
    half_square(exec, u.data(), static_cast<index_t>(u.span()));
    plan.forward(exec, u, nl);
  }

  index_t batch;
  fft::RealFftPlan<double, ExecSpace> plan;        // (B, N) <-> (B, N/2+1), Norm::backward
  View2<Complex<double>> v, acc, nv, a, nl, work;  // (B, N/2+1) each
  View2<double> u;                                 // (B, N)
};

Burgers1D::~Burgers1D() = default;

std::pair<View2<double>, View1<double>> Burgers1D::device_tables() const {
  if (m_coef.extent(0) == 0) {
    const int h = static_cast<int>(m_grf_scale_host.size());
    m_coef = View2<double>("surro::burgers::coef", 6, h);
    m_grf_scale = View1<double>("surro::burgers::grf_scale", h);
    Kokkos::deep_copy(
        m_coef, Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                    m_coef_host.data(), 6, h));
    Kokkos::deep_copy(m_grf_scale, Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                                       m_grf_scale_host.data(), h));
  }
  return {m_coef, m_grf_scale};
}

Burgers1D::Burgers1D(const BurgersSettings& s) : m_settings(s) {
  m_bound = validate(s, [](const char* key, const std::string& msg) {
    SURRO_THROW(ErrorKind::usage, "burgers_1d." << key << ": " << msg);
  });
  const int n = s.grid, h = n / 2 + 1;
  m_modes = impl::burgers::retained_modes(n);
  const double interval = s.t_final / s.record_steps;
  // Largest h <= dt dividing the record interval; the 1e-12 absorbs round-off in interval / dt.
  m_steps_per_record = std::max(1, static_cast<int>(std::ceil(interval / s.dt * (1.0 - 1e-12))));
  m_step = interval / m_steps_per_record;
  m_amplitude = 6.0 * burgers_grf_std(s);

  // Host tables here; device copies on first use (construction must not need Kokkos: solver.hpp).
  m_coef_host.assign(6 * std::size_t(h), 0.0);
  m_grf_scale_host.assign(h, 0.0);
  auto coef = [&](int row, int m) -> double& { return m_coef_host[std::size_t(row) * h + m]; };
  auto scale = [&](int m) -> double& { return m_grf_scale_host[m]; };
  for (int m = 0; m < h; ++m) {
    const double k = 2.0 * kPi * m, z = -s.viscosity * k * k * m_step;
    const Phi p = phi(z);
    coef(0, m) = std::exp(z);
    coef(1, m) = std::exp(0.5 * z);
    coef(2, m) = m_step * p.q.real();
    coef(3, m) = m_step * p.f1.real();
    coef(4, m) = m_step * p.f2.real();
    coef(5, m) = m_step * p.f3.real();
    scale(m) = (m >= 1 && m <= m_modes) ? n * std::sqrt(0.5 * grf_lambda(s.alpha, s.tau, s.sigma, m)) : 0.0;
  }

  m_spec.dataset_name = "burgers_1d";
  m_spec.dims = {"x"};
  std::vector<double> x(s.record_grid);
  for (int j = 0; j < s.record_grid; ++j) x[j] = double(j) / s.record_grid;
  m_spec.coords = {x};
  m_spec.boundaries = {data::Boundary::periodic};
  for (int k = 0; k <= s.record_steps; ++k) m_spec.times.push_back(k * interval);
  m_spec.fields = {{"u", true}};
  m_spec.parameters = {{"viscosity", s.viscosity}};
  std::ostringstream grf;
  grf << "N(0, " << s.sigma << "^2 (-Delta + " << s.tau << "^2 I)^-" << s.alpha << "), modes 1.." << m_modes;
  m_spec.provenance = {{"solver", "burgers_1d"},
                       {"method", "Fourier pseudo-spectral, 2/3-rule dealiasing, ETDRK4 (Cox-Matthews)"},
                       {"grid", std::to_string(n)},
                       {"internal_step", format_number(m_step)},
                       {"initial_condition", grf.str()}};
}

Burgers1D::Workspace& Burgers1D::workspace(index_t batch) {
  if (!m_work || m_work->batch != batch) {
    m_work.reset();  // release the old buffers before allocating new ones
    m_work = std::make_unique<Workspace>(ExecSpace(), m_settings.grid, batch);
  }
  return *m_work;
}

View2<double> Burgers1D::initial_condition(std::uint64_t seed, long long first, long long count) {
  ScopedRegion region("surro::burgers::initial_condition");
  SURRO_REQUIRE(count > 0 && first >= 0, "burgers_1d: samples [" << first << ", " << first + count
                                                                 << "): expected first >= 0 and count > 0");
  ExecSpace exec;
  Workspace& ws = workspace(count);
  View2<double> u0("surro::burgers::u0", count, m_settings.grid);  // (B, N)
  grf_spectrum(exec, rng::Philox{seed}, first, device_tables().second, ws.work);
  ws.plan.inverse(exec, ws.work, u0);
  exec.fence();
  return u0;
}

View3<double> Burgers1D::simulate(const View2<double>& u0, long long first, Diagnostics* diag) {
  ScopedRegion region("surro::burgers::simulate");
  const int n = m_settings.grid, nr = m_settings.record_grid, t_count = m_settings.record_steps + 1;
  const index_t batch = static_cast<index_t>(u0.extent(0));
  SURRO_REQUIRE(batch > 0 && static_cast<int>(u0.extent(1)) == n,
                "burgers_1d: initial data has shape (" << u0.extent(0) << ", " << u0.extent(1)
                                                       << "): expected (B > 0, grid = " << n << ")");
  ExecSpace exec;
  Workspace& ws = workspace(batch);

  // The config check assumed |u0| <= m_amplitude; a sample above it must pass the bound at its own
  // amplitude (the maximum principle keeps |u(t)| below |u0| afterwards).
  {
    View1<double> umax("surro::burgers::simulate::umax", batch);
    Kokkos::parallel_for("surro::burgers::simulate::max_abs",
                         Kokkos::TeamPolicy<ExecSpace>(exec, batch, Kokkos::AUTO),
                         MaxAbs<ExecSpace>{u0, umax});
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), umax);
    index_t worst = 0;
    for (index_t b = 1; b < batch; ++b)
      if (host(b) > host(worst)) worst = b;
    if (host(worst) > m_amplitude) {
      const double interval = m_settings.t_final / m_settings.record_steps;
      const double bound = burgers_stability_bound(n, m_settings.viscosity, host(worst), interval);
      if (m_step > bound)
        SURRO_THROW(ErrorKind::runtime, "burgers_1d: sample "
                                            << first + worst << ": max|u0| = " << format_number(host(worst))
                                            << " needs an internal step <= " << format_number(bound)
                                            << " for ETDRK4 stability, got " << format_number(m_step)
                                            << "; lower burgers_1d.dt");
    }
  }

  View3<double> frames("surro::burgers::frames", batch, t_count, nr);  // (B, T, Nr)
  View3<double> stats("surro::burgers::stats", batch, t_count, 2);     // (B, T, 2)
  auto record = [&](int k) {
    ws.plan.inverse(exec, ws.work, ws.u);
    Kokkos::parallel_for("surro::burgers::simulate::record",
                         Kokkos::TeamPolicy<ExecSpace>(exec, batch, Kokkos::AUTO),
                         RecordFrame<ExecSpace>{ws.u, frames, stats, k, n / nr});
    Kokkos::deep_copy(exec, ws.work, ws.v);
  };

  ws.plan.forward(exec, u0, ws.v);
  project(exec, m_modes, ws.v, ws.work);
  record(0);
  for (int k = 1; k < t_count; ++k) {
    for (int step = 0; step < m_steps_per_record; ++step) {
      for (int stage = 0; stage < 4; ++stage) {
        ws.nonlinear(exec);
        etdrk4_stage(exec, stage, m_modes, device_tables().first, ws.nl, ws.v, ws.acc, ws.nv, ws.a, ws.work);
      }
    }
    record(k);
  }
  exec.fence();

  if (diag) {
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), stats);
    diag->names = {"mean", "energy"};
    diag->times = m_spec.times;
    diag->values.assign(2, std::vector<double>(batch * t_count));
    for (index_t b = 0; b < batch; ++b)
      for (int k = 0; k < t_count; ++k)
        for (int c = 0; c < 2; ++c) diag->values[c][b * t_count + k] = host(b, k, c);
  }
  return frames;
}

data::Block Burgers1D::run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) {
  ScopedRegion region("surro::burgers::run");
  const View3<double> frames = simulate(initial_condition(seed, first, count), first, diag);
  ExecSpace exec;
  View3<float> narrow(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::burgers::frames_f32"),
                      frames.extent(0), frames.extent(1), frames.extent(2));  // (B, T, Nr)
  to_float(exec, frames.data(), narrow.data(), static_cast<index_t>(frames.span()));
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), narrow);
  data::Block block;
  block.first = first;
  block.count = count;
  block.fields["u"].assign(host.data(), host.data() + host.span());
  return block;
}

}  // namespace surro::solvers
