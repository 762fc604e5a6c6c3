// 3D viscous vector Burgers: pseudo-spectral, 2/3-rule dealiasing, IF-RK4 (see burgers3d.hpp).
#include "solvers/burgers3d.hpp"

#include "core/error.hpp"
#include "core/fft.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "core/types.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <sstream>

namespace surro::solvers {

// Kernels are free functions in a named namespace: nvcc's extended lambdas may not sit in private
// members or in functions with internal linkage.
namespace b3d_impl {

using C = Complex<double>;
using Spec = View4<C>;       // (M, Nx, Ny, H), H = Nz/2 + 1; M = B * (fields), sample-major
using Phys = View4<double>;  // (M, Nx, Ny, Nz)
template <class Exec>
using MDRange4 = Kokkos::MDRangePolicy<Exec, Kokkos::Rank<4, Kokkos::Iterate::Right, Kokkos::Iterate::Right>>;

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Signed wavenumber of FFT index i on an n-point axis.
KOKKOS_INLINE_FUNCTION int wavenumber(int i, int n) {
  return 2 * i < n ? i : i - n;
}
KOKKOS_INLINE_FUNCTION int iabs(int k) {
  return k < 0 ? -k : k;
}

struct Grid {
  int n = 0, h = 0;  // points per axis, half-spectrum length
  int K = 0;         // retained cube |k_i| <= K
  KOKKOS_INLINE_FUNCTION bool retained(int kx, int ky, int kz) const {
    return iabs(kx) <= K && iabs(ky) <= K && kz <= K;
  }
};

// Checks shared by the config reader (which reports "file: solver.key: ...") and the constructor.
void validate(const Burgers3DConfig& c, const std::function<void(const char*, const std::string&)>& fail) {
  if (!(c.viscosity > 0)) fail("viscosity", "expected a positive number, got " + format_number(c.viscosity));
  if (c.grid < 4 || c.grid > 1024)
    fail("grid", "expected an integer in [4, 1024], got " + std::to_string(c.grid));
  if (c.record_grid < 1 || c.grid % c.record_grid != 0)
    fail("record_grid",
         "expected a divisor of grid = " + std::to_string(c.grid) + ", got " + std::to_string(c.record_grid));
  if (c.record_method != "stride" && c.record_method != "spectral")
    fail("record_method", "expected one of \"stride\", \"spectral\", got \"" + c.record_method + "\"");
  if (!(c.t_final > 0)) fail("t_final", "expected a positive number, got " + format_number(c.t_final));
  if (c.record_steps < 1)
    fail("record_steps", "expected a positive integer, got " + std::to_string(c.record_steps));
  const double per_record = c.t_final / c.record_steps / c.dt;
  if (!(c.dt > 0) || std::abs(per_record - std::llround(per_record)) > 1e-9 * per_record ||
      std::llround(per_record) < 1)
    fail("dt", "expected a step that divides the record interval t_final / record_steps = " +
                   format_number(c.t_final / c.record_steps) + ", got " + format_number(c.dt));
  if (!(c.alpha > 2.5))
    fail("alpha", "expected a number > 2.5 (finite velocity variance), got " + format_number(c.alpha));
  if (!(c.tau >= 0)) fail("tau", "expected a non-negative number, got " + format_number(c.tau));
  if (!(c.amplitude > 0)) fail("amplitude", "expected a positive number, got " + format_number(c.amplitude));
}

// Initial potential spectrum psi_hat (B, Nx, Ny, H), unnormalized DFT (N^3 times the Fourier
// coefficient): N^3 sqrt(lambda_k / 2) (z0 + i z1) on the retained cube, lambda_k = S^2 (4 pi^2
// |k|^2 + tau^2)^-alpha, zero elsewhere and at k = 0. The normals come from (stream = sample,
// index = the packed signed wavenumbers), so a mode's value does not depend on the grid. In the
// kz = 0 plane the half with kx < 0 (or kx = 0, ky < 0) is the conjugate of the draw at -k, so the
// spectrum is exactly that of a real field. Nyquist planes lie outside the cube (3K < N).
template <class Exec>
void grf_potential(const Exec& exec, const Grid g, const Spec& psi_hat, std::uint64_t seed, long long first,
                   double scale, double alpha, double tau) {
  const rng::Philox gen{seed};
  const double n3 = double(g.n) * g.n * g.n;
  Kokkos::parallel_for(
      "surro::burgers3d::grf_potential",
      MDRange4<Exec>(exec, {0, 0, 0, 0}, {int(psi_hat.extent(0)), g.n, g.n, g.h}),
      KOKKOS_LAMBDA(const int b, const int i, const int j, const int l) {
        const int kx = wavenumber(i, g.n), ky = wavenumber(j, g.n), kz = l;
        if ((kx == 0 && ky == 0 && kz == 0) || !g.retained(kx, ky, kz)) {
          psi_hat(b, i, j, l) = C(0.0);
          return;
        }
        const bool mirrored = kz == 0 && (kx < 0 || (kx == 0 && ky < 0));
        const int dx = mirrored ? -kx : kx, dy = mirrored ? -ky : ky;
        constexpr std::uint64_t offset = std::uint64_t(1) << 20;  // |k_i| < 2^20
        const std::uint64_t index = ((static_cast<std::uint64_t>(dx + static_cast<int>(offset))) << 42) |
                                    ((static_cast<std::uint64_t>(dy + static_cast<int>(offset))) << 21) |
                                    static_cast<std::uint64_t>(kz);
        double z0, z1;
        gen.normal2(static_cast<std::uint64_t>(first + b), index, z0, z1);
        const double k2 = double(kx) * kx + double(ky) * ky + double(kz) * kz;
        const double s = n3 * scale * ::pow(kTwoPi * kTwoPi * k2 + tau * tau, -0.5 * alpha) / ::sqrt(2.0);
        psi_hat(b, i, j, l) = C(s * z0, (mirrored ? -s : s) * z1);
      });
}

// U (3B, Nx, Ny, H): U(3b + c) = 2 pi i k_c psi_hat(b) on the retained cube, 0 elsewhere.
template <class Exec>
void potential_to_velocity(const Exec& exec, const Grid g, const Spec& psi_hat, const Spec& U) {
  Kokkos::parallel_for(
      "surro::burgers3d::potential_to_velocity",
      MDRange4<Exec>(exec, {0, 0, 0, 0}, {int(psi_hat.extent(0)), g.n, g.n, g.h}),
      KOKKOS_LAMBDA(const int b, const int i, const int j, const int l) {
        const int kx = wavenumber(i, g.n), ky = wavenumber(j, g.n), kz = l;
        const bool keep = g.retained(kx, ky, kz);
        const C p = keep ? psi_hat(b, i, j, l) : C(0.0);
        U(3 * b, i, j, l) = C(0.0, kTwoPi * kx) * p;
        U(3 * b + 1, i, j, l) = C(0.0, kTwoPi * ky) * p;
        U(3 * b + 2, i, j, l) = C(0.0, kTwoPi * kz) * p;
      });
}

// work (6B, Nx, Ny, H) = (u, v, w, wx, wy, wz)^ per sample from U (3B, Nx, Ny, H): the velocity
// and its curl, for one batched inverse transform.
template <class Exec>
void velocity_and_vorticity(const Exec& exec, const Grid g, const Spec& U, const Spec& work) {
  const int B = static_cast<int>(U.extent(0)) / 3;
  Kokkos::parallel_for(
      "surro::burgers3d::velocity_and_vorticity", MDRange4<Exec>(exec, {0, 0, 0, 0}, {B, g.n, g.n, g.h}),
      KOKKOS_LAMBDA(const int b, const int i, const int j, const int l) {
        const C ix(0.0, kTwoPi * wavenumber(i, g.n)), iy(0.0, kTwoPi * wavenumber(j, g.n)),
            iz(0.0, kTwoPi * l);
        const C u = U(3 * b, i, j, l), v = U(3 * b + 1, i, j, l), w = U(3 * b + 2, i, j, l);
        work(6 * b, i, j, l) = u;
        work(6 * b + 1, i, j, l) = v;
        work(6 * b + 2, i, j, l) = w;
        work(6 * b + 3, i, j, l) = iy * w - iz * v;
        work(6 * b + 4, i, j, l) = iz * u - ix * w;
        work(6 * b + 5, i, j, l) = ix * v - iy * u;
      });
}

// prod (4B, Nx, Ny, Nz) = (|u|^2 / 2, u x curl u) per sample from phys (6B, Nx, Ny, Nz).
template <class Exec>
void products(const Exec& exec, const Grid g, const Phys& phys, const Phys& prod) {
  const int B = static_cast<int>(prod.extent(0)) / 4;
  Kokkos::parallel_for(
      "surro::burgers3d::products", MDRange4<Exec>(exec, {0, 0, 0, 0}, {B, g.n, g.n, g.n}),
      KOKKOS_LAMBDA(const int b, const int x, const int y, const int z) {
        const double u = phys(6 * b, x, y, z), v = phys(6 * b + 1, x, y, z), w = phys(6 * b + 2, x, y, z);
        const double ox = phys(6 * b + 3, x, y, z), oy = phys(6 * b + 4, x, y, z),
                     oz = phys(6 * b + 5, x, y, z);
        prod(4 * b, x, y, z) = 0.5 * (u * u + v * v + w * w);
        prod(4 * b + 1, x, y, z) = v * oz - w * oy;
        prod(4 * b + 2, x, y, z) = w * ox - u * oz;
        prod(4 * b + 3, x, y, z) = u * oy - v * ox;
      });
}

// rhs (3B, Nx, Ny, H) = -(u . grad) u = u x curl u - grad(|u|^2 / 2) on the retained cube, 0
// outside (the dealiasing), from prod_hat (4B, Nx, Ny, H).
template <class Exec>
void finish_rhs(const Exec& exec, const Grid g, const Spec& prod_hat, const Spec& rhs) {
  const int B = static_cast<int>(rhs.extent(0)) / 3;
  Kokkos::parallel_for(
      "surro::burgers3d::finish_rhs", MDRange4<Exec>(exec, {0, 0, 0, 0}, {B, g.n, g.n, g.h}),
      KOKKOS_LAMBDA(const int b, const int i, const int j, const int l) {
        const int kx = wavenumber(i, g.n), ky = wavenumber(j, g.n), kz = l;
        const bool keep = g.retained(kx, ky, kz);
        const C q = prod_hat(4 * b, i, j, l);
        const int k[3] = {kx, ky, kz};
        for (int c = 0; c < 3; ++c)
          rhs(3 * b + c, i, j, l) =
              keep ? prod_hat(4 * b + 1 + c, i, j, l) - C(0.0, kTwoPi * k[c]) * q : C(0.0);
      });
}

// decay (3K^2 + 1) = exp(-nu 4 pi^2 k2 dt / 2) for every |k|^2 = k2 of the retained cube.
template <class Exec>
void half_step_decay(const Exec& exec, const View1<double>& decay, double nu, double dt) {
  Kokkos::parallel_for(
      "surro::burgers3d::half_step_decay", Kokkos::RangePolicy<Exec>(exec, 0, decay.extent(0)),
      KOKKOS_LAMBDA(const int k2) { decay(k2) = ::exp(-0.5 * nu * kTwoPi * kTwoPi * k2 * dt); });
}

// The four IF-RK4 stages on v' = L v + N(v), L = -nu 4 pi^2 |k|^2, with E = e^{L dt}, E2 = e^{L dt/2}
// (E2 from decay (3K^2 + 1); modes outside the cube are zero in every operand and stay zero);
// nl holds N of the current stage input; U, nl, acc, stage_hat are (3B, Nx, Ny, H):
//   first : acc = E N(v),        stage = E2 (v + dt/2 N(v))
//   second: acc += 2 E2 N(a),    stage = E2 v + dt/2 N(a)
//   third : acc += 2 E2 N(b),    stage = E v + dt E2 N(b)
//   last  : v = E v + dt/6 (acc + N(c))
enum class Stage { first, second, third, last };
template <class Exec>
void ifrk4_stage(const Exec& exec, const Grid g, Stage stage, const View1<double>& decay, const Spec& U,
                 const Spec& nl, const Spec& acc, const Spec& stage_hat, double dt) {
  Kokkos::parallel_for(
      "surro::burgers3d::ifrk4_stage", MDRange4<Exec>(exec, {0, 0, 0, 0}, {int(U.extent(0)), g.n, g.n, g.h}),
      KOKKOS_LAMBDA(const int m, const int i, const int j, const int l) {
        const int kx = wavenumber(i, g.n), ky = wavenumber(j, g.n), kz = l;
        const double e2 = g.retained(kx, ky, kz) ? decay(kx * kx + ky * ky + kz * kz) : 0.0, e = e2 * e2;
        const C v = U(m, i, j, l), nv = nl(m, i, j, l);
        switch (stage) {
          case Stage::first:
            acc(m, i, j, l) = e * nv;
            stage_hat(m, i, j, l) = e2 * (v + 0.5 * dt * nv);
            break;
          case Stage::second:
            acc(m, i, j, l) += 2.0 * e2 * nv;
            stage_hat(m, i, j, l) = e2 * v + 0.5 * dt * nv;
            break;
          case Stage::third:
            acc(m, i, j, l) += 2.0 * e2 * nv;
            stage_hat(m, i, j, l) = e * v + dt * e2 * nv;
            break;
          case Stage::last:
            U(m, i, j, l) = e * v + dt / 6.0 * (acc(m, i, j, l) + nv);
            break;
        }
      });
}

// small (3B, r, r, r/2+1) = (r/N)^3 U restricted to the modes 2|k_i| < r: the state's band-limited
// part on the r-grid, unnormalized for an r-point inverse transform.
template <class Exec>
void truncate_spectrum(const Exec& exec, const Grid g, const Spec& U, const Spec& small) {
  const int r = static_cast<int>(small.extent(1)), hr = static_cast<int>(small.extent(3));
  const double scale = std::pow(double(r) / g.n, 3);
  Kokkos::parallel_for(
      "surro::burgers3d::truncate_spectrum", MDRange4<Exec>(exec, {0, 0, 0, 0}, {int(U.extent(0)), r, r, hr}),
      KOKKOS_LAMBDA(const int m, const int i, const int j, const int l) {
        const int kx = wavenumber(i, r), ky = wavenumber(j, r);
        const bool keep = 2 * iabs(kx) < r && 2 * iabs(ky) < r && 2 * l < r;
        small(m, i, j, l) = keep ? scale * U(m, (kx + g.n) % g.n, (ky + g.n) % g.n, l) : C(0.0);
      });
}

// rec (3B, r, r, r) = float(phys (>= 3B, N, N, N) at every stride-th point).
template <class Exec>
void subsample(const Exec& exec, const Phys& phys, const View4<float>& rec, int stride) {
  const int r = static_cast<int>(rec.extent(1));
  Kokkos::parallel_for(
      "surro::burgers3d::subsample", MDRange4<Exec>(exec, {0, 0, 0, 0}, {int(rec.extent(0)), r, r, r}),
      KOKKOS_LAMBDA(const int m, const int x, const int y, const int z) {
        rec(m, x, y, z) = static_cast<float>(phys(m, x * stride, y * stride, z * stride));
      });
}

// One team per sample over the physical velocity u (3B, N, N, N): stats(b) = (<|u|^2>/2,
// max |u|, max(|u| + |v| + |w|)). The grid mean of |u|^2 is its exact integral: the state holds
// modes |k_i| <= K with 2K < N, so the product aliases nothing onto k = 0.
template <class Exec>
struct SampleStats {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Phys u;               // (3B, N, N, N)
  View2<double> stats;  // (B, 3)
  int n;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int b = team.league_rank();
    const int points = n * n * n;
    const double* ux = &u(3 * b, 0, 0, 0);
    const double* uy = &u(3 * b + 1, 0, 0, 0);
    const double* uz = &u(3 * b + 2, 0, 0, 0);
    // Three scalar reductions: Kokkos 3.4 has no multi-value team reduce.
    double energy = 0, speed = 0, sum = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, points),
        [&](const int p, double& acc) { acc += ux[p] * ux[p] + uy[p] * uy[p] + uz[p] * uz[p]; }, energy);
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, points),
        [&](const int p, double& acc) {
          const double s = ::sqrt(ux[p] * ux[p] + uy[p] * uy[p] + uz[p] * uz[p]);
          if (s > acc) acc = s;
        },
        Kokkos::Max<double>(speed));
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, points),
        [&](const int p, double& acc) {
          const double s = ::fabs(ux[p]) + ::fabs(uy[p]) + ::fabs(uz[p]);
          if (s > acc) acc = s;
        },
        Kokkos::Max<double>(sum));
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      stats(b, 0) = 0.5 * energy / points;
      stats(b, 1) = speed;
      stats(b, 2) = sum;
    });
  }
};

