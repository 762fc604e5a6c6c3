#include "operators/layers/masked_attention.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/reduce.hpp"
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

void long_tiles_of(const std::vector<index_t>& offsets, const std::vector<int>& rows, index_t tile,
                   std::vector<int>& out) {
  SURRO_REQUIRE(tile > 0, "long_tiles_of: tile = " << tile << ": expected > 0");
  out.assign(1, 0);
  for (const int i : rows) {
    const index_t n = offsets[std::size_t(i) + 1] - offsets[std::size_t(i)];
    out.push_back(out.back() + int((n + tile - 1) / tile));
  }
}

index_t long_entries_of(const std::vector<index_t>& offsets, const std::vector<int>& rows) {
  index_t n = 0;
  for (const int r : rows) n += offsets[std::size_t(r) + 1] - offsets[std::size_t(r)];
  return n;
}

std::size_t masked_attention_long_scratch(const MaskedAttentionCfg& cfg, const AttentionMask& mask) {
  if (!mask.long_rows) return 0;
  const std::size_t D = std::size_t(cfg.dim), H = std::size_t(cfg.heads);
  // Forward: o_t, m_t, l_t per row tile; backward: dq_t and the sum of p dp per row tile, then
  // dv_t and dk_t per column tile, reusing the same scalars.
  return std::max(std::size_t(mask.n_row_tiles) * (D + 2 * H), std::size_t(mask.n_col_tiles) * 2 * D);
}

std::size_t masked_attention_long_scratch(const MaskedAttentionCfg& cfg, index_t nodes, index_t nnz,
                                          index_t long_row, index_t tile) {
  SURRO_REQUIRE(long_row >= 0 && tile > 0,
                "masked_attention_long_scratch: long_row = " << long_row << ", tile = " << tile
                                                             << ": expected long_row >= 0 and tile > 0");
  // A row of n > long_row entries has ceil(n / tile) <= floor(n / tile) + 1 tiles; the floors add
  // up to at most nnz / tile, and there are at most min(V, nnz / (long_row + 1)) long rows.
  const index_t tiles = nnz / tile + std::min(nodes, nnz / (long_row + 1));
  const std::size_t D = std::size_t(cfg.dim), H = std::size_t(cfg.heads);
  return std::size_t(std::max<index_t>(tiles, 0)) * std::max(D + 2 * H, 2 * D);
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
  const bool set = mask.long_rows;
  SURRO_REQUIRE(
      set == bool(mask.long_cols) && set == bool(mask.long_row_tiles) && set == bool(mask.long_col_tiles),
      "masked_attention: mask: long_rows, long_cols, long_row_tiles, long_col_tiles: expected all "
      "set or none");
  if (!set) return std::numeric_limits<index_t>::max();
  SURRO_REQUIRE(mask.long_row >= 0,
                "masked_attention: mask: long_row = " << mask.long_row << ": expected >= 0");
  SURRO_REQUIRE(mask.n_row_tiles >= mask.n_long_rows && mask.n_col_tiles >= mask.n_long_cols,
                "masked_attention: mask: " << mask.n_row_tiles << " row tiles, " << mask.n_col_tiles
                                           << " column tiles: expected at least one per long row ("
                                           << mask.n_long_rows << ") and column (" << mask.n_long_cols
                                           << ")");
  return mask.long_row;
}

// Teams of the tiled kernels: kLongTeam threads on a device, AUTO (one thread) on the host spaces.
// No sum depends on the team size (see slices).
constexpr int kLongTeam = 256;
template <class Exec>
Kokkos::TeamPolicy<Exec> long_policy(const Exec& exec, index_t teams, std::size_t scratch) {
  Kokkos::TeamPolicy<Exec> policy =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible
          ? Kokkos::TeamPolicy<Exec>(exec, int(teams), Kokkos::AUTO)
          : Kokkos::TeamPolicy<Exec>(exec, int(teams), kLongTeam);
  return policy.set_scratch_size(0, Kokkos::PerTeam(scratch));
}

