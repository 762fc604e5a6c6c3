#include "datasets/normalizer.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"

#include <cmath>

namespace surro::data {

const char* to_string(NormKind kind) {
  return kind == NormKind::channel ? "channel" : "pointwise";
}

GaussianNormalizer::GaussianNormalizer(NormKind kind, int channels, index_t points, double eps)
    : GaussianNormalizer(kind, channels, points, eps, kind == NormKind::pointwise) {}

GaussianNormalizer::GaussianNormalizer(NormKind kind, int channels, index_t points, double eps, bool unbiased)
    : m_kind(kind), m_channels(channels), m_points(points), m_eps(eps), m_unbiased(unbiased) {
  SURRO_REQUIRE(channels > 0 && points > 0, "normalizer: channels = " << channels << ", points = " << points
                                                                      << ": expected positive extents");
  SURRO_REQUIRE(eps >= 0.0, "normalizer: eps = " << eps << ": expected >= 0");
  const auto size = static_cast<std::size_t>(stat_size());
  m_acc_n.assign(size, 0.0);
  m_acc_mean.assign(size, 0.0);
  m_acc_m2.assign(size, 0.0);
}

template <class Real>
void GaussianNormalizer::accumulate_impl(const Real* data, index_t S) {
  SURRO_REQUIRE(m_channels > 0, "normalizer: accumulate on a default-constructed normalizer");
  if (S <= 0) return;
  const index_t C = m_channels, N = m_points;
  const index_t size = stat_size();
  // Per statistic: this batch's count, mean (pass 1) and M2 (pass 2), then Chan's merge.
  std::vector<double> bn(size, 0.0), bmean(size, 0.0), bm2(size, 0.0);
  auto stat = [&](index_t c, index_t p) { return m_kind == NormKind::channel ? c : c * N + p; };
  for (index_t s = 0; s < S; ++s)
    for (index_t c = 0; c < C; ++c)
      for (index_t p = 0; p < N; ++p) {
        const index_t k = stat(c, p);
        bmean[k] += static_cast<double>(data[(s * C + c) * N + p]);
        bn[k] += 1.0;
      }
  for (index_t k = 0; k < size; ++k) bmean[k] /= bn[k];
  for (index_t s = 0; s < S; ++s)
    for (index_t c = 0; c < C; ++c)
      for (index_t p = 0; p < N; ++p) {
        const index_t k = stat(c, p);
        const double d = static_cast<double>(data[(s * C + c) * N + p]) - bmean[k];
        bm2[k] += d * d;
      }
  for (index_t k = 0; k < size; ++k) {
    const double na = m_acc_n[k], nb = bn[k], n = na + nb;
    const double delta = bmean[k] - m_acc_mean[k];
    m_acc_mean[k] += delta * nb / n;
    m_acc_m2[k] += bm2[k] + delta * delta * na * nb / n;
    m_acc_n[k] = n;
  }
  m_count += S;
  m_fitted = false;
}

void GaussianNormalizer::accumulate(const float* data, index_t S) {
  accumulate_impl(data, S);
}
void GaussianNormalizer::accumulate(const double* data, index_t S) {
  accumulate_impl(data, S);
}

void GaussianNormalizer::finish() {
  const index_t size = stat_size();
  SURRO_REQUIRE(size > 0, "normalizer: finish on a default-constructed normalizer");
  const double ddof = m_unbiased ? 1.0 : 0.0;
  m_mean.assign(size, 0.0);
  m_std.assign(size, 0.0);
  for (index_t k = 0; k < size; ++k) {
    const double n = m_acc_n[k];
    if (n - ddof <= 0.0)
      SURRO_THROW(ErrorKind::input, "normalizer: " << m_count << " sample(s) cannot give a"
                                                   << (m_unbiased ? "n unbiased" : "")
                                                   << " standard deviation");
    m_mean[k] = m_acc_mean[k];
    m_std[k] = std::sqrt(m_acc_m2[k] / (n - ddof));
    const index_t c = m_kind == NormKind::channel ? k : k / m_points;
    if (!std::isfinite(m_mean[k]) || !std::isfinite(m_std[k]))
      SURRO_THROW(ErrorKind::input,
                  "normalizer: channel "
                      << c
                      << (m_kind == NormKind::pointwise ? ", point " + std::to_string(k % m_points)
                                                        : std::string())
                      << ": non-finite statistics (mean " << m_mean[k] << ", std " << m_std[k] << ")");
    if (m_std[k] + m_eps <= 0.0)
      SURRO_THROW(ErrorKind::input,
                  "normalizer: channel " << c << " is constant and eps = 0: cannot scale it");
  }
  m_fitted = true;
}

namespace {

void write_double_vector(hid_t loc, const std::string& name, const std::vector<double>& v) {
  const hsize_t dims[1] = {static_cast<hsize_t>(v.size())};
  h5::Dataspace space(H5Screate_simple(1, dims, nullptr));
  h5::Dataset d(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!space.valid() || !d.valid())
    h5::fail(ErrorKind::runtime, loc, name, "cannot create the float64 dataset");
  if (H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    h5::fail(ErrorKind::runtime, loc, name, "cannot write the dataset");
}

}  // namespace

void GaussianNormalizer::store(hid_t group) const {
  if (!m_fitted) h5::fail(ErrorKind::runtime, group, "", "normalizer statistics were never computed");
  h5::write_string_attr(group, "kind", to_string(m_kind));
  h5::write_int64_attr(group, "channels", m_channels);
  h5::write_int64_attr(group, "points", m_points);
  h5::write_double_attr(group, "eps", m_eps);
  h5::write_bool_attr(group, "unbiased", m_unbiased);
  h5::write_int64_attr(group, "count", m_count);
  write_double_vector(group, "mean", m_mean);
  write_double_vector(group, "std", m_std);
}

GaussianNormalizer GaussianNormalizer::load(hid_t group) {
  const std::string kind = h5::read_string_attr(group, "kind");
  if (kind != "channel" && kind != "pointwise")
    h5::fail(ErrorKind::input, group, "", "kind: expected 'channel' or 'pointwise', got '" + kind + "'");
  const std::int64_t channels = h5::read_int_attr(group, "channels"),
                     points = h5::read_int_attr(group, "points");
  if (channels <= 0 || channels > (1 << 30) || points <= 0)
    h5::fail(ErrorKind::input, group, "", "channels, points: expected positive extents");
  GaussianNormalizer n(kind == "channel" ? NormKind::channel : NormKind::pointwise,
                       static_cast<int>(channels), points, h5::read_double_attr(group, "eps"),
                       h5::read_bool_attr(group, "unbiased"));
  n.m_count = h5::read_int_attr(group, "count");
  n.m_mean = h5::read_real_vector(group, "mean");
  n.m_std = h5::read_real_vector(group, "std");
  const auto size = static_cast<std::size_t>(n.stat_size());
  for (const char* name : {"mean", "std"}) {
    const auto& v = std::string(name) == "mean" ? n.m_mean : n.m_std;
    if (v.size() != size)
      h5::fail(ErrorKind::input, group, name,
               "expected " + std::to_string(size) + " values, got " + std::to_string(v.size()));
  }
  n.m_fitted = true;
  return n;
}

// Kernels: free functions in a named namespace (nvcc extended lambdas).
namespace norm_impl {

template <class Real, class Mem>
KOKKOS_INLINE_FUNCTION index_t stat_index(const NormalizerView<Real, Mem>& n, index_t i) {
  return n.kind == NormKind::channel ? (i / n.points) % n.channels : i % (n.channels * n.points);
}

template <class Exec, class Real>
void apply(const Exec& exec, const char* label, const NormalizerView<Real, typename Exec::memory_space> n,
           index_t count, int mode, const Real* in, Real* out) {
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<Exec>(exec, 0, count), KOKKOS_LAMBDA(const index_t i) {
        const index_t k = stat_index(n, i);
        if (mode == 0)
          out[i] = (in[i] - n.mean(k)) / n.scale(k);  // encode
        else if (mode == 1)
          out[i] = in[i] * n.scale(k) + n.mean(k);  // decode
        else if (mode == 2)
          out[i] = in[i] * n.scale(k);  // decode backward
        else
          out[i] = in[i] / n.scale(k);  // encode backward
      });
}

}  // namespace norm_impl

template <class Exec, class Real>
void normalizer_encode(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                       index_t B, const Real* x, Real* y) {
  ScopedRegion region("surro::data::normalizer_encode");
  norm_impl::apply(exec, "surro::data::normalizer_encode", n, B * n.channels * n.points, 0, x, y);
}

template <class Exec, class Real>
void normalizer_decode(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                       index_t B, const Real* y, Real* x) {
  ScopedRegion region("surro::data::normalizer_decode");
  norm_impl::apply(exec, "surro::data::normalizer_decode", n, B * n.channels * n.points, 1, y, x);
}

template <class Exec, class Real>
void normalizer_decode_backward(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                                index_t B, const Real* dx, Real* dy) {
  ScopedRegion region("surro::data::normalizer_decode_backward");
  norm_impl::apply(exec, "surro::data::normalizer_decode_backward", n, B * n.channels * n.points, 2, dx, dy);
}

template <class Exec, class Real>
void normalizer_encode_backward(const Exec& exec, const NormalizerView<Real, typename Exec::memory_space>& n,
                                index_t B, const Real* dy, Real* dx) {
  ScopedRegion region("surro::data::normalizer_encode_backward");
  norm_impl::apply(exec, "surro::data::normalizer_encode_backward", n, B * n.channels * n.points, 3, dy, dx);
}

#define SURRO_INSTANTIATE_NORMALIZER(Exec, Real)                                                            \
  template void normalizer_encode<Exec, Real>(const Exec&, const NormalizerView<Real, Exec::memory_space>&, \
                                              index_t, const Real*, Real*);                                 \
  template void normalizer_decode<Exec, Real>(const Exec&, const NormalizerView<Real, Exec::memory_space>&, \
                                              index_t, const Real*, Real*);                                 \
  template void normalizer_decode_backward<Exec, Real>(                                                     \
      const Exec&, const NormalizerView<Real, Exec::memory_space>&, index_t, const Real*, Real*);        \
  template void normalizer_encode_backward<Exec, Real>(                                                     \
      const Exec&, const NormalizerView<Real, Exec::memory_space>&, index_t, const Real*, Real*);

SURRO_INSTANTIATE_NORMALIZER(ExecSpace, float)
SURRO_INSTANTIATE_NORMALIZER(ExecSpace, double)
#ifdef KOKKOS_ENABLE_CUDA
SURRO_INSTANTIATE_NORMALIZER(HostExec, float)
SURRO_INSTANTIATE_NORMALIZER(HostExec, double)
#endif

}  // namespace surro::data
