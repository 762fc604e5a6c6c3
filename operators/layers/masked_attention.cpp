#include "operators/layers/masked_attention.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace surro::op {

void masked_attention_validate(const MaskedAttentionCfg& cfg) {
  SURRO_REQUIRE(cfg.dim > 0 && cfg.heads > 0 && cfg.dim % cfg.heads == 0,
                "masked_attention: dim = " << cfg.dim << ", heads = " << cfg.heads
                                           << ": expected positive, with heads dividing dim");
}

void long_rows_of(const std::vector<index_t>& offsets, index_t long_row, std::vector<int>& out) {
  out.clear();
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
    if (offsets[i + 1] - offsets[i] > long_row) out.push_back(int(i));
}

namespace masked_attention_impl {

template <class Real>
KOKKOS_INLINE_FUNCTION Real exp_of(Real v) {
  if constexpr (std::is_same_v<Real, float>)
    return ::expf(v);
  else
    return ::exp(v);
}

// Channel arithmetic of one head layout (masked_attention.hpp).
struct Heads {
  int dim, heads, dh;
  bool blocked;
  KOKKOS_INLINE_FUNCTION int chan(int h, int c) const { return blocked ? h * dh + c : c * heads + h; }
  KOKKOS_INLINE_FUNCTION int head_of(int ch) const { return blocked ? ch / dh : ch % heads; }
};

// A team per row on the host spaces (AUTO: one thread), a warp per row on a device: rows hold a
// few to a few tens of entries, so wider teams would idle.
template <class Exec>
Kokkos::TeamPolicy<Exec> row_policy(const Exec& exec, index_t rows) {
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible)
    return Kokkos::TeamPolicy<Exec>(exec, int(rows), Kokkos::AUTO);
  else
    return Kokkos::TeamPolicy<Exec>(exec, int(rows), 32);
}

// The row kernels' cut: the mask's long_row when it lists its long rows and columns, else none.
inline index_t long_cut(const AttentionMask& mask) {
  SURRO_REQUIRE(!mask.long_rows == !mask.long_cols,
                "masked_attention: mask: long_rows and long_cols: expected both set or neither");
  SURRO_REQUIRE(!mask.long_rows || mask.long_row >= 0,
                "masked_attention: mask: long_row = " << mask.long_row << ": expected >= 0");
  return mask.long_rows ? mask.long_row : std::numeric_limits<index_t>::max();
}

// Wide teams for the long rows: kLongTeam threads on a device, AUTO (one thread) on the host spaces,
// with `scratch` bytes of team scratch.
constexpr int kLongTeam = 256;
template <class Exec>
Kokkos::TeamPolicy<Exec> long_policy(const Exec& exec, index_t rows, std::size_t scratch) {
  Kokkos::TeamPolicy<Exec> policy =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible
          ? Kokkos::TeamPolicy<Exec>(exec, int(rows), Kokkos::AUTO)
          : Kokkos::TeamPolicy<Exec>(exec, int(rows), kLongTeam);
  return policy.set_scratch_size(0, Kokkos::PerTeam(scratch));
}

// Scratch of the long kernels: two sliced sums of at most max(kLongTeam, D) partials each.
template <class Real>
std::size_t long_scratch(int dim) {
  return 2 * std::size_t(std::max(kLongTeam, dim)) * sizeof(Real);
}

// out(c, sum over e < n of term(e, c)) for c < D. S = max(1, team size / D) slices: thread (s, c)
// adds the entries e = s, s + S, ... in order into part(s, c), then thread c adds the S partials
// in slice order -- a fixed order for a given team size. part: (S, D) team scratch.
template <class Member, class Real, class Term, class Out>
KOKKOS_INLINE_FUNCTION void sliced_sum(const Member& team, int n, int D, Real* part, const Term& term,
                                       const Out& out) {
  const int S = team.team_size() / D > 1 ? team.team_size() / D : 1;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, S * D), [&](const int r) {
    const int c = r % D, s = r / D;
    Real acc = 0;
    for (int e = s; e < n; e += S) acc += term(e, c);
    part[s * D + c] = acc;
  });
  team.team_barrier();
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, D), [&](const int c) {
    Real acc = 0;
    for (int s = 0; s < S; ++s) acc += part[s * D + c];
    out(c, acc);
  });
}

