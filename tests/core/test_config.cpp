// Config machinery: loading, overrides, typed validation with exact locations, factories.
#include "core/config.hpp"
#include "core/io.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace surro;
using config::json;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "surro_test_config";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

// A stand-in for the model sections later issues add: exercises nesting, arrays and factories.
struct Model {
  std::string type;
  std::vector<long long> modes;
  double lr = 0;
};

config::Registry<Model> model_registry() {
  config::Registry<Model> r("model");
  r.add("fno", [](config::Node& n) {
    Model m{"fno", n.get_int_array("modes", {12, 12}, config::positive()), 0};
    n.finish();
    return m;
  });
  r.add("mlp", [](config::Node& n) {
    Model m{"mlp", {}, n.get_number("lr", 1e-3, config::in_range(0, 1))};
    n.finish();
    return m;
  });
  return r;
}

Model read_model(const json& root, json* resolved = nullptr) {
  config::Node top(root, "cfg.json", "", resolved);
  config::Node m = top.child("model");
  Model out = model_registry().make(m);
  top.finish();
  return out;
}

}  // namespace

TEST_CASE("config: errors name the file and the JSON path", "[config]") {
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "fno", "modes": [16, -3]}})")),
                    "cfg.json: model.modes[1]: expected a positive integer, got -3");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "fno", "modes": 16}})")),
                    "cfg.json: model.modes: expected an array of positive integers, got 16");
  CHECK_THROWS_WITH(
      read_model(json::parse(R"({"model": {"type": "fno", "mode": [16]}})")),
      "cfg.json: model.mode: unknown key (did you mean 'modes'?); valid keys here: modes, type");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "mlp", "lr": "fast"}})")),
                    "cfg.json: model.lr: expected a number in [0, 1], got the string \"fast\"");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "mlp", "lr": 2}})")),
                    "cfg.json: model.lr: expected a number in [0, 1], got 2");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "fnoo"}})")),
                    "cfg.json: model.type: unknown model type 'fnoo'; valid types: fno, mlp");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {}})")),
                    "cfg.json: model.type: missing; expected a model type (fno, mlp)");
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "mlp"}, "optimiser": {}})")),
                    Catch::StartsWith("cfg.json: optimiser: unknown key; valid keys here: model"));
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": [1]})")),
                    "cfg.json: model: expected an object, got the array [1]");
  try {
    read_model(json::parse(R"({"model": {"type": "fno", "modes": [0]}})"));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

TEST_CASE("config: defaults and values land in the resolved config", "[config]") {
  json resolved;
  const Model m = read_model(json::parse(R"({"model": {"type": "fno"}})"), &resolved);
  CHECK(m.modes == std::vector<long long>{12, 12});
  CHECK(resolved == json::parse(R"({"model": {"type": "fno", "modes": [12, 12]}})"));
  // Integral floats are integers; fractional ones are not.
  CHECK(read_model(json::parse(R"({"model": {"type": "fno", "modes": [4.0]}})")).modes[0] == 4);
  CHECK_THROWS_WITH(read_model(json::parse(R"({"model": {"type": "fno", "modes": [4.5]}})")),
                    Catch::Contains("model.modes[0]: expected a positive integer, got 4.5"));
}

TEST_CASE("config: --set overrides nested keys, array elements, and types", "[config]") {
  json j = json::parse(R"({"model": {"type": "fno", "modes": [8, 8]}, "run": {"name": "a"}})");
  config::apply_override(j, "model.modes[1]=16");
  config::apply_override(j, "run.name=ns64");        // bare word: string
  config::apply_override(j, "run.seed=7");           // number
  config::apply_override(j, "train.lr=1e-3");        // creates the missing object
  config::apply_override(j, "model.modes=[4,4,4]");  // JSON value
  CHECK(j["model"]["modes"] == json::parse("[4,4,4]"));
  CHECK(j["run"]["name"] == "ns64");
  CHECK(j["run"]["seed"] == 7);
  CHECK(j["train"]["lr"] == 1e-3);
  CHECK_THROWS_WITH(config::apply_override(j, "run.seed"), "--set 'run.seed': expected key.path=value");
  CHECK_THROWS_WITH(config::apply_override(j, "model.modes[9]=1"),
                    "--set 'model.modes[9]=1': model.modes has no element [9]");
  CHECK_THROWS_WITH(config::apply_override(j, "run.name.x=1"), Catch::Contains("is not an object"));
}

TEST_CASE("config: files that are missing or malformed", "[config]") {
  CHECK_THROWS_WITH(config::load_file("/nonexistent/surro.json"),
                    "/nonexistent/surro.json: cannot open config file: No such file or directory");
  const std::string bad = write_temp("bad.json", "{\n  \"run\": {\n    \"seed\": 1,\n  }\n}\n");
  CHECK_THROWS_WITH(config::load_file(bad), Catch::StartsWith(bad + ":4:3: malformed JSON:"));
  const std::string arr = write_temp("array.json", "[1, 2]");
  CHECK_THROWS_WITH(config::load_file(arr),
                    arr + ": expected a JSON object at the top level, got the array [1,2]");
}

TEST_CASE("io: a failed atomic write leaves the previous file untouched", "[config]") {
  const auto dir = std::filesystem::temp_directory_path() / "surro_test_config" / "atomic";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "result.txt").string();
  io::write_text_atomic(path, "first\n");
  CHECK_THROWS_WITH(io::write_atomic(path,
                                     [](const std::string& tmp) {
                                       std::ofstream(tmp) << "partial";
                                       throw Error(ErrorKind::runtime, "writer failed");
                                     }),
                    "writer failed");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "first\n");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += 1, (void)e;
  CHECK(entries == 1);
}

