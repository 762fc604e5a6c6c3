#pragma once
// What a dataset holds, independent of how it is stored: the contract between the solvers that
// produce trajectories and the writers (HDF5 in The Well's layout, VTK, FNO .mat) that store them.
//
// Field arrays are host float32, LayoutRight, one per field:
//   grid, time-varying : (B, T, Nx[, Ny[, Nz]])
//   grid, constant     : (B, Nx[, Ny[, Nz]])           (e.g. Darcy's coefficient a)
//   mesh, time-varying : per sample b (T, V_b, C), concatenated over the block's samples
//   mesh, constant     : per sample b (V_b, C), concatenated
// On a grid only scalar (rank-0, The Well's t0) fields exist. On a mesh a field has C components
// (velocity 2, pressure 1), and each sample has its own mesh (Block::meshes), so V_b varies.
#include "mesh/mesh.hpp"

#include <map>
#include <string>
#include <vector>

namespace surro::data {

struct FieldSpec {
  std::string name;          // "vorticity", "u", "a"
  bool time_varying = true;  // false: one value per sample, no T axis
  int components = 1;        // C: trailing axis of mesh fields (velocity 2); 1 on grids
};

enum class Boundary { periodic, wall, open };

struct DatasetSpec {
  std::string dataset_name;               // "ns2d_nu1e-3"
  // true: every sample lives on its own unstructured mesh (Block::meshes); dims names the spatial
  // axes, coords and boundaries stay empty, and the grid helpers below do not apply.
  bool on_mesh = false;
  std::vector<std::string> dims;          // spatial dimension names, {"x", "y"}
  std::vector<std::vector<double>> coords;  // per dim: grid coordinates (Nx), (Ny), ...
  std::vector<Boundary> boundaries;       // per dim
  std::vector<double> times;              // (T) recorded times; empty when nothing varies in time
  std::vector<FieldSpec> fields;
  std::map<std::string, double> parameters;   // simulation parameters (The Well: root attrs + /scalars)
  std::map<std::string, std::string> provenance;  // surro version, git, backend, seed, solver settings

  std::vector<int> shape() const {
    std::vector<int> s;
    for (const auto& c : coords) s.push_back(static_cast<int>(c.size()));
    return s;
  }
  long long points() const {
    long long n = 1;
    for (const auto& c : coords) n *= static_cast<long long>(c.size());
    return n;
  }
  // Elements of one sample of `field` (T * points, or points).
  long long sample_size(const FieldSpec& f) const {
    return f.time_varying ? static_cast<long long>(times.size()) * points() : points();
  }
};

// Trajectories [first, first + count) of a dataset.
struct Block {
  long long first = 0, count = 0;
  std::map<std::string, std::vector<float>> fields;  // name -> (count, [T,] Nx, ...) or, on meshes,
                                                     // the samples' ([T,] V_b, C) concatenated
  std::vector<mesh::Mesh> meshes;                    // (count) on meshes; empty on grids
  // Per-sample scalar parameters that vary across samples (mesh datasets: viscosity, inflow
  // velocity, Reynolds number, cylinder centre and radius): name -> (count).
  std::map<std::string, std::vector<double>> sample_parameters;
};

}  // namespace surro::data
