#include "datasets/well.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/detail.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/mesh_file.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace surro::data {
namespace fs = std::filesystem;
using detail::contains;
using detail::join;
using detail::Moments;
using detail::moments_of;
using detail::valid_link_name;
using detail::Validator;
using h5::describe_dims;

namespace {

constexpr const char* kFirstTrajectoryAttr = "surro_first_trajectory";
constexpr const char* kProvenancePrefix = "surro_";
const std::vector<std::string> kReservedRootAttrs = {"dataset_name", "grid_type", "n_spatial_dims",
                                                     "n_trajectories", "simulation_parameters"};
const std::vector<std::string> kRequiredGroups = {"dimensions", "boundary_conditions", "scalars",
                                                  "t0_fields",  "t1_fields",           "t2_fields"};

const char* boundary_word(Boundary b) {
  switch (b) {
    case Boundary::periodic:
      return "periodic";
    case Boundary::wall:
      return "wall";
    case Boundary::open:
      return "open";
  }
  return "?";
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::optional<Boundary> parse_boundary(const std::string& bc_type) {
  const std::string u = upper(bc_type);
  if (u == "PERIODIC") return Boundary::periodic;
  if (u == "WALL") return Boundary::wall;
  if (u == "OPEN") return Boundary::open;
  return std::nullopt;
}

// The writer's preconditions on a spec; `ctx` prefixes every message.
void check_spec(const DatasetSpec& spec, const std::string& ctx) {
  SURRO_REQUIRE(!spec.dataset_name.empty(), ctx << ": dataset_name: expected a non-empty name");
  const std::size_t D = spec.dims.size();
  SURRO_REQUIRE(D >= 1 && D <= 3, ctx << ": dims: " << D << " spatial dimensions: expected 1, 2 or 3");
  SURRO_REQUIRE(spec.coords.size() == D, ctx << ": coords: " << spec.coords.size()
                                             << " coordinate arrays: expected one per dim (" << D << ")");
  SURRO_REQUIRE(spec.boundaries.size() == D, ctx << ": boundaries: " << spec.boundaries.size()
                                                 << " entries: expected one per dim (" << D << ")");
  std::set<std::string> seen;
  for (std::size_t k = 0; k < D; ++k) {
    const std::string& d = spec.dims[k];
    SURRO_REQUIRE(
        valid_link_name(d) && d != "time",
        ctx << ": dims[" << k << "] = '" << d << "': expected a non-empty name without '/', not 'time'");
    SURRO_REQUIRE(seen.insert(d).second, ctx << ": dims[" << k << "] = '" << d << "': expected unique names");
    SURRO_REQUIRE(!spec.coords[k].empty(),
                  ctx << ": coords[" << k << "] ('" << d << "'): expected at least one point");
  }
  SURRO_REQUIRE(!spec.fields.empty(), ctx << ": fields: expected at least one field");
  seen.clear();
  bool any_time_varying = false;
  for (const auto& f : spec.fields) {
    SURRO_REQUIRE(valid_link_name(f.name),
                  ctx << ": field '" << f.name << "': expected a non-empty name without '/'");
    SURRO_REQUIRE(seen.insert(f.name).second,
                  ctx << ": field '" << f.name << "': expected unique field names");
    any_time_varying = any_time_varying || f.time_varying;
  }
  SURRO_REQUIRE(!any_time_varying || !spec.times.empty(),
                ctx << ": times: empty, but some fields vary in time: expected the recorded times (T)");
  for (const auto& p : spec.parameters) {
    SURRO_REQUIRE(valid_link_name(p.first) && !contains(kReservedRootAttrs, p.first) &&
                      p.first.rfind(kProvenancePrefix, 0) != 0,
                  ctx << ": parameters: '" << p.first
                      << "': expected a name without '/' that is not a reserved root "
                      << "attribute (" << join(kReservedRootAttrs) << ", surro_*)");
  }
  for (const auto& p : spec.provenance) {
    SURRO_REQUIRE(!p.first.empty() && kProvenancePrefix + p.first != kFirstTrajectoryAttr,
                  ctx << ": provenance: key '" << p.first
                      << "': expected a non-empty key other than 'first_trajectory'");
  }
}

void check_block(const DatasetSpec& spec, const Block& block, const std::string& ctx) {
  SURRO_REQUIRE(block.first >= 0, ctx << ": block.first = " << block.first << ": expected >= 0");
  SURRO_REQUIRE(block.count > 0, ctx << ": block.count = " << block.count << ": expected > 0");
  for (const auto& f : spec.fields) {
    auto it = block.fields.find(f.name);
    SURRO_REQUIRE(it != block.fields.end(),
                  ctx << ": block: field '" << f.name << "' missing: expected every spec field");
    const long long expected = block.count * spec.sample_size(f);
    SURRO_REQUIRE(static_cast<long long>(it->second.size()) == expected,
                  ctx << ": block: field '" << f.name << "' has " << it->second.size()
                      << " values: expected count * sample_size = " << block.count << " * "
                      << spec.sample_size(f) << " = " << expected);
  }
  for (const auto& [name, values] : block.sample_parameters) {
    SURRO_REQUIRE(valid_link_name(name) && !spec.parameters.count(name),
                  ctx << ": block: sample parameter '" << name
                      << "': expected a name without '/' that is not also a dataset parameter");
    SURRO_REQUIRE(static_cast<long long>(values.size()) == block.count,
                  ctx << ": block: sample parameter '" << name << "' has " << values.size()
                      << " values: expected one per trajectory (" << block.count << ")");
  }
  for (const auto& kv : block.fields) {
    const bool known = std::any_of(spec.fields.begin(), spec.fields.end(),
                                   [&](const FieldSpec& f) { return f.name == kv.first; });
    SURRO_REQUIRE(known,
                  ctx << ": block: field '" << kv.first << "' is not in the spec: expected only spec fields");
  }
}

// (B, [T,] Nx, ...) of a field in a block of `count` trajectories.
std::vector<hsize_t> field_dims(const DatasetSpec& spec, const FieldSpec& f, long long count) {
  std::vector<hsize_t> dims{static_cast<hsize_t>(count)};
  if (f.time_varying) dims.push_back(spec.times.size());
  for (const auto& c : spec.coords) dims.push_back(c.size());
  return dims;
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

void write_varying(hid_t obj, bool sample_varying, bool time_varying) {
  h5::write_bool_attr(obj, "sample_varying", sample_varying);
  h5::write_bool_attr(obj, "time_varying", time_varying);
}

void write_file(const std::string& tmp, const DatasetSpec& spec, const Block& block) {
  h5::File f = h5::create_file(tmp);
  const std::size_t D = spec.dims.size();
  std::vector<std::string> param_names;
  for (const auto& p : spec.parameters) param_names.push_back(p.first);

  h5::write_string_attr(f, "dataset_name", spec.dataset_name);
  h5::write_string_attr(f, "grid_type", "cartesian");
  h5::write_int64_attr(f, "n_spatial_dims", static_cast<std::int64_t>(D));
  h5::write_int64_attr(f, "n_trajectories", block.count);
  h5::write_string_array_attr(f, "simulation_parameters", param_names);
  for (const auto& p : spec.parameters) h5::write_double_attr(f, p.first, p.second);
  for (const auto& p : spec.provenance) h5::write_string_attr(f, kProvenancePrefix + p.first, p.second);
  h5::write_int64_attr(f, kFirstTrajectoryAttr, block.first);

  {
    h5::Group g = h5::create_group(f, "dimensions");
    h5::write_string_array_attr(g, "spatial_dims", spec.dims);
    const std::vector<float> t = to_float(spec.times);  // (T)
    h5::write_float_dataset(g, "time", {t.size()}, t.data(), false);
    {
      h5::Dataset d = h5::open_dataset(g, "time");
      write_varying(d, false, true);
    }
    for (std::size_t k = 0; k < D; ++k) {
      const std::vector<float> c = to_float(spec.coords[k]);  // (Nk)
      h5::write_float_dataset(g, spec.dims[k], {c.size()}, c.data(), false);
      h5::Dataset d = h5::open_dataset(g, spec.dims[k]);
      write_varying(d, false, false);
    }
  }
  {
    h5::Group g = h5::create_group(f, "boundary_conditions");
    for (std::size_t k = 0; k < D; ++k) {
      // One group per dim, named "<dim>_<kind>" as The Well does; its checker expects the kind in the name.
      h5::Group bc = h5::create_group(g, spec.dims[k] + "_" + boundary_word(spec.boundaries[k]));
      h5::write_string_attr(bc, "bc_type", upper(boundary_word(spec.boundaries[k])));
      h5::write_string_array_attr(bc, "associated_dims", {spec.dims[k]});
      h5::write_string_array_attr(bc, "associated_fields", {});
      write_varying(bc, false, false);
      std::vector<bool> mask(spec.coords[k].size(), false);  // (Nk): the boundary points
      mask.front() = true;
      mask.back() = true;
      h5::write_bool_dataset(bc, "mask", mask);
    }
  }
  {
    h5::Group g = h5::create_group(f, "scalars");
    std::vector<std::string> scalar_names = param_names;
    for (const auto& p : block.sample_parameters) scalar_names.push_back(p.first);
    h5::write_string_array_attr(g, "field_names", scalar_names);
    for (const auto& p : spec.parameters) {
      // Rank 0: the checker wants rank = sample_varying + time_varying. float32 like every Well
      // array (the exact value is the float64 root attribute).
      const float v = static_cast<float>(p.second);
      h5::write_float_dataset(g, p.first, {}, &v, false);
      h5::Dataset d = h5::open_dataset(g, p.first);
      write_varying(d, false, false);
    }
    for (const auto& p : block.sample_parameters) {
      // Per-trajectory parameters: (B), sample_varying, as The Well stores them.
      const std::vector<float> v = to_float(p.second);  // (B)
      h5::write_float_dataset(g, p.first, {v.size()}, v.data(), false);
      h5::Dataset d = h5::open_dataset(g, p.first);
      write_varying(d, true, false);
    }
  }
  {
    h5::Group g = h5::create_group(f, "t0_fields");
    std::vector<std::string> names;
    for (const auto& field : spec.fields) names.push_back(field.name);
    h5::write_string_array_attr(g, "field_names", names);
    for (const auto& field : spec.fields) {
      const std::vector<float>& data = block.fields.at(field.name);  // (B, [T,] Nx, ...)
      h5::write_float_dataset(g, field.name, field_dims(spec, field, block.count), data.data(), true);
      h5::Dataset d = h5::open_dataset(g, field.name);
      h5::write_bool_array_attr(d, "dim_varying", std::vector<bool>(D, true));
      write_varying(d, true, field.time_varying);
    }
  }
  for (const char* name : {"t1_fields", "t2_fields"}) {
    h5::Group g = h5::create_group(f, name);
    h5::write_string_array_attr(g, "field_names", {});
  }
  h5::close_file(f);
}

}  // namespace

// ---- write / read ------------------------------------------------------------------------------

void write_well_file(const std::string& path, const DatasetSpec& spec, const Block& block) {
  const std::string ctx = "write_well_file: " + path;
  check_spec(spec, ctx);
  check_block(spec, block, ctx);
  io::write_atomic(path, [&](const std::string& tmp) { write_file(tmp, spec, block); });
}

WellFile read_well_file(const std::string& path) {
  h5::File f = h5::open_file(path);
  WellFile out;
  DatasetSpec& spec = out.spec;
  spec.dataset_name = h5::read_string_attr(f, "dataset_name");
  const std::string grid = h5::read_string_attr(f, "grid_type");
  if (grid != "cartesian")
    h5::fail(ErrorKind::input, f, "", "attribute 'grid_type' = '" + grid + "': expected 'cartesian'");
  const std::int64_t D = h5::read_int_attr(f, "n_spatial_dims");
  if (D < 1 || D > 3)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'n_spatial_dims' = " + std::to_string(D) + ": expected 1, 2 or 3");
  const std::int64_t B = h5::read_int_attr(f, "n_trajectories");
  if (B < 0)
    h5::fail(ErrorKind::input, f, "",
             "attribute 'n_trajectories' = " + std::to_string(B) + ": expected >= 0");
  for (const auto& p : h5::read_string_array_attr(f, "simulation_parameters"))
    spec.parameters[p] = h5::read_double_attr(f, p);
  for (const auto& a : h5::attr_names(f)) {
    if (a.rfind(kProvenancePrefix, 0) == 0 && a != kFirstTrajectoryAttr)
      spec.provenance[a.substr(std::string(kProvenancePrefix).size())] = h5::read_string_attr(f, a);
  }
  out.block.first = h5::has_attr(f, kFirstTrajectoryAttr) ? h5::read_int_attr(f, kFirstTrajectoryAttr) : 0;
  out.block.count = B;

  {
    h5::Group g = h5::open_group(f, "dimensions");
    spec.dims = h5::read_string_array_attr(g, "spatial_dims");
    if (static_cast<std::int64_t>(spec.dims.size()) != D)
      h5::fail(ErrorKind::input, g, "",
               "attribute 'spatial_dims' has " + std::to_string(spec.dims.size()) +
                   " names: expected n_spatial_dims = " + std::to_string(D));
    spec.times = h5::read_real_vector(g, "time");
    for (const auto& d : spec.dims) spec.coords.push_back(h5::read_real_vector(g, d));
  }
  {
    h5::Group g = h5::open_group(f, "boundary_conditions");
    std::vector<std::optional<Boundary>> found(spec.dims.size());
    for (const auto& name : h5::link_names(g)) {
      h5::Group bc = h5::open_group(g, name);
      const std::string type = h5::read_string_attr(bc, "bc_type");
      const auto kind = parse_boundary(type);
      if (!kind)
        h5::fail(ErrorKind::input, bc, "",
                 "attribute 'bc_type' = '" + type + "': expected PERIODIC, WALL or OPEN");
      for (const auto& d : h5::read_string_array_attr(bc, "associated_dims")) {
        const auto it = std::find(spec.dims.begin(), spec.dims.end(), d);
        if (it == spec.dims.end())
          h5::fail(ErrorKind::input, bc, "",
                   "attribute 'associated_dims' names '" + d + "': expected one of the spatial dims (" +
                       join(spec.dims) + ")");
        found[static_cast<std::size_t>(it - spec.dims.begin())] = *kind;
      }
    }
    for (std::size_t k = 0; k < found.size(); ++k) {
      if (!found[k])
        h5::fail(ErrorKind::input, g, "",
                 "no boundary condition group lists dim '" + spec.dims[k] + "' in associated_dims");
      spec.boundaries.push_back(*found[k]);
    }
  }
  {
    h5::Group g = h5::open_group(f, "t0_fields");
    for (const auto& name : h5::read_string_array_attr(g, "field_names")) {
      FieldSpec field{name, true};
      {
        h5::Dataset d = h5::open_dataset(g, name);
        if (!h5::read_bool_attr(d, "sample_varying"))
          h5::fail(ErrorKind::input, d, "",
                   "sample_varying = false: expected true (fields shared by all samples are not supported)");
        const std::vector<bool> dv = h5::read_bool_array_attr(d, "dim_varying");
        if (dv != std::vector<bool>(spec.dims.size(), true))
          h5::fail(ErrorKind::input, d, "",
                   "attribute 'dim_varying': expected all " + std::to_string(spec.dims.size()) +
                       " entries true (fields constant along an axis are not supported)");
        field.time_varying = h5::read_bool_attr(d, "time_varying");
      }
      out.block.fields[name] = h5::read_float_dataset(g, name, field_dims(spec, field, B));
      spec.fields.push_back(field);
    }
  }
  for (const char* name : {"t1_fields", "t2_fields"}) {
    h5::Group g = h5::open_group(f, name);
    if (!h5::read_string_array_attr(g, "field_names").empty())
      h5::fail(ErrorKind::input, g, "",
               "vector and tensor fields are not supported yet: expected field_names = []");
  }
  {
    // Per-trajectory parameters: /scalars entries of shape (B) that vary per sample only.
    h5::Group g = h5::open_group(f, "scalars");
    for (const auto& name : h5::read_string_array_attr(g, "field_names")) {
      h5::Dataset d = h5::open_dataset(g, name);
      if (h5::read_bool_attr(d, "sample_varying") && !h5::read_bool_attr(d, "time_varying"))
        out.block.sample_parameters[name] = h5::read_double_dataset(g, name, {static_cast<hsize_t>(B)});
    }
  }
  return out;
}

// ---- validation --------------------------------------------------------------------------------

namespace {

// What the shape rule needs from /dimensions and the root.
struct Extents {
  std::optional<hsize_t> B, T;
  std::vector<std::string> dims;
  std::map<std::string, hsize_t> len;  // dim -> length
};

void validate_root(Validator& v, hid_t f, Extents& ext, std::optional<std::int64_t>& D) {
  v.string_attr(f, "/", "dataset_name");
  if (auto g = v.string_attr(f, "/", "grid_type"); g && *g != "cartesian" && *g != "spherical")
    v.add("/", "attribute 'grid_type' = '" + *g + "': expected 'cartesian' or 'spherical'");
  D = v.int_attr(f, "/", "n_spatial_dims");
  if (D && *D <= 0) v.add("/", "attribute 'n_spatial_dims' = " + std::to_string(*D) + ": expected > 0");
  if (auto b = v.int_attr(f, "/", "n_trajectories")) {
    if (*b < 0)
      v.add("/", "attribute 'n_trajectories' = " + std::to_string(*b) + ": expected >= 0");
    else
      ext.B = static_cast<hsize_t>(*b);
  }
}

void validate_parameters(Validator& v, hid_t f) {
  auto params = v.string_list_attr(f, "/", "simulation_parameters");
  if (!params) return;
  for (const auto& p : *params) {
    if (!h5::has_attr(f, p)) {
      v.add("/", "simulation parameter '" + p + "': missing as a root attribute");
    } else {
      h5::Datatype t = h5::attr_type(f, p);
      const auto cls = H5Tget_class(t);
      if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        v.add("/", "attribute '" + p + "' (a simulation parameter): " + h5::describe_type(t) +
                       ": expected a number");
    }
    if (!(h5::is_group(f, "scalars") && h5::has_link(h5::open_group(f, "scalars"), p)))
      v.add("/scalars/" + p, "missing dataset for simulation parameter '" + p + "'");
  }
}

void validate_dimensions(Validator& v, hid_t f, Extents& ext, const std::optional<std::int64_t>& D) {
  auto g = v.group(f, "/", "dimensions");
  if (!g) return;
  const std::string gp = "/dimensions";
  if (auto sd = v.string_list_attr(*g, gp, "spatial_dims")) {
    ext.dims = *sd;
    if (D && static_cast<std::int64_t>(sd->size()) != *D)
      v.add(gp, "attribute 'spatial_dims' has " + std::to_string(sd->size()) +
                    " names: expected n_spatial_dims = " + std::to_string(*D));
  }
  // The checker's rule here: time's shape is (B if sample_varying) + (T if time_varying), T being
  // its own last extent; a coordinate's shape minus its last axis (its length) is the same prefix.
  // nullopt when B or T is unknown (already reported).
  auto prefix = [&](bool sv, bool tv) -> std::optional<std::vector<hsize_t>> {
    std::vector<hsize_t> p;
    if (sv && !ext.B) return std::nullopt;
    if (sv) p.push_back(*ext.B);
    if (tv && !ext.T) return std::nullopt;
    if (tv) p.push_back(*ext.T);
    return p;
  };
  const std::string tp = gp + "/time";
  if (auto t = v.dataset(*g, tp, "time")) {
    auto sv = v.bool_attr(*t, tp, "sample_varying");
    auto tv = v.bool_attr(*t, tp, "time_varying");
    const auto dims = h5::dataset_dims(*t);
    if (dims.empty()) {
      v.add(tp, "shape (): expected (T)");
    } else {
      ext.T = dims.back();
      if (sv && tv) {
        const auto expected = prefix(*sv, *tv);
        if (expected && dims != *expected)
          v.add(tp, "shape " + describe_dims(dims) + ": expected " + describe_dims(*expected) +
                        " = (B if sample_varying) + (T if time_varying), T = its last extent");
      }
    }
  }
  for (const auto& d : ext.dims) {
    const std::string dp = gp + "/" + d;
    auto ds = v.dataset(*g, dp, d);
    if (!ds) continue;
    auto sv = v.bool_attr(*ds, dp, "sample_varying");
    auto tv = v.bool_attr(*ds, dp, "time_varying");
    h5::Datatype t = h5::dataset_type(*ds);
    if (H5Tget_class(t) != H5T_FLOAT)
      v.add(dp, h5::describe_type(t) + " coordinates: expected floating point");
    const auto dims = h5::dataset_dims(*ds);
    if (dims.empty()) {
      v.add(dp, "shape (): expected (N)");
      continue;
    }
    ext.len[d] = dims.back();
    if (sv && tv) {
      const auto expected = prefix(*sv, *tv);
      const std::vector<hsize_t> lead(dims.begin(), dims.end() - 1);
      if (expected && lead != *expected)
        v.add(dp, "shape " + describe_dims(dims) + ": expected " + describe_dims(*expected) +
                      " + (N) = (B if sample_varying) + (T if time_varying) + (N)");
    }
  }
}

// expected = (B if sample_varying) + (T if time_varying) + (len(dim_k) if dim_varying[k]) + (D,)*order
// A NaN or Inf in a field trains to NaN weights without a word: report the first one with its
// sample, time index and point. One sample is read at a time (memory bounded by a trajectory).
// `dims` is the verified shape; sv/tv say whether its leading axes are B and T.
void report_non_finite(Validator& v, hid_t g, const std::string& fp, const std::string& field,
                       const std::vector<hsize_t>& dims, bool sv, bool tv) {
  const long long rows = sv ? static_cast<long long>(dims[0]) : 1;
  const std::size_t T = tv ? dims[sv ? 1 : 0] : 1;
  for (long long b = 0; b < rows; ++b) {
    const std::vector<float> u = sv ? h5::read_float_dataset(g, field, dims, b, 1)  // ([T,] N...)
                                    : h5::read_float_dataset(g, field, dims);
    const auto it = std::find_if(u.begin(), u.end(), [](float x) { return !std::isfinite(x); });
    if (it == u.end()) continue;
    const std::size_t i = static_cast<std::size_t>(it - u.begin()),
                      P = std::max<std::size_t>(1, u.size() / T);
    v.add(fp, std::string(std::isnan(*it) ? "NaN" : "infinite value") + " at " +
                  (sv ? "sample " + std::to_string(b) + ", " : std::string()) +
                  (tv ? "time index " + std::to_string(i / P) + ", " : std::string()) + "point " +
                  std::to_string(i % P) + ": expected finite values");
    return;
  }
}

void validate_fields(Validator& v, hid_t f, const Extents& ext, int order) {
  const std::string name = "t" + std::to_string(order) + "_fields";
  auto g = v.group(f, "/", name);
  if (!g) return;
  const std::string gp = "/" + name;
  auto names = v.string_list_attr(*g, gp, "field_names");
  if (!names) return;
  for (const auto& field : *names) {
    const std::string fp = gp + "/" + field;
    auto d = v.dataset(*g, fp, field);
    if (!d) continue;
    h5::Datatype t = h5::dataset_type(*d);
    if (H5Tget_class(t) != H5T_FLOAT || H5Tget_size(t) != 4)
      v.add(fp, h5::describe_type(t) + " data: expected float32");
    auto sv = v.bool_attr(*d, fp, "sample_varying");
    auto tv = v.bool_attr(*d, fp, "time_varying");
    auto dv = v.bool_list_attr(*d, fp, "dim_varying");
    if (dv && dv->size() != ext.dims.size())
      v.add(fp, "attribute 'dim_varying' has " + std::to_string(dv->size()) +
                    " entries: expected n_spatial_dims = " + std::to_string(ext.dims.size()));
    if (!sv || !tv || !dv || dv->size() != ext.dims.size()) continue;
    std::vector<hsize_t> expected;
    std::string legend = "(";
    auto put = [&](hsize_t n, const std::string& what) {
      expected.push_back(n);
      legend += (legend.size() > 1 ? ", " : "") + what + "=" + std::to_string(n);
    };
    bool known = true;
    if (*sv) {
      if (ext.B)
        put(*ext.B, "B");
      else
        known = false;
    }
    if (*tv) {
      if (ext.T)
        put(*ext.T, "T");
      else
        known = false;
    }
    for (std::size_t k = 0; k < ext.dims.size(); ++k) {
      if (!(*dv)[k]) continue;
      auto it = ext.len.find(ext.dims[k]);
      if (it != ext.len.end())
        put(it->second, ext.dims[k]);
      else
        known = false;
    }
    for (int i = 0; i < order; ++i) put(ext.dims.size(), "D");
    if (known) v.shape_is(*d, fp, expected, legend + ")");
    if (known && h5::dataset_dims(*d) == expected && H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 4)
      report_non_finite(v, *g, fp, field, expected, *sv, *tv);
  }
}

void validate_scalars(Validator& v, hid_t f, const Extents& ext) {
  auto g = v.group(f, "/", "scalars");
  if (!g) return;
  auto names = v.string_list_attr(*g, "/scalars", "field_names");
  if (!names) return;
  for (const auto& s : *names) {
    const std::string sp = "/scalars/" + s;
    auto d = v.dataset(*g, sp, s);
    if (!d) continue;
    auto sv = v.bool_attr(*d, sp, "sample_varying");
    auto tv = v.bool_attr(*d, sp, "time_varying");
    h5::Datatype t = h5::dataset_type(*d);
    if (H5Tget_class(t) != H5T_FLOAT && H5Tget_class(t) != H5T_INTEGER)
      v.add(sp, h5::describe_type(t) + " data: expected numbers");
    if (!sv || !tv) continue;
    const std::size_t rank = (*sv ? 1 : 0) + (*tv ? 1 : 0);
    const auto dims = h5::dataset_dims(*d);
    if (dims.size() != rank) {
      v.add(sp, "shape " + describe_dims(dims) + ": expected rank " + std::to_string(rank) +
                    " = sample_varying + time_varying" + (rank == 0 ? " (a scalar dataspace)" : ""));
    } else if (rank > 0) {
      std::vector<hsize_t> expected;
      if (*sv && ext.B) expected.push_back(*ext.B);
      if (*tv && ext.T) expected.push_back(*ext.T);
      if (expected.size() == rank && dims != expected)
        v.add(sp, "shape " + describe_dims(dims) + ": expected " + describe_dims(expected) +
                      " = (B if sample_varying, T if time_varying)");
    }
  }
}

void validate_boundaries(Validator& v, hid_t f, const Extents& ext) {
  auto g = v.group(f, "/", "boundary_conditions");
  if (!g) return;
  for (const auto& name : h5::link_names(*g)) {
    const std::string bp = "/boundary_conditions/" + name;
    if (!h5::is_group(*g, name)) {
      v.add(bp, "expected a group (one per boundary condition), found another kind of object");
      continue;
    }
    h5::Group bc = h5::open_group(*g, name);
    if (auto type = v.string_attr(bc, bp, "bc_type"); type && !parse_boundary(*type))
      v.add(bp, "attribute 'bc_type' = '" + *type + "': expected PERIODIC, WALL or OPEN");
    auto sv = v.bool_attr(bc, bp, "sample_varying");
    auto tv = v.bool_attr(bc, bp, "time_varying");
    v.string_list_attr(bc, bp, "associated_fields");
    auto dims = v.string_list_attr(bc, bp, "associated_dims");
    if (dims && dims->empty()) v.add(bp, "attribute 'associated_dims' is empty: expected at least one dim");
    bool dims_ok = dims.has_value();
    for (const auto& d : dims ? *dims : std::vector<std::string>{}) {
      if (!contains(ext.dims, d)) {
        v.add(bp, "attribute 'associated_dims' names '" + d + "': expected one of spatial_dims (" +
                      join(ext.dims) + ")");
        dims_ok = false;
      }
    }
    auto mask = v.dataset(bc, bp + "/mask", "mask");
    if (!mask) continue;
    h5::Datatype t = h5::dataset_type(*mask);
    if (!h5::is_bool_enum(t))
      v.add(bp + "/mask",
            h5::describe_type(t) + " data: expected the HDF5 enum bool {FALSE=0, TRUE=1} over int8");
    if (!sv || !tv || !dims_ok) continue;
    std::vector<hsize_t> expected;
    std::string legend = "(";
    bool known = true;
    auto put = [&](std::optional<hsize_t> n, const std::string& what) {
      if (!n) {
        known = false;
        return;
      }
      expected.push_back(*n);
      legend += (legend.size() > 1 ? ", " : "") + what + "=" + std::to_string(*n);
    };
    if (*sv) put(ext.B, "B");
    if (*tv) put(ext.T, "T");
    for (const auto& d : ext.dims) {  // in spatial_dims order, as the checker builds it
      if (!contains(*dims, d)) continue;
      auto it = ext.len.find(d);
      put(it == ext.len.end() ? std::nullopt : std::optional<hsize_t>(it->second), d);
    }
    if (known) v.shape_is(*mask, bp + "/mask", expected, legend + ")");
  }
}

// What files of one dataset folder must agree on. Grid files: dataset_name, n_spatial_dims, the
// resolution and the fields; mesh files (whose meshes differ per trajectory): all but the resolution.
struct Signature {
  bool mesh = false;
  std::string name;
  std::int64_t D = 0;
  std::vector<hsize_t> resolution;  // grid only
  std::vector<std::string> fields;
  // stats.yaml keys each field needs: mean/std/rms keys, and the *_delta keys of time-varying fields.
  std::vector<std::string> value_keys, delta_keys;
};

std::optional<Signature> read_signature(const std::string& path, bool mesh) {
  try {
    Signature s;
    s.mesh = mesh;
    if (mesh) {
      const MeshFile m = read_mesh_file(path, 0, 0);  // attributes only, no trajectory
      s.name = m.spec.dataset_name;
      s.D = static_cast<std::int64_t>(m.spec.dims.size());
      for (const auto& f : m.spec.fields) {
        s.fields.push_back(f.name);
        for (const auto& k : stat_keys(f, m.spec.dims)) {
          s.value_keys.push_back(k);
          if (f.time_varying) s.delta_keys.push_back(k);
        }
      }
      return s;
    }
    h5::File f = h5::open_file(path);
    s.name = h5::read_string_attr(f, "dataset_name");
    s.D = h5::read_int_attr(f, "n_spatial_dims");
    h5::Group g = h5::open_group(f, "dimensions");
    for (const auto& d : h5::read_string_array_attr(g, "spatial_dims")) {
      h5::Dataset ds = h5::open_dataset(g, d);
      const auto dims = h5::dataset_dims(ds);
      s.resolution.push_back(dims.empty() ? 0 : dims.back());
    }
    h5::Group t0 = h5::open_group(f, "t0_fields");
    for (const auto& name : h5::read_string_array_attr(t0, "field_names")) {
      s.fields.push_back(name);
      s.value_keys.push_back(name);
      h5::Dataset d = h5::open_dataset(t0, name);
      if (h5::read_bool_attr(d, "time_varying")) s.delta_keys.push_back(name);
    }
    return s;
  } catch (const Error&) {
    return std::nullopt;  // validate_well_file / validate_mesh_file has reported why
  }
}

// Violations of `sig` (from `file`) against the folder's first file.
void compare_signatures(const Signature& sig, const std::string& file, const Signature& first,
                        const std::string& first_file, std::vector<std::string>& out) {
  auto layout = [](bool mesh) { return std::string(mesh ? "mesh layout" : "grid layout"); };
  if (sig.mesh != first.mesh) {
    out.push_back(file + ": /: " + layout(sig.mesh) + ", but " + first_file + " has the " +
                  layout(first.mesh) + ": expected one layout in a dataset folder");
    return;
  }
  if (sig.name != first.name)
    out.push_back(file + ": /: dataset_name '" + sig.name + "' differs from '" + first.name + "' in " +
                  first_file);
  if (sig.D != first.D)
    out.push_back(file + ": /: n_spatial_dims " + std::to_string(sig.D) + " differs from " +
                  std::to_string(first.D) + " in " + first_file);
  if (sig.resolution != first.resolution)
    out.push_back(file + ": /dimensions: resolution " + describe_dims(sig.resolution) + " differs from " +
                  describe_dims(first.resolution) + " in " + first_file);
  if (sig.fields != first.fields)
    out.push_back(file + ": /: fields [" + join(sig.fields) + "] differ from [" + join(first.fields) +
                  "] in " + first_file);
}

}  // namespace

std::vector<std::string> validate_well_file(const std::string& path) {
  h5::File f;
  try {
    f = h5::open_file(path);
  } catch (const Error& e) {
    return {e.what()};
  }
  Validator v;
  try {
    Extents ext;
    std::optional<std::int64_t> D;
    validate_root(v, f, ext, D);
    validate_parameters(v, f);
    validate_dimensions(v, f, ext, D);
    for (int order = 0; order < 3; ++order) validate_fields(v, f, ext, order);
    validate_scalars(v, f, ext);
    validate_boundaries(v, f, ext);
  } catch (const Error& e) {
    // A read that failed after its type checks passed (a damaged file): report, keep what we found.
    v.out.push_back(e.what());
  }
  return v.out;
}

std::vector<std::string> validate_dataset_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::optional<Signature> first;
  std::string first_file;
  for (const char* split : {"train", "valid", "test"}) {
    const fs::path sp = fs::path(dir) / "data" / split;
    std::error_code ec;
    if (!fs::is_directory(sp, ec)) {
      out.push_back(sp.string() + ": missing split folder");
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(sp, ec)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".hdf5" || ext == ".h5")) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) out.push_back(sp.string() + ": no *.hdf5 or *.h5 files");
    for (const auto& file : files) {
      const bool mesh = is_mesh_file(file);
      for (const auto& msg : mesh ? validate_mesh_file(file) : validate_well_file(file))
        out.push_back(msg.rfind(file, 0) == 0 ? msg : file + ": " + msg);
      auto sig = read_signature(file, mesh);
      if (!sig) continue;
      if (!first) {
        first = sig;
        first_file = file;
      } else {
        compare_signatures(*sig, file, *first, first_file, out);
      }
    }
  }
  const std::string stats = (fs::path(dir) / "stats.yaml").string();
  std::error_code ec;
  if (!fs::is_regular_file(stats, ec)) {
    out.push_back(stats + ": missing (normalization statistics of the train split)");
    return out;
  }
  try {
    const auto s = read_stats_yaml(stats);
    if (!first) return out;
    // Every statistic key of the first file needs mean/std/rms, and the *_delta ones when it varies in time.
    auto need = [&](const std::vector<std::string>& keys, std::initializer_list<const char*> names) {
      for (const auto& key : keys)
        for (const char* k : names) {
          auto it = s.find(k);
          if (it == s.end() || !it->second.count(key))
            out.push_back(stats + ": " + k + ": no entry for field '" + key + "'");
        }
    };
    need(first->value_keys, {"mean", "std", "rms"});
    need(first->delta_keys, {"mean_delta", "std_delta", "rms_delta"});
  } catch (const Error& e) {
    out.push_back(e.what());
  }
  return out;
}

