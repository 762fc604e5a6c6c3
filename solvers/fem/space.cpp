// Dof maps, batches and CSR patterns of Lagrange spaces (see space.hpp). Host-only.
#include "solvers/fem/space.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace surro::solvers::fem {

Space make_space(const mesh::Mesh& mesh, int degree) {
  SURRO_REQUIRE(mesh.dim == 2, "fem: mesh dim = " << mesh.dim << ": expected 2 (triangles)");
  SURRO_REQUIRE(degree == 1 || degree == 2, "fem: degree = " << degree << ": expected 1 or 2");
  const long long nv = mesh.num_points(), nc = mesh.num_cells();
  SURRO_REQUIRE(nc > 0 && static_cast<long long>(mesh.cells.size()) == 3 * nc,
                "fem: mesh.cells has " << mesh.cells.size() << " entries: expected a positive multiple of 3");
  for (long long c = 0; c < nc; ++c) {
    const int* v = &mesh.cells[3 * c];
    for (int k = 0; k < 3; ++k)
      SURRO_REQUIRE(v[k] >= 0 && v[k] < nv, "fem: mesh.cells[" << c << "][" << k << "] = " << v[k]
                                                               << ": expected a vertex in [0, " << nv << ")");
    const double* a = &mesh.points[2 * v[0]];
    const double* b = &mesh.points[2 * v[1]];
    const double* d = &mesh.points[2 * v[2]];
    const double det = (b[0] - a[0]) * (d[1] - a[1]) - (b[1] - a[1]) * (d[0] - a[0]);
    SURRO_REQUIRE(det > 0, "fem: cell " << c << ": signed area " << 0.5 * det
                                        << ": expected a counter-clockwise triangle of positive area");
  }
  Space s;
  s.degree = degree;
  s.nk = degree == 1 ? 3 : 6;
  s.num_vertices = nv;
  s.dof_coords.assign(mesh.points.begin(), mesh.points.end());
  if (degree == 1) {
    s.cell_dofs = mesh.cells;
    s.num_dofs = nv;
    return s;
  }
  s.edges = mesh::unique_edges(mesh);
  const std::vector<int> ce = mesh::cell_edges(mesh, s.edges);
  const long long ne = static_cast<long long>(s.edges.size()) / 2;
  s.num_dofs = nv + ne;
  for (long long e = 0; e < ne; ++e)
    for (int d = 0; d < 2; ++d)
      s.dof_coords.push_back(0.5 *
                             (mesh.points[2 * s.edges[2 * e] + d] + mesh.points[2 * s.edges[2 * e + 1] + d]));
  s.cell_dofs.resize(6 * nc);
  for (long long c = 0; c < nc; ++c)
    for (int k = 0; k < 3; ++k) {
      s.cell_dofs[6 * c + k] = mesh.cells[3 * c + k];
      s.cell_dofs[6 * c + 3 + k] = static_cast<int>(nv + ce[3 * c + k]);
    }
  return s;
}

