#include "operators/layers/pad.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

void pad_validate(const PadCfg& cfg) {
  const int d = int(cfg.grid.size());
  if (d < 1 || d > 3) SURRO_THROW(ErrorKind::usage, "pad: " << d << " grid axes: expected 1, 2 or 3");
  if (int(cfg.pad.size()) != d)
    SURRO_THROW(ErrorKind::usage,
                "pad: " << cfg.pad.size() << " pad widths for " << d << " axes: expected " << d);
  if (cfg.channels <= 0)
    SURRO_THROW(ErrorKind::usage, "pad: channels = " << cfg.channels << ": expected > 0");
  for (int t = 0; t < d; ++t) {
    if (cfg.grid[t] <= 0)
      SURRO_THROW(ErrorKind::usage, "pad: grid[" << t << "] = " << cfg.grid[t] << ": expected > 0");
    if (cfg.pad[t] < 0)
      SURRO_THROW(ErrorKind::usage, "pad: pad[" << t << "] = " << cfg.pad[t] << ": expected >= 0");
  }
}

namespace pad_impl {

struct Box {
  int small[3] = {1, 1, 1}, big[3] = {1, 1, 1};  // right-aligned extents, leading axes of extent 1
};

inline Box box(const PadCfg& cfg) {
  pad_validate(cfg);
  const int d = int(cfg.grid.size());
  Box b;
  for (int t = 0; t < d; ++t) {
    b.small[3 - d + t] = cfg.grid[t];
    b.big[3 - d + t] = cfg.grid[t] + cfg.pad[t];
  }
  return b;
}

// big (S, big...) <- small (S, small...) with zeros outside: S = B * C signals.
template <class Exec, class Real>
void embed(const Exec& exec, index_t signals, const Box bx, const Real* small, Real* big) {
  const index_t rb = index_t(bx.big[0]) * bx.big[1] * bx.big[2];
  const index_t rs = index_t(bx.small[0]) * bx.small[1] * bx.small[2];
  for_each_3d(
      exec, "surro::op::pad::embed", signals, index_t(bx.big[0]) * bx.big[1], index_t(bx.big[2]),
      KOKKOS_LAMBDA(const index_t s, const index_t ij, const index_t k) {
        const int i = int(ij / bx.big[1]), j = int(ij % bx.big[1]);
        const bool inside = i < bx.small[0] && j < bx.small[1] && k < bx.small[2];
        big[s * rb + ij * bx.big[2] + k] =
            inside ? small[s * rs + (index_t(i) * bx.small[1] + j) * bx.small[2] + k] : Real(0);
      });
}

// small (S, small...) <- the leading corner of big (S, big...).
template <class Exec, class Real>
void extract(const Exec& exec, index_t signals, const Box bx, const Real* big, Real* small) {
  const index_t rb = index_t(bx.big[0]) * bx.big[1] * bx.big[2];
  const index_t rs = index_t(bx.small[0]) * bx.small[1] * bx.small[2];
  for_each_3d(
      exec, "surro::op::pad::extract", signals, index_t(bx.small[0]) * bx.small[1], index_t(bx.small[2]),
      KOKKOS_LAMBDA(const index_t s, const index_t ij, const index_t k) {
        const int i = int(ij / bx.small[1]), j = int(ij % bx.small[1]);
        small[s * rs + ij * bx.small[2] + k] = big[s * rb + (index_t(i) * bx.big[1] + j) * bx.big[2] + k];
      });
}

}  // namespace pad_impl

template <class Exec, class Real>
void pad_forward(const Exec& exec, const PadCfg& cfg, int batch, const Real* x, Real* y) {
  ScopedRegion region("surro::op::pad::forward");
  pad_impl::embed(exec, index_t(batch) * cfg.channels, pad_impl::box(cfg), x, y);
}
template <class Exec, class Real>
void pad_backward(const Exec& exec, const PadCfg& cfg, int batch, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::pad::backward");
  pad_impl::extract(exec, index_t(batch) * cfg.channels, pad_impl::box(cfg), dy, dx);
}
template <class Exec, class Real>
void crop_forward(const Exec& exec, const PadCfg& cfg, int batch, const Real* x, Real* y) {
  ScopedRegion region("surro::op::crop::forward");
  pad_impl::extract(exec, index_t(batch) * cfg.channels, pad_impl::box(cfg), x, y);
}
template <class Exec, class Real>
void crop_backward(const Exec& exec, const PadCfg& cfg, int batch, const Real* dy, Real* dx) {
  if (!dx) return;
  ScopedRegion region("surro::op::crop::backward");
  pad_impl::embed(exec, index_t(batch) * cfg.channels, pad_impl::box(cfg), dy, dx);
}

#define SURRO_X(Exec, Real)                                                                    \
  template void pad_forward<Exec, Real>(const Exec&, const PadCfg&, int, const Real*, Real*);  \
  template void pad_backward<Exec, Real>(const Exec&, const PadCfg&, int, const Real*, Real*); \
  template void crop_forward<Exec, Real>(const Exec&, const PadCfg&, int, const Real*, Real*); \
  template void crop_backward<Exec, Real>(const Exec&, const PadCfg&, int, const Real*, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