// The slices of a sliced reduction to W outputs: a function of W alone (kLongTeam / W, at least
// one), so that a sum's order is fixed by its length and width whatever the team size.
KOKKOS_INLINE_FUNCTION constexpr int slices(int W) {
  return W < kLongTeam ? kLongTeam / W : 1;
}

// Team scratch of the tiled kernels: the partials of one sliced reduction (slices(W) W <=
// max(kLongTeam, D) for W <= D), then one value per head.
template <class Exec, class Real>
using LongScratch = Kokkos::View<Real*, typename Exec::scratch_memory_space, Kokkos::MemoryUnmanaged>;
KOKKOS_INLINE_FUNCTION int long_partials(const Heads& hd) {
  return hd.dim > kLongTeam ? hd.dim : kLongTeam;
}
template <class Exec, class Real>
std::size_t long_team_bytes(const Heads& hd) {
  return LongScratch<Exec, Real>::shmem_size(std::size_t(long_partials(hd) + hd.heads));
}

struct Plus {
  template <class Real>
  KOKKOS_INLINE_FUNCTION Real operator()(const Real a, const Real b) const {
    return a + b;
  }
};
struct Larger {
  template <class Real>
  KOKKOS_INLINE_FUNCTION Real operator()(const Real a, const Real b) const {
    return b > a ? b : a;
  }
};

// out(w, join over e < n of term(e, w)) for w < W. S = slices(W): thread (s, w) joins the terms
// e = s, s + S, ... in order onto `init` into part(s, w), then thread w joins the S partials in
// slice order. Ends with a team barrier, so part may be reused and out's writes are visible.
// part: (S, W) team scratch.
template <class Member, class Real, class Term, class Join, class Out>
KOKKOS_INLINE_FUNCTION void sliced_reduce(const Member& team, int n, int W, Real init, Real* part,
                                          const Term& term, const Join& join, const Out& out) {
  const int S = slices(W);
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, S * W), [&](const int r) {
    const int s = r / W, w = r % W;
    Real acc = init;
    for (int e = s; e < n; e += S) acc = join(acc, term(e, w));
    part[r] = acc;
  });
  team.team_barrier();
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, W), [&](const int w) {
    Real acc = part[w];
    for (int s = 1; s < S; ++s) acc = join(acc, part[s * W + w]);
    out(w, acc);
  });
  team.team_barrier();
}

// out(c, sum over e < n of w(slot(e), head of c) x(row(e), c)) for c < D: the weighted sum of rows
// that every tiled kernel forms (o_t = sum p v, dq_t = sum ds k, dv_t = sum p do, dk_t = sum ds q,
// o = sum w_t o_t), as one sliced_reduce over (n, D). w: (., H), x: (., D); part: (S, D) team scratch.
template <class Member, class Real, class Slot, class Row, class Out>
KOKKOS_INLINE_FUNCTION void weighted_rows(const Member& team, const Heads& hd, int n, Real* part,
                                          const Real* w, Slot slot, const Real* x, Row row, Out out) {
  sliced_reduce(
      team, n, hd.dim, Real(0), part,
      [&](const int e, const int c) {
        return w[index_t(slot(e)) * hd.heads + hd.head_of(c)] * x[index_t(row(e)) * hd.dim + c];
      },
      Plus{}, out);
}

// A tile of a long row (or column): its node, its entries [begin, end) in the CSR, and its row's
// tiles [first, first + count).
struct Tile {
  index_t node, begin, end;
  int first, count;
};

