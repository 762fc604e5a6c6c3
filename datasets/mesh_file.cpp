#include "datasets/mesh_file.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/detail.hpp"
#include "datasets/hdf5.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

namespace surro::data {
namespace fs = std::filesystem;
using detail::contains;
using detail::join;
using detail::moments_of;
using detail::valid_link_name;
using detail::Validator;
using h5::describe_dims;

namespace {

constexpr const char* kFirstTrajectoryAttr = "surro_first_trajectory";
constexpr const char* kProvenancePrefix = "surro_";
const std::vector<std::string> kReservedRootAttrs = {
    "dataset_name", "layout",           "n_spatial_dims",     "n_trajectories",        "spatial_dims",
    "field_names",  "field_components", "field_time_varying", "simulation_parameters", "sample_parameters"};
// Dataset names a trajectory group uses for its mesh; fields may not take them.
const std::vector<std::string> kMeshDatasets = {"mesh_pos", "cells", "node_type", "facets", "facet_tags"};

// Zero-padded so that name order is index order (h5py and HDF5 list links by name).
std::string trajectory_name(long long index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", index);
  return buf;
}

std::string trajectory_path(long long index) {
  return "/trajectories/" + trajectory_name(index);
}

// Field arrays of one trajectory: (T, V, C) when time-varying, else (V, C).
std::vector<hsize_t> field_dims(const DatasetSpec& spec, const FieldSpec& f, long long V) {
  if (f.time_varying) return {spec.times.size(), static_cast<hsize_t>(V), static_cast<hsize_t>(f.components)};
  return {static_cast<hsize_t>(V), static_cast<hsize_t>(f.components)};
}

long long field_values(const DatasetSpec& spec, const FieldSpec& f, long long V) {
  long long n = 1;
  for (hsize_t d : field_dims(spec, f, V)) n *= static_cast<long long>(d);
  return n;
}

// The first entry of an index array (rows of `cols`) outside [0, V), or "" when all are inside:
// "cells[12][1] = 99: expected a node index in [0, V=50)". Shared by writer, reader and validator.
std::string index_violation(const std::vector<int>& idx, long long cols, long long V,
                            const std::string& what) {
  long long bad = 0, first = -1;
  for (std::size_t i = 0; i < idx.size(); ++i)
    if (idx[i] < 0 || idx[i] >= V) {
      if (first < 0) first = static_cast<long long>(i);
      ++bad;
    }
  if (bad == 0) return "";
  std::ostringstream os;
  os << what << "[" << first / cols << "]";
  if (cols > 1) os << "[" << first % cols << "]";
  os << " = " << idx[static_cast<std::size_t>(first)] << ": expected a node index in [0, V=" << V << ")";
  if (bad > 1) os << " (" << bad << " entries out of range)";
  return os.str();
}

std::string node_type_violation(const std::vector<int>& nt) {
  long long bad = 0, first = -1;
  for (std::size_t i = 0; i < nt.size(); ++i)
    if (nt[i] < 0 || nt[i] >= mesh::node_type_count) {
      if (first < 0) first = static_cast<long long>(i);
      ++bad;
    }
  if (bad == 0) return "";
  std::ostringstream os;
  os << "node_type[" << first << "] = " << nt[static_cast<std::size_t>(first)]
     << ": expected a MeshGraphNets node type in [0, " << int(mesh::node_type_count) << ")";
  if (bad > 1) os << " (" << bad << " entries out of range)";
  return os.str();
}

// ---- writer ------------------------------------------------------------------------------------

void check_spec(const DatasetSpec& spec, const std::string& ctx) {
  SURRO_REQUIRE(
      spec.on_mesh,
      ctx << ": spec.on_mesh = false: expected a mesh dataset (grid data goes through write_well_file)");
  SURRO_REQUIRE(!spec.dataset_name.empty(), ctx << ": dataset_name: expected a non-empty name");
  const std::size_t D = spec.dims.size();
  SURRO_REQUIRE(D == 2 || D == 3, ctx << ": dims: " << D << " spatial dimensions: expected 2 or 3");
  std::set<std::string> seen;
  for (const auto& d : spec.dims)
    SURRO_REQUIRE(!d.empty() && seen.insert(d).second,
                  ctx << ": dims: '" << d << "': expected unique non-empty names");
  SURRO_REQUIRE(!spec.fields.empty(), ctx << ": fields: expected at least one field");
  seen.clear();
  std::set<std::string> keys;
  bool any_time_varying = false;
  for (const auto& f : spec.fields) {
    SURRO_REQUIRE(valid_link_name(f.name) && !contains(kMeshDatasets, f.name),
                  ctx << ": field '" << f.name << "': expected a non-empty name without '/', not one of "
                      << join(kMeshDatasets));
    SURRO_REQUIRE(seen.insert(f.name).second,
                  ctx << ": field '" << f.name << "': expected unique field names");
    SURRO_REQUIRE(f.components >= 1,
                  ctx << ": field '" << f.name << "': components = " << f.components << ": expected >= 1");
    for (const auto& k : stat_keys(f, spec.dims))
      SURRO_REQUIRE(detail::plain_yaml_key(k) && keys.insert(k).second,
                    ctx << ": field '" << f.name << "': statistics key '" << k
                        << "': expected a plain YAML key used by no other field");
    any_time_varying = any_time_varying || f.time_varying;
  }
  SURRO_REQUIRE(!any_time_varying || !spec.times.empty(),
                ctx << ": times: empty, but some fields vary in time: expected the recorded times (T)");
  for (std::size_t t = 0; t < spec.times.size(); ++t) {
    SURRO_REQUIRE(std::isfinite(spec.times[t]),
                  ctx << ": times[" << t << "] = " << spec.times[t] << ": expected finite");
    SURRO_REQUIRE(t == 0 || spec.times[t] > spec.times[t - 1],
                  ctx << ": times[" << t << "] = " << spec.times[t] << ": expected > times[" << t - 1
                      << "] = " << spec.times[t - 1] << " (strictly increasing)");
  }
  for (const auto& p : spec.parameters)
    SURRO_REQUIRE(valid_link_name(p.first) && !contains(kReservedRootAttrs, p.first) &&
                      p.first.rfind(kProvenancePrefix, 0) != 0,
                  ctx << ": parameters: '" << p.first
                      << "': expected a name that is not a reserved root attribute ("
                      << join(kReservedRootAttrs) << ", surro_*)");
  for (const auto& p : spec.provenance)
    SURRO_REQUIRE(!p.first.empty() && kProvenancePrefix + p.first != kFirstTrajectoryAttr,
                  ctx << ": provenance: key '" << p.first
                      << "': expected a non-empty key other than 'first_trajectory'");
}

void check_mesh(const mesh::Mesh& m, int D, const std::string& ctx) {
  SURRO_REQUIRE(m.dim == D, ctx << ": dim = " << m.dim << ": expected the spec's " << D << " dims");
  const long long V = m.num_points();
  SURRO_REQUIRE(V > 0 && static_cast<long long>(m.points.size()) == V * D,
                ctx << ": points: " << m.points.size() << " values: expected a positive multiple of " << D);
  SURRO_REQUIRE(m.cells.size() % static_cast<std::size_t>(D + 1) == 0,
                ctx << ": cells: " << m.cells.size() << " values: expected a multiple of " << D + 1);
  SURRO_REQUIRE(
      static_cast<long long>(m.node_type.size()) == V,
      ctx << ": node_type: " << m.node_type.size() << " values: expected one per point (V=" << V << ")");
  SURRO_REQUIRE(m.facets.size() % static_cast<std::size_t>(D) == 0,
                ctx << ": facets: " << m.facets.size() << " values: expected a multiple of " << D);
  SURRO_REQUIRE(static_cast<long long>(m.facet_tags.size()) == m.num_facets(),
                ctx << ": facet_tags: " << m.facet_tags.size()
                    << " values: expected one per facet (Nf=" << m.num_facets() << ")");
  for (const std::string& bad : {index_violation(m.cells, D + 1, V, "cells"),
                                 index_violation(m.facets, D, V, "facets"), node_type_violation(m.node_type)})
    SURRO_REQUIRE(bad.empty(), ctx << ": " << bad);
}

void check_block(const DatasetSpec& spec, const Block& block, const std::string& ctx) {
  SURRO_REQUIRE(block.first >= 0, ctx << ": block.first = " << block.first << ": expected >= 0");
  SURRO_REQUIRE(block.count > 0, ctx << ": block.count = " << block.count << ": expected > 0");
  SURRO_REQUIRE(static_cast<long long>(block.meshes.size()) == block.count,
                ctx << ": block.meshes: " << block.meshes.size() << " meshes: expected one per trajectory ("
                    << block.count << ")");
  for (long long b = 0; b < block.count; ++b)
    check_mesh(block.meshes[b], static_cast<int>(spec.dims.size()),
               ctx + ": block.meshes[" + std::to_string(b) + "] (trajectory " +
                   std::to_string(block.first + b) + ")");
  for (const auto& f : spec.fields) {
    auto it = block.fields.find(f.name);
    SURRO_REQUIRE(it != block.fields.end(),
                  ctx << ": block: field '" << f.name << "' missing: expected every spec field");
    long long expected = 0;
    for (const auto& m : block.meshes) expected += field_values(spec, f, m.num_points());
    SURRO_REQUIRE(static_cast<long long>(it->second.size()) == expected,
                  ctx << ": block: field '" << f.name << "' has " << it->second.size()
                      << " values: expected sum over trajectories of " << (f.time_varying ? "T * " : "")
                      << "V_b * C = " << expected);
  }
  for (const auto& kv : block.fields) {
    bool known = false;
    for (const auto& f : spec.fields) known = known || f.name == kv.first;
    SURRO_REQUIRE(known,
                  ctx << ": block: field '" << kv.first << "' is not in the spec: expected only spec fields");
  }
  for (const auto& kv : block.sample_parameters)
    SURRO_REQUIRE(!kv.first.empty() && static_cast<long long>(kv.second.size()) == block.count,
                  ctx << ": block.sample_parameters['" << kv.first << "']: " << kv.second.size()
                      << " values: expected a non-empty name and one value per trajectory (" << block.count
                      << ")");
}

void write_root(hid_t f, const DatasetSpec& spec, const Block& block) {
  std::vector<std::string> names, params, sample_params;
  std::vector<std::int64_t> comps;
  std::vector<bool> tv;
  for (const auto& fs : spec.fields) {
    names.push_back(fs.name);
    comps.push_back(fs.components);
    tv.push_back(fs.time_varying);
  }
  for (const auto& p : spec.parameters) params.push_back(p.first);
  for (const auto& p : block.sample_parameters) sample_params.push_back(p.first);
  h5::write_string_attr(f, "layout", kMeshLayout);
  h5::write_string_attr(f, "dataset_name", spec.dataset_name);
  h5::write_int64_attr(f, "n_spatial_dims", static_cast<std::int64_t>(spec.dims.size()));
  h5::write_int64_attr(f, "n_trajectories", block.count);
  h5::write_string_array_attr(f, "spatial_dims", spec.dims);
  h5::write_string_array_attr(f, "field_names", names);
  h5::write_int64_array_attr(f, "field_components", comps);
  h5::write_bool_array_attr(f, "field_time_varying", tv);
  h5::write_string_array_attr(f, "simulation_parameters", params);
  for (const auto& p : spec.parameters) h5::write_double_attr(f, p.first, p.second);
  h5::write_string_array_attr(f, "sample_parameters", sample_params);
  for (const auto& p : spec.provenance) h5::write_string_attr(f, kProvenancePrefix + p.first, p.second);
  h5::write_int64_attr(f, kFirstTrajectoryAttr, block.first);
  h5::write_double_dataset(f, "time", {spec.times.size()}, spec.times.data(), false);  // (T)
}

void write_mesh(hid_t g, const mesh::Mesh& m) {
  const hsize_t V = m.num_points(), D = m.dim;
  h5::write_double_dataset(g, "mesh_pos", {V, D}, m.points.data(), false);  // (V, D)
  h5::write_int_dataset(g, "cells", {static_cast<hsize_t>(m.num_cells()), D + 1}, m.cells.data(),
                        false);                                           // (Nc, D+1)
  h5::write_int_dataset(g, "node_type", {V}, m.node_type.data(), false);  // (V)
  if (m.num_facets() == 0) return;
  const hsize_t Nf = m.num_facets();
  h5::write_int_dataset(g, "facets", {Nf, D}, m.facets.data(), false);       // (Nf, D)
  h5::write_int_dataset(g, "facet_tags", {Nf}, m.facet_tags.data(), false);  // (Nf)
  h5::Dataset tags = h5::open_dataset(g, "facet_tags");
  std::vector<std::int64_t> ids;
  std::vector<std::string> tag_names;
  for (const auto& kv : m.tag_names) {
    ids.push_back(kv.first);
    tag_names.push_back(kv.second);
  }
  h5::write_int64_array_attr(tags, "tag_ids", ids);
  h5::write_string_array_attr(tags, "tag_names", tag_names);
}

void write_file(const std::string& tmp, const DatasetSpec& spec, const Block& block) {
  h5::File f = h5::create_file(tmp);
  write_root(f, spec, block);
  h5::Group trajs = h5::create_group(f, "trajectories");
  std::map<std::string, std::size_t> offset;  // field -> start of the current trajectory in block.fields
  for (long long b = 0; b < block.count; ++b) {
    const mesh::Mesh& m = block.meshes[b];
    h5::Group g = h5::create_group(trajs, trajectory_name(block.first + b));
    write_mesh(g, m);
    for (const auto& fs : spec.fields) {
      const float* data = block.fields.at(fs.name).data() + offset[fs.name];  // (T, V, C) or (V, C)
      h5::write_float_dataset(g, fs.name, field_dims(spec, fs, m.num_points()), data, true);
      offset[fs.name] += static_cast<std::size_t>(field_values(spec, fs, m.num_points()));
    }
    for (const auto& p : block.sample_parameters) h5::write_double_attr(g, p.first, p.second[b]);
  }
  trajs.reset();
  h5::close_file(f);
}

// ---- reader ------------------------------------------------------------------------------------

struct Header {
  DatasetSpec spec;
  std::int64_t B = 0, first = 0;
  std::vector<std::string> sample_parameters;
};

Header read_header(hid_t f) {
  Header h;
  DatasetSpec& spec = h.spec;
  spec.on_mesh = true;
  const std::string layout = h5::read_string_attr(f, "layout");
  if (layout != kMeshLayout)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'layout' = '" + layout + "': expected '" + kMeshLayout + "'");
  spec.dataset_name = h5::read_string_attr(f, "dataset_name");
  const std::int64_t D = h5::read_int_attr(f, "n_spatial_dims");
  if (D != 2 && D != 3)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'n_spatial_dims' = " + std::to_string(D) + ": expected 2 or 3");
  spec.dims = h5::read_string_array_attr(f, "spatial_dims");
  if (static_cast<std::int64_t>(spec.dims.size()) != D)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'spatial_dims' has " + std::to_string(spec.dims.size()) +
                 " names: expected n_spatial_dims = " + std::to_string(D));
  const auto names = h5::read_string_array_attr(f, "field_names");
  const auto comps = h5::read_int_array_attr(f, "field_components");
  const auto tv = h5::read_bool_array_attr(f, "field_time_varying");
  if (comps.size() != names.size() || tv.size() != names.size())
    h5::fail(ErrorKind::input, f, "",
             "attributes 'field_components' (" + std::to_string(comps.size()) +
                 ") and 'field_time_varying' (" + std::to_string(tv.size()) +
                 "): expected one entry per field name (" + std::to_string(names.size()) + ")");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (comps[i] < 1)
      h5::fail(ErrorKind::input, f, "",
               "attribute 'field_components'[" + std::to_string(i) + "] = " + std::to_string(comps[i]) +
                   ": expected >= 1");
    spec.fields.push_back({names[i], tv[i], static_cast<int>(comps[i])});
  }
  for (const auto& p : h5::read_string_array_attr(f, "simulation_parameters"))
    spec.parameters[p] = h5::read_double_attr(f, p);
  for (const auto& a : h5::attr_names(f))
    if (a.rfind(kProvenancePrefix, 0) == 0 && a != kFirstTrajectoryAttr)
      spec.provenance[a.substr(std::string(kProvenancePrefix).size())] = h5::read_string_attr(f, a);
  h.sample_parameters = h5::read_string_array_attr(f, "sample_parameters");
  h.B = h5::read_int_attr(f, "n_trajectories");
  if (h.B < 0)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'n_trajectories' = " + std::to_string(h.B) + ": expected >= 0");
  h.first = h5::has_attr(f, kFirstTrajectoryAttr) ? h5::read_int_attr(f, kFirstTrajectoryAttr) : 0;
  spec.times = h5::read_real_vector(f, "time");
  return h;
}

