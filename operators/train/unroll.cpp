#include "operators/train/unroll.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/loss.hpp"

namespace surro::op {

UnrollMode parse_unroll_mode(const std::string& name) {
  if (name == "unrolled") return UnrollMode::unrolled;
  if (name == "pushforward") return UnrollMode::pushforward;
  SURRO_THROW(ErrorKind::runtime, "unroll mode \"" << name << "\": expected unrolled or pushforward");
}

namespace {

template <class Real>
struct Copy {
  Real* dst;
  const Real* src;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const { dst[i] = src[i]; }
};

// dst window (B, T * C, P) <- frames 1 .. T - 1 of src, then frame (B, C, P). dst may equal src:
// each thread walks its column through t in order. i runs over (b, c, p).
template <class Real>
struct Shift {
  Real* dst;
  const Real* src;
  const Real* frame;
  int frames;
  index_t per_frame;  // C * P
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    const index_t base = b * frames * per_frame + j;
    for (int t = 0; t + 1 < frames; ++t) dst[base + t * per_frame] = src[base + (t + 1) * per_frame];
    dst[base + (frames - 1) * per_frame] = frame[i];
  }
};

// dst (B, C * P) <- frame t of src (B, T * C * P). i runs over (b, c, p).
template <class Real>
struct Gather {
  Real* dst;
  const Real* src;
  int frames, t;
  index_t per_frame;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    dst[i] = src[(b * frames + t) * per_frame + j];
  }
};

// The inverse of Gather: dst frame t of (B, T * C * P) <- src (B, C * P).
template <class Real>
struct Scatter {
  Real* dst;
  const Real* src;
  int frames, t;
  index_t per_frame;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    dst[(b * frames + t) * per_frame + j] = src[i];
  }
};

// Step t's window gradient dw (B, T_in * C * P): slot s holds prediction k = t + s - T_in when
// k >= 0; add that slot into dpred_k (dpred: (T_out, B * C * P)). Ground-truth slots are dropped.
template <class Real>
struct SplitWindowGrad {
  Real* dpred;
  const Real* dw;
  int t_in, t;
  index_t per_frame, frame;  // C * P; B * C * P
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t b = i / per_frame, j = i % per_frame;
    for (int s = (t_in - t > 0 ? t_in - t : 0); s < t_in; ++s) {
      const int k = t + s - t_in;
      dpred[k * frame + i] += dw[(b * t_in + s) * per_frame + j];
    }
  }
};

}  // namespace

template <class Exec, class Real>
using ScratchViewOf = View1<Real, typename Exec::memory_space>;

template <class Exec, class Real>
Unroller<Exec, Real>::Unroller(const Exec& exec, ModelFactory<Exec, Real> factory, int in_channels,
                               int out_channels, int batch, std::vector<int> grid, int t_out)
    : m_factory(std::move(factory)), m_batch(batch), m_t_out(t_out), m_grid(std::move(grid)) {
  SURRO_REQUIRE(t_out >= 1, "unroll: t_out = " << t_out << ": expected >= 1");
  SURRO_REQUIRE(batch >= 1, "unroll: batch = " << batch << ": expected >= 1");
  SURRO_REQUIRE(out_channels >= 1 && in_channels % out_channels == 0,
                "unroll: in_channels " << in_channels << " is not a multiple of out_channels " << out_channels
                                       << " (the window holds whole frames)");
  m_channels = out_channels;
  m_t_in = in_channels / out_channels;
  index_t n = 1;
  for (int e : m_grid) n *= e;
  m_frame = index_t(batch) * m_channels * n;
  m_window = m_frame * m_t_in;
  m_pred = make_scratch<ScratchViewOf<Exec, Real>>(exec, "surro::unroll::pred", std::size_t(m_frame) * t_out);
  m_dpred =
      make_scratch<ScratchViewOf<Exec, Real>>(exec, "surro::unroll::dpred", std::size_t(m_frame) * t_out);
  m_target = make_scratch<ScratchViewOf<Exec, Real>>(exec, "surro::unroll::target", std::size_t(m_frame));
  m_dwindow = make_scratch<ScratchViewOf<Exec, Real>>(exec, "surro::unroll::dwindow", std::size_t(m_window));
}

template <class Exec, class Real>
Unroller<Exec, Real>::~Unroller() = default;

template <class Exec, class Real>
void Unroller<Exec, Real>::plan(const Exec& exec, int models, bool training) {
  if (!training) {
    if (!m_infer) m_infer = m_factory(exec, false);
  } else {
    while (static_cast<int>(m_models.size()) < models) m_models.push_back(m_factory(exec, true));
  }
  // Windows W_0 .. W_{windows-1}: one per training model, at least one.
  const std::size_t windows = std::max<std::size_t>(1, m_models.size());
  if (m_windows.extent(0) < windows * m_window)
    m_windows = make_scratch<ScratchViewOf<Exec, Real>>(exec, "surro::unroll::windows", windows * m_window);
}

