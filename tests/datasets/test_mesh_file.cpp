// Mesh dataset layout: bit-exact round trips over trajectories with different meshes, a reader test
// on a file built with raw HDF5 C calls, the validator on deliberately broken files, pooled
// per-component statistics, dataset folders, and the graph-physics export read back by h5dump.
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/well.hpp"
#include "datasets/mesh_file_fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

using namespace surro;
using namespace surro::data;
using surro::test::mesh_block;
using surro::test::mesh_spec;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return test::fresh_dir("mesh_file", name);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void check_same_mesh(const mesh::Mesh& a, const mesh::Mesh& b) {
  CHECK(a.dim == b.dim);
  CHECK(a.points == b.points);  // float64 stored: exact
  CHECK(a.cells == b.cells);
  CHECK(a.node_type == b.node_type);
  CHECK(a.facets == b.facets);
  CHECK(a.facet_tags == b.facet_tags);
  CHECK(a.tag_names == b.tag_names);
}

// The values of trajectories [k0, k0 + n) of `b` for one field.
std::vector<float> slice(const DatasetSpec& spec, const Block& b, const FieldSpec& f, long long k0,
                         long long n) {
  std::size_t off = 0, len = 0;
  for (long long k = 0; k < k0 + n; ++k) {
    const std::size_t size = static_cast<std::size_t>((f.time_varying ? spec.times.size() : 1) *
                                                      b.meshes[k].num_points() * f.components);
    if (k < k0)
      off += size;
    else
      len += size;
  }
  const auto& v = b.fields.at(f.name);
  return std::vector<float>(v.begin() + off, v.begin() + off + len);
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

// Overwrites element `index` (flat) of an existing dataset in place, through the raw C API.
template <class T>
void poke(const std::string& file, const std::string& dset, hsize_t index, T value, hid_t mem_type) {
  h5::File f = h5::open_file(file, true);
  h5::Dataset d(H5Dopen2(f, dset.c_str(), H5P_DEFAULT));
  REQUIRE(d.valid());
  h5::Dataspace space(H5Dget_space(d));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank), start(rank), one(rank, 1);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  for (int k = rank; k-- > 0;) {
    start[k] = index % dims[k];
    index /= dims[k];
  }
  REQUIRE(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, one.data(), nullptr) >= 0);
  const hsize_t n = 1;
  h5::Dataspace mem(H5Screate_simple(1, &n, nullptr));
  REQUIRE(H5Dwrite(d, mem_type, mem, space, H5P_DEFAULT, &value) >= 0);
}

// h5dump's "DATASPACE  SIMPLE { ( 3, 12, 2 ) / ( ... ) }" and DATA { ... } of one dataset, read by
// the HDF5 tools (an independent reader): the shape and the values, printed with %.9g, which
// round-trips float32 (the int32 arrays of the tests are small enough to be exact in float).
void h5dump_dataset(const std::string& file, const std::string& dset, std::vector<long long>& shape,
                    std::vector<float>& values) {
  const std::string text = test::stdout_of("h5dump -d '" + dset + "' -m '%.9g' -y -w 0 '" + file + "'");
  const auto ds = text.find("DATASPACE");
  REQUIRE(ds != std::string::npos);
  const auto open = text.find('(', ds), close = text.find(')', ds);
  std::string dims = text.substr(open + 1, close - open - 1);
  for (char& c : dims)
    if (c == ',') c = ' ';
  std::istringstream ds_in(dims);
  shape.clear();
  for (long long d; ds_in >> d;) shape.push_back(d);
  const auto data = text.find("DATA {", close);
  REQUIRE(data != std::string::npos);
  std::string body = text.substr(data + 6, text.find('}', data) - data - 6);
  for (char& c : body)
    if (c == ',') c = ' ';
  std::istringstream in(body);
  values.clear();
  for (std::string tok; in >> tok;)
    values.push_back(std::strtof(tok.c_str(), nullptr));  // %.9g -> float: exact
}

}  // namespace