// <a(ra, h), b(rb, h)> over head h's channels.
template <class Real>
KOKKOS_INLINE_FUNCTION Real head_dot(const Heads& hd, const Real* a, index_t ra, const Real* b, index_t rb,
                                     int h) {
  Real s = 0;
  for (int c = 0; c < hd.dh; ++c) {
    const int ch = hd.chan(h, c);
    s += a[ra * hd.dim + ch] * b[rb * hd.dim + ch];
  }
  return s;
}

// One team per row i: scores into p, the row softmax in place, then o = p v.
template <class Exec, class Real>
struct Forward {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets;  // (V + 1)
  const int* indices;      // (nnz)
  const Real *q, *k, *v;   // (V, D)
  Real *p, *o;             // (nnz, H), (V, D)
  Real scale;              // 1 / sqrt(Dh)
  index_t skip_over;       // rows longer than this are LongForward's

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t i = team.league_rank();
    const index_t b = offsets[i];
    if (offsets[i + 1] - b > skip_over) return;
    const int n = int(offsets[i + 1] - b), H = hd.heads;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int t) {
      const int e = t / H, h = t % H;
      p[(b + e) * H + h] = head_dot(hd, q, i, k, index_t(indices[b + e]), h) * scale;
    });
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n > 0 ? H : 0), [&](const int h) {
      Real m = p[b * H + h];
      for (int e = 1; e < n; ++e) m = p[(b + e) * H + h] > m ? p[(b + e) * H + h] : m;
      Real sum = 0;
      for (int e = 0; e < n; ++e) {
        const Real x = exp_of(p[(b + e) * H + h] - m);
        p[(b + e) * H + h] = x;
        sum += x;
      }
      const Real inv = Real(1) / sum;
      for (int e = 0; e < n; ++e) p[(b + e) * H + h] *= inv;
    });
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, hd.dim), [&](const int c) {
      const int h = hd.head_of(c);
      Real acc = 0;
      for (int e = 0; e < n; ++e) acc += p[(b + e) * H + h] * v[index_t(indices[b + e]) * hd.dim + c];
      o[i * hd.dim + c] = acc;
    });
  }
};

// One team per row i: ds = p (dp - <p, dp>_row) with dp = <do(i), v(j)> per head; then dq.
template <class Exec, class Real>
struct BackwardRow {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets;
  const int* indices;
  const Real *k, *v, *p, *dout;
  Real *ds, *dq;  // dq may be null
  Real scale;
  index_t skip_over;  // rows longer than this are LongBackwardRow's

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t i = team.league_rank();
    const index_t b = offsets[i];
    if (offsets[i + 1] - b > skip_over) return;
    const int n = int(offsets[i + 1] - b), H = hd.heads;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int t) {
      const int e = t / H, h = t % H;
      ds[(b + e) * H + h] = head_dot(hd, dout, i, v, index_t(indices[b + e]), h);
    });
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, H), [&](const int h) {
      Real pd = 0;
      for (int e = 0; e < n; ++e) pd += p[(b + e) * H + h] * ds[(b + e) * H + h];
      for (int e = 0; e < n; ++e) ds[(b + e) * H + h] = p[(b + e) * H + h] * (ds[(b + e) * H + h] - pd);
    });
    if (!dq) return;
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, hd.dim), [&](const int c) {
      const int h = hd.head_of(c);
      Real acc = 0;
      for (int e = 0; e < n; ++e) acc += ds[(b + e) * H + h] * k[index_t(indices[b + e]) * hd.dim + c];
      dq[i * hd.dim + c] = acc * scale;
    });
  }
};

