// The Well layout: bit-exact round trips, the validator against deliberately broken files, read
// errors that name the file and the HDF5 path, normalization statistics, dataset folders.
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/well.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return test::fresh_dir("well", name);
}

std::vector<double> linspace(int n, double lo, double hi) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = lo + (hi - lo) * i / n;
  return v;
}

// Nx != Ny, so a transposed axis shows up as a wrong shape; one field varies in time, one does not.
DatasetSpec spec2d() {
  DatasetSpec s;
  s.dataset_name = "ns2d_test";
  s.dims = {"x", "y"};
  s.coords = {linspace(6, 0, 2 * M_PI), linspace(5, 0, 1)};
  s.boundaries = {Boundary::periodic, Boundary::wall};
  s.times = {0.0, 0.1, 0.2, 0.3};
  s.fields = {{"vorticity", true}, {"a", false}};
  s.parameters = {{"nu", 1e-3}, {"forcing", 0.1}};
  s.provenance = {{"version", "0.1.0"}, {"seed", "7"}, {"solver", "{\"type\": \"navier_stokes_2d\"}"}};
  return s;
}

// Distinct values everywhere, plus the awkward bit patterns: -0, a denormal, NaN, infinity.
Block block_for(const DatasetSpec& spec, long long first, long long count, bool special = true) {
  Block b;
  b.first = first;
  b.count = count;
  for (const auto& f : spec.fields) {
    std::vector<float> v(static_cast<std::size_t>(count * spec.sample_size(f)));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(std::sin(0.37 * i + first) * (1 + first));
    if (special && v.size() > 4) {
      v[0] = -0.0f;
      v[1] = std::numeric_limits<float>::denorm_min();
      v[2] = std::numeric_limits<float>::quiet_NaN();
      v[3] = -std::numeric_limits<float>::infinity();
    }
    b.fields[f.name] = v;
  }
  return b;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<double> as_float32(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(static_cast<double>(static_cast<float>(x)));
  return out;
}

// Opens `path` read-write with the HDF5 C API and lets `edit` break it.
void edit_file(const std::string& path, const std::function<void(hid_t)>& edit) {
  h5::File f = h5::open_file(path, true);
  edit(f);
}

std::string copy_of(const fs::path& good, const fs::path& dir, const std::string& name) {
  const fs::path p = dir / name;
  fs::copy_file(good, p, fs::copy_options::overwrite_existing);
  return p.string();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no error thrown");
  return ErrorKind::runtime;
}

}  // namespace

TEST_CASE("well: write -> read round trip is bit-exact (1D, 2D, 3D)", "[well]") {
  const fs::path dir = fresh_dir("roundtrip");
  std::vector<DatasetSpec> specs;
  specs.push_back(spec2d());
  DatasetSpec s1;
  s1.dataset_name = "burgers1d";
  s1.dims = {"x"};
  s1.coords = {linspace(16, -1, 1)};
  s1.boundaries = {Boundary::periodic};
  s1.times = {0, 0.5, 1.0};
  s1.fields = {{"u", true}};
  specs.push_back(s1);  // no parameters, no provenance
  DatasetSpec s3 = spec2d();
  s3.dataset_name = "cube";
  s3.dims = {"x", "y", "z"};
  s3.coords = {linspace(3, 0, 1), linspace(4, 0, 1), linspace(5, 0, 1)};
  s3.boundaries = {Boundary::open, Boundary::wall, Boundary::periodic};
  specs.push_back(s3);
  DatasetSpec darcy = spec2d();  // steady: no times, every field constant
  darcy.dataset_name = "darcy";
  darcy.times = {};
  darcy.fields = {{"a", false}, {"u", false}};
  specs.push_back(darcy);

  for (const auto& spec : specs) {
    const std::string path = (dir / (spec.dataset_name + ".hdf5")).string();
    const Block block = block_for(spec, 12, 3);
    write_well_file(path, spec, block);
    const WellFile back = read_well_file(path);
    CHECK(back.spec.dataset_name == spec.dataset_name);
    CHECK(back.spec.dims == spec.dims);
    CHECK(back.spec.boundaries == spec.boundaries);
    // Coordinates and times are stored float32 like every Well array (docs/datasets.md).
    REQUIRE(back.spec.coords.size() == spec.coords.size());
    for (std::size_t k = 0; k < spec.coords.size(); ++k)
      CHECK(back.spec.coords[k] == as_float32(spec.coords[k]));
    CHECK(back.spec.times == as_float32(spec.times));
    REQUIRE(back.spec.fields.size() == spec.fields.size());
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
      CHECK(back.spec.fields[i].name == spec.fields[i].name);
      CHECK(back.spec.fields[i].time_varying == spec.fields[i].time_varying);
    }
    CHECK(back.spec.parameters == spec.parameters);  // exact: float64 root attributes
    CHECK(back.spec.provenance == spec.provenance);
    CHECK(back.block.first == 12);
    CHECK(back.block.count == 3);
    REQUIRE(back.block.fields.size() == block.fields.size());
    for (const auto& kv : block.fields) CHECK(same_bits(back.block.fields.at(kv.first), kv.second));
    // The layout is valid; the validator reports only the deliberate NaN (element 2) of each field.
    const auto v = validate_well_file(path);
    CHECK(v.size() == spec.fields.size());
    for (const auto& msg : v) CHECK_THAT(msg, Catch::Contains(": NaN at sample 0, "));
  }
  // Nothing but the finished files: the temporaries of the atomic writes are gone.
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    CHECK(e.path().extension() == ".hdf5");
    ++n;
  }
  CHECK(n == 4);
}

