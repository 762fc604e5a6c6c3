// The Well reader (datasets/external.hpp: inspect_the_well, read_the_well): files written here with
// the raw HDF5 helpers following The Well's schema (not with write_well_file, which writes t0 fields
// only), then read back: component placement of t1/t2 fields, repetition along axes that are not
// dim_varying, reads across file boundaries, scalars as dataset or per-trajectory parameters, and
// each refusal's message (file, HDF5 path, what cannot be represented). The end-to-end test on files
// of an independent writer (h5py) is tests/app/import_well_test.sh.
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "datasets/external.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/well.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <functional>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return test::fresh_dir("well_import", name);
}

constexpr hsize_t kT = 3, kX = 4, kY = 3;

// value(n, t, i, j) of trajectory n (global), exact in float32.
float value(long long n, std::size_t t, std::size_t i, std::size_t j) {
  return static_cast<float>(100 * n + 10 * static_cast<long long>(t) + 2 * static_cast<long long>(i)) +
         0.25f * static_cast<float>(j);
}

// What a test changes in an otherwise valid file.
struct Knobs {
  long long n0 = 0;  // global index of the file's first trajectory
  long long B = 2;
  double rayleigh = 1e4;
  std::string grid_type = "cartesian";
  std::int64_t n_spatial_dims = 2;
  double x3 = 3.0;               // x = (0, 1, 2, x3)
  bool x_time_varying = false;   // coordinates on a moving grid
  bool v_sample_varying = true;  // t1 field v
  hsize_t v_last = 2;            // trailing axis of v
  bool scalar_time_varying = false;
  std::string y_bc = "WALL";
  std::string extra_y_bc;  // a second boundary group on y with this kind
  bool no_y_bc = false;
  hsize_t T = kT;
  std::string t0_name = "p";
};

void flags(hid_t obj, bool sv, bool tv) {
  h5::write_bool_attr(obj, "sample_varying", sv);
  h5::write_bool_attr(obj, "time_varying", tv);
}

void field(hid_t g, const std::string& name, const std::vector<hsize_t>& dims, const std::vector<float>& v,
           bool sv, bool tv, const std::vector<bool>& dv) {
  h5::write_float_dataset(g, name, dims, v.data(), false);
  h5::Dataset d = h5::open_dataset(g, name);
  h5::write_bool_array_attr(d, "dim_varying", dv);
  flags(d, sv, tv);
}

void boundary(hid_t bcs, const std::string& name, const std::string& kind, const std::string& dim,
              hsize_t n) {
  h5::Group g = h5::create_group(bcs, name);
  h5::write_string_attr(g, "bc_type", kind);
  h5::write_string_array_attr(g, "associated_dims", {dim});
  h5::write_string_array_attr(g, "associated_fields", {});
  flags(g, false, false);
  std::vector<bool> mask(n, false);
  mask.front() = mask.back() = true;
  h5::write_bool_dataset(g, "mask", mask);
}

