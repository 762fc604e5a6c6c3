// Smoothed-aggregation AMG: host setup and the batched V-cycle (see amg.hpp).
#include "solvers/fem/amg.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>

namespace surro::solvers::fem {

namespace impl::fem_amg {

// Host CSR with sorted columns.
struct Csr {
  long long rows = 0, cols = 0;
  std::vector<long long> ptr{0};  // (rows + 1)
  std::vector<int> col;
  std::vector<double> val;
};

constexpr double kTheta = 0.08;

// C = A B; each row accumulates A's row in column order, then B's rows in theirs: the sums of one
// sample's rows see only that sample's entries, in an order independent of the other samples.
Csr multiply(const Csr& a, const Csr& b) {
  Csr c;
  c.rows = a.rows;
  c.cols = b.cols;
  std::vector<long long> where(b.cols, -1);
  std::vector<int> cols;
  std::vector<double> acc;
  for (long long i = 0; i < a.rows; ++i) {
    cols.clear();
    acc.clear();
    for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k) {
      const int j = a.col[k];
      for (long long m = b.ptr[j]; m < b.ptr[j + 1]; ++m) {
        const int q = b.col[m];
        if (where[q] < 0) {
          where[q] = static_cast<long long>(cols.size());
          cols.push_back(q);
          acc.push_back(0.0);
        }
        acc[where[q]] += a.val[k] * b.val[m];
      }
    }
    std::vector<int> order(cols.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::sort(order.begin(), order.end(), [&](int u, int v) { return cols[u] < cols[v]; });
    for (int k : order) {
      c.col.push_back(cols[k]);
      c.val.push_back(acc[k]);
      where[cols[k]] = -1;
    }
    c.ptr.push_back(static_cast<long long>(c.col.size()));
  }
  return c;
}

Csr transpose(const Csr& a) {
  Csr t;
  t.rows = a.cols;
  t.cols = a.rows;
  t.ptr.assign(a.cols + 1, 0);
  for (int j : a.col) ++t.ptr[j + 1];
  for (long long j = 0; j < a.cols; ++j) t.ptr[j + 1] += t.ptr[j];
  t.col.resize(a.col.size());
  t.val.resize(a.val.size());
  std::vector<long long> next(t.ptr.begin(), t.ptr.end() - 1);
  for (long long i = 0; i < a.rows; ++i)  // ascending i: columns of t come out sorted
    for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k) {
      const long long at = next[a.col[k]]++;
      t.col[at] = static_cast<int>(i);
      t.val[at] = a.val[k];
    }
  return t;
}

double diagonal(const Csr& a, long long i) {
  for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k)
    if (a.col[k] == i) return a.val[k];
  return 0.0;
}

// Aggregate index per row (-1: left out), rows in ascending order; returns the aggregate count.
int aggregate(const Csr& a, std::vector<int>& agg) {
  const long long n = a.rows;
  std::vector<double> d(n);
  for (long long i = 0; i < n; ++i) d[i] = diagonal(a, i);
  auto strong = [&](long long i, long long k) {
    const int j = a.col[k];
    return j != i && std::fabs(a.val[k]) > kTheta * std::sqrt(std::fabs(d[i] * d[j]));
  };
  agg.assign(n, -1);
  std::vector<char> isolated(n, 1);
  for (long long i = 0; i < n; ++i)
    for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k)
      if (a.col[k] != i && a.val[k] != 0.0) isolated[i] = 0;
  int count = 0;
  for (long long i = 0; i < n; ++i) {  // pass 1: roots with free strong neighbourhoods
    if (isolated[i] || agg[i] >= 0) continue;
    bool free = true;
    for (long long k = a.ptr[i]; k < a.ptr[i + 1] && free; ++k)
      if (strong(i, k) && agg[a.col[k]] >= 0) free = false;
    if (!free) continue;
    agg[i] = count;
    for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k)
      if (strong(i, k)) agg[a.col[k]] = count;
    ++count;
  }
  const std::vector<int> first = agg;
  for (long long i = 0; i < n; ++i) {  // pass 2: join the strongest neighbouring pass-1 aggregate
    if (isolated[i] || agg[i] >= 0) continue;
    double best = -1.0;
    for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k) {
      const int j = a.col[k];
      if (j == i || first[j] < 0) continue;
      const double w = std::fabs(a.val[k]);
      if (w > best) {
        best = w;
        agg[i] = first[j];
      }
    }
    if (agg[i] < 0) agg[i] = count++;  // only weak neighbours, none aggregated: its own aggregate
  }
  return count;
}

