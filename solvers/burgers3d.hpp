#pragma once
// 3D viscous vector Burgers equation on the periodic unit cube, a small 3D dataset for the 3D
// neural-operator path until a 3D turbulence solver exists:
//
//   u_t + (u . grad) u = nu lap u,   u = (u, v, w),   x in [0, 1)^3, periodic.
//
// Pseudo-spectral in double precision on surro::ExecSpace, batched: the B samples' three
// components advance together as one (3B, Nx, Ny, Nz/2+1) spectrum. Only the cube |k_i| <= K,
// K = floor((Nx - 1) / 3), is kept (2/3 rule): 3K < Nx, so a quadratic product of two fields in
// the cube aliases nothing into it and the truncated nonlinear term is exact. The advection term
// is evaluated in its rotational form (u . grad) u = grad(|u|^2 / 2) - u x curl u, which equals
// the advective form on the retained modes (both are the same quadratic products) and needs six
// inverse and four forward transforms per evaluation instead of twelve and three.
//
// Time stepping: IF-RK4, the integrating factor exp(-nu 4 pi^2 |k|^2 t) (viscosity exact) and
// classical RK4 on the advection term; fourth order.
//
// Stability: IF-RK4 is stable on the linearization u_t + U . grad u = nu lap u while RK4 is on
// the imaginary axis, |2 pi U . k| dt <= 2 sqrt(2). Over the retained modes |U . k| <= K (|U_x| +
// |U_y| + |U_z|), so the solver requires the CFL number c = 2 pi K dt max_x(|u| + |v| + |w|) <=
// 2 sqrt(2). It is checked on the initial condition and at every record; a violation stops the
// run with the bound on dt. (The viscous factor only damps; |u| obeys a maximum principle.)
//
// Initial condition: a potential flow u0 = grad psi0, psi0 ~ N(0, S^2 (-lap + tau^2 I)^-alpha), a
// Gaussian random field with E|psi_k|^2 = lambda_k = S^2 (4 pi^2 |k|^2 + tau^2)^-alpha. S is set
// so that each velocity component of the untruncated field has standard deviation `amplitude`:
// amplitude^2 = S^2 sum_{k != 0} 4 pi^2 k_x^2 (4 pi^2 |k|^2 + tau^2)^-alpha, finite for alpha > 5/2.
// Each retained mode's two normals come from the counter RNG at (stream = sample, index = the
// signed wavenumber triple), so a sample is the same function on every grid up to the truncation
// to the grid's cube |k_i| <= K. Potential flows stay potential, and the Cole-Hopf transform
// gives the exact solution: u = -2 nu grad log phi with phi_t = nu lap phi, phi0 = exp(-psi0/(2 nu)).
#include "core/config.hpp"
#include "solvers/solver.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace surro::solvers {

struct Burgers3DConfig {
  // Defaults: configs/burgers3d.json, the small 3D dataset (docs/solvers.md gives the accuracy).
  double viscosity = 0.03;
  int grid = 32;         // N = Nx = Ny = Nz, internal resolution
  int record_grid = 16;  // recorded resolution r, a divisor of grid (config default: 16 or grid)
  // stride: the internal grid's values at every (N/r)-th point (as navier_stokes_2d records);
  // spectral: the Fourier modes |k_i| < r/2 of the state, evaluated on the r-grid (no aliasing).
  std::string record_method = "stride";
  double t_final = 0.5;
  int record_steps = 20;  // frames after t = 0, one every t_final / record_steps
  double dt = 0.005;      // internal step; must divide the record interval
  // Initial potential GRF: psi0 ~ N(0, S^2 (-lap + tau^2 I)^-alpha), S from `amplitude` (above).
  double alpha = 8.0, tau = 14.0, amplitude = 0.3;

  int retained_modes() const { return (grid - 1) / 3; }  // K
  long long steps_per_record() const;
  // The largest dt the CFL check admits for a given max_x(|u| + |v| + |w|).
  double dt_bound(double speed_sum) const;
};

// Reads and validates a "burgers_3d" solver section. make_burgers_3d(cfg) validates cfg the same
// way (Error of kind usage naming "burgers_3d.<key>").
Burgers3DConfig read_burgers_3d(config::Node& node);
std::unique_ptr<Solver> make_burgers_3d(config::Node& node);
std::unique_ptr<Solver> make_burgers_3d(const Burgers3DConfig& cfg);

// S of the GRF (the header comment): amplitude / sqrt(sum_k 4 pi^2 k_x^2 (4 pi^2 |k|^2 + tau^2)^-alpha).
// The sum is taken exactly over |k| <= 64, plus the integral of the tail's leading term.
double burgers_3d_grf_scale(double alpha, double tau, double amplitude);

// Verification hooks (double precision, host vectors, internal grid):
// the initial potential psi0 of samples [first, first + count): (B, N, N, N);
std::vector<double> burgers_3d_initial_potential(const Burgers3DConfig& cfg, std::uint64_t seed,
                                                 long long first, long long count);
// the velocity at every recorded time of the trajectories that start from u0 = grad psi0, psi0 given
// on the grid as (B, N, N, N) and projected onto the retained cube: (B, T, 3, N, N, N).
std::vector<double> burgers_3d_trajectory(const Burgers3DConfig& cfg, const std::vector<double>& psi0,
                                          long long count);

// Diagnostics per recorded frame and sample: kinetic_energy = <|u|^2>/2 (domain average, exact on
// the grid for the band-limited state), max_speed = max |u|, cfl = 2 pi K dt max(|u|+|v|+|w|);
// spectra on request: the kinetic energy in shells |k| in [n - 1/2, n + 1/2), n = 0..round(sqrt(3) K),
// summing to kinetic_energy.

}  // namespace surro::solvers