// One team per sample: spectrum(b, s) += the kinetic energy of the modes with |k| in [s - 1/2,
// s + 1/2), by Parseval on the half spectrum U (3B, N, N, H) (planes kz = 0 and kz = N/2 count
// once, the others twice); spectrum (B, shells) starts at zero.
template <class Exec>
struct ShellSpectrum {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Spec U;                  // (3B, N, N, H)
  View2<double> spectrum;  // (B, shells)
  Grid g;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int b = team.league_rank();
    const int modes = g.n * g.n * g.h, shells = static_cast<int>(spectrum.extent(1));
    const double n3 = double(g.n) * g.n * g.n, norm = 1.0 / (n3 * n3);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, modes), [&](const int m) {
      const int i = m / (g.n * g.h), j = (m / g.h) % g.n, l = m % g.h;
      const double kx = wavenumber(i, g.n), ky = wavenumber(j, g.n), kz = l;
      const double weight = (l == 0 || 2 * l == g.n) ? 1.0 : 2.0;
      double a2 = 0;
      for (int c = 0; c < 3; ++c) {
        const C x = U(3 * b + c, i, j, l);
        a2 += x.real() * x.real() + x.imag() * x.imag();
      }
      const int s = static_cast<int>(::floor(::sqrt(kx * kx + ky * ky + kz * kz) + 0.5));
      if (a2 > 0 && s < shells) Kokkos::atomic_add(&spectrum(b, s), 0.5 * weight * a2 * norm);
    });
  }
};

