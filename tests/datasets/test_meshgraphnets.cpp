// MeshGraphNets TFRecord reader: CRC32C against published check values, and datasets written by an
// independent program (tests/datasets/make_tfrecord.py: Google's Python protobuf for the Example
// messages, its own bitwise CRC32C for the framing), good and deliberately damaged.
#include "core/error.hpp"
#include "datasets/meshgraphnets.hpp"
#include "datasets/tfrecord.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <sys/wait.h>

using namespace surro;
namespace fs = std::filesystem;

namespace {

// Runs make_tfrecord.py once per process into a fresh temporary folder. Python or its protobuf module
// missing is a test failure (not a skip) saying which Debian package to install.
const fs::path& fixtures() {
  static fs::path dir;
  static std::string failure;
  static bool done = false;
  if (!done) {
    done = true;
    dir = fs::temp_directory_path() / "surro_test_tfrecord";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path log = dir / "make_tfrecord.log";
    if (!fs::exists(SURRO_TEST_PYTHON)) {
      failure =
          std::string(SURRO_TEST_PYTHON) + " not found: install the Debian packages python3 python3-protobuf";
    } else {
      const std::string cmd = std::string("'") + SURRO_TEST_PYTHON + "' '" + SURRO_TFRECORD_SCRIPT + "' '" +
                              dir.string() + "' '" + SURRO_PROTOC + "' '" + SURRO_TF_PROTO_DIR + "' > '" +
                              log.string() + "' 2>&1";
      const int rc = std::system(cmd.c_str());
      if (rc != 0) {
        std::ifstream in(log);
        std::stringstream ss;
        ss << in.rdbuf();
        const int status = WIFEXITED(rc) ? WEXITSTATUS(rc) : rc;  // 3: no google.protobuf
        // The script's own message says which package is missing (python3-protobuf for status 3).
        failure = "make_tfrecord.py failed (exit status " + std::to_string(status) + "): " + ss.str();
      }
    }
  }
  if (!failure.empty()) FAIL(failure);
  return dir;
}

std::vector<long long> record_offsets() {
  std::ifstream in(fixtures() / "offsets.json");
  return nlohmann::json::parse(in).at("offsets").get<std::vector<long long>>();
}

void check_error(const std::function<void()>& f, ErrorKind kind, const std::string& part) {
  try {
    f();
    FAIL("no error thrown; expected one containing: " << part);
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    CHECK_THAT(std::string(e.what()), Catch::Contains(part));
  }
}

constexpr int kSteps = 5;
const int kNodes[] = {30, 37, 23};
const int kNodeTypes[] = {0, 4, 5, 6};

// Trajectory b of make_tfrecord.py against its formulas (exact in float32): mesh and fields.
void check_trajectory(const mesh::Mesh& m, const float* vel, const float* pres,
                      int b) {  // (T, V, 2), (T, V, 1)
  const int V = kNodes[b];
  CHECK(m.dim == 2);
  REQUIRE(m.num_points() == V);
  REQUIRE(m.num_cells() == V - 2);
  REQUIRE(m.node_type.size() == std::size_t(V));
  for (int i = 0; i < V; ++i) {
    CHECK(m.points[i * 2] == i / 8.0 + b);
    CHECK(m.points[i * 2 + 1] == (i % 5) / 4.0);
    CHECK(m.node_type[i] == kNodeTypes[i % 4]);
  }
  for (int j = 0; j < V - 2; ++j)
    for (int k = 0; k < 3; ++k) CHECK(m.cells[j * 3 + k] == j + k);
  for (int t = 0; t < kSteps; ++t)
    for (int i = 0; i < V; ++i) {
      for (int c = 0; c < 2; ++c) CHECK(vel[(t * V + i) * 2 + c] == t + i / 64.0 + c / 2.0 + 10 * b);
      CHECK(pres[t * V + i] == -(100 * t + i) - 1000 * b);
    }
}

}  // namespace

