#include "solvers/navier_stokes2d.hpp"

#include "core/build_info.hpp"
#include "core/device_graph.hpp"
#include "core/error.hpp"
#include "core/fft.hpp"
#include "core/profile.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "core/types.hpp"

#include <cmath>
#include <string>

namespace surro::solvers {

double NavierStokes2DConfig::cfl_limit() const {
  return scheme == "ifrk4" ? 3.0 * 2.0 * std::sqrt(2.0) / (2.0 * M_PI) : 1.0;
}

long long NavierStokes2DConfig::steps_per_record() const {
  return std::llround(t_final / record_steps / dt);
}

NavierStokes2DConfig read_navier_stokes_2d(config::Node& n) {
  NavierStokes2DConfig c;
  c.viscosity = n.get_number("viscosity", c.viscosity, config::positive_number());
  const auto even = config::Check<long long>{[](const long long& v) { return v >= 4 && v % 2 == 0; },
                                             "an even integer >= 4"};
  c.grid = static_cast<int>(n.get_int("grid", c.grid, even));
  c.record_grid = static_cast<int>(
      n.get_int("record_grid", std::min<long long>(c.record_grid, c.grid), config::positive()));
  if (c.grid % c.record_grid != 0)
    n.fail("record_grid", "expected a divisor of grid = " + std::to_string(c.grid) + ", got " +
                              std::to_string(c.record_grid));
  c.t_final = n.get_number("t_final", c.t_final, config::positive_number());
  c.record_steps = static_cast<int>(n.get_int("record_steps", c.record_steps, config::positive()));
  c.dt = n.get_number("dt", c.dt, config::positive_number());
  const double per_record = c.t_final / c.record_steps / c.dt;
  if (std::abs(per_record - std::llround(per_record)) > 1e-9 * per_record || std::llround(per_record) < 1)
    n.fail("dt", "expected a step that divides the record interval t_final / record_steps = " +
                     std::to_string(c.t_final / c.record_steps));
  c.scheme = n.get_string("scheme", c.scheme, config::one_of({"crank_nicolson", "ifrk4"}));
  c.forcing = n.get_string("forcing", c.forcing, config::one_of({"fno", "kolmogorov", "none"}));
  c.forcing_amplitude = n.get_number("forcing_amplitude", c.forcing_amplitude);
  c.forcing_wavenumber =
      static_cast<int>(n.get_int("forcing_wavenumber", c.forcing_wavenumber, config::positive()));
  c.initial = n.get_string("initial", c.initial, config::one_of({"grf", "taylor_green"}));
  c.grf_alpha = n.get_number("grf_alpha", c.grf_alpha, config::positive_number());
  c.grf_tau = n.get_number("grf_tau", c.grf_tau, config::positive_number());
  c.grf_sigma = n.get_number("grf_sigma", std::pow(c.grf_tau, c.grf_alpha - 1.0), config::positive_number());
  c.tg_amplitude = n.get_number("tg_amplitude", c.tg_amplitude);
  c.tg_wavenumber = static_cast<int>(n.get_int("tg_wavenumber", c.tg_wavenumber, config::positive()));
  n.finish();
  return c;
}

// Kernels. Free functions in a named namespace: nvcc's extended lambdas may not sit in private
// members or in functions with internal linkage.
namespace ns_impl {

using C = Complex<double>;
using Spec = View3<C>;        // (B, Nx, H), H = Nx/2 + 1: rfft2 half spectrum, ky along the last axis
using Phys = View3<double>;   // (B, Nx, Nx), y along the last axis
using Table = View2<double>;  // (Nx, H) per-mode coefficients

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Signed wavenumber of FFT index i on an n-point axis (index n/2 maps to -n/2, as numpy/FNO).
KOKKOS_INLINE_FUNCTION int wavenumber(int i, int n) {
  return i < n / 2 ? i : i - n;
}

// Weight of a half-spectrum column in Parseval sums: columns 0 and n/2 stand for themselves only.
KOKKOS_INLINE_FUNCTION double column_weight(int j, int n) {
  return (j == 0 || 2 * j == n) ? 1.0 : 2.0;
}

// The stepping kernels loop over (b, i, j) through for_each_3d (core/types.hpp): on a device one flat
// index decoded in 32 bits. The three-dimensional MDRangePolicy it replaces left its tiles
// part-empty on the half spectrum's odd last extent (129 at 256²): the Crank-Nicolson kernel ran at
// 44% of the copy bandwidth on an H100 at 256², batch 100 (bench/RESULTS.md 2026-12-07, session 21).

struct Grid {
  int n = 0, h = 0;
  double kmax_dealias = 0;  // 2/3 * (n/2)
};

// The four stacked inputs of a right-hand side, from the vorticity spectrum value w at mode
// (b, i, j): work(0:B) = u_hat = 2 pi i ky psi_hat, work(B:2B) = v_hat = -2 pi i kx psi_hat,
// work(2B:3B) = 2 pi i kx w_hat, work(3B:4B) = 2 pi i ky w_hat, psi_hat = w_hat / (4 pi^2 |k|^2),
// each times 1/Nx^2: the inverse FFT of work runs unnormalized (fft_inverse4 is Norm::none), so
// the scaling costs no pass of its own. Shared by the stepping kernels, which write the next
// stage's inputs as they produce it, and by velocity_and_gradient.
KOKKOS_INLINE_FUNCTION void write_rhs_inputs(const Spec& work, int B, const Grid& g, int b, int i, int j,
                                             C w) {
  const double kx = wavenumber(i, g.n), ky = j;
  const double inv_points = 1.0 / (double(g.n) * g.n);
  const double lap = kTwoPi * kTwoPi * (kx * kx + ky * ky);  // (2 pi)^2 |k|^2
  const C psi = (i == 0 && j == 0) ? C(0.0) : w * (inv_points / lap);
  const C ws = w * inv_points;
  const C ix(0.0, kTwoPi * kx), iy(0.0, kTwoPi * ky);
  work(b, i, j) = iy * psi;
  work(B + b, i, j) = -ix * psi;
  work(2 * B + b, i, j) = ix * ws;
  work(3 * B + b, i, j) = iy * ws;
}

// The explicit part of the equation at one mode: f_hat - dealias(F_hat), F = u w_x + v w_y.
KOKKOS_INLINE_FUNCTION C explicit_term(const Grid& g, int i, int j, C f, C adv) {
  const double kx = wavenumber(i, g.n);
  const bool keep = (kx < 0 ? -kx : kx) <= g.kmax_dealias && j <= g.kmax_dealias;
  return f - (keep ? adv : C(0.0));
}

void velocity_and_gradient(const ExecSpace& exec, const Grid g, const Spec& w_hat, const Spec& work) {
  const int B = static_cast<int>(w_hat.extent(0));
  profile::add_work("surro::ns2d::velocity_and_gradient", 5.0 * B * g.n * g.h * sizeof(C));  // 1 in, 4 out
  for_each_3d(
      exec, "surro::ns2d::velocity_and_gradient", B, g.n, g.h,
      KOKKOS_LAMBDA(const int b, const int i, const int j) {
        write_rhs_inputs(work, B, g, b, i, j, w_hat(b, i, j));
      });
}

// phys(0:B) = u w_x + v w_y from the four stacked physical slots.
void advection(const ExecSpace& exec, const Grid g, const Phys& phys, int B) {
  profile::add_work("surro::ns2d::advection", 5.0 * B * g.n * g.n * sizeof(double));  // 4 in, 1 out
  for_each_3d(
      exec, "surro::ns2d::advection", B, g.n, g.n, KOKKOS_LAMBDA(const int b, const int x, const int y) {
        phys(b, x, y) = phys(b, x, y) * phys(2 * B + b, x, y) + phys(B + b, x, y) * phys(3 * B + b, x, y);
      });
}

// One Crank-Nicolson step on nu lap with the explicit term N = f - dealias(F) from adv_hat = F_hat:
// w = ((1 - a) w + dt N) / (1 + a), a = dt nu |k|^2 (2pi)^2 / 2; then the next step's inputs.
void crank_nicolson_step(const ExecSpace& exec, const Grid g, const Spec& w_hat, const Spec& adv_hat,
                         const View2<C>& f_hat, const Spec& work, double dt, double nu) {
  const int B = static_cast<int>(w_hat.extent(0));
  // w and F in, w and the 4 inputs out, and the forcing (Nx, H).
  profile::add_work("surro::ns2d::crank_nicolson", (7.0 * B + 1.0) * g.n * g.h * sizeof(C));
  for_each_3d(
      exec, "surro::ns2d::crank_nicolson", B, g.n, g.h, KOKKOS_LAMBDA(const int b, const int i, const int j) {
        const double kx = wavenumber(i, g.n), ky = j;
        const double a = 0.5 * dt * nu * kTwoPi * kTwoPi * (kx * kx + ky * ky);
        const C nl = explicit_term(g, i, j, f_hat(i, j), adv_hat(b, i, j));
        const C w = ((1.0 - a) * w_hat(b, i, j) + dt * nl) / (1.0 + a);
        w_hat(b, i, j) = w;
        write_rhs_inputs(work, B, g, b, i, j, w);
      });
}

// The four IF-RK4 stage updates (Cox & Matthews form with E = exp(-nu lap dt), E2 = exp(-nu lap dt/2)),
// each from the explicit term N of the stage just evaluated (adv_hat = its F_hat). Each writes the
// inputs of the next right-hand side: of the next stage, or after the last of the next step.
enum class Stage { first, second, third, last };
void ifrk4_stage(const ExecSpace& exec, const Grid g, Stage stage, const Spec& w_hat, const Spec& adv_hat,
                 const View2<C>& f_hat, const Spec& acc, const Spec& work, double dt, double nu) {
  const int B = static_cast<int>(w_hat.extent(0));
  // Spectra touched: w and F in, acc (read after the first stage) and written, w written by the
  // last, the 4 inputs out; and the forcing (Nx, H).
  const int arrays = stage == Stage::first ? 7 : 8;
  profile::add_work("surro::ns2d::ifrk4_stage", (double(arrays) * B + 1.0) * g.n * g.h * sizeof(C));
  for_each_3d(
      exec, "surro::ns2d::ifrk4_stage", B, g.n, g.h, KOKKOS_LAMBDA(const int b, const int i, const int j) {
        const double kx = wavenumber(i, g.n), ky = j;
        const double lap = kTwoPi * kTwoPi * (kx * kx + ky * ky);
        const double e2 = ::exp(-0.5 * nu * lap * dt), e = e2 * e2;
        const C w = w_hat(b, i, j), nl = explicit_term(g, i, j, f_hat(i, j), adv_hat(b, i, j));
        C next;
        switch (stage) {
          case Stage::first:
            acc(b, i, j) = e * nl;
            next = e2 * (w + 0.5 * dt * nl);
            break;
          case Stage::second:
            acc(b, i, j) += 2.0 * e2 * nl;
            next = e2 * w + 0.5 * dt * nl;
            break;
          case Stage::third:
            acc(b, i, j) += 2.0 * e2 * nl;
            next = e * w + dt * e2 * nl;
            break;
          case Stage::last:
            next = e * w + dt / 6.0 * (acc(b, i, j) + nl);
            w_hat(b, i, j) = next;
            break;
        }
        write_rhs_inputs(work, B, g, b, i, j, next);
      });
}

// Initial vorticity spectrum: a GRF with E|W_k|^2 = S_k^2, S_k = Nx^2 sqrt(2) sigma (4 pi^2 |k|^2 +
// tau^2)^(-alpha/2), S_0 = 0 -- the distribution of the FNO generator's Re(ifft2(S xi)). Each mode's two
// normals come from the counter RNG at (stream = sample, index = mode_index(kx, ky)), a function of the
// signed wavenumber only, so grids of different sizes draw the same coefficients for the modes they share:
// sample s at 64^2 is sample s at 256^2 truncated (up to the Nyquist modes). The ky = 0 and ky = Nx/2 columns
// are made Hermitian explicitly (W(-kx) = conj W(kx), real at kx = 0, Nx/2), so the spectrum is
// exactly that of a real field and every FFT backend reads it the same way.
void grf_spectrum(const ExecSpace& exec, const Grid g, const Spec& w_hat, std::uint64_t seed,
                  long long first_sample, double alpha, double tau, double sigma) {
  const int B = static_cast<int>(w_hat.extent(0));
  const rng::Philox gen{seed};
  const double scale = double(g.n) * g.n * ::sqrt(2.0) * sigma;
  for_each_3d(
      exec, "surro::ns2d::grf", B, g.n, g.h, KOKKOS_LAMBDA(const int b, const int i, const int j) {
        const double kx = wavenumber(i, g.n), ky = j;
        const double s = scale * ::pow(kTwoPi * kTwoPi * (kx * kx + ky * ky) + tau * tau, -0.5 * alpha);
        const bool edge_column = j == 0 || 2 * j == g.n;
        const bool self_conjugate = edge_column && (i == 0 || 2 * i == g.n);
        const bool mirrored = edge_column && 2 * i > g.n;  // conj of the draw at Nx - i
        const int di = mirrored ? g.n - i : i;
        double z0, z1;
        const std::uint64_t mode_index = (static_cast<std::uint64_t>(wavenumber(di, g.n) + (1 << 30)) << 32) |
                                         static_cast<std::uint64_t>(j);
        gen.normal2(static_cast<std::uint64_t>(first_sample + b), mode_index, z0, z1);
        C w;
        if (i == 0 && j == 0)
          w = C(0.0);
        else if (self_conjugate)
          w = C(s * z0, 0.0);
        else
          w = C(s * z0 / ::sqrt(2.0), (mirrored ? -1.0 : 1.0) * s * z1 / ::sqrt(2.0));
        w_hat(b, i, j) = w;
      });
}

// Physical field on the grid (x_i = i / Nx), sampled by f(x, y).
void forcing_field(const ExecSpace& exec, const Grid g, const View2<double>& f,
                   const NavierStokes2DConfig& c) {
  const double amp = c.forcing_amplitude;
  const int kind = c.forcing == "fno" ? 0 : c.forcing == "kolmogorov" ? 1 : 2;
  const int n_wave = c.forcing_wavenumber;
  for_each_2d(
      exec, "surro::ns2d::forcing", g.n, g.n, KOKKOS_LAMBDA(const int x, const int y) {
        const double X = double(x) / g.n, Y = double(y) / g.n;
        double v = 0.0;
        if (kind == 0)
          v = amp * (::sin(kTwoPi * (X + Y)) + ::cos(kTwoPi * (X + Y)));
        else if (kind == 1)
          v = -kTwoPi * n_wave * amp * ::cos(kTwoPi * n_wave * Y);
        f(x, y) = v;
      });
}

void taylor_green(const ExecSpace& exec, const Grid g, const Phys& w, double amp, int k) {
  const int B = static_cast<int>(w.extent(0));
  for_each_3d(
      exec, "surro::ns2d::taylor_green", B, g.n, g.n, KOKKOS_LAMBDA(const int b, const int x, const int y) {
        w(b, x, y) = amp * ::cos(kTwoPi * k * double(x) / g.n) * ::cos(kTwoPi * k * double(y) / g.n);
      });
}

// Per sample: kinetic energy <|u|^2>/2 and enstrophy <w^2>/2 by Parseval on the half spectrum,
// and (optionally) the kinetic energy per integer shell.
void energy_enstrophy(const ExecSpace& exec, const Grid g, const Spec& w_hat, const View1<double>& energy,
                      const View1<double>& enstrophy,
                      const View2<double>& spectrum /* (B, Nx/2+1) or empty */) {
  const int B = static_cast<int>(w_hat.extent(0));
  const int modes = g.n * g.h;
  const double norm = 1.0 / (double(g.n) * g.n * double(g.n) * g.n);  // 1/N^2, N = Nx^2 points
  const bool shells = spectrum.extent(0) > 0;
  const int n_shells = shells ? static_cast<int>(spectrum.extent(1)) : 0;
  using Team = Kokkos::TeamPolicy<ExecSpace>::member_type;
  Kokkos::parallel_for(
      "surro::ns2d::energy_enstrophy", Kokkos::TeamPolicy<ExecSpace>(exec, B, Kokkos::AUTO),
      KOKKOS_LAMBDA(const Team& team) {
        const int b = team.league_rank();
        // Two scalar reductions rather than one over a pair: Kokkos 3.4 has no multi-value team reduce.
        double e = 0.0, z = 0.0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, modes),
            [&](const int m, double& z_acc) {
              const int i = m / g.h, j = m % g.h;
              const double a2 = Kokkos::abs(w_hat(b, i, j));
              z_acc += 0.5 * column_weight(j, g.n) * a2 * a2 * norm;
            },
            z);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, modes),
            [&](const int m, double& e_acc) {
              const int i = m / g.h, j = m % g.h;
              const double kx = wavenumber(i, g.n), ky = j;
              const double k2 = kx * kx + ky * ky;
              if (k2 == 0) return;
              const double a2 = Kokkos::abs(w_hat(b, i, j));
              const double ke = 0.5 * column_weight(j, g.n) * a2 * a2 * norm / (kTwoPi * kTwoPi * k2);
              e_acc += ke;
              if (shells) {
                const int s = static_cast<int>(::floor(::sqrt(k2) + 0.5));
                if (s < n_shells) Kokkos::atomic_add(&spectrum(b, s), ke);
              }
            },
            e);
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          energy(b) = e;
          enstrophy(b) = z;
        });
      });
}

