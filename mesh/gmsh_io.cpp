#include "mesh/gmsh_io.hpp"

#include "core/error.hpp"

#include <gmsh.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

namespace surro::mesh {
namespace impl::gmsh_io {

// Gmsh element type codes (gmsh.h, getElementProperties): the only ones surro reads.
constexpr int kLine2 = 1;
constexpr int kTriangle3 = 2;
constexpr int kTetrahedron4 = 4;

// Gmsh's global state, initialized on first use and finalized at exit. Function-local statics are
// destroyed before libgmsh's own globals (which exist before main), so finalize runs on a live library.
struct GmshRuntime {
  GmshRuntime() { gmsh::initialize(0, nullptr, /*readConfigFiles=*/false); }
  ~GmshRuntime() {
    try {
      gmsh::finalize();
    } catch (...) {
    }
  }
};

std::mutex& gmsh_mutex() {
  static std::mutex m;
  return m;
}

// One use of the global Gmsh model: holds the lock, starts from an empty model with surro's options,
// and maps Gmsh's errors (4.8 throws the message as std::string when General.AbortOnError = 2, the
// API's default) to Error(kind) naming `source`.
class GmshSession {
 public:
  GmshSession(std::string source, ErrorKind kind)
      : m_lock(gmsh_mutex()), m_source(std::move(source)), m_kind(kind) {
    static GmshRuntime runtime;
    run([] {
      gmsh::option::setNumber("General.Terminal", 0);
      gmsh::option::setNumber("General.Verbosity", 0);
      gmsh::option::setNumber("General.AbortOnError", 2);
      // One thread and a fixed seed: the same geometry gives the same mesh on every run.
      gmsh::option::setNumber("General.NumThreads", 1);
      gmsh::option::setNumber("Mesh.MaxNumThreads2D", 1);
      gmsh::option::setNumber("Mesh.MaxNumThreads3D", 1);
      gmsh::option::setNumber("Mesh.RandomSeed", 1);
      gmsh::option::setNumber("Mesh.Algorithm", 6);  // Frontal-Delaunay
      gmsh::clear();
    });
  }
  ~GmshSession() {
    try {
      gmsh::clear();
    } catch (...) {
    }
  }
  GmshSession(const GmshSession&) = delete;
  GmshSession& operator=(const GmshSession&) = delete;

  template <class F>
  void run(F&& f) {
    try {
      f();
    } catch (const std::string& message) {
      SURRO_THROW(m_kind, m_source << ": gmsh: " << message);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      SURRO_THROW(m_kind, m_source << ": gmsh: " << e.what());
    }
  }

