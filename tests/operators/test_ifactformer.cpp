// The whole IFactFormer: the reference's parameter count, a naive double forward written from the
// reference notes (§2.2, in the reference's own order), finite-difference gradients of every
// trainable tensor and the input in 2D and 3D for both variants, inference = training forward,
// host/device agreement, the memory plan, and the config section.
#include "core/config.hpp"
#include "core/device_memory.hpp"
#include "core/error.hpp"
#include "harness.hpp"
#include "operators/model.hpp"
#include "operators/models/ifactformer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <type_traits>

using namespace surro;
using namespace surro::test::layers;

namespace {

using Vec = std::vector<double>;

struct Case {
  op::IFactFormerCfg cfg;
  std::vector<int> grid;
  int batch;
};

// Tiny models: D 8, 2 heads of 4 (kernel 12), 2 iterations, 3 lift channels per field.
Case tiny(int dims, op::FactorizedVariant variant) {
  Case k;
  op::IFactFormerCfg& c = k.cfg;
  c.dims = dims;
  c.dim = 8;
  c.heads = 2;
  c.dim_head = 4;
  c.kernel_multiplier = 3;
  c.n_layer = 2;
  c.lift_channels = 3;
  c.fourier_scale = 1.0;
  c.variant = variant;
  if (dims == 2) {
    c.in_channels = 4;  // T = 2 frames of C = 2 fields
    c.out_channels = 2;
    c.lengths = {2.0, 1.5};
    k.grid = {6, 5};
  } else {
    c.in_channels = 2;  // T = 2 frames of one field
    c.out_channels = 1;
    k.grid = {6, 5, 4};
  }
  k.batch = 2;
  return k;
}

std::size_t points(const std::vector<int>& g) {
  std::size_t n = 1;
  for (int e : g) n *= e;
  return n;
}

double gelu(double x) {
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

// ------------------------------------------------------------------ naive reference (double)

// Every tensor channel-last (b, point, channel) in std::vectors; weights read by name. Written from
// the reference notes, in the reference's order (to_in and the reducers' first linear on every point,
// then the mean), not from the layers.
struct Reference {
  const op::IFactFormerCfg& c;
  const op::ParamTable& t;
  const Vec& p;
  std::vector<int> grid;
  int B, d, D, H, Dh, Dk;
  std::size_t N;
  int n[3] = {1, 1, 1};

  Reference(const op::IFactFormerCfg& cfg, const op::ParamTable& table, const Vec& params, std::vector<int> g,
            int b)
      : c(cfg),
        t(table),
        p(params),
        grid(std::move(g)),
        B(b),
        d(cfg.dims),
        D(cfg.dim),
        H(cfg.heads),
        Dh(cfg.dim_head),
        Dk(cfg.kernel_dim()),
        N(points(grid)) {
    for (int a = 0; a < d; ++a) n[a] = grid[a];
  }
  const double* w(const std::string& name) const { return p.data() + t.slot("ifactformer." + name).offset; }
  int coord(std::size_t q, int a) const {
    const int idx[3] = {int(q / (n[1] * n[2])), int((q / n[2]) % n[1]), int(q % n[2])};
    return idx[a];
  }
  double lin(int a, int i) const { return n[a] > 1 ? c.length(a) * i / (n[a] - 1) : 0.0; }

  // rows x (R, ci) -> (R, co) through torch's Linear (weight (co, ci)).
  Vec linear(const Vec& x, std::size_t R, int ci, int co, const double* W, const double* bias) const {
    Vec y(R * co);
    for (std::size_t r = 0; r < R; ++r)
      for (int o = 0; o < co; ++o) {
        double s = bias ? bias[o] : 0.0;
        for (int i = 0; i < ci; ++i) s += W[o * ci + i] * x[r * ci + i];
        y[r * co + o] = s;
      }
    return y;
  }
  Vec layer_norm(const Vec& x, std::size_t R, const double* g, const double* b) const {
    Vec y(x.size());
    for (std::size_t r = 0; r < R; ++r) {
      double mu = 0, var = 0;
      for (int i = 0; i < D; ++i) mu += x[r * D + i] / D;
      for (int i = 0; i < D; ++i) var += (x[r * D + i] - mu) * (x[r * D + i] - mu) / D;
      for (int i = 0; i < D; ++i) y[r * D + i] = (x[r * D + i] - mu) / std::sqrt(var + 1e-5) * g[i] + b[i];
    }
    return y;
  }
  // x (B, n_a, H Dk) channel-last: RoPE on each head's Dk channels with the axis coordinates.
  void rope(Vec& x, int a) const {
    const int h2 = Dk / 2;
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < n[a]; ++i)
        for (int h = 0; h < H; ++h) {
          double* e = &x[((std::size_t(b) * n[a] + i) * H + h) * Dk];
          const Vec old(e, e + Dk);
          for (int k = 0; k < Dk; ++k) {
            const double th = lin(a, i) * 64.0 * std::pow(10000.0, -double(2 * (k % h2)) / Dk);
            const double rot = k < h2 ? -old[k + h2] : old[k - h2];
            e[k] = old[k] * std::cos(th) + rot * std::sin(th);
          }
        }
  }
  // w (B, N, H Dh) -> sum_j K(b, h, i_a, j) w(.. j ..), per head.
  Vec apply(const Vec& kern, int a, const Vec& x) const {
    Vec y(x.size(), 0.0);
    for (int b = 0; b < B; ++b)
      for (std::size_t q = 0; q < N; ++q)
        for (int j = 0; j < n[a]; ++j) {
          int idx[3] = {coord(q, 0), coord(q, 1), coord(q, 2)};
          const int i = idx[a];
          idx[a] = j;
          const std::size_t qj = (std::size_t(idx[0]) * n[1] + idx[1]) * n[2] + idx[2];
          for (int h = 0; h < H; ++h)
            for (int e = 0; e < Dh; ++e)
              y[(b * N + q) * H * Dh + h * Dh + e] += kern[((std::size_t(b) * H + h) * n[a] + i) * n[a] + j] *
                                                      x[(b * N + qj) * H * Dh + h * Dh + e];
        }
    return y;
  }

  Vec block(const Vec& u) const {
    const std::size_t BN = B * N;
    const Vec ubar = layer_norm(u, BN, w("block.norm.weight"), w("block.norm.bias"));
    const Vec v = linear(ubar, BN, D, H * Dh, w("block.to_v.weight"), nullptr);
    const Vec uin = linear(ubar, BN, D, D, w("block.to_in.weight"), nullptr);
    static const char* ax[3] = {"x", "y", "z"};
    std::vector<Vec> kernels;
    for (int a = 0; a < d; ++a) {
      const std::string rp = std::string("block.reducer_") + ax[a] + ".";
      const Vec s = linear(uin, BN, D, D, w(rp + "to_in.weight"), nullptr);
      Vec m(std::size_t(B) * n[a] * D, 0.0);
      for (int b = 0; b < B; ++b)
        for (std::size_t q = 0; q < N; ++q)
          for (int i = 0; i < D; ++i)
            m[(std::size_t(b) * n[a] + coord(q, a)) * D + i] += s[(b * N + q) * D + i] * n[a] / N;
      const std::size_t R = std::size_t(B) * n[a];
      const Vec sn = layer_norm(m, R, w(rp + "norm.weight"), w(rp + "norm.bias"));
      const Vec hid = linear(sn, R, D, 2 * D, w(rp + "mlp1.weight"), w(rp + "mlp1.bias"));
      Vec gg(R * D);
      for (std::size_t r = 0; r < R; ++r)
        for (int i = 0; i < D; ++i) gg[r * D + i] = gelu(hid[r * 2 * D + i]) * hid[r * 2 * D + D + i];
      const Vec r = linear(gg, R, D, D, w(rp + "mlp2.weight"), w(rp + "mlp2.bias"));
      const std::string kp = std::string("block.kernel_") + ax[a] + ".";
      Vec q = linear(r, R, D, H * Dk, w(kp + "to_q.weight"), nullptr);
      Vec k = linear(r, R, D, H * Dk, w(kp + "to_k.weight"), nullptr);
      rope(q, a);
      rope(k, a);
      Vec K(std::size_t(B) * H * n[a] * n[a], 0.0);
      for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
          for (int i = 0; i < n[a]; ++i)
            for (int j = 0; j < n[a]; ++j)
              for (int e = 0; e < Dk; ++e)
                K[((std::size_t(b) * H + h) * n[a] + i) * n[a] + j] +=
                    c.kernel_scale() * q[((std::size_t(b) * n[a] + i) * H + h) * Dk + e] *
                    k[((std::size_t(b) * n[a] + j) * H + h) * Dk + e];
      kernels.push_back(K);
    }
    // U channel-last with channels (h, a, e) (parallel) or (h, e) (chained).
    const bool parallel = c.variant == op::FactorizedVariant::parallel;
    const int G = parallel ? H * d : H, CU = G * Dh;
    Vec U(BN * CU);
    if (parallel) {
      for (int a = 0; a < d; ++a) {
        const Vec ua = apply(kernels[a], a, v);
        for (std::size_t r = 0; r < BN; ++r)
          for (int h = 0; h < H; ++h)
            for (int e = 0; e < Dh; ++e) U[r * CU + (h * d + a) * Dh + e] = ua[r * H * Dh + h * Dh + e];
      }
    } else {
      U = v;
      for (int a = 0; a < d; ++a) U = apply(kernels[a], a, U);
    }
    for (int b = 0; b < B; ++b)  // InstanceNorm over the points, per (sample, channel)
      for (int ch = 0; ch < CU; ++ch) {
        double mu = 0, var = 0;
        for (std::size_t q = 0; q < N; ++q) mu += U[(b * N + q) * CU + ch] / N;
        for (std::size_t q = 0; q < N; ++q) var += std::pow(U[(b * N + q) * CU + ch] - mu, 2) / N;
        for (std::size_t q = 0; q < N; ++q)
          U[(b * N + q) * CU + ch] = (U[(b * N + q) * CU + ch] - mu) / std::sqrt(var + 1e-5);
      }
    Vec z = linear(U, BN, CU, D, w("block.to_out1.weight"), nullptr);
    for (double& e : z) e = gelu(e);
    return linear(z, BN, D, D, w("block.to_out2.weight"), nullptr);
  }

  Vec forward(const Vec& x) const {
    const int C = c.out_channels, T = c.frames(), G = c.lift_channels, K = C * G * T;
    Vec g(B * N * K), u;
    const double *fw = w("lift.field.weight"), *fb = w("lift.field.bias");
    for (int b = 0; b < B; ++b)
      for (std::size_t q = 0; q < N; ++q)
        for (int f = 0; f < C; ++f)
          for (int j = 0; j < G; ++j)
            for (int s = 0; s < T; ++s)
              g[(b * N + q) * K + (f * G + j) * T + s] =
                  gelu(fw[f * G + j] * x[(std::size_t(b) * T * C + s * C + f) * N + q] + fb[f * G + j]);
    u = linear(g, B * N, K, D, w("lift.linear.weight"), nullptr);
    const int F = D / 2;
    const double* bm = w("pos.fourier.B");
    Vec ff(N * D);
    for (std::size_t q = 0; q < N; ++q)
      for (int f = 0; f < F; ++f) {
        double th = 0;
        for (int a = 0; a < d; ++a) th += lin(a, coord(q, a)) * bm[a * F + f];
        ff[q * D + f] = std::sin(2 * M_PI * th);
        ff[q * D + F + f] = std::cos(2 * M_PI * th);
      }
    const Vec pe = linear(ff, N, D, D, w("pos.linear.weight"), w("pos.linear.bias"));
    for (int b = 0; b < B; ++b)
      for (std::size_t i = 0; i < N * D; ++i) u[b * N * D + i] += pe[i];
    for (int l = 0; l < c.n_layer; ++l) {
      const Vec blk = block(u);
      for (std::size_t i = 0; i < u.size(); ++i) u[i] += blk[i] / c.n_layer;
    }
    Vec hh = linear(u, B * N, D, D / 2, w("head.linear1.weight"), nullptr);
    for (double& e : hh) e = gelu(e);
    const Vec yl = linear(hh, B * N, D / 2, C, w("head.linear2.weight"), w("head.linear2.bias"));
    Vec y(yl.size());
    for (int b = 0; b < B; ++b)
      for (std::size_t q = 0; q < N; ++q)
        for (int o = 0; o < C; ++o) y[(std::size_t(b) * C + o) * N + q] = yl[(b * N + q) * C + o];
    return y;
  }
};

// ------------------------------------------------------------------ helpers

// Parameters for the checks: the reference initialization, then the trainable tensors replaced by
// U(-0.5, 0.5) (LayerNorm gains around 1) so that every path (the 0.02-gain kernels included)
// carries gradients of comparable size. The frozen Fourier matrix keeps its randn draw.
Vec check_params(const op::IFactFormerCfg& cfg, const op::ParamTable& table, unsigned seed) {
  HostExec exec;
  View1<double, HostMem> p("p", table.size());
  op::ifactformer_init(exec, cfg, table, p.data(), 7);
  Vec out(p.data(), p.data() + table.size());
  const Vec r = random_vector(table.size(), seed, -0.5, 0.5);
  for (const auto& s : table.slots()) {
    if (s.frozen) continue;
    const bool gain = s.name.find("norm.weight") != std::string::npos;
    for (std::size_t i = 0; i < s.count; ++i) out[s.offset + i] = (gain ? 1.0 : 0.0) + r[s.offset + i];
  }
  return out;
}

template <class Exec, class Real>
struct ModelRun {
  using mem = typename Exec::memory_space;
  Exec exec;
  op::IFactFormer<Exec, Real> model;
  std::size_t np, nx, ny;
  ModelRun(const Case& k, const op::ParamTable& table, bool training)
      : model(exec, k.cfg, table, k.batch, k.grid, training),
        np(table.size()),
        nx(std::size_t(k.batch) * k.cfg.in_channels * points(k.grid)),
        ny(std::size_t(k.batch) * k.cfg.out_channels * points(k.grid)) {}
  Vec forward(const Vec& p, const Vec& x) {
    auto pv = upload<Exec, Real>(p, "p"), xv = upload<Exec, Real>(x, "x");
    View1<Real, mem> y("y", ny);
    model.forward(exec, pv.data(), xv.data(), y.data());
    exec.fence();
    return download(y);
  }
  // (dparams net of the random values they were accumulated onto, dx) after forward(p, x).
  std::pair<Vec, Vec> backward(const Vec& p, const Vec& x, const Vec& dy) {
    forward(p, x);
    auto pv = upload<Exec, Real>(p, "p"), dyv = upload<Exec, Real>(dy, "dy");
    const Vec g0 = random_vector(np, 5);
    auto g = upload<Exec, Real>(g0, "g");
    auto dx = upload<Exec, Real>(Vec(nx, 1e30), "dx");
    model.backward(exec, pv.data(), dyv.data(), g.data(), dx.data());
    exec.fence();
    Vec gp = download(g);
    for (std::size_t i = 0; i < np; ++i) gp[i] -= double(Real(g0[i]));
    return {gp, download(dx)};
  }
};

Case re180() {
  Case k;
  k.cfg.in_channels = 3;
  k.cfg.out_channels = 3;
  k.cfg.dims = 3;
  k.cfg.lengths = {4 * M_PI, 2.0, 4 * M_PI / 3};
  k.grid = {32, 33, 16};
  k.batch = 1;
  return k;
}

std::size_t count_prefix(const op::ParamTable& t, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& s : t.slots())
    if (s.name.rfind(prefix, 0) == 0) n += s.count;
  return n;
}

}  // namespace