// One team per column j (a sender), over the transpose pattern: dv(j) = sum p do(i),
// dk(j) = sum ds q(i) / sqrt(Dh), in ascending i.
template <class Exec, class Real>
struct BackwardColumn {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets_t;
  const int *indices_t, *perm_t;
  const Real *q, *p, *ds, *dout;
  Real *dk, *dv;  // either may be null
  Real scale;
  index_t skip_over;  // columns longer than this are LongBackwardColumn's

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t j = team.league_rank();
    const index_t b = offsets_t[j];
    if (offsets_t[j + 1] - b > skip_over) return;
    const int n = int(offsets_t[j + 1] - b), H = hd.heads;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, hd.dim), [&](const int c) {
      const int h = hd.head_of(c);
      Real av = 0, ak = 0;
      for (int e = 0; e < n; ++e) {
        const index_t s = perm_t[b + e], i = indices_t[b + e];
        if (dv) av += p[s * H + h] * dout[i * hd.dim + c];
        if (dk) ak += ds[s * H + h] * q[i * hd.dim + c];
      }
      if (dv) dv[j * hd.dim + c] = av;
      if (dk) dk[j * hd.dim + c] = ak * scale;
    });
  }
};

// The long rows (mask.long_rows), one wide team each: Forward's three steps with the entries
// spread over the team -- scores over (entry, head) pairs, per head a max and a sum as team
// reductions, the weighted sum as a sliced sum.
template <class Exec, class Real>
struct LongForward {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scratch = Kokkos::View<Real*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  Heads hd;
  const index_t* offsets;  // (V + 1)
  const int* indices;      // (nnz)
  const int* rows;         // (long rows) the rows this kernel does
  const Real *q, *k, *v;   // (V, D)
  Real *p, *o;             // (nnz, H), (V, D)
  Real scale;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t i = rows[team.league_rank()];
    const index_t b = offsets[i];
    const int n = int(offsets[i + 1] - b), H = hd.heads, D = hd.dim;
    Scratch part(team.team_scratch(0), std::size_t(D > team.team_size() ? D : team.team_size()));
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int t) {
      const int e = t / H, h = t % H;
      p[(b + e) * H + h] = head_dot(hd, q, i, k, index_t(indices[b + e]), h) * scale;
    });
    team.team_barrier();
    for (int h = 0; h < H; ++h) {
      Real m = 0, sum = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamThreadRange(team, n),
          [&](const int e, Real& mx) { mx = p[(b + e) * H + h] > mx ? p[(b + e) * H + h] : mx; },
          Kokkos::Max<Real>(m));
      Kokkos::parallel_reduce(
          Kokkos::TeamThreadRange(team, n),
          [&](const int e, Real& acc) {
            const Real x = exp_of(p[(b + e) * H + h] - m);
            p[(b + e) * H + h] = x;
            acc += x;
          },
          sum);
      team.team_barrier();
      const Real inv = Real(1) / sum;
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](const int e) { p[(b + e) * H + h] *= inv; });
    }
    team.team_barrier();
    sliced_sum(
        team, n, D, part.data(),
        [&](const int e, const int c) { return p[(b + e) * H + hd.head_of(c)] * v[index_t(indices[b + e]) * D + c]; },
        [&](const int c, const Real acc) { o[i * D + c] = acc; });
  }
};

