// Gaussian normalizers: statistics against a direct two-pass computation, encode/decode on every
// execution space, decode backward, HDF5 persistence.
#include "core/rng.hpp"
#include "datasets/hdf5.hpp"
#include "datasets/normalizer.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

constexpr int S = 7, C = 3, N = 11;

// Channel c has mean ~ 10 c - 5 and spread ~ c + 1, so channels differ and the mean is not small
// against the spread (the case where naive sum-of-squares loses digits).
std::vector<float> sample_data() {
  const rng::Philox gen{77};
  std::vector<float> v(S * C * N);
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < N; ++p) {
        const std::size_t i = (s * C + c) * N + p;
        v[i] = static_cast<float>(10.0 * c - 5.0 + (c + 1) * gen.normal<double>(0, i) + 0.1 * p);
      }
  return v;
}

// Direct two-pass mean/std in double over the stated index set.
void direct_stats(const std::vector<float>& v, NormKind kind, bool unbiased, std::vector<double>& mean,
                  std::vector<double>& sd) {
  const int size = kind == NormKind::channel ? C : C * N;
  std::vector<double> sum(size, 0.0), cnt(size, 0.0), m2(size, 0.0);
  auto k_of = [&](int c, int p) { return kind == NormKind::channel ? c : c * N + p; };
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < N; ++p) {
        sum[k_of(c, p)] += v[(s * C + c) * N + p];
        cnt[k_of(c, p)] += 1.0;
      }
  mean.resize(size);
  sd.resize(size);
  for (int k = 0; k < size; ++k) mean[k] = sum[k] / cnt[k];
  for (int s = 0; s < S; ++s)
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < N; ++p) {
        const double d = v[(s * C + c) * N + p] - mean[k_of(c, p)];
        m2[k_of(c, p)] += d * d;
      }
  for (int k = 0; k < size; ++k) sd[k] = std::sqrt(m2[k] / (cnt[k] - (unbiased ? 1.0 : 0.0)));
}

GaussianNormalizer fitted(NormKind kind, const std::vector<float>& v) {
  GaussianNormalizer n(kind, C, N);
  n.accumulate(v.data(), 3);  // two batches: the pooled result must equal the one-pass result
  n.accumulate(v.data() + 3 * C * N, S - 3);
  n.finish();
  return n;
}

}  // namespace

TEST_CASE("normalizer: statistics equal a direct two-pass computation", "[normalizer]") {
  const auto v = sample_data();
  for (NormKind kind : {NormKind::channel, NormKind::pointwise}) {
    const GaussianNormalizer n = fitted(kind, v);
    // FNO's UnitGaussianNormalizer uses torch.std (ddof 1); per-channel follows numpy (ddof 0).
    CHECK(n.unbiased() == (kind == NormKind::pointwise));
    CHECK(n.count() == S);
    std::vector<double> mean, sd;
    direct_stats(v, kind, n.unbiased(), mean, sd);
    REQUIRE(n.mean().size() == mean.size());
    // Both are double computations of the same sums in different orders: agreement to ~n eps.
    for (std::size_t k = 0; k < mean.size(); ++k) {
      CHECK(n.mean()[k] == Approx(mean[k]).epsilon(1e-13).margin(1e-13));
      CHECK(n.stddev()[k] == Approx(sd[k]).epsilon(1e-13));
    }
  }
}

TEST_CASE("normalizer: degenerate data are refused", "[normalizer]") {
  std::vector<float> constant(S * C * N, 2.5f);
  GaussianNormalizer ok(NormKind::pointwise, C, N);  // eps = 1e-5 keeps a constant point usable
  ok.accumulate(constant.data(), S);
  ok.finish();
  CHECK(ok.stddev()[0] == 0.0);
  GaussianNormalizer no_eps(NormKind::channel, C, N, 0.0);
  no_eps.accumulate(constant.data(), S);
  CHECK_THROWS_WITH(no_eps.finish(), Catch::Contains("channel 0 is constant and eps = 0"));
  GaussianNormalizer one(NormKind::pointwise, C, N);
  one.accumulate(constant.data(), 1);
  CHECK_THROWS_WITH(one.finish(), Catch::Contains("1 sample(s) cannot give an unbiased standard deviation"));
}