// Per-sample dense inverse (rows [r0, r0 + m) of a), row-major, symmetrised.
std::vector<double> dense_inverse(const Csr& a, long long r0, int m) {
  std::vector<double> dm(static_cast<std::size_t>(m) * m, 0.0);
  double dmax = 0.0;
  for (int i = 0; i < m; ++i)
    for (long long k = a.ptr[r0 + i]; k < a.ptr[r0 + i + 1]; ++k) {
      dm[i * m + (a.col[k] - r0)] = a.val[k];
      if (a.col[k] == r0 + i) dmax = std::max(dmax, std::fabs(a.val[k]));
    }
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<double> l = dm;
    bool ok = true;
    for (int j = 0; j < m && ok; ++j) {  // Cholesky, lower triangle in l
      double s = l[j * m + j];
      for (int k = 0; k < j; ++k) s -= l[j * m + k] * l[j * m + k];
      if (!(s > 1e-10 * dmax)) {
        ok = false;
        break;
      }
      l[j * m + j] = std::sqrt(s);
      for (int i = j + 1; i < m; ++i) {
        double t = l[i * m + j];
        for (int k = 0; k < j; ++k) t -= l[i * m + k] * l[j * m + k];
        l[i * m + j] = t / l[j * m + j];
      }
    }
    if (ok) {
      std::vector<double> inv(dm.size());
      std::vector<double> e(m);
      for (int c = 0; c < m; ++c) {  // solve L L^T e = unit c
        std::fill(e.begin(), e.end(), 0.0);
        e[c] = 1.0;
        for (int i = 0; i < m; ++i) {
          for (int k = 0; k < i; ++k) e[i] -= l[i * m + k] * e[k];
          e[i] /= l[i * m + i];
        }
        for (int i = m - 1; i >= 0; --i) {
          for (int k = i + 1; k < m; ++k) e[i] -= l[k * m + i] * e[k];
          e[i] /= l[i * m + i];
        }
        for (int i = 0; i < m; ++i) inv[i * m + c] = e[i];
      }
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < i; ++j) inv[i * m + j] = inv[j * m + i] = 0.5 * (inv[i * m + j] + inv[j * m + i]);
      return inv;
    }
    // Singular (pure Neumann): the null space is the constants on the non-isolated rows.
    std::vector<char> coupled(m, 0);
    int mc = 0;
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < m; ++j)
        if (j != i && dm[i * m + j] != 0.0) coupled[i] = 1;
      mc += coupled[i];
    }
    const double s = dmax / std::max(mc, 1);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j)
        if (coupled[i] && coupled[j]) dm[i * m + j] += s;
  }
  SURRO_THROW(ErrorKind::runtime, "fem::Amg: the coarsest block (" << m << " rows from row " << r0
                                                                   << ") is not positive (semi)definite");
}

}  // namespace impl::fem_amg

using namespace impl::fem_amg;

namespace {
template <class T, class Exec, class U>
View1<T, typename Exec::memory_space> upload(const Exec& exec, const std::vector<U>& v, const char* name) {
  return to_view<T>(exec, v, std::string("surro::fem::amg::") + name);
}
}  // namespace

