#include "datasets/external.hpp"

#include "core/error.hpp"
#include "datasets/hdf5.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

namespace surro::data {
namespace {

std::string shape_of(const std::vector<hsize_t>& dims) {
  return h5::describe_dims(dims);
}

std::vector<hsize_t> reversed(std::vector<hsize_t> d) {
  std::reverse(d.begin(), d.end());
  return d;
}

// A real (float or integer) dataset's elements with index `axis` restricted to [first, first + count),
// converted to double, LayoutRight over the stored dims with that axis replaced by count.
std::vector<double> read_slab(hid_t loc, const std::string& name, std::size_t axis, long long first,
                              long long count) {
  h5::Dataset d = h5::open_dataset(loc, name);
  std::vector<hsize_t> dims = h5::dataset_dims(d);
  const H5T_class_t cls = H5Tget_class(h5::dataset_type(d));
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    h5::fail(ErrorKind::input, d, "", "expected real numbers, got " + h5::describe_type(h5::dataset_type(d)));
  SURRO_REQUIRE(axis < dims.size() && first >= 0 && first + count <= static_cast<long long>(dims[axis]),
                h5::where(d) << ": rows [" << first << ", " << first + count << ") of axis " << axis
                             << ": outside shape " << shape_of(dims));
  std::vector<hsize_t> start(dims.size(), 0), slab = dims;
  start[axis] = static_cast<hsize_t>(first);
  slab[axis] = static_cast<hsize_t>(count);
  std::size_t n = 1;
  for (hsize_t s : slab) n *= s;
  std::vector<double> out(n);
  if (n == 0) return out;
  h5::Dataspace file_space(H5Dget_space(d));
  h5::Dataspace mem_space(H5Screate_simple(static_cast<int>(slab.size()), slab.data(), nullptr));
  if (!dims.empty() &&
      H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, slab.data(), nullptr) < 0)
    h5::fail(ErrorKind::input, d, "", "cannot select rows");
  if (H5Dread(d, H5T_NATIVE_DOUBLE, dims.empty() ? H5S_ALL : hid_t(mem_space),
              dims.empty() ? H5S_ALL : hid_t(file_space), H5P_DEFAULT, out.data()) < 0)
    h5::fail(ErrorKind::input, d, "", "read failed (HDF5: " + h5::error_detail() + ")");
  return out;
}

std::vector<hsize_t> dims_of(hid_t loc, const std::string& name) {
  return h5::dataset_dims(h5::open_dataset(loc, name));
}

// x_i = i / n (periodic unit interval) or i / (n - 1) (both ends included).
std::vector<double> unit_grid(hsize_t n, bool endpoints) {
  std::vector<double> x(n);
  for (hsize_t i = 0; i < n; ++i)
    x[i] = endpoints ? (n > 1 ? double(i) / double(n - 1) : 0.0) : double(i) / double(n);
  return x;
}

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  SURRO_THROW(ErrorKind::input, path << ": " << what);
}

// ---- FNO .mat ------------------------------------------------------------------------------------

constexpr const char* kV5Recipe =
    "a MATLAB v5 .mat file: surro reads MATLAB v7.3 (HDF5) files only; convert it with "
    "python3 -c \"import scipy.io, h5py; d = scipy.io.loadmat('IN.mat'); "
    "h = h5py.File('OUT.mat', 'w'); [h.create_dataset(k, data=d[k].T) for k in d if not "
    "k.startswith('__')]\" "
    "(the .T stores MATLAB's column-major order), or in MATLAB: load IN.mat; save OUT.mat -v7.3";

void check_hdf5_or_v5(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot open the file");
  char head[20] = {};
  in.read(head, sizeof(head));
  if (H5Fis_hdf5(path.c_str()) > 0) return;
  if (std::strncmp(head, "MATLAB 5.0 MAT-file", 19) == 0) refuse(path, kV5Recipe);
  refuse(path, "not an HDF5 file (expected a MATLAB v7.3 .mat file as the FNO scripts read)");
}

