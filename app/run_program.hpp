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
// `set_env`: "NAME=VALUE" entries that replace or add to this process's environment for it.
// Errors: runtime when the log cannot be opened or the program cannot be started (naming both).
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& log_path, double timeout_s,
                          const std::vector<std::string>& set_env = {});

// An X server of its own for a program that renders through X on a machine without a display
// (Debian's pvpython): Xvfb (the path `xvfb`) started with -displayfd, so that it picks a free
// display itself and reports it only once it accepts connections. A client started after the
// constructor returns never meets a server still starting (what xvfb-run's fixed wait allowed under
// load: "bad X server connection"), and two servers started at once never race for one display.
// The server's messages go to `log_path`; it is stopped (SIGTERM, 2 s later SIGKILL) on destruction.
// Errors: runtime when it cannot be started or reports no display within `timeout_s` (naming the log).
class XServer {
 public:
  XServer(const std::string& xvfb, const std::string& log_path, double timeout_s);
  ~XServer();
  XServer(const XServer&) = delete;
  XServer& operator=(const XServer&) = delete;
  // ":N", for DISPLAY.
  const std::string& display() const { return m_display; }

 private:
  int m_pid = -1;
  std::string m_display;
};

// argv as one shell-like line for messages: words with spaces or quotes in single quotes.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace surro::app
