// Graph layers (operators/layers: rms_norm, masked_attention, graph_gather, graph_csr): each against
// a naive double reference on every space in RealCases, its gradients against the double host run,
// and a central finite-difference check in double of every input and parameter (harness.hpp states
// that tolerance).
//
// Float tolerances (u = the Real's unit roundoff, normwise over random data in [-1, 1]): an output
// that is a K-term sum of products carries at most gamma_K = K u relative error per term (Higham
// 3.5); we allow 8 u (K + 2) with K the longest reduction: D for rms_norm; for attention Dh (the
// score) + n (the row's softmax sum and weighted sum), where a score error delta changes p by a
// relative delta (|score| <= Dh here). Gradients add one more reduction of the same lengths: 16 u (K + 2).
// Double runs use the same formulas with the double u.
#include "core/error.hpp"
#include "operators/harness.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/gated_mlp.hpp"
#include "operators/layers/graph_csr.hpp"
#include "operators/layers/graph_gather.hpp"
#include "operators/layers/masked_attention.hpp"
#include "operators/layers/mesh_rope.hpp"
#include "operators/layers/rms_norm.hpp"
#include "operators/params.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace surro;
using namespace surro::test::layers;
using surro::test::epsilon;

namespace graph_layers_test {

using Vars = std::vector<std::vector<double>>;
constexpr double kGarbage = 1e30;  // pre-fills outputs: "overwritten" means none of it survives

std::vector<double> minus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
  return a;
}

std::vector<double> cat(std::vector<double> a, const std::vector<double>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

double norm2(const std::vector<double>& a) {
  return std::sqrt(dot(a, a));
}

// ||g - ref|| <= tol (||ref|| + sqrt(n)) per argument: overwritten gradients are compared
// relative to their size; accumulated ones carry u per element of the random initial values.
void require_close(const Vars& g, const Vars& ref, double tol, const std::vector<const char*>& names) {
  REQUIRE(g.size() == ref.size());
  for (std::size_t a = 0; a < g.size(); ++a) {
    INFO("gradient of " << names[a]);
    REQUIRE(g[a].size() == ref[a].size());
    REQUIRE(norm2(minus(g[a], ref[a])) <= tol * (norm2(ref[a]) + std::sqrt(double(g[a].size()))));
  }
}

// The CSR of adjacency sets: row i holds adj[i] in ascending order.
op::HostCsr csr_of(const std::vector<std::set<int>>& adj) {
  op::HostCsr a;
  a.offsets.push_back(0);
  for (const auto& row : adj) {
    a.indices.insert(a.indices.end(), row.begin(), row.end());
    a.offsets.push_back(index_t(a.indices.size()));
  }
  return a;
}

// A random undirected graph on V nodes without self loops (edge probability `prob`), both
// directions stored; node V - 1 isolated (a row with no entries), node V - 2 joined to node 0
// only (a row with one entry). two_hop: the support of A + A^2 without the diagonal (denser rows,
// as the k-hop masks).
op::HostCsr random_graph(int V, double prob, unsigned seed, bool two_hop) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::set<int>> adj(V);
  for (int i = 0; i < V - 2; ++i)
    for (int j = i + 1; j < V - 2; ++j)
      if (u(gen) < prob) adj[i].insert(j), adj[j].insert(i);
  if (two_hop) {
    auto a2 = adj;
    for (int i = 0; i < V; ++i)
      for (int j : adj[i])
        for (int k : adj[j])
          if (k != i) a2[i].insert(k);
    adj = a2;
  }
  adj[V - 2].insert(0);
  adj[0].insert(V - 2);
  return csr_of(adj);
}

// The block-diagonal CSR of two graphs (b's nodes after a's).
op::HostCsr block_diagonal(const op::HostCsr& a, const op::HostCsr& b) {
  op::HostCsr c = a;
  const int shift = int(a.rows());
  for (index_t i = 0; i < b.rows(); ++i) {
    for (index_t s = b.offsets[i]; s < b.offsets[i + 1]; ++s) c.indices.push_back(b.indices[s] + shift);
    c.offsets.push_back(index_t(c.indices.size()));
  }
  return c;
}

int max_row(const op::HostCsr& a) {
  index_t m = 0;
  for (index_t i = 0; i < a.rows(); ++i) m = std::max(m, a.offsets[i + 1] - a.offsets[i]);
  return int(m);
}

template <class Exec, class T>
View1<T, typename Exec::memory_space> dev(const std::vector<T>& v, const char* label) {
  return surro::test::to_device<Exec>(v.empty() ? std::vector<T>(1) : v, label);
}

// ---------------------------------------------------------------- rms_norm

template <class Exec, class Real>
struct RmsNormRun {
  using Buf = View1<Real, typename Exec::memory_space>;
  Exec exec;
  op::RmsNormCfg cfg;
  index_t R;
  Buf rms;
  Buf partial;  // empty: one team per channel for dscale; else the column-sum path
  RmsNormRun(int D, index_t rows, bool column_sums = false)
      : cfg{D},
        R(rows),
        rms("rms", rows),
        partial("partial", column_sums ? op::column_sum_scratch(rows, D) : 0) {}

  std::vector<double> forward(const Vars& v) {
    auto x = upload<Exec, Real>(v[0], "x"), s = upload<Exec, Real>(v[1], "scale");
    auto y = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "y");
    op::rms_norm_forward(exec, cfg, R, s.data(), x.data(), y.data(), rms.data());
    exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);
    auto x = upload<Exec, Real>(v[0], "x"), s = upload<Exec, Real>(v[1], "scale");
    auto dy = upload<Exec, Real>(r, "dy");
    const auto ds0 = random_vector(v[1].size(), 13);
    auto ds = upload<Exec, Real>(ds0, "dscale");
    auto dx = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "dx");
    op::rms_norm_backward(exec, cfg, R, s.data(), x.data(), rms.data(), dy.data(), ds.data(), dx.data(),
                          partial.size() ? partial.data() : nullptr);
    exec.fence();
    return {download(dx), minus(download(ds), ds0)};
  }
};

std::vector<double> rms_norm_reference(int D, const Vars& v) {
  std::vector<double> y(v[0].size());
  for (std::size_t r = 0; r < v[0].size() / D; ++r) {
    double ss = 0;
    for (int c = 0; c < D; ++c) ss += v[0][r * D + c] * v[0][r * D + c];
    const double d = std::sqrt(ss) / std::sqrt(double(D)) + 1e-8;
    for (int c = 0; c < D; ++c) y[r * D + c] = v[1][c] * v[0][r * D + c] / d;
  }
  return y;
}

// ---------------------------------------------------------------- masked_attention

struct Mask {
  op::HostCsr a, t;
  std::vector<int> perm;
  explicit Mask(op::HostCsr csr) : a(std::move(csr)) { t = op::csr_transpose(a, a.rows(), perm); }
  index_t V() const { return a.rows(); }
};

