#include "operators/graph_batch.hpp"

#include "core/error.hpp"
#include "operators/layers/instantiate.hpp"

#include <algorithm>
#include <functional>

namespace surro::op {

namespace graph_batch_impl {

// Appends a mesh's CSR rows (offset by its first node) to a batch CSR.
void append_rows(HostCsr& out, const mesh::Csr& rows, int first_node) {
  const index_t base = out.offsets.back();
  for (long long i = 0; i < rows.rows(); ++i) out.offsets.push_back(base + index_t(rows.offsets[i + 1]));
  for (int j : rows.indices) out.indices.push_back(j + first_node);
}

// Copies n host values into the front of a device View.
template <class T, class Mem>
void copy_front(const View1<T, Mem>& dst, const std::vector<T>& src) {
  if (src.empty()) return;
  Kokkos::View<const T*, HostMem, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(src.data(), src.size());
  Kokkos::deep_copy(Kokkos::subview(dst, std::make_pair(std::size_t(0), src.size())), h);
}

// Appends CSR `part` (rows of the part, entries of the part) to `out`: row offsets shifted by the
// entries already in `out`, entry values shifted by `value_base`.
void append_csr(HostCsr& out, const HostCsr& part, index_t value_base) {
  const index_t base = out.offsets.back();
  for (std::size_t i = 1; i < part.offsets.size(); ++i) out.offsets.push_back(base + part.offsets[i]);
  for (int j : part.indices) out.indices.push_back(int(j + value_base));
}

// Appends `part`'s values shifted by `base` to `out`.
template <class T>
void append_shifted(std::vector<T>& out, const std::vector<T>& part, T base) {
  for (const T& v : part) out.push_back(v + base);
}

// concat_graph_batches into `out`, reusing its storage. Within a part, every index array refers to
// the part's own nodes (node_offsets, senders, receivers, mask and mask_t columns / rows), edges
// (out_edges, in_edges) or mask slots (mask_perm); the parts never connect, so offsetting each by
// the totals of the parts before it yields exactly the structures built over all meshes at once
// (group_by_key and csr_transpose keep ascending order within a row, which the shift preserves).
void concat_into(const std::vector<const HostGraphBatch*>& parts, HostGraphBatch& out) {
  SURRO_REQUIRE(!parts.empty(), "graph batch: concatenation of no batches: expected at least one");
  const HostGraphBatch& p0 = *parts.front();
  out.dim = p0.dim;
  out.mask_spec = p0.mask_spec;
  for (auto* v : {&out.node_type, &out.predicted, &out.senders, &out.receivers, &out.mask_perm}) v->clear();
  out.positions.clear();
  out.node_offsets.assign(1, 0);
  for (HostCsr* c : {&out.out_edges, &out.in_edges, &out.mask, &out.mask_t}) {
    c->offsets.assign(1, 0);
    c->indices.clear();
  }
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const HostGraphBatch& b = *parts[p];
    if (b.dim != out.dim || b.mask_spec != out.mask_spec)
      SURRO_THROW(ErrorKind::usage, "graph batch: part " << p << ": dim " << b.dim << ", mask "
                                                         << b.mask_spec.describe() << ": expected dim "
                                                         << out.dim << ", mask " << out.mask_spec.describe()
                                                         << " as part 0");
    const index_t V0 = out.nodes(), E0 = out.edges(), S0 = out.nnz();
    for (std::size_t i = 1; i < b.node_offsets.size(); ++i)
      out.node_offsets.push_back(V0 + b.node_offsets[i]);
    out.node_type.insert(out.node_type.end(), b.node_type.begin(), b.node_type.end());
    out.predicted.insert(out.predicted.end(), b.predicted.begin(), b.predicted.end());
    out.positions.insert(out.positions.end(), b.positions.begin(), b.positions.end());
    append_shifted(out.senders, b.senders, int(V0));
    append_shifted(out.receivers, b.receivers, int(V0));
    append_csr(out.out_edges, b.out_edges, E0);
    append_csr(out.in_edges, b.in_edges, E0);
    append_csr(out.mask, b.mask, V0);
    append_csr(out.mask_t, b.mask_t, V0);
    append_shifted(out.mask_perm, b.mask_perm, int(S0));
  }
}

}  // namespace graph_batch_impl

