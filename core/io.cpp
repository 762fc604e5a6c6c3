#include "core/io.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

namespace surro::io {
namespace fs = std::filesystem;

void write_atomic(const std::string& path, const std::function<void(const std::string&)>& write) {
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      SURRO_THROW(ErrorKind::runtime, path << ": cannot create folder " << target.parent_path()
                                           << ": " << ec.message());
  }
  // Unique per process and call, hidden, and beside the target so rename() is atomic.
  std::random_device rd;
  const fs::path tmp = target.parent_path() /
                       ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()) +
                        "." + std::to_string(rd()));
  try {
    write(tmp.string());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    SURRO_THROW(ErrorKind::runtime, path << ": cannot move the finished file into place: " << ec.message());
  }
}

void write_text_atomic(const std::string& path, const std::string& content) {
  write_atomic(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) SURRO_THROW(ErrorKind::runtime, tmp << ": cannot open for writing: " << std::strerror(errno));
    out << content;
    out.flush();
    if (!out) SURRO_THROW(ErrorKind::runtime, tmp << ": write failed: " << std::strerror(errno));
  });
}

}  // namespace surro::io
