// Batched Jacobi-preconditioned CG and BiCGStab with per-sample scalars (see krylov.hpp).
#include "solvers/fem/krylov.hpp"

#include "core/error.hpp"
#include "solvers/fem/amg.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace surro::solvers::fem {

namespace impl::fem_krylov {

// Slots of the per-sample scalar array sc (B, kSlots).
enum Slot : int { bb = 0, rr = 1, rho = 2, alpha = 3, beta = 4, omega = 5, d0 = 6, d1 = 7, d2 = 8 };
constexpr int kActive = static_cast<int>(KrylovStatus::active);
constexpr int kConverged = static_cast<int>(KrylovStatus::converged);
constexpr int kBreakdown = static_cast<int>(KrylovStatus::breakdown);
constexpr int kExhausted = static_cast<int>(KrylovStatus::exhausted);
constexpr int kPoll = 8;  // iterations between host polls of the active count

}  // namespace impl::fem_krylov

using namespace impl::fem_krylov;

void KrylovReport::require_converged(const std::string& what, double tol) const {
  for (std::size_t b = 0; b < status.size(); ++b) {
    if (status[b] == KrylovStatus::converged) continue;
    std::ostringstream os;
    os << std::setprecision(6) << residual[b];
    SURRO_THROW(ErrorKind::runtime,
                "fem: " << what << ": sample " << b << ": "
                        << (status[b] == KrylovStatus::breakdown ? "the solver broke down" : "no convergence")
                        << " after " << iterations[b] << " iterations: relative residual " << os.str()
                        << ", expected <= " << tol);
  }
}

template <class Exec>
Krylov<Exec>::Krylov(const System<Exec>& system) : sys(&system) {
  const index_t n = system.num_dofs;
  auto vec = [&](const char* name) { return Vec(std::string("surro::fem::krylov::") + name, n); };
  r = vec("r");
  rhat = vec("rhat");
  p = vec("p");
  v = vec("v");
  y = vec("y");
  s = vec("s");
  z = vec("z");
  t = vec("t");
  dinv = vec("dinv");
  partial = View2<double, Mem>("surro::fem::krylov::partial", system.num_chunks, 2);
  sc = View2<double, Mem>("surro::fem::krylov::scalars", system.batch, kSlots);
  status = View1<int, Mem>("surro::fem::krylov::status", system.batch);
  iterations = View1<int, Mem>("surro::fem::krylov::iterations", system.batch);
}

// One team per sample: its threads sum the sample's chunks (<= 256 rows each, in row order) into
// partial, then one thread sums the chunks in order and applies `fin` to the sample's scalars. The
// same arithmetic as a chunk kernel followed by a sample kernel, in one launch; with fin = cg_alpha
// or cg_beta the scalar kernel of a CG iteration is folded in too.
template <class Exec>
struct Dots {
  using Mem = typename Exec::memory_space;
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  enum Fin : int { store = 0, cg_alpha = 1, cg_beta = 2 };
  View1<double, Mem> a, b, c, d;  // (Nd) products a.b into slot0 and, with two, c.d into slot1
  View2<double, Mem> part;        // (Nch, 2)
  View1<index_t, Mem> cp, sch;    // (Nch + 1), (B + 1)
  View2<double, Mem> scal;        // (B, kSlots)
  View1<int, Mem> st, it;         // (B)
  int slot0 = 0, slot1 = 0, two = 0, fin = store, max_it = 0;
  double tol2 = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int smp = team.league_rank();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, sch(smp), sch(smp + 1)), [&](const index_t ch) {
      double s0 = 0.0, s1 = 0.0;
      for (index_t i = cp(ch); i < cp(ch + 1); ++i) s0 += a(i) * b(i);
      if (two)
        for (index_t i = cp(ch); i < cp(ch + 1); ++i) s1 += c(i) * d(i);
      part(ch, 0) = s0;
      part(ch, 1) = s1;
    });
    team.team_barrier();
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      double s0 = 0.0, s1 = 0.0;
      for (index_t ch = sch(smp); ch < sch(smp + 1); ++ch) s0 += part(ch, 0);
      if (two)
        for (index_t ch = sch(smp); ch < sch(smp + 1); ++ch) s1 += part(ch, 1);
      scal(smp, slot0) = s0;
      if (two) scal(smp, slot1) = s1;
      if (fin == cg_alpha) finish_alpha(smp);
      if (fin == cg_beta) finish_beta(smp);
    });
  }
  // alpha = rho / p.Ap (slot0 = d0).
  KOKKOS_INLINE_FUNCTION void finish_alpha(int smp) const {
    if (st(smp) != kActive) return;
    if (scal(smp, d0) > 0.0)
      scal(smp, alpha) = scal(smp, rho) / scal(smp, d0);
    else
      st(smp) = kBreakdown;  // p.Ap <= 0: A is not SPD on this sample
  }
  // Convergence test on r.r, then beta = r.z / rho (slots rr, d1).
  KOKKOS_INLINE_FUNCTION void finish_beta(int smp) const {
    if (st(smp) != kActive) return;
    it(smp) += 1;
    if (scal(smp, rr) <= tol2 * scal(smp, bb)) {
      st(smp) = kConverged;
    } else if (it(smp) >= max_it) {
      st(smp) = kExhausted;
    } else {
      scal(smp, beta) = scal(smp, d1) / scal(smp, rho);
      scal(smp, rho) = scal(smp, d1);
    }
  }
};

