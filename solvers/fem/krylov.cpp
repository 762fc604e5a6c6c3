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
// rhr: BiCGStab's rhat.r, summed with r.r where r is updated (the next iteration's rho).
enum Slot : int { bb = 0, rr = 1, rho = 2, alpha = 3, beta = 4, omega = 5, d0 = 6, d1 = 7, d2 = 8, rhr = 9 };
constexpr int kActive = static_cast<int>(KrylovStatus::active);
constexpr int kConverged = static_cast<int>(KrylovStatus::converged);
constexpr int kBreakdown = static_cast<int>(KrylovStatus::breakdown);
constexpr int kExhausted = static_cast<int>(KrylovStatus::exhausted);
constexpr int kPoll = 8;  // CG iterations between host polls of the active count
// BiCGStab iterations per launch of its sweep kernel. A sample's team leaves the sweep as soon as
// the sample stops being active, so a larger value wastes no work; 16 covers the 9-11 iterations
// of a momentum solve in one launch.
constexpr int kSweep = 16;

// The one deterministic reduction of the Krylov kernels, run by a team that owns one sample whose
// chunks (<= 256 consecutive rows each) are c0 .. c1 - 1. The team's threads take whole chunks and
// sum term(i, acc) (which adds row i's products into acc[0 .. N-1]) over the chunk's rows in
// ascending order into part(ch, 0 .. N-1); then every thread sums the sample's chunks in ascending
// order into out. All threads compute the same out (same operations on the same values), so no
// broadcast is needed, and the result is the same for every team size, backend and batch. Opens with a
// barrier: the team's earlier vector writes are visible and its earlier reads of part are done.
template <int N, class Member, class Ptr, class Part, class Term>
KOKKOS_INLINE_FUNCTION void sample_sums(const Member& team, const Ptr& cp, index_t c0, index_t c1,
                                        const Part& part, const Term& term, double* out) {
  team.team_barrier();
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, c0, c1), [&](const index_t ch) {
    double acc[N];
    for (int k = 0; k < N; ++k) acc[k] = 0.0;
    for (index_t i = cp(ch); i < cp(ch + 1); ++i) term(i, acc);
    for (int k = 0; k < N; ++k) part(ch, k) = acc[k];
  });
  team.team_barrier();
  for (int k = 0; k < N; ++k) out[k] = 0.0;
  for (index_t ch = c0; ch < c1; ++ch)
    for (int k = 0; k < N; ++k) out[k] += part(ch, k);
}

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
  partial = View2<double, Mem>("surro::fem::krylov::partial", system.num_chunks, kParts);
  sc = View2<double, Mem>("surro::fem::krylov::scalars", system.batch, kSlots);
  status = View1<int, Mem>("surro::fem::krylov::status", system.batch);
  iterations = View1<int, Mem>("surro::fem::krylov::iterations", system.batch);
}

// One team per sample sums one or two products with sample_sums, then one thread applies `fin` to
// the sample's scalars: with fin = cg_alpha or cg_beta the scalar kernel of a CG iteration is
// folded into the dot kernel.
template <class Exec>
struct Dots {
  using Mem = typename Exec::memory_space;
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  enum Fin : int { store = 0, cg_alpha = 1, cg_beta = 2 };
  View1<double, Mem> a, b, c, d;  // (Nd) products a.b into slot0 and, with two, c.d into slot1
  View2<double, Mem> part;        // (Nch, kParts)
  View1<index_t, Mem> cp, sch;    // (Nch + 1), (B + 1)
  View2<double, Mem> scal;        // (B, kSlots)
  View1<int, Mem> st, it;         // (B)
  int slot0 = 0, slot1 = 0, two = 0, fin = store, max_it = 0;
  double tol2 = 0;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int smp = team.league_rank();
    double sum[2];
    const auto term = [&](const index_t i, double* acc) {
      acc[0] += a(i) * b(i);
      if (two) acc[1] += c(i) * d(i);
    };
    sample_sums<2>(team, cp, sch(smp), sch(smp + 1), part, term, sum);
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      scal(smp, slot0) = sum[0];
      if (two) scal(smp, slot1) = sum[1];
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
        scal(smp, rhr) = scal(smp, rr);  // rhat = r: rhat.r is r.r, summed in the same order
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

// Up to `sweeps` BiCGStab iterations of every active sample in one launch: a team per sample, which
// owns all of its block's rows (block-diagonal: A y reads only the sample's own y), so team barriers
// order the phases and no other launch is needed. Per iteration (Jacobi right preconditioning,
// D = diag A):
//   beta = (rhat.r / rho) (alpha / omega), rho = rhat.r      rhat.r from the previous x, r update
//   p = r + beta (p - omega v), y = D^-1 p                   rows
//   v = A y                                                  rows (the team's threads over rows)
//   alpha = rho / rhat.v                                     sample_sums<1>
//   s = r - alpha v, z = D^-1 s                              rows
//   t = A z                                                  rows
//   t.s, t.t, s.s -> omega                                   sample_sums<3>
//   x += alpha y + omega z, r = s - omega t                  rows
//   r.r, rhat.r -> convergence test                          sample_sums<2>
// Vector updates and products run over rows (all of the team's threads), the sums over chunks
// (a thread per chunk: ~Nd / 256 threads), so the chunk phases only read. The arithmetic is the separate
// kernels' (the same expressions, the same chunk order), so the iterates are bitwise those of a
// kernel-per-step BiCGStab. The scalars live in registers (every thread holds the same values) and team rank
// 0 stores them; the reduction value counts the samples still active at the end (the host's poll, folded in).
template <class Exec>
struct BicgstabSweep {
  using Mem = typename Exec::memory_space;
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  using value_type = int;
  View1<double, Mem> value;                               // (nnz)
  View1<double, Mem> x, r, rhat, p, v, y, s, z, t, dinv;  // (Nd)
  View1<index_t, Mem> rp, off, cp, sch;                   // (Nd + 1), (B + 1), (Nch + 1), (B + 1)
  View1<int, Mem> col;                                    // (nnz)
  View2<double, Mem> part;                                // (Nch, kParts)
  View2<double, Mem> scal;                                // (B, kSlots)
  View1<int, Mem> st, it;                                 // (B)
  double tol2 = 0;
  int max_it = 0, sweeps = 0;

