// Running another program with a time limit (app/run_program.hpp), as surro report --paraview runs
// pvpython: the exit code and the output come back; a program past its limit is stopped with its
// children within the limit plus the 2 s grace; a missing program is found missing.
#include "app/run_program.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace surro;

TEST_CASE("run_program returns the exit code, logs the output and keeps its time limit", "[run_program]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "surro_run_program_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string sh = app::find_program("sh");
  REQUIRE(!sh.empty());
  const std::string log = (dir / "log").string();

  const app::ProgramResult done = app::run_program({sh, "-c", "echo out; echo err >&2; exit 3"}, log, 30);
  CHECK(!done.timed_out);
  CHECK(done.exit_code == 3);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "out\nerr\n");

  // A child that ignores SIGTERM and a grandchild: both gone after the limit and the grace period.
  const auto start = std::chrono::steady_clock::now();
  const app::ProgramResult slow = app::run_program(
      {sh, "-c", "trap '' TERM; sleep 60 & echo $! > " + (dir / "pid").string() + "; sleep 60"}, log, 1.5);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(slow.timed_out);
  CHECK(slow.signal != 0);
  CHECK(took < 10);
  std::ifstream pid_file(dir / "pid");
  int grandchild = 0;
  pid_file >> grandchild;
  REQUIRE(grandchild > 0);
  // The grandchild (SIGKILLed with the group; SIGTERM it ignores, as its shell) ends: gone, or a
  // zombie of init, within a second of the kill (the signal is delivered asynchronously).
  std::string state = "S";
  for (int i = 0; i < 100 && state != "X" && state != "Z"; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, name;
    state = "X";
    stat >> pid >> name >> state;
    if (state != "X" && state != "Z") std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK((state == "X" || state == "Z"));

  CHECK(app::find_program("surro-no-such-program").empty());
  CHECK(app::find_program((dir / "nothing").string()).empty());
  CHECK(app::command_line({"/usr/bin/pvpython", "a b/compare.py", "it's"}) ==
        "/usr/bin/pvpython 'a b/compare.py' 'it'\\''s'");
  fs::remove_all(dir);
}