// ---- statistics --------------------------------------------------------------------------------

namespace {

const char* const kYamlWords[] = {"y",  "Y",    "yes",  "Yes",  "YES",   "n",     "N",     "no", "No",
                                  "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
                                  "ON", "off",  "Off",  "OFF",  "null",  "Null",  "NULL"};

const char* const kStatNames[] = {"mean", "mean_delta", "rms", "rms_delta", "std", "std_delta"};

// Adds one grid (Well-layout) file: every t0 field pooled over trajectories, times and points.
void accumulate_grid_stats(const std::string& file, detail::StatsAccumulator& acc) {
  h5::File f = h5::open_file(file);
  const std::int64_t B = h5::read_int_attr(f, "n_trajectories");
  for (const char* tg : {"t1_fields", "t2_fields"}) {
    h5::Group g = h5::open_group(f, tg);
    if (!h5::read_string_array_attr(g, "field_names").empty())
      h5::fail(ErrorKind::input, g, "", "vector and tensor fields are not supported by write_stats_yaml yet");
  }
  h5::Group g = h5::open_group(f, "t0_fields");
  for (const auto& name : h5::read_string_array_attr(g, "field_names")) {
    if (!detail::plain_yaml_key(name))
      h5::fail(ErrorKind::input, g, name,
               "field name cannot be a plain YAML key: expected [A-Za-z_][A-Za-z0-9_.-]*, "
               "not a YAML bool/null word");
    std::vector<hsize_t> dims;
    bool tv = false, sv = false;
    {
      h5::Dataset d = h5::open_dataset(g, name);
      dims = h5::dataset_dims(d);
      tv = h5::read_bool_attr(d, "time_varying");
      sv = h5::read_bool_attr(d, "sample_varying");
    }
    if (!sv || dims.empty() || static_cast<std::int64_t>(dims[0]) != B)
      h5::fail(ErrorKind::input, g, name,
               "shape " + describe_dims(dims) +
                   ": expected a leading sample axis of n_trajectories = " + std::to_string(B));
    if (tv && dims.size() < 2)
      h5::fail(ErrorKind::input, g, name,
               "time-varying field of shape " + describe_dims(dims) + ": expected (B, T, ...)");
    if (tv) acc.time_varying.insert(name);
    // One trajectory at a time bounds memory by one sample.
    for (std::int64_t b = 0; b < B; ++b) {
      const std::vector<float> u = h5::read_float_dataset(g, name, dims, b, 1);  // ([T,] Nx, ...)
      for (std::size_t i = 0; i < u.size(); ++i)
        if (!std::isfinite(u[i]))
          h5::fail(ErrorKind::input, g, name,
                   "non-finite value in trajectory " + std::to_string(b) + ": cannot compute statistics");
      acc.value[name].merge(moments_of(u.size(), [&](std::size_t i) { return static_cast<double>(u[i]); }));
      if (tv && dims[1] > 1) {
        const std::size_t T = dims[1], P = u.size() / T;  // u is (T, P)
        acc.delta[name].merge(moments_of((T - 1) * P, [&](std::size_t i) {
          return static_cast<double>(u[i + P]) - static_cast<double>(u[i]);  // u[t+1] - u[t]
        }));
      }
    }
  }
}

}  // namespace

