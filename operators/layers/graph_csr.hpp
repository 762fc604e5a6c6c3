#pragma once
// Host construction of the index structures the graph layers read (masked_attention, graph_gather).
// Host-only, no Kokkos: the caller uploads the vectors once per graph batch.
//
// A mask or graph is a CSR by receiver: row i (query, receiver) holds the columns j (key, sender)
// in indices[offsets[i] .. offsets[i + 1]), sorted ascending, without duplicates. A batch of graphs
// is one block-diagonal CSR (column indices offset by the nodes of the graphs before).
//
// The backward passes sum over columns deterministically, without atomics, through the transpose
// pattern (CSR by sender) and a permutation from transpose slots to forward slots.
#include "core/types.hpp"

#include <vector>

namespace surro::op {

struct HostCsr {
  std::vector<index_t> offsets;  // (rows + 1), offsets[0] = 0, non-decreasing
  std::vector<int> indices;      // (nnz)
  index_t rows() const { return index_t(offsets.size()) - 1; }
  index_t nnz() const { return index_t(indices.size()); }
};

// Throws unless a is a CSR of `cols` columns with sorted, unique, in-range columns per row.
// `what` names the structure in the message.
void csr_validate(const HostCsr& a, index_t cols, const char* what);

// Stable grouping of n items by key (keys in [0, groups)): result.offsets (groups + 1) and
// result.indices (n) = the items of group g, ascending, in [offsets[g], offsets[g + 1]). For a
// graph's edge list, grouping by receivers gives the edges into each node (the scatter-sum
// structure), by senders the edges out of each node.
HostCsr group_by_key(index_t groups, const std::vector<int>& key);

// The transpose pattern of a (rows x cols) CSR: t.offsets (cols + 1), t.indices (nnz) the rows,
// ascending per column; perm (nnz): perm[s] = the slot of a holding the entry of transpose slot s.
HostCsr csr_transpose(const HostCsr& a, index_t cols, std::vector<int>& perm);

}  // namespace surro::op