template <class Exec>
void Krylov<Exec>::dots(const Exec& exec, const Vec& a, const Vec& b, int slot0, const Vec& c, const Vec& d,
                        int slot1, int fin, double tol2, int max_it) {
  Dots<Exec> f;
  f.a = a;
  f.b = b;
  f.c = c.data() ? c : a;
  f.d = d.data() ? d : b;
  f.two = c.data() ? 1 : 0;
  f.slot0 = slot0;
  f.slot1 = slot1;
  f.part = partial;
  f.cp = sys->chunk_ptr;
  f.sch = sys->sample_chunk;
  f.scal = sc;
  f.st = status;
  f.it = iterations;
  f.fin = fin;
  f.tol2 = tol2;
  f.max_it = max_it;
  Kokkos::parallel_for("surro::fem::krylov::dot", Kokkos::TeamPolicy<Exec>(exec, sys->batch, Kokkos::AUTO),
                       f);
}

template <class Exec>
void Krylov<Exec>::dot(const Exec& exec, const Vec& a, const Vec& b, int slot) {
  dots(exec, a, b, slot, Vec(), Vec(), 0, Dots<Exec>::store, 0.0, 0);
}

template <class Exec>
void Krylov<Exec>::precondition(const Exec& exec, const Vec& in, const Vec& out) {
  if (use_amg) {
    amg->apply(exec, in, out);  // every row: inactive samples' out is not read
    return;
  }
  const auto ds = sys->dof_sample;
  const auto st = status;
  const auto di = dinv;
  Kokkos::parallel_for(
      "surro::fem::krylov::precondition", Kokkos::RangePolicy<Exec>(exec, 0, sys->num_dofs),
      KOKKOS_LAMBDA(const index_t i) {
        if (st(ds(i)) == kActive) out(i) = di(i) * in(i);
      });
}

// out = b - A x on every sample's rows.
template <class Exec>
void Krylov<Exec>::residual(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, const Vec& out) {
  sys->multiply(exec, value, x, out);
  Kokkos::parallel_for(
      "surro::fem::krylov::residual", Kokkos::RangePolicy<Exec>(exec, 0, sys->num_dofs),
      KOKKOS_LAMBDA(const index_t i) { out(i) = b(i) - out(i); });
}

// dinv from A's diagonal; r = b - A x; bb = b.b, rr = r.r; samples with b = 0 get x = 0 and are
// converged, the others active unless r already meets the tolerance (checked by the caller).
template <class Exec>
void Krylov<Exec>::start(const Exec& exec, const Vec& value, const Vec& b, const Vec& x) {
  const auto dg = sys->diag;
  const auto di = dinv;
  Kokkos::parallel_for(
      "surro::fem::krylov::jacobi", Kokkos::RangePolicy<Exec>(exec, 0, sys->num_dofs),
      KOKKOS_LAMBDA(const index_t i) { di(i) = 1.0 / value(dg(i)); });
  residual(exec, value, b, x, r);
  dots(exec, b, b, bb, r, r, rr, Dots<Exec>::store, 0.0, 0);
  const auto scal = sc;
  const auto st = status;
  const auto it = iterations;
  Kokkos::parallel_for(
      "surro::fem::krylov::start", Kokkos::RangePolicy<Exec>(exec, 0, sys->batch),
      KOKKOS_LAMBDA(const index_t smp) {
        st(smp) = scal(smp, bb) > 0.0 ? kActive : kConverged;
        it(smp) = 0;
      });
  const auto ds = sys->dof_sample;
  Kokkos::parallel_for(
      "surro::fem::krylov::zero_rhs", Kokkos::RangePolicy<Exec>(exec, 0, sys->num_dofs),
      KOKKOS_LAMBDA(const index_t i) {
        if (st(ds(i)) != kActive) x(i) = 0.0;
      });
}

template <class Exec>
int Krylov<Exec>::count_active(const Exec& exec) const {
  int count = 0;
  const auto st = status;
  Kokkos::parallel_reduce(
      "surro::fem::krylov::count_active", Kokkos::RangePolicy<Exec>(exec, 0, sys->batch),
      KOKKOS_LAMBDA(const index_t smp, int& c) { c += st(smp) == kActive ? 1 : 0; }, count);
  return count;
}

