#pragma once
// Meshes through Gmsh (the C++ API of libgmsh 4.8): generating the DFG cylinder channel, and reading
// .msh files that users bring. This header does not include gmsh.h: only surro_mesh links Gmsh.
//
// Gmsh keeps one global model. Every function here takes a process-wide lock, initializes Gmsh once
// (quiet: General.Terminal = 0, General.Verbosity = 0; one thread, fixed seed, so the same input gives
// the same mesh), clears the model before and after its work, and turns Gmsh's errors (a thrown
// std::string in 4.8) into surro::Error.
#include "mesh/mesh.hpp"

#include <map>
#include <string>

namespace surro::mesh {

// The DFG "flow around a cylinder" channel (Schaefer & Turek 1996), also MeshGraphNets' CylinderFlow
// domain: the rectangle [0, length] x [0, height] minus the disk of `radius` around (cx, cy). Lengths
// in metres.
//
// Element size: `size_obstacle` on the cylinder, growing linearly with the distance d from the
// cylinder's surface to `size` at d >= dist_max (a Gmsh Distance + Threshold field, the only size
// source: sizes from points and curvature are off).
//
// Node counts (Gmsh 4.8.4, Frontal-Delaunay, default geometry):
//   size 0.0275, size_obstacle 0.01,   dist_max 0.2  ->  1,873 nodes (CylinderFlow: 1,876 to ~1,885);
//                                                         the defaults
//   size 0.01,   size_obstacle 0.0025, dist_max 0.2  ->  15,009 nodes   (a refined DFG mesh)
//   size 0.008,  size_obstacle 0.002,  dist_max 0.2  ->  23,315 nodes
// Test [gmsh] pins the default node count to 1,800..2,000.
struct ChannelGeometry {
  double length = 2.2;
  double height = 0.41;
  double cx = 0.2;
  double cy = 0.2;
  double radius = 0.05;
  double size = 0.0275;         // far-field target element size
  double size_obstacle = 0.01;  // element size on the cylinder
  double dist_max = 0.2;        // distance from the cylinder's surface where the size reaches `size`
};

// Physical groups of generate_channel's boundary facets (Mesh::tag_names) and the fluid surface.
enum ChannelTag : int { inlet_tag = 1, outlet_tag = 2, walls_tag = 3, cylinder_tag = 4, fluid_tag = 5 };

// Checks a geometry: positive lengths and sizes, size_obstacle <= size, the cylinder inside the
// channel with a margin of at least size_obstacle to every wall. `where` names the input (a config
// key prefix such as "solver.mesh"). Errors: Error(usage) naming the key.
void validate_channel(const ChannelGeometry& geometry, const std::string& where = "channel");

// Triangulates the channel. The result:
//   cells      (Nc, 3)  counter-clockwise triangles
//   points     (V, 2)   nodes numbered 0..V-1 in the order of Gmsh's node tags (deterministic: same
//                       geometry, same mesh); only nodes of triangles are kept
//   facets     (Nf, 2)  boundary segments tagged inlet (x = 0), outlet (x = length), walls (y = 0 and
//                       y = height), cylinder; tag_names = {1 inlet, 2 outlet, 3 walls, 4 cylinder}
//   node_type  (V)      inflow on inlet nodes, outflow on outlet nodes, wall on walls and cylinder,
//                       normal elsewhere. The four corners lie on the inlet or outlet and on a wall:
//                       they are wall (no-slip holds there; see assign_node_types).
Mesh generate_channel(const ChannelGeometry& geometry);

// Sets mesh.node_type (V) from the tagged boundary facets: every node of a facet whose group name is
// in `group_to_node_type` gets that type; other nodes are normal. A node on facets of several groups
// takes the type first in the order wall, obstacle, airfoil, handle, inflow, outflow: the boundary
// condition that constrains most (no-slip) wins at corners. `source` names the mesh in errors.
// Errors: Error(input) for a facet tag without a name in tag_names or a type outside 0..8.
void assign_node_types(Mesh& mesh, const std::map<std::string, int>& group_to_node_type,
                       const std::string& source);

}  // namespace surro::mesh