TEST_CASE("ifactformer: the Re_tau 180 model has the reference's 1,163,331 parameters", "[ifactformer]") {
  // models.md §2.2 (IFM-HEAD, B counted): in-lift 4,704 + positional encoding 9,456 + FABlock
  // 1,144,416 + head 4,755.
  const Case k = re180();
  op::ParamTable t;
  op::ifactformer_register(t, k.cfg);
  CHECK(t.parameter_count() == 1163331);
  CHECK(count_prefix(t, "ifactformer.lift.") == 4704);
  CHECK(count_prefix(t, "ifactformer.pos.") == 9456);
  CHECK(count_prefix(t, "ifactformer.block.") == 1144416);
  CHECK(count_prefix(t, "ifactformer.head.") == 4755);
  // The Fourier matrix B (3, 48) is frozen and last: the optimizer's prefix excludes it.
  const auto& b = t.slot("ifactformer.pos.fourier.B");
  CHECK(b.frozen);
  CHECK(b.shape == std::vector<int>{3, 48});
  CHECK(t.trainable_size() == b.offset);
  CHECK(t.slots().back().name == b.name);
  // The chained variant (IFactFormer-o) maps H Dh = 480 channels instead of 1440: 96 * 960 fewer.
  op::IFactFormerCfg o = k.cfg;
  o.variant = op::FactorizedVariant::chained;
  op::ParamTable to;
  op::ifactformer_register(to, o);
  CHECK(to.parameter_count() == 1163331 - 96 * 960);
  op::IFactFormerArchitecture arch(k.cfg);
  CHECK_THAT(arch.summary(t),
             Catch::Contains("1163331 parameters (1163187 trained, 144 in the fixed Fourier matrix)"));
}