TEST_CASE("well: the file has The Well's types (vlen strings, enum bools, rank-0 scalars)", "[well]") {
  const fs::path dir = fresh_dir("types");
  const std::string path = (dir / "f.hdf5").string();
  const DatasetSpec spec = spec2d();
  write_well_file(path, spec, block_for(spec, 0, 2));
  h5::File f = h5::open_file(path);
  {
    h5::Datatype t = h5::attr_type(f, "dataset_name");
    CHECK(H5Tget_class(t) == H5T_STRING);
    CHECK(H5Tis_variable_str(t) > 0);
    CHECK(H5Tget_cset(t) == H5T_CSET_UTF8);
    CHECK(h5::attr_dims(f, "dataset_name").empty());
    CHECK(h5::attr_dims(f, "simulation_parameters") == std::vector<hsize_t>{2});
  }
  h5::Group g = h5::open_group(f, "t0_fields");
  h5::Dataset d = h5::open_dataset(g, "vorticity");
  {
    h5::Datatype t = h5::attr_type(d, "sample_varying");
    CHECK(h5::is_bool_enum(t));
    h5::Datatype super(H5Tget_super(t));
    CHECK(H5Tequal(super, H5T_STD_I8LE) > 0);
    CHECK(h5::read_bool_array_attr(d, "dim_varying") == std::vector<bool>{true, true});
    CHECK(h5::dataset_dims(d) == std::vector<hsize_t>{2, 4, 6, 5});
    // Chunked, shuffled and deflated at level 4.
    h5::Plist dcpl(H5Dget_create_plist(d));
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED);
    CHECK(H5Pget_nfilters(dcpl) == 2);
    unsigned flags = 0, level = 0;
    size_t nelm = 1;
    CHECK(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &nelm, &level, 0, nullptr, nullptr) >= 0);
    CHECK(level == 4);
  }
  h5::Group s = h5::open_group(f, "scalars");
  h5::Dataset nu = h5::open_dataset(s, "nu");
  CHECK(h5::dataset_dims(nu).empty());  // rank 0
  CHECK(h5::read_double_attr(f, "nu") == 1e-3);
  CHECK(h5::read_string_array_attr(s, "field_names") == std::vector<std::string>{"forcing", "nu"});
  h5::Group bc = h5::open_group(h5::open_group(f, "boundary_conditions"), "y_wall");
  CHECK(h5::read_string_attr(bc, "bc_type") == "WALL");
  CHECK(h5::read_string_array_attr(bc, "associated_fields").empty());
  h5::Dataset mask = h5::open_dataset(bc, "mask");
  h5::Datatype mt = h5::dataset_type(mask);
  CHECK(h5::is_bool_enum(mt));
  std::vector<signed char> m(5);
  REQUIRE(H5Dread(mask, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.data()) >= 0);
  CHECK(m == std::vector<signed char>{1, 0, 0, 0, 1});
  CHECK(h5::read_int_attr(f, "surro_first_trajectory") == 0);
  CHECK(h5::read_string_attr(f, "surro_seed") == "7");
}

