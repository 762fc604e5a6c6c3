// The Well's files read into surro's grid dataset model (external.hpp describes the mapping and the
// refusals). Facts from PolymathicAI/the_well: docs/data_format.md, scripts/check_thewell_formatting.py
// (the shape rule) and the_well/data/datasets.py (component names, repetition along axes whose
// dim_varying is false, upper-cased bc_type).
#include "core/error.hpp"
#include "datasets/detail.hpp"
#include "datasets/external.hpp"
#include "datasets/hdf5.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace surro::data {
namespace {

using detail::join;
using h5::describe_dims;

[[noreturn]] void refuse(hid_t obj, const std::string& child, const std::string& what) {
  h5::fail(ErrorKind::input, obj, child, what);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// What one file holds, before the files are compared.
struct FileInfo {
  std::string path, dataset_name;
  long long B = 0;
  std::vector<std::string> dims;            // (D) spatial_dims
  std::vector<std::vector<double>> coords;  // per dim (N_k)
  std::vector<double> times;                // (T)
  std::vector<Boundary> boundaries;         // (D)
  std::string bc_description;               // "x_periodic: PERIODIC on x; ..."
  std::vector<WellSource::Stored> stored;
  std::map<std::string, double> constants;  // scalars constant in this file
  std::set<std::string> varying;            // scalars of shape (B)
  std::map<std::string, std::string> text;  // other string root attributes
};

const std::vector<std::string> kReserved = {"dataset_name", "grid_type", "n_spatial_dims", "n_trajectories",
                                            "simulation_parameters"};

void read_root(hid_t f, FileInfo& info) {
  info.dataset_name = h5::read_string_attr(f, "dataset_name");
  const std::string grid = h5::read_string_attr(f, "grid_type");
  if (grid != "cartesian")
    refuse(
        f, "",
        "grid_type '" + grid + "': surro's grid datasets are cartesian (uniform axes): expected 'cartesian'");
  const std::int64_t D = h5::read_int_attr(f, "n_spatial_dims");
  if (D < 1 || D > 3)
    refuse(f, "", "n_spatial_dims = " + std::to_string(D) + ": surro's grids have 1, 2 or 3 spatial dims");
  const std::int64_t B = h5::read_int_attr(f, "n_trajectories");
  if (B < 0) refuse(f, "", "n_trajectories = " + std::to_string(B) + ": expected >= 0");
  info.B = B;
  h5::Group g = h5::open_group(f, "dimensions");
  info.dims = h5::read_string_array_attr(g, "spatial_dims");
  if (static_cast<std::int64_t>(info.dims.size()) != D)
    refuse(g, "",
           "spatial_dims [" + join(info.dims) + "] has " + std::to_string(info.dims.size()) +
               " names: expected n_spatial_dims = " + std::to_string(D));
  for (const auto& a : h5::attr_names(f))
    if (!detail::contains(kReserved, a) && H5Tget_class(h5::attr_type(f, a)) == H5T_STRING &&
        h5::attr_dims(f, a).empty())
      info.text[a] = h5::read_string_attr(f, a);
}

// An axis stored as (N) or, sample_varying, (B, N) with the same values in every row.
std::vector<double> read_axis(hid_t g, const std::string& name, long long B, bool time_axis) {
  h5::Dataset d = h5::open_dataset(g, name);
  const bool sv = h5::has_attr(d, "sample_varying") && h5::read_bool_attr(d, "sample_varying");
  // The Well's own dummy files omit time@time_varying; time varies in time by definition.
  const bool tv = h5::has_attr(d, "time_varying") ? h5::read_bool_attr(d, "time_varying") : time_axis;
  if (!time_axis && tv)
    refuse(d, "",
           "time_varying = true: time-varying coordinates (a moving grid) cannot be represented: "
           "surro's grids are fixed");
  const std::vector<hsize_t> dims = h5::dataset_dims(d);
  if (dims.size() != (sv ? 2u : 1u) || (sv && static_cast<long long>(dims[0]) != B))
    refuse(d, "",
           "shape " + describe_dims(dims) + ": expected " +
               (sv ? "(B, N) with B = " + std::to_string(B) : "(N)") +
               " (sample_varying = " + (sv ? "true" : "false") + ")");
  const std::vector<double> v = h5::read_double_dataset(g, name, dims);
  const std::size_t n = static_cast<std::size_t>(dims.back());
  if (n == 0) refuse(d, "", "no values: expected at least one");
  for (std::size_t b = 1; sv && b < static_cast<std::size_t>(B); ++b)
    if (!std::equal(v.begin(), v.begin() + n, v.begin() + b * n))
      refuse(d, "",
             "trajectory " + std::to_string(b) + " has other " + (time_axis ? "times" : "coordinates") +
                 " than trajectory 0: surro's datasets have one " + (time_axis ? "time axis" : "grid"));
  return std::vector<double>(v.begin(), v.begin() + n);
}

// Uniform and increasing within float32 rounding: |x_i - (x_0 + i h)| <= 1e-3 |h| + 8 eps32 max|x|.
void check_uniform(hid_t g, const std::string& name, const std::vector<double>& x) {
  const std::size_t n = x.size();
  if (n < 2) return;
  const double h = (x[n - 1] - x[0]) / static_cast<double>(n - 1);
  const double tol = 1e-3 * std::fabs(h) + 8.0 * std::numeric_limits<float>::epsilon() *
                                               std::max(std::fabs(x[0]), std::fabs(x[n - 1]));
  for (std::size_t i = 0; i < n; ++i) {
    const double dev = std::fabs(x[i] - (x[0] + static_cast<double>(i) * h));
    if (!(h > 0) || !(dev <= tol))
      refuse(g, name,
             "non-uniform axis: coordinate " + std::to_string(i) + " = " + std::to_string(x[i]) +
                 " deviates from x_0 + i h = " + std::to_string(x[0] + static_cast<double>(i) * h) +
                 " (h = " + std::to_string(h) +
                 "): surro's grids are uniform and increasing (FNO, VTK image data)");
  }
}

void read_dimensions(hid_t f, FileInfo& info) {
  h5::Group g = h5::open_group(f, "dimensions");
  info.times = read_axis(g, "time", info.B, true);
  for (const auto& d : info.dims) {
    if (d == "time") refuse(g, "", "spatial_dims names 'time': expected spatial axes only");
    info.coords.push_back(read_axis(g, d, info.B, false));
    check_uniform(g, d, info.coords.back());
  }
}

// Expected shape of a dataset by the checker's rule, with a legend for messages.
std::vector<hsize_t> rule_shape(const FileInfo& info, bool sv, bool tv, const std::vector<bool>& dv,
                                int order, std::string& legend) {
  std::vector<hsize_t> s;
  legend = "(";
  auto put = [&](std::size_t n, const std::string& what) {
    s.push_back(static_cast<hsize_t>(n));
    legend += (legend.size() > 1 ? ", " : "") + what + "=" + std::to_string(n);
  };
  if (sv) put(static_cast<std::size_t>(info.B), "B");
  if (tv) put(info.times.size(), "T");
  for (std::size_t k = 0; k < dv.size(); ++k)
    if (dv[k]) put(info.coords[k].size(), info.dims[k]);
  for (int i = 0; i < order; ++i) put(info.dims.size(), "D");
  legend += ")";
  return s;
}

void read_boundaries(hid_t f, FileInfo& info) {
  h5::Group g = h5::open_group(f, "boundary_conditions");
  std::vector<std::set<std::string>> kinds(info.dims.size());
  for (const auto& name : h5::link_names(g)) {
    if (!h5::is_group(g, name)) refuse(g, name, "expected a group (one per boundary condition)");
    h5::Group bc = h5::open_group(g, name);
    const std::string type = upper(h5::read_string_attr(bc, "bc_type"));
    if (type != "PERIODIC" && type != "WALL" && type != "OPEN")
      refuse(bc, "", "bc_type '" + type + "': expected PERIODIC, WALL or OPEN");
    const std::vector<std::string> assoc = h5::read_string_array_attr(bc, "associated_dims");
    std::vector<bool> on(info.dims.size(), false);
    for (const auto& d : assoc) {
      const auto it = std::find(info.dims.begin(), info.dims.end(), d);
      if (it == info.dims.end())
        refuse(bc, "",
               "associated_dims names '" + d + "': expected one of spatial_dims [" + join(info.dims) + "]");
      on[static_cast<std::size_t>(it - info.dims.begin())] = true;
      kinds[static_cast<std::size_t>(it - info.dims.begin())].insert(type);
    }
    if (h5::has_link(bc, "mask")) {
      const bool sv = h5::has_attr(bc, "sample_varying") && h5::read_bool_attr(bc, "sample_varying");
      const bool tv = h5::has_attr(bc, "time_varying") && h5::read_bool_attr(bc, "time_varying");
      std::string legend;
      const auto want = rule_shape(info, sv, tv, on, 0, legend);
      const auto got = h5::dataset_dims(h5::open_dataset(bc, "mask"));
      if (got != want)
        refuse(bc, "mask", "shape " + describe_dims(got) + ": expected " + legend + " (the associated dims)");
    }
    info.bc_description +=
        (info.bc_description.empty() ? "" : "; ") + name + ": " + type + " on " + join(assoc);
  }
  for (std::size_t k = 0; k < info.dims.size(); ++k) {
    if (kinds[k].empty())
      refuse(g, "",
             "no boundary condition group lists dim '" + info.dims[k] +
                 "' in associated_dims: expected one (PERIODIC, WALL or OPEN)");
    if (kinds[k].size() > 1)
      refuse(g, "",
             "dim '" + info.dims[k] + "' has boundary conditions of kinds " +
                 join(std::vector<std::string>(kinds[k].begin(), kinds[k].end())) +
                 ": surro records one kind per axis (import the files with one kind each separately)");
    const std::string& k0 = *kinds[k].begin();
    info.boundaries.push_back(k0 == "PERIODIC" ? Boundary::periodic
                              : k0 == "WALL"   ? Boundary::wall
                                               : Boundary::open);
  }
}

void read_scalars(hid_t f, FileInfo& info) {
  std::vector<std::string> params;
  if (h5::has_attr(f, "simulation_parameters"))
    params = h5::read_string_array_attr(f, "simulation_parameters");
  for (const auto& p : params)
    if (h5::has_attr(f, p)) info.constants[p] = h5::read_double_attr(f, p);
  if (!h5::has_link(f, "scalars")) return;
  h5::Group g = h5::open_group(f, "scalars");
  const std::vector<std::string> names = h5::has_attr(g, "field_names")
                                             ? h5::read_string_array_attr(g, "field_names")
                                             : std::vector<std::string>{};
  for (const auto& name : names) {
    h5::Dataset d = h5::open_dataset(g, name);
    const bool sv = h5::read_bool_attr(d, "sample_varying");
    if (h5::read_bool_attr(d, "time_varying"))
      refuse(d, "",
             "time_varying = true: a time-varying scalar cannot be represented: surro's datasets "
             "carry parameters per dataset or per trajectory, not per time step");
    const auto dims = h5::dataset_dims(d);
    std::size_t n = 1;
    for (hsize_t k : dims) n *= static_cast<std::size_t>(k);
    if (sv ? dims != std::vector<hsize_t>{static_cast<hsize_t>(info.B)} : n != 1)
      refuse(d, "",
             "shape " + describe_dims(dims) + ": expected " +
                 (sv ? "(B) = (" + std::to_string(info.B) + ")" : std::string("() or (1)")) +
                 " (sample_varying = " + (sv ? "true" : "false") + ", time_varying = false)");
    if (sv) {
      info.constants.erase(name);
      info.varying.insert(name);
    } else if (!info.constants.count(name)) {  // a simulation parameter's root attribute wins (float64)
      info.constants[name] = h5::read_double_dataset(g, name, dims).at(0);
    }
  }
}

void read_fields(hid_t f, FileInfo& info, int order) {
  const std::string group = "t" + std::to_string(order) + "_fields";
  if (!h5::has_link(f, group)) return;
  h5::Group g = h5::open_group(f, group);
  if (!h5::has_attr(g, "field_names")) return;
  for (const auto& name : h5::read_string_array_attr(g, "field_names")) {
    h5::Dataset d = h5::open_dataset(g, name);
    if (H5Tget_class(h5::dataset_type(d)) != H5T_FLOAT)
      refuse(d, "", h5::describe_type(h5::dataset_type(d)) + " data: expected floating point (float32)");
    if (!h5::read_bool_attr(d, "sample_varying"))
      refuse(d, "",
             "sample_varying = false: a field shared by all trajectories cannot be represented: "
             "surro's grid fields have one value per trajectory");
    WellSource::Stored s;
    s.order = order;
    s.name = name;
    s.time_varying = h5::read_bool_attr(d, "time_varying");
    s.dim_varying = h5::read_bool_array_attr(d, "dim_varying");
    if (s.dim_varying.size() != info.dims.size())
      refuse(d, "",
             "dim_varying has " + std::to_string(s.dim_varying.size()) +
                 " entries: expected n_spatial_dims = " + std::to_string(info.dims.size()));
    std::string legend;
    const auto want = rule_shape(info, true, s.time_varying, s.dim_varying, order, legend);
    const auto got = h5::dataset_dims(d);
    if (got != want)
      refuse(d, "",
             "shape " + describe_dims(got) + ": expected " + legend +
                 " = (B) + (T if time_varying) + (N_k if dim_varying[k]) + (D,) * " + std::to_string(order));
    s.components = well_component_names(name, order, info.dims);
    info.stored.push_back(std::move(s));
  }
}

FileInfo inspect_file(const std::string& path) {
  h5::File f = h5::open_file(path);
  FileInfo info;
  info.path = path;
  read_root(f, info);
  read_dimensions(f, info);
  read_boundaries(f, info);
  read_scalars(f, info);
  for (int order = 0; order < 3; ++order) read_fields(f, info, order);
  std::set<std::string> seen;
  for (const auto& s : info.stored)
    for (const auto& c : s.components)
      if (!seen.insert(c).second)
        refuse(f, "t" + std::to_string(s.order) + "_fields/" + s.name,
               "component name '" + c + "' is already taken by another field: expected unique names");
  if (seen.empty()) refuse(f, "", "no fields in t0_fields, t1_fields or t2_fields: expected at least one");
  return info;
}

std::string field_signature(const FileInfo& info) {
  std::string s;
  for (const auto& f : info.stored) {
    s += (s.empty() ? "" : ", ") + ("t" + std::to_string(f.order) + "_fields/") + f.name +
         (f.time_varying ? "" : " (constant in time)");
    for (std::size_t k = 0; k < f.dim_varying.size(); ++k)
      if (!f.dim_varying[k]) s += " (constant along " + info.dims[k] + ")";
  }
  return s;
}

// A later file must describe the same dataset as the first one.
void compare(const FileInfo& a, const FileInfo& first) {
  auto differ = [&](const std::string& what, const std::string& got, const std::string& want) {
    SURRO_THROW(ErrorKind::input, a.path << ": " << what << " " << got << ": expected " << want << " as in "
                                         << first.path << " (the files of one import form one dataset)");
  };
  if (a.dataset_name != first.dataset_name) differ("dataset_name", a.dataset_name, first.dataset_name);
  if (a.dims != first.dims) differ("spatial_dims", "[" + join(a.dims) + "]", "[" + join(first.dims) + "]");
  for (std::size_t k = 0; k < a.dims.size(); ++k)
    if (a.coords[k] != first.coords[k]) differ("/dimensions/" + a.dims[k], "coordinates", "the same values");
  if (a.times != first.times)
    differ("/dimensions/time", std::to_string(a.times.size()) + " times",
           std::to_string(first.times.size()) + " equal times (surro datasets have one time axis)");
  if (a.boundaries != first.boundaries) differ("boundary conditions", a.bc_description, first.bc_description);
  if (field_signature(a) != field_signature(first))
    differ("fields", "[" + field_signature(a) + "]", "[" + field_signature(first) + "]");
  std::set<std::string> sa(a.varying), sf(first.varying);
  for (const auto& kv : a.constants) sa.insert(kv.first);
  for (const auto& kv : first.constants) sf.insert(kv.first);
  if (sa != sf)
    differ("scalars", "[" + join({sa.begin(), sa.end()}) + "]", "[" + join({sf.begin(), sf.end()}) + "]");
}

}  // namespace

std::vector<std::string> well_component_names(const std::string& name, int order,
                                              const std::vector<std::string>& dims) {
  std::vector<std::string> out;
  if (order == 0) return {name};
  for (const auto& d : dims) {
    if (order == 1) {
      out.push_back(name + "_" + d);
    } else {
      for (const auto& e : dims) out.push_back(name + "_" + d + e);
    }
  }
  return out;
}

WellSource inspect_the_well(const std::vector<std::string>& files) {
  SURRO_REQUIRE(!files.empty(), "inspect_the_well: no files: expected at least one");
  std::vector<FileInfo> infos;
  for (const auto& path : files) {
    infos.push_back(inspect_file(path));
    if (infos.size() > 1) compare(infos.back(), infos.front());
  }
  const FileInfo& first = infos.front();
  WellSource src;
  DatasetSpec& s = src.spec;
  s.dataset_name = first.dataset_name;
  s.dims = first.dims;
  s.coords = first.coords;
  s.boundaries = first.boundaries;
  s.times = first.times;
  src.stored = first.stored;
  for (const auto& st : first.stored)
    for (const auto& c : st.components) s.fields.push_back({c, st.time_varying, 1});
  s.provenance["source_layout"] = "the-well";
  s.provenance["boundary_conditions"] = first.bc_description;
  for (const auto& kv : first.text) s.provenance["well_" + kv.first] = kv.second;
  // Scalars: dataset parameters when constant and equal everywhere, else per trajectory.
  std::set<std::string> names(first.varying);
  for (const auto& kv : first.constants) names.insert(kv.first);
  for (const auto& name : names) {
    bool everywhere = true;
    for (const auto& info : infos)
      everywhere =
          everywhere && info.constants.count(name) && info.constants.at(name) == first.constants.at(name);
    if (everywhere) {
      s.parameters[name] = first.constants.at(name);
      continue;
    }
    std::vector<std::optional<double>>& v = src.per_sample[name];
    for (const auto& info : infos)
      v.push_back(info.constants.count(name) ? std::optional<double>(info.constants.at(name)) : std::nullopt);
  }
  for (const auto& info : infos) {
    src.files.push_back(info.path);
    src.trajectories.push_back(info.B);
    src.samples += info.B;
  }
  return src;
}

namespace {

// Rows [row0, row0 + n) of file `i` into trajectories [out0, out0 + n) of `b`.
void read_rows(const WellSource& src, std::size_t i, long long row0, long long n, long long out0, Block& b) {
  h5::File f = h5::open_file(src.files[i]);
  const DatasetSpec& s = src.spec;
  const std::size_t D = s.dims.size(), P = static_cast<std::size_t>(s.points());
  const std::vector<int> shape = s.shape();
  for (const auto& st : src.stored) {
    h5::Group g = h5::open_group(f, "t" + std::to_string(st.order) + "_fields");
    const std::size_t T = st.time_varying ? s.times.size() : 1;
    const std::size_t C = st.components.size();
    std::vector<hsize_t> dims = {static_cast<hsize_t>(src.trajectories[i])};
    if (st.time_varying) dims.push_back(s.times.size());
    // sp[p]: the stored point of grid point p (LayoutRight); axes with dim_varying false are not stored.
    std::size_t Ps = 1;
    for (std::size_t k = 0; k < D; ++k)
      if (st.dim_varying[k]) {
        dims.push_back(static_cast<hsize_t>(shape[k]));
        Ps *= static_cast<std::size_t>(shape[k]);
      }
    for (int o = 0; o < st.order; ++o) dims.push_back(D);
    std::vector<std::size_t> sp(P);
    for (std::size_t p = 0; p < P; ++p) {
      std::size_t rest = p, off = 0, stride = 1;
      for (std::size_t k = D; k-- > 0;) {
        const std::size_t ik = rest % static_cast<std::size_t>(shape[k]);
        rest /= static_cast<std::size_t>(shape[k]);
        if (st.dim_varying[k]) {
          off += ik * stride;
          stride *= static_cast<std::size_t>(shape[k]);
        }
      }
      sp[p] = off;
    }
    const std::vector<double> v = h5::read_double_dataset(g, st.name, dims, row0, n);  // (n, [T,] Ns..., C)
    for (std::size_t c = 0; c < C; ++c) {
      float* out = b.fields.at(st.components[c]).data();  // (count, [T,] Nx, ...)
      for (std::size_t r = 0; r < static_cast<std::size_t>(n); ++r)
        for (std::size_t t = 0; t < T; ++t)
          for (std::size_t p = 0; p < P; ++p)
            out[((static_cast<std::size_t>(out0) + r) * T + t) * P + p] =
                static_cast<float>(v[((r * T + t) * Ps + sp[p]) * C + c]);
    }
  }
  for (const auto& [name, per_file] : src.per_sample) {
    double* out = b.sample_parameters.at(name).data() + out0;  // (count)
    if (per_file[i]) {
      std::fill(out, out + n, *per_file[i]);
    } else {
      h5::Group g = h5::open_group(f, "scalars");
      const std::vector<double> v =
          h5::read_double_dataset(g, name, {static_cast<hsize_t>(src.trajectories[i])}, row0, n);
      std::copy(v.begin(), v.end(), out);
    }
  }
}

}  // namespace

Block read_the_well(const WellSource& src, long long first, long long count) {
  SURRO_REQUIRE(first >= 0 && count >= 0 && first + count <= src.samples,
                "read_the_well: trajectories [" << first << ", " << first + count << "): expected within the "
                                                << src.samples << " of " << src.files.size() << " file(s)");
  Block b;
  b.first = first;
  b.count = count;
  for (const auto& f : src.spec.fields)
    b.fields[f.name].resize(static_cast<std::size_t>(count * src.spec.sample_size(f)));
  for (const auto& kv : src.per_sample) b.sample_parameters[kv.first].resize(static_cast<std::size_t>(count));
  long long start = 0;  // the file's first trajectory in the sequence
  for (std::size_t i = 0; i < src.files.size(); ++i) {
    const long long lo = std::max(first, start), hi = std::min(first + count, start + src.trajectories[i]);
    if (lo < hi) read_rows(src, i, lo - start, hi - lo, lo - first, b);
    start += src.trajectories[i];
  }
  return b;
}

}  // namespace surro::data