template <class Exec, class Real>
double Unroller<Exec, Real>::frame_loss(const Exec& exec, int t, const Real* pred, const Real* targets,
                                        Real* dpred) {
  Kokkos::parallel_for("surro::unroll::gather", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                       Gather<Real>{m_target.data(), targets, m_t_out, t, m_frame / m_batch});
  return rel_l2_loss<Exec, Real>(exec, Reduction::sum, m_batch, m_frame / m_batch, pred, m_target.data(),
                                 dpred);
}

template <class Exec, class Real>
double Unroller<Exec, Real>::loss_and_grad(const Exec& exec, UnrollMode mode, const Real* params,
                                           const Real* x, const Real* targets, Real* grads) {
  ScopedRegion region("surro::unroll::loss_and_grad");
  const index_t per_frame = m_frame / m_batch;
  const int T = m_t_out;
  if (mode == UnrollMode::pushforward) {
    plan(exec, 1, true);
    Model<Exec, Real>& model = *m_models[0];
    Real* w = m_windows.data();
    Real* y = m_pred.data();
    Kokkos::parallel_for("surro::unroll::copy", Kokkos::RangePolicy<Exec>(exec, 0, m_window),
                         Copy<Real>{w, x});
    for (int t = 0; t + 1 < T; ++t) {  // no gradient: activations are overwritten by the next forward
      model.forward(exec, grid_batch<Exec>(m_batch), params, w, y);
      Kokkos::parallel_for("surro::unroll::shift", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                           Shift<Real>{w, w, y, m_t_in, per_frame});
    }
    model.forward(exec, grid_batch<Exec>(m_batch), params, w, y);
    const double loss = frame_loss(exec, T - 1, y, targets, m_dpred.data());
    model.backward(exec, grid_batch<Exec>(m_batch), params, m_dpred.data(), grads, nullptr);
    return loss;
  }

  plan(exec, T, true);
  Real* w0 = m_windows.data();
  Kokkos::parallel_for("surro::unroll::copy", Kokkos::RangePolicy<Exec>(exec, 0, m_window),
                       Copy<Real>{w0, x});
  double loss = 0;
  for (int t = 0; t < T; ++t) {
    Real* w = w0 + t * m_window;
    Real* y = m_pred.data() + t * m_frame;
    m_models[t]->forward(exec, grid_batch<Exec>(m_batch), params, w, y);
    loss += frame_loss(exec, t, y, targets, m_dpred.data() + t * m_frame);
    if (t + 1 < T)
      Kokkos::parallel_for("surro::unroll::shift", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                           Shift<Real>{w + m_window, w, y, m_t_in, per_frame});
  }
  for (int t = T - 1; t >= 0; --t) {
    // Step t's window holds earlier predictions only when t > 0; W_0 = x needs no gradient.
    Real* dw = t > 0 ? m_dwindow.data() : nullptr;
    m_models[t]->backward(exec, grid_batch<Exec>(m_batch), params, m_dpred.data() + t * m_frame, grads, dw);
    if (dw)
      Kokkos::parallel_for("surro::unroll::split_window_grad", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                           SplitWindowGrad<Real>{m_dpred.data(), dw, m_t_in, t, per_frame, m_frame});
  }
  return loss;
}

template <class Exec, class Real>
double Unroller<Exec, Real>::evaluate(const Exec& exec, const Real* params, const Real* x,
                                      const Real* targets, Real* pred) {
  ScopedRegion region("surro::unroll::evaluate");
  plan(exec, 0, false);
  const index_t per_frame = m_frame / m_batch;
  Real* w = m_windows.data();
  Real* y = m_pred.data();
  Kokkos::parallel_for("surro::unroll::copy", Kokkos::RangePolicy<Exec>(exec, 0, m_window), Copy<Real>{w, x});
  double loss = 0;
  for (int t = 0; t < m_t_out; ++t) {
    m_infer->forward(exec, grid_batch<Exec>(m_batch), params, w, y);
    loss += frame_loss(exec, t, y, targets, nullptr);
    if (pred)
      Kokkos::parallel_for("surro::unroll::scatter", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                           Scatter<Real>{pred, y, m_t_out, t, per_frame});
    if (t + 1 < m_t_out)
      Kokkos::parallel_for("surro::unroll::shift", Kokkos::RangePolicy<Exec>(exec, 0, m_frame),
                           Shift<Real>{w, w, y, m_t_in, per_frame});
  }
  return loss;
}

#define SURRO_X(Exec, Real) template class Unroller<Exec, Real>;
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
