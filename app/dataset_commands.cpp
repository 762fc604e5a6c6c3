// surro validate and surro export: inspecting and converting datasets.
#include "app/commands.hpp"
#include "app/run_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "datasets/well.hpp"

#include "datasets/fno_mat.hpp"
#include "datasets/mesh_file.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace surro::app {
namespace fs = std::filesystem;

int run_validate(const std::string& path) {
  if (!fs::exists(path)) SURRO_THROW(ErrorKind::input, path << ": no such file or folder");
  const std::vector<std::string> problems = fs::is_directory(path)     ? data::validate_dataset_dir(path)
                                            : data::is_mesh_file(path) ? data::validate_mesh_file(path)
                                                                       : data::validate_well_file(path);
  for (const auto& p : problems) std::cout << p << '\n';
  if (problems.empty())
    std::cout << path << ": valid\n";
  else
    std::cout << path << ": " << problems.size() << " violation(s)\n";
  return static_cast<int>(problems.size());
}

}  // namespace surro::app

namespace surro::app {

void run_export(const std::string& dataset, const std::string& split, const std::string& format,
                const std::string& output) {
  if (format != "fno-mat" && format != "graph-physics")
    SURRO_THROW(ErrorKind::usage,
                "--format " << format << ": unknown format; valid formats: fno-mat, graph-physics");
  // Before any work: an output inside the dataset folder could overwrite its files.
  check_output_file("-o", output, {{"dataset folder", dataset}});
  const fs::path dir = fs::path(dataset) / "data" / split;
  if (!fs::is_directory(dir))
    SURRO_THROW(ErrorKind::input, dir.string()
                                      << ": no such split folder (expected <dataset>/data/" << split << ")");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".hdf5" || ext == ".h5") && e.path().filename().string()[0] != '.')
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) SURRO_THROW(ErrorKind::input, dir.string() << ": no .hdf5 files");

  if (format == "graph-physics") {
    for (const auto& f : files)
      if (!data::is_mesh_file(f))
        SURRO_THROW(ErrorKind::input, f << ": not a mesh dataset file (root attribute layout = '"
                                        << data::kMeshLayout
                                        << "'): graph-physics export needs a mesh dataset");
    data::export_graph_physics(output, files);  // streams one trajectory at a time
    SURRO_LOG_INFO("wrote " << output << " and " << data::graph_physics_meta_path(output) << " (" << split
                            << ") from " << files.size() << " file(s)");
    return;
  }

  for (const auto& f : files)
    if (data::is_mesh_file(f))
      SURRO_THROW(ErrorKind::usage,
                  f << ": a mesh dataset: fno-mat needs grid data; use --format graph-physics");

  // Concatenate the split's files in order: one block of every trajectory.
  data::WellFile all = data::read_well_file(files[0]);
  for (std::size_t i = 1; i < files.size(); ++i) {
    data::WellFile next = data::read_well_file(files[i]);
    if (next.spec.shape() != all.spec.shape() || next.spec.times.size() != all.spec.times.size())
      SURRO_THROW(ErrorKind::input, files[i] << ": grid or time axis differs from " << files[0]);
    for (auto& [name, values] : next.block.fields) {
      auto it = all.block.fields.find(name);
      if (it == all.block.fields.end())
        SURRO_THROW(ErrorKind::input, files[i] << ": field " << name << " is not in " << files[0]);
      it->second.insert(it->second.end(), values.begin(), values.end());
    }
    all.block.count += next.block.count;
  }

  // Which FNO script layout: Darcy has constant fields a and u; 1-D data is Burgers; else NS.
  const auto& fields = all.spec.fields;
  const bool constant =
      std::all_of(fields.begin(), fields.end(), [](const auto& f) { return !f.time_varying; });
  const data::FnoMatKind kind = constant                    ? data::FnoMatKind::darcy
                                : all.spec.dims.size() == 1 ? data::FnoMatKind::burgers
                                                            : data::FnoMatKind::time_series;
  data::export_fno_mat(output, all.spec, all.block, kind);
  SURRO_LOG_INFO("wrote " << output << ": " << all.block.count << " trajectories of " << all.spec.dataset_name
                          << " (" << split << ") from " << files.size() << " file(s)");
}

}  // namespace surro::app
