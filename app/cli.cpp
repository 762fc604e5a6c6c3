#include "app/cli.hpp"

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/plan.hpp"
#include "app/progress.hpp"
#include "app/report.hpp"
#include "app/run_config.hpp"
#include "app/train_config.hpp"
#include "core/backend_info.hpp"
#include "core/build_info.hpp"
#include "core/comm.hpp"
#include "core/comm_device.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/profile.hpp"
#include "core/log.hpp"
#include "solvers/solver.hpp"

#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace surro::app {
namespace {

// Kokkos reads its own --kokkos-* flags; CLI11 sees the rest. Kokkos starts only for subcommands
// that compute, so `surro check` and `--version` never touch the GPU.
class KokkosSession {
 public:
  explicit KokkosSession(std::vector<std::string> args) : m_args(std::move(args)) {}
  void start() {
    if (m_guard) return;
    m_storage = m_args;
#ifdef KOKKOS_ENABLE_CUDA
    // One GPU per rank: the node-local rank picks it unless --kokkos-device-id says otherwise.
    bool has_device = false;
    for (const auto& a : m_args) has_device = has_device || a.rfind("--kokkos-device-id", 0) == 0;
    if (comm::size() > 1 && !has_device)
      m_storage.push_back("--kokkos-device-id=" + std::to_string(comm::local_rank()));
#endif
    m_storage.insert(m_storage.begin(), "surro");
    for (auto& s : m_storage) m_argv.push_back(s.data());
    int argc = static_cast<int>(m_argv.size());
    m_guard = std::make_unique<Kokkos::ScopeGuard>(argc, m_argv.data());
    // The backend of the sums over ranks, once: NCCL needs the device Kokkos just picked.
    comm::start_device(ExecSpace());
    share_cores();
    if (const char* env = std::getenv("SURRO_PROFILE"); env && std::string(env) == "1") profile::enable();
  }
  // Processes of one run on one node share its cores: OpenBLAS's threads are cut to a share
  // (gemm::share_host_blas_threads), and an OpenMP pool that would oversubscribe is named.
  static void share_cores() {
    const int local = comm::local_size();
    if (const int n = gemm::share_host_blas_threads(local); n > 0)
      SURRO_LOG_INFO(local << " processes of this run on this node: OpenBLAS uses " << n
                           << " thread(s) each (OPENBLAS_NUM_THREADS sets another count)");
#ifdef KOKKOS_ENABLE_OPENMP
    const long long pool = Kokkos::OpenMP().concurrency(), cores = std::thread::hardware_concurrency();
    if (local > 1 && cores > 0 && local * pool > cores)
      SURRO_LOG_WARN(local << " processes of this run on this node with " << pool
                           << " OpenMP threads each: " << local * pool << " threads on " << cores
                           << " hardware threads; set OMP_NUM_THREADS to at most "
                           << std::max(1LL, cores / local) << " (docs/hpc.md)");
#endif
  }

  // The profile (SURRO_PROFILE=1) goes to stderr before Kokkos finalizes.
  ~KokkosSession() {
    if (m_guard && profile::enabled()) std::fprintf(stderr, "%s", profile::report(40).c_str());
    if (m_guard) comm::stop_device();  // NCCL's buffers live on the device Kokkos is about to release
  }
  KokkosSession(const KokkosSession&) = delete;
  KokkosSession& operator=(const KokkosSession&) = delete;