class Burgers3D final : public Solver {
 public:
  explicit Burgers3D(const Burgers3DConfig& c) : m_cfg(c) {
    validate(c, [](const char* key, const std::string& msg) {
      SURRO_THROW(ErrorKind::usage, "burgers_3d." << key << ": " << msg);
    });
    m_grid.n = c.grid;
    m_grid.h = c.grid / 2 + 1;
    m_grid.K = c.retained_modes();
    m_scale = burgers_3d_grf_scale(c.alpha, c.tau, c.amplitude);
    auto& s = m_spec;
    s.dataset_name = "burgers_3d";
    s.dims = {"x", "y", "z"};
    std::vector<double> coord(c.record_grid);
    for (int i = 0; i < c.record_grid; ++i) coord[i] = double(i) / c.record_grid;
    s.coords = {coord, coord, coord};
    s.boundaries = {data::Boundary::periodic, data::Boundary::periodic, data::Boundary::periodic};
    for (int k = 0; k <= c.record_steps; ++k) s.times.push_back(c.t_final * k / c.record_steps);
    s.fields = {{"u", true}, {"v", true}, {"w", true}};
    s.parameters = {{"viscosity", c.viscosity}};
    std::ostringstream grf;
    grf << "u0 = grad psi0, psi0 ~ N(0, S^2 (-Delta + " << c.tau << "^2 I)^-" << c.alpha << "), velocity std "
        << c.amplitude << ", |k_i| <= " << m_grid.K;
    s.provenance = {{"solver", "burgers_3d"},
                    {"method", "Fourier pseudo-spectral, 2/3-rule dealiasing, IF-RK4"},
                    {"internal_grid", std::to_string(c.grid)},
                    {"dt", format_number(c.dt)},
                    {"record_method", c.record_method},
                    {"initial_condition", grf.str()},
                    {"backend", ExecSpace::name()}};
  }

