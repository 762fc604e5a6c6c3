#pragma once
// Batched Krylov solvers for the block-diagonal systems of a fem::System: every sample iterates on
// its own block with its own scalars and stops at its own convergence (its iterates do not depend
// on the rest of the batch).
//
//   cg():       conjugate gradients, Jacobi- or AMG-preconditioned (symmetric positive definite
//               blocks; amg.hpp)
//   bicgstab(): BiCGStab (van der Vorst 1992), right Jacobi preconditioning (non-symmetric blocks);
//               its iterations run in one launch per 16 (a team per sample; bicgstab_sweep)
//
// Stopping: relative residual |b - A x| / |b| <= tol on the recurrence residual, then confirmed on
// the true residual (a sample whose true residual is above tol restarts from its iterate). A sample
// with b = 0 gets x = 0. Inner products are summed per chunk of <= 256 consecutive rows of one
// sample, then per sample over its chunks in order: bitwise reproducible on a backend, and
// independent of the batch composition.
//
// Workspace is allocated once per Krylov object (one per System); solves allocate nothing.
#include "solvers/fem/system.hpp"

#include <string>
#include <vector>

namespace surro::solvers::fem {

template <class Exec>
class Amg;

// Per-sample outcome.
enum class KrylovStatus : int { converged = 0, active = 1, breakdown = 2, exhausted = 3 };

struct KrylovReport {
  std::vector<int> iterations;       // (B)
  std::vector<double> residual;      // (B) true relative residual at exit
  std::vector<KrylovStatus> status;  // (B)
  // Throws Error(runtime) naming the first sample that did not converge (with `what`: the system).
  void require_converged(const std::string& what, double tol) const;
};

template <class Exec>
class Krylov {
 public:
  using Mem = typename Exec::memory_space;
  using Vec = View1<double, Mem>;

  explicit Krylov(const System<Exec>& system);

  // Preconditioner of cg(): null (the default) is Jacobi, otherwise one V-cycle of `amg` (built for
  // the matrix passed to cg(); not owned). BiCGStab always uses Jacobi.
  void set_amg(Amg<Exec>* amg_) { amg = amg_; }

  // Solve A x = b for every sample, x (Nd) holding the initial guess; value (nnz) is A on the
  // system's pattern. Reports iterations and residuals per sample (no throw: see require_converged).
  KrylovReport cg(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, double tol, int max_it);
  KrylovReport bicgstab(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, double tol,
                        int max_it);

  // Per-sample inner products out(b, slot) = sum over sample b's rows of x y, in the fixed order.
  void dot(const Exec& exec, const Vec& x, const Vec& y, int slot);
  // Two products at once (c, d empty: only a.b), then the finishing step `fin` (Dots::Fin in
  // krylov.cpp: store, or a CG iteration's alpha / beta-and-convergence step): one launch.
  void dots(const Exec& exec, const Vec& a, const Vec& b, int slot0, const Vec& c, const Vec& d, int slot1,
            int fin, double tol2, int max_it);

  // Public for nvcc (extended lambdas may not live in private members).
  const System<Exec>* sys;
  Amg<Exec>* amg = nullptr;
  bool use_amg = false;                 // set while cg() runs with amg
  Vec r, rhat, p, v, y, s, z, t, dinv;  // (Nd) workspace
  View2<double, Mem> partial;           // (Nch, kParts) chunk sums
  View2<double, Mem> sc;                // (B, kSlots) per-sample scalars (see krylov.cpp)
  View1<int, Mem> status, iterations;   // (B)
  static constexpr int kSlots = 12;
  static constexpr int kParts = 3;

  void start(const Exec& exec, const Vec& value, const Vec& b, const Vec& x);
  int count_active(const Exec& exec) const;
  KrylovReport finish(const Exec& exec);
  // z = dinv r on active samples' rows (x = dinv y).
  void precondition(const Exec& exec, const Vec& in, const Vec& out);
  void cg_restart(const Exec& exec, double tol2);
  // One iteration of every active sample.
  void cg_iteration(const Exec& exec, const Vec& value, const Vec& x, double tol2, int max_it);
  // Up to `sweeps` iterations of every active sample in one launch (BicgstabSweep in krylov.cpp);
  // returns the number of samples still active.
  int bicgstab_sweep(const Exec& exec, const Vec& value, const Vec& x, double tol2, int max_it, int sweeps);
  enum class Method { cg, bicgstab };
  KrylovReport converge(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, double tol,
                        int max_it, Method method);
  void bicgstab_restart(const Exec& exec, double tol2);
  void residual(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, const Vec& out);
};

}  // namespace surro::solvers::fem
