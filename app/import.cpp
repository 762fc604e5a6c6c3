// surro import: another program's dataset converted into a surro dataset (docs/datasets.md,
// "Importing MeshGraphNets data"). One mechanism, a table of formats (kFormats), each of which opens
// its source as a Source (spec, trajectories per split, a reader):
//   meshgraphnets  DeepMind's TFRecord folder (meta.json + {train,valid,test}.tfrecord,
//                  datasets/meshgraphnets.hpp) -> mesh layout (datasets/mesh_file.hpp)
//   fno-mat        one original FNO .mat file (MATLAB v7.3)  -> The Well's grid layout (datasets/well.hpp)
//   pdebench       one PDEBench HDF5 file                    -> The Well's grid layout
//   the-well       The Well's dataset folder (data/{train,valid,test}/*.hdf5, or {train,valid,test}/)
//                  or one or more of its files               -> The Well's grid layout (surro's subset)
// Grid sources are a sequence of samples (one file, or The Well's files one after the other) cut into
// consecutive split ranges (open_sequence): by --train/--valid/--test for files, by the split folders
// for The Well's folder. datasets/external.hpp reads them. Written:
//
//   <output>/data/<split>/<name>_<k>.hdf5   per_file trajectories each
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
#include "datasets/external.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/meshgraphnets.hpp"
#include "datasets/well.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

