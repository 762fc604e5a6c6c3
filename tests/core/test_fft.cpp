// FFT dispatch: agreement with a naive DFT, round trips, normalization modes, shape checks.
//
// Tolerances: the FFT's relative L2 error grows like eps * log2(N) (Gentleman & Sande 1966;
// Higham, "Accuracy and Stability of Numerical Algorithms", sec. 24.1, bound
// ||y - y_hat|| / ||y|| <= log2(N) * eta / (1 - log2(N) * eta) with eta ~ mu + gamma_4 (sqrt 2 + mu)
// for twiddle error mu ~ eps): we allow 8 * eps * max(1, log2 N), a few times the bound's
// leading term, for non-power-of-two sizes too (FFTW/cuFFT use mixed radix and Bluestein).
#include "core/fft.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <random>

using namespace surro;
using surro::test::epsilon;

namespace {

using cd = std::complex<double>;

// Naive DFT of each of `batch` real signals over the last shape.size() axes, half spectrum.
std::vector<cd> naive_rfft(const std::vector<double>& x, const std::vector<int>& shape, int batch) {
  int n[3] = {1, 1, 1};
  const int off = 3 - static_cast<int>(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) n[off + i] = shape[i];
  const int h = n[2] / 2 + 1;
  const long nr = long(n[0]) * n[1] * n[2], nc = long(n[0]) * n[1] * h;
  std::vector<cd> out(batch * nc);
  const double two_pi = 2.0 * M_PI;
  for (int b = 0; b < batch; ++b)
    for (int k0 = 0; k0 < n[0]; ++k0)
      for (int k1 = 0; k1 < n[1]; ++k1)
        for (int k2 = 0; k2 < h; ++k2) {
          cd sum = 0;
          for (int j0 = 0; j0 < n[0]; ++j0)
            for (int j1 = 0; j1 < n[1]; ++j1)
              for (int j2 = 0; j2 < n[2]; ++j2) {
                const double phase =
                    -two_pi * (double(k0) * j0 / n[0] + double(k1) * j1 / n[1] + double(k2) * j2 / n[2]);
                sum += x[b * nr + (long(j0) * n[1] + j1) * n[2] + j2] * cd(std::cos(phase), std::sin(phase));
              }
          out[b * nc + (long(k0) * n[1] + k1) * h + k2] = sum;
        }
  return out;
}

template <class A, class B>
double mixed_rel_l2(const std::vector<A>& got, const std::vector<B>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    num += std::norm(cd(want[i]) - cd(got[i]));
    den += std::norm(cd(want[i]));
  }
  return std::sqrt(num / den);
}

template <class Real>
std::vector<Real> random_signal(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<Real> x(n);
  for (auto& v : x) v = static_cast<Real>(dist(gen));
  return x;
}

