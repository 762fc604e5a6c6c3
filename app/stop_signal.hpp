#pragma once
// SIGTERM, SIGUSR1 and SIGINT as "finish the unit of work in progress, save, exit 4" requests
// (kExitInterrupted), for the long commands (train: a step; generate: a file). Slurm sends USR1
// (--signal) or TERM (preemption) to every task; a signal to one rank reaches the others through
// the commands' own reduction of the flag (core/comm.hpp).
namespace surro::app {

// Installs the handlers and clears the flag. A second SIGINT kills at once (default action).
void install_stop_handlers();
// The last stop signal received since install_stop_handlers(), or 0.
int stop_signal();

}  // namespace surro::app