HostGraphBatch build_host_graph_batch(const std::vector<mesh::Mesh>& meshes, int k_hop) {
  SURRO_REQUIRE(k_hop >= 1, "graph batch: k_hop = " << k_hop << ": expected >= 1");
  return build_host_graph_batch(meshes, MaskSpec::hops(k_hop));
}

HostGraphBatch build_host_graph_batch(const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask) {
  using namespace graph_batch_impl;
  SURRO_REQUIRE(!meshes.empty(), "graph batch: no meshes: expected at least one");
  mask.validate("graph batch: attention mask");
  HostGraphBatch b;
  b.dim = meshes[0].dim;
  b.mask_spec = mask;
  b.node_offsets.push_back(0);
  b.mask.offsets.push_back(0);
  for (std::size_t m = 0; m < meshes.size(); ++m) {
    const mesh::Mesh& mesh = meshes[m];
    const long long V = mesh.num_points();
    if (mesh.dim != b.dim)
      SURRO_THROW(ErrorKind::input, "graph batch: mesh " << m << ": dim " << mesh.dim << ": expected "
                                                         << b.dim << " as mesh 0");
    if (static_cast<long long>(mesh.node_type.size()) != V)
      SURRO_THROW(ErrorKind::input, "graph batch: mesh " << m << ": node_type has " << mesh.node_type.size()
                                                         << " entries: expected one per node (" << V << ")");
    const int first = int(b.node_offsets.back());
    const mesh::Graph g = mesh::mesh_graph(mesh);
    for (long long e = 0; e < g.num_edges(); ++e) {
      b.senders.push_back(g.senders[e] + first);
      b.receivers.push_back(g.receivers[e] + first);
    }
    append_rows(b.mask, mesh_attention_mask(g, mesh.node_type, mask), first);
    for (long long i = 0; i < V; ++i) {
      const int t = mesh.node_type[i];
      b.node_type.push_back(t);
      b.predicted.push_back(t == mesh::normal || t == mesh::outflow ? 1 : 0);
    }
    b.positions.insert(b.positions.end(), mesh.points.begin(), mesh.points.end());
    b.node_offsets.push_back(first + V);
  }
  const index_t V = b.nodes();
  b.out_edges = group_by_key(V, b.senders);
  b.in_edges = group_by_key(V, b.receivers);
  csr_validate(b.mask, V, "graph batch: attention mask");
  b.mask_t = csr_transpose(b.mask, V, b.mask_perm);
  return b;
}

HostGraphBatch concat_graph_batches(const std::vector<const HostGraphBatch*>& parts) {
  HostGraphBatch out;
  graph_batch_impl::concat_into(parts, out);
  return out;
}

GraphBatchCache::GraphBatchCache(const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask) : m_mask(mask) {
  SURRO_REQUIRE(!meshes.empty(), "graph batch cache: no meshes: expected at least one");
  m_parts.reserve(meshes.size());
  for (std::size_t m = 0; m < meshes.size(); ++m) {
    try {
      m_parts.push_back(build_host_graph_batch({meshes[m]}, mask));
    } catch (const Error& e) {
      // Name the mesh by its index in the cache, not as mesh 0 of a batch of one.
      SURRO_THROW(e.kind(), "graph batch cache: mesh " << m << ": " << e.what());
    }
    if (m_parts.back().dim != m_parts.front().dim)
      SURRO_THROW(ErrorKind::input, "graph batch cache: mesh " << m << ": dim " << m_parts.back().dim
                                                               << ": expected " << m_parts.front().dim
                                                               << " as mesh 0");
  }
}

const HostGraphBatch& GraphBatchCache::part(int mesh_index) const {
  if (mesh_index < 0 || mesh_index >= size())
    SURRO_THROW(ErrorKind::usage,
                "graph batch cache: mesh " << mesh_index << ": expected an index in [0, " << size() << ")");
  return m_parts[std::size_t(mesh_index)];
}

const HostGraphBatch& GraphBatchCache::gather(const std::vector<int>& mesh_indices) {
  if (mesh_indices.empty()) SURRO_THROW(ErrorKind::usage, "graph batch cache: gather of no meshes");
  std::vector<const HostGraphBatch*> parts;
  parts.reserve(mesh_indices.size());
  for (int m : mesh_indices) parts.push_back(&part(m));
  graph_batch_impl::concat_into(parts, m_buffer);
  return m_buffer;
}

