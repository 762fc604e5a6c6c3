// surro generate: trajectories from a classical solver, stored as a dataset in The Well's layout
// (grid solvers) or surro's mesh-trajectory layout (mesh solvers; docs/datasets.md):
//
//   <output_dir>/data/{train,valid,test}/<name>_<k>.hdf5   per_file trajectories each
//   <output_dir>/stats.yaml                                 normalization statistics (train split)
//   <output_dir>/config.json                                the resolved config
//
// Sample i (counted over train, then valid, then test) depends only on (seed, i), so the splits
// never overlap and a file's content does not depend on batch size or on resumption. Files are
// written atomically; a restarted generation skips every file that exists and carries the same
// config fingerprint, and refuses to mix data from a different config.
//
// SIGTERM/SIGUSR1/SIGINT: the file in progress is finished, then the run stops with exit 4
// (kExitInterrupted); the rerun resumes it. Under a launcher (`mpirun -n N`/`srun`, built with
// SURRO_MPI; core/comm.hpp) rank r writes the files still missing whose place in that list is
// r mod N, in rounds of one file per rank; after each round the stop flag is reduced over ranks, so
// a signal to any rank stops all after that round. Rank 0 alone creates the folders, removes stale
// temporaries and writes config.json (before a barrier) and stats.yaml (after a barrier, once every
// train file exists). A file's content depends only on (config, its sample range), so the dataset
// is the same whatever N.
#include "app/commands.hpp"
#include "app/progress.hpp"
#include "app/resources.hpp"
#include "app/run_config.hpp"
#include "app/exit_codes.hpp"
#include "app/stop_signal.hpp"
#include "core/build_info.hpp"
#include "core/comm.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "core/types.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/well.hpp"
#include "solvers/solver.hpp"

#include "datasets/hdf5.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace surro::app {
namespace fs = std::filesystem;