TEST_CASE("mesh_file: write -> read round trip is bit-exact over different meshes", "[mesh_dataset]") {
  const fs::path dir = fresh_dir("roundtrip");
  const DatasetSpec spec = mesh_spec();
  const Block block = mesh_block(spec, 40, 3);
  REQUIRE(block.meshes[0].num_points() != block.meshes[1].num_points());
  const std::string p = (dir / "block.hdf5").string();
  write_mesh_file(p, spec, block);
  CHECK(is_mesh_file(p));
  CHECK(validate_mesh_file(p) ==
        std::vector<std::string>{
            "/trajectories/000040/velocity: 2 non-finite values in trajectory 40, the first "
            "(nan) at time index 0 (t = 0), node 1, component 0: expected finite values"});

  const MeshFile got = read_mesh_file(p);
  CHECK(got.spec.on_mesh);
  CHECK(got.spec.dataset_name == spec.dataset_name);
  CHECK(got.spec.dims == spec.dims);
  CHECK(got.spec.times == spec.times);
  CHECK(got.spec.parameters == spec.parameters);
  CHECK(got.spec.provenance == spec.provenance);
  REQUIRE(got.spec.fields.size() == spec.fields.size());
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    CHECK(got.spec.fields[i].name == spec.fields[i].name);
    CHECK(got.spec.fields[i].components == spec.fields[i].components);
    CHECK(got.spec.fields[i].time_varying == spec.fields[i].time_varying);
  }
  CHECK(got.block.first == 40);
  CHECK(got.block.count == 3);
  REQUIRE(got.block.meshes.size() == 3);
  for (int k = 0; k < 3; ++k) check_same_mesh(got.block.meshes[k], block.meshes[k]);
  for (const auto& f : spec.fields) {
    INFO(f.name);
    CHECK(same_bits(got.block.fields.at(f.name), block.fields.at(f.name)));
  }
  CHECK(got.block.sample_parameters == block.sample_parameters);

  SECTION("a sub-range of trajectories") {
    const MeshFile sub = read_mesh_file(p, 1, 2);
    CHECK(sub.block.first == 41);
    CHECK(sub.block.count == 2);
    REQUIRE(sub.block.meshes.size() == 2);
    check_same_mesh(sub.block.meshes[0], block.meshes[1]);
    check_same_mesh(sub.block.meshes[1], block.meshes[2]);
    for (const auto& f : spec.fields)
      CHECK(same_bits(sub.block.fields.at(f.name), slice(spec, block, f, 1, 2)));
    CHECK(sub.block.sample_parameters.at("viscosity") ==
          std::vector<double>{block.sample_parameters.at("viscosity")[1],
                              block.sample_parameters.at("viscosity")[2]});
    CHECK(read_mesh_file(p, 0, 0).block.meshes.empty());
    const std::string msg = message_of([&] { read_mesh_file(p, 2, 2); });
    CHECK_THAT(msg, Catch::Contains(
                        "trajectories [2, 4) of the file: expected a range within [0, n_trajectories=3)"));
  }
  SECTION("the block is checked against the spec before anything is written") {
    const std::string q = (dir / "bad.hdf5").string();
    Block b = block;
    b.fields["pressure"].pop_back();
    CHECK_THAT(
        message_of([&] { write_mesh_file(q, spec, b); }),
        Catch::Contains("field 'pressure' has " + std::to_string(block.fields.at("pressure").size() - 1) +
                        " values: expected sum over trajectories of T * V_b * C = "));
    b = block;
    b.meshes[1].cells[4] = 1000;
    CHECK_THAT(message_of([&] { write_mesh_file(q, spec, b); }),
               Catch::Contains(
                   "block.meshes[1] (trajectory 41): cells[1][1] = 1000: expected a node index in [0, V="));
    b = block;
    b.meshes[2].node_type.pop_back();
    CHECK_THAT(message_of([&] { write_mesh_file(q, spec, b); }), Catch::Contains("node_type: "));
    DatasetSpec s = spec;
    s.times = {0.0, 0.02, 0.01};
    CHECK_THAT(message_of([&] { write_mesh_file(q, s, block); }),
               Catch::Contains("times[2] = 0.01: expected > times[1] = 0.02 (strictly increasing)"));
    CHECK_FALSE(fs::exists(q));
  }
}