TEST_CASE("tfrecord: CRC32C check values and TFRecord's mask", "[tfrecord]") {
  const std::string digits = "123456789";
  CHECK(data::crc32c(digits.data(), digits.size()) == 0xE3069283u);  // the standard check value
  // Extending a CRC over a split gives the CRC of the whole.
  CHECK(data::crc32c(digits.data() + 4, 5, data::crc32c(digits.data(), 4)) == 0xE3069283u);
  CHECK(data::crc32c(nullptr, 0) == 0u);
  // RFC 3720 (iSCSI) B.4: 32 zero bytes and the bytes 0, 1, ..., 31.
  unsigned char zeros[32] = {}, ramp[32];
  for (int i = 0; i < 32; ++i) ramp[i] = static_cast<unsigned char>(i);
  CHECK(data::crc32c(zeros, 32) == 0x8A9136AAu);
  CHECK(data::crc32c(ramp, 32) == 0x46DD794Eu);
  // mask(crc) = rotate right by 15, plus 0xa282ead8 (mod 2^32).
  CHECK(data::mask_crc32c(0u) == 0xa282ead8u);
  CHECK(data::mask_crc32c(1u) == 0xa282ead8u + (1u << 17));
  CHECK(data::mask_crc32c(1u << 15) == 0xa282ead8u + 1u);
  CHECK(data::mask_crc32c(0xFFFFFFFFu) == 0xa282ead7u);  // 0xFFFFFFFF + 0xa282ead8 wraps
}

TEST_CASE("tfrecord: MeshGraphNets dataset from an independent writer: counts, spec, meshes, fields",
          "[tfrecord]") {
  const fs::path good = fixtures() / "good";
  CHECK(data::count_tfrecords((good / "train.tfrecord").string()) == 3);
  CHECK(data::count_meshgraphnets(good.string(), "train") == 3);
  CHECK(data::count_meshgraphnets(good.string(), "valid") == 0);

  const data::DatasetSpec spec = data::meshgraphnets_spec(good.string());
  CHECK(spec.dataset_name == "good");
  CHECK(spec.on_mesh);
  CHECK(spec.dims == std::vector<std::string>{"x", "y"});
  REQUIRE(spec.times.size() == std::size_t(kSteps));
  for (int k = 0; k < kSteps; ++k) CHECK(spec.times[k] == k * 0.02);  // meta.json's dt
  CHECK(spec.parameters.at("dt") == 0.02);
  REQUIRE(spec.fields.size() == 2);
  CHECK((spec.fields[0].name == "velocity" && spec.fields[0].components == 2 && spec.fields[0].time_varying));
  CHECK((spec.fields[1].name == "pressure" && spec.fields[1].components == 1 && spec.fields[1].time_varying));

  const data::MeshGraphNetsData all = data::read_meshgraphnets(good.string(), "train", 0);
  CHECK(all.spec.times == spec.times);
  CHECK(all.block.first == 0);
  REQUIRE(all.block.count == 3);
  REQUIRE(all.block.meshes.size() == 3);
  REQUIRE(all.block.fields.size() == 2);  // the int64 feature "note" is ignored
  const std::vector<float>& vel = all.block.fields.at("velocity");
  const std::vector<float>& pres = all.block.fields.at("pressure");
  REQUIRE(vel.size() == std::size_t(kSteps * (30 + 37 + 23) * 2));
  REQUIRE(pres.size() == std::size_t(kSteps * (30 + 37 + 23)));
  long long at = 0;  // nodes of the trajectories before b
  for (int b = 0; b < 3; ++b) {
    check_trajectory(all.block.meshes[b], vel.data() + kSteps * at * 2, pres.data() + kSteps * at, b);
    at += kNodes[b];
  }

  const data::MeshGraphNetsData one = data::read_meshgraphnets(good.string(), "train", 1, 1);
  CHECK(one.block.first == 1);
  REQUIRE(one.block.count == 1);
  REQUIRE(one.block.fields.at("velocity").size() == std::size_t(kSteps * 37 * 2));
  check_trajectory(one.block.meshes[0], one.block.fields.at("velocity").data(),
                   one.block.fields.at("pressure").data(), 1);
  CHECK(data::read_meshgraphnets(good.string(), "train", 3).block.count == 0);  // first = the end: none

  // Without dt in meta.json the step is CylinderFlow's 0.01.
  const data::DatasetSpec nodt = data::meshgraphnets_spec((fixtures() / "nodt").string());
  REQUIRE(nodt.times.size() == std::size_t(kSteps));
  for (int k = 0; k < kSteps; ++k) CHECK(nodt.times[k] == k * 0.01);
  CHECK(data::read_meshgraphnets((fixtures() / "nodt").string(), "train", 2).block.count == 1);
}

