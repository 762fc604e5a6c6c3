#pragma once
// Shared machinery for the layer tests: random data, device round trips, and a central
// finite-difference gradient check of the loss L = <r, y> for a random r.
//
// Finite-difference tolerance. With step h_j = 1e-6 max(1, |v_j|), the central difference
// (L(v + h e_j) - L(v - h e_j)) / 2h differs from dL/dv_j by
//   truncation: h^2/6 |d^3L/dv_j^3|  (zero for the layers that are linear in each argument;
//               for GELU |gelu'''| <= 1, so at most h^2 sum|r| / 6), and
//   round-off:  the error of each evaluated L over h; L is a sum of n products of terms of size
//               |r_i| |y_i|, each y computed to c eps (|y| + max|y|) with c the depth of the
//               computation (an FFT's log2 N, a GEMM's K), so |dL| <= c eps S, S = sum|r| max|y| .
// We allow 64 eps S / h + h^2 sum|r|, i.e. c up to 64.
#include "core/types.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace surro::test::layers {

inline std::vector<double> random_vector(std::size_t n, unsigned seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& e : v) e = d(gen);
  return v;
}

template <class Exec, class Real>
View1<Real, typename Exec::memory_space> upload(const std::vector<double>& v, const char* label) {
  std::vector<Real> r(v.begin(), v.end());
  return to_device<Exec>(r, label);
}

template <class V>
std::vector<double> download(const V& v) {
  const auto h = to_host(v);
  return std::vector<double>(h.begin(), h.end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

inline double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double e : v) m = std::max(m, std::abs(e));
  return m;
}

// ||got - want||_2 / ||want||_2
inline double rel_l2(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

// vars: every input and parameter of the layer as double vectors (complex ones interleaved).
// forward(vars) -> y; grads: the analytic dL/dvars for L = <r, y> (same shapes as vars).
template <class Forward>
void gradcheck(std::vector<std::vector<double>> vars, Forward forward, const std::vector<double>& r,
               const std::vector<std::vector<double>>& grads, const std::vector<const char*>& names) {
  const std::vector<double> y = forward(vars);
  double sum_r = 0;
  for (double e : r) sum_r += std::abs(e);
  const double eps = std::numeric_limits<double>::epsilon();
  const double s = sum_r * max_abs(y);
  for (std::size_t a = 0; a < vars.size(); ++a) {
    REQUIRE(grads[a].size() == vars[a].size());
    for (std::size_t j = 0; j < vars[a].size(); ++j) {
      const double v0 = vars[a][j], h = 1e-6 * std::max(1.0, std::abs(v0));
      vars[a][j] = v0 + h;
      const double lp = dot(r, forward(vars));
      vars[a][j] = v0 - h;
      const double lm = dot(r, forward(vars));
      vars[a][j] = v0;
      const double fd = (lp - lm) / (2 * h);
      const double tol = 64 * eps * s / h + h * h * sum_r;
      INFO(names[a] << "[" << j << "]: analytic " << grads[a][j] << ", finite difference " << fd << ", tol "
                    << tol);
      REQUIRE(std::abs(grads[a][j] - fd) <= tol);
    }
  }
}

}  // namespace surro::test::layers