// The long rows of BackwardRow: dp over (entry, head) pairs, per head <p, dp> as a team reduction,
// dq as a sliced sum.
template <class Exec, class Real>
struct LongBackwardRow {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scratch = Kokkos::View<Real*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  Heads hd;
  const index_t* offsets;
  const int* indices;
  const int* rows;  // (long rows)
  const Real *k, *v, *p, *dout;
  Real *ds, *dq;  // dq may be null
  Real scale;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t i = rows[team.league_rank()];
    const index_t b = offsets[i];
    const int n = int(offsets[i + 1] - b), H = hd.heads, D = hd.dim;
    Scratch part(team.team_scratch(0), std::size_t(D > team.team_size() ? D : team.team_size()));
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int t) {
      const int e = t / H, h = t % H;
      ds[(b + e) * H + h] = head_dot(hd, dout, i, v, index_t(indices[b + e]), h);
    });
    team.team_barrier();
    for (int h = 0; h < H; ++h) {
      Real pd = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamThreadRange(team, n),
          [&](const int e, Real& acc) { acc += p[(b + e) * H + h] * ds[(b + e) * H + h]; }, pd);
      team.team_barrier();
      Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](const int e) {
        ds[(b + e) * H + h] = p[(b + e) * H + h] * (ds[(b + e) * H + h] - pd);
      });
    }
    if (!dq) return;
    team.team_barrier();
    sliced_sum(
        team, n, D, part.data(),
        [&](const int e, const int c) { return ds[(b + e) * H + hd.head_of(c)] * k[index_t(indices[b + e]) * D + c]; },
        [&](const int c, const Real acc) { dq[i * D + c] = acc * scale; });
  }
};

// The long columns of BackwardColumn (mask.long_cols): dv and dk as two sliced sums.
template <class Exec, class Real>
struct LongBackwardColumn {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  using Scratch = Kokkos::View<Real*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  Heads hd;
  const index_t* offsets_t;
  const int *indices_t, *perm_t;
  const int* cols;  // (long columns)
  const Real *q, *p, *ds, *dout;
  Real *dk, *dv;  // either may be null
  Real scale;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t j = cols[team.league_rank()];
    const index_t b = offsets_t[j];
    const int n = int(offsets_t[j + 1] - b), H = hd.heads, D = hd.dim;
    const std::size_t half = std::size_t(D > team.team_size() ? D : team.team_size());
    Scratch part(team.team_scratch(0), 2 * half);
    if (dv)
      sliced_sum(
          team, n, D, part.data(),
          [&](const int e, const int c) {
            return p[index_t(perm_t[b + e]) * H + hd.head_of(c)] * dout[index_t(indices_t[b + e]) * D + c];
          },
          [&](const int c, const Real acc) { dv[j * D + c] = acc; });
    if (dk)
      sliced_sum(
          team, n, D, part.data() + half,
          [&](const int e, const int c) {
            return ds[index_t(perm_t[b + e]) * H + hd.head_of(c)] * q[index_t(indices_t[b + e]) * D + c];
          },
          [&](const int c, const Real acc) { dk[j * D + c] = acc * scale; });
  }
};

}  // namespace masked_attention_impl

template <class Exec, class Real>
void masked_attention_forward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                              const Real* q, const Real* k, const Real* v, Real* p, Real* o) {
  namespace impl = masked_attention_impl;
  ScopedRegion region("surro::op::masked_attention::forward");
  masked_attention_validate(cfg);
  if (mask.nodes == 0) return;
  const double V = double(mask.nodes), D = cfg.dim, nnz = double(mask.nnz);
  // q and o once, k and v once per entry (gathered rows), p written, the CSR read.
  profile::add_work("surro::op::masked_attention::forward",
                    (2 * V * D + 2 * nnz * D + nnz * cfg.heads) * sizeof(Real) + nnz * 4 + V * 8,
                    4 * nnz * D);
  const impl::Heads hd{cfg.dim, cfg.heads, cfg.head_dim(), cfg.layout == HeadLayout::blocked};
  const Real scale = Real(1.0 / std::sqrt(double(cfg.head_dim())));
  const index_t skip = impl::long_cut(mask);
  Kokkos::parallel_for("surro::op::masked_attention::forward", impl::row_policy(exec, mask.nodes),
                       impl::Forward<Exec, Real>{hd, mask.offsets, mask.indices, q, k, v, p, o, scale, skip});
  if (mask.long_rows && mask.n_long_rows > 0)
    Kokkos::parallel_for(
        "surro::op::masked_attention::forward_long",
        impl::long_policy(exec, mask.n_long_rows, impl::long_scratch<Real>(cfg.dim)),
        impl::LongForward<Exec, Real>{hd, mask.offsets, mask.indices, mask.long_rows, q, k, v, p, o, scale});
}