TEST_CASE("ifactformer: forward agrees with a naive double reference (2D and 3D, both variants)",
          "[ifactformer]") {
  const int dims = GENERATE(2, 3);
  const auto variant = GENERATE(op::FactorizedVariant::parallel, op::FactorizedVariant::chained);
  Case k = tiny(dims, variant);
  if (dims == 3) k.grid = {4, 3, 5};  // the naive reference is O(N^2): keep 3D small
  CAPTURE(dims, int(variant));
  op::ParamTable table;
  op::ifactformer_register(table, k.cfg);
  const Vec p = check_params(k.cfg, table, 3);
  ModelRun<HostExec, double> run(k, table, true);
  const Vec x = random_vector(run.nx, 4);
  const Vec want = Reference(k.cfg, table, p, k.grid, k.batch).forward(x);
  // The same double arithmetic in another order (the means first): agreement to round-off,
  // ~ depth eps with depth < 1e3 stages.
  CHECK(rel_l2(run.forward(p, x), want) <= 1e-12);
}

TEST_CASE("ifactformer: finite-difference gradients of every trainable tensor and the input",
          "[ifactformer]") {
  const int dims = GENERATE(2, 3);
  const auto variant = GENERATE(op::FactorizedVariant::parallel, op::FactorizedVariant::chained);
  const Case k = tiny(dims, variant);
  CAPTURE(dims, int(variant));
  op::ParamTable table;
  op::ifactformer_register(table, k.cfg);
  const Vec p0 = check_params(k.cfg, table, 11);
  ModelRun<HostExec, double> run(k, table, true);
  const Vec x0 = random_vector(run.nx, 12), r = random_vector(run.ny, 13);
  const auto [gp, gx] = run.backward(p0, x0, r);
  // The frozen Fourier matrix gets no gradient.
  for (std::size_t i = table.trainable_size(); i < table.size(); ++i) REQUIRE(gp[i] == 0.0);
  // Sampled entries: first, last and two random ones of every trainable tensor; every 7th input.
  std::vector<std::size_t> pi, xi;
  std::mt19937 gen(17);
  for (const auto& s : table.slots()) {
    if (s.frozen) continue;
    std::set<std::size_t> e{0, s.count - 1, gen() % s.count, gen() % s.count};
    for (std::size_t j : e) pi.push_back(s.offset + j);
  }
  for (std::size_t j = 0; j < run.nx; j += 7) xi.push_back(j);
  Vec vp, vx, ap, ax;
  for (std::size_t i : pi) vp.push_back(p0[i]), ap.push_back(gp[i]);
  for (std::size_t i : xi) vx.push_back(x0[i]), ax.push_back(gx[i]);
  auto forward = [&](const std::vector<Vec>& v) {
    Vec p = p0, x = x0;
    for (std::size_t j = 0; j < pi.size(); ++j) p[pi[j]] = v[0][j];
    for (std::size_t j = 0; j < xi.size(); ++j) x[xi[j]] = v[1][j];
    return run.forward(p, x);
  };
  gradcheck({vp, vx}, forward, r, {ap, ax}, {"params", "x"});
}