template <class Exec>
Amg<Exec>::Amg(const Exec& exec, const System<Exec>& system, const Vec& value) {
  Csr a;
  a.rows = a.cols = system.num_dofs;
  const auto row_ptr = to_vector(system.row_ptr);
  a.ptr.assign(row_ptr.begin(), row_ptr.end());
  a.col = to_vector(system.col);
  a.val = to_vector(value);
  const std::vector<int> dof_sample = to_vector(system.dof_sample);
  std::vector<int> sample(dof_sample.begin(), dof_sample.end());  // (n_l) sample of each row
  const int nb = system.batch;
  for (int l = 0; l < kMaxLevels; ++l) {
    const long long n = a.rows;
    std::vector<long long> begin(nb + 1, 0);
    for (long long i = 0; i < n; ++i) ++begin[sample[i] + 1];
    for (int b = 0; b < nb; ++b) begin[b + 1] += begin[b];
    std::vector<int> agg;
    const int na = aggregate(a, agg);
    // Coarse rows per sample (aggregates are numbered in row order, hence by sample).
    std::vector<int> agg_sample(na);
    for (long long i = 0; i < n; ++i)
      if (agg[i] >= 0) agg_sample[agg[i]] = sample[i];
    std::vector<long long> coarse(nb, 0);
    for (int c = 0; c < na; ++c) ++coarse[agg_sample[c]];
    std::vector<char> term(nb, 0);
    for (int b = 0; b < nb; ++b) {
      const long long m = begin[b + 1] - begin[b];
      term[b] = m <= kCoarse || l == kMaxLevels - 1 || coarse[b] == 0 || 10 * coarse[b] > 9 * m;
    }
    // Terminal samples' aggregates are dropped: renumber the continuing ones.
    std::vector<int> renum(na, -1);
    int nc = 0;
    for (int c = 0; c < na; ++c)
      if (!term[agg_sample[c]]) renum[c] = nc++;
    // Per-row smoother and Gershgorin bound of D^-1 A per sample.
    std::vector<double> l1inv(n), rho(nb, 0.0), d(n);
    for (long long i = 0; i < n; ++i) {
      double s = 0.0;
      for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k) s += std::fabs(a.val[k]);
      d[i] = diagonal(a, i);
      l1inv[i] = 1.0 / s;
      rho[sample[i]] = std::max(rho[sample[i]], s / d[i]);
    }
    // P = (I - omega D^-1 A) P_tent on continuing samples' rows.
    Csr pt;
    pt.rows = n;
    pt.cols = nc;
    for (long long i = 0; i < n; ++i) {
      if (agg[i] >= 0 && renum[agg[i]] >= 0) {
        pt.col.push_back(renum[agg[i]]);
        pt.val.push_back(1.0);
      }
      pt.ptr.push_back(static_cast<long long>(pt.col.size()));
    }
    Csr sm = a;  // I - omega D^-1 A
    for (long long i = 0; i < n; ++i) {
      const double w = 4.0 / (3.0 * rho[sample[i]]) / d[i];
      for (long long k = a.ptr[i]; k < a.ptr[i + 1]; ++k)
        sm.val[k] = (a.col[k] == i ? 1.0 : 0.0) - w * a.val[k];
    }
    const Csr p = multiply(sm, pt);
    const Csr r = transpose(p);
    // Dense inverses of the terminal samples.
    std::vector<long long> dense_row(n, -1), block_begin(n, 0);
    std::vector<int> block_size(n, 0), terminal(n, 0);
    std::vector<double> inv;
    for (int b = 0; b < nb; ++b) {
      if (!term[b] || begin[b + 1] == begin[b]) continue;
      const int m = static_cast<int>(begin[b + 1] - begin[b]);
      const std::vector<double> ib = dense_inverse(a, begin[b], m);
      for (int i = 0; i < m; ++i) {
        dense_row[begin[b] + i] = static_cast<long long>(inv.size()) + static_cast<long long>(i) * m;
        block_begin[begin[b] + i] = begin[b];
        block_size[begin[b] + i] = m;
        terminal[begin[b] + i] = 1;
      }
      inv.insert(inv.end(), ib.begin(), ib.end());
    }
    Level lv;
    lv.n = n;
    lv.nc = nc;
    lv.a_ptr = upload<index_t>(exec, a.ptr, "a_ptr");
    lv.a_col = upload<int>(exec, a.col, "a_col");
    lv.a_val = upload<double>(exec, a.val, "a_val");
    lv.l1inv = upload<double>(exec, l1inv, "l1inv");
    lv.terminal = upload<int>(exec, terminal, "terminal");
    lv.p_ptr = upload<index_t>(exec, p.ptr, "p_ptr");
    lv.p_col = upload<int>(exec, p.col, "p_col");
    lv.p_val = upload<double>(exec, p.val, "p_val");
    lv.r_ptr = upload<index_t>(exec, r.ptr, "r_ptr");
    lv.r_col = upload<int>(exec, r.col, "r_col");
    lv.r_val = upload<double>(exec, r.val, "r_val");
    lv.dense_row = upload<index_t>(exec, dense_row, "dense_row");
    lv.block_begin = upload<index_t>(exec, block_begin, "block_begin");
    lv.block_size = upload<int>(exec, block_size, "block_size");
    lv.inv = upload<double>(exec, inv, "inv");
    lv.b = Vec("surro::fem::amg::b", n);
    lv.x = Vec("surro::fem::amg::x", n);
    lv.t = Vec("surro::fem::amg::t", n);
    lv.y = Vec("surro::fem::amg::y", n);
    levels.push_back(lv);
    if (nc == 0) break;
    // Next level: A_c = R A P and its rows' samples.
    a = multiply(r, multiply(a, p));
    std::vector<int> next(nc);
    for (int c = 0; c < na; ++c)
      if (renum[c] >= 0) next[renum[c]] = agg_sample[c];
    sample = next;
  }
}