TEST_CASE("well: validate_well_file names the HDF5 path of each violation", "[well]") {
  const fs::path dir = fresh_dir("validate");
  const DatasetSpec spec = spec2d();
  const fs::path good = dir / "good.hdf5";
  write_well_file(good.string(), spec, block_for(spec, 0, 2, false));
  REQUIRE(validate_well_file(good.string()).empty());

  SECTION("wrong field shape") {
    const std::string p = copy_of(good, dir, "shape.hdf5");
    edit_file(p, [](hid_t f) {
      h5::Group g = h5::open_group(f, "t0_fields");
      REQUIRE(H5Ldelete(g, "vorticity", H5P_DEFAULT) >= 0);
      std::vector<float> v(2 * 4 * 6, 1.0f);  // (B, T, Nx): the y axis is missing
      h5::write_float_dataset(g, "vorticity", {2, 4, 6}, v.data(), false);
      h5::Dataset d = h5::open_dataset(g, "vorticity");
      h5::write_bool_attr(d, "sample_varying", true);
      h5::write_bool_attr(d, "time_varying", true);
      h5::write_bool_array_attr(d, "dim_varying", {true, true});
    });
    const auto v = validate_well_file(p);
    REQUIRE(v.size() == 1);
    CHECK(v[0] == "/t0_fields/vorticity: shape (2, 4, 6): expected (2, 4, 6, 5) = (B=2, T=4, x=6, y=5)");
    const std::string msg = message_of([&] { read_well_file(p); });
    CHECK_THAT(msg,
               Catch::StartsWith(p + ": /t0_fields/vorticity: expected shape (2, 4, 6, 5), got (2, 4, 6)"));
  }
  SECTION("fixed-length string") {
    const std::string p = copy_of(good, dir, "fixedstr.hdf5");
    edit_file(p, [](hid_t f) { h5::write_fixed_string_attr(f, "dataset_name", "ns2d_test"); });
    const auto v = validate_well_file(p);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0],
               Catch::StartsWith("/: attribute 'dataset_name': fixed-length string (9 bytes): expected a "
                                 "variable-length UTF-8 string"));
    CHECK(read_well_file(p).spec.dataset_name == "ns2d_test");  // the reader is lenient here
  }
  SECTION("uint8 bool") {
    const std::string p = copy_of(good, dir, "u8bool.hdf5");
    edit_file(p, [](hid_t f) {
      h5::Dataset d = h5::open_dataset(h5::open_group(f, "t0_fields"), "a");
      REQUIRE(H5Adelete(d, "sample_varying") >= 0);
      h5::Dataspace s(H5Screate(H5S_SCALAR));
      h5::Attribute a(H5Acreate2(d, "sample_varying", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT));
      const unsigned char one = 1;
      REQUIRE(H5Awrite(a, H5T_NATIVE_UCHAR, &one) >= 0);
    });
    const auto v = validate_well_file(p);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0],
               Catch::StartsWith("/t0_fields/a: attribute 'sample_varying': uint8: expected the HDF5 enum "
                                 "bool {FALSE=0, TRUE=1} over int8"));
  }
  SECTION("missing group") {
    const std::string p = copy_of(good, dir, "nogroup.hdf5");
    edit_file(p, [](hid_t f) { REQUIRE(H5Ldelete(f, "t1_fields", H5P_DEFAULT) >= 0); });
    CHECK(validate_well_file(p) == std::vector<std::string>{"/t1_fields: missing group"});
    CHECK_THAT(message_of([&] { read_well_file(p); }), Catch::StartsWith(p + ": /t1_fields: missing group"));
  }
  SECTION("simulation parameter missing from /scalars, and as a root attribute") {
    const std::string p = copy_of(good, dir, "noparam.hdf5");
    edit_file(p, [](hid_t f) {
      REQUIRE(H5Ldelete(h5::open_group(f, "scalars"), "nu", H5P_DEFAULT) >= 0);
      REQUIRE(H5Adelete(f, "forcing") >= 0);
    });
    const auto v = validate_well_file(p);
    CHECK(v == std::vector<std::string>{"/: simulation parameter 'forcing': missing as a root attribute",
                                        "/scalars/nu: missing dataset for simulation parameter 'nu'",
                                        "/scalars/nu: missing dataset"});
  }
  SECTION("time without time_varying, mask of the wrong length") {
    const std::string p = copy_of(good, dir, "dims.hdf5");
    edit_file(p, [](hid_t f) {
      REQUIRE(H5Adelete(h5::open_dataset(h5::open_group(f, "dimensions"), "time"), "time_varying") >= 0);
      h5::Group bc = h5::open_group(h5::open_group(f, "boundary_conditions"), "x_periodic");
      REQUIRE(H5Ldelete(bc, "mask", H5P_DEFAULT) >= 0);
      h5::write_bool_dataset(bc, "mask", {true, false, true});
    });
    CHECK(validate_well_file(p) ==
          std::vector<std::string>{"/dimensions/time: attribute 'time_varying': missing",
                                   "/boundary_conditions/x_periodic/mask: shape (3): expected (6) = (x=6)"});
  }
  SECTION("time marked constant in time, a sample-varying coordinate without its B axis") {
    const std::string p = copy_of(good, dir, "timeflag.hdf5");
    edit_file(p, [](hid_t f) {
      h5::Group g = h5::open_group(f, "dimensions");
      h5::write_bool_attr(h5::open_dataset(g, "time"), "time_varying", false);
      h5::write_bool_attr(h5::open_dataset(g, "y"), "sample_varying", true);
    });
    CHECK(validate_well_file(p) ==
          std::vector<std::string>{
              "/dimensions/time: shape (4): expected () = (B if sample_varying) + (T if "
              "time_varying), T = its last extent",
              "/dimensions/y: shape (5): expected (2) + (N) = (B if sample_varying) + (T if "
              "time_varying) + (N)"});
  }
}