// Fields: p (t0, B, T, X, Y), v (t1, B, T, X, Y, 2) with v[c] = (c + 1) value, s (t2, constant along x:
// B, T, Y, 2, 2) with s[c][d] = value(i = 0) + 1000 (2c + d). Scalars: Rayleigh (a simulation
// parameter), Schmidt = 1, seed (B) = 7 + n.
void write_well(const std::string& path, const Knobs& k) {
  h5::File f = h5::create_file(path);
  const hsize_t B = static_cast<hsize_t>(k.B), T = k.T;
  h5::write_string_attr(f, "dataset_name", "demo");
  h5::write_string_attr(f, "grid_type", k.grid_type);
  h5::write_int64_attr(f, "n_spatial_dims", k.n_spatial_dims);
  h5::write_int64_attr(f, "n_trajectories", k.B);
  h5::write_string_array_attr(f, "simulation_parameters", {"Rayleigh"});
  h5::write_double_attr(f, "Rayleigh", k.rayleigh);
  {
    h5::Group g = h5::create_group(f, "dimensions");
    h5::write_string_array_attr(g, "spatial_dims", {"x", "y"});
    std::vector<float> t(T);
    for (hsize_t i = 0; i < T; ++i) t[i] = 0.5f * static_cast<float>(i);
    h5::write_float_dataset(g, "time", {T}, t.data(), false);
    flags(h5::open_dataset(g, "time"), false, true);
    const std::vector<float> x = {0, 1, 2, static_cast<float>(k.x3)}, y = {0.5f, 1.5f, 2.5f};
    std::vector<float> xt;
    for (hsize_t i = 0; i < T; ++i) xt.insert(xt.end(), x.begin(), x.end());
    if (k.x_time_varying)
      h5::write_float_dataset(g, "x", {T, kX}, xt.data(), false);
    else
      h5::write_float_dataset(g, "x", {kX}, x.data(), false);
    flags(h5::open_dataset(g, "x"), false, k.x_time_varying);
    h5::write_float_dataset(g, "y", {kY}, y.data(), false);
    flags(h5::open_dataset(g, "y"), false, false);
  }
  {
    h5::Group g = h5::create_group(f, "boundary_conditions");
    boundary(g, "x_periodic", "periodic", "x", kX);  // lower case: The Well's loader upper-cases it
    if (!k.no_y_bc) boundary(g, "y_bc", k.y_bc, "y", kY);
    if (!k.extra_y_bc.empty()) boundary(g, "y_other", k.extra_y_bc, "y", kY);
  }
  {
    h5::Group g = h5::create_group(f, "scalars");
    h5::write_string_array_attr(g, "field_names", {"Rayleigh", "Schmidt", "seed"});
    std::vector<float> r(k.scalar_time_varying ? T : 1, static_cast<float>(k.rayleigh));
    h5::write_float_dataset(g, "Rayleigh",
                            k.scalar_time_varying ? std::vector<hsize_t>{T} : std::vector<hsize_t>{},
                            r.data(), false);
    flags(h5::open_dataset(g, "Rayleigh"), false, k.scalar_time_varying);
    const float one = 1.0f;
    h5::write_float_dataset(g, "Schmidt", {1}, &one, false);
    flags(h5::open_dataset(g, "Schmidt"), false, false);
    std::vector<float> seed(B);
    for (hsize_t b = 0; b < B; ++b) seed[b] = 7.0f + static_cast<float>(k.n0 + static_cast<long long>(b));
    h5::write_float_dataset(g, "seed", {B}, seed.data(), false);
    flags(h5::open_dataset(g, "seed"), true, false);
  }
  std::vector<float> p, v, s;
  for (hsize_t b = 0; b < B; ++b)
    for (hsize_t t = 0; t < T; ++t) {
      const long long n = k.n0 + static_cast<long long>(b);
      for (hsize_t i = 0; i < kX; ++i)
        for (hsize_t j = 0; j < kY; ++j) {
          p.push_back(value(n, t, i, j));
          for (hsize_t c = 0; c < k.v_last; ++c) v.push_back(static_cast<float>(c + 1) * value(n, t, i, j));
        }
      for (hsize_t j = 0; j < kY; ++j)
        for (int c = 0; c < 4; ++c) s.push_back(value(n, t, 0, j) + 1000.0f * static_cast<float>(c));
    }
  {
    h5::Group g = h5::create_group(f, "t0_fields");
    h5::write_string_array_attr(g, "field_names", {k.t0_name});
    field(g, k.t0_name, {B, T, kX, kY}, p, true, true, {true, true});
  }
  {
    h5::Group g = h5::create_group(f, "t1_fields");
    h5::write_string_array_attr(g, "field_names", {"v"});
    if (k.v_sample_varying)
      field(g, "v", {B, T, kX, kY, k.v_last}, v, true, true, {true, true});
    else
      field(g, "v", {T, kX, kY, k.v_last}, std::vector<float>(v.begin(), v.begin() + T * kX * kY * k.v_last),
            false, true, {true, true});
  }
  {
    h5::Group g = h5::create_group(f, "t2_fields");
    h5::write_string_array_attr(g, "field_names", {"s"});
    field(g, "s", {B, T, kY, 2, 2}, s, true, true, {false, true});
  }
  h5::close_file(f);
}

void require_refusal(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    const std::string msg = e.what();
    for (const auto& p : parts) {
      INFO("message: " << msg);
      CHECK(msg.find(p) != std::string::npos);
    }
    return;
  }
  FAIL("no error thrown; expected one containing: " << parts.front());
}

}  // namespace

