// The "solver" section's types. Adding a solver: include its header and add one line below.
#include "solvers/burgers1d.hpp"
#include "solvers/burgers3d.hpp"
#include "solvers/cylinder_flow.hpp"
#include "solvers/darcy2d.hpp"
#include "solvers/navier_stokes2d.hpp"
#include "solvers/solver.hpp"

namespace surro::solvers {
namespace {

const config::Registry<std::unique_ptr<Solver>>& registry() {
  static const config::Registry<std::unique_ptr<Solver>> r = [] {
    config::Registry<std::unique_ptr<Solver>> out("solver");
    out.add("burgers_1d", make_burgers_1d);
    out.add("burgers_3d", [](config::Node& n) { return make_burgers_3d(n); });
    out.add("cylinder_flow", [](config::Node& n) { return make_cylinder_flow(n); });
    out.add("darcy_2d", make_darcy_2d);
    out.add("navier_stokes_2d", [](config::Node& n) { return make_navier_stokes_2d(n); });
    return out;
  }();
  return r;
}

}  // namespace

std::unique_ptr<Solver> make_solver(config::Node& section) {
  return registry().make(section);
}
std::vector<std::string> solver_types() {
  return registry().types();
}

}  // namespace surro::solvers