TEST_CASE("well: read errors name the file and the HDF5 path", "[well]") {
  const fs::path dir = fresh_dir("errors");
  const DatasetSpec spec = spec2d();
  const fs::path good = dir / "good.hdf5";
  write_well_file(good.string(), spec, block_for(spec, 0, 2, false));

  const std::string missing = (dir / "missing.hdf5").string();
  CHECK(message_of([&] { read_well_file(missing); }) == missing + ": no such file");
  CHECK(kind_of([&] { read_well_file(missing); }) == ErrorKind::input);

  const std::string text = (dir / "text.hdf5").string();
  std::ofstream(text) << "not hdf5 at all\n";
  CHECK_THAT(message_of([&] { read_well_file(text); }), Catch::StartsWith(text + ": not an HDF5 file"));

  // Truncated mid-way: the superblock survives, the data does not.
  const std::string cut = copy_of(good, dir, "cut.hdf5");
  fs::resize_file(cut, fs::file_size(cut) / 2);
  const std::string cut_msg = message_of([&] { read_well_file(cut); });
  CHECK_THAT(cut_msg, Catch::StartsWith(cut + ": "));
  CHECK_THAT(cut_msg, Catch::Contains("truncated"));
  CHECK(kind_of([&] { read_well_file(cut); }) == ErrorKind::input);
  const auto v = validate_well_file(cut);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0], Catch::StartsWith(cut + ": "));

  const std::string noattr = copy_of(good, dir, "noattr.hdf5");
  edit_file(noattr, [](hid_t f) { REQUIRE(H5Adelete(f, "n_trajectories") >= 0); });
  CHECK(message_of([&] { read_well_file(noattr); }) == noattr + ": /: attribute 'n_trajectories': missing");
  CHECK(validate_well_file(noattr) == std::vector<std::string>{"/: attribute 'n_trajectories': missing"});

  const std::string nofield = copy_of(good, dir, "nofield.hdf5");
  edit_file(nofield,
            [](hid_t f) { REQUIRE(H5Ldelete(h5::open_group(f, "t0_fields"), "a", H5P_DEFAULT) >= 0); });
  CHECK(message_of([&] { read_well_file(nofield); }) == nofield + ": /t0_fields/a: missing dataset");

  const std::string f64 = copy_of(good, dir, "float64.hdf5");
  edit_file(f64, [](hid_t f) {
    h5::Group g = h5::open_group(f, "t0_fields");
    REQUIRE(H5Ldelete(g, "a", H5P_DEFAULT) >= 0);
    const hsize_t dims[3] = {2, 6, 5};
    h5::Dataspace s(H5Screate_simple(3, dims, nullptr));
    h5::Dataset d(H5Dcreate2(g, "a", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    std::vector<double> zeros(60, 0.0);
    REQUIRE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()) >= 0);
    h5::write_bool_attr(d, "sample_varying", true);
    h5::write_bool_attr(d, "time_varying", false);
    h5::write_bool_array_attr(d, "dim_varying", {true, true});
  });
  CHECK(message_of([&] { read_well_file(f64); }) ==
        f64 + ": /t0_fields/a: expected float32 data, got float64");
  CHECK(validate_well_file(f64) == std::vector<std::string>{"/t0_fields/a: float64 data: expected float32"});

  const std::string badtype = copy_of(good, dir, "badtype.hdf5");
  edit_file(badtype, [](hid_t f) { h5::write_double_attr(f, "n_spatial_dims", 2.0); });
  CHECK(message_of([&] { read_well_file(badtype); }) ==
        badtype + ": /: attribute 'n_spatial_dims': expected an integer, got float64");
}