  const data::DatasetSpec& spec() const override { return m_spec; }

  data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) override {
    SURRO_REQUIRE(count > 0 && first >= 0, "burgers_3d: samples [" << first << ", " << first + count
                                                                   << "): expected first >= 0 and count > 0");
    ScopedRegion region("surro::burgers3d::run");
    return integrate(initial_potential_hat(seed, first, count), first, diag, nullptr);
  }

  // psi_hat (B, N, N, H) of the GRF draws of samples [first, first + count).
  Spec initial_potential_hat(std::uint64_t seed, long long first, long long count) const {
    ExecSpace exec;
    Spec psi_hat("surro::burgers3d::psi_hat", count, m_grid.n, m_grid.n, m_grid.h);
    grf_potential(exec, m_grid, psi_hat, seed, first, m_scale, m_cfg.alpha, m_cfg.tau);
    exec.fence();
    return psi_hat;
  }

  // Advances u0 = grad psi0 (psi_hat (B, N, N, H), projected onto the cube) and records every frame;
  // frames, when set, receives the velocity in double on the internal grid, (B, T, 3, N, N, N).
  data::Block integrate(const Spec& psi_hat, long long first, Diagnostics* diag, std::vector<double>* frames);

 private:
  Burgers3DConfig m_cfg;
  Grid m_grid;
  double m_scale = 0;
  data::DatasetSpec m_spec;
};