// Extent of axis 0 of a dataset of rank `rank` (input error otherwise); the full shape is checked by
// the read that follows.
hsize_t rows_of(hid_t g, const std::string& name, std::size_t rank, const std::string& legend) {
  h5::Dataset d = h5::open_dataset(g, name);
  const auto dims = h5::dataset_dims(d);
  if (dims.size() != rank)
    h5::fail(ErrorKind::input, d, "", "expected shape " + legend + ", got " + describe_dims(dims));
  return dims[0];
}

mesh::Mesh read_mesh(hid_t g, int D) {
  mesh::Mesh m;
  m.dim = D;
  const hsize_t dd = static_cast<hsize_t>(D);
  const hsize_t V = rows_of(g, "mesh_pos", 2, "(V, " + std::to_string(D) + ")");
  m.points = h5::read_double_dataset(g, "mesh_pos", {V, dd});
  const hsize_t Nc = rows_of(g, "cells", 2, "(Nc, " + std::to_string(D + 1) + ")");
  m.cells = h5::read_int_dataset(g, "cells", {Nc, dd + 1});
  m.node_type = h5::read_int_dataset(g, "node_type", {V});
  if (h5::has_link(g, "facets")) {
    const hsize_t Nf = rows_of(g, "facets", 2, "(Nf, " + std::to_string(D) + ")");
    m.facets = h5::read_int_dataset(g, "facets", {Nf, dd});
    m.facet_tags = h5::read_int_dataset(g, "facet_tags", {Nf});
    h5::Dataset tags = h5::open_dataset(g, "facet_tags");
    if (h5::has_attr(tags, "tag_ids")) {
      const auto ids = h5::read_int_array_attr(tags, "tag_ids");
      const auto names = h5::read_string_array_attr(tags, "tag_names");
      if (ids.size() != names.size())
        h5::fail(ErrorKind::input, tags, "",
                 "attributes 'tag_ids' (" + std::to_string(ids.size()) + ") and 'tag_names' (" +
                     std::to_string(names.size()) + "): expected the same length");
      for (std::size_t i = 0; i < ids.size(); ++i) m.tag_names[static_cast<int>(ids[i])] = names[i];
    }
  }
  for (const auto& [name, bad] :
       {std::pair<const char*, std::string>{"cells", index_violation(m.cells, D + 1, V, "cells")},
        {"facets", index_violation(m.facets, D, V, "facets")},
        {"node_type", node_type_violation(m.node_type)}})
    if (!bad.empty()) h5::fail(ErrorKind::input, g, name, bad);
  return m;
}