// Tile t of the long rows `rows` of a CSR with offsets (V + 1), whose tile counts have the prefix
// sums `tiles` (rows + 1), each count >= 1: a binary search for the owning row, then the row's
// balanced cut.
KOKKOS_INLINE_FUNCTION Tile tile_of(const index_t* offsets, const int* rows, const int* tiles, int n_rows,
                                    int t) {
  int lo = 0, hi = n_rows;  // tiles[lo] <= t < tiles[hi]
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    if (tiles[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  const index_t i = rows[lo], b = offsets[i], n = offsets[i + 1] - b;
  const int first = tiles[lo], count = tiles[lo + 1] - first;
  return {i, b + reduce::chunk_begin(n, count, t - first), b + reduce::chunk_begin(n, count, t - first + 1),
          first, count};
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
  index_t skip_over;       // rows longer than this are the tiled kernels'

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
  index_t skip_over;  // rows longer than this are the tiled kernels'

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
  index_t skip_over;  // columns longer than this are the tiled kernels'

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

// Forward, one team per tile of the long rows: the raw scores into p, per head the tile max m_t
// and x = exp(score - m_t) into p, l_t = sum x, and o_t(c) = sum x(head of c) v(j, c).
template <class Exec, class Real>
struct LongForwardTiles {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets;   // (V + 1)
  const int* indices;       // (nnz)
  const int *rows, *tiles;  // (long rows), (long rows + 1)
  int n_rows;
  const Real *q, *k, *v;  // (V, D)
  Real* p;                // (nnz, H)
  Real *ot, *mt, *lt;     // (tiles, D), (tiles, H), (tiles, H)
  Real scale;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int t = team.league_rank(), H = hd.heads, D = hd.dim;
    const Tile tile = tile_of(offsets, rows, tiles, n_rows, t);
    const index_t i = tile.node, b = tile.begin;
    const int n = int(tile.end - b);
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + H));
    Real *part = scratch.data(), *mx = part + long_partials(hd);  // (S, W), (H)
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int r) {
      const int e = r / H, h = r % H;
      p[(b + e) * H + h] = head_dot(hd, q, i, k, index_t(indices[b + e]), h) * scale;
    });
    team.team_barrier();
    sliced_reduce(
        team, n, H, Kokkos::reduction_identity<Real>::max(), part,
        [&](const int e, const int h) { return p[(b + e) * H + h]; }, Larger{},
        [&](const int h, const Real m) {
          mx[h] = m;
          mt[index_t(t) * H + h] = m;
        });
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int r) {
      const int e = r / H, h = r % H;
      p[(b + e) * H + h] = exp_of(p[(b + e) * H + h] - mx[h]);
    });
    team.team_barrier();
    sliced_reduce(
        team, n, H, Real(0), part, [&](const int e, const int h) { return p[(b + e) * H + h]; }, Plus{},
        [&](const int h, const Real l) { lt[index_t(t) * H + h] = l; });
    weighted_rows(
        team, hd, n, part, p, [&](const int e) { return b + e; }, v,
        [&](const int e) { return indices[b + e]; },
        [&](const int c, const Real acc) { ot[index_t(t) * D + c] = acc; });
  }
};

// Forward, one team per long row i, over its tiles in order: m = max_t m_t, w_t = exp(m_t - m)
// (into mt), l = sum_t w_t l_t, o(i) = (sum_t w_t o_t) / l, and the tiles' factors w_t / l (into lt).
template <class Exec, class Real>
struct LongForwardRows {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const int *rows, *tiles;  // (long rows), (long rows + 1)
  const Real* ot;           // (tiles, D)
  Real *mt, *lt;            // (tiles, H) each
  Real* o;                  // (V, D)

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int r = team.league_rank(), H = hd.heads, D = hd.dim;
    const index_t i = rows[r], t0 = tiles[r];
    const int T = tiles[r + 1] - tiles[r];
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + H));
    Real *part = scratch.data(), *hx = part + long_partials(hd);  // (S, W), (H)
    sliced_reduce(
        team, T, H, Kokkos::reduction_identity<Real>::max(), part,
        [&](const int u, const int h) { return mt[(t0 + u) * H + h]; }, Larger{},
        [&](const int h, const Real m) { hx[h] = m; });
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, T * H), [&](const int x) {
      const int u = x / H, h = x % H;
      mt[(t0 + u) * H + h] = exp_of(mt[(t0 + u) * H + h] - hx[h]);
    });
    team.team_barrier();
    sliced_reduce(
        team, T, H, Real(0), part,
        [&](const int u, const int h) { return mt[(t0 + u) * H + h] * lt[(t0 + u) * H + h]; }, Plus{},
        [&](const int h, const Real l) { hx[h] = Real(1) / l; });
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, T * H), [&](const int x) {
      const int u = x / H, h = x % H;
      lt[(t0 + u) * H + h] = mt[(t0 + u) * H + h] * hx[h];
    });
    const auto tile_u = [&](const int u) { return t0 + u; };
    weighted_rows(team, hd, T, part, mt, tile_u, ot, tile_u,
                  [&](const int c, const Real acc) { o[i * D + c] = acc * hx[hd.head_of(c)]; });
  }
};