template <class Exec>
KrylovReport Krylov<Exec>::finish(const Exec& exec) {
  exec.fence();
  auto st = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), status);
  auto it = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), iterations);
  auto scal = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sc);
  KrylovReport rep;
  for (int b = 0; b < sys->batch; ++b) {
    rep.status.push_back(static_cast<KrylovStatus>(st(b)));
    rep.iterations.push_back(it(b));
    rep.residual.push_back(scal(b, bb) > 0 ? std::sqrt(scal(b, rr) / scal(b, bb)) : 0.0);
  }
  return rep;
}

// ---------------------------------------------------------------------------------------------

// (Re)start active samples from r: p = z = dinv r, rho = r.z; samples already within the
// tolerance are converged.
template <class Exec>
void Krylov<Exec>::cg_restart(const Exec& exec, double tol2) {
  const auto ds = sys->dof_sample;
  const auto scal = sc;
  const auto st = status;
  const auto R = r, P = p, Z = z;
  const index_t nd = sys->num_dofs;
  const int batch = sys->batch;
  Kokkos::parallel_for(
      "surro::fem::krylov::cg::check", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) == kActive && scal(smp, rr) <= tol2 * scal(smp, bb)) st(smp) = kConverged;
      });
  precondition(exec, R, Z);
  Kokkos::parallel_for(
      "surro::fem::krylov::cg::p", Kokkos::RangePolicy<Exec>(exec, 0, nd), KOKKOS_LAMBDA(const index_t i) {
        if (st(ds(i)) == kActive) P(i) = Z(i);
      });
  dot(exec, R, Z, rho);
}

// (Re)start from r: rhat = r, p = v = 0, rho = alpha = omega = 1.
template <class Exec>
void Krylov<Exec>::bicgstab_restart(const Exec& exec, double tol2) {
  const auto ds = sys->dof_sample;
  const auto scal = sc;
  const auto st = status;
  const auto R = r, RH = rhat, P = p, VV = v, Z = z;
  const index_t nd = sys->num_dofs;
  const int batch = sys->batch;
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::check", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) != kActive) return;
        if (scal(smp, rr) <= tol2 * scal(smp, bb)) st(smp) = kConverged;
        scal(smp, rho) = scal(smp, alpha) = scal(smp, omega) = 1.0;
      });
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::init", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        if (st(ds(i)) != kActive) return;
        RH(i) = R(i);
        P(i) = 0.0;
        VV(i) = 0.0;
      });
}

template <class Exec>
void Krylov<Exec>::cg_iteration(const Exec& exec, const Vec& value, const Vec& x, double tol2, int max_it) {
  const auto ds = sys->dof_sample;
  const auto scal = sc;
  const auto st = status;
  const auto it = iterations;
  const auto R = r, Z = z, P = p, Q = v;
  const index_t nd = sys->num_dofs;
  const int batch = sys->batch;
  sys->multiply(exec, value, P, Q);
  dots(exec, P, Q, d0, Vec(), Vec(), 0, Dots<Exec>::cg_alpha, tol2, max_it);
  Kokkos::parallel_for(
      "surro::fem::krylov::cg::update", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        const int smp = ds(i);
        if (st(smp) != kActive) return;
        const double al = scal(smp, alpha);
        x(i) += al * P(i);
        R(i) -= al * Q(i);
      });
  precondition(exec, R, Z);
  dots(exec, R, R, rr, R, Z, d1, Dots<Exec>::cg_beta, tol2, max_it);
  Kokkos::parallel_for(
      "surro::fem::krylov::cg::direction", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        const int smp = ds(i);
        if (st(smp) == kActive) P(i) = Z(i) + scal(smp, beta) * P(i);
      });
}

template <class Exec>
KrylovReport Krylov<Exec>::cg(const Exec& exec, const Vec& value, const Vec& b, const Vec& x, double tol,
                              int max_it) {
  use_amg = amg != nullptr;
  const KrylovReport rep = converge(exec, value, b, x, tol, max_it, Method::cg);
  use_amg = false;
  return rep;
}