// Appends trajectory `index` (global) of an open file to `out`.
void read_trajectory(hid_t trajs, const Header& h, long long index, Block& out) {
  h5::Group g = h5::open_group(trajs, trajectory_name(index));
  mesh::Mesh m = read_mesh(g, static_cast<int>(h.spec.dims.size()));
  for (const auto& fs : h.spec.fields) {
    const std::vector<float> v = h5::read_float_dataset(g, fs.name, field_dims(h.spec, fs, m.num_points()));
    auto& dst = out.fields[fs.name];
    dst.insert(dst.end(), v.begin(), v.end());
  }
  for (const auto& p : h.sample_parameters) out.sample_parameters[p].push_back(h5::read_double_attr(g, p));
  out.meshes.push_back(std::move(m));
}

}  // namespace

void write_mesh_file(const std::string& path, const DatasetSpec& spec, const Block& block) {
  const std::string ctx = "write_mesh_file: " + path;
  check_spec(spec, ctx);
  check_block(spec, block, ctx);
  io::write_atomic(path, [&](const std::string& tmp) { write_file(tmp, spec, block); });
}

MeshFile read_mesh_file(const std::string& path, long long begin, long long count) {
  h5::File f = h5::open_file(path);
  Header h = read_header(f);
  if (count < 0) count = h.B - begin;
  if (begin < 0 || count < 0 || begin + count > h.B)
    SURRO_THROW(ErrorKind::usage, path << ": trajectories [" << begin << ", " << begin + count
                                       << ") of the file: expected a range within [0, n_trajectories=" << h.B
                                       << ")");
  MeshFile out;
  out.block.first = h.first + begin;
  out.block.count = count;
  for (const auto& fs : h.spec.fields) out.block.fields[fs.name];
  for (const auto& p : h.sample_parameters) out.block.sample_parameters[p];
  if (count > 0) {
    h5::Group trajs = h5::open_group(f, "trajectories");
    for (long long i = begin; i < begin + count; ++i) read_trajectory(trajs, h, h.first + i, out.block);
  }
  out.spec = std::move(h.spec);
  return out;
}

