// The ParaView comparison script's text (app/paraview_script.hpp): the series, fields and folder are
// filled in as Python string literals, quotes and backslashes escaped, control characters refused;
// the script lands beside the .pvd. tests/app/paraview_test.sh runs the scripts in pvpython.
#include "app/paraview_script.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace surro;

TEST_CASE("the script names the series, the fields and the folder", "[paraview_script]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "surro_paraview_script_test";
  fs::remove_all(dir);
  const std::string path =
      app::write_paraview_compare((dir / "rollout.pvd").string(), {"velocity", "pressure"});
  CHECK(path == (dir / "compare.py").string());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  CHECK(s.find("\nPVD = \"rollout.pvd\"") != std::string::npos);
  CHECK(s.find("\nFIELDS = [\"velocity\", \"pressure\"]") != std::string::npos);
  CHECK(s.find("\nWRITTEN_IN = \"" + fs::absolute(dir).string() + "\"") != std::string::npos);
  CHECK(s.find('@') == std::string::npos);  // every placeholder filled
  fs::remove_all(dir);
}

TEST_CASE("names become Python literals or are refused", "[paraview_script]") {
  // A quote and a backslash are escaped; a placeholder-like name is not filled again.
  const std::string s = app::paraview_compare_script("out/a.pvd", {"u\"v\\w", "@DIR@"});
  CHECK(s.find("\nFIELDS = [\"u\\\"v\\\\w\", \"@DIR@\"]") != std::string::npos);
  // A newline would end the literal: refused, naming the field.
  try {
    app::paraview_compare_script("out/a.pvd", {"u\nimport os"});
    FAIL("a field name with a newline was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()).find("field name") != std::string::npos);
  }
  CHECK_THROWS_AS(app::paraview_compare_script("out/a.pvd", {}), Error);
  CHECK_THROWS_AS(app::paraview_compare_script("out/a.pvd", {""}), Error);
}
