// surro import: another program's dataset converted into a surro mesh dataset (docs/datasets.md,
// "Importing MeshGraphNets data"). Format "meshgraphnets": DeepMind's TFRecord folder
// (meta.json + {train,valid,test}.tfrecord, datasets/meshgraphnets.hpp) becomes
//
//   <output>/data/<split>/<name>_<k>.hdf5   per_file trajectories each (mesh layout, datasets/mesh_file.hpp)
//   <output>/stats.yaml                     normalization statistics of the train split
//   <output>/config.json                    source, format, options, the source's meta.json, surro version
//
// A trajectory keeps its record index in the source split as its global index (/trajectories/000042
// of data/valid/ is record 42 of valid.tfrecord). Only one file's trajectories are in memory at a time
// (CylinderFlow's train split is 1000 trajectories of about 14 MB). Files are written atomically; a
// rerun skips every file that exists with the same source fingerprint (source folder, split file size,
// meta.json, options) and refuses files from another source or other options, naming the file.
#include "app/commands.hpp"
#include "app/progress.hpp"
#include "app/run_config.hpp"
#include "core/build_info.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/meshgraphnets.hpp"
#include "datasets/well.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace surro::app {
namespace fs = std::filesystem;

namespace {

constexpr const char* kValidFormats = "meshgraphnets";
constexpr const char* kNotInSource =
    "density, viscosity and Reynolds number: MeshGraphNets stores no physical parameters";

struct ImportFile {
  std::string split, path, fp;     // fp: the split's source fingerprint
  long long first = 0, count = 0;  // records [first, first + count) of <split>.tfrecord
  bool done = false;               // already imported by an earlier run
};

// The options themselves, before any file is looked at.
void check_options(const ImportArgs& a) {
  if (a.format != "meshgraphnets")
    SURRO_THROW(ErrorKind::usage,
                "--format " << a.format << ": unknown format; valid formats: " << kValidFormats);
  if (a.per_file < 1)
    SURRO_THROW(ErrorKind::usage, "--per-file " << a.per_file << ": expected at least 1 trajectory per file");
  if (a.limit < 0)
    SURRO_THROW(ErrorKind::usage,
                "--limit " << a.limit << ": expected a non-negative number of trajectories (0 = all)");
  if (a.splits.empty())
    SURRO_THROW(ErrorKind::usage, "--splits: expected at least one of train, valid, test");
  std::set<std::string> seen;
  for (const auto& s : a.splits) {
    if (s != "train" && s != "valid" && s != "test")
      SURRO_THROW(ErrorKind::usage,
                  "--splits: '" << s << "': unknown split; valid splits: train, valid, test");
    if (!seen.insert(s).second) SURRO_THROW(ErrorKind::usage, "--splits: '" << s << "' given twice");
  }
  if (!a.name.empty() && (a.name.find('/') != std::string::npos || a.name[0] == '.'))
    SURRO_THROW(ErrorKind::usage,
                "--name '" << a.name << "': expected a file stem without '/' or leading '.'");
}

// The source folder, canonical, after checking that it holds meta.json and every requested split.
fs::path check_source(const ImportArgs& a) {
  std::error_code ec;
  if (!fs::exists(a.source, ec))
    SURRO_THROW(ErrorKind::usage, a.source << ": no such folder (expected a MeshGraphNets dataset folder)");
  if (!fs::is_directory(a.source, ec))
    SURRO_THROW(ErrorKind::usage, a.source << ": not a folder (expected a MeshGraphNets dataset folder)");
  const fs::path src = fs::canonical(a.source);
  if (!fs::is_regular_file(src / "meta.json", ec))
    SURRO_THROW(ErrorKind::usage, (src / "meta.json").string()
                                      << ": missing (a MeshGraphNets dataset folder holds meta.json)");
  for (const auto& s : a.splits)
    if (!fs::is_regular_file(src / (s + ".tfrecord"), ec))
      SURRO_THROW(ErrorKind::usage, (src / (s + ".tfrecord")).string()
                                        << ": missing (split '" << s
                                        << "' requested; choose the splits with --splits)");
  return src;
}

// True when `p` is `dir` or lies below it (both absolute and normalized).
bool within(const fs::path& p, const fs::path& dir) {
  return std::mismatch(dir.begin(), dir.end(), p.begin(), p.end()).first == dir.end();
}

fs::path check_output(const ImportArgs& a, const fs::path& src) {
  if (a.output.empty()) SURRO_THROW(ErrorKind::usage, "-o: expected an output folder");
  const fs::path out = fs::weakly_canonical(fs::absolute(a.output));
  if (within(out, src))
    SURRO_THROW(ErrorKind::usage, "-o " << a.output << ": " << (out == src ? "is" : "lies inside")
                                        << " the source folder " << src.string()
                                        << ": expected an output folder outside it");
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec))
    SURRO_THROW(ErrorKind::usage, "-o " << a.output << ": exists and is not a folder");
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What defines the files of one split: the source (folder, the split file's size, meta.json's bytes)
// and the options that decide which trajectories go to which file. Not the output folder, not --splits.
std::string split_fingerprint(const ImportArgs& a, const fs::path& src, const std::string& name,
                              const std::string& split) {
  const config::json defining = {{"format", a.format},
                                 {"source", src.string()},
                                 {"split", split},
                                 {"split_bytes", fs::file_size(src / (split + ".tfrecord"))},
                                 {"meta_json", fingerprint(config::json(read_text(src / "meta.json")))},
                                 {"name", name},
                                 {"per_file", a.per_file},
                                 {"limit", a.limit}};
  return fingerprint(defining);
}