GraphBatchCapacity GraphBatchCache::capacity(int batch, int repeats) const {
  if (batch < 1) SURRO_THROW(ErrorKind::usage, "graph batch cache: capacity(" << batch << "): expected >= 1");
  const long long reps = repeats < 1 ? batch : repeats;
  // Sum of the `batch` largest values, each counted up to `reps` times.
  auto largest = [&](auto count) {
    std::vector<index_t> v;
    for (const auto& p : m_parts) v.push_back(count(p));
    std::sort(v.begin(), v.end(), std::greater<index_t>());
    index_t sum = 0;
    long long left = batch;
    for (std::size_t i = 0; i < v.size() && left > 0; ++i) {
      const long long take = std::min(left, reps);
      sum += index_t(take) * v[i];
      left -= take;
    }
    return sum;
  };
  GraphBatchCapacity cap;
  cap.meshes = batch;
  cap.nodes = largest([](const HostGraphBatch& p) { return p.nodes(); });
  cap.edges = largest([](const HostGraphBatch& p) { return p.edges(); });
  cap.nnz = largest([](const HostGraphBatch& p) { return p.nnz(); });
  return cap;
}

GraphBatchCapacity max_capacity(const GraphBatchCapacity& a, const GraphBatchCapacity& b) {
  return {std::max(a.meshes, b.meshes), std::max(a.nodes, b.nodes), std::max(a.edges, b.edges),
          std::max(a.nnz, b.nnz)};
}

template <class Exec>
GraphBatch<Exec>::GraphBatch(const GraphBatchCapacity& cap, int dim)
    : m_cap(cap),
      m_dim(dim),
      m_node_type("surro::graph_batch::node_type", cap.nodes),
      m_predicted("surro::graph_batch::predicted", cap.nodes),
      m_positions("surro::graph_batch::positions", cap.nodes * dim),
      m_senders("surro::graph_batch::senders", cap.edges),
      m_receivers("surro::graph_batch::receivers", cap.edges),
      m_out_edges("surro::graph_batch::out_edges", cap.edges),
      m_in_edges("surro::graph_batch::in_edges", cap.edges),
      m_out_offsets("surro::graph_batch::out_offsets", cap.nodes + 1),
      m_in_offsets("surro::graph_batch::in_offsets", cap.nodes + 1),
      m_mask_offsets("surro::graph_batch::mask_offsets", cap.nodes + 1),
      m_mask_offsets_t("surro::graph_batch::mask_offsets_t", cap.nodes + 1),
      m_mask_indices("surro::graph_batch::mask_indices", cap.nnz),
      m_mask_indices_t("surro::graph_batch::mask_indices_t", cap.nnz),
      m_mask_perm("surro::graph_batch::mask_perm", cap.nnz),
      m_long_rows("surro::graph_batch::long_rows", cap.nodes),
      m_long_cols("surro::graph_batch::long_cols", cap.nodes),
      m_long_row_tiles("surro::graph_batch::long_row_tiles", cap.nodes + 1),
      m_long_col_tiles("surro::graph_batch::long_col_tiles", cap.nodes + 1) {
  m_long_host.reserve(std::size_t(std::max<index_t>(cap.nodes, 0)));
  m_tiles_host.reserve(std::size_t(std::max<index_t>(cap.nodes, 0)) + 1);
  SURRO_REQUIRE(
      cap.meshes > 0 && cap.nodes > 0 && cap.edges >= 0 && cap.nnz >= 0,
      "graph batch: capacity (meshes " << cap.meshes << ", nodes " << cap.nodes << "): expected positive");
  SURRO_REQUIRE(dim == 2 || dim == 3, "graph batch: dim " << dim << ": expected 2 or 3");
}