bool is_mesh_file(const std::string& path) {
  try {
    h5::File f = h5::open_file(path);
    return h5::has_attr(f, "layout") && H5Tget_class(h5::attr_type(f, "layout")) == H5T_STRING &&
           h5::read_string_attr(f, "layout") == kMeshLayout;
  } catch (const Error&) {
    return false;
  }
}

std::vector<std::string> stat_keys(const FieldSpec& field, const std::vector<std::string>& dims) {
  if (field.components == 1) return {field.name};
  std::vector<std::string> keys;
  for (int c = 0; c < field.components; ++c)
    keys.push_back(field.name + "_" +
                   (static_cast<std::size_t>(field.components) == dims.size() ? dims[c] : std::to_string(c)));
  return keys;
}

// ---- validation --------------------------------------------------------------------------------

namespace {

// What the trajectory checks need from the root; nullopt where the root was already reported.
struct MeshExtents {
  std::optional<std::int64_t> D, B;
  std::int64_t first = 0;
  std::optional<hsize_t> T;
  std::vector<double> times;
  std::optional<std::vector<FieldSpec>> fields;
  std::vector<std::string> sample_parameters;
};

void validate_mesh_root(Validator& v, hid_t f, MeshExtents& ext) {
  if (auto layout = v.string_attr(f, "/", "layout"); layout && *layout != kMeshLayout)
    v.add("/", "attribute 'layout' = '" + *layout + "': expected '" + kMeshLayout + "'");
  v.string_attr(f, "/", "dataset_name");
  if (auto D = v.int_attr(f, "/", "n_spatial_dims")) {
    if (*D != 2 && *D != 3)
      v.add("/", "attribute 'n_spatial_dims' = " + std::to_string(*D) + ": expected 2 or 3");
    else
      ext.D = *D;
  }
  if (auto B = v.int_attr(f, "/", "n_trajectories")) {
    if (*B < 0)
      v.add("/", "attribute 'n_trajectories' = " + std::to_string(*B) + ": expected >= 0");
    else
      ext.B = *B;
  }
  if (h5::has_attr(f, kFirstTrajectoryAttr))
    if (auto first = v.int_attr(f, "/", kFirstTrajectoryAttr)) ext.first = *first;
  if (auto dims = v.string_list_attr(f, "/", "spatial_dims");
      dims && ext.D && dims->size() != std::size_t(*ext.D))
    v.add("/", "attribute 'spatial_dims' has " + std::to_string(dims->size()) +
                   " names: expected n_spatial_dims = " + std::to_string(*ext.D));
  auto names = v.string_list_attr(f, "/", "field_names");
  auto comps = v.int_list_attr(f, "/", "field_components");
  auto tv = v.bool_list_attr(f, "/", "field_time_varying");
  if (names && names->empty()) v.add("/", "attribute 'field_names' is empty: expected at least one field");
  if (names && comps && tv) {
    if (comps->size() != names->size() || tv->size() != names->size()) {
      v.add("/", "attributes 'field_components' (" + std::to_string(comps->size()) +
                     ") and 'field_time_varying' (" + std::to_string(tv->size()) +
                     "): expected one entry per field name (" + std::to_string(names->size()) + ")");
    } else {
      std::vector<FieldSpec> fields;
      bool ok = true;
      for (std::size_t i = 0; i < names->size(); ++i) {
        if ((*comps)[i] < 1) {
          v.add("/", "attribute 'field_components'[" + std::to_string(i) +
                         "] = " + std::to_string((*comps)[i]) + ": expected >= 1");
          ok = false;
        }
        fields.push_back({(*names)[i], (*tv)[i], static_cast<int>((*comps)[i])});
      }
      if (ok) ext.fields = fields;
    }
  }
  if (auto params = v.string_list_attr(f, "/", "simulation_parameters"))
    for (const auto& p : *params) {
      if (!h5::has_attr(f, p)) {
        v.add("/", "simulation parameter '" + p + "': missing as a root attribute");
        continue;
      }
      h5::Datatype t = h5::attr_type(f, p);
      if (H5Tget_class(t) != H5T_FLOAT && H5Tget_class(t) != H5T_INTEGER)
        v.add("/", "attribute '" + p + "' (a simulation parameter): " + h5::describe_type(t) +
                       ": expected a number");
    }
  if (auto sp = v.string_list_attr(f, "/", "sample_parameters")) ext.sample_parameters = *sp;
}

// "float32", "int32": the exact stored type a dataset must have, else a violation.
bool type_is(Validator& v, hid_t d, const std::string& path, H5T_class_t cls, std::size_t size,
             const char* what) {
  h5::Datatype t = h5::dataset_type(d);
  if (H5Tget_class(t) == cls && H5Tget_size(t) == size && (cls != H5T_INTEGER || H5Tget_sign(t) == H5T_SGN_2))
    return true;
  v.add(path, h5::describe_type(t) + " data: expected " + what);
  return false;
}

void validate_time(Validator& v, hid_t f, MeshExtents& ext) {
  auto d = v.dataset(f, "/time", "time");
  if (!d) return;
  const auto dims = h5::dataset_dims(*d);
  if (dims.size() != 1) {
    v.add("/time", "shape " + describe_dims(dims) + ": expected (T)");
    return;
  }
  ext.T = dims[0];
  if (!type_is(v, *d, "/time", H5T_FLOAT, 8, "float64")) return;
  ext.times = h5::read_double_dataset(f, "time", dims);
  const auto& t = ext.times;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!std::isfinite(t[k])) {
      v.add("/time", "time[" + std::to_string(k) + "] is not finite: expected finite times");
      return;
    }
    if (k > 0 && !(t[k] > t[k - 1])) {
      std::ostringstream os;
      os << "time[" << k << "] = " << t[k] << " <= time[" << k - 1 << "] = " << t[k - 1]
         << ": expected strictly increasing times";
      v.add("/time", os.str());
      return;
    }
  }
  bool any_tv = false;
  for (const auto& fs : ext.fields ? *ext.fields : std::vector<FieldSpec>{})
    any_tv = any_tv || fs.time_varying;
  if (any_tv && t.empty())
    v.add("/time", "shape (0): expected at least one time for the time-varying fields");
}