TEST_CASE("well_import: component names are The Well's (field_<dims>)", "[well_import]") {
  CHECK(well_component_names("u", 0, {"x", "y"}) == std::vector<std::string>{"u"});
  CHECK(well_component_names("u", 1, {"x", "y", "z"}) == std::vector<std::string>{"u_x", "u_y", "u_z"});
  CHECK(well_component_names("s", 2, {"x", "y"}) == std::vector<std::string>{"s_xx", "s_xy", "s_yx", "s_yy"});
}

TEST_CASE("well_import: two files read as one sequence: fields, components, axes, parameters",
          "[well_import]") {
  const fs::path dir = fresh_dir("sequence");
  const std::string a = (dir / "a.hdf5").string(), b = (dir / "b.hdf5").string();
  write_well(a, Knobs{});
  Knobs kb;
  kb.n0 = 2;
  kb.B = 3;
  kb.rayleigh = 1e5;
  write_well(b, kb);
  const WellSource src = inspect_the_well({a, b});
  const DatasetSpec& s = src.spec;
  CHECK(src.samples == 5);
  CHECK(src.trajectories == std::vector<long long>{2, 3});
  CHECK(s.dataset_name == "demo");
  CHECK(s.dims == std::vector<std::string>{"x", "y"});
  CHECK(s.coords[0] == std::vector<double>{0, 1, 2, 3});
  CHECK(s.coords[1] == std::vector<double>{0.5, 1.5, 2.5});
  CHECK(s.times == std::vector<double>{0, 0.5, 1});
  CHECK(s.boundaries == std::vector<Boundary>{Boundary::periodic, Boundary::wall});
  CHECK(s.provenance.at("boundary_conditions") == "x_periodic: PERIODIC on x; y_bc: WALL on y");
  std::vector<std::string> names;
  for (const auto& f : s.fields) names.push_back(f.name);
  CHECK(names == std::vector<std::string>{"p", "v_x", "v_y", "s_xx", "s_xy", "s_yx", "s_yy"});
  // Schmidt is 1 everywhere; Rayleigh differs between the files; seed varies per trajectory.
  CHECK(s.parameters == std::map<std::string, double>{{"Schmidt", 1.0}});
  REQUIRE(src.per_sample.size() == 2);
  CHECK(src.per_sample.at("Rayleigh") == std::vector<std::optional<double>>{1e4, 1e5});

  // Trajectories 1..3: the last of file a and the first two of file b.
  const Block blk = read_the_well(src, 1, 3);
  CHECK(blk.first == 1);
  CHECK(blk.count == 3);
  CHECK(blk.sample_parameters.at("Rayleigh") == std::vector<double>{1e4, 1e5, 1e5});
  CHECK(blk.sample_parameters.at("seed") == std::vector<double>{8, 9, 10});
  const std::size_t P = kX * kY;
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t t = 0; t < kT; ++t)
      for (std::size_t i = 0; i < kX; ++i)
        for (std::size_t j = 0; j < kY; ++j) {
          const std::size_t at = (r * kT + t) * P + i * kY + j;  // (B, T, X, Y)
          const float u = value(static_cast<long long>(r) + 1, t, i, j),
                      s0 = value(static_cast<long long>(r) + 1, t, 0, j);
          CHECK(blk.fields.at("p")[at] == u);
          CHECK(blk.fields.at("v_x")[at] == u);
          CHECK(blk.fields.at("v_y")[at] == 2 * u);
          // Stored constant along x: repeated over i. Exact: the reader only copies float32 values.
          CHECK(blk.fields.at("s_xx")[at] == s0);
          CHECK(blk.fields.at("s_xy")[at] == s0 + 1000);
          CHECK(blk.fields.at("s_yx")[at] == s0 + 2000);
          CHECK(blk.fields.at("s_yy")[at] == s0 + 3000);
        }
  fs::remove_all(dir);
}

