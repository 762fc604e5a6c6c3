#pragma once
// masked_attention: multi-head attention restricted to a sparse mask (graph-physics' masked MHA
// core, between its q/k/v linears and its output projection).
//
// Nodes are both queries and keys. The mask is a CSR by receiver: row i (query) holds the keys j
// it attends to, indices[offsets[i] .. offsets[i + 1]), sorted, unique (graph_csr.hpp; a batch of
// graphs is one block-diagonal CSR). For every row i, head h, and entry slot s = (i, j):
//
//   score(s, h) = <q(i, h), k(j, h)> / sqrt(Dh)
//   p(s, h)     = exp(score(s, h) - m(i, h)) / sum_{s' in row i} exp(score(s', h) - m(i, h)),
//                 m(i, h) = max over the row's scores (the softmax runs over the row's entries only)
//   o(i, h)     = sum_{s in row i} p(s, h) v(j, h)
//
// where x(i, h) is head h's Dh channels of x(i, :), D = H Dh. A row with no entries outputs zeros.
// Everything (scores, exponentials, sums) is computed in Real: float runs accumulate in float,
// with the max subtracted, so every exponential is <= 1 and the row sum lies in [1, row length].
//
// Head layouts (the channel of head h, lane c < Dh):
//   blocked      h Dh + c   (contiguous head blocks; the default)
//   interleaved  c H + h    (graph-physics' `view(N, head_dim, H)`: the head index varies fastest)
// The two differ by a permutation of the q/k/v weight rows and the projection's columns.
//
// Forward saves p (nnz, H). Backward (ds is caller scratch (nnz, H)):
//   dv(j) = sum_{i: j in row i} p(s, h) do(i)                  (over the transpose pattern)
//   dp(s, h) = <do(i, h), v(j, h)>,  ds(s, h) = p (dp - sum_{s' in row i} p(s', h) dp(s', h))
//   dq(i) = sum_{s in row i} ds k(j) / sqrt(Dh),   dk(j) = sum_{i: j in row i} ds q(i) / sqrt(Dh)
// The column sums read the CSR by sender (offsets_t, indices_t) and perm_t (transpose slot ->
// forward slot) from csr_transpose: every output element is one fixed-order sum, no atomics.
//
// Kernels: one team per row (forward, dq) or per column (dk, dv); threads over (entry, head)
// pairs for the dot products, over heads for the softmax, over channels for the weighted sums.
// A device team is one warp, right for rows of a few to a few tens of entries.
//
// Long rows. A global node's row (and column) spans its whole mesh: 100k entries that one team
// would walk while the GPU idles. When the mask lists the rows and columns longer than
// mask.long_row (long_rows, long_cols), the row kernels skip them and the tiled kernels take them:
// a long row of n entries is cut into T = ceil(n / tile) tiles (GraphBatch: kLongTile) of
// consecutive entries, balanced (lengths differ by at most one; boundaries reduce::chunk_begin(n,
// T, t), from n alone), one team per tile, and the tiles' partial results are combined per row in
// tile order:
//   forward   tile t: raw scores, the tile max m_t(h), x = exp(score - m_t) into p, l_t(h) = sum x,
//                     o_t = sum x v;
//             row:    m = max_t m_t, w_t = exp(m_t - m), l = sum_t w_t l_t, o = (sum_t w_t o_t) / l;
//             tile t: p *= w_t / l   (the row softmax, equal to the row kernel's up to round-off)
//   backward  tile t: dp into ds, the tile's sum p dp per head;
//             tile t: <p, dp>_row = the tiles' sums in tile order (every tile team adds the same
//                     terms in the same order), ds = p (dp - <p, dp>_row), dq_t = sum ds k;
//             row:    dq = sum_t dq_t / sqrt(Dh);
//   columns   tile t: dv_t = sum p do, dk_t = sum ds q over the tile's transpose entries;
//             column: dv = sum_t dv_t, dk = sum_t dk_t / sqrt(Dh)  (after every row's ds is final).
// Every sum inside a team runs over a fixed number of slices, a function of the sum's width (H or
// D) only, each slice in entry order, the slices then in slice order; so the order of every sum
// depends on the mask alone -- not on the team size, the OpenMP thread count or the scheduling --
// and a run reproduces its bits (no atomics). The partials live in the caller's long_scratch,
// masked_attention_long_scratch(cfg, mask) scalars: max(row tiles (D + 2H), column tiles 2 D).
// Since every long row holds more than long_row entries, the tiles of any mask of nnz entries over
// V nodes number at most nnz / tile + min(V, nnz / (long_row + 1)), the bound a caller plans for.
#include "core/types.hpp"

#include <cstddef>
#include <vector>