std::string fno_layout(hid_t root, const std::string& path) {
  auto has = [&](const char* k) { return h5::is_dataset(root, k); };
  if (has("coeff") && has("sol")) return "darcy";
  if (has("u")) {
    const auto u = reversed(dims_of(root, "u"));
    if (u.size() == 4) return "time_series";
    if (u.size() == 2 && has("a")) return "burgers";
    refuse(path, "variable u of shape " + shape_of(u) +
                     ": expected (N, S1, S2, T) (Navier-Stokes) or (N, X) beside a (N, X) (Burgers)");
  }
  std::string found;
  for (const auto& n : h5::link_names(root)) found += (found.empty() ? "" : ", ") + n;
  refuse(path,
         "no FNO variables: expected coeff and sol (Darcy), a and u (Burgers) or u (N, S1, S2, T) "
         "(Navier-Stokes); found: " +
             found);
}

void require_shape(const std::string& path, const char* var, const std::vector<hsize_t>& got,
                   const std::vector<hsize_t>& want, const char* role) {
  if (got != want)
    refuse(path, std::string("variable ") + var + " of shape " + shape_of(got) + ": expected " +
                     shape_of(want) + " (" + role + ")");
}

}  // namespace

ExternalFile inspect_fno_mat(const std::string& path) {
  check_hdf5_or_v5(path);
  h5::File f = h5::open_file(path);
  const std::string layout = fno_layout(f, path);
  ExternalFile out;
  DatasetSpec& s = out.spec;
  s.provenance["source_layout"] = "fno-mat " + layout;
  if (layout == "darcy") {
    const auto c = reversed(dims_of(f, "coeff"));  // (N, S1, S2)
    if (c.size() != 3) refuse(path, "variable coeff of shape " + shape_of(c) + ": expected (N, S1, S2)");
    require_shape(path, "sol", reversed(dims_of(f, "sol")), c, "the shape of coeff");
    out.samples = c[0];
    s.dims = {"x", "y"};
    s.coords = {unit_grid(c[1], true), unit_grid(c[2], true)};
    s.boundaries = {Boundary::wall, Boundary::wall};
    s.fields = {{"a", false, 1}, {"u", false, 1}};
  } else if (layout == "burgers") {
    const auto u = reversed(dims_of(f, "u"));  // (N, X)
    require_shape(path, "a", reversed(dims_of(f, "a")), u, "the shape of u");
    out.samples = u[0];
    s.dims = {"x"};
    s.coords = {unit_grid(u[1], false)};
    s.boundaries = {Boundary::periodic};
    s.times = {0.0, 1.0};
    s.fields = {{"u", true, 1}};
  } else {
    const auto u = reversed(dims_of(f, "u"));  // (N, S1, S2, T)
    const bool has_a = h5::is_dataset(f, "a");
    if (has_a) require_shape(path, "a", reversed(dims_of(f, "a")), {u[0], u[1], u[2]}, "u's (N, S1, S2)");
    out.samples = u[0];
    s.dims = {"x", "y"};
    s.coords = {unit_grid(u[1], false), unit_grid(u[2], false)};
    s.boundaries = {Boundary::periodic, Boundary::periodic};
    if (has_a) s.times.push_back(0.0);
    if (h5::is_dataset(f, "t")) {
      const auto td = dims_of(f, "t");
      hsize_t n = 1;
      for (hsize_t d : td) n *= d;
      if (n != u[3])
        refuse(path, "variable t of shape " + shape_of(reversed(td)) + ": expected " + std::to_string(u[3]) +
                         " times (u's last axis)");
      const std::vector<double> t = read_slab(f, "t", 0, 0, static_cast<long long>(td.at(0)));
      s.times.insert(s.times.end(), t.begin(), t.end());
    } else {
      for (hsize_t k = 1; k <= u[3]; ++k) s.times.push_back(double(k));
    }
    s.fields = {{"vorticity", true, 1}};
  }
  return out;
}