TEST_CASE("well_import: per-trajectory parameters survive write_well_file / read_well_file",
          "[well_import]") {
  const fs::path dir = fresh_dir("roundtrip");
  const std::string a = (dir / "a.hdf5").string(), b = (dir / "b.hdf5").string(),
                    out = (dir / "o.hdf5").string();
  write_well(a, Knobs{});
  Knobs kb;
  kb.n0 = 2;
  kb.rayleigh = 1e5;
  write_well(b, kb);
  const WellSource src = inspect_the_well({a, b});
  const Block blk = read_the_well(src, 0, 4);
  write_well_file(out, src.spec, blk);
  CHECK(validate_well_file(out).empty());
  const WellFile back = read_well_file(out);
  CHECK(back.block.sample_parameters.at("Rayleigh") == std::vector<double>{1e4, 1e4, 1e5, 1e5});
  CHECK(back.block.sample_parameters.at("seed") == std::vector<double>{7, 8, 9, 10});
  CHECK(back.spec.parameters == std::map<std::string, double>{{"Schmidt", 1.0}});
  CHECK(back.block.fields.at("s_yx") == blk.fields.at("s_yx"));
  fs::remove_all(dir);
}

TEST_CASE("well_import: what surro cannot represent is refused, naming file and HDF5 path", "[well_import]") {
  const fs::path dir = fresh_dir("refusals");
  auto refused = [&](const std::string& name, const Knobs& k, const std::vector<std::string>& parts) {
    const std::string path = (dir / (name + ".hdf5")).string();
    write_well(path, k);
    std::vector<std::string> want = {path + ": "};
    want.insert(want.end(), parts.begin(), parts.end());
    require_refusal([&] { inspect_the_well({path}); }, want);
  };
  Knobs k;
  k.grid_type = "spherical";
  refused("spherical", k, {"grid_type 'spherical'", "expected 'cartesian'"});
  k = Knobs{};
  k.n_spatial_dims = 4;
  refused("4d", k, {"n_spatial_dims = 4", "1, 2 or 3"});
  k = Knobs{};
  k.x3 = 3.5;
  refused("nonuniform", k, {"/dimensions/x: non-uniform axis: coordinate 1 = 1.000000 deviates"});
  k = Knobs{};
  k.x_time_varying = true;
  refused("moving", k, {"/dimensions/x: time_varying = true: time-varying coordinates"});
  k = Knobs{};
  k.v_sample_varying = false;
  refused("shared", k, {"/t1_fields/v: sample_varying = false"});
  k = Knobs{};
  k.v_last = 3;
  refused("shape", k, {"/t1_fields/v: shape (2, 3, 4, 3, 3): expected (B=2, T=3, x=4, y=3, D=2)"});
  k = Knobs{};
  k.scalar_time_varying = true;
  refused("time_scalar", k, {"/scalars/Rayleigh: time_varying = true"});
  k = Knobs{};
  k.extra_y_bc = "OPEN";
  refused("two_kinds", k, {"/boundary_conditions: dim 'y' has boundary conditions of kinds OPEN, WALL"});
  k = Knobs{};
  k.no_y_bc = true;
  refused("no_bc", k, {"/boundary_conditions: no boundary condition group lists dim 'y'"});
  k = Knobs{};
  k.y_bc = "ROBIN";
  refused("robin", k, {"/boundary_conditions/y_bc: bc_type 'ROBIN'"});
  k = Knobs{};
  k.t0_name = "v_x";  // collides with the t1 field's first component
  refused("collision", k, {"/t1_fields/v: component name 'v_x' is already taken"});
  fs::remove_all(dir);
}

TEST_CASE("well_import: files that disagree are refused, naming both", "[well_import]") {
  const fs::path dir = fresh_dir("disagree");
  const std::string a = (dir / "a.hdf5").string(), b = (dir / "b.hdf5").string();
  write_well(a, Knobs{});
  Knobs kb;
  kb.T = 4;
  write_well(b, kb);
  require_refusal(
      [&] {
        inspect_the_well({a, b});
      },
      {b + ": /dimensions/time 4 times: expected 3 equal times", "as in " + a});
  kb = Knobs{};
  kb.y_bc = "OPEN";
  write_well(b, kb);
  require_refusal([&] { inspect_the_well({a, b}); }, {b + ": boundary conditions", "y_bc: OPEN on y"});
  fs::remove_all(dir);
}
