// An empty scratch folder for a test: <tmp>/surro_test_<module>_<name>, emptied first, so a rerun
// starts clean (and reuses the folder rather than leaving one per run).
#pragma once

#include <filesystem>
#include <string>

namespace surro::test {

inline std::filesystem::path fresh_dir(const std::string& module, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("surro_test_" + module + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace surro::test