// Counts NaN/Inf in `u` laid out as rows of `C` (rows = T V or V) and reports the first one.
void report_non_finite(Validator& v, const std::string& path, const std::vector<float>& u, std::size_t C,
                       std::size_t V, bool time_varying, long long trajectory,
                       const std::vector<double>& times) {
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < u.size(); ++i)
    if (!std::isfinite(u[i]) && bad++ == 0) first = i;
  if (bad == 0) return;
  const std::size_t row = first / C, c = first % C;
  std::ostringstream os;
  os << bad << " non-finite value" << (bad > 1 ? "s" : "") << " in trajectory " << trajectory
     << ", the first (" << u[first] << ") at ";
  if (time_varying) {
    const std::size_t t = row / V;
    os << "time index " << t;
    if (t < times.size()) os << " (t = " << times[t] << ")";
    os << ", ";
  }
  os << "node " << row % V << ", component " << c << ": expected finite values";
  v.add(path, os.str());
}

// An int32 dataset of `expected` shape, read; nullopt (and a violation) otherwise.
std::optional<std::vector<int>> int_dataset(Validator& v, hid_t g, const std::string& path,
                                            const std::string& name, const std::vector<hsize_t>& expected,
                                            const std::string& legend) {
  auto d = v.dataset(g, path, name);
  if (!d || !type_is(v, *d, path, H5T_INTEGER, 4, "int32")) return std::nullopt;
  if (h5::dataset_dims(*d) != expected) {
    v.shape_is(*d, path, expected, legend);
    return std::nullopt;
  }
  return h5::read_int_dataset(g, name, expected);
}