data::Block Burgers3D::integrate(const Spec& psi_hat, long long first, Diagnostics* diag,
                                 std::vector<double>* frames) {
  const Burgers3DConfig& c = m_cfg;
  const Grid g = m_grid;
  const int B = static_cast<int>(psi_hat.extent(0)), n = c.grid, r = c.record_grid, stride = n / r;
  const int T = c.record_steps + 1;
  const bool spectral_record = c.record_method == "spectral";
  const std::size_t rec_points = std::size_t(r) * r * r, points = std::size_t(n) * n * n;
  ExecSpace exec;

  // Plans and buffers for this batch size, reused by every step.
  fft::RealFftPlan<double, ExecSpace> inv6(exec, {n, n, n}, 6 * B, fft::Norm::backward,
                                           "surro::burgers3d::fft_inverse6");
  fft::RealFftPlan<double, ExecSpace> fwd4(exec, {n, n, n}, 4 * B, fft::Norm::backward,
                                           "surro::burgers3d::fft_forward4");
  fft::RealFftPlan<double, ExecSpace> inv3(exec, {n, n, n}, 3 * B, fft::Norm::backward,
                                           "surro::burgers3d::fft_inverse3");
  Spec U("surro::burgers3d::u_hat", 3 * B, n, n, g.h);                                       // (3B, N, N, H)
  Spec work = make_scratch<Spec>(exec, "surro::burgers3d::work_hat", 6 * B, n, n, g.h);      // (6B, N, N, H)
  Phys phys = make_scratch<Phys>(exec, "surro::burgers3d::phys", 6 * B, n, n, n);            // (6B, N, N, N)
  Phys prod = make_scratch<Phys>(exec, "surro::burgers3d::prod", 4 * B, n, n, n);            // (4B, N, N, N)
  Spec prod_hat = make_scratch<Spec>(exec, "surro::burgers3d::prod_hat", 4 * B, n, n, g.h);  // (4B, N, N, H)
  Spec rhs = make_scratch<Spec>(exec, "surro::burgers3d::rhs_hat", 3 * B, n, n, g.h);        // (3B, N, N, H)
  Spec acc = make_scratch<Spec>(exec, "surro::burgers3d::ifrk4_acc", 3 * B, n, n, g.h);      // (3B, N, N, H)
  Spec stage = make_scratch<Spec>(exec, "surro::burgers3d::ifrk4_stage", 3 * B, n, n, g.h);  // (3B, N, N, H)
  View4<float> rec("surro::burgers3d::record", 3 * B, r, r, r);                              // (3B, r, r, r)
  auto rec_host = Kokkos::create_mirror_view(rec);
  // Spectral recording: an r-grid inverse transform of the truncated spectrum.
  std::unique_ptr<fft::RealFftPlan<double, ExecSpace>> inv_r;
  Spec small;
  Phys small_phys;
  if (spectral_record) {
    inv_r = std::make_unique<fft::RealFftPlan<double, ExecSpace>>(
        exec, std::vector<int>{r, r, r}, 3 * B, fft::Norm::backward, "surro::burgers3d::fft_record");
    small = Spec("surro::burgers3d::record_hat", 3 * B, r, r, r / 2 + 1);  // (3B, r, r, r/2+1)
    small_phys = Phys("surro::burgers3d::record_phys", 3 * B, r, r, r);    // (3B, r, r, r)
  }
  View2<double> stats("surro::burgers3d::stats", B, 3);  // (B, 3)
  // Shells up to the cube's corner |k| = sqrt(3) K: they hold all of the state's energy.
  const int n_shells = static_cast<int>(std::floor(std::sqrt(3.0) * g.K + 0.5)) + 1;
  const bool want_spectra = diag && diag->want_spectra;
  View2<double> spectrum;  // (B, shells)
  if (want_spectra) spectrum = View2<double>("surro::burgers3d::spectrum", B, n_shells);

  View1<double> decay("surro::burgers3d::decay", 3 * g.K * g.K + 1);  // (3K^2 + 1)
  half_step_decay(exec, decay, c.viscosity, c.dt);
  potential_to_velocity(exec, g, psi_hat, U);

  auto rhs_of = [&](const Spec& u_in, const Spec& out) {
    velocity_and_vorticity(exec, g, u_in, work);
    inv6.inverse_raw(exec, work.data(), phys.data());
    products(exec, g, phys, prod);
    fwd4.forward_raw(exec, prod.data(), prod_hat.data());
    finish_rhs(exec, g, prod_hat, out);
  };

  data::Block block;
  block.first = first;
  block.count = B;
  std::vector<float>* out[3] = {&block.fields["u"], &block.fields["v"], &block.fields["w"]};
  for (auto* o : out) o->assign(std::size_t(B) * T * rec_points, 0.0f);
  if (frames) frames->assign(std::size_t(B) * T * 3 * points, 0.0);
  if (diag) {
    diag->names = {"kinetic_energy", "max_speed", "cfl"};
    diag->values.assign(3, std::vector<double>(std::size_t(B) * T, 0.0));
    diag->times = m_spec.times;
    if (want_spectra) {
      diag->spectrum_k.clear();
      for (int s = 0; s < n_shells; ++s) diag->spectrum_k.push_back(s);
      diag->spectra.assign(std::size_t(B) * T, std::vector<double>(n_shells, 0.0));
    }
  }

  const double cfl_per_speed = kTwoPi * g.K * c.dt, cfl_max = 2.0 * std::sqrt(2.0);
  const Phys velocity(phys.data(), 3 * B, n, n, n);  // (3B, N, N, N): phys' first half
  auto record = [&](int frame) {
    // The inverse transform consumes its input: transform a copy of the state.
    Kokkos::deep_copy(exec, Spec(work.data(), 3 * B, n, n, g.h), U);
    inv3.inverse_raw(exec, work.data(), phys.data());
    Kokkos::parallel_for("surro::burgers3d::sample_stats",
                         Kokkos::TeamPolicy<ExecSpace>(exec, B, Kokkos::AUTO),
                         SampleStats<ExecSpace>{velocity, stats, n});
    if (spectral_record) {
      truncate_spectrum(exec, g, U, small);
      inv_r->inverse_raw(exec, small.data(), small_phys.data());
      subsample(exec, small_phys, rec, 1);
    } else {
      subsample(exec, velocity, rec, stride);
    }
    if (want_spectra) {
      Kokkos::deep_copy(exec, spectrum, 0.0);
      Kokkos::parallel_for("surro::burgers3d::spectrum", Kokkos::TeamPolicy<ExecSpace>(exec, B, Kokkos::AUTO),
                           ShellSpectrum<ExecSpace>{U, spectrum, g});
    }
    Kokkos::deep_copy(exec, rec_host, rec);
    auto stats_host = Kokkos::create_mirror_view(stats);
    Kokkos::deep_copy(exec, stats_host, stats);
    exec.fence();
    // CFL check: the worst sample names the violation.
    int worst = 0;
    for (int b = 1; b < B; ++b)
      if (stats_host(b, 2) > stats_host(worst, 2)) worst = b;
    const double speed_sum = stats_host(worst, 2), cfl = cfl_per_speed * speed_sum;
    if (!(cfl <= cfl_max))
      SURRO_THROW(ErrorKind::runtime, "burgers_3d: time step dt = "
                                          << format_number(c.dt) << " violates the stability bound dt <= "
                                          << format_number(c.dt_bound(speed_sum))
                                          << " (CFL 2 pi K dt max(|u|+|v|+|w|) = " << format_number(cfl)
                                          << " > 2 sqrt(2) = " << format_number(cfl_max) << ", K = " << g.K
                                          << " for grid " << n << "; sample " << first + worst
                                          << " has max(|u|+|v|+|w|) = " << format_number(speed_sum)
                                          << " at t = " << format_number(m_spec.times[frame]) << ")");
    for (int b = 0; b < B; ++b)
      for (int f = 0; f < 3; ++f)
        std::copy(rec_host.data() + (std::size_t(b) * 3 + f) * rec_points,
                  rec_host.data() + (std::size_t(b) * 3 + f + 1) * rec_points,
                  out[f]->begin() + (std::size_t(b) * T + frame) * rec_points);
    if (frames) {
      auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), velocity);
      for (int b = 0; b < B; ++b)
        std::copy(host.data() + std::size_t(b) * 3 * points, host.data() + std::size_t(b + 1) * 3 * points,
                  frames->begin() + (std::size_t(b) * T + frame) * 3 * points);
    }
    if (diag) {
      for (int b = 0; b < B; ++b) {
        diag->values[0][std::size_t(b) * T + frame] = stats_host(b, 0);
        diag->values[1][std::size_t(b) * T + frame] = stats_host(b, 1);
        diag->values[2][std::size_t(b) * T + frame] = cfl_per_speed * stats_host(b, 2);
      }
      if (want_spectra) {
        auto sp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), spectrum);
        for (int b = 0; b < B; ++b)
          for (int s = 0; s < n_shells; ++s) diag->spectra[std::size_t(b) * T + frame][s] = sp(b, s);
      }
    }
  };

  record(0);
  const long long per_record = c.steps_per_record();
  for (int frame = 1; frame < T; ++frame) {
    for (long long step = 0; step < per_record; ++step) {
      rhs_of(U, rhs);
      ifrk4_stage(exec, g, Stage::first, decay, U, rhs, acc, stage, c.dt);
      rhs_of(stage, rhs);
      ifrk4_stage(exec, g, Stage::second, decay, U, rhs, acc, stage, c.dt);
      rhs_of(stage, rhs);
      ifrk4_stage(exec, g, Stage::third, decay, U, rhs, acc, stage, c.dt);
      rhs_of(stage, rhs);
      ifrk4_stage(exec, g, Stage::last, decay, U, rhs, acc, stage, c.dt);
    }
    record(frame);
  }
  return block;
}

}  // namespace b3d_impl

