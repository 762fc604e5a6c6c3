// libFuzzer target: a config file. The bytes are read as JSON by config::load_file, then the
// "solver" section is resolved by make_solver (which validates every key, without Kokkos) and
// checked for unknown keys, as `surro check` does.
#include "core/config.hpp"
#include "core/error.hpp"
#include "fuzz/fuzz_common.hpp"
#include "solvers/solver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = surro::fuzz::write_scratch("config.json", data, size);
  try {
    const surro::config::json root = surro::config::load_file(path);
    surro::config::json resolved;
    surro::config::Node top(root, path, "", &resolved);
    surro::config::Node solver = top.child("solver");
    const auto s = surro::solvers::make_solver(solver);
    solver.finish();
    (void)s->spec();
  } catch (const surro::Error&) {
  }
  return 0;
}
