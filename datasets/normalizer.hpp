#pragma once
// Gaussian normalizers fitted on training data, applied on the device.
//
// Data are (S, C, N): S samples (trajectories x times folded together), C channels, N points
// (every other axis of a sample, flattened). Two kinds:
//   channel   : one mean/std per channel over all samples and points (IFactFormer's norm.pkl);
//               population std (ddof 0) by default, as numpy.
//   pointwise : one mean/std per (channel, point) over the samples (FNO's UnitGaussianNormalizer);
//               unbiased std (ddof 1) by default, as torch.std.
// encode: y = (x - mean) / (std + eps);  decode: x = y (std + eps) + mean; eps = 1e-5 (FNO).
// Statistics are accumulated in double across any number of batches (Chan et al.'s pairwise
// update of count, mean and M2, each batch two-pass), so they do not depend on how the training
// set is split into batches beyond round-off.
#include "core/types.hpp"
#include "datasets/hdf5.hpp"

#include <string>
#include <vector>

namespace surro::data {

enum class NormKind { channel, pointwise };

class GaussianNormalizer {
 public:
  static constexpr double kDefaultEps = 1e-5;

  GaussianNormalizer() = default;
  GaussianNormalizer(NormKind kind, int channels, index_t points, double eps = kDefaultEps);
  GaussianNormalizer(NormKind kind, int channels, index_t points, double eps, bool unbiased);

  // Adds S samples, host memory, (S, C, N). Invalidates earlier finish().
  void accumulate(const float* data, index_t S);
  void accumulate(const double* data, index_t S);
  // Computes mean and std from what was accumulated. Error(input) when a statistic is
  // non-finite or std + eps is 0 (a constant channel with eps = 0), naming the channel/point.
  void finish();

  bool fitted() const { return m_fitted; }
  NormKind kind() const { return m_kind; }
  int channels() const { return m_channels; }
  index_t points() const { return m_points; }
  double eps() const { return m_eps; }
  bool unbiased() const { return m_unbiased; }
  long long count() const { return m_count; }  // samples accumulated
  // (C) for channel, (C, N) for pointwise. Valid after finish() or load().
  const std::vector<double>& mean() const { return m_mean; }
  const std::vector<double>& stddev() const { return m_std; }
  index_t stat_size() const { return m_kind == NormKind::channel ? m_channels : m_channels * m_points; }

  // Writes attributes (kind, channels, points, eps, unbiased, count) and float64 datasets mean and
  // std into an open group. Error(runtime) when not fitted or on a failing write.
  void store(hid_t group) const;
  // Reads what store() wrote. Error(input) naming the file and HDF5 path.
  static GaussianNormalizer load(hid_t group);

 private:
  template <class Real>
  void accumulate_impl(const Real* data, index_t S);

  NormKind m_kind = NormKind::channel;
  int m_channels = 0;
  index_t m_points = 0;
  double m_eps = kDefaultEps;
  bool m_unbiased = false;
  bool m_fitted = false;
  long long m_count = 0;                              // samples
  std::vector<double> m_acc_n, m_acc_mean, m_acc_m2;  // (stat_size) running values
  std::vector<double> m_mean, m_std;
};

const char* to_string(NormKind kind);

// The statistics in device memory: what the kernels read. scale = std + eps.
template <class Real, class Mem = MemSpace>
struct NormalizerView {
  NormKind kind = NormKind::channel;
  int channels = 0;
  index_t points = 0;
  View1<Real, Mem> mean, scale;  // (stat_size)
};

// Copies a fitted normalizer's statistics to `Mem` (rounded to Real). Allocates: build once.
template <class Real, class Mem = MemSpace>
NormalizerView<Real, Mem> make_normalizer_view(const GaussianNormalizer& n) {
  SURRO_REQUIRE(n.fitted(), "normalizer: statistics used before they were computed");
  NormalizerView<Real, Mem> v;
  v.kind = n.kind();
  v.channels = n.channels();
  v.points = n.points();
  const auto size = static_cast<std::size_t>(n.stat_size());
  v.mean = View1<Real, Mem>("surro::data::normalizer::mean", size);
  v.scale = View1<Real, Mem>("surro::data::normalizer::scale", size);
  auto hm = Kokkos::create_mirror_view(v.mean);
  auto hs = Kokkos::create_mirror_view(v.scale);
  for (std::size_t k = 0; k < size; ++k) {
    hm(k) = static_cast<Real>(n.mean()[k]);
    hs(k) = static_cast<Real>(n.stddev()[k] + n.eps());
  }
  Kokkos::deep_copy(v.mean, hm);
  Kokkos::deep_copy(v.scale, hs);
  return v;
}

// x, y, dx, dy: (B, C, N) in Exec's memory; y may alias x (and dx dy).
template <class Exec, class Real>
void normalizer_encode(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                       index_t B, const Real* x, Real* y);
template <class Exec, class Real>
void normalizer_decode(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                       index_t B, const Real* y, Real* x);
// Backward of decode, for losses on decoded outputs: dy = dx * (std + eps) (overwritten).
template <class Exec, class Real>
void normalizer_decode_backward(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                                index_t B, const Real* dx, Real* dy);
// Backward of encode, for gradients that flow into normalized inputs: dx = dy / (std + eps).
template <class Exec, class Real>
void normalizer_encode_backward(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                                index_t B, const Real* dy, Real* dx);

}  // namespace surro::data