namespace {

struct FilePlan {
  std::string split, path;
  long long first = 0, count = 0;  // global sample range
};

// The fingerprint stored in a file, or "" when the file has none or cannot be read.
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

// A rerun into a folder that already holds a dataset resumes it, and must define the same data:
// the previous run's config.json is compared with `defining` (solver, seed, split sizes, per_file),
// and any difference is refused before anything is written, naming the keys. (Files of the old
// layout would otherwise be skipped as "already written" and stats.yaml refitted on a mix.)
void refuse_changed_resume(const std::string& dir, const config::json& defining) {
  const fs::path previous = fs::path(dir) / "config.json";
  if (!fs::exists(previous)) return;
  config::json old;
  try {
    old = config::load_file(previous.string());
  } catch (const Error&) {
    return;  // unreadable: the per-file fingerprints still guard the data
  }
  const config::json run = old.value("run", config::json::object());
  const config::json ds = old.value("dataset", config::json::object());
  config::json was = {{"solver", old.value("solver", config::json::object())},
                      {"seed", run.value("seed", config::json())},
                      {"dataset", config::json::object()}};
  for (const char* key : {"train", "valid", "test", "per_file"})
    was["dataset"][key] = ds.value(key, config::json());
  std::vector<std::string> changed = differing_keys(was, defining);
  for (auto& k : changed)
    if (k == "seed") k = "run.seed";
  refuse_changed_keys(
      previous.string() + ": was generated from a different configuration", changed,
      "a resume must define the same data (use another run.output_dir, or remove the folder)");
}

// Appends a solver batch to the file's block: fields, and on meshes the samples' meshes and
// per-sample parameters, all in sample order.
void append_block(data::Block& block, data::Block&& part) {
  for (auto& [name, values] : part.fields) {
    auto& dst = block.fields[name];
    dst.insert(dst.end(), values.begin(), values.end());
  }
  for (auto& m : part.meshes) block.meshes.push_back(std::move(m));
  for (auto& [name, values] : part.sample_parameters) {
    auto& dst = block.sample_parameters[name];
    dst.insert(dst.end(), values.begin(), values.end());
  }
}

// Class 8 of issue #12: sizes that cannot fit are refused before the first output, naming the key.
// Lower bounds: a grid solver holds at least one double field on its internal grid per sample of a
// batch (solver.grid^dims); a file's block of recorded fields (float) is held in memory until the
// file is written; the dataset is written to disk in full (compressed).
void require_generate_resources(const ResolvedConfig& cfg, const solvers::Solver& solver,
                                const DatasetSection& ds) {
  const data::DatasetSpec& spec = solver.spec();
  // A file (and a solver batch) never holds more trajectories than the largest split.
  const long long largest = std::max({ds.train, ds.valid, ds.test});
  const long long batch = std::min(ds.batch, largest), per_file = std::min(ds.per_file, largest);
  const config::json& sc = cfg.resolved["solver"];
  if (!spec.on_mesh && sc.contains("grid") && sc["grid"].is_number_integer()) {
    const long long grid = sc["grid"].get<long long>();
    const double field = std::pow(double(grid), double(spec.dims.size())) * sizeof(double);
    require_memory("solver.grid = " + std::to_string(grid),
                   "one double field on the solver's grid for each of " + std::to_string(batch) +
                       " samples at once (dataset.batch)",
                   field * double(batch), true, "lower solver.grid or dataset.batch");
  }
  if (spec.on_mesh) return;  // a mesh sample's size is known only once its mesh is made
  double sample = 0;         // bytes of one recorded trajectory
  for (const auto& f : spec.fields) sample += double(spec.sample_size(f)) * f.components * sizeof(float);
  require_memory("dataset.per_file = " + std::to_string(ds.per_file),
                 "a file's recorded fields (" + format_bytes(sample) + " per trajectory)",
                 sample * double(per_file), false, "lower dataset.per_file (or the solver's recorded grid)");
  // Fields are stored deflate-compressed, and deflate shrinks data at most about 1032-fold: the
  // dataset certainly needs raw / 1032 bytes. (A resume, whose files are partly there, is not checked.)
  if (fs::exists(fs::path(cfg.run.output_dir) / "config.json")) return;
  const double trajectories = double(ds.train + ds.valid + ds.test);
  require_disk(
      "dataset.train + valid + test = " + std::to_string(static_cast<long long>(trajectories)),
      "the dataset (" + format_bytes(sample) + " per trajectory before compression, at most 1032-fold)",
      sample * trajectories / 1032.0, cfg.run.output_dir,
      "generate fewer trajectories or choose another run.output_dir");
}

// Simulates file f's trajectories, batch by batch, and writes the file (atomically).
void write_file(const ResolvedConfig& cfg, solvers::Solver* solver, const data::DatasetSpec& spec,
                const DatasetSection& ds, const FilePlan& f, Progress& progress, PhaseTimers& timers) {
  data::Block block;
  block.first = f.first;
  block.count = f.count;
  for (long long b0 = 0; b0 < f.count; b0 += ds.batch) {
    const long long n = std::min(ds.batch, f.count - b0);
    Kokkos::Timer t;
    data::Block part = solver->run(cfg.run.seed, f.first + b0, n, nullptr);
    timers.add("simulate", t.seconds());
    append_block(block, std::move(part));
    progress.advance(n);
  }
  Kokkos::Timer t;
  if (spec.on_mesh)
    data::write_mesh_file(f.path, spec, block);
  else
    data::write_well_file(f.path, spec, block);
  timers.add("write", t.seconds());
}

}  // namespace