// The fingerprint stored in a file, or "" when it has none or cannot be read.
std::string stored_fingerprint(const std::string& path) {
  try {
    data::h5::File f = data::h5::open_file(path);
    return data::h5::has_attr(f, "surro_config_fingerprint")
               ? data::h5::read_string_attr(f, "surro_config_fingerprint")
               : std::string();
  } catch (const Error&) {
    return std::string();
  }
}

// The file plan of every requested split; `counts` gets each split's trajectories (after --limit).
std::vector<ImportFile> plan_files(const ImportArgs& a, const fs::path& src, const fs::path& out,
                                   const std::string& name, std::map<std::string, long long>& counts) {
  std::vector<ImportFile> plan;
  for (const auto& split : a.splits) {
    const long long available = data::count_meshgraphnets(src.string(), split);
    const long long n = a.limit > 0 ? std::min(available, a.limit) : available;
    counts[split] = n;
    if (n == 0)
      SURRO_LOG_WARN((src / (split + ".tfrecord")).string()
                     << ": no trajectories: data/" << split << "/ stays empty (surro validate reports it)");
    const std::string fp = split_fingerprint(a, src, name, split);
    for (long long first = 0, k = 0; first < n; first += a.per_file, ++k) {
      char stem[64];
      std::snprintf(stem, sizeof(stem), "_%04lld.hdf5", k);
      plan.push_back({split, (out / "data" / split / (name + stem)).string(), fp, first,
                      std::min(a.per_file, n - first)});
    }
  }
  return plan;
}

// Resume: planned files that exist must carry this import's fingerprint (they are then skipped), and
// a split folder holds no other dataset file. Checked for every file before anything is written.
void check_existing(const fs::path& out, std::vector<ImportFile>& plan,
                    const std::vector<std::string>& splits) {
  std::set<std::string> planned;
  for (auto& f : plan) {
    planned.insert(fs::path(f.path).filename().string());
    if (!fs::exists(f.path)) continue;
    const std::string stored = stored_fingerprint(f.path);
    if (stored != f.fp)
      SURRO_THROW(ErrorKind::usage,
                  f.path << ": was imported from a different source or with different options "
                         << "(fingerprint " << (stored.empty() ? "none" : stored) << ", this import " << f.fp
                         << "); use another -o folder or remove this one");
    f.done = true;
  }
  for (const auto& split : splits) {
    const fs::path dir = out / "data" / split;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string file = e.path().filename().string(), ext = e.path().extension().string();
      if (file[0] != '.' && (ext == ".hdf5" || ext == ".h5") && !planned.count(file))
        SURRO_THROW(ErrorKind::usage, e.path().string()
                                          << ": not a file of this import (a different --per-file, --limit "
                                             "or source?); use another -o folder or remove this one");
    }
  }
}

// The splits an earlier import of the same source and options recorded in <out>/config.json (splits
// imported one at a time into one folder); empty when there is none or it came from something else.
std::map<std::string, long long> earlier_splits(const fs::path& out, const config::json& import) {
  std::map<std::string, long long> counts;
  try {
    const config::json old = config::json::parse(read_text(out / "config.json"));
    const config::json& imp = old.at("import");
    for (const char* key : {"source", "format", "name", "per_file", "limit"})
      if (imp.at(key) != import.at(key)) return {};
    for (const auto& split : imp.at("splits"))
      counts[split.get<std::string>()] = old.at("dataset").at("trajectories").at(split.get<std::string>());
  } catch (const std::exception&) {
    return {};  // no config.json, or not one of ours: this run's splits only
  }
  return counts;
}

