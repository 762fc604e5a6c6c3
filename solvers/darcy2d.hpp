#pragma once
// 2D Darcy flow, -div(a grad u) = f with f = 1 on the unit square and u = 0 on its boundary: the FNO
// Darcy benchmark (piecewise-constant coefficient from a thresholded Gaussian random field).
//
// Discretization: n x n nodes x_i = i h, y_j = j h, h = 1/(n-1); second-order 5-point finite
// differences in flux form,
//   sum over the 4 faces f of (i, j):  a_f (u_ij - u_nb) / h^2 = f_ij,   a_f = (a_ij + a_nb) / 2,
// on the (n-2)^2 interior nodes. The face coefficient is the arithmetic mean of the two node values,
// as in the FNO generator's solve_gwf.m, so our data matches the benchmark's discretization; for a
// smooth a either mean is second order (they differ by O(h^2 |grad a|^2 / a)), and for the
// piecewise-constant a neither is better than first order at the jumps, which cut the stencil at
// arbitrary angles (harmonic averaging is exact only for jumps aligned with the grid faces).
//
// Solver: conjugate gradients with the Jacobi preconditioner on the symmetric positive definite
// h^2-scaled system, matrix-free, all B samples at once in (B, n, n) arrays on surro::ExecSpace.
// Each sample has its own alpha/beta and stops at its own convergence (its iterates do not depend
// on the rest of the batch). Convergence: relative residual |b - A x| / |b| <= tolerance, checked
// on the recurrence residual and then confirmed on the true residual (a sample whose true residual
// is above the tolerance restarts CG from its iterate). Dot products are summed per grid row and
// then per sample in a fixed order, so results are bitwise reproducible on a given backend.
//
// Coefficient: a = a_high (12) where z >= 0 and a_low (3) where z < 0, z ~ N(0, (-Delta + tau^2 I)^-alpha)
// with Neumann boundary conditions (the paper's (-Delta + 9 I)^-2 at alpha = 2, tau = 3). z is the
// Karhunen-Loeve sum over the cosine eigenfunctions c_k1 c_k2 cos(pi k1 x) cos(pi k2 y) (c_0 = 1,
// c_k = sqrt 2, eigenvalue pi^2 (k1^2 + k2^2)) for 0 <= k1, k2 <= n-1, all but the mean mode, which
// is zero; it is synthesized on the node grid by one real inverse FFT of size 2(n-1) per axis (the
// even extension makes it a DCT-I). Coefficient xi_k1k2 is a Philox normal with stream = sample
// index and index = k1 n + k2. The overall scale of z does not change its sign, so there is no sigma.
//
// Memory: about 8 n^2 doubles per sample for the solve and 8 (n-1)^2 for the field synthesis.
#include "core/types.hpp"
#include "solvers/solver.hpp"

#include <memory>
#include <vector>

namespace surro::solvers {

struct DarcySettings {
  int grid = 421;                 // n: nodes per side
  int record_grid = 85;           // nr: recorded nodes per side, every ((n-1)/(nr-1))-th node
  double a_high = 12.0;           // coefficient where z >= 0 ("values"[0])
  double a_low = 3.0;             // coefficient where z < 0  ("values"[1])
  double alpha = 2.0, tau = 3.0;  // GRF covariance (-Delta + tau^2 I)^-alpha
  double tolerance = 1e-10;       // relative residual
  long long max_iterations = 0;   // per sample; 0 selects the default 20 n
};

// Reads and validates a "darcy_2d" section (defaults above).
DarcySettings read_darcy_2d(config::Node& section);

// CG outcome of one sample: iterations (restarts included) and the true relative residual.
struct CgReport {
  int iterations = 0;
  double residual = 0;
};

class Darcy2D final : public Solver {
 public:
  // Validates `s` (Error of kind usage naming "darcy_2d.<key>").
  explicit Darcy2D(const DarcySettings& s);
  ~Darcy2D() override;

  const data::DatasetSpec& spec() const override { return m_spec; }
  // Samples [first, first + count): coefficient from the GRF, solve with f = 1; fields "a" and "u"
  // (B, Nr, Nr) as float; diagnostics "cg_iterations" and "cg_residual", one value per sample.
  data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) override;

  // The GRF z (B, n, n) of samples [first, first + count) at the nodes, z(b, i, j) at (x_i, y_j).
  View3<double> random_field(std::uint64_t seed, long long first, long long count);
  // The thresholded coefficient a (B, n, n) of the same samples.
  View3<double> coefficient(std::uint64_t seed, long long first, long long count);
  // Solves -div(a grad u) = f, u = 0 on the boundary, for every sample: a, f (B, n, n) at the nodes
  // (f's boundary values are unused; a must be > 0). Returns u (B, n, n). Throws Error(runtime)
  // naming sample first + b and its residual when a sample does not converge. run() calls this
  // with f = 1; tests call it with manufactured a and f. `report` receives one entry per sample.
  View3<double> solve(const View3<double>& a, const View3<double>& f, long long first,
                      std::vector<CgReport>* report);

  const DarcySettings& settings() const { return m_settings; }
  long long max_iterations() const { return m_max_iterations; }

 private:
  struct Synthesis;
  DarcySettings m_settings;
  data::DatasetSpec m_spec;
  long long m_max_iterations = 0;
  // (n, n): sqrt(lambda) c_k1 c_k2 times the DCT-I end weights; host at construction, device at
  // first use.
  std::vector<double> m_grf_amplitude_host;
  mutable View2<double> m_grf_amplitude;
  View2<double> grf_amplitude() const;
  std::unique_ptr<Synthesis> m_synthesis;
};

std::unique_ptr<Solver> make_darcy_2d(config::Node& section);

}  // namespace surro::solvers
