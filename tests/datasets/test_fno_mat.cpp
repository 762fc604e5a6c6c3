// FNO .mat export: read back with the HDF5 C API the way MatReader does (reverse every axis) and
// check dims, element placement, the MATLAB userblock header and MATLAB_class.
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "datasets/fno_mat.hpp"
#include "datasets/hdf5.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return test::fresh_dir("fno_mat", name);
}

struct Stored {
  std::vector<hsize_t> dims;  // HDF5 dims as stored (MATLAB order)
  std::vector<float> values;  // LayoutRight over dims
};

Stored read_var(const std::string& path, const std::string& name) {
  h5::File f = h5::open_file(path);
  h5::Dataset d = h5::open_dataset(f, name);
  Stored s;
  s.dims = h5::dataset_dims(d);
  h5::Datatype t = h5::dataset_type(d);
  CHECK(H5Tget_class(t) == H5T_FLOAT);
  CHECK(H5Tget_size(t) == 4);
  hsize_t n = 1;
  for (hsize_t x : s.dims) n *= x;
  s.values.resize(n);
  REQUIRE(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.values.data()) >= 0);
  // MATLAB_class: fixed-length ASCII "single".
  h5::Datatype at = h5::attr_type(d, "MATLAB_class");
  CHECK(H5Tget_class(at) == H5T_STRING);
  CHECK(H5Tis_variable_str(at) == 0);
  CHECK(H5Tget_cset(at) == H5T_CSET_ASCII);
  CHECK(H5Tget_size(at) == 6);
  CHECK(h5::read_string_attr(d, "MATLAB_class") == "single");
  return s;
}

// What MatReader sees: the stored array with all axes reversed. `logical` indexes in Python order.
float logical_at(const Stored& s, const std::vector<hsize_t>& logical) {
  // Reversed axes: stored index = (logical[k-1], ..., logical[0]) in LayoutRight over s.dims.
  hsize_t off = 0;
  for (std::size_t m = 0; m < s.dims.size(); ++m) off = off * s.dims[m] + logical[s.dims.size() - 1 - m];
  return s.values[off];
}

DatasetSpec spec_2d_time(int nx, int ny, int nt) {
  DatasetSpec s;
  s.dataset_name = "ns";
  s.dims = {"x", "y"};
  s.coords = {std::vector<double>(nx, 0.0), std::vector<double>(ny, 0.0)};
  s.boundaries = {Boundary::periodic, Boundary::periodic};
  for (int t = 0; t < nt; ++t) s.times.push_back(0.25 * (t + 1));
  s.fields = {{"vorticity", true}};
  return s;
}

float code(hsize_t n, hsize_t t, hsize_t i, hsize_t j) {
  return float(n * 1000 + t * 100 + i * 10 + j);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("fno_mat: Navier-Stokes time series: a (N,S1,S2), u (N,S1,S2,T-1), t (1,T-1) after axis reversal",
          "[fno_mat]") {
  const fs::path dir = fresh_dir("ns");
  const hsize_t N = 2, Nx = 3, Ny = 4, T = 5;  // all different, so any axis mix-up shows
  const DatasetSpec spec = spec_2d_time(Nx, Ny, T);
  Block b;
  b.count = N;
  auto& u = b.fields["vorticity"];  // (N, T, Nx, Ny)
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t t = 0; t < T; ++t)
      for (hsize_t i = 0; i < Nx; ++i)
        for (hsize_t j = 0; j < Ny; ++j) u.push_back(code(n, t, i, j));
  const std::string path = (dir / "ns_data.mat").string();
  export_fno_mat(path, spec, b, FnoMatKind::time_series);

  const Stored su = read_var(path, "u");
  // a is frame 0; u holds frames 1..T-1, as ns_2d.py saves them.
  CHECK(su.dims == std::vector<hsize_t>{T - 1, Ny, Nx, N});  // reversed (N, Nx, Ny, T-1)
  const Stored sa = read_var(path, "a");
  CHECK(sa.dims == std::vector<hsize_t>{Ny, Nx, N});
  const Stored st = read_var(path, "t");
  CHECK(st.dims == std::vector<hsize_t>{T - 1, 1});
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t i = 0; i < Nx; ++i)
      for (hsize_t j = 0; j < Ny; ++j) {
        CHECK(logical_at(sa, {n, i, j}) == code(n, 0, i, j));
        for (hsize_t t = 0; t + 1 < T; ++t) {
          CHECK(logical_at(su, {n, i, j, t}) == code(n, t + 1, i, j));
          // The reference's explicit formula: (n,i,j,t) at ((t*S2 + j)*S1 + i)*N + n.
          CHECK(su.values[((t * Ny + j) * Nx + i) * N + n] == code(n, t + 1, i, j));
        }
      }
  for (hsize_t t = 0; t + 1 < T; ++t) CHECK(logical_at(st, {0, t}) == float(0.25 * (t + 2)));

  // The MATLAB v7.3 header in the 512-byte userblock.
  {
    h5::File f = h5::open_file(path);
    h5::Plist fcpl(H5Fget_create_plist(f));
    hsize_t ub = 0;
    REQUIRE(H5Pget_userblock(fcpl, &ub) >= 0);
    CHECK(ub == 512);
  }
  std::ifstream in(path, std::ios::binary);
  std::string header(128, '\0');
  in.read(header.data(), 128);
  REQUIRE(in.gcount() == 128);
  CHECK_THAT(header.substr(0, 116),
             Catch::StartsWith("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: "));
  CHECK_THAT(header.substr(0, 116), Catch::Contains(" HDF5 schema 1.00 ."));
  CHECK(header[115] == ' ');                             // text padded with spaces to 116 bytes
  CHECK(header.substr(116, 8) == std::string(8, '\0'));  // no subsystem data
  CHECK(header[124] == '\x00');
  CHECK(header[125] == '\x02');  // version 0x0200
  CHECK(header.substr(126, 2) == "IM");
}