template <class Exec, class Real>
void masked_attention_backward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                               const Real* q, const Real* k, const Real* v, const Real* p, const Real* dout,
                               Real* ds, Real* dq, Real* dk, Real* dv) {
  namespace impl = masked_attention_impl;
  ScopedRegion region("surro::op::masked_attention::backward");
  masked_attention_validate(cfg);
  if (mask.nodes == 0) return;
  const impl::Heads hd{cfg.dim, cfg.heads, cfg.head_dim(), cfg.layout == HeadLayout::blocked};
  const Real scale = Real(1.0 / std::sqrt(double(cfg.head_dim())));
  const double V = double(mask.nodes), D = cfg.dim, nnz = double(mask.nnz);
  const index_t skip = impl::long_cut(mask);
  if (dq || dk) {
    profile::add_work("surro::op::masked_attention::backward_rows",
                      (2 * V * D + 2 * nnz * D + 2 * nnz * cfg.heads) * sizeof(Real) + nnz * 4 + V * 8,
                      4 * nnz * D);
    Kokkos::parallel_for(
        "surro::op::masked_attention::backward_rows", impl::row_policy(exec, mask.nodes),
        impl::BackwardRow<Exec, Real>{hd, mask.offsets, mask.indices, k, v, p, dout, ds, dq, scale, skip});
    if (mask.long_rows && mask.n_long_rows > 0)
      Kokkos::parallel_for("surro::op::masked_attention::backward_rows_long",
                           impl::long_policy(exec, mask.n_long_rows, impl::long_scratch<Real>(cfg.dim)),
                           impl::LongBackwardRow<Exec, Real>{hd, mask.offsets, mask.indices, mask.long_rows, k,
                                                             v, p, dout, ds, dq, scale});
  }
  if (dk || dv) {
    SURRO_REQUIRE(
        mask.offsets_t && mask.indices_t && mask.perm_t,
        "masked_attention_backward: mask: expected the transpose pattern (offsets_t, indices_t, perm_t)");
    profile::add_work("surro::op::masked_attention::backward_columns",
                      (2 * V * D + 2 * nnz * D + 2 * nnz * cfg.heads) * sizeof(Real) + nnz * 8 + V * 8,
                      4 * nnz * D);
    Kokkos::parallel_for("surro::op::masked_attention::backward_columns", impl::row_policy(exec, mask.nodes),
                         impl::BackwardColumn<Exec, Real>{hd, mask.offsets_t, mask.indices_t, mask.perm_t, q,
                                                          p, ds, dout, dk, dv, scale, skip});
    if (mask.long_cols && mask.n_long_cols > 0)
      Kokkos::parallel_for(
          "surro::op::masked_attention::backward_columns_long",
          impl::long_policy(exec, mask.n_long_cols, impl::long_scratch<Real>(cfg.dim)),
          impl::LongBackwardColumn<Exec, Real>{hd, mask.offsets_t, mask.indices_t, mask.perm_t, mask.long_cols,
                                               q, p, ds, dout, dk, dv, scale});
  }
}

#define SURRO_X(Exec, Real)                                                                                \
  template void masked_attention_forward<Exec, Real>(const Exec&, const MaskedAttentionCfg&,               \
                                                     const AttentionMask&, const Real*, const Real*,       \
                                                     const Real*, Real*, Real*);                           \
  template void masked_attention_backward<Exec, Real>(                                                     \
      const Exec&, const MaskedAttentionCfg&, const AttentionMask&, const Real*, const Real*, const Real*, \
      const Real*, const Real*, Real*, Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
