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
      SURRO_THROW(ErrorKind::runtime,
                  path << ": cannot create folder " << target.parent_path() << ": " << ec.message());
  }
  // Unique per process and call, hidden, and beside the target so rename() is atomic.
  std::random_device rd;
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" +
                                               std::to_string(::getpid()) + "." + std::to_string(rd()));
  try {
    write(tmp.string());
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    // The temporary's name means nothing to the user: name the file they asked for.
    std::string msg = e.what();
    const std::string t = tmp.string();
    for (std::size_t at = msg.find(t); at != std::string::npos; at = msg.find(t, at + path.size()))
      msg.replace(at, t.size(), path);
    throw Error(e.kind(), msg, e.source_file().empty() ? nullptr : e.source_file().c_str(), e.source_line());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;  // the rename's reason is the message, not the clean-up's
    fs::remove(tmp, ignored);
    SURRO_THROW(ErrorKind::runtime, path << ": cannot move the finished file into place: " << ec.message());
  }
}

int remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto tmp = name.rfind(".tmp");
    // ".<file>.tmp<digits>.<digits>": the hidden name write_atomic gives its temporary.
    if (name.size() < 2 || name[0] != '.' || tmp == std::string::npos || tmp == 0) continue;
    const std::string tail = name.substr(tmp + 4);
    if (tail.empty() || tail.find_first_not_of("0123456789.") != std::string::npos) continue;
    if (e.is_regular_file(ec) && fs::remove(e.path(), ec)) ++removed;
  }
  return removed;
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

void begin_output(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) SURRO_THROW(ErrorKind::runtime, dir << ": cannot create the output folder: " << ec.message());
  write_text_atomic((fs::path(dir) / kIncompleteMarker).string(),
                    "this folder's run has not finished (it failed, was killed or is still running)\n");
}

void end_output(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / kIncompleteMarker, ec);
  if (ec)
    SURRO_THROW(ErrorKind::runtime, dir << ": cannot remove " << kIncompleteMarker << ": " << ec.message());
}

}  // namespace surro::io