// max over all samples and points of max(|u|, |v|), from the physical velocity slots.
double max_velocity(const ExecSpace& exec, const Grid g, const Phys& phys, int B) {
  double vmax = 0.0;
  Kokkos::parallel_reduce(
      "surro::ns2d::max_velocity", MDRange3<ExecSpace>(exec, {0, 0, 0}, {2 * B, g.n, g.n}),
      KOKKOS_LAMBDA(const int b, const int x, const int y, double& m) {
        const double v = ::fabs(phys(b, x, y));
        if (v > m) m = v;
      },
      Kokkos::Max<double>(vmax));
  return vmax;
}

// rec(b, X, Y) = w(b, X * stride, Y * stride): the benchmark records by striding, not averaging.
void subsample(const ExecSpace& exec, const Phys& w, const View3<float>& rec, int stride) {
  for_each_3d(
      exec, "surro::ns2d::subsample", index_t(rec.extent(0)), index_t(rec.extent(1)), index_t(rec.extent(2)),
      KOKKOS_LAMBDA(const int b, const int x, const int y) {
        rec(b, x, y) = static_cast<float>(w(b, x * stride, y * stride));
      });
}

class NavierStokes2D final : public Solver {
 public:
  explicit NavierStokes2D(const NavierStokes2DConfig& c) : m_cfg(c) {
    m_grid.n = c.grid;
    m_grid.h = c.grid / 2 + 1;
    m_grid.kmax_dealias = 2.0 / 3.0 * (c.grid / 2);
    auto& s = m_spec;
    s.dataset_name = "navier_stokes_2d";
    s.dims = {"x", "y"};
    std::vector<double> coord(c.record_grid);
    for (int i = 0; i < c.record_grid; ++i) coord[i] = double(i) / c.record_grid;
    s.coords = {coord, coord};
    s.boundaries = {data::Boundary::periodic, data::Boundary::periodic};
    for (int k = 0; k <= c.record_steps; ++k) s.times.push_back(c.t_final * k / c.record_steps);
    s.fields = {{"vorticity", true}};
    s.parameters = {{"viscosity", c.viscosity}};
    s.provenance = {
        {"solver", "navier_stokes_2d"}, {"scheme", c.scheme},   {"internal_grid", std::to_string(c.grid)},
        {"dt", std::to_string(c.dt)},   {"forcing", c.forcing}, {"initial", c.initial},
        {"backend", ExecSpace::name()}};
  }

