// surro export and surro validate over a mesh dataset: they dispatch on the layout (graph-physics
// export, the refusal of fno-mat for mesh data, the mesh validator). The export itself is tested in
// datasets/test_mesh_file.cpp; this test needs the app library, so it is not host-level.
#include "app/commands.hpp"
#include "core/error.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/mesh_file_fixtures.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace surro;
namespace fs = std::filesystem;

TEST_CASE("surro export and surro validate dispatch on the mesh layout", "[dataset_commands]") {
  const fs::path dir = fs::temp_directory_path() / "surro_test_dataset_commands";
  fs::remove_all(dir);
  fs::create_directories(dir / "ds" / "data" / "train");
  const data::DatasetSpec spec = test::mesh_spec();
  const std::string f1 = (dir / "ds" / "data" / "train" / "a.hdf5").string();
  const std::string f2 = (dir / "ds" / "data" / "train" / "b.hdf5").string();
  data::write_mesh_file(f1, spec, test::mesh_block(spec, 0, 2, false));
  data::write_mesh_file(f2, spec, test::mesh_block(spec, 2, 1, false));

  // The command writes what the library's export writes (three trajectory groups) and its meta file.
  const std::string direct = (dir / "direct.h5").string(), out = (dir / "cli.h5").string();
  data::export_graph_physics(direct, {f1, f2});
  app::run_export((dir / "ds").string(), "train", "graph-physics", out);
  CHECK(test::stdout_of("h5ls '" + out + "'") == test::stdout_of("h5ls '" + direct + "'"));
  CHECK(fs::exists(dir / "cli_meta.json"));

  std::string message = "(no error)";
  try {
    app::run_export((dir / "ds").string(), "train", "fno-mat", (dir / "x.mat").string());
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("a mesh dataset: fno-mat needs grid data; use --format graph-physics"));
  CHECK(app::run_validate(f1) == 0);
}
