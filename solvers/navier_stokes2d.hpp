#pragma once
// 2D incompressible Navier-Stokes in vorticity form on the periodic unit square (the FNO benchmark):
//
//   w_t + u . grad(w) = nu lap(w) + f,    u = (psi_y, -psi_x),    -lap(psi) = w
//
// Pseudo-spectral in double precision on surro::ExecSpace, batched over samples: all B samples
// advance together as one (B, Nx, Ny/2+1) spectrum, so a GPU is full. The nonlinear term is
// evaluated in physical space and dealiased by the 2/3 rule (|kx|, |ky| <= 2/3 kmax).
//
// Schemes:
//   crank_nicolson : the FNO data generator's scheme: Crank-Nicolson on the viscous term, explicit
//                    Euler on advection and forcing. Second order for linear viscous decay, first
//                    order once advection matters.
//   ifrk4          : integrating factor (viscous term exact) + classical RK4 on advection and
//                    forcing; fourth order.
//
// Stability: the advective CFL number c = dt * max(|u|, |v|) * Nx must stay below c_max
// (crank_nicolson: 1, a practical bound for explicit Euler whose weak growth on the imaginary axis
// the viscous damping absorbs; ifrk4: 3 * 2 sqrt(2) / (2 pi) = 1.35, RK4's imaginary-axis limit at
// the dealiased cutoff kmax = Nx/3). It is checked on the initial condition and at every record.
#include "core/config.hpp"
#include "solvers/solver.hpp"

#include <string>

namespace surro::solvers {

struct NavierStokes2DConfig {
  double viscosity = 1e-3;
  int grid = 256;         // Nx = Ny, internal resolution
  int record_grid = 64;   // recorded resolution; grid / record_grid must be an integer (stride)
  double t_final = 50.0;
  int record_steps = 50;  // frames after t = 0; recorded every t_final / record_steps
  double dt = 1e-4;       // internal time step; must divide the record interval
  std::string scheme = "crank_nicolson";  // crank_nicolson | ifrk4

  // Forcing (vorticity source): fno = A (sin 2pi(x+y) + cos 2pi(x+y)), A = 0.1;
  // kolmogorov = the curl of the body force (A sin(2 pi n y), 0): -2 pi n A cos(2 pi n y); none.
  std::string forcing = "fno";
  double forcing_amplitude = 0.1;
  int forcing_wavenumber = 4;  // kolmogorov only

  // Initial vorticity. grf: N(0, sigma^2 (-lap + tau^2 I)^-alpha) with the FNO generator's
  // normalization (sigma defaults to tau^(alpha - 1), i.e. 7^1.5 for the benchmark), zero mean.
  // taylor_green: A cos(2 pi k x) cos(2 pi k y), an exact steady solution of the Euler terms that
  // decays as exp(-8 pi^2 k^2 nu t) without forcing.
  std::string initial = "grf";
  double grf_alpha = 2.5, grf_tau = 7.0, grf_sigma = -1.0;  // sigma < 0: tau^(alpha - 1)
  double tg_amplitude = 1.0;
  int tg_wavenumber = 1;

  // CFL limit of the scheme (see above) and the steps between records.
  double cfl_limit() const;
  long long steps_per_record() const;
};

// Reads and validates a "navier_stokes_2d" solver section.
NavierStokes2DConfig read_navier_stokes_2d(config::Node& node);
std::unique_ptr<Solver> make_navier_stokes_2d(config::Node& node);
std::unique_ptr<Solver> make_navier_stokes_2d(const NavierStokes2DConfig& cfg);

// Verification hook: the vorticity of samples [first, first + count) at t_final on the internal
// grid, in double, (count, Nx, Nx). Recorded fields are float, too coarse to measure high orders.
std::vector<double> navier_stokes_2d_final_vorticity(const NavierStokes2DConfig& cfg, std::uint64_t seed,
                                                     long long first, long long count);

// Diagnostics per recorded frame and sample: kinetic_energy = <|u|^2>/2, enstrophy = <w^2>/2
// (domain averages on the internal grid), max_velocity; spectra on request: the kinetic energy
// in integer shells |k| in [n - 1/2, n + 1/2), n = 0..Nx/2, summing to kinetic_energy.

}  // namespace surro::solvers