template <class Exec, class Real>
struct AttentionRun {
  using mem = typename Exec::memory_space;
  using Buf = View1<Real, mem>;
  Exec exec;
  op::MaskedAttentionCfg cfg;
  index_t V, nnz;
  View1<index_t, mem> off, off_t;
  View1<int, mem> idx, idx_t, perm;
  index_t long_row;  // < 0: one kernel for every row; else rows/columns longer than it are tiled
  std::vector<int> rows, cols, row_tiles, col_tiles;  // long_rows_of, long_tiles_of
  index_t row_nnz = 0, col_nnz = 0;                   // long_entries_of
  View1<int, mem> long_rows, long_cols, long_row_tiles, long_col_tiles;
  Buf p, ds;
  Buf scratch;  // masked_attention_long_scratch, pre-filled with garbage
  AttentionRun(op::MaskedAttentionCfg c, const Mask& m, index_t long_row_ = -1, index_t tile = op::kLongTile)
      : cfg(c),
        V(m.V()),
        nnz(m.a.nnz()),
        off(dev<Exec>(m.a.offsets, "offsets")),
        off_t(dev<Exec>(m.t.offsets, "offsets_t")),
        idx(dev<Exec>(m.a.indices, "indices")),
        idx_t(dev<Exec>(m.t.indices, "indices_t")),
        perm(dev<Exec>(m.perm, "perm_t")),
        long_row(long_row_),
        p("p", std::max<index_t>(1, nnz * c.heads)),
        ds("ds", std::max<index_t>(1, nnz * c.heads)) {
    if (long_row >= 0) {
      op::long_rows_of(m.a.offsets, long_row, rows);
      op::long_rows_of(m.t.offsets, long_row, cols);
      op::long_tiles_of(m.a.offsets, rows, tile, row_tiles);
      op::long_tiles_of(m.t.offsets, cols, tile, col_tiles);
      row_nnz = op::long_entries_of(m.a.offsets, rows);
      col_nnz = op::long_entries_of(m.t.offsets, cols);
      long_rows = dev<Exec>(rows, "long_rows");
      long_cols = dev<Exec>(cols, "long_cols");
      long_row_tiles = dev<Exec>(row_tiles, "long_row_tiles");
      long_col_tiles = dev<Exec>(col_tiles, "long_col_tiles");
    }
    scratch = Buf("long_scratch", std::max<std::size_t>(1, op::masked_attention_long_scratch(cfg, mask())));
    Kokkos::deep_copy(scratch, Real(kGarbage));
  }
  op::AttentionMask mask() const {
    op::AttentionMask a{V, nnz, off.data(), idx.data(), off_t.data(), idx_t.data(), perm.data()};
    if (long_row >= 0) {
      a.long_row = long_row;
      a.long_rows = long_rows.data();
      a.long_row_tiles = long_row_tiles.data();
      a.n_long_rows = index_t(rows.size());
      a.n_row_tiles = row_tiles.back();
      a.long_cols = long_cols.data();
      a.long_col_tiles = long_col_tiles.data();
      a.n_long_cols = index_t(cols.size());
      a.n_col_tiles = col_tiles.back();
      a.long_row_nnz = row_nnz;
      a.long_col_nnz = col_nnz;
    }
    return a;
  }

  // v = {q, k, v}
  std::vector<double> forward(const Vars& v) {
    auto q = upload<Exec, Real>(v[0], "q"), k = upload<Exec, Real>(v[1], "k"),
         x = upload<Exec, Real>(v[2], "v");
    auto o = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "o");
    op::masked_attention_forward(exec, cfg, mask(), q.data(), k.data(), x.data(), p.data(), o.data(),
                                 scratch.data());
    exec.fence();
    return download(o);
  }
  std::vector<double> probs() const {
    auto h = download(p);
    h.resize(std::size_t(nnz) * cfg.heads);
    return h;
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);
    auto q = upload<Exec, Real>(v[0], "q"), k = upload<Exec, Real>(v[1], "k"),
         x = upload<Exec, Real>(v[2], "v");
    auto dout = upload<Exec, Real>(r, "do");
    Vars g;
    std::vector<Buf> d;
    for (int a = 0; a < 3; ++a)
      d.push_back(upload<Exec, Real>(std::vector<double>(v[a].size(), kGarbage), "d"));
    op::masked_attention_backward(exec, cfg, mask(), q.data(), k.data(), x.data(), p.data(), dout.data(),
                                  ds.data(), d[0].data(), d[1].data(), d[2].data(), scratch.data());
    exec.fence();
    for (auto& e : d) g.push_back(download(e));
    return g;
  }
};

int channel(const op::MaskedAttentionCfg& cfg, int h, int c) {
  return cfg.layout == op::HeadLayout::blocked ? h * cfg.head_dim() + c : c * cfg.heads + h;
}

// Straight loops: per row and head, the scores of the row's entries, a softmax over them, the
// weighted sum. Returns o; p (nnz, H) through the second argument.
std::vector<double> attention_reference(const op::MaskedAttentionCfg& cfg, const op::HostCsr& a,
                                        const Vars& v, std::vector<double>* p_out = nullptr) {
  const int D = cfg.dim, H = cfg.heads, Dh = cfg.head_dim();
  std::vector<double> o(v[0].size(), 0.0), p(std::size_t(a.nnz()) * H);
  for (index_t i = 0; i < a.rows(); ++i)
    for (int h = 0; h < H; ++h) {
      std::vector<double> s;
      for (index_t e = a.offsets[i]; e < a.offsets[i + 1]; ++e) {
        double dotp = 0;
        for (int c = 0; c < Dh; ++c)
          dotp += v[0][i * D + channel(cfg, h, c)] * v[1][std::size_t(a.indices[e]) * D + channel(cfg, h, c)];
        s.push_back(dotp / std::sqrt(double(Dh)));
      }
      if (s.empty()) continue;
      const double m = *std::max_element(s.begin(), s.end());
      double sum = 0;
      for (double& e : s) sum += (e = std::exp(e - m));
      for (index_t e = a.offsets[i]; e < a.offsets[i + 1]; ++e) {
        const double pe = s[e - a.offsets[i]] / sum;
        p[e * H + h] = pe;
        for (int c = 0; c < Dh; ++c)
          o[i * D + channel(cfg, h, c)] += pe * v[2][std::size_t(a.indices[e]) * D + channel(cfg, h, c)];
      }
    }
  if (p_out) *p_out = p;
  return o;
}

// ---------------------------------------------------------------- graph_gather / scatter_sum

struct Edges {
  index_t V;
  std::vector<int> snd, rcv;
  op::HostCsr out, in;
  // The directed edges of a CSR by receiver (row i = receiver, column = sender), shuffled so edge
  // order differs from both groupings.
  Edges(const op::HostCsr& a, unsigned seed) : V(a.rows()) {
    std::vector<std::pair<int, int>> e;
    for (index_t i = 0; i < a.rows(); ++i)
      for (index_t s = a.offsets[i]; s < a.offsets[i + 1]; ++s) e.emplace_back(a.indices[s], int(i));
    std::shuffle(e.begin(), e.end(), std::mt19937(seed));
    for (auto& [s, r] : e) snd.push_back(s), rcv.push_back(r);
    out = op::group_by_key(V, snd);
    in = op::group_by_key(V, rcv);
  }
  // The batch of two edge lists: b's edges after a's, its nodes numbered after a's.
  Edges(const Edges& a, const Edges& b) : V(a.V + b.V), snd(a.snd), rcv(a.rcv) {
    for (std::size_t e = 0; e < b.snd.size(); ++e) {
      snd.push_back(b.snd[e] + int(a.V));
      rcv.push_back(b.rcv[e] + int(a.V));
    }
    out = op::group_by_key(V, snd);
    in = op::group_by_key(V, rcv);
  }
  index_t E() const { return index_t(snd.size()); }
};