std::vector<int> shape_case(int i) {
  static const std::vector<std::vector<int>> shapes = {{1},       {8},       {15},     {64},
                                                       {97},  // 1D: trivial, even, odd, power of 2, prime
                                                       {6, 8},    {5, 7},    {9, 4},   {16, 16},  // 2D
                                                       {4, 6, 8}, {3, 5, 7}, {2, 9, 6}};          // 3D
  return shapes[i];
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("fft: r2c agrees with a naive DFT; round trip restores the input", "[fft]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  using Mem = typename Exec::memory_space;
  const std::vector<int> shape = shape_case(GENERATE(range(0, 12)));
  const int batch = 3;
  CAPTURE(shape, batch);

  Exec exec;
  fft::RealFftPlan<Real, Exec> plan(exec, shape, batch, fft::Norm::backward, "test::fft");
  const long nr = plan.real_size(), nc = plan.complex_size();
  const double n_log = std::max(1.0, std::log2(double(nr)));
  const double tol = 8 * epsilon<Real>() * n_log;

  // Two inputs through the same plan: plans are reusable.
  for (unsigned seed : {1u, 2u}) {
    const std::vector<Real> x_host = random_signal<Real>(batch * nr, seed + 10 * unsigned(nr));
    auto x = test::to_device<Exec>(x_host, "x");
    View1<Complex<Real>, Mem> x_hat("x_hat", batch * nc);
    View1<Real, Mem> y("y", batch * nr);
    plan.forward_raw(exec, x.data(), x_hat.data());
    exec.fence();

    std::vector<double> xd(x_host.begin(), x_host.end());
    const std::vector<cd> want = naive_rfft(xd, shape, batch);
    std::vector<cd> got;
    for (auto v : test::to_host(x_hat)) got.emplace_back(v.real(), v.imag());
    CHECK(mixed_rel_l2(got, want) <= tol);

    plan.inverse_raw(exec, x_hat.data(), y.data());
    exec.fence();
    CHECK(mixed_rel_l2(test::to_host(y), x_host) <= 2 * tol);
  }
}

TEMPLATE_LIST_TEST_CASE("fft: normalization modes scale as documented", "[fft]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  using Mem = typename Exec::memory_space;
  const std::vector<int> shape = {6, 10};
  const int batch = 2;
  const double n = 60.0;
  const double tol = 8 * epsilon<Real>() * std::log2(n);
  Exec exec;

  const std::vector<Real> x_host = random_signal<Real>(batch * 60, 7);
  std::vector<double> xd(x_host.begin(), x_host.end());
  const std::vector<cd> dft = naive_rfft(xd, shape, batch);

  struct Mode {
    fft::Norm norm;
    double forward_scale, round_trip_scale;
  };
  for (const Mode m : {Mode{fft::Norm::backward, 1.0, 1.0}, Mode{fft::Norm::forward, 1.0 / n, 1.0},
                       Mode{fft::Norm::ortho, 1.0 / std::sqrt(n), 1.0}, Mode{fft::Norm::none, 1.0, n}}) {
    CAPTURE(int(m.norm));
    fft::RealFftPlan<Real, Exec> plan(exec, shape, batch, m.norm);
    auto x = test::to_device<Exec>(x_host, "x");
    View3<Complex<Real>, Mem> x_hat("x_hat", batch, 6, 6);  // (B, N0, N1/2+1)
    View3<Real, Mem> y("y", batch, 6, 10);                  // (B, N0, N1)
    Kokkos::View<Real***, Kokkos::LayoutRight, Mem, Kokkos::MemoryUnmanaged> x3(x.data(), batch, 6, 10);
    plan.forward(exec, x3, x_hat);
    exec.fence();
    std::vector<cd> got, want;
    for (auto v : test::to_host(x_hat)) got.emplace_back(v.real(), v.imag());
    for (auto v : dft) want.push_back(v * m.forward_scale);
    CHECK(mixed_rel_l2(got, want) <= tol);

    plan.inverse(exec, x_hat, y);
    exec.fence();
    std::vector<double> want_y;
    for (auto v : x_host) want_y.push_back(double(v) * m.round_trip_scale);
    CHECK(mixed_rel_l2(test::to_host(y), want_y) <= 2 * tol);
  }
}

TEST_CASE("fft: plans reject bad shapes and mismatched views", "[fft]") {
  HostExec exec;
  using Plan = fft::RealFftPlan<double, HostExec>;
  CHECK_THROWS_WITH(Plan(exec, {}, 1, fft::Norm::backward), Catch::Contains("expected 1, 2 or 3"));
  CHECK_THROWS_WITH(Plan(exec, {4, 0}, 1, fft::Norm::backward),
                    Catch::Contains("shape[1] = 0: expected a positive extent"));
  CHECK_THROWS_WITH(Plan(exec, {8}, 0, fft::Norm::backward), Catch::Contains("batch = 0"));

  Plan plan(exec, {4, 8}, 2, fft::Norm::backward, "test::plan");
  View3<double, HostMem> x("x", 2, 4, 8);
  View3<Complex<double>, HostMem> wrong_hat("x_hat", 2, 4, 8);  // should be (2, 4, 5)
  CHECK_THROWS_WITH(plan.forward(exec, x, wrong_hat), Catch::Contains("x_hat.extent(2) = 8: expected 5"));
  View3<double, HostMem> wrong_batch("x", 3, 4, 8);
  View3<Complex<double>, HostMem> x_hat("x_hat", 2, 4, 5);
  CHECK_THROWS_WITH(plan.forward(exec, wrong_batch, x_hat), Catch::Contains("expected 64 (batch 2 x 32)"));
}
