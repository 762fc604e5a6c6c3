#pragma once
// Shared by the VTK series tests ([vtk], [vtu]): a fresh temporary folder and the .pvd's entries.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace surro::test {

inline std::filesystem::path fresh_vtk_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("surro_test_vtk_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

struct PvdEntry {
  double time;
  std::string file;
};

// The .pvd's DataSet entries, by plain string search (VTK has no PVD reader outside ParaView).
inline std::vector<PvdEntry> parse_pvd(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  CHECK_THAT(text, Catch::Contains("<VTKFile type=\"Collection\""));
  CHECK_THAT(text, Catch::Contains("</Collection>\n</VTKFile>"));
  auto attr = [](const std::string& tag, const std::string& name) {
    const std::size_t b = tag.find(name + "=\"") + name.size() + 2;
    return tag.substr(b, tag.find('"', b) - b);
  };
  std::vector<PvdEntry> out;
  for (std::size_t p = text.find("<DataSet "); p != std::string::npos; p = text.find("<DataSet ", p + 1)) {
    const std::string tag = text.substr(p, text.find("/>", p) - p);
    out.push_back({std::stod(attr(tag, "timestep")), attr(tag, "file")});
  }
  return out;
}

}  // namespace surro::test
