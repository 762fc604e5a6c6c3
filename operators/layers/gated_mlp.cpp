#include "operators/layers/gated_mlp.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/geglu.hpp"
#include "operators/layers/instantiate.hpp"

namespace surro::op {

namespace gated_mlp_impl {
inline LinearCfg in_cfg(const GatedMlpCfg& c) {
  return {c.dim, 2 * c.hidden(), true};
}
inline LinearCfg out_cfg(const GatedMlpCfg& c) {
  return {c.hidden(), c.dim, true};
}
inline RmsNormCfg norm_cfg(const GatedMlpCfg& c) {
  return {c.dim, c.eps};
}
}  // namespace gated_mlp_impl

void gated_mlp_register(ParamTable& table, const std::string& prefix, const GatedMlpCfg& cfg) {
  SURRO_REQUIRE(cfg.dim > 0 && cfg.mult > 0, prefix << ": gated_mlp dim = " << cfg.dim
                                                    << ", mult = " << cfg.mult << ": expected positive");
  rms_norm_register(table, prefix + ".norm", gated_mlp_impl::norm_cfg(cfg));
  linear_register(table, prefix + ".in", gated_mlp_impl::in_cfg(cfg));
  linear_register(table, prefix + ".out", gated_mlp_impl::out_cfg(cfg));
}

template <class Exec>
GatedMlpWorkspace<Exec>::GatedMlpWorkspace(const gemm::Gemm<Exec>& shared, const GatedMlpCfg& c, index_t r)
    : cfg(c),
      rows(r),
      in(shared, gated_mlp_impl::in_cfg(c), LinearShape{1, r, 1, 1}),
      out(shared, gated_mlp_impl::out_cfg(c), LinearShape{1, r, 1, 1}) {}

template <class Exec, class Real>
void gated_mlp_init(const Exec& exec, const GatedMlpCfg& cfg, const GatedMlpParams<Real>& p,
                    std::uint64_t seed, std::uint64_t stream) {
  rms_norm_init(exec, gated_mlp_impl::norm_cfg(cfg), p.scale);
  linear_init(exec, gated_mlp_impl::in_cfg(cfg), p.w_in, p.b_in, seed, stream);
  linear_init(exec, gated_mlp_impl::out_cfg(cfg), p.w_out, p.b_out, seed, stream + 2);
}

template <class Exec, class Real>
void gated_mlp_forward(const Exec& exec, const GatedMlpWorkspace<Exec>& ws,
                       const GatedMlpParams<const Real>& p, const Real* x, const GatedMlpSaved<Real>& s,
                       Real* y) {
  ScopedRegion region("surro::op::gated_mlp::forward");
  const GatedMlpCfg& c = ws.cfg;
  rms_norm_forward(exec, gated_mlp_impl::norm_cfg(c), ws.rows, p.scale, x, s.normed, s.rms);
  linear_forward(exec, ws.in, p.w_in, p.b_in, s.normed, s.hidden);
  geglu_forward(exec, ws.rows, c.hidden(), static_cast<const Real*>(s.hidden), s.gated);
  linear_forward(exec, ws.out, p.w_out, p.b_out, static_cast<const Real*>(s.gated), y);
}

template <class Exec, class Real>
void gated_mlp_backward(const Exec& exec, const GatedMlpWorkspace<Exec>& ws,
                        const GatedMlpParams<const Real>& p, const Real* x, const GatedMlpSaved<Real>& s,
                        const Real* dy, const GatedMlpScratch<Real>& t, const GatedMlpParams<Real>& g,
                        Real* dx) {
  ScopedRegion region("surro::op::gated_mlp::backward");
  const GatedMlpCfg& c = ws.cfg;
  linear_backward(exec, ws.out, p.w_out, static_cast<const Real*>(s.gated), dy, g.w_out, g.b_out, t.dgated,
                  t.partial);
  geglu_backward(exec, ws.rows, c.hidden(), static_cast<const Real*>(s.hidden),
                 static_cast<const Real*>(t.dgated), t.dhidden);
  linear_backward(exec, ws.in, p.w_in, static_cast<const Real*>(s.normed),
                  static_cast<const Real*>(t.dhidden), g.w_in, g.b_in, t.dnormed, t.partial);
  rms_norm_backward(exec, gated_mlp_impl::norm_cfg(c), ws.rows, p.scale, x, static_cast<const Real*>(s.rms),
                    static_cast<const Real*>(t.dnormed), g.scale, dx, t.partial);
}

#if SURRO_OP_DEVICE_BUILD
template struct GatedMlpWorkspace<HostExec>;
template struct GatedMlpWorkspace<ExecSpace>;
#else
template struct GatedMlpWorkspace<HostExec>;
#endif

#define SURRO_X(Exec, Real)                                                                               \
  template void gated_mlp_init<Exec, Real>(const Exec&, const GatedMlpCfg&, const GatedMlpParams<Real>&,  \
                                           std::uint64_t, std::uint64_t);                                 \
  template void gated_mlp_forward<Exec, Real>(const Exec&, const GatedMlpWorkspace<Exec>&,                \
                                              const GatedMlpParams<const Real>&, const Real*,             \
                                              const GatedMlpSaved<Real>&, Real*);                         \
  template void gated_mlp_backward<Exec, Real>(                                                           \
      const Exec&, const GatedMlpWorkspace<Exec>&, const GatedMlpParams<const Real>&, const Real*,        \
      const GatedMlpSaved<Real>&, const Real*, const GatedMlpScratch<Real>&, const GatedMlpParams<Real>&, \
      Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