TEST_CASE("well: the block is checked against the spec before anything is written", "[well]") {
  const fs::path dir = fresh_dir("block");
  const std::string path = (dir / "f.hdf5").string();
  const DatasetSpec spec = spec2d();
  Block b = block_for(spec, 0, 2);
  b.fields.erase("a");
  CHECK(message_of([&] { write_well_file(path, spec, b); }) ==
        "write_well_file: " + path + ": block: field 'a' missing: expected every spec field");
  b = block_for(spec, 0, 2);
  b.fields["vorticity"].pop_back();
  CHECK(message_of([&] { write_well_file(path, spec, b); }) ==
        "write_well_file: " + path +
            ": block: field 'vorticity' has 239 values: expected count * sample_size = "
            "2 * 120 = 240");
  b = block_for(spec, 0, 2);
  b.fields["pressure"] = {};
  CHECK_THAT(message_of([&] { write_well_file(path, spec, b); }),
             Catch::Contains("field 'pressure' is not in the spec"));
  DatasetSpec bad = spec;
  bad.parameters["dataset_name"] = 1;
  CHECK_THAT(message_of([&] { write_well_file(path, bad, block_for(spec, 0, 2)); }),
             Catch::Contains("parameters: 'dataset_name'"));
  CHECK(fs::is_empty(dir));  // nothing written, no temporaries left
}

namespace {
// A 1-D spec with Nx = 2, T = 3: u varies in time, c does not.
DatasetSpec stats_spec() {
  DatasetSpec s;
  s.dataset_name = "stats";
  s.dims = {"x"};
  s.coords = {{0.0, 0.5}};
  s.boundaries = {Boundary::periodic};
  s.times = {0, 1, 2};
  s.fields = {{"u", true}, {"c", false}};
  return s;
}
}  // namespace

