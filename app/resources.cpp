#include "app/resources.hpp"

#include "core/error.hpp"

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace surro::app {
namespace fs = std::filesystem;

namespace {

// MemAvailable in bytes, or a negative value when /proc/meminfo lacks it.
double proc_mem_available() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kib = -1;
    fields >> kib;
    return kib >= 0 ? kib * 1024.0 : -1.0;
  }
  return -1.0;
}

}  // namespace

double available_memory_bytes(bool device, std::string* source) {
#if defined(KOKKOS_ENABLE_CUDA)
  if (device) {
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) == cudaSuccess) {
      if (source) *source = "free device memory (cudaMemGetInfo)";
      return static_cast<double>(free);
    }
  }
#else
  (void)device;
#endif
  const double proc = proc_mem_available();
  if (proc >= 0) {
    if (source) *source = "MemAvailable in /proc/meminfo";
    return proc;
  }
#if defined(_SC_AVPHYS_PAGES)
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    if (source) *source = "available pages (sysconf)";
    return static_cast<double>(pages) * static_cast<double>(page);
  }
#endif
  if (source) *source = "unknown";
  return std::numeric_limits<double>::infinity();
}

double available_disk_bytes(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path.empty() ? "." : path, ec);
  while (!p.empty() && !fs::exists(p, ec)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  const fs::space_info s = fs::space(p, ec);
  if (ec || s.available == static_cast<std::uintmax_t>(-1)) return std::numeric_limits<double>::infinity();
  return static_cast<double>(s.available);
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && bytes >= 1024.0) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), bytes < 1e5 ? "%.3g %s" : "%.2g %s", bytes, units[u]);
  return buf;
}

void require_memory(const std::string& key, const std::string& what, double need, bool device,
                    const std::string& advice) {
  std::string source;
  const double available = available_memory_bytes(device, &source);
  if (!(need > available)) return;
  SURRO_THROW(ErrorKind::usage, key << ": " << what << " needs at least " << format_bytes(need)
                                    << " of memory, " << format_bytes(available) << " available (" << source
                                    << "); " << advice);
}

void require_disk(const std::string& key, const std::string& what, double need, const std::string& dir,
                  const std::string& advice) {
  const double available = available_disk_bytes(dir);
  if (!(need > available)) return;
  SURRO_THROW(ErrorKind::usage, key << ": " << what << " needs at least " << format_bytes(need)
                                    << " of disk space, " << format_bytes(available) << " free under '" << dir
                                    << "'; " << advice);
}

}  // namespace surro::app
