// The run section of a config (app/run_config.hpp): resolution order and the saved copy. The config
// machinery itself is tested in core/test_config.cpp; this test needs the app library.
#include "app/run_config.hpp"
#include "core/config.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace surro;

TEST_CASE("config: the run section resolves with CLI > file > defaults and saves atomically",
          "[run_config]") {
  const auto dir = std::filesystem::temp_directory_path() / "surro_test_run_config";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "run.json").string();
  std::ofstream(path) << R"({"run": {"name": "demo", "seed": 3}})";
  const auto out_dir = dir / "out";
  const auto cfg = app::resolve_config(path, {"run.seed=5", "run.output_dir=" + out_dir.string()});
  CHECK(cfg.run.name == "demo");       // file
  CHECK(cfg.run.seed == 5);            // CLI beats file
  CHECK(cfg.run.log_level == "info");  // default
  CHECK(cfg.resolved["run"]["log_level"] == "info");
  const std::string saved = app::save_resolved_config(cfg);
  CHECK(config::load_file(saved) == cfg.resolved);
  // No temporaries are left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(out_dir)) files += e.is_regular_file();
  CHECK(files == 1);

  CHECK_THROWS_WITH(app::resolve_config(path, {"run.seed=-1"}),
                    path + ": run.seed: expected a non-negative integer, got -1");
  CHECK_THROWS_WITH(app::resolve_config(path, {"solver.type=ns"}),
                    path + ": solver: unknown key; valid keys here: run");
}