TEST_CASE("well: stats.yaml equals hand-computed pooled statistics", "[well]") {
  const fs::path dir = fresh_dir("stats");
  const DatasetSpec spec = stats_spec();
  Block a, b;
  a.first = 0;
  a.count = 1;
  a.fields["u"] = {0, 1, 2, 3, 4, 6};  // (1, 3, 2)
  a.fields["c"] = {1, 3};              // (1, 2)
  b.first = 1;
  b.count = 1;
  b.fields["u"] = {1, 1, 1, 1, 1, 1};
  b.fields["c"] = {5, 7};
  const std::string fa = (dir / "a.hdf5").string(), fb = (dir / "b.hdf5").string();
  write_well_file(fa, spec, a);
  write_well_file(fb, spec, b);
  const std::string yaml = (dir / "stats.yaml").string();
  write_stats_yaml(yaml, {fa, fb});

  // By hand. u: {0,1,2,3,4,6,1,1,1,1,1,1}: n = 12, sum = 22, sum of squares = 72.
  // Deltas u[:,1:] - u[:,:-1]: {2,2,2,3} and four zeros: n = 8, sum = 9, sum of squares = 21.
  // c: {1,3,5,7}: mean 4, mean square 21.
  const double u_mean = 22.0 / 12, u_ms = 72.0 / 12;
  const double d_mean = 9.0 / 8, d_ms = 21.0 / 8;
  const std::map<std::string, std::map<std::string, double>> expected = {
      {"mean", {{"u", u_mean}, {"c", 4.0}}},
      {"std", {{"u", std::sqrt(u_ms - u_mean * u_mean)}, {"c", std::sqrt(5.0)}}},
      {"rms", {{"u", std::sqrt(u_ms)}, {"c", std::sqrt(21.0)}}},
      {"mean_delta", {{"u", d_mean}}},
      {"std_delta", {{"u", std::sqrt(d_ms - d_mean * d_mean)}}},
      {"rms_delta", {{"u", std::sqrt(d_ms)}}},
  };
  const auto got = read_stats_yaml(yaml);
  REQUIRE(got.size() == expected.size());
  for (const auto& [stat, fields] : expected) {
    REQUIRE(got.at(stat).size() == fields.size());
    for (const auto& [field, value] : fields) {
      INFO(stat << "." << field);
      // %.4E keeps 5 significant digits: relative rounding error <= 5e-5.
      CHECK(std::abs(got.at(stat).at(field) - value) <= 5e-5 * std::abs(value));
    }
  }
  std::ifstream in(yaml);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::StartsWith(
                       "mean:\n  c: 4.0000E+00\n  u: 1.8333E+00\nmean_delta:\n  u: 1.1250E+00\nrms:\n"));
}

TEST_CASE("well: pooled statistics over uneven files match a direct float64 pass", "[well]") {
  const fs::path dir = fresh_dir("stats_pool");
  DatasetSpec spec = stats_spec();
  spec.coords = {linspace(7, 0, 1)};
  spec.times = {0, 1, 2, 3, 4};
  std::vector<std::string> files;
  std::vector<double> all_u, all_d;
  long long first = 0;
  for (long long count : {1, 4, 2}) {
    Block blk = block_for(spec, first, count, false);
    for (float& x : blk.fields["u"]) x = 100.0f + x;  // a large mean tests the pooling's cancellation
    const auto& u = blk.fields["u"];                  // (B, T, Nx)
    for (float x : u) all_u.push_back(x);
    for (long long n = 0; n < count; ++n)
      for (int t = 1; t < 5; ++t)
        for (int i = 0; i < 7; ++i)
          all_d.push_back(double(u[(n * 5 + t) * 7 + i]) - double(u[(n * 5 + t - 1) * 7 + i]));
    files.push_back((dir / ("f" + std::to_string(first) + ".hdf5")).string());
    write_well_file(files.back(), spec, blk);
    first += count;
  }
  auto direct = [](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= v.size();
    for (double x : v) s += (x - m) * (x - m);
    return std::make_pair(m, std::sqrt(s / v.size()));
  };
  const auto [um, us] = direct(all_u);
  const auto [dm, ds] = direct(all_d);
  write_stats_yaml((dir / "stats.yaml").string(), files);
  const auto got = read_stats_yaml((dir / "stats.yaml").string());
  CHECK(std::abs(got.at("mean").at("u") - um) <= 5e-5 * std::abs(um));
  CHECK(std::abs(got.at("std").at("u") - us) <= 5e-5 * us);
  CHECK(std::abs(got.at("mean_delta").at("u") - dm) <= 5e-5 * std::abs(dm));
  CHECK(std::abs(got.at("std_delta").at("u") - ds) <= 5e-5 * ds);
}

