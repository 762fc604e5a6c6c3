// Running another program with a time limit (app/run_program.hpp): posix_spawn into a new process
// group, polled with waitpid so that the limit holds whatever the program does with its children
// (a program that starts children of its own: the group signal ends them all). XServer runs Xvfb
// the same way, with a pipe for its display number.
#include "app/run_program.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace surro::app {
namespace impl::run_program {

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// waitpid until `pid` ends or `deadline` passes; true when it ended (status filled in).
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // no such child: nothing left to wait for
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// environ with each "NAME=VALUE" of `set` replacing its NAME's entry, or added.
std::vector<std::string> environment_with(const std::vector<std::string>& set) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const std::string& s : set) replaced = replaced || name_of(s) == name_of(entry);
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), set.begin(), set.end());
  return env;
}

// posix_spawn of argv in a process group of its own, with the default signal mask and handlers,
// stdin from /dev/null, stdout and stderr appended to log_path, the environment `env`, and
// `fd3` (-1: none; a descriptor of ours with FD_CLOEXEC, not 3 itself) as its descriptor 3.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path,
            const std::vector<std::string>& env, int fd3) {
  SURRO_REQUIRE(!argv.empty(), "run_program: expected a program to run");
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  if (fd3 >= 0) posix_spawn_file_actions_adddup2(&files, fd3, 3);  // dup2 clears FD_CLOEXEC on 3
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &files, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    SURRO_THROW(ErrorKind::runtime,
                command_line(argv) << ": cannot be started (log " << log_path << "): " << std::strerror(rc));
  return pid;
}

// Ends a process group led by `pid`: SIGTERM, then SIGKILL after `grace`; waits for the leader.
void stop_group(pid_t pid, std::chrono::steady_clock::duration grace, int& status) {
  ::kill(-pid, SIGTERM);
  if (!wait_until(pid, std::chrono::steady_clock::now() + grace, status)) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::kill(-pid, SIGKILL);  // what is left of the group
}

}  // namespace impl::run_program

std::string find_program(const std::string& name) {
  using impl::run_program::executable_file;
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return executable_file(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    if (executable_file(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    if (!a.empty() && a.find_first_of(" \t'\"\\$`") == std::string::npos) {
      out += a;
      continue;
    }
    out += '\'';
    for (const char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

ProgramResult run_program(const std::vector<std::string>& argv, const std::string& log_path, double timeout_s,
                          const std::vector<std::string>& set_env) {
  using namespace impl::run_program;
  const pid_t pid = spawn(argv, log_path, environment_with(set_env), -1);
  ProgramResult result;
  int status = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_s));
  if (!wait_until(pid, start + limit, status)) {
    result.timed_out = true;
    stop_group(pid, std::chrono::seconds(2), status);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

XServer::XServer(const std::string& xvfb, const std::string& log_path, double timeout_s) {
  using namespace impl::run_program;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    SURRO_THROW(ErrorKind::runtime, xvfb << ": no pipe for its display number: " << std::strerror(errno));
  // The write end above 3, so that the spawn's dup2 onto 3 is a real copy (which clears FD_CLOEXEC).
  const int w = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
  ::close(fds[1]);
  // -noreset: no server reset when a client leaves (a client connecting during one is refused).
  const std::vector<std::string> argv = {xvfb,           "-displayfd", "3",   "-screen", "0",
                                         "1920x1080x24", "-nolisten",  "tcp", "-noreset"};
  try {
    m_pid = spawn(argv, log_path, environment_with({}), w);
  } catch (...) {
    ::close(fds[0]);
    ::close(w);
    throw;
  }
  ::close(w);  // the server holds the only write end now: end of file means it exited
  std::string got;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(timeout_s));
  while (got.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, int(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[32];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server exited without a display
    got.append(buf, std::size_t(n));
  }
  ::close(fds[0]);
  const std::string number = got.substr(0, got.find('\n'));
  if (got.find('\n') == std::string::npos || number.empty() ||
      number.find_first_not_of("0123456789") != std::string::npos) {
    int status = 0;
    stop_group(m_pid, std::chrono::seconds(2), status);
    SURRO_THROW(ErrorKind::runtime, command_line(argv)
                                        << ": the X server reported no display within " << timeout_s
                                        << " s (its messages: " << log_path << ")");
  }
  m_display = ":" + number;
}

XServer::~XServer() {
  int status = 0;
  if (m_pid > 0) impl::run_program::stop_group(m_pid, std::chrono::seconds(2), status);
}

}  // namespace surro::app
