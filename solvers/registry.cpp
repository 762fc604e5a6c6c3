// The solver factory: one line per solver type.
#include "solvers/navier_stokes2d.hpp"
#include "solvers/solver.hpp"

namespace surro::solvers {
namespace {
const config::Registry<std::unique_ptr<Solver>>& registry() {
  static const auto r = [] {
    config::Registry<std::unique_ptr<Solver>> reg("solver");
    reg.add("navier_stokes_2d", [](config::Node& n) { return make_navier_stokes_2d(n); });
    return reg;
  }();
  return r;
}
}  // namespace

std::unique_ptr<Solver> make_solver(config::Node& section) { return registry().make(section); }
std::vector<std::string> solver_types() { return registry().types(); }

}  // namespace surro::solvers
