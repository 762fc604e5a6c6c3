#include "operators/models/fno.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <string>

namespace surro::op {

namespace fno_impl {

// dst += src over n elements (residual sums: spectral + linear branch, and their gradients).
template <class Exec, class Real>
void add_into(const Exec& exec, index_t n, const Real* src, Real* dst) {
  Kokkos::parallel_for(
      "surro::fno::add_into", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { dst[i] += src[i]; });
}

std::string layer(int l, const char* part) { return "fno.layer" + std::to_string(l) + "." + part; }

}  // namespace fno_impl

FnoCfg read_fno_section(config::Node& node, int in_channels, int out_channels) {
  FnoCfg c;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  const std::string preset =
      node.get_string("preset", "none", config::one_of({"none", "ns2d", "darcy2d", "burgers1d"}));
  std::vector<long long> modes, padding;
  if (preset == "ns2d") {
    modes = {8, 8};
  } else if (preset == "darcy2d") {
    modes = {12, 12};
    c.width = 32;
    padding = {9, 9};
  } else if (preset == "burgers1d") {
    modes = {16};
    c.width = 64;
  }
  if (preset == "none" && !node.has("modes"))
    node.fail("modes", "missing; expected an array of positive integers (one per spatial axis), or a preset");
  modes = node.get_int_array("modes", modes, config::positive());
  if (modes.empty() || modes.size() > 3)
    node.fail("modes", "expected 1 to 3 entries (one per spatial axis), got " + std::to_string(modes.size()));
  c.modes.assign(modes.begin(), modes.end());
  c.width = static_cast<int>(node.get_int("width", c.width, config::positive()));
  c.layers = static_cast<int>(node.get_int("layers", c.layers, config::positive()));
  c.projection = static_cast<int>(node.get_int("projection", c.projection, config::positive()));
  padding = node.get_int_array("padding", padding, config::non_negative());
  if (!padding.empty() && padding.size() != modes.size())
    node.fail("padding", "expected " + std::to_string(modes.size()) + " entries (one per spatial axis) or none, got " +
                             std::to_string(padding.size()));
  c.padding.assign(padding.begin(), padding.end());
  c.gemm = read_gemm_options(node);
  node.finish();
  return c;
}

void fno_validate(const FnoCfg& cfg, const std::vector<int>& grid) {
  const int d = cfg.dims();
  SURRO_REQUIRE(d >= 1 && d <= 3, "fno: " << d << " modes entries: expected 1, 2 or 3 (one per spatial axis)");
  SURRO_REQUIRE(static_cast<int>(grid.size()) == d,
                "fno: the data grid has " << grid.size() << " axes but modes has " << d << " entries");
  SURRO_REQUIRE(cfg.in_channels > 0 && cfg.out_channels > 0 && cfg.width > 0 && cfg.layers > 0 && cfg.projection > 0,
                "fno: in_channels, out_channels, width, layers and projection must all be positive");
  SURRO_REQUIRE(cfg.padding.empty() || static_cast<int>(cfg.padding.size()) == d,
                "fno: padding has " << cfg.padding.size() << " entries: expected 0 or " << d);
  std::vector<int> padded = grid;
  for (std::size_t i = 0; i < cfg.padding.size(); ++i) padded[i] += cfg.padding[i];
  spectral_conv_validate({cfg.width, cfg.width, cfg.modes}, padded);
}

void fno_register(ParamTable& table, const FnoCfg& cfg) {
  pointwise_linear_register(table, "fno.lift", {cfg.in_channels + cfg.dims(), cfg.width, true});
  for (int l = 0; l < cfg.layers; ++l) {
    spectral_conv_register(table, fno_impl::layer(l, "spectral"), {cfg.width, cfg.width, cfg.modes});
    pointwise_linear_register(table, fno_impl::layer(l, "linear"), {cfg.width, cfg.width, true});
  }
  pointwise_linear_register(table, "fno.proj1", {cfg.width, cfg.projection, true});
  pointwise_linear_register(table, "fno.proj2", {cfg.projection, cfg.out_channels, true});
}

std::size_t fno_reference_parameter_count(const FnoCfg& cfg, const ParamTable& table) {
  const std::size_t batchnorm = cfg.dims() >= 2 ? std::size_t(cfg.layers) * 2 * cfg.width : 0;
  return table.parameter_count() + batchnorm;
}

template <class Exec, class Real>
struct Fno<Exec, Real>::State {
  using mem = typename Exec::memory_space;
  using Buf = View1<Real, mem>;
  using CBuf = View1<Complex<Real>, mem>;

  // Parameter slots.
  std::size_t lift_w, lift_b, p1_w, p1_b, p2_w, p2_b;
  std::vector<std::size_t> spec_w, lin_w, lin_b;

