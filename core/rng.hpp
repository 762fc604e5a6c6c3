#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11), usable inside kernels.
//
// A number is a pure function of (seed, stream, index): no state is carried between calls, so a
// kernel draws element i as rng.uniform<Real>(stream, i) and gets the same value whatever the
// backend, thread count or iteration order. The 32-bit words and the uniforms built from them are
// bit-identical everywhere; normals go through log/sqrt/cos/sin, whose last bit may differ between
// host and device math libraries (a few ulp).
//
// Counter layout: (index_lo, index_hi, stream_lo, stream_hi); key: (seed_lo, seed_hi).
// `stream` names what is drawn (e.g. sample id * n_fields + field); `index` the element within it.
#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace surro::rng {

struct Words {
  std::uint32_t w[4];
};

namespace impl {
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments

KOKKOS_INLINE_FUNCTION void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                    std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}
}  // namespace impl

// The Philox4x32 bijection with 10 rounds; the key is bumped between rounds.
KOKKOS_INLINE_FUNCTION Words philox4x32_10(Words ctr, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += impl::kW0;
      k1 += impl::kW1;
    }
    std::uint32_t hi0, lo0, hi1, lo1;
    impl::mulhilo(impl::kM0, ctr.w[0], hi0, lo0);
    impl::mulhilo(impl::kM1, ctr.w[2], hi1, lo1);
    ctr = Words{{hi1 ^ ctr.w[1] ^ k0, lo1, hi0 ^ ctr.w[3] ^ k1, lo0}};
  }
  return ctr;
}

// [0, 1) with 24 random bits (exact in float).
KOKKOS_INLINE_FUNCTION float to_unit_float(std::uint32_t a) {
  return static_cast<float>(a >> 8) * (1.0f / 16777216.0f);
}
// [0, 1) with 53 random bits (exact in double).
KOKKOS_INLINE_FUNCTION double to_unit_double(std::uint32_t a, std::uint32_t b) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(a >> 5) << 26) | (b >> 6);
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

// Box-Muller: u1 in (0, 1], u2 in [0, 1) -> two independent standard normals.
KOKKOS_INLINE_FUNCTION void box_muller(double u1, double u2, double& z0, double& z1) {
  constexpr double two_pi = 6.283185307179586476925286766559;
  const double r = ::sqrt(-2.0 * ::log(u1));
  z0 = r * ::cos(two_pi * u2);
  z1 = r * ::sin(two_pi * u2);
}

// Trivially copyable: capture by value in kernels.
struct Philox {
  std::uint64_t seed = 0;

  KOKKOS_INLINE_FUNCTION Words bits(std::uint64_t stream, std::uint64_t index) const {
    const Words ctr{{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
                     static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}};
    return philox4x32_10(ctr, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  }

  // Uniform in [0, 1).
  template <class Real>
  KOKKOS_INLINE_FUNCTION Real uniform(std::uint64_t stream, std::uint64_t index) const {
    const Words r = bits(stream, index);
    // Rounding a 53-bit double to float could give 1.0f, so float draws use 24 bits directly.
    if constexpr (std::is_same_v<Real, float>) return to_unit_float(r.w[0]);
    else return static_cast<Real>(to_unit_double(r.w[0], r.w[1]));
  }

  // Two independent standard normals from one counter.
  KOKKOS_INLINE_FUNCTION void normal2(std::uint64_t stream, std::uint64_t index, double& z0,
                                      double& z1) const {
    const Words r = bits(stream, index);
    const double u1 = 1.0 - to_unit_double(r.w[0], r.w[1]);  // (0, 1]: log stays finite
    const double u2 = to_unit_double(r.w[2], r.w[3]);
    box_muller(u1, u2, z0, z1);
  }

  // One standard normal (the first of normal2's pair).
  template <class Real>
  KOKKOS_INLINE_FUNCTION Real normal(std::uint64_t stream, std::uint64_t index) const {
    double z0, z1;
    normal2(stream, index, z0, z1);
    return static_cast<Real>(z0);
  }
};

}  // namespace surro::rng