// mesh_pos, node_type, cells, facets of one trajectory; returns V when mesh_pos is usable.
std::optional<hsize_t> validate_trajectory_mesh(Validator& v, hid_t g, const std::string& tp, long long index,
                                                std::int64_t D) {
  const hsize_t dd = static_cast<hsize_t>(D);
  std::optional<hsize_t> V;
  const std::string pp = tp + "/mesh_pos";
  if (auto d = v.dataset(g, pp, "mesh_pos")) {
    const auto dims = h5::dataset_dims(*d);
    if (dims.size() != 2 || dims[1] != dd || dims[0] == 0) {
      v.add(pp, "shape " + describe_dims(dims) + ": expected (V, D=" + std::to_string(D) + ") with V > 0");
    } else {
      V = dims[0];
      if (type_is(v, *d, pp, H5T_FLOAT, 8, "float64")) {
        const auto x = h5::read_double_dataset(g, "mesh_pos", dims);
        std::size_t bad = 0, first = 0;
        for (std::size_t i = 0; i < x.size(); ++i)
          if (!std::isfinite(x[i]) && bad++ == 0) first = i;
        if (bad > 0)
          v.add(pp, std::to_string(bad) + " non-finite coordinate(s) in trajectory " + std::to_string(index) +
                        ", the first at node " + std::to_string(first / dd) + ", axis " +
                        std::to_string(first % dd) + ": expected finite coordinates");
      }
    }
  }
  if (!V) {
    if (!h5::has_link(g, "node_type")) v.add(tp + "/node_type", "missing dataset");
    if (!h5::has_link(g, "cells")) v.add(tp + "/cells", "missing dataset");
    return V;
  }
  const std::string Vs = std::to_string(*V);
  if (auto nt = int_dataset(v, g, tp + "/node_type", "node_type", {*V}, "(V=" + Vs + ") = mesh_pos rows")) {
    const std::string bad = node_type_violation(*nt);
    if (!bad.empty()) v.add(tp + "/node_type", bad);
  }
  const std::string cp = tp + "/cells";
  if (auto d = v.dataset(g, cp, "cells")) {
    const auto dims = h5::dataset_dims(*d);
    if (dims.size() != 2 || dims[1] != dd + 1) {
      v.add(cp, "shape " + describe_dims(dims) + ": expected (Nc, " + std::to_string(D + 1) + ")");
    } else if (type_is(v, *d, cp, H5T_INTEGER, 4, "int32")) {
      const std::string bad = index_violation(h5::read_int_dataset(g, "cells", dims), D + 1, *V, "cells");
      if (!bad.empty()) v.add(cp, bad);
    }
  }
  if (!h5::has_link(g, "facets") && !h5::has_link(g, "facet_tags")) return V;
  const std::string fp = tp + "/facets";
  auto d = v.dataset(g, fp, "facets");
  if (!d) return V;
  const auto dims = h5::dataset_dims(*d);
  if (dims.size() != 2 || dims[1] != dd) {
    v.add(fp, "shape " + describe_dims(dims) + ": expected (Nf, " + std::to_string(D) + ")");
    return V;
  }
  if (type_is(v, *d, fp, H5T_INTEGER, 4, "int32")) {
    const std::string bad = index_violation(h5::read_int_dataset(g, "facets", dims), D, *V, "facets");
    if (!bad.empty()) v.add(fp, bad);
  }
  int_dataset(v, g, tp + "/facet_tags", "facet_tags", {dims[0]},
              "(Nf=" + std::to_string(dims[0]) + ") = facets rows");
  return V;
}