Block read_fno_mat(const std::string& path, const ExternalFile& info, long long first, long long count) {
  h5::File f = h5::open_file(path);
  const DatasetSpec& s = info.spec;
  Block b;
  b.first = first;
  b.count = count;
  const std::size_t c = static_cast<std::size_t>(count);
  if (s.fields.size() == 2) {  // Darcy: stored {S2, S1, N}, slab value (j * S1 + i) * c + n
    const std::size_t s1 = s.coords[0].size(), s2 = s.coords[1].size();
    for (const auto& [var, field] : {std::pair<const char*, const char*>{"coeff", "a"}, {"sol", "u"}}) {
      const std::vector<double> v = read_slab(f, var, 2, first, count);
      std::vector<float>& out = b.fields[field];  // (B, Nx, Ny)
      out.resize(c * s1 * s2);
      for (std::size_t n = 0; n < c; ++n)
        for (std::size_t i = 0; i < s1; ++i)
          for (std::size_t j = 0; j < s2; ++j) out[(n * s1 + i) * s2 + j] = float(v[(j * s1 + i) * c + n]);
    }
  } else if (s.dims.size() == 1) {  // Burgers: stored {X, N}; frames a (t = 0), u (t = 1)
    const std::size_t nx = s.coords[0].size();
    const std::vector<double> a = read_slab(f, "a", 1, first, count), u = read_slab(f, "u", 1, first, count);
    std::vector<float>& out = b.fields["u"];  // (B, 2, Nx)
    out.resize(c * 2 * nx);
    for (std::size_t n = 0; n < c; ++n)
      for (std::size_t x = 0; x < nx; ++x) {
        out[(n * 2 + 0) * nx + x] = float(a[x * c + n]);
        out[(n * 2 + 1) * nx + x] = float(u[x * c + n]);
      }
  } else {  // Navier-Stokes: u stored {T, S2, S1, N}, a {S2, S1, N}
    const std::size_t s1 = s.coords[0].size(), s2 = s.coords[1].size(), nt = s.times.size();
    const bool has_a = h5::is_dataset(f, "a");
    const std::size_t tu = nt - (has_a ? 1 : 0);
    const std::vector<double> u = read_slab(f, "u", 3, first, count);
    std::vector<double> a;
    if (has_a) a = read_slab(f, "a", 2, first, count);
    std::vector<float>& out = b.fields["vorticity"];  // (B, T, Nx, Ny)
    out.resize(c * nt * s1 * s2);
    for (std::size_t n = 0; n < c; ++n)
      for (std::size_t i = 0; i < s1; ++i)
        for (std::size_t j = 0; j < s2; ++j) {
          const std::size_t ij = j * s1 + i;
          if (has_a) out[((n * nt) * s1 + i) * s2 + j] = float(a[ij * c + n]);
          for (std::size_t t = 0; t < tu; ++t) {
            const std::size_t tt = t + (has_a ? 1 : 0);
            out[((n * nt + tt) * s1 + i) * s2 + j] = float(u[(t * s2 * s1 + ij) * c + n]);
          }
        }
  }
  return b;
}

// ---- PDEBench ----------------------------------------------------------------------------------

namespace {

void read_parameters(hid_t root, DatasetSpec& s) {
  for (const auto& name : h5::attr_names(root)) {
    const H5T_class_t cls = H5Tget_class(h5::attr_type(root, name));
    if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && h5::attr_dims(root, name).empty())
      s.parameters[name] = h5::read_double_attr(root, name);
  }
}

std::vector<double> coordinate(hid_t loc, const std::string& name, hsize_t n, const std::string& path) {
  const std::vector<double> x = h5::read_real_vector(loc, name);
  if (x.size() != n)
    refuse(path, name + " has " + std::to_string(x.size()) + " values: expected " + std::to_string(n));
  return x;
}

bool is_sample_key(const std::string& k) {
  return !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

}  // namespace

