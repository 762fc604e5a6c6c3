#pragma once
// Runs another program (ParaView's pvpython for surro report --paraview) with a time limit, its
// output going to a log file; never waits past the limit. Host only, POSIX.
#include <string>
#include <vector>

namespace surro::app {

// `name` itself when it holds a '/', else its first match in $PATH; "" when no executable file is
// found.
std::string find_program(const std::string& name);

struct ProgramResult {
  bool timed_out = false;  // killed (with its process group) after the time limit
  int exit_code = -1;      // its exit status when it exited, else -1
  int signal = 0;          // the signal that ended it, else 0
};

// Runs argv (argv[0]: a path, as find_program returns) in its own process group with stdin from
// /dev/null and stdout and stderr appended to `log_path` (the log is the program's own stream, not
// written atomically). After `timeout_s` seconds the group gets SIGTERM, 2 s later SIGKILL.
// Errors: runtime when the log cannot be opened or the program cannot be started (naming both).
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& log_path,
                          double timeout_s);

// argv as one shell-like line for messages: words with spaces or quotes in single quotes.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace surro::app