template <class Exec>
std::vector<long long> Amg<Exec>::level_rows() const {
  std::vector<long long> out;
  for (const auto& lv : levels) out.push_back(lv.n);
  return out;
}

template <class Exec>
void Amg<Exec>::apply(const Exec& exec, const Vec& in, const Vec& out) {
  cycle(exec, 0, in, out);
}

// out = V-cycle applied to b on level l.
template <class Exec>
void Amg<Exec>::cycle(const Exec& exec, int l, const Vec& b, const Vec& out) {
  const Level& lv = levels[l];
  const auto ap = lv.a_ptr;
  const auto ac = lv.a_col;
  const auto av = lv.a_val;
  const auto li = lv.l1inv;
  const auto term = lv.terminal;
  const auto drow = lv.dense_row;
  const auto bb = lv.block_begin;
  const auto bs = lv.block_size;
  const auto inv = lv.inv;
  const auto X = lv.x, T = lv.t;
  // Pre-sweep from zero (x = L b), or the exact solve on terminal rows; on the last level every row
  // is terminal and the solve writes out directly.
  const Vec dst = lv.nc > 0 ? X : out;
  Kokkos::parallel_for(
      "surro::fem::amg::presmooth", Kokkos::RangePolicy<Exec>(exec, 0, lv.n), KOKKOS_LAMBDA(const index_t i) {
        if (term(i)) {
          double s = 0.0;
          const index_t o = drow(i), r0 = bb(i);
          for (int j = 0; j < bs(i); ++j) s += inv(o + j) * b(r0 + j);
          dst(i) = s;
        } else {
          dst(i) = li(i) * b(i);
        }
      });
  if (lv.nc == 0) return;
  {
    Kokkos::parallel_for(
        "surro::fem::amg::residual", Kokkos::RangePolicy<Exec>(exec, 0, lv.n),
        KOKKOS_LAMBDA(const index_t i) {
          double s = b(i);
          for (index_t k = ap(i); k < ap(i + 1); ++k) s -= av(k) * X(ac(k));
          T(i) = s;
        });
    const Level& cl = levels[l + 1];
    const auto rp = lv.r_ptr;
    const auto rc = lv.r_col;
    const auto rv = lv.r_val;
    const auto CB = cl.b;
    Kokkos::parallel_for(
        "surro::fem::amg::restrict", Kokkos::RangePolicy<Exec>(exec, 0, lv.nc),
        KOKKOS_LAMBDA(const index_t c) {
          double s = 0.0;
          for (index_t k = rp(c); k < rp(c + 1); ++k) s += rv(k) * T(rc(k));
          CB(c) = s;
        });
    cycle(exec, l + 1, cl.b, cl.y);
    const auto pp = lv.p_ptr;
    const auto pc = lv.p_col;
    const auto pv = lv.p_val;
    const auto CY = cl.y;
    Kokkos::parallel_for(
        "surro::fem::amg::prolong", Kokkos::RangePolicy<Exec>(exec, 0, lv.n), KOKKOS_LAMBDA(const index_t i) {
          double s = X(i);
          for (index_t k = pp(i); k < pp(i + 1); ++k) s += pv(k) * CY(pc(k));
          X(i) = s;
        });
  }
  // Post-sweep (terminal rows copy their exact solution).
  Kokkos::parallel_for(
      "surro::fem::amg::postsmooth", Kokkos::RangePolicy<Exec>(exec, 0, lv.n),
      KOKKOS_LAMBDA(const index_t i) {
        if (term(i)) {
          out(i) = X(i);
          return;
        }
        double s = b(i);
        for (index_t k = ap(i); k < ap(i + 1); ++k) s -= av(k) * X(ac(k));
        out(i) = X(i) + li(i) * s;
      });
}

template class Amg<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template class Amg<HostExec>;
#endif

}  // namespace surro::solvers::fem