void validate_trajectory(Validator& v, hid_t g, const std::string& tp, long long index,
                         const MeshExtents& ext) {
  for (const auto& p : ext.sample_parameters) {
    if (!h5::has_attr(g, p)) {
      v.add(tp, "sample parameter '" + p + "': missing attribute");
      continue;
    }
    h5::Datatype t = h5::attr_type(g, p);
    if (H5Tget_class(t) != H5T_FLOAT && H5Tget_class(t) != H5T_INTEGER)
      v.add(tp,
            "attribute '" + p + "' (a sample parameter): " + h5::describe_type(t) + ": expected a number");
  }
  const std::optional<hsize_t> V = validate_trajectory_mesh(v, g, tp, index, *ext.D);
  if (!ext.fields) return;
  for (const auto& fs : *ext.fields) {
    const std::string fp = tp + "/" + fs.name;
    auto d = v.dataset(g, fp, fs.name);
    if (!d || !type_is(v, *d, fp, H5T_FLOAT, 4, "float32")) continue;
    if (!V || (fs.time_varying && !ext.T)) continue;
    DatasetSpec shape;
    shape.times.resize(ext.T ? *ext.T : 0);
    const auto expected = field_dims(shape, fs, static_cast<long long>(*V));
    const std::string legend = std::string(fs.time_varying ? "(T=" + std::to_string(*ext.T) + ", " : "(") +
                               "V=" + std::to_string(*V) + ", C=" + std::to_string(fs.components) + ")";
    if (h5::dataset_dims(*d) != expected) {
      v.shape_is(*d, fp, expected, legend);
      continue;
    }
    report_non_finite(v, fp, h5::read_float_dataset(g, fs.name, expected), fs.components, *V, fs.time_varying,
                      index, ext.times);
  }
}