 private:
  std::vector<std::string> m_args, m_storage;
  std::vector<char*> m_argv;
  std::unique_ptr<Kokkos::ScopeGuard> m_guard;
};

void print_info(bool as_json) {
  config::json info = backend_info();
  info["mpi"] = {{"built", comm::built()}, {"ranks", comm::size()}, {"local_processes", comm::local_size()}};
  info["gemm"]["host_blas_threads"] = gemm::host_blas_threads();
  // NCCL: the library's version and whether this run sums through it (comm_device.hpp).
  info["nccl"] = {
      {"built", comm::nccl_built()}, {"version", comm::nccl_version()}, {"sums", comm::device_backend()}};
  if (as_json) {
    std::cout << info.dump(2) << '\n';
    return;
  }
  const auto& k = info["kokkos"];
  const auto& d = info["device"];
  std::cout << "surro " << info["surro"]["version"].get<std::string>() << " (git "
            << info["surro"]["git"].get<std::string>() << ")\n"
            << "Kokkos          " << k["version"].get<std::string>() << "\n"
            << "execution space " << k["execution_space"].get<std::string>() << " (memory "
            << k["memory_space"].get<std::string>() << ")\n"
            << "host space      " << k["host_execution_space"].get<std::string>() << ", "
            << k["host_concurrency"].get<int>() << " thread(s)\n";
  if (info.contains("openmp")) {
    const auto& o = info["openmp"];
    std::cout << "OpenMP          " << o["threads"].get<int>()
              << " thread(s), OMP_PROC_BIND=" << o["OMP_PROC_BIND"].get<std::string>()
              << ", OMP_PLACES=" << o["OMP_PLACES"].get<std::string>() << "\n";
  }
  if (d["kind"] == "gpu" && d.contains("memory_total_gib")) {
    std::cout << "device          " << d["name"].get<std::string>() << " (sm "
              << d["compute_capability"].get<std::string>() << ", " << d["multiprocessors"].get<int>()
              << " SMs, " << d["memory_free_gib"].get<double>() << " / "
              << d["memory_total_gib"].get<double>() << " GiB free)\n";
  } else {
    std::cout << "device          " << (d["kind"] == "gpu" ? d["name"].get<std::string>() : "CPU, ")
              << (d.contains("hardware_threads")
                      ? std::to_string(d["hardware_threads"].get<unsigned>()) + " hardware thread(s)"
                      : "")
              << "\n";
  }
  std::cout << "MPI             "
            << (comm::built() ? std::to_string(comm::size()) + " rank(s)"
                              : std::string("not built (SURRO_MPI=OFF)"))
            << "\n";
  std::cout << "NCCL            "
            << (comm::nccl_built()
                    ? comm::nccl_version() + " (sums over ranks: " + comm::device_backend() + ")"
                    : std::string("not built (sums over ranks: host)"))
            << "\n";
  std::cout << "FFT             " << info["fft"]["device"].get<std::string>();
  if (info["fft"]["host"] != info["fft"]["device"])
    std::cout << " (host: " << info["fft"]["host"].get<std::string>() << ")";
  std::cout << "\nGEMM            " << info["gemm"]["device"].get<std::string>();
  if (info["gemm"]["host"] != info["gemm"]["device"])
    std::cout << " (host: " << info["gemm"]["host"].get<std::string>() << ")";
  // OpenBLAS's own threads (a Serial host space); 0: host GEMMs run on the OpenMP pool instead.
  if (const int t = info["gemm"]["host_blas_threads"].get<int>(); t > 0)
    std::cout << "\nhost GEMM       OpenBLAS, " << t << " thread(s)";
  std::cout << "\n";
}

// Integer flags become int counts and indices: the whole range is checked when parsing, so
// --steps 4294967297 or --steps -1 is a usage error (exit 2) instead of a wrapped or "all" value.
CLI::Range count_range(long long lo) {
  return CLI::Range(lo, static_cast<long long>(std::numeric_limits<int>::max()));
}

// Kokkos parses its own flags with std::stoi and throws a bare "stoi" for --kokkos-threads=abc;
// its integer flags are checked here first so that a typo is a usage error naming the flag.
std::string check_kokkos_args(const std::vector<std::string>& kokkos_args) {
  static const std::vector<std::string> integer_flags = {"--kokkos-threads",     "--kokkos-num-threads",
                                                         "--kokkos-numa",        "--kokkos-device-id",
                                                         "--kokkos-num-devices", "--kokkos-skip-device"};
  for (const auto& a : kokkos_args) {
    const auto eq = a.find('=');
    const std::string flag = a.substr(0, eq);
    if (std::find(integer_flags.begin(), integer_flags.end(), flag) == integer_flags.end()) continue;
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    // --kokkos-num-devices=N[,SKIP]: one or two integers.
    const std::string digits = flag == "--kokkos-num-devices" ? value.substr(0, value.find(',')) : value;
    const bool ok = !digits.empty() && digits.size() < 10 &&
                    std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) return a + ": expected " + flag + "=N with N a non-negative integer";
  }
  return "";
}