int run_generate(const JobArgs& args) {
  JobSections job;
  const ResolvedConfig cfg = resolve_config(args.config, args.sets,
                                            [&](config::Node& root) { job = read_job_sections(root, true); });
  solvers::Solver* solver = job.solver.get();
  const DatasetSection ds = job.dataset;
  check_output_dir("run.output_dir", cfg.run.output_dir);
  SURRO_LOG_INFO("resolved config (" << cfg.file << "):\n" << cfg.resolved.dump(2));

  // What defines the data: the solver section, the seed and the split sizes and file layout
  // (they decide which samples each file holds). Not the output folder, the log level or the batch
  // size, which change no bit of the data.
  config::json defining = {
      {"solver", cfg.resolved["solver"]},
      {"seed", cfg.run.seed},
      {"dataset", {{"train", ds.train}, {"valid", ds.valid}, {"test", ds.test}, {"per_file", ds.per_file}}}};
  refuse_changed_resume(cfg.run.output_dir, defining);
  require_generate_resources(cfg, *solver, ds);
  const std::string fp = fingerprint(defining);

  data::DatasetSpec spec = solver->spec();
  spec.dataset_name = cfg.run.name;
  spec.provenance["surro_version"] = kVersion;
  spec.provenance["git"] = kGitHash;
  spec.provenance["backend"] = ExecSpace::name();
  spec.provenance["seed"] = std::to_string(cfg.run.seed);
  spec.provenance["solver_config"] = cfg.resolved["solver"].dump();
  spec.provenance["config_fingerprint"] = fp;

  // File plan: global sample ranges per split.
  const bool writer = comm::rank() == 0;
  std::vector<FilePlan> plan;
  long long next = 0;
  for (const auto& [split, n] :
       {std::pair<std::string, long long>{"train", ds.train}, {"valid", ds.valid}, {"test", ds.test}}) {
    const fs::path dir = fs::path(cfg.run.output_dir) / "data" / split;
    if (writer) {
      fs::create_directories(dir);
      io::remove_stale_temporaries(dir.string());  // a killed run's half-written files
    }
    for (long long k = 0, done = 0; done < n; ++k) {
      const long long count = std::min(ds.per_file, n - done);
      char name[64];
      std::snprintf(name, sizeof(name), "_%04lld.hdf5", k);
      plan.push_back({split, (dir / (cfg.run.name + name)).string(), next + done, count});
      done += count;
    }
    next += n;
  }

  // Resume: files already there must come from this config.
  long long total = 0, already = 0;
  std::vector<bool> skip(plan.size(), false);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    total += plan[i].count;
    if (!fs::exists(plan[i].path)) continue;
    const std::string stored = stored_fingerprint(plan[i].path);
    if (stored != fp)
      SURRO_THROW(ErrorKind::usage, plan[i].path
                                        << ": was generated from a different configuration (fingerprint "
                                        << (stored.empty() ? "none" : stored) << ", this config " << fp
                                        << "); use another run.output_dir or remove the folder");
    skip[i] = true;
    already += plan[i].count;
  }
  if (already > 0)
    SURRO_LOG_INFO("resuming: " << already << " of " << total << " trajectories already written");
  SURRO_LOG_INFO("generating " << total << " trajectories of " << spec.dataset_name << " into "
                               << cfg.run.output_dir << " on " << ExecSpace::name());

  const std::string cfg_path = writer ? save_resolved_config(cfg) : std::string();
  // Every rank has checked the files already there before any rank writes one (and rank 0 has
  // removed the stale temporaries).
  comm::barrier();
  std::vector<std::size_t> missing;  // plan indices of the files to write, in plan order
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (!skip[i]) missing.push_back(i);
  const std::size_t ranks = std::size_t(comm::size()), rank = std::size_t(comm::rank());
  long long mine = 0;  // this rank's trajectories
  for (std::size_t j = rank; j < missing.size(); j += ranks) mine += plan[missing[j]].count;
  // One process counts the whole dataset, as before; a rank counts its own files.
  Progress progress("generate " + spec.dataset_name, ranks == 1 ? total : mine, ranks == 1 ? already : 0);
  PhaseTimers timers;
  install_stop_handlers();
  int stop = 0;  // the signal any rank received (max over ranks)
  for (std::size_t round = 0; round * ranks < missing.size() && !stop; ++round) {
    const std::size_t j = round * ranks + rank;
    if (j < missing.size()) write_file(cfg, solver, spec, ds, plan[missing[j]], progress, timers);
    stop = comm::max(stop_signal());
  }
  progress.finish();
  if (stop) {
    SURRO_LOG_WARN("stopped by signal " << stop << " after the file in progress; the files written are "
                                        << "complete; rerun the same command to resume");
    return kExitInterrupted;
  }
  comm::barrier();  // every file exists
  if (!writer) return kExitOk;

  std::vector<std::string> train_files;
  for (const auto& f : plan)
    if (f.split == "train") train_files.push_back(f.path);
  const std::string stats = (fs::path(cfg.run.output_dir) / "stats.yaml").string();
  data::write_stats_yaml(stats, train_files);
  SURRO_LOG_INFO("wrote " << plan.size() << " files, " << stats << ", " << cfg_path);
  SURRO_LOG_INFO("timing: " << timers.summary());
  return kExitOk;
}

}  // namespace surro::app