template <class Exec, class Real>
struct GatherRun {
  using mem = typename Exec::memory_space;
  Exec exec;
  int D, De;
  index_t V, E;
  View1<int, mem> snd, rcv, out_e, in_e;
  View1<index_t, mem> out_o, in_o;
  GatherRun(const Edges& g, int dim, int edim)
      : D(dim),
        De(edim),
        V(g.V),
        E(g.E()),
        snd(dev<Exec>(g.snd, "snd")),
        rcv(dev<Exec>(g.rcv, "rcv")),
        out_e(dev<Exec>(g.out.indices, "out")),
        in_e(dev<Exec>(g.in.indices, "in")),
        out_o(dev<Exec>(g.out.offsets, "out_o")),
        in_o(dev<Exec>(g.in.offsets, "in_o")) {}
  op::GraphEdges edges() const {
    return {V, E, snd.data(), rcv.data(), out_o.data(), out_e.data(), in_o.data(), in_e.data()};
  }
  // v = {x (V, D), ef (E, De)}
  std::vector<double> forward(const Vars& v) {
    auto x = upload<Exec, Real>(v[0], "x"), ef = upload<Exec, Real>(v[1], "ef");
    auto y = upload<Exec, Real>(std::vector<double>(std::size_t(E) * (2 * D + De), kGarbage), "y");
    op::graph_gather_forward(exec, edges(), D, De, x.data(), ef.data(), y.data());
    exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto dy = upload<Exec, Real>(r, "dy");
    auto dx = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "dx");
    auto de = upload<Exec, Real>(std::vector<double>(v[1].size(), kGarbage), "de");
    op::graph_gather_backward(exec, edges(), D, De, dy.data(), dx.data(), de.data());
    exec.fence();
    return {download(dx), download(de)};
  }
  // v = {m (E, D)}
  std::vector<double> scatter(const Vars& v) {
    auto m = upload<Exec, Real>(v[0], "m");
    auto y = upload<Exec, Real>(std::vector<double>(std::size_t(V) * D, kGarbage), "y");
    op::graph_scatter_sum_forward(exec, edges(), D, m.data(), y.data());
    exec.fence();
    return download(y);
  }
  Vars scatter_backward(const Vars& v, const std::vector<double>& r) {
    auto dy = upload<Exec, Real>(r, "dy");
    auto dm = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "dm");
    op::graph_scatter_sum_backward(exec, edges(), D, dy.data(), dm.data());
    exec.fence();
    return {download(dm)};
  }
  // dm = dy(receivers) + add, add in its own buffer or in dm itself (in place).
  std::vector<double> scatter_backward_add(const std::vector<double>& r, const std::vector<double>& add,
                                           bool in_place) {
    auto dy = upload<Exec, Real>(r, "dy");
    auto a = upload<Exec, Real>(add, "add");
    auto dm = in_place ? a : upload<Exec, Real>(std::vector<double>(add.size(), kGarbage), "dm");
    op::graph_scatter_sum_backward(exec, edges(), D, dy.data(), dm.data(),
                                   static_cast<const Real*>(a.data()));
    exec.fence();
    return download(dm);
  }
};

}  // namespace graph_layers_test

using namespace graph_layers_test;

// ---------------------------------------------------------------- graph_csr

TEST_CASE("graph_csr: transpose and permutation, edge grouping, validation", "[graph_csr]") {
  const op::HostCsr a = random_graph(11, 0.35, 5, false);
  op::csr_validate(a, a.rows(), "a");
  // A directed pattern (not symmetric): keep j < i entries only, so the transpose differs.
  op::HostCsr lower;
  lower.offsets.push_back(0);
  for (index_t i = 0; i < a.rows(); ++i) {
    for (index_t s = a.offsets[i]; s < a.offsets[i + 1]; ++s)
      if (a.indices[s] < i) lower.indices.push_back(a.indices[s]);
    lower.offsets.push_back(index_t(lower.indices.size()));
  }
  std::vector<int> perm;
  const op::HostCsr t = op::csr_transpose(lower, lower.rows(), perm);
  op::csr_validate(t, lower.rows(), "t");  // sorted, unique per column
  REQUIRE(t.nnz() == lower.nnz());
  std::vector<int> seen(lower.nnz(), 0);
  for (index_t j = 0; j < t.rows(); ++j)
    for (index_t s = t.offsets[j]; s < t.offsets[j + 1]; ++s) {
      const int f = perm[s], i = t.indices[s];
      ++seen[f];
      REQUIRE(lower.indices[f] == j);  // slot f holds column j ...
      REQUIRE(f >= lower.offsets[i]);  // ... in row i
      REQUIRE(f < lower.offsets[i + 1]);
    }
  REQUIRE(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));  // a permutation

  const Edges g(a, 3);
  for (index_t i = 0; i < g.V; ++i)
    for (index_t s = g.in.offsets[i]; s < g.in.offsets[i + 1]; ++s) {
      REQUIRE(g.rcv[g.in.indices[s]] == i);
      REQUIRE((s == g.in.offsets[i] || g.in.indices[s - 1] < g.in.indices[s]));
    }

  op::HostCsr bad = a;
  index_t row = 0;
  while (a.offsets[row + 1] - a.offsets[row] < 2) ++row;
  std::swap(bad.indices[a.offsets[row]], bad.indices[a.offsets[row] + 1]);  // unsorted
  REQUIRE_THROWS_AS(op::csr_validate(bad, a.rows(), "bad"), surro::Error);
  bad = a;
  bad.indices[0] = int(a.rows());
  REQUIRE_THROWS_AS(op::csr_validate(bad, a.rows(), "bad"), surro::Error);
}

// ---------------------------------------------------------------- rms_norm

TEST_CASE("column_sums: block counts", "[column_sums]") {
  REQUIRE(op::column_sum_blocks(0) == 0);
  REQUIRE(op::column_sum_blocks(1) == 1);
  REQUIRE(op::column_sum_blocks(op::kColumnSumMinRows) == 1);
  REQUIRE(op::column_sum_blocks(op::kColumnSumMinRows + 1) == 2);
  REQUIRE(op::column_sum_blocks(index_t(1) << 40) == op::kColumnSumMaxBlocks);
  REQUIRE(op::column_sum_scratch(1000, 7) == std::size_t(op::column_sum_blocks(1000)) * 7);
}