TEST_CASE("well: read_stats_yaml rejects what is not the stats format, with the line", "[well]") {
  const fs::path dir = fresh_dir("stats_bad");
  auto write = [&](const std::string& text) {
    const std::string p = (dir / "s.yaml").string();
    std::ofstream(p) << text;
    return p;
  };
  std::string p = write("mean:\n  u: 1.0E+00\nstd:\n  u: abc\n");
  CHECK(message_of([&] { read_stats_yaml(p); }) == p + ":4: field 'u': expected a number, got 'abc'");
  p = write("mean:\n  velocity:\n  - 1.0\n");
  CHECK_THAT(message_of([&] { read_stats_yaml(p); }),
             Catch::StartsWith(p + ":2: field 'velocity': expected a number"));
  p = write("median:\n  u: 1.0\n");
  CHECK_THAT(message_of([&] { read_stats_yaml(p); }),
             Catch::StartsWith(p + ":1: unknown statistic 'median'"));
  p = write("mean: {}\nstd:\n  u: 2.5000E-01\n");
  const auto ok = read_stats_yaml(p);
  CHECK(ok.at("mean").empty());
  CHECK(ok.at("std").at("u") == 0.25);
  CHECK(message_of([&] { read_stats_yaml((dir / "none.yaml").string()); }) ==
        (dir / "none.yaml").string() + ": cannot open the statistics file");
}

TEST_CASE("well: validate_dataset_dir checks splits, consistency and stats.yaml", "[well]") {
  const fs::path dir = fresh_dir("dir");
  const DatasetSpec spec = spec2d();
  long long first = 0;
  std::vector<std::string> train;
  for (const char* split : {"train", "train", "valid", "test"}) {
    const std::string p = (dir / "data" / split / ("chunk_" + std::to_string(first) + ".hdf5")).string();
    write_well_file(p, spec, block_for(spec, first, 2, false));
    if (std::string(split) == "train") train.push_back(p);
    first += 2;
  }
  CHECK(validate_dataset_dir(dir.string()) ==
        std::vector<std::string>{(dir / "stats.yaml").string() +
                                 ": missing (normalization statistics of the train split)"});
  write_stats_yaml((dir / "stats.yaml").string(), train);
  CHECK(validate_dataset_dir(dir.string()).empty());

  DatasetSpec other = spec;
  other.coords[1] = linspace(7, 0, 1);  // another resolution along y
  const std::string odd = (dir / "data" / "test" / "odd.h5").string();
  write_well_file(odd, other, block_for(other, 100, 1, false));
  const auto v = validate_dataset_dir(dir.string());
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0], Catch::StartsWith(odd + ": /dimensions: resolution (6, 7) differs from (6, 5) in "));
  fs::remove(odd);

  fs::remove_all(dir / "data" / "valid");
  CHECK(validate_dataset_dir(dir.string()) ==
        std::vector<std::string>{(dir / "data" / "valid").string() + ": missing split folder"});
}

// Issue #12 class 2: a NaN or Inf in a field is reported with the field's HDF5 path, the sample,
// the time index and the point (the layout alone would pass, and training would diverge silently).
TEST_CASE("well: validate_well_file reports non-finite values with sample, time and point", "[well]") {
  const fs::path dir = fresh_dir("nonfinite");
  const DatasetSpec spec = spec2d();  // vorticity (B=2, T=4, 6, 5) time-varying, a (B=2, 6, 5) not
  Block b = block_for(spec, 0, 2, false);
  const std::size_t frame = 6 * 5;
  b.fields["vorticity"][(1 * 4 + 3) * frame + 7] = std::numeric_limits<float>::quiet_NaN();  // sample 1, t 3
  b.fields["a"][frame + 11] = std::numeric_limits<float>::infinity();                        // sample 1
  const std::string p = (dir / "nan.hdf5").string();
  write_well_file(p, spec, b);
  CHECK(validate_well_file(p) ==
        std::vector<std::string>{
            "/t0_fields/vorticity: NaN at sample 1, time index 3, point 7: expected finite values",
            "/t0_fields/a: infinite value at sample 1, point 11: expected finite values"});
}

