#pragma once
// Incompressible Navier-Stokes on triangle meshes with Taylor-Hood P2-P1 elements: incremental
// pressure correction (IPCS, Goda 1979; the scheme of the DOLFINx DFG 2D-3 tutorial), batched over
// B meshes with per-sample viscosity, boundary data and functionals.
//
// Kinematic form (p is pressure / rho). One step t_n -> t_{n+1} = t_n + k:
//  1. tentative velocity u* (P2, each component), Crank-Nicolson viscosity, Adams-Bashforth
//     extrapolated advecting velocity w = 3/2 u^n - 1/2 u^{n-1} (u^{-1} = u^0 on the first step):
//       (u* - u^n, v)/k + (w . grad (u* + u^n)/2, v) + nu (grad (u* + u^n)/2, grad v) = (p^n, div v)
//     u* = g(t_{n+1}) on the Dirichlet dofs; a non-symmetric system reassembled every step,
//     BiCGStab + Jacobi with u^n as initial guess.
//  2. pressure increment phi = p^{n+1} - p^n (P1): (grad phi, grad q) = -(div u*, q)/k, phi = 0
//     on the pressure-Dirichlet dofs (the outflow) or, with none, the zero-mean solution of the
//     singular Neumann problem (right-hand side projected onto mean zero; CG + Jacobi).
//  3. velocity correction (P2 mass matrix, CG + Jacobi): (u^{n+1}, v) = (u*, v) - k (grad phi, v),
//     u^{n+1} = g(t_{n+1}) on the Dirichlet dofs.  4. p^{n+1} = p^n + phi.
// The outflow condition is the natural one of this form ("do nothing": nu du/dn - p n = 0).
// Velocity is second order in time; the pressure p^{n+1} approximates p(t_{n+1/2}) (the
// Crank-Nicolson midpoint) to first order in k near boundaries (the splitting's boundary layer).
//
// Functionals (per step, per sample, physical units with density rho_b): the force on the obstacle
// from the volume ("variational") form, F . e = -rho [ ((u^{n+1} - u^n)/k + u.grad u, v) +
// nu (grad u, grad v) - (p, div v) ] with u = u^{n+1}, p = p^{n+1} and v the P2 function equal to
// e on the obstacle's dofs and 0 elsewhere (e = e_x: drag, e_y: lift); and the pressure difference
// between two probe points (P1 interpolation in the containing cell).
#include "core/types.hpp"
#include "solvers/fem/amg.hpp"
#include "solvers/fem/krylov.hpp"
#include "solvers/fem/space.hpp"
#include "solvers/fem/system.hpp"

#include <array>
#include <functional>
#include <memory>
#include <vector>

namespace surro::solvers::fem {

template <class Exec>
class Ipcs {
 public:
  using Mem = typename Exec::memory_space;
  using Vec = View1<double, Mem>;

  // Builds P2 and P1 spaces on every mesh and allocates all workspace. nu (B) > 0, dt > 0.
  Ipcs(const std::vector<const mesh::Mesh*>& meshes, const std::vector<double>& nu, double dt);

  // Host dof layouts, to build the masks and data below in batch numbering.
  const BatchLayout& velocity_layout() const { return m_l2; }
  const BatchLayout& pressure_layout() const { return m_l1; }
  // The device systems (for error norms in tests).
  const System<Exec>& velocity_system() const { return *m_v; }
  const System<Exec>& pressure_system() const { return *m_p; }

  // Dirichlet velocity: u(x, t) = shape(x) factor(b, t) on dofs with mask 1; mask (Nd2), shape (Nd2, 2).
  void set_velocity_dirichlet(const std::vector<int>& mask, const std::vector<double>& shape,
                              std::function<double(int, double)> factor);
  // P1 dofs with p = 0, mask (Nd1); not called (or all zero): zero-mean pressure.
  void set_pressure_dirichlet(const std::vector<int>& mask);
  // Initial velocity u0 (Nd2, 2) and kinematic pressure p0 (Nd1) at time t0.
  void set_initial(const std::vector<double>& u0, const std::vector<double>& p0, double t0);
  // Obstacle P2 dofs (Nd2 mask), densities rho (B), and two probe points per sample (B, 2, 2):
  // enables functionals() after each step.
  void set_functionals(const std::vector<int>& obstacle, const std::vector<double>& rho,
                       const std::vector<double>& probes);

  // Advances all samples by one step. Throws Error(runtime) naming the sample and the sub-step
  // when a Krylov solve fails.
  void step(const Exec& exec);
  double time() const { return m_time; }
  int steps() const { return m_steps; }

  // Host copies: velocity (Nd2, 2), kinematic pressure (Nd1).
  std::vector<double> velocity() const;
  std::vector<double> pressure() const;
  // After a step with functionals enabled: (B, 3) drag, lift, pressure difference (rho p).
  std::vector<double> functionals(const Exec& exec) const;
  // Iterations of the last step's solves, (B, 4): momentum x, momentum y, pressure, correction.
  const std::vector<int>& last_iterations() const { return m_iterations; }