TEST_CASE(
    "ifactformer: inference plans one iteration's buffers; training adds exactly the saved tensors per "
    "iteration",
    "[ifactformer]") {
  Case k = tiny(3, op::FactorizedVariant::parallel);
  auto keep = op::IFactFormerCfg::KeepU::never;
  auto planned = [&](int layers, bool training) {
    Case c = k;
    c.cfg.n_layer = layers;
    c.cfg.keep_u = keep;
    op::ParamTable t;
    op::ifactformer_register(t, c.cfg);
    return op::IFactFormer<HostExec, double>(HostExec(), c.cfg, t, c.batch, c.grid, training)
        .planned_scalars();
  };
  CHECK(planned(2, false) == planned(5, false));
  // Per iteration: u, v, z (B N (2D + H Dh)) and the per-axis tensors: six (B sum N_a, D), the
  // two norm statistics, the (B sum N_a, 2D) hidden, q and k (B sum N_a, H Dk) and K (B H sum N_a^2).
  const std::size_t B = 2, N = 120, D = 8, H = 2, Dh = 4, Dk = 12, R = B * (6 + 5 + 4);
  const std::size_t per_iter =
      B * N * (2 * D + H * Dh) + R * (6 * D + 2 + 2 * D + 2 * H * Dk) + B * H * (36 + 25 + 16);
  CHECK(planned(5, true) - planned(2, true) == 3 * per_iter);
  // keep_u adds U (B H d N Dh) and the instance norm's rstd (B H d Dh) per iteration in training
  // only; auto keeps them at this size.
  const std::size_t kept = B * H * 3 * N * Dh + B * H * 3 * Dh;
  const std::size_t infer = planned(2, false);
  for (auto mode : {op::IFactFormerCfg::KeepU::always, op::IFactFormerCfg::KeepU::automatic}) {
    keep = mode;
    CHECK(planned(5, true) - planned(2, true) == 3 * (per_iter + kept));
    CHECK(planned(2, false) == infer);
  }
}