template <class Exec>
void Krylov<Exec>::bicgstab_iteration(const Exec& exec, const Vec& value, const Vec& x, double tol2,
                                      int max_it) {
  const auto ds = sys->dof_sample;
  const auto scal = sc;
  const auto st = status;
  const auto it = iterations;
  const auto R = r, RH = rhat, P = p, VV = v, Y = y, S = s, Z = z, T = t;
  const index_t nd = sys->num_dofs;
  const int batch = sys->batch;
  dot(exec, RH, R, d0);
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::beta", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) != kActive) return;
        const double rho_new = scal(smp, d0);
        if (rho_new == 0.0) {
          st(smp) = kBreakdown;  // rhat orthogonal to r
          return;
        }
        scal(smp, beta) = (rho_new / scal(smp, rho)) * (scal(smp, alpha) / scal(smp, omega));
        scal(smp, rho) = rho_new;
      });
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::p", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        const int smp = ds(i);
        if (st(smp) == kActive) P(i) = R(i) + scal(smp, beta) * (P(i) - scal(smp, omega) * VV(i));
      });
  precondition(exec, P, Y);
  sys->multiply(exec, value, Y, VV);
  dot(exec, RH, VV, d0);
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::alpha", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) != kActive) return;
        if (scal(smp, d0) == 0.0)
          st(smp) = kBreakdown;
        else
          scal(smp, alpha) = scal(smp, rho) / scal(smp, d0);
      });
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::s", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        const int smp = ds(i);
        if (st(smp) == kActive) S(i) = R(i) - scal(smp, alpha) * VV(i);
      });
  precondition(exec, S, Z);
  sys->multiply(exec, value, Z, T);
  dots(exec, T, S, d0, T, T, d1, Dots<Exec>::store, 0.0, 0);
  dot(exec, S, S, d2);
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::omega", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) != kActive) return;
        if (scal(smp, d2) <= tol2 * scal(smp, bb))
          scal(smp, omega) = 0.0;  // s is small enough: x += alpha y is the last step
        else if (scal(smp, d1) > 0.0 && scal(smp, d0) != 0.0)
          scal(smp, omega) = scal(smp, d0) / scal(smp, d1);
        else
          st(smp) = kBreakdown;  // t = 0 or t orthogonal to s: the method stagnates
      });
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::update", Kokkos::RangePolicy<Exec>(exec, 0, nd),
      KOKKOS_LAMBDA(const index_t i) {
        const int smp = ds(i);
        if (st(smp) != kActive) return;
        const double om = scal(smp, omega);
        x(i) += scal(smp, alpha) * Y(i) + om * Z(i);
        R(i) = S(i) - om * T(i);
      });
  dot(exec, R, R, rr);
  Kokkos::parallel_for(
      "surro::fem::krylov::bicgstab::check_step", Kokkos::RangePolicy<Exec>(exec, 0, batch),
      KOKKOS_LAMBDA(const index_t smp) {
        if (st(smp) != kActive) return;
        it(smp) += 1;
        if (scal(smp, rr) <= tol2 * scal(smp, bb))
          st(smp) = kConverged;
        else if (it(smp) >= max_it)
          st(smp) = kExhausted;
      });
}

template <class Exec>
KrylovReport Krylov<Exec>::bicgstab(const Exec& exec, const Vec& value, const Vec& b, const Vec& x,
                                    double tol, int max_it) {
  return converge(exec, value, b, x, tol, max_it, Method::bicgstab);
}

// Both methods: iterate until no sample is active (the host polls every kPoll iterations), then
// confirm on the true residual, reopen the converged samples that miss the tolerance, and restart
// those from their iterates.
template <class Exec>
KrylovReport Krylov<Exec>::converge(const Exec& exec, const Vec& value, const Vec& b, const Vec& x,
                                    double tol, int max_it, Method method) {
  const double tol2 = tol * tol;
  const auto scal = sc;
  const auto st = status;
  const auto it = iterations;
  const auto R = r, T = t;
  const int batch = sys->batch;
  const auto restart = [&]() {
    if (method == Method::cg)
      cg_restart(exec, tol2);
    else
      bicgstab_restart(exec, tol2);
  };
  start(exec, value, b, x);
  restart();
  for (;;) {
    while (count_active(exec) > 0) {
      for (int k = 0; k < kPoll; ++k) {
        if (method == Method::cg)
          cg_iteration(exec, value, x, tol2, max_it);
        else
          bicgstab_iteration(exec, value, x, tol2, max_it);
      }
    }
    residual(exec, value, b, x, T);
    dot(exec, T, T, rr);
    Kokkos::parallel_for(
        "surro::fem::krylov::verify", Kokkos::RangePolicy<Exec>(exec, 0, batch),
        KOKKOS_LAMBDA(const index_t smp) {
          if (st(smp) == kConverged && scal(smp, bb) > 0.0 && scal(smp, rr) > tol2 * scal(smp, bb))
            st(smp) = it(smp) >= max_it ? kExhausted : kActive;
        });
    if (count_active(exec) == 0) break;
    Kokkos::deep_copy(exec, R, T);
    restart();
  }
  return finish(exec);
}

template class Krylov<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template class Krylov<HostExec>;
#endif

}  // namespace surro::solvers::fem