// The subcommand is the first argument that is not a global flag; naming it when it is unknown
// beats CLI11's "A subcommand is required".
std::string check_subcommand(const CLI::App& app, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // The value of the one global option that takes one (--log plain) is no subcommand.
    if (a == "--log") ++i;
    if (a.empty() || a[0] == '-') continue;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(a)) return "";
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    return "unknown subcommand '" + a + "'; valid subcommands: " + names;
  }
  return "";
}

}  // namespace

namespace {

// With several ranks an error on one would leave the others waiting in a collective: end them all.
int failed(int code) {
  comm::abort_all(code);
  return code;
}

// MPI (when built with it and started by a launcher) lives around Kokkos: started first, ended last.
struct CommSession {
  CommSession(int* argc, char*** argv) { comm::initialize(argc, argv); }
  ~CommSession() { comm::finalize(); }
  CommSession(const CommSession&) = delete;
  CommSession& operator=(const CommSession&) = delete;
};

int run_cli_body(int argc, char** argv);

}  // namespace

int run_cli(int argc, char** argv) {
  CommSession mpi(&argc, &argv);
  return run_cli_body(argc, argv);
}

namespace {

int run_cli_body(int argc, char** argv) {
  std::vector<std::string> kokkos_args, args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    (a.rfind("--kokkos-", 0) == 0 ? kokkos_args : args).push_back(a);
  }
  if (const std::string bad = check_kokkos_args(kokkos_args); !bad.empty()) {
    std::cerr << "surro: error: " << bad << "\nRun 'surro --help' for usage.\n";
    return kExitUsage;
  }
  KokkosSession kokkos(kokkos_args);

  CLI::App app{"surro: PDE surrogate simulator (classical solvers, neural operators, ParaView output)",
               "surro"};
  app.set_version_flag("--version", std::string("surro ") + kVersion + " (git " + kGitHash + ")");
  app.require_subcommand(1);
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Print warnings and errors only");
  app.add_flag("-v,--verbose", verbose, "Print debug messages and where in surro an error was raised");
  std::string log_style = "auto";
  app.add_option("--log", log_style,
                 "Progress style: auto (a bar on a terminal, plain lines otherwise) or plain (batch jobs)")
      ->check(CLI::IsMember({"auto", "plain"}))
      ->capture_default_str();
  app.footer(
      "Kokkos flags (--kokkos-...) are passed to Kokkos. Exit codes: 0 ok, 1 run failed, "
      "2 bad command line or config, 3 bad input data, 4 interrupted after a checkpoint.");

  auto* info = app.add_subcommand("info", "Show the build: Kokkos spaces, device, FFT and GEMM backends");
  bool info_json = false;
  info->add_flag("--json", info_json, "Print as JSON");

  // Every job takes a config file and --set overrides.
  auto add_job_options = [](CLI::App* cmd, JobArgs& a, const std::string& sections) {
    cmd->add_option("config", a.config, "Config file (JSON)" + sections)->required();
    cmd->add_option("--set", a.sets, "Override a config value: key.path=value (repeatable)")
        ->type_name("KEY=VALUE");
  };

  auto* check =
      app.add_subcommand("check", "Validate a config and print it fully resolved (defaults filled in)");
  JobArgs check_args;
  add_job_options(check, check_args, "");

  auto* simulate = app.add_subcommand("simulate",
                                      "Run one trajectory of a classical solver; write a ParaView "
                                      "time series (.pvd) and diagnostics CSV");
  JobArgs simulate_args;
  add_job_options(simulate, simulate_args, " with run, solver, simulate sections");

  auto* generate = app.add_subcommand("generate",
                                      "Generate a dataset (The Well's HDF5 layout) from a classical "
                                      "solver; resumable: rerun the same command to continue");
  JobArgs generate_args;
  add_job_options(generate, generate_args, " with run, solver, dataset sections");