// Three iterations, so that a backward reading another iteration's U (one slot, or the wrong one)
// changes the gradients.
TEMPLATE_LIST_TEST_CASE("ifactformer: keeping U for backward gives the bits of recomputing it",
                        "[ifactformer]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const auto variant = GENERATE(op::FactorizedVariant::parallel, op::FactorizedVariant::chained);
  Case k = tiny(3, variant);
  k.cfg.n_layer = 3;
  op::ParamTable table;
  op::ifactformer_register(table, k.cfg);
  const Vec p = check_params(k.cfg, table, 31);
  auto run = [&](op::IFactFormerCfg::KeepU mode) {
    Case c = k;
    c.cfg.keep_u = mode;
    ModelRun<Exec, Real> m(c, table, true);
    CHECK(m.model.keeps_u() == (mode == op::IFactFormerCfg::KeepU::always));  // as resolved
    const Vec x = random_vector(m.nx, 32), dy = random_vector(m.ny, 33);
    const Vec y = m.forward(p, x);
    auto [g, dx] = m.backward(p, x, dy);
    return std::make_tuple(y, g, dx);
  };
  const auto kept = run(op::IFactFormerCfg::KeepU::always),
             recomputed = run(op::IFactFormerCfg::KeepU::never);
  CHECK(std::get<0>(kept) == std::get<0>(recomputed));
  CHECK(std::get<1>(kept) == std::get<1>(recomputed));
  CHECK(std::get<2>(kept) == std::get<2>(recomputed));
}