// Each column sum adds R terms, in blocks then across blocks: its error is at most gamma_R times
// the sum of |a| (Higham 4.2 for any order of summation), so the bound is R u sum_r |a(r, c)| per
// column (plus u per element of the accumulated initial value).
TEMPLATE_LIST_TEST_CASE("column_sums: against a double sum; accumulates; reproducible", "[column_sums]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const std::vector<index_t> row_counts{0, 1, 63, 64, 65, 1000, 300001};
  const std::vector<int> col_counts{1, 5, 33, 128, 300};
  for (const index_t R : row_counts)
    for (const int C : col_counts) {
      if (R > 1000 && C > 33) continue;  // 300,001 rows at 33 columns already spans 4,096 blocks
      INFO("R = " << R << ", C = " << C);
      const index_t ld = C + 3;  // padded rows: the sums must read only their columns
      const auto a = random_vector(std::size_t(std::max<index_t>(R, 1) * ld), 31);
      const auto out0 = random_vector(std::size_t(C), 32);
      auto da = upload<Exec, Real>(a, "a");
      auto out = upload<Exec, Real>(out0, "out");
      const std::size_t scratch = std::max<std::size_t>(1, op::column_sum_scratch(R, C));
      View1<Real, typename Exec::memory_space> partial("partial", scratch);
      op::column_sums(Exec(), "test::column_sums", R, C, op::ColumnOf<Real>{da.data(), ld}, partial.data(),
                      out.data());
      Exec().fence();
      const auto got = download(out);
      for (int c = 0; c < C; ++c) {
        double sum = out0[c], abs_sum = 0;
        for (index_t r = 0; r < R; ++r) sum += a[r * ld + c], abs_sum += std::abs(a[r * ld + c]);
        REQUIRE(std::abs(got[c] - sum) <= epsilon<Real>() * ((R + 1) * abs_sum + std::abs(out0[c]) + 1e-300));
      }
      // The same call again gives the same bits (a fixed grouping).
      auto again = upload<Exec, Real>(out0, "again");
      op::column_sums(Exec(), "test::column_sums", R, C, op::ColumnOf<Real>{da.data(), ld}, partial.data(),
                      again.data());
      Exec().fence();
      REQUIRE(download(again) == got);
    }
}

TEMPLATE_LIST_TEST_CASE("rms_norm: graph-physics' RMSNorm; gradients", "[rms_norm]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int D = 12;
  const index_t R = 9;
  op::ParamTable t;
  op::rms_norm_register(t, "enc.norm", {D});
  REQUIRE(t.slot("enc.norm.scale").shape == std::vector<int>{D});
  REQUIRE_THROWS_AS(op::rms_norm_register(t, "bad", {0}), surro::Error);

  RmsNormRun<Exec, Real> run(D, R);
  RmsNormRun<HostExec, double> ref(D, R);
  const Vars v{random_vector(R * D, 21), random_vector(D, 22, 0.5, 1.5)};
  const double tol = 8 * epsilon<Real>() * (D + 2);
  REQUIRE(rel_l2(run.forward(v), rms_norm_reference(D, v)) <= tol);
  const auto r = random_vector(R * D, 23);
  const auto g = run.backward(v, r);
  require_close(g, ref.backward(v, r), 2 * tol, {"x", "scale"});
  if constexpr (std::is_same_v<Real, double>)
    gradcheck(v, [&](const Vars& p) { return run.forward(p); }, r, g, {"x", "scale"});
  {  // dscale through column_sums, over 150 rows (3 blocks); the sums are R-term: 16 u (R + 2)
    const index_t R2 = 150;
    RmsNormRun<Exec, Real> blocked(D, R2, true);
    RmsNormRun<HostExec, double> ref2(D, R2);
    const Vars v2{random_vector(R2 * D, 24), v[1]};
    const auto r2 = random_vector(R2 * D, 25);
    require_close(blocked.backward(v2, r2), ref2.backward(v2, r2), 16 * epsilon<Real>() * (R2 + 2),
                  {"x", "scale"});
  }
  {  // A row wider than a GPU's 32 lanes (D = 40) and R = 21 rows (the last team of 8 partly empty).
    const int D3 = 40;
    const index_t R3 = 21;
    RmsNormRun<Exec, Real> wide(D3, R3);
    RmsNormRun<HostExec, double> ref3(D3, R3);
    const Vars v3{random_vector(R3 * D3, 26), random_vector(D3, 27, 0.5, 1.5)};
    const double tol3 = 8 * epsilon<Real>() * (D3 + 2);
    REQUIRE(rel_l2(wide.forward(v3), rms_norm_reference(D3, v3)) <= tol3);
    const auto r3 = random_vector(R3 * D3, 28);
    require_close(wide.backward(v3, r3), ref3.backward(v3, r3), 2 * tol3, {"x", "scale"});
  }

  // With scale = 1 every output row has RMS rms / (rms + eps), the input row's rms.
  const Vars ones{v[0], std::vector<double>(D, 1.0)};
  const auto y = run.forward(ones);
  for (index_t i = 0; i < R; ++i) {
    double sy = 0, sx = 0;
    for (int c = 0; c < D; ++c) sy += y[i * D + c] * y[i * D + c], sx += v[0][i * D + c] * v[0][i * D + c];
    const double rx = std::sqrt(sx / D);
    REQUIRE(std::abs(std::sqrt(sy / D) - rx / (rx + 1e-8)) <= tol);
  }

  // In place (y = x), and a zero row: y = 0, dx = scale dy / eps (the norm's subgradient 0).
  Vars z = v;
  std::fill(z[0].begin(), z[0].begin() + D, 0.0);
  auto x = upload<Exec, Real>(z[0], "x"), s = upload<Exec, Real>(z[1], "s");
  View1<Real, typename Exec::memory_space> rms("rms", R);
  op::rms_norm_forward(Exec(), op::RmsNormCfg{D}, R, s.data(), x.data(), x.data(), rms.data());
  Exec().fence();
  const auto inplace = download(x);
  REQUIRE(rel_l2(inplace, rms_norm_reference(D, z)) <= tol);
  for (int c = 0; c < D; ++c) REQUIRE(inplace[c] == 0.0);
  const auto gz = run.backward(z, r);
  for (int c = 0; c < D; ++c)
    REQUIRE(std::abs(gz[0][c] - z[1][c] * r[c] / 1e-8) <= tol * std::abs(z[1][c] * r[c] / 1e-8));
}

// ---------------------------------------------------------------- masked_attention

