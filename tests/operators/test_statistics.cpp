// Long-rollout profile statistics against naive double loops, in 1D, 2D and 3D.
#include "operators/statistics.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace surro;

namespace {

// Naive profiles of frames (steps, K, C, N...) on a row-major grid.
op::AxisProfiles naive(const std::vector<std::vector<float>>& steps, int K, int C,
                       const std::vector<int>& grid) {
  op::AxisProfiles p;
  p.channels = C;
  p.grid = grid;
  p.steps = static_cast<long long>(steps.size());
  long long N = 1;
  for (int e : grid) N *= e;
  for (std::size_t a = 0; a < grid.size(); ++a) {
    const int n = grid[a];
    long long inner = 1;
    for (std::size_t b = a + 1; b < grid.size(); ++b) inner *= grid[b];
    std::vector<std::vector<double>> s1(C, std::vector<double>(n)), s2 = s1;
    std::vector<std::vector<double>> sx(C * C, std::vector<double>(n));
    std::vector<double> count(n);
    for (const auto& f : steps)
      for (int b = 0; b < K; ++b)
        for (long long q = 0; q < N; ++q) {
          const int i = static_cast<int>((q / inner) % n);
          count[i] += 1;
          for (int c = 0; c < C; ++c) {
            const double u = f[(std::size_t(b) * C + c) * N + q];
            s1[c][i] += u;
            s2[c][i] += u * u;
            for (int d = 0; d < C; ++d) sx[c * C + d][i] += u * f[(std::size_t(b) * C + d) * N + q];
          }
        }
    std::vector<std::vector<double>> mean = s1, rms = s1, cross;
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < n; ++i) {
        mean[c][i] = s1[c][i] / count[i];
        rms[c][i] = std::sqrt(s2[c][i] / count[i] - mean[c][i] * mean[c][i]);
      }
    for (int c = 0; c < C; ++c)
      for (int d = c + 1; d < C; ++d) {
        std::vector<double> v(n);
        for (int i = 0; i < n; ++i) v[i] = sx[c * C + d][i] / count[i] - mean[c][i] * mean[d][i];
        cross.push_back(v);
      }
    p.mean.push_back(mean);
    p.rms.push_back(rms);
    p.cross.push_back(cross);
  }
  return p;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("statistics: per-axis mean, RMS and cross profiles match a naive loop",
                        "[statistics]", surro::test::ExecSpaces) {
  using Exec = TestType;
  const int K = 2, C = 3;
  for (const std::vector<int>& grid :
       {std::vector<int>{7}, std::vector<int>{5, 6}, std::vector<int>{4, 3, 5}}) {
    long long N = 1;
    for (int e : grid) N *= e;
    // Fields with axis-dependent means and correlated channels, so every profile is non-trivial.
    std::mt19937 gen(11);
    std::normal_distribution<double> d;
    std::vector<std::vector<float>> steps(3, std::vector<float>(std::size_t(K) * C * N));
    for (auto& f : steps)
      for (int b = 0; b < K; ++b)
        for (long long q = 0; q < N; ++q) {
          const double z = d(gen);
          for (int c = 0; c < C; ++c)
            f[(std::size_t(b) * C + c) * N + q] =
                static_cast<float>(0.1 * (c + 1) * (q % 7) + z * (c + 1) + 0.5 * d(gen));
        }
    op::ProfileStats<Exec> stats(K, C, grid);
    for (const auto& f : steps) {
      const auto v = test::to_device<Exec>(f, "frames");
      stats.add(Exec(), v.data());
    }
    const op::AxisProfiles got = stats.profiles(Exec()), want = naive(steps, K, C, grid);
    REQUIRE(got.steps == 3);
    // Sums of at most a few hundred O(1) products in double: 1e-12 relative is ample; RMS and
    // cross subtract two O(1) numbers, hence the absolute margin.
    for (std::size_t a = 0; a < grid.size(); ++a) {
      for (int c = 0; c < C; ++c)
        for (int i = 0; i < grid[a]; ++i) {
          CHECK(got.mean[a][c][i] == Approx(want.mean[a][c][i]).epsilon(1e-12).margin(1e-12));
          CHECK(got.rms[a][c][i] == Approx(want.rms[a][c][i]).epsilon(1e-10).margin(1e-10));
        }
      REQUIRE(got.cross[a].size() == 3);
      for (int k = 0; k < 3; ++k)
        for (int i = 0; i < grid[a]; ++i)
          CHECK(got.cross[a][k][i] == Approx(want.cross[a][k][i]).epsilon(1e-10).margin(1e-10));
    }
    // Correlated channels: the cross profile is far from zero (a positive control).
    CHECK(std::abs(got.cross[0][0][0]) > 0.5);

    // Axis spectra against a naive DFT in double, and Parseval: sum_k E_a(k) = sum_c <f_c^2>.
    REQUIRE(got.spectrum.size() == grid.size());
    double mean_square = 0;
    for (const auto& f : steps)
      for (float v : f) mean_square += double(v) * v;
    mean_square /= double(steps.size()) * K * N;  // per (sample, point), summed over the C fields
    for (std::size_t a = 0; a < grid.size(); ++a) {
      const int n = grid[a];
      long long inner = 1;
      for (std::size_t b = a + 1; b < grid.size(); ++b) inner *= grid[b];
      REQUIRE(got.spectrum[a].size() == std::size_t(n / 2 + 1));
      double parseval = 0;
      for (int k = 0; k <= n / 2; ++k) {
        double e = 0, lines = 0;
        for (const auto& f : steps)
          for (int bc = 0; bc < K * C; ++bc)
            for (long long line = 0; line < N / n; ++line) {
              const long long base = (line / inner) * n * inner + line % inner;
              double re = 0, im = 0;
              for (int j = 0; j < n; ++j) {
                const double v = f[std::size_t(bc) * N + base + j * inner];
                re += v * std::cos(-2 * M_PI * j * k / n);
                im += v * std::sin(-2 * M_PI * j * k / n);
              }
              e += ((k == 0 || 2 * k == n) ? 1.0 : 2.0) * (re * re + im * im) / (double(n) * n);
              lines += 1;
            }
        const double want = e / (lines / C);  // summed over fields, averaged over the rest
        CHECK(got.spectrum[a][k] == Approx(want).epsilon(1e-10).margin(1e-12));
        parseval += got.spectrum[a][k];
      }
      CHECK(parseval == Approx(mean_square).epsilon(1e-10));
    }
  }
}