TEMPLATE_LIST_TEST_CASE("ifactformer: inference equals training forward; every space agrees with double",
                        "[ifactformer]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const auto variant = GENERATE(op::FactorizedVariant::parallel, op::FactorizedVariant::chained);
  const Case k = tiny(3, variant);
  op::ParamTable table;
  op::ifactformer_register(table, k.cfg);
  // The reference initialization (the Fourier matrix included) in double on the host.
  HostExec host;
  View1<double, HostMem> pd("p", table.size());
  op::ifactformer_init(host, k.cfg, table, pd.data(), 21);
  const Vec p(pd.data(), pd.data() + table.size());
  ModelRun<HostExec, double> ref(k, table, true);
  const Vec x = random_vector(ref.nx, 22), dy = random_vector(ref.ny, 23);
  const Vec want = ref.forward(p, x);
  const auto [gref, dxref] = ref.backward(p, x, dy);

  ModelRun<Exec, Real> train(k, table, true), infer(k, table, false);
  CHECK_FALSE(infer.model.keeps_u());  // inference has no backward to keep U for
  const Vec y = train.forward(p, x);
  CHECK(infer.forward(p, x) == y);
  // Float: each of the ~ 2 + L (20) + 3 GEMM/norm stages adds at most (K + 2) u relative error, K <= 48
  // (the lift's C G T and to_out's H d Dh): 25 * 50 u = 7e-5; 1e-4. Double: 1e-12.
  const double tol = std::is_same_v<Real, float> ? 1e-4 : 1e-12;
  CHECK(rel_l2(y, want) <= tol);
  const auto [g, dx] = train.backward(p, x, dy);
  // Backward runs the same stages transposed; the float parameter gradients are increments onto
  // random values of size 1 (u each), so they are compared against ||g|| + sqrt(n).
  Vec diff(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) diff[i] = g[i] - gref[i];
  CHECK(std::sqrt(dot(diff, diff)) <= tol * (std::sqrt(dot(gref, gref)) + std::sqrt(double(g.size()))));
  CHECK(rel_l2(dx, dxref) <= tol);
}