TEMPLATE_LIST_TEST_CASE("masked_attention: softmax over the mask's entries; gradients", "[masked_attention]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const double u = epsilon<Real>();
  struct Case {
    int V, D, H;
    op::HeadLayout layout;
    double prob;
    bool two_hop;
  };
  // 1-hop and 2-hop masks; blocked and interleaved heads; one head; Dh = 1. long_row: -1 one kernel
  // for all rows; 0 every nonempty row and column through the tiled kernels; 3 a mix. tile: every
  // entry its own tile (1), rows of several uneven tiles (3), one tile per row (kLongTile).
  const index_t long_row = GENERATE(-1, 0, 3);
  const index_t tile = GENERATE(as<index_t>{}, 1, 3, op::kLongTile);
  if (long_row < 0 && tile != op::kLongTile) return;  // no tiles: one run is enough
  INFO("long_row " << long_row << ", tile " << tile);
  const Case cases[] = {{10, 8, 2, op::HeadLayout::blocked, 0.3, false},
                        {12, 12, 3, op::HeadLayout::interleaved, 0.25, true},
                        {9, 6, 1, op::HeadLayout::blocked, 0.4, false},
                        {8, 4, 4, op::HeadLayout::interleaved, 0.3, true}};
  int which = 0;
  for (const auto& k : cases) {
    ++which;
    INFO("case " << which);
    const op::MaskedAttentionCfg cfg{k.D, k.H, k.layout};
    const Mask m(random_graph(k.V, k.prob, 40 + which, k.two_hop));
    AttentionRun<Exec, Real> run(cfg, m, long_row, tile);
    AttentionRun<HostExec, double> ref(cfg, m);
    if (long_row >= 0) {  // long_rows_of and long_tiles_of against counts by hand
      index_t want = 0, tiles = 0;
      for (index_t i = 0; i < m.V(); ++i) {
        const index_t len = m.a.offsets[i + 1] - m.a.offsets[i];
        want += len > long_row;
        tiles += len > long_row ? (len + tile - 1) / tile : 0;
      }
      REQUIRE(index_t(run.rows.size()) == want);
      REQUIRE(run.row_tiles.size() == run.rows.size() + 1);
      REQUIRE(run.row_tiles.back() == tiles);
    }
    const std::size_t n = std::size_t(k.V) * k.D;
    const Vars v{random_vector(n, 50 + which), random_vector(n, 60 + which), random_vector(n, 70 + which)};
    const double tol = 8 * u * (cfg.head_dim() + max_row(m.a) + 2);

    std::vector<double> p_want;
    const auto o = run.forward(v);
    REQUIRE(rel_l2(o, attention_reference(cfg, m.a, v, &p_want)) <= tol);
    const auto p = run.probs();
    REQUIRE(rel_l2(p, p_want) <= tol);
    // Rows sum to one (n terms of p: n u); a row of one entry has p = 1; the empty row outputs 0.
    for (index_t i = 0; i < m.V(); ++i)
      for (int h = 0; h < k.H; ++h) {
        const index_t b = m.a.offsets[i], len = m.a.offsets[i + 1] - b;
        double sum = 0;
        for (index_t e = b; e < b + len; ++e) sum += p[e * k.H + h];
        if (len > 0) REQUIRE(std::abs(sum - 1.0) <= 4 * u * (len + 1));
        if (len == 1) REQUIRE(p[b * k.H + h] == 1.0);
      }
    REQUIRE(m.a.offsets[k.V] - m.a.offsets[k.V - 1] == 0);
    REQUIRE(m.a.offsets[k.V - 1] - m.a.offsets[k.V - 2] == 1);
    for (int c = 0; c < k.D; ++c) REQUIRE(o[std::size_t(k.V - 1) * k.D + c] == 0.0);
    // The single-entry row (node V - 2 attends to node 0 only) copies v(0).
    for (int c = 0; c < k.D; ++c) REQUIRE(std::abs(o[std::size_t(k.V - 2) * k.D + c] - v[2][c]) <= 2 * u);

    const auto r = random_vector(n, 80 + which);
    const auto g = run.backward(v, r);
    require_close(g, ref.backward(v, r), 2 * tol, {"q", "k", "v"});
    if constexpr (std::is_same_v<Real, double>)
      gradcheck(v, [&](const Vars& x) { return run.forward(x); }, r, g, {"q", "k", "v"});
  }
}

TEMPLATE_LIST_TEST_CASE("masked_attention: a block-diagonal batch of two graphs equals each alone",
                        "[masked_attention]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const op::MaskedAttentionCfg cfg{8, 2};
  // long_row 2, tile 2: the rows and columns of more than two entries tiled, in tiles of two.
  const index_t long_row = GENERATE(-1, 2);
  INFO("long_row " << long_row);
  const op::HostCsr a = random_graph(9, 0.3, 7, false), b = random_graph(12, 0.3, 8, true);
  const Mask ma(a), mb(b), mab(block_diagonal(a, b));
  const std::size_t na = std::size_t(a.rows()) * cfg.dim, nb = std::size_t(b.rows()) * cfg.dim;
  Vars va, vb, vab;
  for (int t = 0; t < 3; ++t) {
    va.push_back(random_vector(na, 90 + t));
    vb.push_back(random_vector(nb, 95 + t));
    vab.push_back(va[t]);
    vab.back().insert(vab.back().end(), vb[t].begin(), vb[t].end());
  }
  const auto ra = random_vector(na, 100), rb = random_vector(nb, 101);
  auto rab = ra;
  rab.insert(rab.end(), rb.begin(), rb.end());
  AttentionRun<Exec, Real> run_a(cfg, ma, long_row, 2), run_b(cfg, mb, long_row, 2),
      run_ab(cfg, mab, long_row, 2);
  // Same rows, same operations in the same order: the batched run reproduces each exactly.
  auto oa = run_a.forward(va);
  const auto ob = run_b.forward(vb);
  oa.insert(oa.end(), ob.begin(), ob.end());
  REQUIRE(run_ab.forward(vab) == oa);
  const auto ga = run_a.backward(va, ra), gb = run_b.backward(vb, rb), gab = run_ab.backward(vab, rab);
  for (int t = 0; t < 3; ++t) {
    auto want = ga[t];
    want.insert(want.end(), gb[t].begin(), gb[t].end());
    REQUIRE(gab[t] == want);
  }
}

// A mask with global-node rows and columns of chosen lengths: nodes 0 .. G - 1 (G = lengths.size())
// are global, node g's row is the first lengths[g] non-global nodes (G, G + 1, ...), and each of
// those attends back to g, so column g holds the same lengths[g] entries. The non-global nodes
// also attend to their ring neighbours at distances 1, 2 and 7 (rows of 6 local entries).
op::HostCsr global_rows(int V, const std::vector<int>& lengths) {
  const int G = int(lengths.size()), L = V - G;
  std::vector<std::set<int>> adj(V);
  for (int g = 0; g < G; ++g)
    for (int j = G; j < G + lengths[g]; ++j) adj[g].insert(j), adj[j].insert(g);
  for (int i = 0; i < L; ++i)
    for (int d : {1, 2, 7}) adj[G + i].insert(G + (i + d) % L), adj[G + (i + d) % L].insert(G + i);
  return csr_of(adj);
}