TEST_CASE("tfrecord: damaged files are input errors naming the file, the record and its offset",
          "[tfrecord]") {
  const std::vector<long long> off = record_offsets();
  REQUIRE(off.size() == 3);
  const std::string rec1 = "train.tfrecord: record 1 at byte " + std::to_string(off[1]) + ": ";
  const std::string bad_crc = (fixtures() / "badcrc").string();
  check_error([&] { data::read_meshgraphnets(bad_crc, "train", 0); }, ErrorKind::input,
              rec1 + "data CRC mismatch");
  // Counting reads headers only, so it does not see the damaged data; record 0 alone still reads.
  CHECK(data::count_meshgraphnets(bad_crc, "train") == 3);
  CHECK(data::read_meshgraphnets(bad_crc, "train", 0, 1).block.count == 1);

  const std::string bad_len = (fixtures() / "badlen").string();
  check_error([&] { data::count_meshgraphnets(bad_len, "train"); }, ErrorKind::input,
              "train.tfrecord: record 0 at byte 0: length CRC mismatch");
  const std::string cut = (fixtures() / "truncated").string();
  check_error([&] { data::count_meshgraphnets(cut, "train"); }, ErrorKind::input, rec1 + "truncated");
  check_error([&] { data::read_meshgraphnets(cut, "train", 0); }, ErrorKind::input, rec1 + "truncated");

  check_error([&] { data::read_meshgraphnets((fixtures() / "badnodes").string(), "train", 0); },
              ErrorKind::input,
              rec1 + "feature 'pressure': shape (5, 36, 1): expected 37 nodes as mesh_pos (1, 37, 2)");
  check_error([&] { data::read_meshgraphnets((fixtures() / "badsize").string(), "train", 0); },
              ErrorKind::input,
              rec1 +
                  "feature 'mesh_pos': expected shape (1, -1, 2) (meta.json, -1 any) of 4-byte values, so a "
                  "multiple of 8 bytes; got 294 bytes");
  check_error([&] { data::read_meshgraphnets((fixtures() / "badmeta").string(), "train", 0); },
              ErrorKind::input, "meta.json: features.velocity.shape[2] = 3: expected 2 components");

  check_error([&] { data::meshgraphnets_spec((fixtures() / "badtype").string()); }, ErrorKind::input,
              "meta.json: features.pressure.dtype: expected \"float32\", got \"int32\"");
  check_error([&] { data::read_meshgraphnets((fixtures() / "notexample").string(), "train", 0); },
              ErrorKind::input, rec1 + "not a tf.train.Example");

  const std::string good = (fixtures() / "good").string();
  check_error([&] { data::read_meshgraphnets(good, "train", 4); }, ErrorKind::usage,
              "train.tfrecord: first = 4: the file holds only 3 records");
  check_error([&] { data::read_meshgraphnets(good, "train", 2, 2); }, ErrorKind::usage,
              "train.tfrecord: records [2, 4) requested: the file holds only 3 records");
  check_error([&] { data::read_meshgraphnets(good, "test", 0); }, ErrorKind::input,
              "test.tfrecord: cannot open");
}