long long Burgers3DConfig::steps_per_record() const {
  return std::llround(t_final / record_steps / dt);
}

double Burgers3DConfig::dt_bound(double speed_sum) const {
  return 2.0 * std::sqrt(2.0) / (b3d_impl::kTwoPi * retained_modes() * speed_sum);
}

double burgers_3d_grf_scale(double alpha, double tau, double amplitude) {
  // sum_{k != 0} 4 pi^2 k_x^2 f(|k|^2) = (1/3) sum_n r3(n) 4 pi^2 n f(n), f(n) = (4 pi^2 n + tau^2)^-alpha,
  // with r3(n) the number of lattice points on the sphere |k|^2 = n, counted for n <= R^2.
  constexpr int R = 64;
  constexpr long long R2 = static_cast<long long>(R) * R;
  const double four_pi2 = b3d_impl::kTwoPi * b3d_impl::kTwoPi;
  std::vector<long long> r3(R2 + 1, 0);
  for (int kx = -R; kx <= R; ++kx)
    for (int ky = -R; ky <= R; ++ky) {
      const long long rest = R2 - static_cast<long long>(kx) * kx - static_cast<long long>(ky) * ky;
      if (rest < 0) continue;
      const int kz_max = static_cast<int>(std::floor(std::sqrt(double(rest))));
      for (int kz = -kz_max; kz <= kz_max; ++kz)
        ++r3[static_cast<long long>(kx) * kx + static_cast<long long>(ky) * ky +
             static_cast<long long>(kz) * kz];
    }
  double sum = 0;
  for (long long m = 1; m <= R2; ++m)
    if (r3[m] > 0) sum += r3[m] * four_pi2 * m * std::pow(four_pi2 * m + tau * tau, -alpha) / 3.0;
  // |k| > R: the integral of the leading term (4 pi^2 |k|^2)^(1 - alpha) / 3 over the shell volume,
  // (4 pi / 3) (4 pi^2)^(1 - alpha) R^(5 - 2 alpha) / (2 alpha - 5). It overestimates the tail by
  // a factor below (1 + tau^2 / (4 pi^2 R^2))^alpha; the tail itself is O(R^(5 - 2 alpha)) of the sum.
  sum += 4.0 * M_PI / 3.0 * std::pow(four_pi2, 1.0 - alpha) * std::pow(double(R), 5.0 - 2.0 * alpha) /
         (2.0 * alpha - 5.0);
  return amplitude / std::sqrt(sum);
}