TEMPLATE_LIST_TEST_CASE("masked_attention: long rows and columns over many tiles", "[masked_attention]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const double u = epsilon<Real>();
  // Global rows (and columns) of 2095 entries (9 uneven tiles of kLongTile), 512 (two full tiles),
  // 257 (two tiles, 129 + 128), 256 (exactly one full tile) and 200 (one tile). Tiles are balanced
  // (lengths differ by at most one), so a row not a multiple of the tile has no short last tile but
  // tiles of two lengths. tile 100 and 7 cut the same rows into 2 to 300 tiles, tile 1 into one
  // tile per entry. long_row 0 also tiles the local rows (6 to 11 entries).
  const std::vector<int> lengths{2095, 512, 257, 256, 200};
  const int V = 2100;
  const auto [long_row, tile] = GENERATE(table<index_t, index_t>({{op::kLongRow, op::kLongTile},
                                                                  {op::kLongRow, 100},
                                                                  {op::kLongRow, 7},
                                                                  {op::kLongRow, 1},
                                                                  {0, op::kLongTile},
                                                                  {0, 7}}));
  INFO("long_row " << long_row << ", tile " << tile);
  const Mask m(global_rows(V, lengths));
  for (int g = 0; g < int(lengths.size()); ++g) {
    REQUIRE(m.a.offsets[g + 1] - m.a.offsets[g] == lengths[g]);
    REQUIRE(m.t.offsets[g + 1] - m.t.offsets[g] == lengths[g]);
  }
  const op::MaskedAttentionCfg cfgs[] = {{8, 2, op::HeadLayout::interleaved},
                                         {6, 3, op::HeadLayout::blocked}};
  int which = 0;
  for (const auto& cfg : cfgs) {
    ++which;
    INFO("cfg " << which);
    AttentionRun<Exec, Real> run(cfg, m, long_row, tile);
    AttentionRun<HostExec, double> ref(cfg, m);  // the one-kernel path in double
    // The five global rows are long (and the local ones with long_row 0), each in ceil(n / tile) tiles;
    // the capacity bound covers the scratch.
    REQUIRE(run.rows.size() == (long_row == 0 ? std::size_t(V) : lengths.size()));
    for (int g = 0; g < int(lengths.size()); ++g)
      REQUIRE(run.row_tiles[g + 1] - run.row_tiles[g] == (lengths[g] + tile - 1) / tile);
    REQUIRE(run.col_tiles == run.row_tiles);  // the mask is symmetric
    REQUIRE(op::masked_attention_long_scratch(cfg, run.mask()) <=
            op::masked_attention_long_scratch(cfg, m.V(), m.a.nnz(), long_row, tile));

    const std::size_t n = std::size_t(V) * cfg.dim;
    const Vars v{random_vector(n, 150 + which), random_vector(n, 160 + which), random_vector(n, 170 + which)};
    const double tol = 8 * u * (cfg.head_dim() + max_row(m.a) + 2);
    std::vector<double> p_want;
    const auto o = run.forward(v);
    REQUIRE(rel_l2(o, attention_reference(cfg, m.a, v, &p_want)) <= tol);
    const auto p = run.probs();
    REQUIRE(rel_l2(p, p_want) <= tol);
    for (int g = 0; g < int(lengths.size()); ++g)  // a global row's softmax sums to one (n u per sum)
      for (int h = 0; h < cfg.heads; ++h) {
        double sum = 0;
        for (index_t e = m.a.offsets[g]; e < m.a.offsets[g + 1]; ++e) sum += p[e * cfg.heads + h];
        REQUIRE(std::abs(sum - 1.0) <= 4 * u * (lengths[g] + 1));
      }
    const auto r = random_vector(n, 180 + which);
    const auto g = run.backward(v, r);
    require_close(g, ref.backward(v, r), 2 * tol, {"q", "k", "v"});

    // Two runs give the same bits: every sum has one order (a fresh scratch of other garbage, too).
    AttentionRun<Exec, Real> again(cfg, m, long_row, tile);
    Kokkos::deep_copy(again.scratch, Real(-7));
    REQUIRE(again.forward(v) == o);
    REQUIRE(again.probs() == p);
    REQUIRE(again.backward(v, r) == g);
    REQUIRE(run.backward(v, r) == g);
  }
}

// ---------------------------------------------------------------- graph_gather / graph_scatter_sum

TEMPLATE_LIST_TEST_CASE("graph_gather, graph_scatter_sum: MeshGraphNet's moves; gradients", "[graph_scatter]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int D = 5, De = 3;
  const op::HostCsr a = random_graph(11, 0.35, 9, false), b = random_graph(8, 0.4, 10, true);
  const op::HostCsr ab = block_diagonal(a, b);
  const Edges g(ab, 11);
  const index_t V = g.V, E = g.E();
  GatherRun<Exec, Real> run(g, D, De);
  const Vars v{random_vector(V * D, 110), random_vector(E * De, 111)};

  // gather: copies, exact.
  std::vector<double> want;
  for (index_t e = 0; e < E; ++e) {
    for (int c = 0; c < D; ++c) want.push_back(v[0][std::size_t(g.snd[e]) * D + c]);
    for (int c = 0; c < D; ++c) want.push_back(v[0][std::size_t(g.rcv[e]) * D + c]);
    for (int c = 0; c < De; ++c) want.push_back(v[1][e * De + c]);
  }
  const auto y = run.forward(v);
  REQUIRE(rel_l2(y, want) <= epsilon<Real>());
  // backward: node sums of at most (in + out degree) terms.
  const auto r = random_vector(want.size(), 112);
  const auto gr = run.backward(v, r);
  std::vector<double> dx(V * D, 0.0), de(E * De);
  for (index_t e = 0; e < E; ++e) {
    for (int c = 0; c < D; ++c) dx[std::size_t(g.snd[e]) * D + c] += r[e * (2 * D + De) + c];
    for (int c = 0; c < D; ++c) dx[std::size_t(g.rcv[e]) * D + c] += r[e * (2 * D + De) + D + c];
    for (int c = 0; c < De; ++c) de[e * De + c] = r[e * (2 * D + De) + 2 * D + c];
  }
  const double tol = 8 * epsilon<Real>() * (2 * max_row(ab) + 2);
  require_close(gr, {dx, de}, tol, {"x", "ef"});
  if constexpr (std::is_same_v<Real, double>)
    gradcheck(v, [&](const Vars& x) { return run.forward(x); }, r, gr, {"x", "ef"});

  // scatter_sum: y(i) = sum over edges into i; empty rows (isolated nodes) give 0.
  const Vars m{random_vector(E * D, 113)};
  std::vector<double> ys(V * D, 0.0);
  for (index_t e = 0; e < E; ++e)
    for (int c = 0; c < D; ++c) ys[std::size_t(g.rcv[e]) * D + c] += m[0][e * D + c];
  const auto got = run.scatter(m);
  REQUIRE(rel_l2(got, ys) <= tol);
  for (int c = 0; c < D; ++c) REQUIRE(got[std::size_t(a.rows() - 1) * D + c] == 0.0);
  const auto rs = random_vector(V * D, 114);
  const auto gs = run.scatter_backward(m, rs);
  std::vector<double> dm(E * D);
  for (index_t e = 0; e < E; ++e)
    for (int c = 0; c < D; ++c) dm[e * D + c] = rs[std::size_t(g.rcv[e]) * D + c];
  REQUIRE(rel_l2(gs[0], dm) <= epsilon<Real>());
  if constexpr (std::is_same_v<Real, double>)
    gradcheck(m, [&](const Vars& x) { return run.scatter(x); }, rs, gs, {"m"});
  // With a second gradient added in the same pass (MeshGraphNet's edge residual), apart and in
  // place: one rounding of each input to Real and one of the sum, so |error| <= eps (|dm| + |add|)
  // per element.
  const auto add = random_vector(E * D, 115);
  for (const bool in_place : {false, true}) {
    CAPTURE(in_place);
    const auto got_add = run.scatter_backward_add(rs, add, in_place);
    REQUIRE(got_add.size() == dm.size());
    for (std::size_t i = 0; i < dm.size(); ++i)
      REQUIRE(std::abs(got_add[i] - (dm[i] + add[i])) <=
              epsilon<Real>() * (std::abs(dm[i]) + std::abs(add[i])));
  }

  // A batch of two graphs (b's edges after a's, node numbers shifted) equals each alone, exactly:
  // every node sum sees the same edges in the same order.
  const Edges ea(a, 12), eb(b, 13), eab(ea, eb);
  GatherRun<Exec, Real> run_a(ea, D, De), run_b(eb, D, De), run_ab(eab, D, De);
  const Vars xa{random_vector(ea.V * D, 115), random_vector(ea.E() * De, 116)};
  const Vars xb{random_vector(eb.V * D, 117), random_vector(eb.E() * De, 118)};
  const Vars xab{cat(xa[0], xb[0]), cat(xa[1], xb[1])};
  REQUIRE(run_ab.forward(xab) == cat(run_a.forward(xa), run_b.forward(xb)));
  const auto ra = random_vector(ea.E() * (2 * D + De), 119), rb = random_vector(eb.E() * (2 * D + De), 120);
  const auto ga_ = run_a.backward(xa, ra), gb_ = run_b.backward(xb, rb),
             gab_ = run_ab.backward(xab, cat(ra, rb));
  for (int t = 0; t < 2; ++t) REQUIRE(gab_[t] == cat(ga_[t], gb_[t]));
  const Vars mab{cat(random_vector(ea.E() * D, 121), random_vector(eb.E() * D, 122))};
  const Vars ma{std::vector<double>(mab[0].begin(), mab[0].begin() + ea.E() * D)};
  const Vars mb{std::vector<double>(mab[0].begin() + ea.E() * D, mab[0].end())};
  REQUIRE(run_ab.scatter(mab) == cat(run_a.scatter(ma), run_b.scatter(mb)));
}