// config.json: what was imported, from where, how; splits of earlier runs of the same import kept.
config::json import_record(const ImportArgs& a, const fs::path& out, const fs::path& src,
                           const std::string& name, const data::DatasetSpec& spec,
                           const std::map<std::string, long long>& counts) {
  config::json import = {{"source", src.string()},          {"format", a.format},     {"name", name},
                         {"splits", config::json::array()}, {"per_file", a.per_file}, {"limit", a.limit}};
  std::map<std::string, long long> all = earlier_splits(out, import);
  for (const auto& [split, n] : counts) all[split] = n;
  config::json trajectories = config::json::object();
  for (const char* split : {"train", "valid", "test"})
    if (all.count(split)) {
      import["splits"].push_back(split);
      trajectories[split] = all[split];
    }
  const config::json meta =
      config::json::parse(read_text(src / "meta.json"));  // checked by meshgraphnets_spec
  return {{"import", import},
          {"dataset",
           {{"trajectories", trajectories},
            {"field_components", {{"velocity", 2}, {"pressure", 1}}},
            {"dt", spec.parameters.at("dt")},
            {"steps", spec.times.size()},
            {"not_in_source", kNotInSource}}},
          {"source_meta_json", meta},
          {"surro", {{"version", kVersion}, {"git", kGitHash}}}};
}

// One file: its trajectories read from the source, written, released.
void import_file(const fs::path& src, const ImportFile& f, data::DatasetSpec spec) {
  data::MeshGraphNetsData in = data::read_meshgraphnets(src.string(), f.split, f.first, f.count);
  spec.provenance["source_split"] = f.split;
  spec.provenance["config_fingerprint"] = f.fp;
  data::write_mesh_file(f.path, spec, in.block);
}

}  // namespace

void run_import(const ImportArgs& a) {
  check_options(a);
  const fs::path src = check_source(a);
  const fs::path out = check_output(a, src);
  const std::string name = a.name.empty() ? src.filename().string() : a.name;
  if (name.empty())
    SURRO_THROW(ErrorKind::usage, src.string() << ": the folder has no name: give one with --name");

  data::DatasetSpec spec = data::meshgraphnets_spec(src.string());  // meta.json checked
  spec.dataset_name = name;
  spec.provenance["source"] = src.string();  // absolute, replacing the reader's description
  spec.provenance["source_format"] = a.format;
  spec.provenance["surro_version"] = kVersion;
  spec.provenance["git"] = kGitHash;
  spec.provenance["not_in_source"] = kNotInSource;

  std::map<std::string, long long> counts;
  std::vector<ImportFile> plan = plan_files(a, src, out, name, counts);
  check_existing(out, plan, a.splits);

  long long total = 0, already = 0;
  for (const auto& f : plan) {
    total += f.count;
    if (f.done) already += f.count;
  }
  for (const auto& split : a.splits) {
    fs::create_directories(out / "data" / split);
    io::remove_stale_temporaries((out / "data" / split).string());
  }
  io::write_text_atomic((out / "config.json").string(),
                        import_record(a, out, src, name, spec, counts).dump(2) + "\n");
  if (already > 0)
    SURRO_LOG_INFO("resuming: " << already << " of " << total << " trajectories already imported");
  SURRO_LOG_INFO("importing " << total << " trajectories of " << src.string() << " (" << a.format << ") into "
                              << out.string() << " as " << name);

  const auto start = std::chrono::steady_clock::now();
  long long done = already;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const ImportFile& f = plan[i];
    const std::string where = "file " + std::to_string(i + 1) + "/" + std::to_string(plan.size()) + " " +
                              f.path + " (" + f.split + " " + std::to_string(f.first) + ".." +
                              std::to_string(f.first + f.count - 1) + ")";
    if (f.done) {
      SURRO_LOG_INFO(where << ": already imported, skipped");
      continue;
    }
    import_file(src, f, spec);
    done += f.count;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = (done - already) / std::max(s, 1e-9);
    SURRO_LOG_INFO(where << ": written; " << done << "/" << total << " trajectories, " << format_duration(s)
                         << " elapsed, ETA "
                         << (done < total ? format_duration((total - done) / rate) : "-"));
  }

  std::vector<std::string> train_files;
  for (const auto& f : plan)
    if (f.split == "train") train_files.push_back(f.path);
  if (std::find(a.splits.begin(), a.splits.end(), "train") == a.splits.end()) {
    SURRO_LOG_WARN(
        "train split not imported: stats.yaml not written (training and surro validate need it; "
        "import --splits train into the same folder to add it)");
  } else if (train_files.empty()) {
    SURRO_LOG_WARN("train split has no trajectories: stats.yaml not written");
  } else {
    data::write_stats_yaml((out / "stats.yaml").string(), train_files);
  }
  SURRO_LOG_INFO("imported " << total << " trajectories into " << plan.size() << " file(s) under "
                             << out.string() << (train_files.empty() ? "" : ", stats.yaml")
                             << ", config.json");
}

}  // namespace surro::app