// Forward, one team per tile: p *= the tile's factor w_t / l, completing the row softmax.
template <class Exec, class Real>
struct LongForwardScale {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  int heads;
  const index_t* offsets;   // (V + 1)
  const int *rows, *tiles;  // (long rows), (long rows + 1)
  int n_rows;
  const Real* ft;  // (tiles, H)
  Real* p;         // (nnz, H)

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int t = team.league_rank(), H = heads;
    const Tile tile = tile_of(offsets, rows, tiles, n_rows, t);
    const index_t b = tile.begin;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, int(tile.end - b) * H),
                         [&](const int r) { p[b * H + r] *= ft[index_t(t) * H + r % H]; });
  }
};

// Backward, one team per tile of the long rows: dp = <do(i), v(j)> per head into ds, and the
// tile's sum of p dp per head into pt.
template <class Exec, class Real>
struct LongBackwardTiles {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets;
  const int* indices;
  const int *rows, *tiles;
  int n_rows;
  const Real *v, *p, *dout;
  Real* ds;  // (nnz, H)
  Real* pt;  // (tiles, H)

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int t = team.league_rank(), H = hd.heads;
    const Tile tile = tile_of(offsets, rows, tiles, n_rows, t);
    const index_t i = tile.node, b = tile.begin;
    const int n = int(tile.end - b);
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + H));
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int r) {
      const int e = r / H, h = r % H;
      ds[(b + e) * H + h] = head_dot(hd, dout, i, v, index_t(indices[b + e]), h);
    });
    team.team_barrier();
    sliced_reduce(
        team, n, H, Real(0), scratch.data(),
        [&](const int e, const int h) { return p[(b + e) * H + h] * ds[(b + e) * H + h]; }, Plus{},
        [&](const int h, const Real s) { pt[index_t(t) * H + h] = s; });
  }
};

// Backward, one team per tile: <p, dp> of the tile's row from every tile's sum in tile order (each
// of the row's tile teams adds the same terms in the same order), ds = p (dp - <p, dp>), and the
// partial dq_t(c) = sum ds(head of c) k(j, c) into qt.
template <class Exec, class Real>
struct LongBackwardDs {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets;
  const int* indices;
  const int *rows, *tiles;
  int n_rows;
  const Real *k, *p, *pt;  // ..., (tiles, H)
  Real* ds;                // (nnz, H)
  Real* qt;                // (tiles, D); null: no dq

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int t = team.league_rank(), H = hd.heads, D = hd.dim;
    const Tile tile = tile_of(offsets, rows, tiles, n_rows, t);
    const index_t b = tile.begin, t0 = tile.first;
    const int n = int(tile.end - b);
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + H));
    Real *part = scratch.data(), *pd = part + long_partials(hd);  // (S, W), (H)
    sliced_reduce(
        team, tile.count, H, Real(0), part, [&](const int u, const int h) { return pt[(t0 + u) * H + h]; },
        Plus{}, [&](const int h, const Real s) { pd[h] = s; });
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n * H), [&](const int r) {
      const int e = r / H, h = r % H;
      ds[(b + e) * H + h] = p[(b + e) * H + h] * (ds[(b + e) * H + h] - pd[h]);
    });
    if (!qt) return;
    team.team_barrier();
    weighted_rows(
        team, hd, n, part, ds, [&](const int e) { return b + e; }, k,
        [&](const int e) { return indices[b + e]; },
        [&](const int c, const Real acc) { qt[index_t(t) * D + c] = acc; });
  }
};