namespace surro::op {

enum class HeadLayout { blocked, interleaved };

struct MaskedAttentionCfg {
  int dim = 0;    // D
  int heads = 1;  // H; Dh = D / H
  HeadLayout layout = HeadLayout::blocked;
  int head_dim() const { return heads > 0 ? dim / heads : 0; }
};

// Rows with more entries than this take the tiled kernels (where the mask lists them), in tiles of
// at most kLongTile entries.
inline constexpr index_t kLongRow = 128;
inline constexpr index_t kLongTile = 256;

// Device pointers of one (block-diagonal) mask over V nodes; the transpose is read by backward only.
struct AttentionMask {
  index_t nodes = 0;                   // V
  index_t nnz = 0;                     // entries
  const index_t* offsets = nullptr;    // (V + 1) CSR by receiver (query)
  const int* indices = nullptr;        // (nnz) senders (keys), sorted per row
  const index_t* offsets_t = nullptr;  // (V + 1) CSR by sender (transpose pattern)
  const int* indices_t = nullptr;      // (nnz) receivers, sorted per column
  const int* perm_t = nullptr;         // (nnz) transpose slot -> forward slot
  // Optional, all or none: exactly the rows (of offsets) and the columns (of offsets_t) with more
  // than long_row entries, ascending (long_rows_of), and the prefix sums of their tile counts
  // (long_tiles_of): long row r owns tiles [long_row_tiles[r], long_row_tiles[r + 1]). n_row_tiles
  // and n_col_tiles are the prefixes' last values, on the host. Unset: one kernel does every row.
  index_t long_row = kLongRow;
  const int* long_rows = nullptr;       // (n_long_rows)
  const int* long_row_tiles = nullptr;  // (n_long_rows + 1)
  index_t n_long_rows = 0, n_row_tiles = 0;
  const int* long_cols = nullptr;       // (n_long_cols)
  const int* long_col_tiles = nullptr;  // (n_long_cols + 1)
  index_t n_long_cols = 0, n_col_tiles = 0;
  // The entries of the long rows and of the long columns (long_entries_of), on the host: the
  // profile's work counts of the row and the tiled kernels (0 when unknown: all go to the rows).
  index_t long_row_nnz = 0, long_col_nnz = 0;
};

// The rows of a CSR with offsets (rows + 1) that hold more than long_row entries, ascending, into
// out (cleared first; no allocation once out has the capacity).
void long_rows_of(const std::vector<index_t>& offsets, index_t long_row, std::vector<int>& out);

// The prefix sums (rows.size() + 1) of the tile counts ceil(n / tile) of the CSR rows `rows` (n
// entries each, n > 0), into out (cleared first; no allocation once out has the capacity).
// Error(usage) unless tile > 0.
void long_tiles_of(const std::vector<index_t>& offsets, const std::vector<int>& rows, index_t tile,
                   std::vector<int>& out);

// The entries of the CSR rows `rows` (offsets: rows + 1 of the whole CSR).
index_t long_entries_of(const std::vector<index_t>& offsets, const std::vector<int>& rows);

// Scalars of long_scratch that forward and backward need for this mask (0 without long rows).
std::size_t masked_attention_long_scratch(const MaskedAttentionCfg& cfg, const AttentionMask& mask);
// An upper bound of it for every mask of `nodes` rows and `nnz` entries whose long rows are cut at
// long_row and tiled by `tile` (GraphBatch's: kLongRow, kLongTile): what a caller plans for a capacity.
std::size_t masked_attention_long_scratch(const MaskedAttentionCfg& cfg, index_t nodes, index_t nnz,
                                          index_t long_row = kLongRow, index_t tile = kLongTile);

// Throws unless dim > 0, heads > 0 and heads divides dim.
void masked_attention_validate(const MaskedAttentionCfg& cfg);

// o must not alias q, k or v. long_scratch: masked_attention_long_scratch(cfg, mask) scalars (may
// be null when that is 0).
template <class Exec, class Real>
void masked_attention_forward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                              const Real* q /* (V, D) */, const Real* k /* (V, D) */,
                              const Real* v /* (V, D) */, Real* p /* (nnz, H) saved */, Real* o /* (V, D) */,
                              Real* long_scratch /* (masked_attention_long_scratch) */);

// dq, dk, dv overwritten (each may be null); ds and long_scratch are scratch (long_scratch as in
// forward). None may alias an input.
template <class Exec, class Real>
void masked_attention_backward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                               const Real* q /* (V, D) */, const Real* k /* (V, D) */,
                               const Real* v /* (V, D) */, const Real* p /* (nnz, H) saved */,
                               const Real* dout /* (V, D) */, Real* ds /* (nnz, H) scratch */,
                               Real* dq /* (V, D) */, Real* dk /* (V, D) */, Real* dv /* (V, D) */,
                               Real* long_scratch /* (masked_attention_long_scratch) */);

}  // namespace surro::op