  // Layer configs and workspaces (plans and handles built once).
  GridChannelsCfg grid_cfg;
  PadCfg pad_cfg;
  bool padded = false;
  index_t n = 0, np = 0;  // points unpadded / padded
  PointwiseLinearWorkspace<Exec> lift, lin, p1, p2;
  SpectralConvWorkspace<Exec, Real> spec;

  // Activations: (B, C, N...) each. In inference h and z alternate between two buffers.
  Buf xg;               // (B, Cin + d, N)
  Buf h0;               // (B, W, N) lifted, before padding (padded models only)
  std::vector<Buf> h;   // L+1 entries (training) or 2 (inference): (B, W, Np)
  std::vector<Buf> z;   // L entries (training): (B, W, Np) pre-activation
  std::vector<CBuf> xm; // L entries (training): (M, B, W) retained modes of each layer input
  Buf tmp;              // (B, W, Np) the linear branch's dx in backward (training only)
  Buf hc;               // (B, W, N) cropped (padded models only)
  Buf q, qa;            // (B, P, N) projection pre- and post-GELU (qa: training only)
  // Gradients (training only).
  Buf dqa, dq, g_cur, g_next, dh0, dxg;

  State(const Exec& exec, const FnoCfg& c, int B, const std::vector<int>& grid, bool training)
      : grid_cfg{c.in_channels, grid},
        pad_cfg{c.width, grid, c.padding.empty() ? std::vector<int>(grid.size(), 0) : c.padding},
        lift(exec, {c.in_channels + c.dims(), c.width, true}, B, points(grid), c.gemm),
        lin(exec, {c.width, c.width, true}, B, points(padded_grid(c, grid)), c.gemm),
        p1(exec, {c.width, c.projection, true}, B, points(grid), c.gemm),
        p2(exec, {c.projection, c.out_channels, true}, B, points(grid), c.gemm),
        spec(exec, {c.width, c.width, c.modes}, B, padded_grid(c, grid), c.gemm) {
    for (int p : pad_cfg.pad) padded = padded || p > 0;
    n = points(grid);
    np = points(padded_grid(c, grid));
    const index_t W = c.width, P = c.projection;
    auto buf = [&](const char* label, index_t size) { return Buf(std::string("surro::fno::") + label, size); };
    xg = buf("grid_input", B * (c.in_channels + c.dims()) * n);
    if (padded) {
      h0 = buf("lifted", B * W * n);
      hc = buf("cropped", B * W * n);
    }
    const int nh = training ? c.layers + 1 : 2;
    for (int i = 0; i < nh; ++i) h.push_back(buf("h", B * W * np));
    if (training) {
      for (int l = 0; l < c.layers; ++l) {
        z.push_back(buf("z", B * W * np));
        xm.push_back(CBuf("surro::fno::x_modes", spec.modes * B * W));
      }
      dqa = buf("d_proj_act", B * P * n);
      dq = buf("d_proj", B * P * n);
      g_cur = buf("d_h", B * W * np);
      g_next = buf("d_h_next", B * W * np);
      if (padded) dh0 = buf("d_lifted", B * W * n);
      dxg = buf("d_grid_input", B * (c.in_channels + c.dims()) * n);
      tmp = buf("linear_branch", B * W * np);
      qa = buf("proj_act", B * P * n);
    }
    q = buf("proj", B * P * n);  // inference: the GELU in place
  }

