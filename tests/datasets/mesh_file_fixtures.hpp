// Mesh datasets for the tests of the mesh layout (datasets/test_mesh_file.cpp) and of the commands
// over it (app/test_dataset_commands.cpp): strip meshes of different sizes and a DatasetSpec with a
// vector, a scalar and a static field; stdout_of runs the HDF5 command-line tools (independent readers).
#pragma once

#include "datasets/spec.hpp"
#include "mesh/mesh.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace surro::test {

// A structured triangulation of [x0, x0 + nx] x [0, ny] with (nx+1)(ny+1) points, two counter-clockwise
// triangles per square, MeshGraphNets node types (left inflow 4, right outflow 5, bottom/top wall 6)
// and tagged boundary segments (1 inlet, 2 outlet, 3 wall).
inline mesh::Mesh strip_mesh(int nx, int ny, double x0) {
  mesh::Mesh m;
  m.dim = 2;
  auto id = [&](int i, int j) { return j * (nx + 1) + i; };
  for (int j = 0; j <= ny; ++j)
    for (int i = 0; i <= nx; ++i) {
      m.points.push_back(x0 + i + 0.1 / 3.0);  // not representable in float32: float64 must survive
      m.points.push_back(j);
      int t = mesh::normal;
      if (j == 0 || j == ny) t = mesh::wall;
      if (i == 0) t = mesh::inflow;
      if (i == nx) t = mesh::outflow;
      m.node_type.push_back(t);
    }
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j), id(i + 1, j + 1)});
      m.cells.insert(m.cells.end(), {id(i, j), id(i + 1, j + 1), id(i, j + 1)});
    }
  for (int j = 0; j < ny; ++j) {
    m.facets.insert(m.facets.end(), {id(0, j + 1), id(0, j)});
    m.facet_tags.push_back(1);
    m.facets.insert(m.facets.end(), {id(nx, j), id(nx, j + 1)});
    m.facet_tags.push_back(2);
  }
  for (int i = 0; i < nx; ++i) {
    m.facets.insert(m.facets.end(), {id(i, 0), id(i + 1, 0)});
    m.facet_tags.push_back(3);
    m.facets.insert(m.facets.end(), {id(i + 1, ny), id(i, ny)});
    m.facet_tags.push_back(3);
  }
  m.tag_names = {{1, "inlet"}, {2, "outlet"}, {3, "wall"}};
  return m;
}

inline data::DatasetSpec mesh_spec() {
  data::DatasetSpec s;
  s.dataset_name = "cylinder_test";
  s.on_mesh = true;
  s.dims = {"x", "y"};
  s.times = {0.0, 0.01, 0.02};
  s.fields = {{"velocity", true, 2}, {"pressure", true, 1}, {"sdf", false, 1}};
  s.parameters = {{"density", 1.0}};
  s.provenance = {{"version", "0.1.0"}, {"seed", "3"}};
  return s;
}

// Trajectories first .. first+count-1 on meshes of different sizes; distinct values plus -0, a
// denormal, NaN and infinity in velocity (the round trip must keep every bit).
inline data::Block mesh_block(const data::DatasetSpec& spec, long long first, long long count,
                              bool special = true) {
  data::Block b;
  b.first = first;
  b.count = count;
  for (long long k = 0; k < count; ++k) {
    const long long g = first + k;
    b.meshes.push_back(strip_mesh(2 + static_cast<int>(g % 3), 1 + static_cast<int>(g % 2), 0.5 * g));
    b.sample_parameters["viscosity"].push_back(1e-3 * (g + 1));
    b.sample_parameters["reynolds"].push_back(20.0 + g);
  }
  for (const auto& f : spec.fields) {
    auto& v = b.fields[f.name];
    for (const auto& m : b.meshes) {
      const long long n =
          (f.time_varying ? static_cast<long long>(spec.times.size()) : 1) * m.num_points() * f.components;
      for (long long i = 0; i < n; ++i) v.push_back(static_cast<float>(std::sin(0.37 * v.size() + first)));
    }
    if (special && f.name == "velocity") {
      v[0] = -0.0f;
      v[1] = std::numeric_limits<float>::denorm_min();
      v[2] = std::numeric_limits<float>::quiet_NaN();
      v[3] = -std::numeric_limits<float>::infinity();
    }
  }
  return b;
}

// Runs a shell command and returns its standard output; the command must exit 0.
inline std::string stdout_of(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

}  // namespace surro::test