Burgers3DConfig read_burgers_3d(config::Node& n) {
  Burgers3DConfig c;
  c.viscosity = n.get_number("viscosity", c.viscosity, config::positive_number());
  c.grid = static_cast<int>(n.get_int(
      "grid", c.grid, {[](const long long& v) { return v >= 4 && v <= 1024; }, "an integer in [4, 1024]"}));
  // 16 when it divides the grid, else every grid point.
  c.record_grid = static_cast<int>(
      n.get_int("record_grid", c.grid % c.record_grid == 0 ? c.record_grid : c.grid, config::positive()));
  c.record_method = n.get_string("record_method", c.record_method, config::one_of({"stride", "spectral"}));
  c.t_final = n.get_number("t_final", c.t_final, config::positive_number());
  c.record_steps = static_cast<int>(n.get_int("record_steps", c.record_steps, config::positive()));
  c.dt = n.get_number("dt", c.dt, config::positive_number());
  c.alpha =
      n.get_number("alpha", c.alpha,
                   {[](const double& v) { return v > 2.5; }, "a number > 2.5 (finite velocity variance)"});
  c.tau = n.get_number("tau", c.tau, config::non_negative_number());
  c.amplitude = n.get_number("amplitude", c.amplitude, config::positive_number());
  b3d_impl::validate(c, [&](const char* key, const std::string& msg) { n.fail(key, msg); });
  n.finish();
  return c;
}