template <class Exec>
void GraphBatch<Exec>::upload(const Exec& exec, const HostGraphBatch& h) {
  using namespace graph_batch_impl;
  auto check = [](const char* what, index_t got, index_t cap) {
    if (got > cap)
      SURRO_THROW(ErrorKind::usage, "graph batch: " << got << " " << what
                                                    << " exceed the planned capacity of " << cap
                                                    << " (plan the model and batch for the largest)");
  };
  check("meshes", h.meshes(), m_cap.meshes);
  check("nodes", h.nodes(), m_cap.nodes);
  check("directed edges", h.edges(), m_cap.edges);
  check("attention-mask entries", h.nnz(), m_cap.nnz);
  if (h.dim != m_dim)
    SURRO_THROW(ErrorKind::usage, "graph batch: meshes of dim " << h.dim << ": planned for dim " << m_dim);
  exec.fence();
  copy_front(m_node_type, h.node_type);
  copy_front(m_predicted, h.predicted);
  copy_front(m_positions, h.positions);
  copy_front(m_senders, h.senders);
  copy_front(m_receivers, h.receivers);
  copy_front(m_out_offsets, h.out_edges.offsets);
  copy_front(m_out_edges, h.out_edges.indices);
  copy_front(m_in_offsets, h.in_edges.offsets);
  copy_front(m_in_edges, h.in_edges.indices);
  copy_front(m_mask_offsets, h.mask.offsets);
  copy_front(m_mask_indices, h.mask.indices);
  copy_front(m_mask_offsets_t, h.mask_t.offsets);
  copy_front(m_mask_indices_t, h.mask_t.indices);
  copy_front(m_mask_perm, h.mask_perm);
  long_rows_of(h.mask.offsets, kLongRow, m_long_host);
  long_tiles_of(h.mask.offsets, m_long_host, kLongTile, m_tiles_host);
  m_n_long_rows = index_t(m_long_host.size());
  m_n_row_tiles = m_tiles_host.back();
  m_long_row_nnz = long_entries_of(h.mask.offsets, m_long_host);
  copy_front(m_long_rows, m_long_host);
  copy_front(m_long_row_tiles, m_tiles_host);
  long_rows_of(h.mask_t.offsets, kLongRow, m_long_host);
  long_tiles_of(h.mask_t.offsets, m_long_host, kLongTile, m_tiles_host);
  m_n_long_cols = index_t(m_long_host.size());
  m_n_col_tiles = m_tiles_host.back();
  m_long_col_nnz = long_entries_of(h.mask_t.offsets, m_long_host);
  copy_front(m_long_cols, m_long_host);
  copy_front(m_long_col_tiles, m_tiles_host);
  Kokkos::fence();
  m_meshes = h.meshes();
  m_nodes = h.nodes();
  m_edges = h.edges();
  m_nnz = h.nnz();
  m_offsets = h.node_offsets;
}

template <class Exec>
void GraphBatch<Exec>::set(const Exec& exec, const std::vector<mesh::Mesh>& meshes, const MaskSpec& mask) {
  upload(exec, build_host_graph_batch(meshes, mask));
}

template <class Exec>
GraphEdges GraphBatch<Exec>::graph() const {
  GraphEdges g;
  g.nodes = m_nodes;
  g.edges = m_edges;
  g.senders = m_senders.data();
  g.receivers = m_receivers.data();
  g.out_offsets = m_out_offsets.data();
  g.out_edges = m_out_edges.data();
  g.in_offsets = m_in_offsets.data();
  g.in_edges = m_in_edges.data();
  return g;
}

template <class Exec>
AttentionMask GraphBatch<Exec>::mask() const {
  AttentionMask a;
  a.nodes = m_nodes;
  a.nnz = m_nnz;
  a.offsets = m_mask_offsets.data();
  a.indices = m_mask_indices.data();
  a.offsets_t = m_mask_offsets_t.data();
  a.indices_t = m_mask_indices_t.data();
  a.perm_t = m_mask_perm.data();
  a.long_row = kLongRow;
  a.long_rows = m_long_rows.data();
  a.long_row_tiles = m_long_row_tiles.data();
  a.n_long_rows = m_n_long_rows;
  a.n_row_tiles = m_n_row_tiles;
  a.long_cols = m_long_cols.data();
  a.long_col_tiles = m_long_col_tiles.data();
  a.n_long_cols = m_n_long_cols;
  a.n_col_tiles = m_n_col_tiles;
  a.long_row_nnz = m_long_row_nnz;
  a.long_col_nnz = m_long_col_nnz;
  return a;
}

template class GraphBatch<HostExec>;
#if SURRO_OP_DEVICE_BUILD
template class GraphBatch<ExecSpace>;
#endif

}  // namespace surro::op
