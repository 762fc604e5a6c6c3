#pragma once
// What a dataset holds, independent of how it is stored: the contract between the solvers that
// produce trajectories and the writers (HDF5 in The Well's layout, VTK, FNO .mat) that store them.
//
// Field arrays are host float32, LayoutRight, one per field:
//   time-varying : (B, T, Nx[, Ny[, Nz]])
//   constant     : (B, Nx[, Ny[, Nz]])           (e.g. Darcy's coefficient a)
// Only scalar (rank-0, The Well's t0) fields exist today; vector and tensor fields add trailing
// (D) / (D, D) axes when a solver needs them.
#include <map>
#include <string>
#include <vector>

namespace surro::data {

struct FieldSpec {
  std::string name;          // "vorticity", "u", "a"
  bool time_varying = true;  // false: one value per sample, no T axis
};

enum class Boundary { periodic, wall, open };

struct DatasetSpec {
  std::string dataset_name;               // "ns2d_nu1e-3"
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
  std::map<std::string, std::vector<float>> fields;  // name -> (count, [T,] Nx, ...)
};

}  // namespace surro::data