std::unique_ptr<Solver> make_burgers_3d(const Burgers3DConfig& cfg) {
  return std::make_unique<b3d_impl::Burgers3D>(cfg);
}

std::unique_ptr<Solver> make_burgers_3d(config::Node& node) {
  return make_burgers_3d(read_burgers_3d(node));
}

std::vector<double> burgers_3d_initial_potential(const Burgers3DConfig& cfg, std::uint64_t seed,
                                                 long long first, long long count) {
  b3d_impl::Burgers3D solver(cfg);
  const int n = cfg.grid;
  ExecSpace exec;
  b3d_impl::Spec psi_hat = solver.initial_potential_hat(seed, first, count);
  View4<double> psi("surro::burgers3d::psi", count, n, n, n);  // (B, N, N, N)
  fft::RealFftPlan<double, ExecSpace> plan(exec, {n, n, n}, count, fft::Norm::backward,
                                           "surro::burgers3d::fft_psi");
  plan.inverse(exec, psi_hat, psi);
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), psi);
  return std::vector<double>(host.data(), host.data() + host.span());
}

std::vector<double> burgers_3d_trajectory(const Burgers3DConfig& cfg, const std::vector<double>& psi0,
                                          long long count) {
  const int n = cfg.grid;
  SURRO_REQUIRE(count > 0 && psi0.size() == std::size_t(count) * n * n * n,
                "burgers_3d: psi0 has " << psi0.size() << " values: expected count * grid^3 = " << count
                                        << " * " << n << "^3");
  b3d_impl::Burgers3D solver(cfg);
  ExecSpace exec;
  View4<double> psi("surro::burgers3d::psi", count, n, n, n);  // (B, N, N, N)
  Kokkos::deep_copy(
      psi, Kokkos::View<const double****, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
               psi0.data(), count, n, n, n));
  b3d_impl::Spec psi_hat("surro::burgers3d::psi_hat", count, n, n, n / 2 + 1);  // (B, N, N, H)
  fft::RealFftPlan<double, ExecSpace> plan(exec, {n, n, n}, count, fft::Norm::backward,
                                           "surro::burgers3d::fft_psi");
  plan.forward(exec, psi, psi_hat);
  std::vector<double> frames;
  solver.integrate(psi_hat, 0, nullptr, &frames);
  return frames;
}

}  // namespace surro::solvers