// A file of the documented layout written with raw HDF5 C calls only, and with the types another
// writer might pick (fixed-length strings, int32 flags and counts, float32 mesh_pos, int16 cells):
// the reader must accept it and give back exactly these values.
TEST_CASE("mesh_file: reads a file written by an independent writer (raw HDF5 C API)", "[mesh_dataset]") {
  const fs::path dir = fresh_dir("independent");
  const std::string p = (dir / "raw.h5").string();
  const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  auto attr = [](hid_t obj, const char* name, hid_t type, std::vector<hsize_t> dims, const void* buf) {
    const hid_t s = dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims.data(), nullptr);
    const hid_t a = H5Acreate2(obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(a, type, buf) >= 0);
    H5Aclose(a);
    H5Sclose(s);
  };
  auto fixed_strings = [&](hid_t obj, const char* name, const std::vector<std::string>& v, bool scalar) {
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 16);
    std::vector<char> buf(16 * v.size(), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) std::memcpy(&buf[16 * i], v[i].data(), v[i].size());
    attr(obj, name, t, scalar ? std::vector<hsize_t>{} : std::vector<hsize_t>{v.size()}, buf.data());
    H5Tclose(t);
  };
  auto dataset = [](hid_t loc, const char* name, hid_t file_type, hid_t mem_type, std::vector<hsize_t> dims,
                    const void* buf) {
    const hid_t s = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(loc, name, file_type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    H5Sclose(s);
  };
  fixed_strings(f, "layout", {"surro_mesh"}, true);
  fixed_strings(f, "dataset_name", {"raw_cylinder"}, true);
  fixed_strings(f, "spatial_dims", {"x", "y"}, false);
  fixed_strings(f, "field_names", {"velocity"}, false);
  fixed_strings(f, "simulation_parameters", {"density"}, false);
  fixed_strings(f, "sample_parameters", {"viscosity"}, false);
  const int D = 2, B = 1, C = 2, tv = 1, first = 7;
  const double density = 1.25;
  attr(f, "n_spatial_dims", H5T_STD_I32LE, {}, &D);
  attr(f, "n_trajectories", H5T_STD_I32LE, {}, &B);
  attr(f, "field_components", H5T_STD_I32LE, {1}, &C);
  attr(f, "field_time_varying", H5T_STD_I32LE, {1}, &tv);
  attr(f, "surro_first_trajectory", H5T_STD_I32LE, {}, &first);
  attr(f, "density", H5T_IEEE_F64LE, {}, &density);
  const double times[2] = {0.5, 0.75};
  dataset(f, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, times);
  const hid_t trajs = H5Gcreate2(f, "trajectories", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g = H5Gcreate2(trajs, "000007", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const float pos[8] = {0, 0, 1, 0, 1, 1, 0, 1};  // (V=4, 2)
  const short cells[6] = {0, 1, 2, 0, 2, 3};      // (Nc=2, 3)
  const int node_type[4] = {4, 5, 5, 6};          // (V)
  float vel[16];                                  // (T=2, V=4, C=2)
  for (int i = 0; i < 16; ++i) vel[i] = 0.25f * i - 1.0f;
  const double nu = 2e-3;
  dataset(g, "mesh_pos", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {4, 2}, pos);
  dataset(g, "cells", H5T_STD_I16LE, H5T_NATIVE_SHORT, {2, 3}, cells);
  dataset(g, "node_type", H5T_STD_I32BE, H5T_NATIVE_INT, {4}, node_type);
  dataset(g, "velocity", H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, {2, 4, 2}, vel);
  attr(g, "viscosity", H5T_IEEE_F64LE, {}, &nu);
  H5Gclose(g);
  H5Gclose(trajs);
  REQUIRE(H5Fclose(f) >= 0);

  REQUIRE(is_mesh_file(p));
  const MeshFile m = read_mesh_file(p);
  CHECK(m.spec.dataset_name == "raw_cylinder");
  CHECK(m.spec.dims == std::vector<std::string>{"x", "y"});
  CHECK(m.spec.times == std::vector<double>{0.5, 0.75});
  CHECK(m.spec.parameters == std::map<std::string, double>{{"density", 1.25}});
  REQUIRE(m.spec.fields.size() == 1);
  CHECK(m.spec.fields[0].name == "velocity");
  CHECK(m.spec.fields[0].components == 2);
  CHECK(m.spec.fields[0].time_varying);
  CHECK(m.block.first == 7);
  REQUIRE(m.block.meshes.size() == 1);
  CHECK(m.block.meshes[0].points == std::vector<double>(pos, pos + 8));
  CHECK(m.block.meshes[0].cells == std::vector<int>(cells, cells + 6));
  CHECK(m.block.meshes[0].node_type == std::vector<int>(node_type, node_type + 4));
  CHECK(m.block.meshes[0].facets.empty());
  CHECK(same_bits(m.block.fields.at("velocity"), std::vector<float>(vel, vel + 16)));
  CHECK(m.block.sample_parameters.at("viscosity") == std::vector<double>{2e-3});
  // The strict validator names the types h5py would not hand over as we document them.
  const auto v = validate_mesh_file(p);
  CHECK(std::find(v.begin(), v.end(), "/trajectories/000007/mesh_pos: float32 data: expected float64") !=
        v.end());
  CHECK(std::find(v.begin(), v.end(), "/trajectories/000007/cells: int16 data: expected int32") != v.end());
}

TEST_CASE("mesh_file: validate_mesh_file names the HDF5 path of each violation", "[mesh_dataset]") {
  const fs::path dir = fresh_dir("validate");
  const DatasetSpec spec = mesh_spec();
  const Block block = mesh_block(spec, 0, 3, false);
  const fs::path good = dir / "good.hdf5";
  write_mesh_file(good.string(), spec, block);
  REQUIRE(validate_mesh_file(good.string()).empty());
  const long long V1 = block.meshes[1].num_points();  // trajectory 1
  const std::string V1s = std::to_string(V1);

  SECTION("wrong field shape") {
    const std::string p = copy_of(good, dir, "shape.hdf5");
    {
      h5::File f = h5::open_file(p, true);
      h5::Group g = h5::open_group(f, "trajectories/000001");
      REQUIRE(H5Ldelete(g, "pressure", H5P_DEFAULT) >= 0);
      std::vector<float> v(3 * V1 * 2, 1.0f);
      h5::write_float_dataset(g, "pressure", {3, static_cast<hsize_t>(V1), 2}, v.data(), false);
    }
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{"/trajectories/000001/pressure: shape (3, " + V1s + ", 2): expected (3, " +
                                   V1s + ", 1) = (T=3, V=" + V1s + ", C=1)"});
    CHECK_THAT(message_of([&] { read_mesh_file(p); }),
               Catch::StartsWith(p + ": /trajectories/000001/pressure: expected shape (3, " + V1s +
                                 ", 1), got (3, " + V1s + ", 2)"));
  }
  SECTION("missing dataset") {
    const std::string p = copy_of(good, dir, "missing.hdf5");
    {
      h5::File f = h5::open_file(p, true);
      REQUIRE(H5Ldelete(f, "trajectories/000002/node_type", H5P_DEFAULT) >= 0);
    }
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{"/trajectories/000002/node_type: missing dataset"});
    CHECK_THAT(message_of([&] { read_mesh_file(p); }),
               Catch::StartsWith(p + ": /trajectories/000002/node_type: missing dataset"));
  }
  SECTION("cells out of range") {
    const std::string p = copy_of(good, dir, "cells.hdf5");
    poke<int>(p, "trajectories/000001/cells", 4, 99, H5T_NATIVE_INT);  // cells[1][1]
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{
              "/trajectories/000001/cells: cells[1][1] = 99: expected a node index in [0, V=" + V1s + ")"});
    CHECK_THAT(
        message_of([&] { read_mesh_file(p); }),
        Catch::StartsWith(p + ": /trajectories/000001/cells: cells[1][1] = 99: expected a node index"));
  }
  SECTION("node type outside 0..8") {
    const std::string p = copy_of(good, dir, "nodetype.hdf5");
    poke<int>(p, "trajectories/000000/node_type", 3, 9, H5T_NATIVE_INT);
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{"/trajectories/000000/node_type: node_type[3] = 9: "
                                   "expected a MeshGraphNets node type in [0, 9)"});
  }
  SECTION("NaN in velocity and Inf in a coordinate") {
    const std::string p = copy_of(good, dir, "nan.hdf5");
    // velocity (T, V, 2) of trajectory 1: time index 2, node 5, component 1.
    poke<float>(p, "trajectories/000001/velocity", (2 * V1 + 5) * 2 + 1, std::nanf(""), H5T_NATIVE_FLOAT);
    poke<double>(p, "trajectories/000002/mesh_pos", 7, HUGE_VAL, H5T_NATIVE_DOUBLE);  // node 3, axis 1
    CHECK(
        validate_mesh_file(p) ==
        std::vector<std::string>{
            "/trajectories/000001/velocity: 1 non-finite value in trajectory 1, the first (nan) at time "
            "index 2 "
            "(t = 0.02), node 5, component 1: expected finite values",
            "/trajectories/000002/mesh_pos: 1 non-finite coordinate(s) in trajectory 2, the first at node 3, "
            "axis 1: expected finite coordinates"});
    CHECK_THAT(message_of([&] { write_stats_yaml((dir / "stats.yaml").string(), {p}); }),
               Catch::Contains(p + ": /trajectories/000001/velocity: non-finite value at flat index " +
                               std::to_string((2 * V1 + 5) * 2 + 1)));
  }
  SECTION("non-increasing times") {
    const std::string p = copy_of(good, dir, "times.hdf5");
    poke<double>(p, "time", 2, 0.01, H5T_NATIVE_DOUBLE);
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{
              "/time: time[2] = 0.01 <= time[1] = 0.01: expected strictly increasing times"});
  }
  SECTION("root attributes") {
    const std::string p = copy_of(good, dir, "root.hdf5");
    {
      h5::File f = h5::open_file(p, true);
      REQUIRE(H5Adelete(f, "field_components") >= 0);
      h5::write_int64_attr(f, "n_spatial_dims", 4);
    }
    CHECK(validate_mesh_file(p) ==
          std::vector<std::string>{"/: attribute 'n_spatial_dims' = 4: expected 2 or 3",
                                   "/: attribute 'field_components': missing"});
  }
  SECTION("a file that is not HDF5") {
    const std::string p = (dir / "text.hdf5").string();
    std::ofstream(p) << "not hdf5";
    const auto v = validate_mesh_file(p);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0], Catch::StartsWith(p + ": not an HDF5 file"));
    CHECK_FALSE(is_mesh_file(p));
  }
}