  auto* train = app.add_subcommand("train",
                                   "Train a neural operator on a dataset; checkpoints every epoch; "
                                   "SIGTERM/SIGUSR1/SIGINT checkpoint and exit 4; --resume continues");
  JobArgs train_args;
  bool train_resume = false;
  add_job_options(train, train_args, " with run, data, model, optimizer, schedule, train sections");
  auto* resume_flag =
      train->add_flag("--resume", train_resume, "Continue the run in run.output_dir from checkpoint_last.h5");
  train
      ->add_flag("--auto-resume", train_args.auto_resume,
                 "Resume when run.output_dir holds checkpoint_last.h5, else start (requeued jobs)")
      ->excludes(resume_flag);
  train
      ->add_option("--log-every", train_args.log_every,
                   "A progress line (loss, samples/s, ETA) every N steps besides the per-epoch line")
      ->check(count_range(0))
      ->capture_default_str();
  bool train_dry_run = false;
  PlanArgs plan_args;
  train->add_flag("--dry-run", train_dry_run,
                  "Print the memory plan (as surro plan) and exit; writes nothing");

  auto* plan =
      app.add_subcommand("plan",
                         "Print the device memory a training config needs (parameters, gradients, "
                         "moments, activations, workspaces, batches) and the largest batch that fits");
  JobArgs plan_job;
  add_job_options(plan, plan_job, " with run, data, model, optimizer, schedule, train sections");
  for (CLI::App* cmd : {plan, train}) {
    cmd->add_option("--memory", plan_args.memory,
                    "Plan: memory to fit, e.g. 80GiB (default: free device memory, else host memory)");
    cmd->add_option("--ranks", plan_args.ranks, "Plan: ranks sharing the global batch")
        ->check(count_range(1))
        ->capture_default_str();
  }
  plan->add_flag("--json", plan_args.json, "Print as JSON");