// One team per long row (or column) i: out(i, c) = scale sum_t part(t, c) over its tiles in order.
template <class Exec, class Real>
struct LongSumTiles {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const int *rows, *tiles;  // (long rows), (long rows + 1)
  const Real* part;         // (tiles, D)
  Real* out;                // (V, D)
  Real scale;

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int r = team.league_rank(), D = hd.dim;
    const index_t i = rows[r], t0 = tiles[r];
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + hd.heads));
    sliced_reduce(
        team, tiles[r + 1] - tiles[r], D, Real(0), scratch.data(),
        [&](const int u, const int c) { return part[(t0 + u) * D + c]; }, Plus{},
        [&](const int c, const Real acc) { out[i * D + c] = acc * scale; });
  }
};

// Backward, one team per tile of the long columns (over the transpose pattern):
// dv_t(c) = sum p(s, head of c) do(i, c), dk_t(c) = sum ds(s, head of c) q(i, c), s = perm_t(entry).
template <class Exec, class Real>
struct LongColumnTiles {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Heads hd;
  const index_t* offsets_t;
  const int *indices_t, *perm_t;
  const int *cols, *tiles;  // (long columns), (long columns + 1)
  int n_cols;
  const Real *q, *p, *ds, *dout;
  Real *vt, *kt;  // (tiles, D) each; either may be null

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int t = team.league_rank(), H = hd.heads, D = hd.dim;
    const Tile tile = tile_of(offsets_t, cols, tiles, n_cols, t);
    const index_t b = tile.begin;
    const int n = int(tile.end - b);
    LongScratch<Exec, Real> scratch(team.team_scratch(0), std::size_t(long_partials(hd) + H));
    const auto slot = [&](const int e) { return perm_t[b + e]; };
    const auto row = [&](const int e) { return indices_t[b + e]; };
    if (vt)
      weighted_rows(team, hd, n, scratch.data(), p, slot, dout, row,
                    [&](const int c, const Real acc) { vt[index_t(t) * D + c] = acc; });
    if (kt)
      weighted_rows(team, hd, n, scratch.data(), ds, slot, q, row,
                    [&](const int c, const Real acc) { kt[index_t(t) * D + c] = acc; });
  }
};

}  // namespace masked_attention_impl

template <class Exec, class Real>
void masked_attention_forward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                              const Real* q, const Real* k, const Real* v, Real* p, Real* o,
                              Real* long_scratch) {
  namespace impl = masked_attention_impl;
  ScopedRegion region("surro::op::masked_attention::forward");
  masked_attention_validate(cfg);
  if (mask.nodes == 0) return;
  const double V = double(mask.nodes), D = cfg.dim, H = cfg.heads, nl = double(mask.long_row_nnz);
  const double nnz = double(mask.nnz) - nl;  // the row kernel's entries
  // q and o once, k and v once per entry (gathered rows), p written, the CSR read.
  profile::add_work("surro::op::masked_attention::forward",
                    (2 * V * D + 2 * nnz * D + nnz * H) * sizeof(Real) + nnz * 4 + V * 8, 4 * nnz * D);
  // The long rows' tiles: k and v gathered, p written and rewritten, the columns read.
  profile::add_work("surro::op::masked_attention::forward_long::tiles",
                    (2 * nl * D + 2 * nl * H) * sizeof(Real) + nl * 4, 4 * nl * D);
  const impl::Heads hd{cfg.dim, cfg.heads, cfg.head_dim(), cfg.layout == HeadLayout::blocked};
  const Real scale = Real(1.0 / std::sqrt(double(cfg.head_dim())));
  const index_t skip = impl::long_cut(mask);
  Kokkos::parallel_for("surro::op::masked_attention::forward", impl::row_policy(exec, mask.nodes),
                       impl::Forward<Exec, Real>{hd, mask.offsets, mask.indices, q, k, v, p, o, scale, skip});
  if (!mask.long_rows || mask.n_long_rows == 0) return;
  SURRO_REQUIRE(long_scratch, "masked_attention_forward: long_scratch: expected "
                                  << masked_attention_long_scratch(cfg, mask) << " scalars, got null");
  const index_t T = mask.n_row_tiles;
  const int rows = int(mask.n_long_rows);
  const std::size_t team = impl::long_team_bytes<Exec, Real>(hd);
  Real* ot = long_scratch;                     // (tiles, D)
  Real* mt = ot + std::size_t(T) * cfg.dim;    // (tiles, H)
  Real* lt = mt + std::size_t(T) * cfg.heads;  // (tiles, H)
  Kokkos::parallel_for(
      "surro::op::masked_attention::forward_long::tiles", impl::long_policy(exec, T, team),
      impl::LongForwardTiles<Exec, Real>{hd, mask.offsets, mask.indices, mask.long_rows, mask.long_row_tiles,
                                         rows, q, k, v, p, ot, mt, lt, scale});
  Kokkos::parallel_for(
      "surro::op::masked_attention::forward_long::rows", impl::long_policy(exec, rows, team),
      impl::LongForwardRows<Exec, Real>{hd, mask.long_rows, mask.long_row_tiles, ot, mt, lt, o});
  Kokkos::parallel_for("surro::op::masked_attention::forward_long::scale", impl::long_policy(exec, T, 0),
                       impl::LongForwardScale<Exec, Real>{cfg.heads, mask.offsets, mask.long_rows,
                                                          mask.long_row_tiles, rows, lt, p});
}