 private:
  std::lock_guard<std::mutex> m_lock;
  std::string m_source;
  ErrorKind m_kind;
};

std::string element_name(int type) {
  std::string name;
  int dim = 0, order = 0, nodes = 0, primary = 0;
  std::vector<double> local;
  gmsh::model::mesh::getElementProperties(type, name, dim, order, nodes, local, primary);
  return name;
}

// Cells of dimension `dim` (every element of that dimension must be a linear simplex) with their
// Gmsh node tags: (Nc, dim + 1). Errors: Error(input) naming the element type and count.
std::vector<std::size_t> cell_node_tags(int dim, const std::string& source) {
  std::vector<int> types;
  std::vector<std::vector<std::size_t>> element_tags, node_tags;
  gmsh::model::mesh::getElements(types, element_tags, node_tags, dim, -1);
  const int simplex = dim == 2 ? kTriangle3 : kTetrahedron4;
  std::vector<std::size_t> cells;
  for (std::size_t t = 0; t < types.size(); ++t) {
    if (types[t] != simplex)
      SURRO_THROW(ErrorKind::input, source << ": " << element_tags[t].size() << " elements of type '"
                                           << element_name(types[t]) << "' (gmsh type " << types[t]
                                           << "): expected only linear "
                                           << (dim == 2 ? "triangles (3-node)" : "tetrahedra (4-node)"));
    cells.insert(cells.end(), node_tags[t].begin(), node_tags[t].end());
  }
  return cells;
}

// Gmsh node tag -> compact index, in increasing tag order, over the nodes that cells use.
std::unordered_map<std::size_t, int> compact_numbering(const std::vector<std::size_t>& cell_tags) {
  std::vector<std::size_t> used(cell_tags);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  std::unordered_map<std::size_t, int> index;
  index.reserve(used.size());
  for (std::size_t i = 0; i < used.size(); ++i) index.emplace(used[i], static_cast<int>(i));
  return index;
}

// Boundary facets from the physical groups of dimension dim - 1, in increasing group tag, then entity,
// then element order. Unnamed groups are named by their tag ("7").
void extract_facets(Mesh& mesh, const std::unordered_map<std::size_t, int>& index,
                    const std::string& source) {
  const int fdim = mesh.dim - 1;
  const int facet_type = mesh.dim == 2 ? kLine2 : kTriangle3;
  gmsh::vectorpair groups;
  gmsh::model::getPhysicalGroups(groups, fdim);
  std::sort(groups.begin(), groups.end());
  for (const auto& group : groups) {
    std::string name;
    gmsh::model::getPhysicalName(fdim, group.second, name);
    mesh.tag_names[group.second] = name.empty() ? std::to_string(group.second) : name;
    std::vector<int> entities;
    gmsh::model::getEntitiesForPhysicalGroup(fdim, group.second, entities);
    for (const int entity : entities) {
      std::vector<int> types;
      std::vector<std::vector<std::size_t>> element_tags, node_tags;
      gmsh::model::mesh::getElements(types, element_tags, node_tags, fdim, entity);
      for (std::size_t t = 0; t < types.size(); ++t) {
        if (types[t] != facet_type)
          SURRO_THROW(ErrorKind::input, source << ": physical group '" << mesh.tag_names[group.second]
                                               << "': " << element_tags[t].size() << " elements of type '"
                                               << element_name(types[t]) << "' (gmsh type " << types[t]
                                               << "): expected only linear "
                                               << (mesh.dim == 2 ? "lines (2-node)" : "triangles (3-node)"));
        for (const std::size_t tag : node_tags[t]) {
          const auto it = index.find(tag);
          if (it == index.end())
            SURRO_THROW(ErrorKind::input, source << ": physical group '" << mesh.tag_names[group.second]
                                                 << "': node " << tag << " is in no cell: expected boundary "
                                                 << "facets on the mesh's cells");
          mesh.facets.push_back(it->second);
        }
        mesh.facet_tags.insert(mesh.facet_tags.end(), element_tags[t].size(), group.second);
      }
    }
  }
}

// The current Gmsh model's mesh of dimension `dim` as a Mesh (node types not assigned). Only nodes of
// cells are kept (Gmsh also meshes geometry-only points such as a circle's centre).
Mesh extract_mesh(int dim, const std::string& source) {
  Mesh mesh;
  mesh.dim = dim;
  const std::vector<std::size_t> cell_tags = cell_node_tags(dim, source);
  if (cell_tags.empty())
    SURRO_THROW(ErrorKind::input, source << ": no " << (dim == 2 ? "triangles" : "tetrahedra")
                                         << ": expected a " << dim << "D simplex mesh");
  const std::unordered_map<std::size_t, int> index = compact_numbering(cell_tags);

  std::vector<std::size_t> node_tags;
  std::vector<double> coords, parametric;
  gmsh::model::mesh::getNodes(node_tags, coords, parametric, -1, -1, false, false);
  mesh.points.assign(index.size() * static_cast<std::size_t>(dim), 0.0);
  std::vector<char> seen(index.size(), 0);
  for (std::size_t n = 0; n < node_tags.size(); ++n) {
    const auto it = index.find(node_tags[n]);
    if (it == index.end()) continue;
    for (int d = 0; d < dim; ++d)
      mesh.points[static_cast<std::size_t>(it->second) * dim + d] = coords[3 * n + d];
    if (dim == 2 && coords[3 * n + 2] != 0.0)
      SURRO_THROW(ErrorKind::input, source << ": node " << node_tags[n] << " has z = " << coords[3 * n + 2]
                                           << ": expected a 2D mesh in the plane z = 0");
    seen[static_cast<std::size_t>(it->second)] = 1;
  }
  for (const auto& kv : index)
    if (!seen[static_cast<std::size_t>(kv.second)])
      SURRO_THROW(ErrorKind::input, source << ": node " << kv.first << " is used by a cell but has no "
                                           << "coordinates: expected it in the $Nodes section");
  mesh.cells.reserve(cell_tags.size());
  for (const std::size_t tag : cell_tags) mesh.cells.push_back(index.at(tag));
  extract_facets(mesh, index, source);
  return mesh;
}

// Makes every cell positively oriented by swapping its last two nodes where its signed measure is
// negative (Gmsh orients a surface's triangles by the surface's normal). Degenerate cells stay.
void orient_cells(Mesh& mesh) {
  const std::vector<double> measure = cell_measures(mesh);
  const int nk = mesh.nodes_per_cell();
  for (std::size_t c = 0; c < measure.size(); ++c)
    if (measure[c] < 0) std::swap(mesh.cells[c * nk + nk - 2], mesh.cells[c * nk + nk - 1]);
}

// Builds the channel's geometry with Gmsh's built-in kernel (exact, no OpenCASCADE) and its physical
// groups. The outer loop runs counter-clockwise, so the surface's normal is +z.
void build_channel_geometry(const ChannelGeometry& g) {
  namespace geo = gmsh::model::geo;
  const int p1 = geo::addPoint(0, 0, 0);
  const int p2 = geo::addPoint(g.length, 0, 0);
  const int p3 = geo::addPoint(g.length, g.height, 0);
  const int p4 = geo::addPoint(0, g.height, 0);
  const int bottom = geo::addLine(p1, p2);
  const int right = geo::addLine(p2, p3);
  const int top = geo::addLine(p3, p4);
  const int left = geo::addLine(p4, p1);
  // The circle as four quarter arcs (a Gmsh arc spans less than pi).
  const int centre = geo::addPoint(g.cx, g.cy, 0);
  const int c0 = geo::addPoint(g.cx + g.radius, g.cy, 0);
  const int c1 = geo::addPoint(g.cx, g.cy + g.radius, 0);
  const int c2 = geo::addPoint(g.cx - g.radius, g.cy, 0);
  const int c3 = geo::addPoint(g.cx, g.cy - g.radius, 0);
  const std::vector<int> arcs{geo::addCircleArc(c0, centre, c1), geo::addCircleArc(c1, centre, c2),
                              geo::addCircleArc(c2, centre, c3), geo::addCircleArc(c3, centre, c0)};
  const int outer = geo::addCurveLoop({bottom, right, top, left});
  const int hole = geo::addCurveLoop(arcs);
  const int surface = geo::addPlaneSurface({outer, hole});
  geo::synchronize();

  namespace model = gmsh::model;
  model::addPhysicalGroup(1, {left}, inlet_tag);
  model::setPhysicalName(1, inlet_tag, "inlet");
  model::addPhysicalGroup(1, {right}, outlet_tag);
  model::setPhysicalName(1, outlet_tag, "outlet");
  model::addPhysicalGroup(1, {bottom, top}, walls_tag);
  model::setPhysicalName(1, walls_tag, "walls");
  model::addPhysicalGroup(1, arcs, cylinder_tag);
  model::setPhysicalName(1, cylinder_tag, "cylinder");
  model::addPhysicalGroup(2, {surface}, fluid_tag);
  model::setPhysicalName(2, fluid_tag, "fluid");

  // Size: a Threshold on the distance to the arcs is the only size source.
  namespace field = gmsh::model::mesh::field;
  const int distance = field::add("Distance");
  field::setNumbers(distance, "CurvesList", std::vector<double>(arcs.begin(), arcs.end()));
  // Sample the arcs finely enough that the distance is accurate to well below size_obstacle.
  field::setNumber(distance, "NumPointsPerCurve", 200);
  const int threshold = field::add("Threshold");
  field::setNumber(threshold, "InField", distance);
  field::setNumber(threshold, "SizeMin", g.size_obstacle);
  field::setNumber(threshold, "SizeMax", g.size);
  field::setNumber(threshold, "DistMin", 0.0);
  field::setNumber(threshold, "DistMax", g.dist_max);
  field::setAsBackgroundMesh(threshold);
  gmsh::option::setNumber("Mesh.MeshSizeFromPoints", 0);
  gmsh::option::setNumber("Mesh.MeshSizeFromCurvature", 0);
  gmsh::option::setNumber("Mesh.MeshSizeExtendFromBoundary", 0);
}

}  // namespace impl::gmsh_io

void validate_channel(const ChannelGeometry& g, const std::string& where) {
  const auto positive = [&](double v, const char* key) {
    if (!(v > 0) || !std::isfinite(v))
      SURRO_THROW(ErrorKind::usage, where << "." << key << " = " << v << ": expected a positive length");
  };
  positive(g.length, "length");
  positive(g.height, "height");
  positive(g.radius, "radius");
  positive(g.size, "size");
  positive(g.size_obstacle, "size_obstacle");
  positive(g.dist_max, "dist_max");
  if (g.size_obstacle > g.size)
    SURRO_THROW(ErrorKind::usage,
                where << ".size_obstacle = " << g.size_obstacle << ": expected at most size = " << g.size);
  // The cylinder must keep at least one obstacle-sized element between itself and every wall.
  const double margin = g.size_obstacle;
  if (!(g.cx - g.radius >= margin && g.cx + g.radius <= g.length - margin))
    SURRO_THROW(ErrorKind::usage, where << ".cx = " << g.cx << ": expected the cylinder (radius " << g.radius
                                        << ") inside [0, length = " << g.length << "] with a margin of "
                                        << margin << " (size_obstacle)");
  if (!(g.cy - g.radius >= margin && g.cy + g.radius <= g.height - margin))
    SURRO_THROW(ErrorKind::usage, where << ".cy = " << g.cy << ": expected the cylinder (radius " << g.radius
                                        << ") inside [0, height = " << g.height << "] with a margin of "
                                        << margin << " (size_obstacle)");
}

void assign_node_types(Mesh& mesh, const std::map<std::string, int>& group_to_node_type,
                       const std::string& source) {
  // Lower rank wins where groups meet: wall, obstacle, airfoil, handle, inflow, outflow, normal.
  constexpr int kRank[node_type_count] = {8, 1, 2, 3, 4, 5, 0, 6, 7};
  for (const auto& kv : group_to_node_type)
    if (kv.second < 0 || kv.second >= node_type_count)
      SURRO_THROW(ErrorKind::input, source << ": node type of group '" << kv.first << "' = " << kv.second
                                           << ": expected 0.." << node_type_count - 1);
  const long long nv = mesh.num_points();
  mesh.node_type.assign(static_cast<std::size_t>(nv), normal);
  for (long long f = 0; f < mesh.num_facets(); ++f) {
    const int tag = mesh.facet_tags[static_cast<std::size_t>(f)];
    const auto name = mesh.tag_names.find(tag);
    const auto type =
        name == mesh.tag_names.end() ? group_to_node_type.end() : group_to_node_type.find(name->second);
    if (type == group_to_node_type.end()) {
      std::ostringstream known;
      for (const auto& kv : group_to_node_type)
        known << (known.tellp() > 0 ? ", " : "") << "'" << kv.first << "'";
      SURRO_THROW(ErrorKind::input,
                  source << ": boundary facet " << f << " is in physical group "
                         << (name == mesh.tag_names.end() ? std::to_string(tag) : "'" + name->second + "'")
                         << ", which the node-type table does not name: expected one of " << known.str());
    }
    for (int k = 0; k < mesh.dim; ++k) {
      int& t =
          mesh.node_type[static_cast<std::size_t>(mesh.facets[static_cast<std::size_t>(f) * mesh.dim + k])];
      if (kRank[type->second] < kRank[t]) t = type->second;
    }
  }
}

Mesh generate_channel(const ChannelGeometry& geometry) {
  validate_channel(geometry);
  std::ostringstream name;
  name << "channel(length " << geometry.length << ", height " << geometry.height << ", cylinder ("
       << geometry.cx << ", " << geometry.cy << ") r " << geometry.radius << ")";
  impl::gmsh_io::GmshSession session(name.str(), ErrorKind::runtime);
  Mesh mesh;
  session.run([&] {
    impl::gmsh_io::build_channel_geometry(geometry);
    gmsh::model::mesh::generate(2);
    mesh = impl::gmsh_io::extract_mesh(2, name.str());
  });
  impl::gmsh_io::orient_cells(mesh);
  assign_node_types(mesh, {{"inlet", inflow}, {"outlet", outflow}, {"walls", wall}, {"cylinder", wall}},
                    name.str());
  return mesh;
}

}  // namespace surro::mesh
