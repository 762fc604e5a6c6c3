#pragma once
// Leveled logging to stderr (stdout is kept for results a user may pipe: `surro info --json`).
// Lines carry the level and, when running under a launcher with several ranks, the rank.
#include <sstream>
#include <string>

namespace surro::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
Level level();
// A level chosen on the command line (-q/-v): set_level from a config no longer changes it.
void force_level(Level level);
// "error" | "warn" | "info" | "debug" (anything else: info).
Level parse_level(const std::string& name);
// Rank and size from the launcher's environment (SLURM_PROCID/SLURM_NTASKS, OMPI_COMM_WORLD_*,
// PMI_RANK/PMI_SIZE); 0 and 1 when none is set. Non-zero ranks log warnings and errors only.
int rank();
int size();
void write(Level level, const std::string& message);

}  // namespace surro::log

#define SURRO_LOG_(lvl, stream_expr)                          \
  do {                                                        \
    if (static_cast<int>(lvl) <= static_cast<int>(::surro::log::level())) { \
      std::ostringstream surro_log_os_;                       \
      surro_log_os_ << stream_expr;                           \
      ::surro::log::write(lvl, surro_log_os_.str());          \
    }                                                         \
  } while (false)
#define SURRO_LOG_ERROR(x) SURRO_LOG_(::surro::log::Level::error, x)
#define SURRO_LOG_WARN(x) SURRO_LOG_(::surro::log::Level::warn, x)
#define SURRO_LOG_INFO(x) SURRO_LOG_(::surro::log::Level::info, x)
#define SURRO_LOG_DEBUG(x) SURRO_LOG_(::surro::log::Level::debug, x)