TEST_CASE("mesh_file: stats.yaml pools nodes, steps and trajectories per component", "[mesh_dataset]") {
  const fs::path dir = fresh_dir("stats");
  DatasetSpec spec = mesh_spec();
  spec.times = {0.0, 0.5};
  spec.fields = {{"velocity", true, 2}, {"pressure", true, 1}};
  // Trajectory A: one triangle (V = 3); B: two triangles (V = 4); in two files.
  mesh::Mesh a, b;
  a.points = {0, 0, 1, 0, 0, 1};
  a.cells = {0, 1, 2};
  a.node_type = {0, 0, 6};
  b.points = {0, 0, 1, 0, 1, 1, 0, 1};
  b.cells = {0, 1, 2, 0, 2, 3};
  b.node_type = {4, 5, 5, 6};
  Block ba, bb;
  ba.first = 0;
  ba.count = 1;
  ba.meshes = {a};
  ba.fields["velocity"] = {1, 0, 2, 0, 3, 0, 1, 1, 2, 1, 3, 1};  // (T=2, V=3, 2)
  ba.fields["pressure"] = {1, 1, 1, 1, 1, 1};                    // (2, 3, 1)
  bb.first = 1;
  bb.count = 1;
  bb.meshes = {b};
  bb.fields["velocity"] = {0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 4, 2, 4, 2, 4, 2};
  bb.fields["pressure"] = {2, 2, 2, 2, 0, 0, 0, 0};
  const std::string fa = (dir / "a.hdf5").string(), fb = (dir / "b.hdf5").string();
  write_mesh_file(fa, spec, ba);
  write_mesh_file(fb, spec, bb);
  const std::string yaml = (dir / "stats.yaml").string();
  write_stats_yaml(yaml, {fa, fb});

  // By hand, n = 14 values per key (6 + 8), 7 differences (3 + 4):
  // velocity_x {1,2,3,1,2,3, 0,0,0,0,4,4,4,4}: sum 28, squares 92; deltas {0,0,0, 4,4,4,4}: sum 16,
  // squares 64. velocity_y {0,0,0,1,1,1, 0,0,0,0,2,2,2,2}: sum 11, squares 19; deltas {1,1,1, 2,2,2,2}: sum
  // 11, squares 19. pressure   {1 x6, 2 x4, 0 x4}: sum 14, squares 22; deltas {0,0,0, -2 x4}: sum -8,
  // squares 16.
  struct Hand {
    double sum, sq, n;
  };
  const std::map<std::string, std::pair<Hand, Hand>> hand = {
      {"velocity_x", {{28, 92, 14}, {16, 64, 7}}},
      {"velocity_y", {{11, 19, 14}, {11, 19, 7}}},
      {"pressure", {{14, 22, 14}, {-8, 16, 7}}},
  };
  const auto got = read_stats_yaml(yaml);
  for (const auto& [key, hd] : hand)
    for (int delta = 0; delta < 2; ++delta) {
      const Hand& h = delta ? hd.second : hd.first;
      const std::string sfx = delta ? "_delta" : "";
      const double mean = h.sum / h.n, ms = h.sq / h.n;
      INFO(key << sfx);
      // %.4E keeps 5 significant digits: relative rounding error <= 5e-5.
      CHECK(std::abs(got.at("mean" + sfx).at(key) - mean) <= 5e-5 * std::abs(mean));
      CHECK(std::abs(got.at("std" + sfx).at(key) - std::sqrt(ms - mean * mean)) <=
            5e-5 * std::sqrt(ms - mean * mean));
      CHECK(std::abs(got.at("rms" + sfx).at(key) - std::sqrt(ms)) <= 5e-5 * std::sqrt(ms));
    }
  CHECK(got.at("mean").size() == 3);
  std::ifstream in(yaml);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::StartsWith("mean:\n  pressure: 1.0000E+00\n  velocity_x: 2.0000E+00\n  velocity_y: "
                                     "7.8571E-01\nmean_delta:\n"));
  CHECK(stat_keys({"velocity", true, 2}, {"x", "y"}) == std::vector<std::string>{"velocity_x", "velocity_y"});
  CHECK(stat_keys({"stress", true, 3}, {"x", "y"}) ==
        std::vector<std::string>{"stress_0", "stress_1", "stress_2"});

  SECTION("dataset folders: mesh files validate, stats keys are checked, layouts do not mix") {
    const fs::path ds = dir / "ds";
    for (const char* split : {"train", "valid", "test"}) fs::create_directories(ds / "data" / split);
    fs::copy_file(fa, ds / "data" / "train" / "a.hdf5");
    fs::copy_file(fb, ds / "data" / "train" / "b.hdf5");
    fs::copy_file(fa, ds / "data" / "valid" / "a.hdf5");
    fs::copy_file(fb, ds / "data" / "test" / "b.hdf5");
    std::ofstream((ds / "stats.yaml").string()) << "mean:\n  pressure: 1.0\nstd:\n  pressure: 1.0\n";
    const auto v = validate_dataset_dir(ds.string());
    CHECK(std::find(v.begin(), v.end(),
                    (ds / "stats.yaml").string() + ": mean: no entry for field 'velocity_x'") != v.end());
    write_stats_yaml((ds / "stats.yaml").string(), {fa, fb});
    CHECK(validate_dataset_dir(ds.string()).empty());

    DatasetSpec grid;
    grid.dataset_name = "cylinder_test";
    grid.dims = {"x"};
    grid.coords = {{0.0, 1.0}};
    grid.boundaries = {Boundary::periodic};
    grid.times = {0.0, 0.5};
    grid.fields = {{"u", true}};
    Block gb;
    gb.count = 1;
    gb.fields["u"] = {1, 2, 3, 4};
    const std::string odd = (ds / "data" / "test" / "z_grid.hdf5").string();
    write_well_file(odd, grid, gb);
    const auto w = validate_dataset_dir(ds.string());
    REQUIRE(w.size() == 1);
    CHECK_THAT(
        w[0], Catch::StartsWith(odd + ": /: grid layout, but " + (ds / "data" / "train" / "a.hdf5").string() +
                                " has the mesh layout: expected one layout in a dataset folder"));
    CHECK_THAT(message_of([&] {
                 write_stats_yaml((dir / "mixed.yaml").string(), {fa, odd});
               }),
               Catch::Contains("expected one layout in a dataset"));
  }
}