namespace surro::app {
namespace fs = std::filesystem;

namespace {

constexpr const char* kValidFormats = "meshgraphnets, fno-mat, pdebench, the-well";
constexpr const char* kNotInSource =
    "density, viscosity and Reynolds number: MeshGraphNets stores no physical parameters";

struct ImportFile {
  std::string split, path, fp;     // fp: the split's source fingerprint
  long long first = 0, count = 0;  // trajectories [first, first + count) of the split
  bool done = false;               // already imported by an earlier run
};

// An opened source: what it holds and how to read a split's trajectories.
struct Source {
  data::DatasetSpec spec;                      // dataset_name and provenance filled by run_import
  std::map<std::string, long long> available;  // split -> trajectories
  config::json defining;                       // what identifies the source's bytes (fingerprints)
  config::json record;                         // format-specific entries of config.json
  std::string not_in_source;                   // what the format cannot carry ("" = nothing known)
  std::string default_name;                    // the name without --name ("" = the source's file name)
  std::function<data::Block(const std::string& split, long long first, long long count)> read;
};

// What a format's source is: a folder, one file, or (the-well) a folder or one or more files.
enum class Input { folder, file, either };

struct Format {
  const char* name;
  const char* what;  // "a MeshGraphNets dataset folder"
  Input input;
  std::function<Source(const ImportArgs&, const std::filesystem::path&)> open;
};

// The options themselves, before any file is looked at.
const Format& find_format(const std::string& name);

void check_options(const ImportArgs& a) {
  const Format& format = find_format(a.format);
  if (format.input == Input::folder && !(a.train + a.valid + a.test).empty())
    SURRO_THROW(ErrorKind::usage,
                "--train/--valid/--test: only for single-file formats (fno-mat, pdebench, "
                "the-well files); "
                    << a.format << " has its own splits");
  if (!a.more_sources.empty() && format.input != Input::either)
    SURRO_THROW(ErrorKind::usage, a.more_sources.front()
                                      << ": --format " << a.format << " takes one source, got "
                                      << 1 + a.more_sources.size());
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

// One source path, canonical: a folder or a file as the format wants.
fs::path check_path(const std::string& path, const Format& format) {
  std::error_code ec;
  const char* kind = format.input == Input::folder ? "folder"
                     : format.input == Input::file ? "file"
                                                   : "folder or file";
  if (!fs::exists(path, ec))
    SURRO_THROW(ErrorKind::usage, path << ": no such " << kind << " (expected " << format.what << ")");
  const bool folder = fs::is_directory(path, ec), file = fs::is_regular_file(path, ec);
  if (format.input == Input::folder ? !folder : format.input == Input::file ? !file : !(folder || file))
    SURRO_THROW(ErrorKind::usage, path << ": not a " << kind << " (expected " << format.what << ")");
  return fs::canonical(path);
}

fs::path check_source(const ImportArgs& a, const Format& format) {
  const fs::path src = check_path(a.source, format);
  for (const auto& more : a.more_sources)
    if (fs::is_directory(check_path(more, format)) || fs::is_directory(src))
      SURRO_THROW(ErrorKind::usage, more << ": several sources must all be files (a dataset folder comes "
                                            "alone)");
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

// What defines the files of one split: the source (Source::defining[split]: paths, sizes, meta.json)
// and the options that decide which trajectories go to which file. Not the output folder, not --splits.
std::string split_fingerprint(const ImportArgs& a, const Source& source, const std::string& name,
                              const std::string& split) {
  const config::json defining = {{"format", a.format},     {"source", source.defining.at(split)},
                                 {"split", split},         {"name", name},
                                 {"per_file", a.per_file}, {"limit", a.limit}};
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
std::vector<ImportFile> plan_files(const ImportArgs& a, const Source& source, const fs::path& out,
                                   const std::string& name, std::map<std::string, long long>& counts) {
  std::vector<ImportFile> plan;
  for (const auto& split : a.splits) {
    const long long available = source.available.at(split);
    const long long n = a.limit > 0 ? std::min(available, a.limit) : available;
    counts[split] = n;
    if (n == 0)
      SURRO_LOG_WARN(a.source << ": split " << split << " has no trajectories: data/" << split
                              << "/ stays empty (surro validate reports it)");
    const std::string fp = split_fingerprint(a, source, name, split);
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
                           const std::string& name, const Source& source,
                           const std::map<std::string, long long>& counts) {
  const data::DatasetSpec& spec = source.spec;
  config::json source_paths = src.string();
  if (!a.more_sources.empty()) {
    source_paths = config::json::array({src.string()});
    for (const auto& m : a.more_sources) source_paths.push_back(fs::canonical(m).string());
  }
  config::json import = {{"source", source_paths},          {"format", a.format},     {"name", name},
                         {"splits", config::json::array()}, {"per_file", a.per_file}, {"limit", a.limit}};
  std::map<std::string, long long> all = earlier_splits(out, import);
  for (const auto& [split, n] : counts) all[split] = n;
  config::json trajectories = config::json::object();
  for (const char* split : {"train", "valid", "test"})
    if (all.count(split)) {
      import["splits"].push_back(split);
      trajectories[split] = all[split];
    }
  config::json components = config::json::object();
  for (const auto& f : spec.fields) components[f.name] = f.components;
  config::json dataset = {{"trajectories", trajectories},
                          {"field_components", components},
                          {"steps", spec.times.size()},
                          {"times", spec.times},
                          {"parameters", spec.parameters}};
  if (spec.parameters.count("dt")) dataset["dt"] = spec.parameters.at("dt");
  if (!source.not_in_source.empty()) dataset["not_in_source"] = source.not_in_source;
  config::json record = {
      {"import", import}, {"dataset", dataset}, {"surro", {{"version", kVersion}, {"git", kGitHash}}}};
  record.update(source.record);
  return record;
}

// One file: its trajectories read from the source, written, released.
void import_file(const Source& source, const ImportFile& f, data::DatasetSpec spec) {
  const data::Block block = source.read(f.split, f.first, f.count);
  spec.provenance["source_split"] = f.split;
  spec.provenance["config_fingerprint"] = f.fp;
  if (spec.on_mesh)
    data::write_mesh_file(f.path, spec, block);
  else
    data::write_well_file(f.path, spec, block);
}

// ---- formats -----------------------------------------------------------------------------------

Source open_meshgraphnets(const ImportArgs& a, const fs::path& src) {
  std::error_code ec;
  if (!fs::is_regular_file(src / "meta.json", ec))
    SURRO_THROW(ErrorKind::usage, (src / "meta.json").string()
                                      << ": missing (a MeshGraphNets dataset folder holds meta.json)");
  for (const auto& s : a.splits)
    if (!fs::is_regular_file(src / (s + ".tfrecord"), ec))
      SURRO_THROW(ErrorKind::usage, (src / (s + ".tfrecord")).string()
                                        << ": missing (split '" << s
                                        << "' requested; choose the splits with --splits)");
  Source out;
  out.spec = data::meshgraphnets_spec(src.string());  // meta.json checked
  const config::json meta = config::json::parse(read_text(src / "meta.json"));
  for (const auto& s : a.splits) {
    out.available[s] = data::count_meshgraphnets(src.string(), s);
    out.defining[s] = {{"folder", src.string()},
                       {"split_bytes", fs::file_size(src / (s + ".tfrecord"))},
                       {"meta_json", fingerprint(meta)}};
  }
  out.record = {{"source_meta_json", meta}};
  out.not_in_source = kNotInSource;
  out.read = [dir = src.string()](const std::string& split, long long first, long long count) {
    return data::read_meshgraphnets(dir, split, first, count).block;
  };
  return out;
}

// One --train/--valid/--test value: a count, or a fraction in (0, 1) of n (rounded down).
long long split_size(const std::string& opt, const std::string& value, long long n) {
  try {
    std::size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size() && v >= 0) {
      if (value.find_first_of(".eE") != std::string::npos) {
        if (v < 1) return static_cast<long long>(v * static_cast<double>(n));
      } else {
        return static_cast<long long>(v);
      }
    }
  } catch (const std::exception&) {
  }
  SURRO_THROW(
      ErrorKind::usage,
      opt << " " << value << ": expected a number of samples (e.g. 800) or a fraction below 1 (e.g. 0.8)");
}

// A grid source: samples [0, samples) that `read` returns in blocks, and what identifies its bytes.
struct Sequence {
  data::DatasetSpec spec;
  long long samples = 0;
  config::json defining;  // {"file", "bytes"} (one file) or {"files": [[path, bytes], ...]}
  std::function<data::Block(long long first, long long count)> read;
};

using Ranges = std::map<std::string, std::pair<long long, long long>>;  // split -> (offset, size)

// --train/--valid/--test over n samples: train is the first samples, test the last, valid just
// before test.
Ranges option_ranges(const ImportArgs& a, const fs::path& src, long long n) {
  const long long valid = a.valid.empty() ? n / 10 : split_size("--valid", a.valid, n);
  const long long test = a.test.empty() ? n / 10 : split_size("--test", a.test, n);
  const long long train =
      a.train.empty() ? std::max(0LL, n - valid - test) : split_size("--train", a.train, n);
  if (train + valid + test > n)
    SURRO_THROW(ErrorKind::usage, src.string() << (a.more_sources.empty() ? "" : " and the other files")
                                               << ": hold" << (a.more_sources.empty() ? "s " : " ") << n
                                               << " samples: --train " << train << " + --valid " << valid
                                               << " + --test " << test << " exceed them");
  return {{"train", {0, train}}, {"valid", {n - test - valid, valid}}, {"test", {n - test, test}}};
}

// Each split a consecutive range of the sequence; a trajectory's index in its split is its offset in
// the range (config.json's source_samples ranges map it back).
Source open_sequence(Sequence seq, const Ranges& ranges) {
  Source out;
  out.spec = seq.spec;
  config::json json_ranges = config::json::object();
  for (const char* s : {"train", "valid", "test"}) {
    const auto [offset, size] = ranges.at(s);
    out.available[s] = size;
    json_ranges[s] = {offset, offset + size};
    out.defining[s] = seq.defining;
    out.defining[s]["samples"] = {offset, size};
  }
  out.record = {{"source_samples",
                 {{"total", seq.samples},
                  {"ranges", json_ranges},
                  {"layout", seq.spec.provenance.at("source_layout")}}}};
  out.read = [read = std::move(seq.read), ranges](const std::string& split, long long first,
                                                  long long count) {
    data::Block b = read(ranges.at(split).first + first, count);
    b.first = first;
    return b;
  };
  return out;
}

// Single-file formats (fno-mat, pdebench): one file, split by --train/--valid/--test.
Source open_single_file(const ImportArgs& a, const fs::path& src, const data::ExternalFile& info,
                        data::Block (*reader)(const std::string&, const data::ExternalFile&, long long,
                                              long long)) {
  Sequence seq;
  seq.spec = info.spec;
  seq.samples = info.samples;
  seq.defining = {{"file", src.string()}, {"bytes", fs::file_size(src)}};
  seq.read = [file = src.string(), info, reader](long long first, long long count) {
    return reader(file, info, first, count);
  };
  return open_sequence(std::move(seq), option_ranges(a, src, info.samples));
}

// The *.hdf5 / *.h5 files of a split folder, sorted (as The Well's loader globs them).
std::vector<std::string> split_files(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string file = e.path().filename().string(), ext = e.path().extension().string();
    if (file[0] != '.' && (ext == ".hdf5" || ext == ".h5") && e.is_regular_file())
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The Well's dataset folder: <src>/data/<split>/ (as the_well downloads it) or <src>/<split>/.
std::map<std::string, std::vector<std::string>> well_folder(const ImportArgs& a, const fs::path& src) {
  if (!(a.train + a.valid + a.test).empty())
    SURRO_THROW(ErrorKind::usage, "--train/--valid/--test: " << src.string()
                                                             << " is a folder with its own splits; these "
                                                                "options cut files given one by one");
  const fs::path base = fs::is_directory(src / "data") ? src / "data" : src;
  std::map<std::string, std::vector<std::string>> by_split;
  for (const char* split : {"train", "valid", "test"})
    if (fs::is_directory(base / split)) by_split[split] = split_files(base / split);
  for (const auto& split : a.splits) {
    if (!by_split.count(split))
      SURRO_THROW(ErrorKind::usage, (base / split).string()
                                        << ": missing (split '" << split
                                        << "' requested; choose the splits with --splits, or give files)");
    if (by_split[split].empty())
      SURRO_THROW(ErrorKind::usage, (base / split).string()
                                        << ": no *.hdf5 or *.h5 files (split '" << split
                                        << "' requested; choose the splits with --splits)");
  }
  return by_split;
}

// The Well: a dataset folder (splits from its folders) or files (one sequence, cut by
// --train/--valid/--test). Every file of every split folder is inspected, so that separate runs for
// separate splits agree on the dataset's parameters.
Source open_the_well(const ImportArgs& a, const fs::path& src) {
  const bool folder = fs::is_directory(src);
  std::map<std::string, std::vector<std::string>> by_split;
  std::vector<std::string> files;
  if (folder) {
    by_split = well_folder(a, src);
    for (const char* split : {"train", "valid", "test"})
      if (by_split.count(split)) files.insert(files.end(), by_split[split].begin(), by_split[split].end());
  } else {
    files.push_back(src.string());
    for (const auto& m : a.more_sources) files.push_back(fs::canonical(m).string());
  }
  auto well = std::make_shared<const data::WellSource>(data::inspect_the_well(files));
  Sequence seq;
  seq.spec = well->spec;
  seq.samples = well->samples;
  seq.defining = {{"files", config::json::array()}};
  for (const auto& f : files) seq.defining["files"].push_back({f, fs::file_size(f)});
  seq.read = [well](long long first, long long count) { return data::read_the_well(*well, first, count); };
  Ranges ranges;
  if (folder) {
    long long offset = 0;
    std::size_t k = 0;  // files are in split order
    for (const char* split : {"train", "valid", "test"}) {
      long long n = 0;
      for (std::size_t j = 0; by_split.count(split) && j < by_split[split].size(); ++j)
        n += well->trajectories[k++];
      ranges[split] = {offset, n};
      offset += n;
    }
  } else {
    ranges = option_ranges(a, src, well->samples);
  }
  Source out = open_sequence(std::move(seq), ranges);
  out.default_name = well->spec.dataset_name;
  out.record["source_files"] = folder ? config::json(by_split) : config::json(files);
  const fs::path stats = src / "stats.yaml";
  out.record["source_stats_yaml"] =
      folder && fs::is_regular_file(stats) ? config::json(stats.string()) : config::json();
  config::json per_sample = config::json::array();
  for (const auto& kv : well->per_sample) per_sample.push_back(kv.first);
  out.record["sample_parameters"] = per_sample;
  return out;
}

const std::vector<Format>& formats() {
  static const std::vector<Format> table = {
      {"meshgraphnets", "a MeshGraphNets dataset folder: meta.json + <split>.tfrecord", Input::folder,
       open_meshgraphnets},
      {"fno-mat", "an FNO .mat file (MATLAB v7.3)", Input::file,
       [](const ImportArgs& a, const fs::path& src) {
         return open_single_file(a, src, data::inspect_fno_mat(src.string()), data::read_fno_mat);
       }},
      {"pdebench", "a PDEBench HDF5 file", Input::file,
       [](const ImportArgs& a, const fs::path& src) {
         return open_single_file(a, src, data::inspect_pdebench(src.string()), data::read_pdebench);
       }},
      {"the-well", "The Well's dataset folder (data/{train,valid,test}/*.hdf5) or its .hdf5 files",
       Input::either, open_the_well},
  };
  return table;
}

const Format& find_format(const std::string& name) {
  for (const auto& f : formats())
    if (name == f.name) return f;
  SURRO_THROW(ErrorKind::usage, "--format " << name << ": unknown format; valid formats: " << kValidFormats);
}

}  // namespace

void run_import(const ImportArgs& a) {
  check_options(a);
  const Format& format = find_format(a.format);
  const fs::path src = check_source(a, format);
  const fs::path out = check_output(a, src);
  Source source = format.open(a, src);
  std::string name = a.name;
  if (name.empty()) name = source.default_name;
  if (name.empty()) name = (fs::is_directory(src) ? src.filename() : src.stem()).string();
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    SURRO_THROW(ErrorKind::usage, src.string() << ": the source's name '" << name
                                               << "' cannot be a file stem: give one with --name");
  data::DatasetSpec& spec = source.spec;
  spec.dataset_name = name;
  spec.provenance["source"] = src.string();  // absolute, replacing the reader's description
  for (const auto& m : a.more_sources) spec.provenance["source"] += ", " + fs::canonical(m).string();
  spec.provenance["source_format"] = a.format;
  spec.provenance["surro_version"] = kVersion;
  spec.provenance["git"] = kGitHash;
  if (!source.not_in_source.empty()) spec.provenance["not_in_source"] = source.not_in_source;

  std::map<std::string, long long> counts;
  std::vector<ImportFile> plan = plan_files(a, source, out, name, counts);
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
                        import_record(a, out, src, name, source, counts).dump(2) + "\n");
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
    import_file(source, f, spec);
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