  // out (Nd) = A in on the rows r0 .. r1 - 1, the team's threads over rows.
  KOKKOS_INLINE_FUNCTION void multiply(const member_type& team, index_t r0, index_t r1,
                                       const View1<double, Mem>& in, const View1<double, Mem>& out) const {
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, r0, r1), [&](const index_t i) {
      double sum = 0.0;
      for (index_t k = rp(i); k < rp(i + 1); ++k) sum += value(k) * in(col(k));
      out(i) = sum;
    });
  }

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team, int& active) const {
    const int smp = team.league_rank();
    const index_t r0 = off(smp), r1 = off(smp + 1), c0 = sch(smp), c1 = sch(smp + 1);
    // Read before the first barrier; rank 0 writes them back after the last.
    int status = st(smp), iter = it(smp);
    double rh = scal(smp, rho), al = scal(smp, alpha), om = scal(smp, omega);
    double rr_ = scal(smp, rr), rhr_ = scal(smp, rhr);
    const double limit = tol2 * scal(smp, bb);
    for (int k = 0; k < sweeps && status == kActive; ++k) {
      if (rhr_ == 0.0) {
        status = kBreakdown;  // rhat orthogonal to r
        break;
      }
      const double be = (rhr_ / rh) * (al / om);
      rh = rhr_;
      team.team_barrier();  // the previous iteration's x, r, p, v updates are done
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, r0, r1), [&](const index_t i) {
        p(i) = r(i) + be * (p(i) - om * v(i));
        y(i) = dinv(i) * p(i);
      });
      team.team_barrier();
      multiply(team, r0, r1, y, v);
      double sum[3];
      sample_sums<1>(
          team, cp, c0, c1, part, [&](const index_t i, double* acc) { acc[0] += rhat(i) * v(i); }, sum);
      if (sum[0] == 0.0) {
        status = kBreakdown;
        break;
      }
      al = rh / sum[0];
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, r0, r1), [&](const index_t i) {
        s(i) = r(i) - al * v(i);
        z(i) = dinv(i) * s(i);
      });
      team.team_barrier();
      multiply(team, r0, r1, z, t);
      const auto omega_terms = [&](const index_t i, double* acc) {
        acc[0] += t(i) * s(i);
        acc[1] += t(i) * t(i);
        acc[2] += s(i) * s(i);
      };
      sample_sums<3>(team, cp, c0, c1, part, omega_terms, sum);
      if (sum[2] <= limit)
        om = 0.0;  // s is small enough: x += alpha y is the last step
      else if (sum[1] > 0.0 && sum[0] != 0.0)
        om = sum[0] / sum[1];
      else {
        status = kBreakdown;  // t = 0 or t orthogonal to s: the method stagnates
        break;
      }
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, r0, r1), [&](const index_t i) {
        x(i) += al * y(i) + om * z(i);
        r(i) = s(i) - om * t(i);
      });
      const auto residual_terms = [&](const index_t i, double* acc) {
        acc[0] += r(i) * r(i);
        acc[1] += rhat(i) * r(i);
      };
      sample_sums<2>(team, cp, c0, c1, part, residual_terms, sum);
      rr_ = sum[0];
      rhr_ = sum[1];
      iter += 1;
      if (rr_ <= limit)
        status = kConverged;
      else if (iter >= max_it)
        status = kExhausted;
    }
    team.team_barrier();  // every thread has read the sample's scalars (the loop may not have run)
    if (team.team_rank() != 0) return;
    if (status == kActive) active += 1;
    st(smp) = status;
    it(smp) = iter;
    scal(smp, rho) = rh;
    scal(smp, alpha) = al;
    scal(smp, omega) = om;
    scal(smp, rr) = rr_;
    scal(smp, rhr) = rhr_;
  }
};

template <class Exec>
int Krylov<Exec>::bicgstab_sweep(const Exec& exec, const Vec& value, const Vec& x, double tol2, int max_it,
                                 int sweeps) {
  BicgstabSweep<Exec> f;
  f.value = value;
  f.x = x;
  f.r = r;
  f.rhat = rhat;
  f.p = p;
  f.v = v;
  f.y = y;
  f.s = s;
  f.z = z;
  f.t = t;
  f.dinv = dinv;
  f.rp = sys->row_ptr;
  f.off = sys->dof_offset;
  f.cp = sys->chunk_ptr;
  f.sch = sys->sample_chunk;
  f.col = sys->col;
  f.part = partial;
  f.scal = sc;
  f.st = status;
  f.it = iterations;
  f.tol2 = tol2;
  f.max_it = max_it;
  f.sweeps = sweeps;
  int active = 0;
  Kokkos::parallel_reduce("surro::fem::krylov::bicgstab::sweep",
                          Kokkos::TeamPolicy<Exec>(exec, sys->batch, Kokkos::AUTO), f, active);
  return active;
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
    if (method == Method::cg) {
      while (count_active(exec) > 0)
        for (int k = 0; k < kPoll; ++k) cg_iteration(exec, value, x, tol2, max_it);
    } else {
      while (bicgstab_sweep(exec, value, x, tol2, max_it, kSweep) > 0) {
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