TEST_CASE("mesh_file: graph-physics export read back by h5dump", "[mesh_dataset]") {
  REQUIRE(std::system("h5dump --version > /dev/null 2>&1") == 0);  // hdf5-tools (scripts/setup.sh)
  const fs::path dir = fresh_dir("graph_physics");
  const DatasetSpec spec = mesh_spec();
  const Block b1 = mesh_block(spec, 0, 2, false), b2 = mesh_block(spec, 2, 1, false);
  const std::string f1 = (dir / "a.hdf5").string(), f2 = (dir / "b.hdf5").string();
  write_mesh_file(f1, spec, b1);
  write_mesh_file(f2, spec, b2);
  const std::string out = (dir / "cyl_train.h5").string();
  export_graph_physics(out, {f1, f2});
  REQUIRE(graph_physics_meta_path(out) == (dir / "cyl_train_meta.json").string());

  // Root: only the trajectory groups (graph-physics takes every root key for one).
  const std::string listing = test::stdout_of("h5ls '" + out + "'");
  CHECK(listing ==
        "000000                   Group\n000001                   Group\n000002                   Group\n");

  const mesh::Mesh& m = b1.meshes[1];  // trajectory 1
  const long long V = m.num_points(), Nc = m.num_cells(), T = 3;
  std::vector<long long> shape;
  std::vector<float> values;
  h5dump_dataset(out, "/000001/mesh_pos", shape, values);
  CHECK(shape == std::vector<long long>{T, V, 2});
  REQUIRE(values.size() == static_cast<std::size_t>(T * V * 2));
  for (long long t = 0; t < T; ++t)  // float32 of the float64 points, repeated at every frame
    for (long long i = 0; i < V * 2; ++i) CHECK(values[t * V * 2 + i] == static_cast<float>(m.points[i]));
  h5dump_dataset(out, "/000001/cells", shape, values);
  CHECK(shape == std::vector<long long>{T, Nc, 3});
  REQUIRE(values.size() == static_cast<std::size_t>(T * Nc * 3));
  for (long long i = 0; i < Nc * 3; ++i) CHECK(values[(T - 1) * Nc * 3 + i] == m.cells[i]);
  h5dump_dataset(out, "/000001/node_type", shape, values);
  CHECK(shape == std::vector<long long>{T, V, 1});
  for (long long i = 0; i < V; ++i) CHECK(values[V + i] == m.node_type[i]);
  h5dump_dataset(out, "/000001/velocity", shape, values);
  CHECK(shape == std::vector<long long>{T, V, 2});
  const std::vector<float> vel = slice(spec, b1, spec.fields[0], 1, 1);
  REQUIRE(values.size() == vel.size());
  for (std::size_t i = 0; i < vel.size(); ++i) CHECK(values[i] == vel[i]);  // %.9g: float32 exact
  h5dump_dataset(out, "/000002/sdf", shape, values);  // a static field, repeated along time
  CHECK(shape == std::vector<long long>{T, b2.meshes[0].num_points(), 1});
  const std::vector<float>& sdf = b2.fields.at("sdf");
  for (long long t = 0; t < T; ++t)
    for (std::size_t i = 0; i < sdf.size(); ++i) CHECK(values[t * sdf.size() + i] == sdf[i]);

  std::ifstream in(graph_physics_meta_path(out));
  const auto meta = nlohmann::ordered_json::parse(in);
  CHECK(meta["dt"].get<double>() == Approx(0.01).epsilon(1e-12));
  CHECK(meta["trajectory_length"] == 3);
  CHECK(meta["field_names"] ==
        nlohmann::ordered_json({"cells", "mesh_pos", "node_type", "velocity", "pressure", "sdf"}));
  CHECK(meta["features"]["velocity"] ==
        nlohmann::ordered_json({{"type", "dynamic"}, {"shape", {3, -1, 2}}, {"dtype", "float32"}}));
  CHECK(meta["features"]["sdf"]["type"] == "static");
  CHECK(meta["features"]["cells"] ==
        nlohmann::ordered_json({{"type", "static"}, {"shape", {3, -1, 3}}, {"dtype", "int32"}}));

  SECTION("unequal time steps are refused") {
    DatasetSpec s = spec;
    s.times = {0.0, 0.01, 0.03};
    const std::string f3 = (dir / "c.hdf5").string();
    write_mesh_file(f3, s, b1);
    CHECK_THAT(message_of([&] { export_graph_physics((dir / "x.h5").string(), {f3}); }),
               Catch::Contains(f3 + ": /time: step 1 is 0.01: expected equally spaced times (dt = 0.015)"));
  }
}