  static index_t points(const std::vector<int>& g) {
    index_t p = 1;
    for (int e : g) p *= e;
    return p;
  }
  static std::vector<int> padded_grid(const FnoCfg& c, const std::vector<int>& g) {
    std::vector<int> out = g;
    for (std::size_t i = 0; i < c.padding.size(); ++i) out[i] += c.padding[i];
    return out;
  }
};

template <class Exec, class Real>
Fno<Exec, Real>::Fno(const Exec& exec, const FnoCfg& cfg, const ParamTable& table, int batch, std::vector<int> grid,
                     bool training)
    : GridModel<Exec, Real>(batch),
      m_cfg(cfg),
      m_table(&table),
      m_batch(batch),
      m_grid(std::move(grid)),
      m_training(training) {
  fno_validate(cfg, m_grid);
  SURRO_REQUIRE(batch > 0, "fno: batch = " << batch << ": expected > 0");
  m_state = std::make_unique<State>(exec, cfg, batch, m_grid, training);
  State& s = *m_state;
  s.lift_w = table.slot("fno.lift.weight").offset;
  s.lift_b = table.slot("fno.lift.bias").offset;
  for (int l = 0; l < cfg.layers; ++l) {
    s.spec_w.push_back(table.slot(fno_impl::layer(l, "spectral.weight")).offset);
    s.lin_w.push_back(table.slot(fno_impl::layer(l, "linear.weight")).offset);
    s.lin_b.push_back(table.slot(fno_impl::layer(l, "linear.bias")).offset);
  }
  s.p1_w = table.slot("fno.proj1.weight").offset;
  s.p1_b = table.slot("fno.proj1.bias").offset;
  s.p2_w = table.slot("fno.proj2.weight").offset;
  s.p2_b = table.slot("fno.proj2.bias").offset;
}

template <class Exec, class Real>
Fno<Exec, Real>::~Fno() = default;

template <class Exec, class Real>
void Fno<Exec, Real>::init(const Exec& exec, Real* params, std::uint64_t seed) const {
  const State& s = *m_state;
  const FnoCfg& c = m_cfg;
  // One RNG stream per tensor: its slot index in the table.
  auto stream = [&](const std::string& name) {
    const auto& slots = m_table->slots();
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (slots[i].name == name) return static_cast<std::uint64_t>(i);
    return std::uint64_t(0);
  };
  pointwise_linear_init(exec, s.lift.cfg, params + s.lift_w, params + s.lift_b, seed, stream("fno.lift.weight"));
  for (int l = 0; l < c.layers; ++l) {
    spectral_conv_init(exec, s.spec.cfg, reinterpret_cast<Complex<Real>*>(params + s.spec_w[l]), seed,
                       stream(fno_impl::layer(l, "spectral.weight")));
    pointwise_linear_init(exec, s.lin.cfg, params + s.lin_w[l], params + s.lin_b[l], seed,
                          stream(fno_impl::layer(l, "linear.weight")));
  }
  pointwise_linear_init(exec, s.p1.cfg, params + s.p1_w, params + s.p1_b, seed, stream("fno.proj1.weight"));
  pointwise_linear_init(exec, s.p2.cfg, params + s.p2_w, params + s.p2_b, seed, stream("fno.proj2.weight"));
}

template <class Exec, class Real>
void Fno<Exec, Real>::forward(const Exec& exec, const Real* params, const Real* x, Real* y) {
  ScopedRegion region("surro::fno::forward");
  State& s = *m_state;
  const FnoCfg& c = m_cfg;
  const int B = m_batch;
  auto cw = [&](std::size_t off) { return reinterpret_cast<const Complex<Real>*>(params + off); };

  grid_channels_forward(exec, s.grid_cfg, B, x, s.xg.data());
  Real* lifted = s.padded ? s.h0.data() : s.h[0].data();
  pointwise_linear_forward(exec, s.lift, params + s.lift_w, params + s.lift_b, s.xg.data(), lifted);
  if (s.padded) pad_forward(exec, s.pad_cfg, B, s.h0.data(), s.h[0].data());

  Real* out = nullptr;  // (B, W, Np): the last layer's output
  for (int l = 0; l < c.layers; ++l) {
    // Training keeps every h_l, z_l and the modes; inference alternates two buffers, z in place.
    Real* h_in = m_training ? s.h[l].data() : s.h[l % 2].data();
    Real* z = m_training ? s.z[l].data() : s.h[(l + 1) % 2].data();
    Complex<Real>* modes = m_training ? s.xm[l].data() : nullptr;
    spectral_conv_forward(exec, s.spec, cw(s.spec_w[l]), h_in, z, modes);
    // z += W h + b: the pointwise branch accumulates onto the spectral one in the GEMM's store;
    // then h_{l+1} = gelu(z) with the bias in the same pass (in place when inferring).
    if (l + 1 < c.layers) {
      Real* h_out = m_training ? s.h[l + 1].data() : z;
      pointwise_linear_gelu_forward(exec, s.lin, params + s.lin_w[l], params + s.lin_b[l], h_in, z, h_out,
                                    true);
      out = h_out;
    } else {
      pointwise_linear_forward(exec, s.lin, params + s.lin_w[l], params + s.lin_b[l], h_in, z, true);
      out = z;
    }
  }
  Real* features = out;
  if (s.padded) {
    crop_forward(exec, s.pad_cfg, B, out, s.hc.data());
    features = s.hc.data();
  }
  // The projection's GELU in place when inferring: only backward needs the pre-activation q.
  Real* qa = m_training ? s.qa.data() : s.q.data();
  pointwise_linear_gelu_forward(exec, s.p1, params + s.p1_w, params + s.p1_b, features, s.q.data(), qa);
  pointwise_linear_forward(exec, s.p2, params + s.p2_w, params + s.p2_b, qa, y);
  m_features = features;
}

template <class Exec, class Real>
void Fno<Exec, Real>::backward(const Exec& exec, const Real* params, const Real* dy, Real* grads, Real* dx) {
  SURRO_REQUIRE(m_training, "fno: backward on a model built for inference (training = false)");
  ScopedRegion region("surro::fno::backward");
  State& s = *m_state;
  const FnoCfg& c = m_cfg;
  const int B = m_batch;
  const index_t layer_size = index_t(B) * c.width * s.np;
  auto cw = [&](std::size_t off) { return reinterpret_cast<const Complex<Real>*>(params + off); };
  auto cg = [&](std::size_t off) { return reinterpret_cast<Complex<Real>*>(grads + off); };

  pointwise_linear_backward(exec, s.p2, params + s.p2_w, s.qa.data(), dy, grads + s.p2_w, grads + s.p2_b,
                            s.dqa.data());
  gelu_backward(exec, index_t(B) * c.projection * s.n, s.q.data(), s.dqa.data(), s.dq.data());
  // d(features): straight into g_cur when unpadded, else into dh0 (N) and then padded with zeros.
  Real* d_features = s.padded ? s.dh0.data() : s.g_cur.data();
  pointwise_linear_backward(exec, s.p1, params + s.p1_w, m_features, s.dq.data(), grads + s.p1_w, grads + s.p1_b,
                            d_features);
  if (s.padded) crop_backward(exec, s.pad_cfg, B, s.dh0.data(), s.g_cur.data());

  typename State::Buf cur = s.g_cur, next = s.g_next;
  for (int l = c.layers - 1; l >= 0; --l) {
    // cur holds d h_{l+1} (d z_l for the last layer); turn it into d z_l in place.
    if (l + 1 < c.layers) gelu_backward(exec, layer_size, s.z[l].data(), cur.data(), cur.data());
    spectral_conv_backward(exec, s.spec, cw(s.spec_w[l]), s.xm[l].data(), cur.data(), cg(s.spec_w[l]),
                           next.data());
    pointwise_linear_backward(exec, s.lin, params + s.lin_w[l], s.h[l].data(), cur.data(), grads + s.lin_w[l],
                              grads + s.lin_b[l], s.tmp.data());
    fno_impl::add_into(exec, layer_size, s.tmp.data(), next.data());
    std::swap(cur, next);  // cur = d h_l
  }
  Real* d_lifted = cur.data();
  if (s.padded) {
    pad_backward(exec, s.pad_cfg, B, cur.data(), s.dh0.data());
    d_lifted = s.dh0.data();
  }
  pointwise_linear_backward(exec, s.lift, params + s.lift_w, s.xg.data(), d_lifted, grads + s.lift_w,
                            grads + s.lift_b, dx ? s.dxg.data() : nullptr);
  if (dx) grid_channels_backward(exec, s.grid_cfg, B, s.dxg.data(), dx);
}

std::string FnoArchitecture::summary(const ParamTable& table) const {
  std::string modes;
  for (int m : m_cfg.modes) modes += (modes.empty() ? "" : "x") + std::to_string(m);
  return "fno " + std::to_string(m_cfg.dims()) + "D, modes " + modes + ", width " + std::to_string(m_cfg.width) +
         ", " + std::to_string(m_cfg.layers) + " layers, " + std::to_string(table.parameter_count()) +
         " parameters (" + std::to_string(fno_reference_parameter_count(m_cfg, table)) +
         " as the FNO paper counts them), " + gemm_options_name(m_cfg.gemm) + " GEMMs";
}

void FnoArchitecture::bind(const DataShape& shape) {
  if (shape.on_mesh())
    SURRO_THROW(ErrorKind::usage, "model.type: fno works on grids, but the data are on meshes (use "
                                  "mesh_transformer or meshgraphnet)");
  FnoCfg cfg = m_cfg;
  cfg.in_channels = shape.in_channels;
  cfg.out_channels = shape.out_channels;
  fno_validate(cfg, shape.grid);
  record_shape(shape);
  m_cfg = cfg;
}

void FnoArchitecture::init(const ExecSpace& exec, const ParamTable& table, float* params,
                           std::uint64_t seed) const {
  require_bound("init");
  // init reads only the config and the table; a batch-1 inference instance plans the least memory.
  Fno<ExecSpace, float>(exec, m_cfg, table, 1, shape().grid, false).init(exec, params, seed);
}

std::unique_ptr<Model<ExecSpace, float>> FnoArchitecture::make(const ExecSpace& exec, const ParamTable& table,
                                                               const PlanShape& plan, bool training) const {
  require_bound("make");
  return std::make_unique<Fno<ExecSpace, float>>(exec, m_cfg, table, plan.batch, shape().grid, training);
}

#define SURRO_X(Exec, Real) template class Fno<Exec, Real>;
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