std::vector<int> facet_dofs(const mesh::Mesh& mesh, const Space& space, const std::vector<int>& tags) {
  SURRO_REQUIRE(mesh.facet_tags.size() * 2 == mesh.facets.size(),
                "fem: mesh has " << mesh.facets.size() / 2 << " facets and " << mesh.facet_tags.size()
                                 << " facet tags: expected one tag per facet");
  std::vector<int> out;
  const std::size_t ne = space.edges.size() / 2;
  for (std::size_t f = 0; f < mesh.facet_tags.size(); ++f) {
    if (std::find(tags.begin(), tags.end(), mesh.facet_tags[f]) == tags.end()) continue;
    const int a = mesh.facets[2 * f], b = mesh.facets[2 * f + 1];
    out.push_back(a);
    out.push_back(b);
    if (space.degree == 2) {
      const std::pair<int, int> key(std::min(a, b), std::max(a, b));
      std::size_t lo = 0, hi = ne;
      while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (std::make_pair(space.edges[2 * mid], space.edges[2 * mid + 1]) < key)
          lo = mid + 1;
        else
          hi = mid;
      }
      SURRO_REQUIRE(lo < ne && space.edges[2 * lo] == key.first && space.edges[2 * lo + 1] == key.second,
                    "fem: facet " << f << " (" << a << ", " << b << ") is not a side of any cell");
      out.push_back(static_cast<int>(space.num_vertices + lo));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int tag_of(const mesh::Mesh& mesh, const std::string& name) {
  std::string names;
  for (const auto& [tag, n] : mesh.tag_names) {
    if (n == name) return tag;
    names += (names.empty() ? "" : ", ") + n;
  }
  SURRO_THROW(ErrorKind::input,
              "fem: mesh has no facet tag named \"" << name << "\": expected one of [" << names << "]");
}

BatchLayout make_batch(const std::vector<const mesh::Mesh*>& meshes,
                       const std::vector<const Space*>& spaces) {
  SURRO_REQUIRE(!meshes.empty() && meshes.size() == spaces.size(),
                "fem: batch of " << meshes.size() << " meshes and " << spaces.size()
                                 << " spaces: expected one space per mesh, at least one");
  BatchLayout l;
  l.degree = spaces[0]->degree;
  l.nk = spaces[0]->nk;
  l.batch = static_cast<int>(meshes.size());
  l.dof_offset = {0};
  l.cell_offset = {0};
  for (int b = 0; b < l.batch; ++b) {
    const mesh::Mesh& m = *meshes[b];
    const Space& s = *spaces[b];
    SURRO_REQUIRE(s.degree == l.degree, "fem: batch sample " << b << " has degree " << s.degree
                                                             << ": expected " << l.degree
                                                             << " like sample 0");
    const long long d0 = l.dof_offset.back(), nc = m.num_cells();
    SURRO_REQUIRE(d0 + s.num_dofs < (1LL << 31),
                  "fem: batch has more than 2^31 dofs: expected fewer samples");
    for (long long c = 0; c < nc; ++c) {
      for (int k = 0; k < l.nk; ++k) l.cell_dofs.push_back(static_cast<int>(d0 + s.cell_dofs[l.nk * c + k]));
      for (int k = 0; k < 3; ++k)
        for (int d = 0; d < 2; ++d) l.cell_xy.push_back(m.points[2 * m.cells[3 * c + k] + d]);
      l.cell_sample.push_back(b);
    }
    l.dof_sample.insert(l.dof_sample.end(), s.num_dofs, b);
    l.dof_coords.insert(l.dof_coords.end(), s.dof_coords.begin(), s.dof_coords.end());
    l.dof_offset.push_back(d0 + s.num_dofs);
    l.cell_offset.push_back(l.cell_offset.back() + nc);
  }
  return l;
}

CsrPattern make_pattern(const BatchLayout& l) {
  const long long nd = l.num_dofs(), nc = l.num_cells();
  const int nk = l.nk;
  CsrPattern p;
  // dof -> element-vector entries c Nk + i, ascending (cells are visited in order).
  p.dof_ptr.assign(nd + 1, 0);
  for (long long e = 0; e < nc * nk; ++e) ++p.dof_ptr[l.cell_dofs[e] + 1];
  std::partial_sum(p.dof_ptr.begin(), p.dof_ptr.end(), p.dof_ptr.begin());
  p.dof_entries.resize(nc * nk);
  {
    std::vector<long long> next(p.dof_ptr.begin(), p.dof_ptr.end() - 1);
    for (long long e = 0; e < nc * nk; ++e) p.dof_entries[next[l.cell_dofs[e]]++] = e;
  }
  // Row by row: (column, element-matrix entry) pairs sorted, grouped by column into slots.
  p.row_ptr = {0};
  p.slot_ptr = {0};
  p.diag.resize(nd);
  std::vector<std::pair<int, long long>> pairs;
  for (long long row = 0; row < nd; ++row) {
    pairs.clear();
    for (long long k = p.dof_ptr[row]; k < p.dof_ptr[row + 1]; ++k) {
      const long long c = p.dof_entries[k] / nk, i = p.dof_entries[k] % nk;
      for (int j = 0; j < nk; ++j) pairs.emplace_back(l.cell_dofs[c * nk + j], (c * nk + i) * nk + j);
    }
    std::sort(pairs.begin(), pairs.end());
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      if (k == 0 || pairs[k].first != pairs[k - 1].first) {
        if (k > 0) p.slot_ptr.push_back(static_cast<long long>(p.slot_entries.size()));
        if (pairs[k].first == row) p.diag[row] = static_cast<long long>(p.col.size());
        p.col.push_back(pairs[k].first);
      }
      p.slot_entries.push_back(pairs[k].second);
    }
    SURRO_REQUIRE(!pairs.empty(), "fem: dof " << row << " belongs to no cell");
    p.slot_ptr.push_back(static_cast<long long>(p.slot_entries.size()));
    p.row_ptr.push_back(static_cast<long long>(p.col.size()));
  }
  // Reduction chunks never straddle two samples.
  p.chunk_ptr = {0};
  p.sample_chunk = {0};
  for (int b = 0; b < l.batch; ++b) {
    for (long long r = l.dof_offset[b]; r < l.dof_offset[b + 1]; r += CsrPattern::kChunk) {
      p.chunk_ptr.push_back(std::min(r + CsrPattern::kChunk, l.dof_offset[b + 1]));
      p.chunk_sample.push_back(b);
    }
    p.sample_chunk.push_back(static_cast<long long>(p.chunk_sample.size()));
  }
  return p;
}

}  // namespace surro::solvers::fem
