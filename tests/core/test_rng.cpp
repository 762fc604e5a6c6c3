// Counter-based RNG: published known answers, reproducibility across backends and iteration
// orders, and moments within 5 standard errors (a false failure rate below 1e-6 per check).
#include "core/rng.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace surro;

namespace {
// Named functor: Catch2 test functions are static, which nvcc's extended lambdas do not allow.
template <class Mem>
struct FillDraws {
  rng::Philox gen;
  std::uint64_t stream;
  View1<std::uint32_t, Mem> bits;  // (n)
  View1<float, Mem> uf;            // (n)
  View1<double, Mem> ud, z;        // (n)
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    bits(i) = gen.bits(stream, i).w[i % 4];
    uf(i) = gen.uniform<float>(stream, i);
    ud(i) = gen.uniform<double>(stream, i);
    z(i) = gen.normal<double>(stream, i);
  }
};
}  // namespace

TEST_CASE("rng: Philox4x32-10 reproduces the Random123 known-answer vectors", "[rng]") {
  struct Kat {
    rng::Words ctr;
    std::uint32_t k0, k1;
    rng::Words want;
  };
  // Random123 kat_vectors, "philox4x32 10" lines: counter, key, expected output.
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    const rng::Words got = rng::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) CHECK(got.w[i] == k.want.w[i]);
  }
}

TEMPLATE_LIST_TEST_CASE("rng: a kernel draws exactly what a host loop draws", "[rng]", surro::test::ExecSpaces) {
  using Exec = TestType;
  using Mem = typename Exec::memory_space;
  const rng::Philox gen{0x5eed1234abcdull};
  const index_t n = 4099;
  const std::uint64_t stream = 77;
  View1<std::uint32_t, Mem> bits("bits", n);
  View1<float, Mem> uf("uf", n);
  View1<double, Mem> ud("ud", n), z("z", n);
  Kokkos::parallel_for("test::rng::fill", Kokkos::RangePolicy<Exec>(Exec(), 0, n),
                       FillDraws<Mem>{gen, stream, bits, uf, ud, z});
  Kokkos::fence();
  const auto hb = test::to_host(bits);
  const auto huf = test::to_host(uf);
  const auto hud = test::to_host(ud);
  const auto hz = test::to_host(z);
  for (index_t i = n - 1; i >= 0; --i) {  // reverse order: no dependence on iteration order
    REQUIRE(hb[i] == gen.bits(stream, i).w[i % 4]);
    REQUIRE(huf[i] == gen.uniform<float>(stream, i));
    REQUIRE(hud[i] == gen.uniform<double>(stream, i));
    // log/cos may round differently on a device: allow 8 ulp of the result's magnitude (+1 for 0).
    const double want = gen.normal<double>(stream, i);
    REQUIRE(std::abs(hz[i] - want) <= 8 * std::numeric_limits<double>::epsilon() * (std::abs(want) + 1));
  }
}

TEST_CASE("rng: uniforms lie in [0, 1) and streams, seeds and indices differ", "[rng]") {
  const rng::Philox a{1}, b{2};
  CHECK(rng::to_unit_float(0xffffffffu) < 1.0f);
  CHECK(rng::to_unit_double(0xffffffffu, 0xffffffffu) < 1.0);
  CHECK(rng::to_unit_double(0, 0) == 0.0);
  CHECK(a.uniform<double>(0, 0) != b.uniform<double>(0, 0));
  CHECK(a.uniform<double>(0, 0) != a.uniform<double>(1, 0));
  CHECK(a.uniform<double>(0, 0) != a.uniform<double>(0, 1));
  CHECK(a.uniform<double>(0, std::uint64_t(1) << 32) != a.uniform<double>(0, 0));  // high index word counts
}

TEST_CASE("rng: moments of uniform and normal draws", "[rng]") {
  const rng::Philox gen{20261122};
  const index_t n = 1 << 20;
  double su = 0, su2 = 0, sz = 0, sz2 = 0, sz4 = 0, cross = 0;
  for (index_t i = 0; i < n; ++i) {
    const double u = gen.uniform<double>(3, i) - 0.5;
    su += u;
    su2 += u * u;
    double z0, z1;
    gen.normal2(4, i, z0, z1);
    sz += z0;
    sz2 += z0 * z0;
    sz4 += z0 * z0 * z0 * z0;
    cross += z0 * z1;  // the pair must be uncorrelated
  }
  const double N = double(n);
  // Uniform on [-1/2, 1/2): mean 0 (sd 1/sqrt(12 N)); E[u^2] = 1/12 (sd sqrt((1/80 - 1/144) / N)).
  CHECK(std::abs(su / N) <= 5 * std::sqrt(1.0 / 12 / N));
  CHECK(std::abs(su2 / N - 1.0 / 12) <= 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / N));
  // Normal: mean 0 (sd 1/sqrt N), E[z^2] = 1 (sd sqrt(2/N)), E[z^4] = 3 (sd sqrt(96/N)),
  // E[z0 z1] = 0 (sd 1/sqrt N).
  CHECK(std::abs(sz / N) <= 5 / std::sqrt(N));
  CHECK(std::abs(sz2 / N - 1) <= 5 * std::sqrt(2 / N));
  CHECK(std::abs(sz4 / N - 3) <= 5 * std::sqrt(96 / N));
  CHECK(std::abs(cross / N) <= 5 / std::sqrt(N));
}