bool detail::plain_yaml_key(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  for (const char* w : kYamlWords)
    if (s == w) return false;
  return true;
}

void write_stats_yaml(const std::string& path, const std::vector<std::string>& train_files) {
  SURRO_REQUIRE(!train_files.empty(),
                "write_stats_yaml: " << path << ": no train files: expected at least one");
  detail::StatsAccumulator acc;
  std::optional<bool> mesh_layout;
  for (const auto& file : train_files) {
    const bool mesh = is_mesh_file(file);
    if (mesh_layout && *mesh_layout != mesh)
      SURRO_THROW(ErrorKind::input, "write_stats_yaml: " << file << ": " << (mesh ? "mesh" : "grid")
                                                         << " layout, but " << train_files.front() << " is "
                                                         << (*mesh_layout ? "mesh" : "grid")
                                                         << ": expected one layout in a dataset");
    mesh_layout = mesh;
    if (mesh)
      detail::accumulate_mesh_stats(file, acc);
    else
      accumulate_grid_stats(file, acc);
  }
  for (const auto& name : acc.time_varying)
    if (acc.delta[name].n == 0)
      SURRO_THROW(ErrorKind::input,
                  "write_stats_yaml: " << path << ": field '" << name
                                       << "' varies in time but has T = 1 in every file: expected T >= 2 "
                                          "for the *_delta statistics");
  std::map<std::string, std::map<std::string, double>> stats;
  for (const auto& kv : acc.value) {
    if (kv.second.n == 0)
      SURRO_THROW(ErrorKind::input,
                  "write_stats_yaml: " << path << ": field '" << kv.first
                                       << "' has no values in any train file: expected some");
    stats["mean"][kv.first] = kv.second.mean;
    stats["std"][kv.first] = kv.second.stddev();
    stats["rms"][kv.first] = kv.second.rms();
  }
  for (const auto& name : acc.time_varying) {
    stats["mean_delta"][name] = acc.delta[name].mean;
    stats["std_delta"][name] = acc.delta[name].stddev();
    stats["rms_delta"][name] = acc.delta[name].rms();
  }
  std::ostringstream os;
  for (const char* stat : kStatNames) {
    const auto& m = stats[stat];
    if (m.empty()) {
      os << stat << ": {}\n";
      continue;
    }
    os << stat << ":\n";
    for (const auto& kv : m) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4E", kv.second);
      os << "  " << kv.first << ": " << buf << "\n";
    }
  }
  io::write_text_atomic(path, os.str());
}