  RolloutArgs roll_args, eval_args;
  auto add_rollout_options = [](CLI::App* cmd, RolloutArgs& r, bool output_required) {
    cmd->add_option("checkpoint", r.checkpoint, "Checkpoint written by surro train (.h5)")->required();
    cmd->add_option("--dataset", r.dataset, "Dataset folder (default: the one the model was trained on)");
    cmd->add_option("--split", r.split, "Split whose trajectories are rolled out")
        ->check(CLI::IsMember({"train", "valid", "test"}))
        ->capture_default_str();
    cmd->add_option("--samples", r.samples, "Number of trajectories (0 = all)")
        ->check(count_range(0))
        ->capture_default_str();
    cmd->add_option("--start", r.start, "First frame of the initial window")
        ->check(count_range(0))
        ->capture_default_str();
    cmd->add_option("--steps", r.steps, "Steps to roll out (0 = all reference frames)")
        ->check(count_range(0))
        ->capture_default_str();
    auto* o = cmd->add_option("-o,--output", r.output, "Output folder");
    if (output_required) o->required();
    cmd->add_option(
           "--initial", r.initial,
           "Trajectories from the dataset split, or simulated now by the solver (new initial conditions)")
        ->check(CLI::IsMember({"dataset", "solver"}))
        ->capture_default_str();
    cmd->add_option("--solver-config", r.solver_config,
                    "--initial solver: config with the solver section (default: the dataset's config.json)");
    cmd->add_option("--solver-set", r.solver_sets,
                    "--initial solver: override in that config, KEY=VALUE (repeatable)");
    cmd->add_option("--seed", r.seed, "--initial solver: seed of the simulated samples")
        ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()))
        ->capture_default_str();
  };
  auto* roll = app.add_subcommand("rollout",
                                  "Roll a trained model out on dataset trajectories; write prediction, "
                                  "reference and error (.pvd), trajectories (.hdf5) and metrics");
  add_rollout_options(roll, roll_args, true);
  roll->add_option("--vtk-sample", roll_args.vtk_sample, "Trajectory written for ParaView")
      ->check(count_range(0))
      ->capture_default_str();
  roll->add_option("--vtk-every", roll_args.vtk_every,
                   "Write every N-th step (and the last) for ParaView; the .pvd keeps their true times")
      ->check(count_range(1))
      ->capture_default_str();
  auto* eval = app.add_subcommand("eval",
                                  "Evaluate a trained model by rollout: relative L2 and RMSE per step and "
                                  "over the trajectory, energy-spectrum error; JSON/CSV with -o");
  add_rollout_options(eval, eval_args, false);
  eval_args.write_fields = false;

  auto* validate = app.add_subcommand("validate",
                                      "Check a dataset file or folder against the layout; list "
                                      "every violation with its HDF5 path");
  std::string validate_path;
  validate->add_option("path", validate_path, "An .hdf5 file or a dataset folder")->required();

  auto* export_cmd = app.add_subcommand("export",
                                        "Write a dataset split in another format (fno-mat: the "
                                        "HDF5-based .mat the original FNO scripts read; graph-physics: "
                                        "the HDF5 + <stem>_meta.json its H5Dataset reads, mesh datasets)");
  std::string export_dataset, export_split = "train", export_format, export_output;
  export_cmd->add_option("dataset", export_dataset, "Dataset folder (holding data/<split>/)")->required();
  export_cmd->add_option("--format", export_format, "Output format")
      ->required()
      ->check(CLI::IsMember({"fno-mat", "graph-physics"}));
  export_cmd->add_option("--split", export_split, "Split to export")
      ->check(CLI::IsMember({"train", "valid", "test"}))
      ->capture_default_str();
  export_cmd->add_option("-o,--output", export_output, "Output file (.mat; .h5 for graph-physics)")
      ->required();

  auto* import_cmd = app.add_subcommand("import",
                                        "Convert another program's dataset (meshgraphnets: DeepMind's "
                                        "TFRecord folder; fno-mat: FNO .mat file; pdebench: PDEBench "
                                        "HDF5 file; the-well: The Well's dataset folder or files) into a "
                                        "surro dataset; resumable");
  ImportArgs import_args;
  std::vector<std::string> import_sources;
  import_cmd
      ->add_option("source", import_sources,
                   "Source dataset: folder (meshgraphnets, the-well) or file (fno-mat, pdebench); the-well "
                   "also takes one or more .hdf5 files")
      ->required();
  import_cmd
      ->add_option("--format", import_args.format,
                   "Source format (meshgraphnets, fno-mat, pdebench, the-well)")
      ->required();
  import_cmd->add_option("-o,--output", import_args.output, "Output dataset folder")->required();
  import_cmd->add_option("--splits", import_args.splits, "Splits to import, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  import_cmd->add_option("--per-file", import_args.per_file, "Trajectories per HDF5 file")
      ->capture_default_str();
  import_cmd->add_option("--limit", import_args.limit, "At most N trajectories per split (0 = all)")
      ->capture_default_str();
  const std::string split_help =
      "Single-file formats: samples of this split, a count or a fraction (default: valid and test 10% "
      "each, train the rest)";
  import_cmd->add_option("--train", import_args.train, split_help);
  import_cmd->add_option("--valid", import_args.valid, split_help);
  import_cmd->add_option("--test", import_args.test, split_help);
  import_cmd->add_option(
      "--name", import_args.name,
      "Dataset name and file stem (default: the source folder or file name; the-well: its dataset_name)");

  auto* report_cmd =
      app.add_subcommand("report",
                         "Write DIR/report.html, one self-contained page: loss and learning-rate "
                         "curves, error against rollout step, spectra, profiles, snapshots, the ParaView "
                         "render DIR/compare.png when present, config "
                         "(train, rollout and eval -o write it themselves at the end)");
  ReportArgs report_args;
  report_cmd->add_option("dir", report_args.dir, "A training run folder or a rollout/eval output folder")
      ->required();
  report_cmd->add_option("--training", report_args.training,
                         "The training run's folder, for its curves and config (default: DIR itself, or the "
                         "folder of the checkpoint rollout.hdf5 names)");
  report_cmd
      ->add_option(
          "--paraview", report_args.paraview,
          "Render DIR/compare.png with DIR/compare.py first, by this pvpython (a path or a name on "
          "PATH; on an Xvfb of its own when DISPLAY is unset), and embed it; a failed render is an error "
          "naming the command, but report.html is still written")
      ->type_name("PVPYTHON");
  report_cmd
      ->add_option("--paraview-timeout", report_args.paraview_timeout,
                   "Seconds the --paraview render may take before it is stopped")
      ->check(CLI::PositiveNumber)
      ->default_val(300);

  if (const std::string bad = check_subcommand(app, args); !bad.empty()) {
    std::cerr << "surro: error: " << bad << "\nRun 'surro --help' for usage.\n";
    return kExitUsage;
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "surro: error: " << e.what() << "\nRun 'surro --help' for usage.\n";
    return kExitUsage;
  }
  if (quiet) log::force_level(log::Level::warn);
  if (verbose) log::force_level(log::Level::debug);
  Progress::set_plain(log_style == "plain");

  try {
    if (!comm::active() && comm::launcher_size() > 1 && !*info && !*check)
      SURRO_THROW(
          ErrorKind::usage,
          "started by an MPI launcher as one of "
              << comm::launcher_size() << " processes, but this surro "
              << "is built without MPI (SURRO_MPI=OFF): each process would run the whole job and write "
              << "the same files; configure with -DSURRO_MPI=ON (the release preset), or run one process");
    // Commands that write but do not split their work would repeat it in every rank, into the
    // same files.
    if (comm::size() > 1 && (*simulate || *roll || *eval || *export_cmd || *import_cmd))
      SURRO_THROW(ErrorKind::usage, "started as one of "
                                        << comm::size() << " processes (mpirun/srun): only "
                                        << "train and generate split their work over ranks; run "
                                        << "this command as one process");
    if (*info) {
      kokkos.start();
      print_info(info_json);
    } else if (*check) {
      const ResolvedConfig cfg = resolve_config(check_args.config, check_args.sets, [](config::Node& root) {
        read_job_sections(root, false);
        if (root.has("model") || root.has("data") || root.has("train")) read_training_sections(root);
      });
      std::cout << cfg.resolved.dump(2) << '\n';
    } else if (*simulate) {
      kokkos.start();
      run_simulate(simulate_args);
    } else if (*generate) {
      kokkos.start();
      return run_generate(generate_args);
    } else if (*plan) {
      kokkos.start();
      run_plan(plan_job, plan_args);
    } else if (*train) {
      kokkos.start();
      if (train_dry_run) {
        run_plan(train_args, plan_args);
        return kExitOk;
      }
      return run_train(train_args, train_resume);
    } else if (*roll) {
      kokkos.start();
      return run_rollout(roll_args);
    } else if (*eval) {
      kokkos.start();
      return run_rollout(eval_args);
    } else if (*validate) {
      if (run_validate(validate_path) > 0) return kExitInputData;
    } else if (*export_cmd) {
      run_export(export_dataset, export_split, export_format, export_output);
    } else if (*import_cmd) {
      import_args.source = import_sources.at(0);  // required: CLI11 has checked there is one
      import_args.more_sources.assign(import_sources.begin() + 1, import_sources.end());
      run_import(import_args);
    } else if (*report_cmd) {
      std::cout << write_report(report_args) << '\n';
    }
  } catch (const Error& e) {
    std::cerr << "surro: error: " << e.what() << '\n';
    if (verbose && !e.source_file().empty())
      std::cerr << "surro: raised at " << e.source_file() << ':' << e.source_line() << '\n';
    switch (e.kind()) {
      case ErrorKind::usage:
        return failed(kExitUsage);
      case ErrorKind::input:
        return failed(kExitInputData);
      case ErrorKind::runtime:
        return failed(kExitFailure);
    }
  } catch (const std::exception& e) {
    std::cerr << "surro: error: " << e.what() << '\n';
    return failed(kExitFailure);
  }
  return kExitOk;
}

}  // namespace

}  // namespace surro::app