void validate_trajectories(Validator& v, hid_t f, const MeshExtents& ext) {
  auto g = v.group(f, "/", "trajectories");
  if (!g || !ext.B || !ext.D) return;
  std::set<std::string> expected;
  for (std::int64_t i = 0; i < *ext.B; ++i) {
    const long long index = ext.first + i;
    const std::string name = trajectory_name(index);
    expected.insert(name);
    if (auto t = v.group(*g, "/trajectories", name))
      validate_trajectory(v, *t, trajectory_path(index), index, ext);
  }
  for (const auto& name : h5::link_names(*g))
    if (!expected.count(name))
      v.add("/trajectories/" + name, "unexpected object: expected only the groups of trajectories " +
                                         std::to_string(ext.first) + " .. " +
                                         std::to_string(ext.first + *ext.B - 1) +
                                         " (n_trajectories, surro_first_trajectory)");
}

}  // namespace

std::vector<std::string> validate_mesh_file(const std::string& path) {
  h5::File f;
  try {
    f = h5::open_file(path);
  } catch (const Error& e) {
    return {e.what()};
  }
  Validator v;
  try {
    MeshExtents ext;
    validate_mesh_root(v, f, ext);
    validate_time(v, f, ext);
    validate_trajectories(v, f, ext);
  } catch (const Error& e) {
    v.out.push_back(e.what());  // a read that failed after its checks passed (a damaged file)
  }
  return v.out;
}

// ---- statistics --------------------------------------------------------------------------------

void detail::accumulate_mesh_stats(const std::string& file, StatsAccumulator& acc) {
  h5::File f = h5::open_file(file);
  const Header h = read_header(f);
  h5::Group trajs = h5::open_group(f, "trajectories");
  for (long long i = 0; i < h.B; ++i) {
    Block one;
    read_trajectory(trajs, h, h.first + i, one);
    const std::size_t V = static_cast<std::size_t>(one.meshes[0].num_points());
    for (const auto& fs : h.spec.fields) {
      const std::vector<float>& u = one.fields[fs.name];  // (T, V, C) or (V, C)
      for (std::size_t k = 0; k < u.size(); ++k)
        if (!std::isfinite(u[k]))
          SURRO_THROW(ErrorKind::input, file << ": " << trajectory_path(h.first + i) << "/" << fs.name
                                             << ": non-finite value at flat index " << k
                                             << ": cannot compute statistics (run surro validate)");
      const std::size_t C = static_cast<std::size_t>(fs.components), R = u.size() / C;  // R = T V or V rows
      const auto keys = stat_keys(fs, h.spec.dims);
      for (const auto& k : keys)
        if (!plain_yaml_key(k))
          SURRO_THROW(ErrorKind::input,
                      file << ": /: field '" << fs.name << "': statistics key '" << k
                           << "' cannot be a plain YAML key: expected [A-Za-z_][A-Za-z0-9_.-]*, "
                              "not a YAML bool/null word");
      for (std::size_t c = 0; c < C; ++c) {
        acc.value[keys[c]].merge(
            moments_of(R, [&](std::size_t r) { return static_cast<double>(u[r * C + c]); }));
        if (!fs.time_varying) continue;
        acc.time_varying.insert(keys[c]);
        if (R <= V) continue;  // T = 1: no differences
        // u[t+1, v, c] - u[t, v, c] for t < T-1: rows r and r + V.
        acc.delta[keys[c]].merge(moments_of(R - V, [&](std::size_t r) {
          return static_cast<double>(u[(r + V) * C + c]) - static_cast<double>(u[r * C + c]);
        }));
      }
    }
  }
}

}  // namespace surro::data