ExternalFile inspect_pdebench(const std::string& path) {
  h5::File f = h5::open_file(path);
  ExternalFile out;
  DatasetSpec& s = out.spec;
  read_parameters(f, s);
  if (h5::is_dataset(f, "tensor")) {
    const auto d = dims_of(f, "tensor");
    if (d.size() == 3) {  // (N, T, X)
      const std::vector<double> t = h5::read_real_vector(f, "t-coordinate");
      if (t.size() != d[1] && t.size() != d[1] + 1)
        refuse(path, "t-coordinate has " + std::to_string(t.size()) + " values: expected " +
                         std::to_string(d[1]) + " or " + std::to_string(d[1] + 1) + " (tensor " +
                         shape_of(d) + ")");
      out.samples = d[0];
      s.dims = {"x"};
      s.coords = {coordinate(f, "x-coordinate", d[2], path)};
      s.boundaries = {Boundary::periodic};
      s.times.assign(t.begin(), t.begin() + d[1]);  // upstream writes one time too many
      s.fields = {{"u", true, 1}};
      s.provenance["source_layout"] = "pdebench tensor (N, T, X)";
    } else if (d.size() == 4 && d[1] == 1 && h5::is_dataset(f, "nu")) {  // Darcy
      require_shape(path, "nu", dims_of(f, "nu"), {d[0], d[2], d[3]}, "tensor's (N, X, Y)");
      out.samples = d[0];
      s.dims = {"x", "y"};
      s.coords = {coordinate(f, "x-coordinate", d[2], path), coordinate(f, "y-coordinate", d[3], path)};
      s.boundaries = {Boundary::wall, Boundary::wall};
      s.fields = {{"a", false, 1}, {"u", false, 1}};
      s.provenance["source_layout"] = "pdebench darcy tensor (N, 1, X, Y) + nu (N, X, Y)";
    } else {
      refuse(path, "tensor of shape " + shape_of(d) +
                       ": expected (N, T, X) (1D Burgers, advection) or (N, 1, X, Y) beside nu (N, X, Y) (2D "
                       "Darcy)");
    }
    return out;
  }
  for (const auto& k : h5::link_names(f))
    if (is_sample_key(k) && h5::is_group(f, k)) out.keys.push_back(k);
  if (out.keys.empty()) {
    std::string found;
    for (const auto& n : h5::link_names(f)) found += (found.empty() ? "" : ", ") + n;
    refuse(path,
           "no PDEBench layout: expected a dataset tensor, or sample groups 0000, 0001, ... each "
           "holding data (T, X[, Y], C); found: " +
               found);
  }
  h5::Group g = h5::open_group(f, out.keys[0]);
  const auto d = dims_of(g, "data");  // (T, X[, Y], C)
  if (d.size() != 3 && d.size() != 4)
    refuse(path, out.keys[0] + "/data of shape " + shape_of(d) + ": expected (T, X, C) or (T, X, Y, C)");
  out.samples = static_cast<long long>(out.keys.size());
  s.dims = d.size() == 3 ? std::vector<std::string>{"x"} : std::vector<std::string>{"x", "y"};
  s.coords.push_back(coordinate(g, "grid/x", d[1], path));
  if (d.size() == 4) s.coords.push_back(coordinate(g, "grid/y", d[2], path));
  s.boundaries.assign(s.dims.size(), Boundary::open);
  s.times = coordinate(g, "grid/t", d[0], path);
  const hsize_t nc = d.back();
  if (nc == 2) {
    s.fields = {{"u", true, 1}, {"v", true, 1}};
  } else {
    for (hsize_t ch = 0; ch < nc; ++ch)
      s.fields.push_back({nc == 1 ? "u" : "c" + std::to_string(ch), true, 1});
  }
  s.provenance["source_layout"] = "pdebench sample groups <key>/data (T, X[, Y], C)";
  return out;
}

Block read_pdebench(const std::string& path, const ExternalFile& info, long long first, long long count) {
  h5::File f = h5::open_file(path);
  const DatasetSpec& s = info.spec;
  Block b;
  b.first = first;
  b.count = count;
  const std::size_t c = static_cast<std::size_t>(count), p = static_cast<std::size_t>(s.points());
  if (info.keys.empty() && s.fields.size() == 2) {  // Darcy
    const std::vector<double> u = read_slab(f, "tensor", 0, first, count),
                              a = read_slab(f, "nu", 0, first, count);
    b.fields["a"].assign(a.begin(), a.end());
    b.fields["u"].assign(u.begin(), u.end());  // (B, 1, X, Y) = (B, X, Y)
  } else if (info.keys.empty()) {              // (N, T, X): already (B, T, Nx)
    const std::vector<double> u = read_slab(f, "tensor", 0, first, count);
    b.fields["u"].assign(u.begin(), u.end());
  } else {  // per-sample groups: data (T, P, C) -> per field (B, T, P)
    const std::size_t nt = s.times.size(), nc = s.fields.size();
    for (const auto& fs : s.fields) b.fields[fs.name].resize(c * nt * p);
    std::vector<hsize_t> want = {nt};
    for (const auto& x : s.coords) want.push_back(x.size());
    want.push_back(nc);
    for (std::size_t n = 0; n < c; ++n) {
      const std::string key = info.keys.at(static_cast<std::size_t>(first) + n);
      h5::Group g = h5::open_group(f, key);
      require_shape(path, (key + "/data").c_str(), dims_of(g, "data"), want, "the shape of the first sample");
      const std::vector<double> v = read_slab(g, "data", 0, 0, static_cast<long long>(nt));
      for (std::size_t ch = 0; ch < nc; ++ch) {
        float* out = b.fields[s.fields[ch].name].data() + n * nt * p;
        for (std::size_t q = 0; q < nt * p; ++q) out[q] = float(v[q * nc + ch]);
      }
    }
  }
  return b;
}

}  // namespace surro::data