std::map<std::string, std::map<std::string, double>> read_stats_yaml(const std::string& path) {
  std::ifstream in(path);
  if (!in) SURRO_THROW(ErrorKind::input, path << ": cannot open the statistics file");
  std::map<std::string, std::map<std::string, double>> out;
  std::string line, current;
  int lineno = 0;
  auto bad = [&](const std::string& msg) {
    SURRO_THROW(ErrorKind::input, path << ":" << lineno << ": " << msg);
  };
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return std::string();
    s = s.substr(b);
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::size_t colon = t.find(':');
    if (colon == std::string::npos) bad("expected 'key: value', got '" + t + "'");
    const std::string key = t.substr(0, colon);
    const std::string rest = trim(t.substr(colon + 1));
    if (line[0] != ' ' && line[0] != '\t') {
      // A statistic: "mean:" opening a block, or "mean: {}".
      if (std::find(std::begin(kStatNames), std::end(kStatNames), key) == std::end(kStatNames))
        bad("unknown statistic '" + key +
            "': expected one of mean, mean_delta, rms, rms_delta, std, std_delta");
      if (out.count(key)) bad("statistic '" + key + "' appears twice");
      out[key];
      if (rest == "{}") {
        current.clear();
      } else if (rest.empty()) {
        current = key;
      } else {
        bad("statistic '" + key + "': expected a block of 'field: value' lines or {}, got '" + rest + "'");
      }
      continue;
    }
    if (current.empty()) bad("indented line outside a statistic block: '" + t + "'");
    if (rest.empty())
      bad("field '" + key + "': expected a number (vector/tensor statistics are not supported)");
    const char* begin = rest.c_str();
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    if (end == begin || *end != '\0') bad("field '" + key + "': expected a number, got '" + rest + "'");
    if (!out[current].emplace(key, value).second)
      bad("field '" + key + "' appears twice in '" + current + "'");
  }
  if (out.empty()) SURRO_THROW(ErrorKind::input, path << ": no statistics: expected mean, std, rms, ...");
  return out;
}

}  // namespace surro::data
