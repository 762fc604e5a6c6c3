#pragma once
// Mathematical constants shared by solvers, schedules, plots and tests (one definition: sources
// compile together in unity units, where file-local copies would clash).

namespace surro {

inline constexpr double kPi = 3.141592653589793238462643383279502884;

}  // namespace surro
