#include "core/log.hpp"

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>

namespace surro::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<bool> g_forced{false};

int env_int(const char* const* names, int fallback) {
  for (const char* const* name = names; *name; ++name) {
    if (const char* value = std::getenv(*name)) return std::atoi(value);
  }
  return fallback;
}

const char* tag(Level level) {
  switch (level) {
    case Level::error: return "error";
    case Level::warn: return "warning";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "?";
}

}  // namespace

void set_level(Level level) {
  if (!g_forced) g_level = level;
}
void force_level(Level level) {
  g_level = level;
  g_forced = true;
}
Level parse_level(const std::string& s) {
  if (s == "error") return Level::error;
  if (s == "warn") return Level::warn;
  if (s == "debug") return Level::debug;
  return Level::info;
}
Level level() { return g_level; }

int rank() {
  static const char* const names[] = {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", nullptr};
  static const int value = env_int(names, 0);
  return value;
}

int size() {
  static const char* const names[] = {"SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", nullptr};
  static const int value = env_int(names, 1);
  return value;
}

void write(Level lvl, const std::string& message) {
  if (rank() != 0 && lvl > Level::warn) return;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::cerr << "surro";
  if (size() > 1) std::cerr << '[' << rank() << ']';
  std::cerr << ": " << tag(lvl) << ": " << message << '\n';
}

}  // namespace surro::log
