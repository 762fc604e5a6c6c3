#pragma once
// Flow past a cylinder in a channel on unstructured triangle meshes: the DFG benchmark geometry
// (Schäfer & Turek 1996) and the CylinderFlow family of MeshGraphNets, where each sample draws its
// own cylinder and inflow. The solver is the finite-element Navier–Stokes solver of solvers/fem
// (Taylor–Hood P2–P1, incremental pressure correction; docs/solvers.md).
//
// Sample i draws, from the Philox stream i of the run's seed: cylinder centre x, y and radius, and
// the peak Reynolds number Re = Ū D / ν (Ū = 2 U_m / 3, D = 2 r), each uniformly from its range
// (a range [a, a] fixes the value). Its mesh (Gmsh) and its trajectory depend only on (seed, i).
//
// Recorded: velocity (T, V, 2) and pressure (T, V, 1) at the mesh vertices, at times
// spinup + k record_dt, k = 0 .. steps − 1; per step the drag and lift coefficients and the
// pressure difference across the cylinder (DFG definitions, with the sample's Ū and D).
#include "core/config.hpp"
#include "solvers/solver.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace surro::solvers {

struct CylinderFlowSettings {
  double length = 2.2, height = 0.41;            // channel [0, length] x [0, height]
  std::array<double, 2> cylinder_x{0.15, 0.35};  // centre x range
  std::array<double, 2> cylinder_y{0.16, 0.25};  // centre y range
  std::array<double, 2> radius{0.035, 0.065};    // radius range
  std::array<double, 2> reynolds{80.0, 160.0};   // peak Re = Ū D / ν range
  double viscosity = 1e-3, density = 1.0;
  // steady: U_m(t) = U_m s(t), s ramping smoothly from 0 to 1 over ramp_time (sin² profile), then 1;
  // dfg_2d3: U_m(t) = U_m sin(π t / 8), the DFG 2D-3 benchmark (ramp_time unused).
  std::string inflow = "steady";
  double ramp_time = 1.0;
  double mesh_size = 0.0, mesh_size_obstacle = 0.0;  // Gmsh target sizes; 0: mesh::ChannelGeometry's
  // A Gmsh .msh file to use for every sample instead of generated meshes (MSH 4.1 or 2.2, linear
  // triangles). `groups` names its boundary physical groups for the four roles inlet, outlet, walls
  // and cylinder (node types 4, 5, 6, 6). The cylinder ranges must then be fixed values: they give
  // D for the coefficients and the pressure probes.
  std::string mesh_file;
  std::array<std::string, 4> groups{"inlet", "outlet", "walls", "cylinder"};
  double dt = 0.0025;        // internal time step
  double record_dt = 0.01;   // between recorded frames: a multiple of dt
  long long steps = 600;     // recorded frames
  double spinup = 3.0;       // simulated time before the first recorded frame
  double tolerance = 1e-10;  // relative residual of every linear solve
  long long max_iterations = 2000;
  std::string preconditioner = "amg";  // of the pressure CG: "amg" or "jacobi"

  long long substeps() const;  // dt steps per recorded frame
};

// Reads and validates a "cylinder_flow" solver section (errors name "solver.<key>").
CylinderFlowSettings read_cylinder_flow(config::Node& node);
std::unique_ptr<Solver> make_cylinder_flow(config::Node& node);
std::unique_ptr<Solver> make_cylinder_flow(const CylinderFlowSettings& settings);

// Strouhal number St = f D / Ubar of a lift history (times (S), lift (S)): f from the upward
// crossings of the lift's mean, interpolated linearly between samples, averaged over all whole
// periods. NaN when the window holds fewer than two periods (no periodic shedding).
double strouhal_number(const std::vector<double>& times, const std::vector<double>& lift, double diameter,
                       double mean_velocity);

}  // namespace surro::solvers
