// Running another program with a time limit (app/run_program.hpp), as surro report --paraview runs
// pvpython: the exit code and the output come back; a program past its limit is stopped with its
// children within the limit plus the 2 s grace; a missing program is found missing.
#include "app/run_program.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace surro;

namespace {
// An empty folder of this name under the system's temporary folder.
std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}
}  // namespace

TEST_CASE("run_program returns the exit code, logs the output and keeps its time limit", "[run_program]") {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir("surro_run_program_test");
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

TEST_CASE("run_program sets the environment entries it is given", "[run_program]") {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir("surro_run_program_env");
  const std::string log = (dir / "log").string();
  ::setenv("SURRO_RUN_PROGRAM_A", "old", 1);
  const app::ProgramResult r = app::run_program(
      {app::find_program("sh"), "-c", "echo $SURRO_RUN_PROGRAM_A $SURRO_RUN_PROGRAM_B $PATH"}, log, 30,
      {"SURRO_RUN_PROGRAM_A=new", "SURRO_RUN_PROGRAM_B=added"});
  ::unsetenv("SURRO_RUN_PROGRAM_A");
  CHECK(r.exit_code == 0);
  std::ifstream in(log);
  std::string a, b, path;
  in >> a >> b >> path;
  CHECK(a == "new");
  CHECK(b == "added");
  const char* ours = std::getenv("PATH");
  REQUIRE(ours != nullptr);
  CHECK(path == ours);  // the rest of the environment is kept
  fs::remove_all(dir);
}

// XServer against stand-ins for Xvfb (shell scripts that take -displayfd 3 as Xvfb does), so that
// each way it can end is checked without an X server: a display reported, a server that exits
// without one, one that never reports; then the real Xvfb where it is installed.
TEST_CASE("XServer uses the display Xvfb reports and stops the server", "[run_program]") {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir("surro_xserver_test");
  const std::string log = (dir / "log").string();
  auto script = [&](const std::string& name, const std::string& body) {
    const fs::path p = dir / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  };
  const std::string pid_file = (dir / "pid").string();
  {
    app::XServer x(script("reports", "echo $$ > " + pid_file + "; sleep 0.2; echo 57 >&3; exec sleep 60"),
                   log, 10);
    CHECK(x.display() == ":57");
  }
  int pid = 0;
  std::ifstream(pid_file) >> pid;
  REQUIRE(pid > 0);
  CHECK(::kill(pid, 0) != 0);  // stopped and reaped when the XServer went out of scope

  CHECK_THROWS_WITH(app::XServer(script("exits", "echo cannot open display >&2; exit 1"), log, 10),
                    Catch::Contains("reported no display within 10 s") && Catch::Contains(log));
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(app::XServer(script("silent", "exec sleep 60"), log, 0.5),
                    Catch::Contains("reported no display within 0.5 s"));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5);
  CHECK_THROWS_WITH(app::XServer(script("garbled", "echo :x >&3; exec sleep 60"), log, 10),
                    Catch::Contains("reported no display"));

  const std::string xvfb = app::find_program("Xvfb");
  if (!xvfb.empty()) {
    app::XServer x(xvfb, log, 30);
    INFO("Xvfb display " << x.display());
    CHECK(fs::exists("/tmp/.X11-unix/X" + x.display().substr(1)));  // its socket, accepting
  }
  fs::remove_all(dir);
}