TEST_CASE("h5: compressed chunks filtered on worker threads are the bytes of HDF5's own pipeline", "[well]") {
  // Shapes whose ~1 MiB chunks tile them with partial chunks at the edges: float (3, 70, 64, 64) in
  // chunks (1, 64, 64, 64), double (2, 300, 500) in (1, 262, 500), int (300001) in (262144); and a
  // dataset of one chunk.
  const fs::path dir = fresh_dir("chunks");
  const std::vector<hsize_t> fd = {3, 70, 64, 64}, dd = {2, 300, 500}, id = {300001}, sd = {17};
  auto count = [](const std::vector<hsize_t>& d) {
    std::size_t n = 1;
    for (hsize_t v : d) n *= v;
    return n;
  };
  // Smooth data with noise in the low bits: deflate finds something to do, not everything.
  std::vector<float> f(count(fd));
  std::vector<double> g(count(dd));
  std::vector<int> h(count(id));
  std::vector<float> s(count(sd));
  std::uint32_t r = 12345;
  auto noise = [&r]() { return (r = r * 1664525u + 1013904223u) >> 8; };
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = std::sin(1e-3f * i) + 1e-6f * float(noise() % 1000);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = std::cos(1e-4 * i) + 1e-12 * double(noise() % 1000);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = int(i / 7) - int(noise() % 3);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = float(i) * 0.5f;
  auto write = [&](const fs::path& path, bool parallel, std::size_t batch_bytes) {
    h5::set_parallel_chunk_filters(parallel, batch_bytes);
    h5::File file = h5::create_file(path.string());
    h5::write_float_dataset(file, "f", fd, f.data(), true);
    h5::write_double_dataset(file, "g", dd, g.data(), true);
    h5::write_int_dataset(file, "h", id, h.data(), true);
    h5::write_float_dataset(file, "s", sd, s.data(), true);
    h5::set_parallel_chunk_filters(true);
  };
  // threads.h5: all chunks of a dataset in one batch (the default 64 MiB); batches.h5: one chunk a
  // batch (batch_bytes 1 rounds up to one chunk), the path of datasets of more than 64 MiB.
  write(dir / "threads.h5", true, h5::kChunkBatchBytes);
  write(dir / "batches.h5", true, 1);
  write(dir / "library.h5", false, h5::kChunkBatchBytes);
  h5::File b = h5::open_file((dir / "library.h5").string());
  for (const char* file : {"threads.h5", "batches.h5"}) {
    h5::File a = h5::open_file((dir / file).string());
    for (const char* name : {"f", "g", "h", "s"}) {
      INFO(file << ", dataset " << name);
      h5::Dataset da = h5::open_dataset(a, name), db = h5::open_dataset(b, name);
      h5::Plist pa(H5Dget_create_plist(da)), pb(H5Dget_create_plist(db));
      REQUIRE(H5Pget_layout(pa) == H5D_CHUNKED);
      REQUIRE(H5Pget_nfilters(pa) == 2);  // shuffle, deflate: the same creation properties
      const int rank = H5Pget_chunk(pa, 0, nullptr);
      std::vector<hsize_t> chunk(rank), dims = h5::dataset_dims(da);
      H5Pget_chunk(pa, rank, chunk.data());
      // Every chunk: the same filter mask (none skipped) and the same stored bytes.
      std::vector<hsize_t> offset(rank, 0);
      int chunks = 0;
      while (true) {
        hsize_t na = 0, nb = 0;
        REQUIRE(H5Dget_chunk_storage_size(da, offset.data(), &na) >= 0);
        REQUIRE(H5Dget_chunk_storage_size(db, offset.data(), &nb) >= 0);
        REQUIRE(na == nb);
        std::vector<unsigned char> ba(na), bb(nb);
        std::uint32_t ma = 1, mb = 1;
        REQUIRE(H5Dread_chunk(da, H5P_DEFAULT, offset.data(), &ma, ba.data()) >= 0);
        REQUIRE(H5Dread_chunk(db, H5P_DEFAULT, offset.data(), &mb, bb.data()) >= 0);
        CHECK(ma == 0);
        CHECK(mb == 0);
        CHECK(ba == bb);
        ++chunks;
        int k = rank - 1;
        while (k >= 0 && (offset[k] += chunk[k]) >= dims[k]) offset[k--] = 0;
        if (k < 0) break;
      }
      CHECK(chunks > (std::string(name) == "s" ? 0 : 1));
    }
  }
  // And the library's reader (its filters) gives the values back.
  h5::File a = h5::open_file((dir / "threads.h5").string());
  std::vector<float> f2(f.size());
  std::vector<int> h2(h.size());
  REQUIRE(H5Dread(h5::open_dataset(a, "f"), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, f2.data()) >= 0);
  REQUIRE(H5Dread(h5::open_dataset(a, "h"), H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, h2.data()) >= 0);
  CHECK(f2 == f);
  CHECK(h2 == h);
}