TEST_CASE("ifactformer: config section, registry and refusals", "[ifactformer]") {
  config::json j = {{"type", "ifactformer"},      {"dim", 16},           {"heads", 2}, {"dim_head", 4},
                    {"lengths", {6.0, 2.0, 4.0}}, {"variant", "chained"}};
  config::Node node(j, "run.json", "model", nullptr);
  auto arch = op::read_architecture(node);
  REQUIRE(arch->type() == "ifactformer");
  const auto& c = dynamic_cast<const op::IFactFormerArchitecture&>(*arch).cfg();
  CHECK(c.dims == 3);
  CHECK(c.variant == op::FactorizedVariant::chained);
  CHECK(c.n_layer == 10);
  CHECK(c.kernel_dim() == 12);
  CHECK_FALSE(c.gemm.allow_tf32);  // matmul_precision defaults to fp32
  CHECK(c.keep_u == op::IFactFormerCfg::KeepU::automatic);
  for (const char* mode : {"always", "never"}) {
    config::json jk = {{"type", "ifactformer"}, {"keep_u", mode}};
    config::Node nk(jk, "run.json", "model", nullptr);
    const auto want =
        std::string(mode) == "always" ? op::IFactFormerCfg::KeepU::always : op::IFactFormerCfg::KeepU::never;
    CHECK(dynamic_cast<const op::IFactFormerArchitecture&>(*op::read_architecture(nk)).cfg().keep_u == want);
  }
  for (auto k : {op::IFactFormerCfg::KeepU::automatic, op::IFactFormerCfg::KeepU::always,
                 op::IFactFormerCfg::KeepU::never})
    CHECK(op::parse_keep_u(op::keep_u_name(k), "--keep-u") == k);
  CHECK_THROWS_WITH(op::parse_keep_u("sometimes", "--keep-u"),
                    Catch::Contains("--keep-u: expected auto, always or never, got 'sometimes'"));
  // auto keeps U up to 2^31 scalars of L (u_size + inter_size), or beyond that up to a quarter of the
  // GPU's free memory (0: unknown).
  const long long cap = op::IFactFormerCfg::kKeepUAutoScalars;
  CHECK(c.keeps_u(cap));
  CHECK_FALSE(c.keeps_u(cap + 1));
  CHECK_FALSE(c.keeps_u(cap + 1, 0));
  CHECK(c.keeps_u(4 * cap, 16 * cap));
  CHECK_FALSE(c.keeps_u(4 * cap, 16 * cap - 1));
  // A GPU build reads the device's free memory (the query must succeed); a host build knows none.
  if (std::is_same_v<surro::MemSpace, Kokkos::HostSpace>)
    CHECK(surro::gpu_free_bytes() == 0);
  else
    CHECK(surro::gpu_free_bytes() > 0);
  {
    config::json jt = {{"type", "ifactformer"}, {"matmul_precision", "tf32"}};
    config::Node nt(jt, "run.json", "model", nullptr);
    CHECK(dynamic_cast<const op::IFactFormerArchitecture&>(*op::read_architecture(nt)).cfg().gemm.allow_tf32);
    config::json jf = {{"type", "fno"}, {"modes", {4, 4}}, {"matmul_precision", "tf32"}};
    config::Node nf(jf, "run.json", "model", nullptr);
    CHECK(op::read_architecture(nf)->summary(op::ParamTable()).find("tf32 GEMMs") != std::string::npos);
  }
  {
    // A fresh architecture per bind: a model binds to one data shape.
    const op::IFactFormerCfg base = dynamic_cast<const op::IFactFormerArchitecture&>(*arch).cfg();
    auto fresh = [&] { return std::make_shared<op::IFactFormerArchitecture>(base); };
    auto bound = fresh();
    CHECK_NOTHROW(bound->bind(op::DataShape{6, 3, {8, 9, 4}}));
    CHECK(bound->in_channels() == 6);
    CHECK_NOTHROW(bound->bind(op::DataShape{6, 3, {8, 9, 4}}));  // the same shape again is fine
    CHECK_THROWS_WITH(bound->bind(op::DataShape{3, 3, {8, 9, 4}}), Catch::Contains("already bound"));
    CHECK_THROWS_WITH(fresh()->bind(op::DataShape{6, 3, {8, 9}}),
                      Catch::Contains("the data grid has 2 axes but model.dims = 3"));
    CHECK_THROWS_WITH(fresh()->bind(op::DataShape{5, 3, {8, 9, 4}}),
                      Catch::Contains("in_channels 5, out_channels 3"));
    CHECK_THROWS_WITH(fresh()->bind(op::DataShape{6, 3, {}, 2}), Catch::Contains("works on grids"));
  }
  const auto types = op::architecture_types();
  CHECK(std::find(types.begin(), types.end(), "ifactformer") != types.end());

  auto fails = [](config::json js) {
    config::Node n(js, "run.json", "model", nullptr);
    try {
      op::read_ifactformer_section(n, 1, 1);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(fails({{"dim", 9}}), Catch::Contains("model.dim: expected an even number"));
  CHECK_THAT(fails({{"dims", 4}}), Catch::Contains("model.dims: expected 2 or 3"));
  CHECK_THAT(fails({{"dims", 2}, {"lengths", {1.0, 1.0, 1.0}}}),
             Catch::Contains("model.lengths: expected 2 entries"));
  CHECK_THAT(fails({{"variant", "serial"}}), Catch::Contains("model.variant"));
  CHECK_THAT(fails({{"matmul_precision", "bf16"}}), Catch::Contains("model.matmul_precision"));
  CHECK_THAT(fails({{"keep_u", "sometimes"}}), Catch::Contains("model.keep_u"));
  CHECK_THAT(fails({{"dim_head", 3}, {"kernel_multiplier", 1}}), Catch::Contains("model.kernel_multiplier"));
  CHECK_THAT(fails({{"heads", 5}, {"depth", 2}}), Catch::Contains("depth"));
}

TEST_CASE("ifactformer: initialization follows PyTorch's defaults", "[ifactformer]") {
  const Case k = re180();
  op::ParamTable t;
  op::ifactformer_register(t, k.cfg);
  ExecSpace exec;  // the Architecture initializes on the default space
  View1<float> pd("p", t.size());
  op::IFactFormerArchitecture arch(k.cfg);
  arch.bind(op::DataShape{k.cfg.in_channels, k.cfg.out_channels, k.grid});
  arch.init(exec, t, pd.data(), 1234);
  const auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pd);
  auto slice = [&](const std::string& name) {
    const auto& s = t.slot("ifactformer." + name);
    return Vec(p.data() + s.offset, p.data() + s.offset + s.count);
  };
  auto max_of = [](const Vec& v) { return max_abs(v); };
  auto mean_sq = [](const Vec& v) { return dot(v, v) / double(v.size()); };
  // Bounds: U(+-1/sqrt(fan_in)); q, k Xavier gain 0.02: 0.02 sqrt(6 / (96 + 1440)) = 0.00125.
  CHECK(max_of(slice("lift.field.weight")) <= 1.0);
  CHECK(max_of(slice("lift.linear.weight")) <= 1 / std::sqrt(48.0));
  CHECK(max_of(slice("block.to_out1.weight")) <= 1 / std::sqrt(1440.0));
  const double qk = 0.02 * std::sqrt(6.0 / 1536);
  const Vec q = slice("block.kernel_y.to_q.weight");
  CHECK(max_of(q) <= qk);
  // E w^2 = bound^2 / 3 over 138,240 draws: standard error bound^2 sqrt(4/45) / sqrt(138240); 4 sigma.
  CHECK(std::abs(mean_sq(q) - qk * qk / 3) <= 4 * qk * qk * std::sqrt(4.0 / 45) / std::sqrt(138240.0));
  CHECK(slice("block.norm.weight") == Vec(96, 1.0));
  CHECK(slice("block.reducer_z.norm.bias") == Vec(96, 0.0));
  // B = randn * 8: E B^2 = 64 with standard error 64 sqrt(2 / 144) = 7.5; 4 sigma.
  CHECK(std::abs(mean_sq(slice("pos.fourier.B")) - 64) <= 4 * 7.5);
  // Distinct streams: the two kernels of one axis differ.
  CHECK(slice("block.kernel_x.to_q.weight") != slice("block.kernel_x.to_k.weight"));
}
