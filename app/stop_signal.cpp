#include "app/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace surro::app {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
  // A second Ctrl-C while the checkpoint is being written kills at once, as users expect.
  if (sig == SIGINT) std::signal(SIGINT, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  g_stop_signal = 0;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGUSR1, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

int stop_signal() {
  return g_stop_signal.load();
}

}  // namespace surro::app