  double tolerance = 1e-10;  // relative residual of every Krylov solve
  int max_iterations = 5000;
  // Preconditioner of the pressure CG: true smoothed-aggregation AMG (built from the constant P1
  // matrix at the first step after the pressure conditions are set), false Jacobi.
  bool pressure_amg = true;

  // Kernel entry points (public for nvcc's extended lambdas).
  void momentum_elements(const Exec& exec);
  void pressure_elements(const Exec& exec);
  void correction_elements(const Exec& exec);
  void dirichlet_values(const Exec& exec, double t);
  void subtract_mean(const Exec& exec, const Vec& b);

 private:
  std::vector<Space> m_s2, m_s1;
  BatchLayout m_l2, m_l1;
  std::unique_ptr<System<Exec>> m_v, m_p;  // P2 velocity, P1 pressure
  std::unique_ptr<Krylov<Exec>> m_kv, m_kp;
  std::unique_ptr<Amg<Exec>> m_amg;  // of k_p; reset when k_p changes
  double m_dt = 0, m_time = 0;
  int m_steps = 0;
  bool m_pressure_dirichlet = false, m_functionals = false;
  std::function<double(int, double)> m_factor;
  std::vector<int> m_iterations;

 public:
  // Device state (public for the kernels).
  View1<double, Mem> nu, rho;                        // (B)
  View1<double, Mem> factor;                         // (B) boundary time factor at t_{n+1}
  View1<int, Mem> vmask, pmask, obstacle;            // (Nd2), (Nd1), (Nd2)
  View2<double, Mem> vshape;                         // (Nd2, 2)
  Vec ux, uy, ux_old, uy_old, usx, usy, p, phi;      // (Nd2) x 6, (Nd1) x 2
  Vec gx, gy, gp, bx, by, bp, ones;                  // (Nd2) x 4, (Nd1) x 3
  Vec a_mom, k_p, m_raw, m_bc;                       // (nnz2), (nnz1), (nnz2), (nnz2)
  View3<double, Mem> em;                             // (Nc, 6, 6)
  View2<double, Mem> evx, evy, evp;                  // (Nc, 6), (Nc, 6), (Nc, 3)
  View1<int, Mem> probe_cell;                        // (B, 2) flattened
  View2<double, Mem> probe_weight;                   // (2 B, 3)
  View1<index_t, Mem> obstacle_cells, obstacle_ptr;  // cells touching the obstacle, (B + 1) ranges
  View2<double, Mem> result;                         // (B, 3)
  double dt_device = 0;
  int first_step = 1;  // 1 on the first step: u^{-1} = u^0
};

// The DFG channel benchmark (Schaefer & Turek 1996) and the CylinderFlow family on meshes with
// facet tags "inlet", "outlet", "walls", "cylinder" (mesh::generate_channel): parabolic inflow
// U(y, t) = 4 U_m(t) y (H - y) / H^2, no slip on the walls and the cylinder, do nothing on the outlet.
// Each sample has its own mesh, viscosity, density, inflow and obstacle.
struct ChannelSample {
  double nu = 1e-3, rho = 1.0;
  double u_max = 0.3;      // U_m, or its peak 1.5 under the DFG ramp
  bool ramp = false;       // U_m(t) = u_max sin(pi t / 8) (DFG 2D-3 with u_max = 1.5)
  double ramp_time = 0.0;  // otherwise U_m(t) = u_max sin^2(pi t / (2 ramp_time)) until ramp_time, then u_max
  double height = 0.41;    // H: the walls are y = 0 and y = H
  double diameter = 0.1;   // D of the force coefficients
  std::array<double, 4> probes{0.15, 0.2, 0.25, 0.2};  // Delta p = p(x0, y0) - p(x1, y1)
};

// Steps and recording: `steps` steps of dt from rest at t = 0; fields are recorded after step n for
// n = first_record + k record_every <= steps (n = 0: the initial state).
struct ChannelRun {
  double dt = 0.01;
  long long steps = 1;  // 0: only the initial state
  long long first_record = 0, record_every = 1;
  double tolerance = 1e-10;  // relative residual of every Krylov solve
  int max_iterations = 5000;
  bool pressure_amg = true;  // AMG (true) or Jacobi (false) for the pressure CG
};

struct ChannelResult {
  std::vector<double> times;                             // (T) recorded times
  std::vector<std::vector<float>> velocity;              // [b] (T, V_b, 2) at the vertices
  std::vector<std::vector<float>> pressure;              // [b] (T, V_b, 1) physical pressure
  std::vector<double> step_times;                        // (S) every step's time
  std::vector<std::vector<double>> drag, lift, delta_p;  // [b] (S) c_D, c_L, Delta p per step
  std::vector<std::vector<int>> pressure_iterations;     // [b] (S) CG iterations of the pressure step
};

// Runs the batch. c_D = 2 F_D / (rho Ubar^2 D), Ubar = 2 u_max / 3; c_L likewise.
ChannelResult solve_channel_flow(const std::vector<const mesh::Mesh*>& meshes,
                                 const std::vector<ChannelSample>& samples, const ChannelRun& run);

// U_m(t) of a sample (its inflow's time factor times u_max).
double channel_inflow(const ChannelSample& sample, double t);

}  // namespace surro::solvers::fem