  const data::DatasetSpec& spec() const override { return m_spec; }

  data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) override {
    return run_impl(seed, first, count, diag, nullptr);
  }
  // final: when set, receives the last frame on the internal grid in double, (count, Nx, Nx).
  data::Block run_impl(std::uint64_t seed, long long first, long long count, Diagnostics* diag,
                       std::vector<double>* final);

 private:
  NavierStokes2DConfig m_cfg;
  Grid m_grid;
  data::DatasetSpec m_spec;
};

data::Block NavierStokes2D::run_impl(std::uint64_t seed, long long first, long long count, Diagnostics* diag,
                                     std::vector<double>* final) {
  SURRO_REQUIRE(count > 0, "navier_stokes_2d: count = " << count << ": expected > 0");
  ScopedRegion region("surro::ns2d::run");
  const NavierStokes2DConfig& c = m_cfg;
  const Grid g = m_grid;
  const int B = static_cast<int>(count), n = c.grid, r = c.record_grid, stride = n / r;
  const int T = c.record_steps + 1;
  ExecSpace exec;

  // Plans and buffers for this batch size: built once, reused by every step.
  fft::RealFftPlan<double, ExecSpace> fwd(exec, {n, n}, B, fft::Norm::backward, "surro::ns2d::fft_forward");
  // The 4 right-hand-side inputs come pre-scaled by 1/Nx^2 (write_rhs_inputs): unnormalized inverse.
  fft::RealFftPlan<double, ExecSpace> inv4(exec, {n, n}, 4 * B, fft::Norm::none, "surro::ns2d::fft_inverse4");
  fft::RealFftPlan<double, ExecSpace> inv1(exec, {n, n}, B, fft::Norm::backward, "surro::ns2d::fft_inverse");
  Spec w_hat("surro::ns2d::w_hat", B, n, g.h);
  Spec work = make_scratch<Spec>(exec, "surro::ns2d::work_hat", 4 * B, n, g.h);  // (4B, Nx, H)
  Phys phys = make_scratch<Phys>(exec, "surro::ns2d::phys", 4 * B, n, n);        // (4B, Nx, Nx)
  Spec adv = make_scratch<Spec>(exec, "surro::ns2d::advection_hat", B, n, g.h);  // F_hat of the last stage
  Spec acc;
  if (c.scheme == "ifrk4") acc = make_scratch<Spec>(exec, "surro::ns2d::ifrk4_acc", B, n, g.h);
  // Forcing spectrum (Nx, H).
  View2<C> f_hat("surro::ns2d::forcing_hat", n, g.h);
  {
    View2<double> f = make_scratch<View2<double>>(exec, "surro::ns2d::forcing", n, n);
    forcing_field(exec, g, f, c);
    fft::RealFftPlan<double, ExecSpace> plan(exec, {n, n}, 1, fft::Norm::backward,
                                             "surro::ns2d::fft_forcing");
    plan.forward_raw(exec, f.data(), f_hat.data());
  }
  View3<float> rec("surro::ns2d::record", B, r, r);  // (B, r, r)
  auto rec_host = Kokkos::create_mirror_view(rec);
  View1<double> energy("surro::ns2d::energy", B), enstrophy("surro::ns2d::enstrophy", B);
  View2<double> spectrum;
  const int n_shells = n / 2 + 1;
  const bool want_spectra = diag && diag->want_spectra;
  if (want_spectra) spectrum = View2<double>("surro::ns2d::spectrum", B, n_shells);

  // Initial condition.
  if (c.initial == "grf") {
    const double sigma = c.grf_sigma > 0 ? c.grf_sigma : std::pow(c.grf_tau, c.grf_alpha - 1.0);
    grf_spectrum(exec, g, w_hat, seed, first, c.grf_alpha, c.grf_tau, sigma);
  } else {
    Phys w0(phys.data(), B, n, n);
    taylor_green(exec, g, w0, c.tg_amplitude, c.tg_wavenumber);
    fwd.forward_raw(exec, w0.data(), w_hat.data());
  }

  // adv = F_hat from the inputs in work (which the inverse FFT overwrites); the stepping kernels
  // turn it into the explicit term as they read it.
  auto advection_of_work = [&]() {
    inv4.inverse_raw(exec, work.data(), phys.data());
    advection(exec, g, phys, B);
    fwd.forward_raw(exec, phys.data(), adv.data());
  };

  data::Block block;
  block.first = first;
  block.count = count;
  std::vector<float>& out = block.fields["vorticity"];
  out.assign(static_cast<std::size_t>(B) * T * r * r, 0.0f);
  if (diag) {
    diag->names = {"kinetic_energy", "enstrophy", "max_velocity"};
    diag->values.assign(3, std::vector<double>(static_cast<std::size_t>(B) * T, 0.0));
    diag->times = m_spec.times;
    if (want_spectra) {
      diag->spectrum_k.clear();
      for (int s = 0; s < n_shells; ++s) diag->spectrum_k.push_back(s);
      diag->spectra.assign(static_cast<std::size_t>(B) * T, std::vector<double>(n_shells, 0.0));
    }
  }

  const double dx_inv = n, limit = c.cfl_limit();
  auto record = [&](int frame) {
    // Velocity for the CFL check, then the vorticity field (inverse FFTs overwrite their input).
    velocity_and_gradient(exec, g, w_hat, work);
    inv4.inverse_raw(exec, work.data(), phys.data());
    const double umax = max_velocity(exec, g, phys, B);
    const double cfl = c.dt * umax * dx_inv;
    if (!(cfl <= limit))
      SURRO_THROW(ErrorKind::runtime,
                  "navier_stokes_2d: time step dt = "
                      << c.dt << " violates the stability bound dt <= " << limit / (umax * dx_inv) << " (CFL "
                      << cfl << " > " << limit << " for scheme " << c.scheme << ", max velocity " << umax
                      << " at t = " << m_spec.times[frame] << ", grid " << n << ")");
    Kokkos::deep_copy(exec, Spec(work.data(), B, n, g.h), w_hat);
    inv1.inverse_raw(exec, work.data(), phys.data());
    subsample(exec, Phys(phys.data(), B, n, n), rec, stride);
    if (diag) {
      if (want_spectra) Kokkos::deep_copy(exec, spectrum, 0.0);
      energy_enstrophy(exec, g, w_hat, energy, enstrophy, want_spectra ? spectrum : View2<double>());
    }
    Kokkos::deep_copy(exec, rec_host, rec);
    exec.fence();
    for (int b = 0; b < B; ++b)
      std::copy(rec_host.data() + std::size_t(b) * r * r, rec_host.data() + std::size_t(b + 1) * r * r,
                out.begin() + (std::size_t(b) * T + frame) * r * r);
    if (diag) {
      auto e = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), energy);
      auto z = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), enstrophy);
      for (int b = 0; b < B; ++b) {
        diag->values[0][std::size_t(b) * T + frame] = e(b);
        diag->values[1][std::size_t(b) * T + frame] = z(b);
        diag->values[2][std::size_t(b) * T + frame] = umax;
      }
      if (want_spectra) {
        auto sp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), spectrum);
        for (int b = 0; b < B; ++b)
          for (int s = 0; s < n_shells; ++s) diag->spectra[std::size_t(b) * T + frame][s] = sp(b, s);
      }
    }
  };

  // One time step: the same FFTs and kernels on the same buffers with the same dt every step, so
  // on a GPU it can be recorded once as a CUDA graph and replayed (core/device_graph.hpp). Off
  // unless SURRO_DEVICE_GRAPH=on until the GPU tests have run with it.
  auto step = [&]() {
    if (c.scheme == "crank_nicolson") {
      advection_of_work();
      crank_nicolson_step(exec, g, w_hat, adv, f_hat, work, c.dt, c.viscosity);
    } else {
      for (Stage st : {Stage::first, Stage::second, Stage::third, Stage::last}) {
        advection_of_work();
        ifrk4_stage(exec, g, st, w_hat, adv, f_hat, acc, work, c.dt, c.viscosity);
      }
    }
  };
  DeviceGraph step_graph{false};
  record(0);
  const long long per_record = c.steps_per_record();
  for (int frame = 1; frame < T; ++frame) {
    velocity_and_gradient(exec, g, w_hat, work);  // record() used work; every later step refills it
    for (long long i = 0; i < per_record; ++i) step_graph.run(exec, step);
    record(frame);
  }
  if (final) {  // record() left the last frame's vorticity in phys(0:B)
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), phys);
    final->assign(host.data(), host.data() + std::size_t(B) * n * n);
  }
  return block;
}

}  // namespace ns_impl

std::unique_ptr<Solver> make_navier_stokes_2d(const NavierStokes2DConfig& cfg) {
  return std::make_unique<ns_impl::NavierStokes2D>(cfg);
}

std::vector<double> navier_stokes_2d_final_vorticity(const NavierStokes2DConfig& cfg, std::uint64_t seed,
                                                     long long first, long long count) {
  ns_impl::NavierStokes2D solver(cfg);
  std::vector<double> out;
  solver.run_impl(seed, first, count, nullptr, &out);
  return out;
}

std::unique_ptr<Solver> make_navier_stokes_2d(config::Node& node) {
  return make_navier_stokes_2d(read_navier_stokes_2d(node));
}

}  // namespace surro::solvers
