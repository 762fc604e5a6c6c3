#include "operators/layers/graph_csr.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <limits>

namespace surro::op {

void csr_validate(const HostCsr& a, index_t cols, const char* what) {
  SURRO_REQUIRE(!a.offsets.empty() && a.offsets[0] == 0,
                what << ": offsets: expected rows + 1 entries starting at 0");
  SURRO_REQUIRE(a.offsets.back() == a.nnz(),
                what << ": offsets: last entry " << a.offsets.back() << ", expected nnz = " << a.nnz());
  SURRO_REQUIRE(a.nnz() <= std::numeric_limits<int>::max(),
                what << ": nnz = " << a.nnz() << ": expected at most 2^31 - 1 (int slot numbers)");
  for (index_t i = 0; i < a.rows(); ++i) {
    SURRO_REQUIRE(a.offsets[i] <= a.offsets[i + 1],
                  what << ": offsets[" << i + 1 << "] = " << a.offsets[i + 1] << ": expected >= offsets[" << i
                       << "] = " << a.offsets[i]);
    for (index_t s = a.offsets[i]; s < a.offsets[i + 1]; ++s) {
      const int j = a.indices[s];
      SURRO_REQUIRE(j >= 0 && j < cols,
                    what << ": row " << i << ": column " << j << ": expected in [0, " << cols << ")");
      SURRO_REQUIRE(s == a.offsets[i] || a.indices[s - 1] < j,
                    what << ": row " << i << ": columns not sorted ascending and unique at " << j);
    }
  }
}

HostCsr group_by_key(index_t groups, const std::vector<int>& key) {
  SURRO_REQUIRE(index_t(key.size()) <= std::numeric_limits<int>::max(),
                "group_by_key: " << key.size() << " items: expected at most 2^31 - 1");
  HostCsr g;
  g.offsets.assign(groups + 1, 0);
  for (std::size_t n = 0; n < key.size(); ++n) {
    SURRO_REQUIRE(key[n] >= 0 && key[n] < groups,
                  "group_by_key: key[" << n << "] = " << key[n] << ": expected in [0, " << groups << ")");
    ++g.offsets[key[n] + 1];
  }
  for (index_t k = 0; k < groups; ++k) g.offsets[k + 1] += g.offsets[k];
  std::vector<index_t> next(g.offsets.begin(), g.offsets.end() - 1);
  g.indices.resize(key.size());
  for (std::size_t n = 0; n < key.size(); ++n) g.indices[next[key[n]]++] = int(n);
  return g;
}

HostCsr csr_transpose(const HostCsr& a, index_t cols, std::vector<int>& perm) {
  csr_validate(a, cols, "csr_transpose");
  HostCsr t = group_by_key(cols, a.indices);  // t.indices: forward slots grouped by column, ascending
  perm = t.indices;
  // Slots ascend with the row, and grouping is stable, so each transpose row comes out sorted.
  std::vector<int> row_of(a.nnz());
  for (index_t i = 0; i < a.rows(); ++i)
    for (index_t s = a.offsets[i]; s < a.offsets[i + 1]; ++s) row_of[s] = int(i);
  for (index_t s = 0; s < t.nnz(); ++s) t.indices[s] = row_of[perm[s]];
  return t;
}

}  // namespace surro::op