// ---------------------------------------------------------------- gated_mlp

namespace graph_layers_test {

// vars: x (R, D), scale (D), w_in (2F, D), b_in (2F), w_out (D, F), b_out (D).
template <class Exec, class Real>
struct GatedMlpRun {
  using Buf = View1<Real, typename Exec::memory_space>;
  Exec exec;
  op::GatedMlpCfg cfg;
  index_t R;
  op::GatedMlpWorkspace<Exec> ws;
  Buf rms, normed, hidden, gated;
  GatedMlpRun(op::GatedMlpCfg c, index_t rows)
      : cfg(c),
        R(rows),
        ws(gemm::Gemm<Exec>(exec), c, rows),
        rms("rms", rows),
        normed("normed", rows * c.dim),
        hidden("hidden", rows * 2 * c.hidden()),
        gated("gated", rows * c.hidden()) {}
  op::GatedMlpSaved<Real> saved() { return {rms.data(), normed.data(), hidden.data(), gated.data()}; }

  std::vector<double> forward(const Vars& v) {
    std::vector<Buf> b;
    for (const auto& e : v) b.push_back(upload<Exec, Real>(e, "var"));
    auto y = upload<Exec, Real>(std::vector<double>(std::size_t(R) * cfg.dim, kGarbage), "y");
    const op::GatedMlpParams<const Real> p{b[1].data(), b[2].data(), b[3].data(), b[4].data(), b[5].data()};
    op::gated_mlp_forward(exec, ws, p, static_cast<const Real*>(b[0].data()), saved(), y.data());
    exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);
    std::vector<Buf> b, g;
    Vars g0;
    for (std::size_t a = 0; a < v.size(); ++a) {
      b.push_back(upload<Exec, Real>(v[a], "var"));
      g0.push_back(a == 0 ? std::vector<double>(v[0].size(), kGarbage) : random_vector(v[a].size(), 130 + a));
      g.push_back(upload<Exec, Real>(g0.back(), "grad"));
    }
    auto dy = upload<Exec, Real>(r, "dy");
    Buf dg("dg", R * cfg.hidden()), dh("dh", R * 2 * cfg.hidden()), dn("dn", R * cfg.dim);
    const op::GatedMlpParams<const Real> p{b[1].data(), b[2].data(), b[3].data(), b[4].data(), b[5].data()};
    const op::GatedMlpParams<Real> gp{g[1].data(), g[2].data(), g[3].data(), g[4].data(), g[5].data()};
    op::gated_mlp_backward(exec, ws, p, static_cast<const Real*>(b[0].data()), saved(),
                           static_cast<const Real*>(dy.data()),
                           op::GatedMlpScratch<Real>{dg.data(), dh.data(), dn.data()}, gp, g[0].data());
    exec.fence();
    Vars out{download(g[0])};
    for (std::size_t a = 1; a < v.size(); ++a) out.push_back(minus(download(g[a]), g0[a]));
    return out;
  }
};

std::vector<double> gated_mlp_reference(int D, int F, const Vars& v) {
  const auto n = rms_norm_reference(D, {v[0], v[1]});
  const std::size_t R = v[0].size() / D;
  std::vector<double> y(R * D);
  for (std::size_t r = 0; r < R; ++r) {
    std::vector<double> h(2 * F), gte(F);
    for (int o = 0; o < 2 * F; ++o) {
      h[o] = v[3][o];
      for (int i = 0; i < D; ++i) h[o] += v[2][std::size_t(o) * D + i] * n[r * D + i];
    }
    for (int f = 0; f < F; ++f) gte[f] = 0.5 * h[f] * (1 + std::erf(h[f] / std::sqrt(2.0))) * h[F + f];
    for (int o = 0; o < D; ++o) {
      y[r * D + o] = v[5][o];
      for (int f = 0; f < F; ++f) y[r * D + o] += v[4][std::size_t(o) * F + f] * gte[f];
    }
  }
  return y;
}

}  // namespace graph_layers_test

