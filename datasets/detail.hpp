#pragma once
// Internals shared by the dataset layouts (well.cpp: The Well's grid files; mesh_file.cpp: trajectories
// on unstructured meshes): the violation collector behind validate_*, the pooled moments behind
// stats.yaml, and the per-layout hooks write_stats_yaml and validate_dataset_dir dispatch to.
// Not a public interface: only datasets/*.cpp include it.
#include "datasets/hdf5.hpp"

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace surro::data::detail {

using h5::describe_dims;

// Collects violations; each message starts with the HDF5 path. Type checks follow what h5py hands
// to The Well's checker (see hdf5.hpp for the conventions).
class Validator {
 public:
  std::vector<std::string> out;

  void add(const std::string& path, const std::string& msg) { out.push_back(path + ": " + msg); }

  // The attribute's type if it exists, else a "missing" violation.
  std::optional<h5::Datatype> attr(hid_t obj, const std::string& path, const std::string& name) {
    if (!h5::has_attr(obj, name)) {
      add(path, "attribute '" + name + "': missing");
      return std::nullopt;
    }
    return h5::attr_type(obj, name);
  }

  bool rank_is(hid_t obj, const std::string& path, const std::string& name, std::size_t rank,
               const char* what) {
    const auto dims = h5::attr_dims(obj, name);
    if (dims.size() == rank) return true;
    add(path, "attribute '" + name + "': shape " + describe_dims(dims) + ": expected " + what);
    return false;
  }

  bool string_type(hid_t type, const std::string& path, const std::string& name) {
    if (H5Tget_class(type) != H5T_STRING) {
      add(path, "attribute '" + name + "': " + h5::describe_type(type) +
                    ": expected variable-length UTF-8 strings");
      return false;
    }
    if (H5Tis_variable_str(type) <= 0) {
      add(path, "attribute '" + name + "': " + h5::describe_type(type) +
                    ": expected a variable-length UTF-8 string (h5py reads fixed-length strings as bytes, "
                    "not str)");
      return false;
    }
    return true;
  }

  std::optional<std::string> string_attr(hid_t obj, const std::string& path, const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t || !string_type(*t, path, name) || !rank_is(obj, path, name, 0, "a scalar string"))
      return std::nullopt;
    return h5::read_string_attr(obj, name);
  }

  std::optional<std::vector<std::string>> string_list_attr(hid_t obj, const std::string& path,
                                                           const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t || !string_type(*t, path, name) || !rank_is(obj, path, name, 1, "a 1-D list of strings"))
      return std::nullopt;
    return h5::read_string_array_attr(obj, name);
  }

  bool bool_type(hid_t type, const std::string& path, const std::string& name) {
    if (h5::is_bool_enum(type)) return true;
    add(path, "attribute '" + name + "': " + h5::describe_type(type) +
                  ": expected the HDF5 enum bool {FALSE=0, TRUE=1} over int8 (h5py reads anything else as a "
                  "number, not numpy.bool_)");
    return false;
  }

  std::optional<bool> bool_attr(hid_t obj, const std::string& path, const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t || !bool_type(*t, path, name) || !rank_is(obj, path, name, 0, "a scalar bool"))
      return std::nullopt;
    return h5::read_bool_attr(obj, name);
  }

  std::optional<std::vector<bool>> bool_list_attr(hid_t obj, const std::string& path,
                                                  const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t || !bool_type(*t, path, name) || !rank_is(obj, path, name, 1, "a 1-D list of bools"))
      return std::nullopt;
    return h5::read_bool_array_attr(obj, name);
  }

  std::optional<std::int64_t> int_attr(hid_t obj, const std::string& path, const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t) return std::nullopt;
    if (H5Tget_class(*t) != H5T_INTEGER) {
      add(path, "attribute '" + name + "': " + h5::describe_type(*t) + ": expected an integer");
      return std::nullopt;
    }
    if (!rank_is(obj, path, name, 0, "a scalar integer")) return std::nullopt;
    return h5::read_int_attr(obj, name);
  }

  std::optional<std::vector<std::int64_t>> int_list_attr(hid_t obj, const std::string& path,
                                                         const std::string& name) {
    auto t = attr(obj, path, name);
    if (!t) return std::nullopt;
    if (H5Tget_class(*t) != H5T_INTEGER) {
      add(path, "attribute '" + name + "': " + h5::describe_type(*t) + ": expected integers");
      return std::nullopt;
    }
    if (!rank_is(obj, path, name, 1, "a 1-D list of integers")) return std::nullopt;
    return h5::read_int_array_attr(obj, name);
  }

  // A required child group, opened, or a violation.
  std::optional<h5::Group> group(hid_t loc, const std::string& parent_path, const std::string& name) {
    const std::string path = child(parent_path, name);
    if (!h5::has_link(loc, name)) {
      add(path, "missing group");
      return std::nullopt;
    }
    if (!h5::is_group(loc, name)) {
      add(path, "expected a group, found another kind of object");
      return std::nullopt;
    }
    return h5::open_group(loc, name);
  }

  std::optional<h5::Dataset> dataset(hid_t loc, const std::string& path, const std::string& name) {
    if (!h5::has_link(loc, name)) {
      add(path, "missing dataset");
      return std::nullopt;
    }
    if (!h5::is_dataset(loc, name)) {
      add(path, "expected a dataset, found another kind of object");
      return std::nullopt;
    }
    return h5::open_dataset(loc, name);
  }

  void shape_is(hid_t dset, const std::string& path, const std::vector<hsize_t>& expected,
                const std::string& legend) {
    const auto dims = h5::dataset_dims(dset);
    if (dims != expected)
      add(path, "shape " + describe_dims(dims) + ": expected " + describe_dims(expected) + " = " + legend);
  }

  static std::string child(const std::string& parent, const std::string& name) {
    return parent == "/" ? "/" + name : parent + "/" + name;
  }
};

// Count, mean and sum of squared deviations; merged with Chan et al.'s pairwise update, which
// pools files (and samples) exactly like The Well's count-weighted mixture moments.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void merge(const Moments& o) {
    if (o.n == 0) return;
    const double total = n + o.n;
    const double delta = o.mean - mean;
    mean += delta * o.n / total;
    m2 += o.m2 + delta * delta * n * o.n / total;
    n = total;
  }
  double stddev() const { return std::sqrt(m2 / n); }
  double rms() const { return std::sqrt(m2 / n + mean * mean); }
};

// Two-pass moments of values v(i), i in [0, n), in float64.
template <class F>
Moments moments_of(std::size_t n, F v) {
  Moments m;
  if (n == 0) return m;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += v(i);
  m.n = static_cast<double>(n);
  m.mean = sum / m.n;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = v(i) - m.mean;
    m.m2 += d * d;
  }
  return m;
}

// A single HDF5 link name: not empty, no '/', not "." (HDF5's name for the current group).
inline bool valid_link_name(const std::string& s) {
  return !s.empty() && s != "." && s.find('/') == std::string::npos;
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

inline std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Field names (and component keys) become plain YAML keys; anything YAML would quote or reinterpret
// is refused.
bool plain_yaml_key(const std::string& s);

// What write_stats_yaml pools over the train files: statistic key ("u", "velocity_x") -> moments of
// the values and of their differences along time; keys of time-varying fields in time_varying.
struct StatsAccumulator {
  std::map<std::string, Moments> value, delta;
  std::set<std::string> time_varying;
};

// Adds one mesh-layout file to `acc` (mesh_file.cpp). Errors: Error(input) naming file and field.
void accumulate_mesh_stats(const std::string& file, StatsAccumulator& acc);

}  // namespace surro::data::detail
