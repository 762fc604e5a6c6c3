#include "app/cli.hpp"

#include "app/exit_codes.hpp"
#include "app/run_config.hpp"
#include "core/backend_info.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace surro::app {
namespace {

// Kokkos reads its own --kokkos-* flags; CLI11 sees the rest. Kokkos starts only for subcommands
// that compute, so `surro check` and `--version` never touch the GPU.
class KokkosSession {
 public:
  explicit KokkosSession(std::vector<std::string> args) : m_args(std::move(args)) {}
  ~KokkosSession() {
    if (m_guard) m_guard.reset();
  }
  void start() {
    if (m_guard) return;
    m_storage = m_args;
    m_storage.insert(m_storage.begin(), "surro");
    for (auto& s : m_storage) m_argv.push_back(s.data());
    int argc = static_cast<int>(m_argv.size());
    m_guard = std::make_unique<Kokkos::ScopeGuard>(argc, m_argv.data());
  }

 private:
  std::vector<std::string> m_args, m_storage;
  std::vector<char*> m_argv;
  std::unique_ptr<Kokkos::ScopeGuard> m_guard;
};

void print_info(bool as_json) {
  const config::json info = backend_info();
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
  if (d["kind"] == "gpu" && d.contains("memory_total_gib")) {
    std::cout << "device          " << d["name"].get<std::string>() << " (sm "
              << d["compute_capability"].get<std::string>() << ", " << d["multiprocessors"].get<int>()
              << " SMs, " << d["memory_free_gib"].get<double>() << " / "
              << d["memory_total_gib"].get<double>() << " GiB free)\n";
  } else {
    std::cout << "device          " << (d["kind"] == "gpu" ? d["name"].get<std::string>() : "CPU, ")
              << (d.contains("hardware_threads") ? std::to_string(d["hardware_threads"].get<unsigned>()) +
                                                       " hardware thread(s)"
                                                 : "")
              << "\n";
  }
  std::cout << "FFT             " << info["fft"]["device"].get<std::string>();
  if (info["fft"]["host"] != info["fft"]["device"])
    std::cout << " (host: " << info["fft"]["host"].get<std::string>() << ")";
  std::cout << "\nGEMM            " << info["gemm"]["device"].get<std::string>();
  if (info["gemm"]["host"] != info["gemm"]["device"])
    std::cout << " (host: " << info["gemm"]["host"].get<std::string>() << ")";
  std::cout << "\n";
}

log::Level parse_level(const std::string& s) {
  if (s == "error") return log::Level::error;
  if (s == "warn") return log::Level::warn;
  if (s == "debug") return log::Level::debug;
  return log::Level::info;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> kokkos_args, args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    (a.rfind("--kokkos-", 0) == 0 ? kokkos_args : args).push_back(a);
  }
  KokkosSession kokkos(kokkos_args);

  CLI::App app{"surro: PDE surrogate simulator (classical solvers, neural operators, ParaView output)",
               "surro"};
  app.set_version_flag("--version", std::string("surro ") + kVersion + " (git " + kGitHash + ")");
  app.require_subcommand(1);
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Print warnings and errors only");
  app.add_flag("-v,--verbose", verbose, "Print debug messages and where in surro an error was raised");
  app.footer("Kokkos flags (--kokkos-...) are passed to Kokkos. Exit codes: 0 ok, 1 run failed, "
             "2 bad command line or config, 3 bad input data.");

  auto* info = app.add_subcommand("info", "Show the build: Kokkos spaces, device, FFT and GEMM backends");
  bool info_json = false;
  info->add_flag("--json", info_json, "Print as JSON");

  auto* check = app.add_subcommand("check", "Validate a config and print it fully resolved (defaults filled in)");
  std::string check_path;
  std::vector<std::string> check_sets;
  check->add_option("config", check_path, "Config file (JSON)")->required();
  check->add_option("--set", check_sets, "Override a config value: key.path=value (repeatable)")
      ->type_name("KEY=VALUE");

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
  log::set_level(quiet ? log::Level::warn : verbose ? log::Level::debug : log::Level::info);

  try {
    if (*info) {
      kokkos.start();
      print_info(info_json);
    } else if (*check) {
      const ResolvedConfig cfg = resolve_config(check_path, check_sets);
      if (!quiet && !verbose) log::set_level(parse_level(cfg.run.log_level));
      std::cout << cfg.resolved.dump(2) << '\n';
    }
  } catch (const Error& e) {
    std::cerr << "surro: error: " << e.what() << '\n';
    if (verbose && !e.source_file().empty())
      std::cerr << "surro: raised at " << e.source_file() << ':' << e.source_line() << '\n';
    switch (e.kind()) {
      case ErrorKind::usage: return kExitUsage;
      case ErrorKind::input: return kExitInputData;
      case ErrorKind::runtime: return kExitFailure;
    }
  } catch (const std::exception& e) {
    std::cerr << "surro: error: " << e.what() << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace surro::app