TEST_CASE("fno_mat: Burgers a = first frame, u = last frame, (N, S)", "[fno_mat]") {
  const fs::path dir = fresh_dir("burgers");
  DatasetSpec spec;
  spec.dataset_name = "burgers";
  spec.dims = {"x"};
  spec.coords = {std::vector<double>(4, 0.0)};
  spec.boundaries = {Boundary::periodic};
  spec.times = {0, 1, 2};
  spec.fields = {{"u", true}};
  const hsize_t N = 2, Nx = 4, T = 3;
  Block b;
  b.count = N;
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t t = 0; t < T; ++t)
      for (hsize_t i = 0; i < Nx; ++i) b.fields["u"].push_back(code(n, t, i, 0));
  const std::string path = (dir / "burgers.mat").string();
  export_fno_mat(path, spec, b, FnoMatKind::burgers);
  const Stored a = read_var(path, "a"), u = read_var(path, "u");
  CHECK(a.dims == std::vector<hsize_t>{Nx, N});
  CHECK(u.dims == std::vector<hsize_t>{Nx, N});
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t i = 0; i < Nx; ++i) {
      CHECK(logical_at(a, {n, i}) == code(n, 0, i, 0));
      CHECK(logical_at(u, {n, i}) == code(n, T - 1, i, 0));
    }
}

TEST_CASE("fno_mat: Darcy coeff from a, sol from u, (N, S1, S2)", "[fno_mat]") {
  const fs::path dir = fresh_dir("darcy");
  DatasetSpec spec = spec_2d_time(3, 2, 0);
  spec.fields = {{"a", false}, {"u", false}};
  const hsize_t N = 3, Nx = 3, Ny = 2;
  Block b;
  b.count = N;
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t i = 0; i < Nx; ++i)
      for (hsize_t j = 0; j < Ny; ++j) {
        b.fields["a"].push_back(code(n, 0, i, j));
        b.fields["u"].push_back(-code(n, 0, i, j));
      }
  const std::string path = (dir / "darcy.mat").string();
  export_fno_mat(path, spec, b, FnoMatKind::darcy);
  const Stored c = read_var(path, "coeff"), s = read_var(path, "sol");
  CHECK(c.dims == std::vector<hsize_t>{Ny, Nx, N});
  CHECK(s.dims == std::vector<hsize_t>{Ny, Nx, N});
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t i = 0; i < Nx; ++i)
      for (hsize_t j = 0; j < Ny; ++j) {
        CHECK(logical_at(c, {n, i, j}) == code(n, 0, i, j));
        CHECK(logical_at(s, {n, i, j}) == -code(n, 0, i, j));
      }
}

TEST_CASE("fno_mat: a spec that does not fit the kind is an error, and nothing is written", "[fno_mat]") {
  const fs::path dir = fresh_dir("errors");
  const std::string path = (dir / "x.mat").string();
  DatasetSpec spec = spec_2d_time(2, 2, 2);
  Block b;
  b.count = 1;
  b.fields["vorticity"] = std::vector<float>(8, 0.0f);
  CHECK(message_of([&] { export_fno_mat(path, spec, b, FnoMatKind::burgers); }) ==
        "export_fno_mat(burgers): " + path + ": 2 spatial dims: expected 1");
  CHECK(message_of([&] { export_fno_mat(path, spec, b, FnoMatKind::darcy); }) ==
        "export_fno_mat(darcy): " + path + ": field 'a' missing from the spec");
  spec.fields.push_back({"pressure", true});
  b.fields["pressure"] = std::vector<float>(8, 0.0f);
  CHECK(message_of([&] { export_fno_mat(path, spec, b, FnoMatKind::time_series); }) ==
        "export_fno_mat(time_series): " + path +
            ": the spec has 2 time-varying fields: expected exactly one");
  spec.fields.pop_back();
  b.fields["vorticity"].pop_back();
  CHECK_THAT(message_of([&] { export_fno_mat(path, spec, b, FnoMatKind::time_series); }),
             Catch::Contains("field 'vorticity' has 7 values: expected count * sample_size = 8"));
  CHECK(fs::is_empty(dir));
}
