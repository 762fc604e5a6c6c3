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
// A device team is one warp, right for rows of a few to a few tens of entries. Rows (and columns)
// longer than mask.long_row entries -- a global node's row spans its whole mesh -- would leave one
// warp walking thousands of entries while the GPU idles; when the mask lists them (long_rows,
// long_cols) the row kernels skip them and a second kernel takes them with wide teams: team
// reductions for the softmax, the weighted sums split into slices of entries whose partial sums
// are added in slice order. Every sum still has one fixed order for a given team size, so results
// stay deterministic; they differ from the one-kernel path by round-off only.
#include "core/types.hpp"

#include <vector>

namespace surro::op {

enum class HeadLayout { blocked, interleaved };

struct MaskedAttentionCfg {
  int dim = 0;    // D
  int heads = 1;  // H; Dh = D / H
  HeadLayout layout = HeadLayout::blocked;
  int head_dim() const { return heads > 0 ? dim / heads : 0; }
};

// Rows with more entries than this take the wide-team kernels (where the mask lists them).
inline constexpr index_t kLongRow = 128;

// Device pointers of one (block-diagonal) mask over V nodes; the transpose is read by backward only.
struct AttentionMask {
  index_t nodes = 0;                   // V
  index_t nnz = 0;                     // entries
  const index_t* offsets = nullptr;    // (V + 1) CSR by receiver (query)
  const int* indices = nullptr;        // (nnz) senders (keys), sorted per row
  const index_t* offsets_t = nullptr;  // (V + 1) CSR by sender (transpose pattern)
  const int* indices_t = nullptr;      // (nnz) receivers, sorted per column
  const int* perm_t = nullptr;         // (nnz) transpose slot -> forward slot
  // Optional, both or neither: exactly the rows (of offsets) and the columns (of offsets_t) with more
  // than long_row entries, ascending (long_rows_of). Unset: one kernel does every row.
  index_t long_row = kLongRow;
  const int* long_rows = nullptr;  // (n_long_rows)
  index_t n_long_rows = 0;
  const int* long_cols = nullptr;  // (n_long_cols)
  index_t n_long_cols = 0;
};

// The rows of a CSR with offsets (rows + 1) that hold more than long_row entries, ascending, into
// out (cleared first; no allocation once out has the capacity).
void long_rows_of(const std::vector<index_t>& offsets, index_t long_row, std::vector<int>& out);

// Throws unless dim > 0, heads > 0 and heads divides dim.
void masked_attention_validate(const MaskedAttentionCfg& cfg);

// o must not alias q, k or v.
template <class Exec, class Real>
void masked_attention_forward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                              const Real* q /* (V, D) */, const Real* k /* (V, D) */,
                              const Real* v /* (V, D) */, Real* p /* (nnz, H) saved */, Real* o /* (V, D) */);

// dq, dk, dv overwritten (each may be null); ds is scratch. None may alias an input.
template <class Exec, class Real>
void masked_attention_backward(const Exec& exec, const MaskedAttentionCfg& cfg, const AttentionMask& mask,
                               const Real* q /* (V, D) */, const Real* k /* (V, D) */,
                               const Real* v /* (V, D) */, const Real* p /* (nnz, H) saved */,
                               const Real* dout /* (V, D) */, Real* ds /* (nnz, H) scratch */,
                               Real* dq /* (V, D) */, Real* dk /* (V, D) */, Real* dv /* (V, D) */);

}  // namespace surro::op