TEST_CASE("config: number arrays", "[config]") {
  const json section = json::parse(R"({"values": [12, 3.5], "bad": [1, "x"], "neg": [2, -1], "scalar": 4})");
  json resolved;
  config::Node node(section, "cfg.json", "solver", &resolved);
  CHECK(node.get_number_array("values", {1.0}) == std::vector<double>{12.0, 3.5});
  CHECK(node.get_number_array("absent", {1.0, 2.0}) == std::vector<double>{1.0, 2.0});
  CHECK(resolved["absent"] == json::parse("[1.0, 2.0]"));
  CHECK_THROWS_WITH(node.get_number_array("bad", {}),
                    "cfg.json: solver.bad[1]: expected a number, got the string \"x\"");
  CHECK_THROWS_WITH(node.get_number_array("neg", {}, config::positive_number()),
                    "cfg.json: solver.neg[1]: expected a positive number, got -1");
  CHECK_THROWS_WITH(node.get_number_array("scalar", {}, config::positive_number()),
                    "cfg.json: solver.scalar: expected an array of positive numbers, got 4");
}

// Issue #12 class 4: an integer beyond what its reader stores is an error at parse time, naming the
// JSON path, never a silently wrapped value (4294967312 = 2^32 + 16 read as an int is 16).
TEST_CASE("config: integers are range-checked when read", "[config]") {
  const json section = json::parse(
      R"({"batch": 4294967312, "neg": -2147483649, "big": 18446744073709551615, "fl": 4294967312.0,
          "max": 2147483647, "seed": 9223372036854775807, "arr": [1, 4294967297]})");
  config::Node node(section, "cfg.json", "train", nullptr);
  CHECK_THROWS_WITH(
      node.get_int("batch", 1, config::positive()),
      "cfg.json: train.batch: expected a positive integer no larger than 2147483647, got 4294967312");
  CHECK_THROWS_WITH(node.get_int("neg", 1),
                    "cfg.json: train.neg: expected an integer no smaller than -2147483648, got -2147483649");
  // Beyond int64: nlohmann stores it unsigned; get<long long>() would read -1.
  CHECK_THROWS_WITH(node.get_int64("big", 1),
                    Catch::Contains("train.big: expected an integer no larger than"));
  CHECK_THROWS_WITH(node.get_int("fl", 1), Catch::Contains("train.fl: expected an integer no larger than"));
  CHECK_THROWS_WITH(node.get_int_array("arr", {}),
                    Catch::StartsWith("cfg.json: train.arr[1]: expected an integer no larger"));
  CHECK(node.get_int("max", 1) == 2147483647);
  CHECK(node.get_int64("seed", 0) == 9223372036854775807LL);
}

// A number beyond double (1e400) is nlohmann's out_of_range, not a parse_error: it must still come
// out as one usage line naming the file, in a file and in --set.
TEST_CASE("config: numbers beyond double name the file", "[config]") {
  const std::string path = write_temp("huge.json", "{\"train\": {\"lr\": 1e400}}");
  CHECK_THROWS_WITH(config::load_file(path), Catch::StartsWith(path + ": malformed JSON: number overflow"));
  json root = json::object();
  CHECK_THROWS_WITH(config::apply_override(root, "train.lr=1e400"),
                    "--set 'train.lr=1e400': 1e400 is out of range for a number");
  try {
    config::load_file(path);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

// JSON allows a repeated key and nlohmann keeps the last one: a config edited by hand would run
// with a value the user did not mean. Every level is checked, array elements included.
TEST_CASE("config: duplicate keys are rejected with their path", "[config]") {
  const std::string top = write_temp("dup_top.json", "{\"run\": {\"seed\": 1}, \"run\": {\"seed\": 2}}");
  CHECK_THROWS_WITH(config::load_file(top),
                    top + ": run: duplicate key (JSON objects must not repeat a key)");
  const std::string nested =
      write_temp("dup_nested.json", R"({"model": {"type": "fno", "layers": [{"a": 1}, {"b": 1, "b": 2}]}})");
  CHECK_THROWS_WITH(config::load_file(nested),
                    Catch::StartsWith(nested + ": model.layers[1].b: duplicate key"));
  // The same key in sibling objects is fine.
  const std::string ok =
      write_temp("dup_ok.json", R"({"a": {"x": 1}, "b": {"x": [1, {"x": 2}]}, "c": [[1], {"x": 3}]})");
  CHECK(config::load_file(ok)["c"][1]["x"] == 3);
}