template <class Exec, class Real>
void masked_attention_backward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                               const Real* q, const Real* k, const Real* v, const Real* p, const Real* dout,
                               Real* ds, Real* dq, Real* dk, Real* dv, Real* long_scratch) {
  namespace impl = masked_attention_impl;
  ScopedRegion region("surro::op::masked_attention::backward");
  masked_attention_validate(cfg);
  if (mask.nodes == 0) return;
  const impl::Heads hd{cfg.dim, cfg.heads, cfg.head_dim(), cfg.layout == HeadLayout::blocked};
  const Real scale = Real(1.0 / std::sqrt(double(cfg.head_dim())));
  const double V = double(mask.nodes), D = cfg.dim, H = cfg.heads;
  const double nl = double(mask.long_row_nnz), nlc = double(mask.long_col_nnz);
  const double nnz = double(mask.nnz) - nl, nnzc = double(mask.nnz) - nlc;  // the row kernels' entries
  const index_t skip = impl::long_cut(mask);
  const bool tiled = mask.long_rows && (mask.n_long_rows > 0 || mask.n_long_cols > 0);
  SURRO_REQUIRE(!tiled || long_scratch, "masked_attention_backward: long_scratch: expected "
                                            << masked_attention_long_scratch(cfg, mask)
                                            << " scalars, got null");
  const std::size_t team = impl::long_team_bytes<Exec, Real>(hd);
  if (dq || dk) {
    profile::add_work("surro::op::masked_attention::backward_rows",
                      (2 * V * D + 2 * nnz * D + 2 * nnz * H) * sizeof(Real) + nnz * 4 + V * 8, 4 * nnz * D);
    // The long rows' tiles: v gathered, p read, ds written (tiles); k gathered, p read, ds rewritten (ds).
    profile::add_work("surro::op::masked_attention::backward_rows_long::tiles",
                      (nl * D + 2 * nl * H) * sizeof(Real) + nl * 4, 2 * nl * D);
    profile::add_work("surro::op::masked_attention::backward_rows_long::ds",
                      (nl * D + 3 * nl * H) * sizeof(Real) + nl * 4, 2 * nl * D);
    Kokkos::parallel_for(
        "surro::op::masked_attention::backward_rows", impl::row_policy(exec, mask.nodes),
        impl::BackwardRow<Exec, Real>{hd, mask.offsets, mask.indices, k, v, p, dout, ds, dq, scale, skip});
    if (mask.long_rows && mask.n_long_rows > 0) {
      const index_t T = mask.n_row_tiles;
      const int rows = int(mask.n_long_rows);
      Real* qt = long_scratch;                   // (tiles, D)
      Real* pt = qt + std::size_t(T) * cfg.dim;  // (tiles, H)
      Kokkos::parallel_for(
          "surro::op::masked_attention::backward_rows_long::tiles", impl::long_policy(exec, T, team),
          impl::LongBackwardTiles<Exec, Real>{hd, mask.offsets, mask.indices, mask.long_rows,
                                              mask.long_row_tiles, rows, v, p, dout, ds, pt});
      Kokkos::parallel_for(
          "surro::op::masked_attention::backward_rows_long::ds", impl::long_policy(exec, T, team),
          impl::LongBackwardDs<Exec, Real>{hd, mask.offsets, mask.indices, mask.long_rows,
                                           mask.long_row_tiles, rows, k, p, pt, ds, dq ? qt : nullptr});
      if (dq)
        Kokkos::parallel_for(
            "surro::op::masked_attention::backward_rows_long::dq", impl::long_policy(exec, rows, team),
            impl::LongSumTiles<Exec, Real>{hd, mask.long_rows, mask.long_row_tiles, qt, dq, scale});
    }
  }
  if (dk || dv) {
    SURRO_REQUIRE(
        mask.offsets_t && mask.indices_t && mask.perm_t,
        "masked_attention_backward: mask: expected the transpose pattern (offsets_t, indices_t, perm_t)");
    profile::add_work("surro::op::masked_attention::backward_columns",
                      (2 * V * D + 2 * nnzc * D + 2 * nnzc * H) * sizeof(Real) + nnzc * 8 + V * 8,
                      4 * nnzc * D);
    // The long columns' tiles: q and do gathered, p and ds read through perm_t.
    profile::add_work("surro::op::masked_attention::backward_columns_long::tiles",
                      (2 * nlc * D + 2 * nlc * H) * sizeof(Real) + nlc * 8, 4 * nlc * D);
    Kokkos::parallel_for("surro::op::masked_attention::backward_columns", impl::row_policy(exec, mask.nodes),
                         impl::BackwardColumn<Exec, Real>{hd, mask.offsets_t, mask.indices_t, mask.perm_t, q,
                                                          p, ds, dout, dk, dv, scale, skip});
    if (mask.long_cols && mask.n_long_cols > 0) {
      // Runs after every row's ds is final (the row kernels above, short and long, on one instance).
      const index_t T = mask.n_col_tiles;
      const int cols = int(mask.n_long_cols);
      Real* vt = long_scratch;                   // (tiles, D)
      Real* kt = vt + std::size_t(T) * cfg.dim;  // (tiles, D)
      Kokkos::parallel_for("surro::op::masked_attention::backward_columns_long::tiles",
                           impl::long_policy(exec, T, team),
                           impl::LongColumnTiles<Exec, Real>{hd, mask.offsets_t, mask.indices_t, mask.perm_t,
                                                             mask.long_cols, mask.long_col_tiles, cols, q, p,
                                                             ds, dout, dv ? vt : nullptr, dk ? kt : nullptr});
      if (dv)
        Kokkos::parallel_for(
            "surro::op::masked_attention::backward_columns_long::dv", impl::long_policy(exec, cols, team),
            impl::LongSumTiles<Exec, Real>{hd, mask.long_cols, mask.long_col_tiles, vt, dv, Real(1)});
      if (dk)
        Kokkos::parallel_for(
            "surro::op::masked_attention::backward_columns_long::dk", impl::long_policy(exec, cols, team),
            impl::LongSumTiles<Exec, Real>{hd, mask.long_cols, mask.long_col_tiles, kt, dk, scale});
    }
  }
}

#define SURRO_X(Exec, Real)                                                                                \
  template void masked_attention_forward<Exec, Real>(const Exec&, const MaskedAttentionCfg&,               \
                                                     const AttentionMask&, const Real*, const Real*,       \
                                                     const Real*, Real*, Real*, Real*);                    \
  template void masked_attention_backward<Exec, Real>(                                                     \
      const Exec&, const MaskedAttentionCfg&, const AttentionMask&, const Real*, const Real*, const Real*, \
      const Real*, const Real*, Real*, Real*, Real*, Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
