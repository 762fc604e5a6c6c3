#pragma once
// Shared by the libFuzzer targets: the readers under test take file names, so each input is written
// to a scratch file first. Only surro::Error is an acceptable way for a reader to refuse an input;
// any other exception escapes to libFuzzer and is reported as a crash, like a sanitizer finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace surro::fuzz {

// A folder of its own per process (libFuzzer's -jobs/-workers run several), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const struct Dir {
    std::filesystem::path path;
    Dir() {
      path = std::filesystem::temp_directory_path() / ("surro_fuzz." + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

// Writes bytes [data, data + size) to scratch_dir()/name and returns its path.
inline std::string write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace surro::fuzz
