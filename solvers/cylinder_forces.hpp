#pragma once
// Drag and lift on the cylinder of a channel flow from nodal fields on its triangle mesh: the
// velocity (T, V, 2) and pressure (T, V) at the vertices, as CylinderFlow datasets store them and
// mesh surrogates predict them. Predicted and reference trajectories go through the same function,
// so their forces differ only by the fields.
//
// Method: the volume ("test-function") form of the force that the finite-element solver uses for
// its own functionals (solvers/fem/navier_stokes.hpp), here with P1 interpolation of the nodal
// data. With w the P1 function equal to 1 on the obstacle's vertices and 0 at every other vertex,
// and e = e_x (drag) or e_y (lift):
//   F . e = -int_Omega [ rho (du/dt + u . grad u) . e w + rho nu grad(u . e) . grad w - p de w ]
// Integrating by parts, this equals the boundary traction int_cylinder (rho nu du/dn - p n) . e
// for fields that satisfy the momentum equation, yet needs no normal derivative on the wall and
// converges faster than the surface integral (Braack & Richter 2006; John 2004). Integrals are exact
// for P1 data (7-point rule of degree 5, fem/element.hpp); only cells touching the obstacle count.
// du/dt: central differences (u_{n+1} - u_{n-1}) / (t_{n+1} - t_{n-1}) at interior frames, one-sided
// at the first and last, 0 for a single frame (a steady state).
// Accuracy: P1 on vertex data makes grad u first order in h in the cells at the wall, so the force
// carries an O(h) error where the solver's P2 functional is O(h^2) or better.
//
// Obstacle vertices: WALL nodes (mesh::NodeType, MeshGraphNets' 6) that are not on the channel
// walls y = min y, y = max y of the mesh (within 1e-9 of the height). Coefficients are DFG's:
// c = 2 F / (rho Ubar^2 D), Ubar = 2 u_max / 3, D = 2 radius; St from the lift history
// (strouhal_number).
#include "mesh/mesh.hpp"

#include <map>
#include <string>
#include <vector>

namespace surro::solvers {

// The sample parameters the coefficients need (CylinderFlow's names).
struct CylinderParams {
  double viscosity = 1e-3;  // nu, kinematic
  double density = 1.0;     // rho
  double u_max = 0.3;       // U_m, peak inflow velocity: Ubar = 2 U_m / 3
  double radius = 0.05;     // D = 2 radius
};

// CylinderParams of sample `index` from a Block's sample_parameters (viscosity, density, u_max,
// radius; each (count) per sample). Errors: Error(input) naming `source` and the missing parameter.
CylinderParams cylinder_params(const std::map<std::string, std::vector<double>>& sample_parameters,
                               long long index, const std::string& source);

struct CylinderForces {
  std::vector<double> times;             // (T)
  std::vector<double> force_x, force_y;  // (T) F . e_x, F . e_y per unit depth (N/m with SI data)
  std::vector<double> drag, lift;        // (T) c_D, c_L
  double drag_max = 0, drag_mean = 0;
  double lift_mean = 0, lift_amplitude = 0;  // (max c_L - min c_L) / 2
  double strouhal = 0;                       // NaN when the lift holds fewer than two periods
};

// Sorted obstacle vertices of a channel mesh (see above). Errors: Error(input) when the mesh has no
// node_type or fewer than 3 obstacle vertices.
std::vector<int> cylinder_obstacle_nodes(const mesh::Mesh& mesh);

// Forces and coefficients of one trajectory. mesh: 2D triangles with node_type; times (T),
// strictly increasing; velocity (T, V, 2), pressure (T, V) (physical: rho times the kinematic
// pressure), host. Errors: Error(input) for a bad mesh or obstacle, Error(runtime) for bad sizes
// or parameters.
CylinderForces cylinder_forces(const mesh::Mesh& mesh, const std::vector<double>& times,
                               const float* velocity, const float* pressure, const CylinderParams& params);

}  // namespace surro::solvers