TEMPLATE_LIST_TEST_CASE("normalizer: encode, decode and decode backward on every space", "[normalizer]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  using Mem = typename Exec::memory_space;
  const auto v = sample_data();
  const std::vector<Real> x(v.begin(), v.end());
  const double eps = surro::test::epsilon<Real>();
  for (NormKind kind : {NormKind::channel, NormKind::pointwise}) {
    const GaussianNormalizer n = fitted(kind, v);
    const auto nv = make_normalizer_view<Real, Mem>(n);
    const auto dx = surro::test::to_device<Exec>(x, "x");
    const auto dz = surro::test::to_device<Exec>(std::vector<Real>(x.size()), "z");
    const auto dr = surro::test::to_device<Exec>(std::vector<Real>(x.size()), "r");
    normalizer_encode(Exec(), nv, S, dx.data(), dz.data());
    normalizer_decode(Exec(), nv, S, dz.data(), dr.data());
    const auto z = surro::test::to_host(dz), r = surro::test::to_host(dr);
    for (int s = 0; s < S; ++s)
      for (int c = 0; c < C; ++c)
        for (int p = 0; p < N; ++p) {
          const std::size_t i = (s * C + c) * N + p;
          const std::size_t k = kind == NormKind::channel ? c : c * N + p;
          const double m = static_cast<Real>(n.mean()[k]);
          const double sc = static_cast<Real>(n.stddev()[k] + n.eps());
          // encode: one subtraction and one division in Real: 2 ulp of the result (plus the
          // subtraction's ulp of max(|x|, |m|) relative to the spread, which is O(1) here).
          CHECK(
              z[i] ==
              Approx((x[i] - m) / sc).epsilon(4 * eps).margin(4 * eps * (std::abs(x[i]) + std::abs(m)) / sc));
          // decode(encode(x)) = x up to the rounding of four operations, each an ulp of at most
          // |x| + |m|.
          CHECK(std::abs(double(r[i]) - double(x[i])) <= 4 * eps * (std::abs(double(x[i])) + std::abs(m)));
        }
    // Backward of decode: dy = dx (std + eps); in place.
    normalizer_decode_backward(Exec(), nv, S, dx.data(), dx.data());
    const auto g = surro::test::to_host(dx);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t k = kind == NormKind::channel ? (i / N) % C : i % (C * N);
      CHECK(g[i] == Approx(double(x[i]) * static_cast<Real>(n.stddev()[k] + n.eps())).epsilon(eps));
    }
    // Backward of encode: dx = dy / (std + eps), the inverse scaling: back to x within 2 roundings.
    normalizer_encode_backward(Exec(), nv, S, dx.data(), dx.data());
    const auto back = surro::test::to_host(dx);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(back[i] == Approx(double(x[i])).epsilon(2 * eps));
  }
}

TEST_CASE("normalizer: store and load round-trip exactly", "[normalizer]") {
  const fs::path dir = fs::temp_directory_path() / "surro_test_normalizer";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "norm.hdf5").string();
  const auto v = sample_data();
  const GaussianNormalizer a = fitted(NormKind::channel, v), b = fitted(NormKind::pointwise, v);
  {
    h5::File f = h5::create_file(path);
    h5::Group ga = h5::create_group(f, "a"), gb = h5::create_group(f, "b");
    a.store(ga);
    b.store(gb);
    ga.reset();
    gb.reset();
    h5::close_file(f);
  }
  h5::File f = h5::open_file(path);
  for (const auto& [name, want] : {std::pair<std::string, const GaussianNormalizer*>{"a", &a}, {"b", &b}}) {
    h5::Group g = h5::open_group(f, name);
    const GaussianNormalizer got = GaussianNormalizer::load(g);
    CHECK(got.kind() == want->kind());
    CHECK(got.channels() == C);
    CHECK(got.points() == N);
    CHECK(got.eps() == want->eps());
    CHECK(got.unbiased() == want->unbiased());
    CHECK(got.count() == S);
    CHECK(got.mean() == want->mean());  // bitwise: float64 on both sides
    CHECK(got.stddev() == want->stddev());
  }
  h5::Group g = h5::open_group(f, "a");
  GaussianNormalizer unfitted(NormKind::channel, C, N);
  CHECK_THROWS_WITH(unfitted.store(g), Catch::Contains("normalizer statistics were never computed"));
}