TEMPLATE_LIST_TEST_CASE("gated_mlp: graph-physics' GatedMLP from rms_norm, linear, geglu; gradients",
                        "[gated_mlp]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const op::GatedMlpCfg cfg{4, 3};
  const int D = cfg.dim, F = cfg.hidden();
  const index_t R = 7;
  op::ParamTable t;
  op::gated_mlp_register(t, "block0.mlp", cfg);
  // graph-physics' GatedMLP (mult 3): 9 D^2 + 8 D, the per-block 13 d^2 + 14 d of the reference
  // notes less attention (4 d^2 + 4 d) and the block's two norms (2 d).
  REQUIRE(t.parameter_count() == std::size_t(9 * D * D + 8 * D));
  REQUIRE(t.slot("block0.mlp.in.weight").shape == std::vector<int>{2 * F, D});

  GatedMlpRun<Exec, Real> run(cfg, R);
  GatedMlpRun<HostExec, double> ref(cfg, R);
  const Vars v{random_vector(R * D, 140), random_vector(D, 141, 0.5, 1.5), random_vector(2 * F * D, 142),
               random_vector(2 * F, 143), random_vector(D * F, 144),       random_vector(D, 145)};
  // Reductions of D (norm, first linear) and F (second linear) terms in sequence.
  const double tol = 8 * epsilon<Real>() * (D + F + 2);
  REQUIRE(rel_l2(run.forward(v), gated_mlp_reference(D, F, v)) <= tol);
  const auto r = random_vector(R * D, 146);
  const auto g = run.backward(v, r);
  const std::vector<const char*> names{"x", "scale", "in.weight", "in.bias", "out.weight", "out.bias"};
  require_close(g, ref.backward(v, r), 2 * tol, names);
  if constexpr (std::is_same_v<Real, double>)
    gradcheck(
        v, [&](const Vars& x) { return run.forward(x); }, r, g, names);
}

// ---------------------------------------------------------------- mesh_rope

namespace graph_layers_test {

// The rotation written out per head, axis and pair, in double: the channel of head h's component j
// is j H + h (interleaved) or h Dh + j (blocked).
std::vector<double> mesh_rope_reference(const op::MeshRopeCfg& c, const std::vector<double>& pos,
                                        std::vector<double> x, double sign) {
  const int H = c.heads, dh = c.dim / H, m = dh / (2 * c.dims);
  const std::size_t V = pos.size() / c.dims;
  auto channel = [&](int h, int j) {
    return c.layout == op::HeadLayout::interleaved ? j * H + h : h * dh + j;
  };
  for (std::size_t v = 0; v < V; ++v)
    for (int h = 0; h < H; ++h)
      for (int a = 0; a < c.dims; ++a)
        for (int k = 0; k < m; ++k) {
          const double f = m > 1 ? std::pow(c.max_freq, double(k) / (m - 1)) : 1.0;
          const double th = sign * M_PI * pos[v * c.dims + a] / c.length * f;
          double& p = x[v * c.dim + channel(h, a * (dh / c.dims) + k)];
          double& q = x[v * c.dim + channel(h, a * (dh / c.dims) + k + m)];
          const double p0 = p, q0 = q;
          p = p0 * std::cos(th) - q0 * std::sin(th);
          q = q0 * std::cos(th) + p0 * std::sin(th);
        }
  return x;
}

template <class Exec, class Real>
std::vector<double> mesh_rope_run(const op::MeshRopeCfg& c, const std::vector<double>& pos,
                                  const std::vector<double>& x, bool inverse) {
  const index_t V = index_t(pos.size()) / c.dims;
  auto p = upload<Exec, double>(pos, "pos");
  auto xv = upload<Exec, Real>(x, "x");
  View1<Real, typename Exec::memory_space> table("table", std::size_t(V) * c.dims * c.pairs() * 2);
  op::mesh_rope_table(Exec(), c, V, p.data(), table.data());
  op::mesh_rope_apply(Exec(), c, V, table.data(), xv.data(), inverse);
  Exec().fence();
  return download(xv);
}

}  // namespace graph_layers_test

TEMPLATE_LIST_TEST_CASE("mesh_rope: axial rotation of q and k by node positions; relative scores; inverse",
                        "[mesh_rope]", surro::test::RealCases) {
  using namespace graph_layers_test;
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const index_t V = 7;
  for (const auto layout : {op::HeadLayout::interleaved, op::HeadLayout::blocked})
    for (const int dims : {2, 3}) {
      // Dh = 12: 3 pairs per axis in 2D (frequencies 1, 8, 64), 2 in 3D (1, 64).
      const op::MeshRopeCfg c{24, 2, dims, layout, 2.2, 64.0};
      INFO("dims " << dims << (layout == op::HeadLayout::interleaved ? " interleaved" : " blocked"));
      const auto pos = random_vector(std::size_t(V) * dims, 31, 0.0, 2.2);
      const auto x = random_vector(std::size_t(V) * c.dim, 32);
      // Each output is one 2 x 2 rotation: the table's cos and sin are rounded once to Real (a few u),
      // and the angle, up to theta_max = pi 64 in double, is computed differently from the
      // reference (exp of a log step against pow): a few double u relative, times theta_max absolute.
      const auto y = mesh_rope_run<Exec, Real>(c, pos, x, false);
      const double theta_max = M_PI * 64;
      const double tol = 8 * epsilon<Real>() + 8 * epsilon<double>() * theta_max;
      REQUIRE(rel_l2(y, mesh_rope_reference(c, pos, x, 1.0)) <= tol);
      REQUIRE(rel_l2(mesh_rope_run<Exec, Real>(c, pos, x, true), mesh_rope_reference(c, pos, x, -1.0)) <=
              tol);
      // Inverse after forward: the identity (a rotation preserves norms).
      REQUIRE(rel_l2(mesh_rope_run<Exec, Real>(c, pos, y, true), x) <= 2 * tol);
      // q_i . k_j of every head depends on pos_i - pos_j only: shifting every position by the same
      // vector leaves the scores unchanged (the shift changes angles by up to 64 pi * 0.7 / 2.2 rad).
      if constexpr (std::is_same_v<Real, double>) {
        auto shifted = pos;
        for (std::size_t i = 0; i < shifted.size(); ++i) shifted[i] += 0.37 + 0.1 * double(i % dims);
        const auto k = random_vector(std::size_t(V) * c.dim, 33);
        const auto q1 = mesh_rope_run<Exec, Real>(c, pos, x, false),
                   k1 = mesh_rope_run<Exec, Real>(c, pos, k, false);
        const auto q2 = mesh_rope_run<Exec, Real>(c, shifted, x, false),
                   k2 = mesh_rope_run<Exec, Real>(c, shifted, k, false);
        const int dh = c.dim / c.heads;
        for (index_t i = 0; i < V; ++i)
          for (index_t j = 0; j < V; ++j)
            for (int h = 0; h < c.heads; ++h) {
              double s1 = 0, s2 = 0;
              for (int e = 0; e < dh; ++e) {
                const int ch = layout == op::HeadLayout::interleaved ? e * c.heads + h : h * dh + e;
                s1 += q1[i * c.dim + ch] * k1[j * c.dim + ch];
                s2 += q2[i * c.dim + ch] * k2[j * c.dim + ch];
              }
              // angles of up to ~150 rad carry ~1e-14 absolute error in double
              REQUIRE(std::abs(s1 - s2) <= 1e-12 * dh);
            }
      }
    }
  CHECK_THROWS_WITH(
      op::mesh_rope_validate(op::MeshRopeCfg{24, 4, 2, op::HeadLayout::interleaved, 1.0, 64.0}),
      Catch::Contains("dim / heads = 6 must be a positive multiple of 2 x the mesh dimension 2"));
  CHECK_THROWS_WITH(op::mesh_rope_validate(op::MeshRopeCfg{24, 2, 2, op::HeadLayout::interleaved, 0.0, 64.0}),
                    Catch::Contains("model.rope_length"));
}
