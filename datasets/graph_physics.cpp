// Export of mesh datasets to graph-physics' HDF5 + meta.json layout (declared in mesh_file.hpp).
// graph-physics (DonsetPG/graph-physics, dataset/h5_dataset.py and utils/hierarchical.py) lists the
// root's keys as trajectories, reads every feature named in meta["features"] from the trajectory's
// group, reshapes it to that feature's "shape" and indexes static features by frame as well; the
// node features of a frame are the non-mesh features in meta order, then node_type.
#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/mesh_file.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace surro::data {
namespace fs = std::filesystem;

namespace {

// Repeats a (rows) block T times: (T, rows).
template <class Out, class In>
std::vector<Out> repeat(const In* data, std::size_t rows, std::size_t T) {
  std::vector<Out> out(rows * T);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t i = 0; i < rows; ++i) out[t * rows + i] = static_cast<Out>(data[i]);
  return out;
}

// dt of equally spaced times; Error(input) otherwise (graph-physics uses t = frame * dt).
double uniform_step(const std::vector<double>& times, const std::string& file) {
  const std::size_t T = times.size();
  if (T < 2)
    SURRO_THROW(ErrorKind::input,
                file << ": /time: " << T << " recorded time(s): expected at least 2 for graph-physics");
  const double dt = (times[T - 1] - times[0]) / static_cast<double>(T - 1);
  for (std::size_t k = 1; k < T; ++k) {
    const double step = times[k] - times[k - 1];
    // 1e-6 relative: the steps of a fixed-dt solver agree to rounding, a varying step by far more.
    if (std::abs(step - dt) > 1e-6 * std::abs(dt))
      SURRO_THROW(ErrorKind::input,
                  file << ": /time: step " << k << " is " << step << ": expected equally spaced times "
                       << "(dt = " << dt << ") for graph-physics, which uses t = frame * dt");
  }
  return dt;
}

bool same_fields(const DatasetSpec& a, const DatasetSpec& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (std::size_t i = 0; i < a.fields.size(); ++i)
    if (a.fields[i].name != b.fields[i].name || a.fields[i].components != b.fields[i].components ||
        a.fields[i].time_varying != b.fields[i].time_varying)
      return false;
  return true;
}

// One trajectory as a graph-physics group: every array (T, ., .) with static data repeated.
void write_trajectory(hid_t root, const DatasetSpec& spec, const Block& one) {
  const mesh::Mesh& m = one.meshes.at(0);
  const std::size_t T = spec.times.size(), D = static_cast<std::size_t>(m.dim);
  const hsize_t V = m.num_points(), Nc = m.num_cells(), hT = T;
  char name[32];  // zero-padded like the mesh layout, so name order is index order
  std::snprintf(name, sizeof name, "%06lld", one.first);
  h5::Group g = h5::create_group(root, name);
  const auto pos = repeat<float>(m.points.data(), m.points.size(), T);  // (T, V, D)
  h5::write_float_dataset(g, "mesh_pos", {hT, V, D}, pos.data(), true);
  const auto cells = repeat<int>(m.cells.data(), m.cells.size(), T);  // (T, Nc, D+1)
  h5::write_int_dataset(g, "cells", {hT, Nc, D + 1}, cells.data(), true);
  const auto nt = repeat<int>(m.node_type.data(), m.node_type.size(), T);  // (T, V, 1)
  h5::write_int_dataset(g, "node_type", {hT, V, 1}, nt.data(), true);
  for (const auto& f : spec.fields) {
    const std::vector<float>& u = one.fields.at(f.name);  // (T, V, C) or (V, C)
    const hsize_t C = static_cast<hsize_t>(f.components);
    if (f.time_varying) {
      h5::write_float_dataset(g, f.name, {hT, V, C}, u.data(), true);
    } else {
      const auto r = repeat<float>(u.data(), u.size(), T);  // (T, V, C)
      h5::write_float_dataset(g, f.name, {hT, V, C}, r.data(), true);
    }
  }
}

nlohmann::ordered_json meta_of(const DatasetSpec& spec, double dt) {
  const long long T = static_cast<long long>(spec.times.size());
  const long long D = static_cast<long long>(spec.dims.size());
  nlohmann::ordered_json features = nlohmann::ordered_json::object();
  auto feature = [&](const std::string& name, const char* type, long long C, const char* dtype) {
    features[name] = {{"type", type}, {"shape", {T, -1, C}}, {"dtype", dtype}};
  };
  // Mesh entries first, as graph-physics' own meta files list them; the node features are then the
  // fields in spec order (velocity, pressure), and graph-physics appends node_type itself.
  feature("cells", "static", D + 1, "int32");
  feature("mesh_pos", "static", D, "float32");
  feature("node_type", "static", 1, "int32");
  for (const auto& f : spec.fields)
    feature(f.name, f.time_varying ? "dynamic" : "static", f.components, "float32");
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (auto it = features.begin(); it != features.end(); ++it) names.push_back(it.key());
  nlohmann::ordered_json meta;
  meta["dataset_name"] = spec.dataset_name;
  meta["dt"] = dt;
  meta["t0"] = spec.times.front();
  meta["trajectory_length"] = T;
  meta["features"] = features;
  meta["field_names"] = names;
  return meta;
}

}  // namespace

std::string graph_physics_meta_path(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + "_meta.json")).string();
}

void export_graph_physics(const std::string& path, const std::vector<std::string>& mesh_files) {
  if (mesh_files.empty()) SURRO_THROW(ErrorKind::input, path << ": no mesh dataset files to export");
  const DatasetSpec spec = read_mesh_file(mesh_files.front(), 0, 0).spec;
  const double dt = uniform_step(spec.times, mesh_files.front());
  std::map<long long, std::string> seen;  // global trajectory index -> file
  std::vector<long long> counts;
  for (const auto& file : mesh_files) {
    const MeshFile h = read_mesh_file(file, 0, 0);  // attributes only; block.count = 0
    if (h.spec.dataset_name != spec.dataset_name || !same_fields(h.spec, spec) ||
        h.spec.times != spec.times || h.spec.dims != spec.dims)
      SURRO_THROW(ErrorKind::input, file << ": dataset name, fields, dims or times differ from "
                                         << mesh_files.front() << ": expected files of one dataset");
    const long long n = h5::read_int_attr(h5::open_file(file), "n_trajectories");
    for (long long i = 0; i < n; ++i) {
      auto [it, fresh] = seen.emplace(h.block.first + i, file);
      if (!fresh)
        SURRO_THROW(ErrorKind::input, file << ": trajectory " << h.block.first + i << " is also in "
                                           << it->second << ": expected every trajectory once");
    }
    counts.push_back(n);
  }
  io::write_atomic(path, [&](const std::string& tmp) {
    h5::File out = h5::create_file(tmp);
    // Root attributes only: graph-physics takes every root key (link) for a trajectory.
    h5::write_string_attr(out, "dataset_name", spec.dataset_name);
    for (const auto& p : spec.provenance) h5::write_string_attr(out, "surro_" + p.first, p.second);
    for (std::size_t k = 0; k < mesh_files.size(); ++k)
      for (long long i = 0; i < counts[k]; ++i)  // one trajectory in memory at a time
        write_trajectory(out, spec, read_mesh_file(mesh_files[k], i, 1).block);
    h5::close_file(out);
  });
  io::write_text_atomic(graph_physics_meta_path(path), meta_of(spec, dt).dump(2) + "\n");
}

}  // namespace surro::data
