// IFactFormer layers (operators/layers): each against a naive double reference on every space in
// RealCases, its gradients against the double host run, and a central finite-difference check in
// double of every input and parameter (harness.hpp states that tolerance).
//
// Float tolerances: an output that is a K-term sum carries at most gamma_K = K u relative error per
// term (Higham 3.5); measured normwise over random data in [-1, 1] we allow 8 u (K + 2), as the
// spectral_conv test. Gradients accumulated onto random initial values of size ~1 are compared
// normwise against ||g|| + sqrt(n) (the accumulation adds u per element). Double: the same bounds.
#include "core/error.hpp"
#include "operators/harness.hpp"
#include "operators/layers/axis_kernel.hpp"
#include "operators/layers/axis_mean.hpp"
#include "operators/layers/field_lift.hpp"
#include "operators/layers/fourier_features.hpp"
#include "operators/layers/geglu.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/instance_norm.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/layer_norm.hpp"
#include "operators/layers/linear.hpp"
#include "operators/layers/rope.hpp"
#include "operators/params.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace surro;
using namespace surro::test::layers;
using surro::test::epsilon;

namespace {

using Vars = std::vector<std::vector<double>>;
constexpr double kGarbage = 1e30;  // pre-fills dx: "overwritten" means none of it survives

std::vector<double> minus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
  return a;
}

double norm(const std::vector<double>& a) {
  return std::sqrt(dot(a, a));
}

// Gradient increments against the reference, normwise: ||g - ref|| <= tol (||ref|| + sqrt(n)).
void require_grads(const Vars& g, const Vars& ref, double tol, const std::vector<const char*>& names) {
  REQUIRE(g.size() == ref.size());
  for (std::size_t a = 0; a < g.size(); ++a) {
    INFO("gradient of " << names[a]);
    REQUIRE(g[a].size() == ref[a].size());
    REQUIRE(norm(minus(g[a], ref[a])) <= tol * (norm(ref[a]) + std::sqrt(double(g[a].size()))));
  }
}

// A run's common machinery: vars uploaded as Real on Exec's memory space.
template <class Exec, class Real>
struct RunBase {
  using mem = typename Exec::memory_space;
  using Buf = View1<Real, mem>;
  Exec exec;
  Buf up(const std::vector<double>& v, const char* label) const { return upload<Exec, Real>(v, label); }
  Buf garbage(std::size_t n) const { return up(std::vector<double>(n, kGarbage), "dx"); }
  Buf zeros(std::size_t n) const { return Buf("buf", n); }
};

// The generic check: forward against `want`; backward against the double host run `ref`; finite
// differences in double.
template <class Run, class Ref>
void check_layer(Run& run, Ref& ref, const Vars& v, const std::vector<double>& want, double tol,
                 const std::vector<const char*>& names, unsigned seed) {
  using Real = typename Run::real;
  const auto y = run.forward(v);
  REQUIRE(rel_l2(y, want) <= tol);
  const auto r = random_vector(y.size(), seed);
  const auto g = run.backward(v, r);
  require_grads(g, ref.backward(v, r), tol, names);
  if constexpr (std::is_same_v<Real, double>) {
    gradcheck(
        v, [&](const Vars& p) { return run.forward(p); }, r, g, names);
  }
}

// Index of (b, r, c) of a (B, R, C) activation stored in G groups (operators/layers/linear.hpp).
std::size_t gidx(int G, int C, int R, int b, int r, int c) {
  const int dg = C / G;
  return ((std::size_t(b) * G + c / dg) * R + r) * dg + c % dg;
}

// ---------------------------------------------------------------- linear

struct LinearCase {
  int ci, co, gx, gy;
  bool bias;
};

template <class Exec, class Real>
struct LinearRun : RunBase<Exec, Real> {
  using real = Real;
  op::LinearCfg cfg;
  op::LinearShape sh;
  op::LinearWorkspace<Exec> ws;
  // Empty: one team per channel for dbias and one GEMM call per sample for dW; else
  // linear_backward_scratch(ws) scalars of garbage (column_sums; the samples' dW in one call).
  typename RunBase<Exec, Real>::Buf partial;
  op::Activation act;  // forward's fused activation
  LinearRun(op::LinearCfg c, op::LinearShape s, bool scratch = false, op::Activation a = op::Activation::none)
      : cfg(c), sh(s), ws(this->exec, c, s), act(a) {
    if (scratch && op::linear_backward_scratch(ws) > 0)
      partial = this->garbage(op::linear_backward_scratch(ws));
  }
  std::size_t ny() const { return std::size_t(sh.batch) * sh.rows * cfg.c_out; }

  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x"), w = this->up(v[1], "w"), b = this->up(v[2], "b");
    auto y = this->up(std::vector<double>(ny(), kGarbage), "y");
    op::linear_forward(this->exec, ws, w.data(), cfg.bias ? b.data() : nullptr, x.data(), y.data(), act);
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto x = this->up(v[0], "x"), w = this->up(v[1], "w"), dy = this->up(r, "dy");
    const auto dw0 = random_vector(v[1].size(), 11), db0 = random_vector(v[2].size(), 12);
    auto dw = this->up(dw0, "dw"), db = this->up(db0, "db");
    auto dx = this->garbage(v[0].size());
    op::linear_backward(this->exec, ws, w.data(), x.data(), dy.data(), dw.data(),
                        cfg.bias ? db.data() : nullptr, dx.data(), partial.size() ? partial.data() : nullptr);
    this->exec.fence();
    return {download(dx), minus(download(dw), dw0), minus(download(db), db0)};
  }
};

std::vector<double> linear_reference(const LinearCase& k, int B, int R, const Vars& v) {
  std::vector<double> y(std::size_t(B) * R * k.co);
  for (int b = 0; b < B; ++b)
    for (int r = 0; r < R; ++r)
      for (int o = 0; o < k.co; ++o) {
        double s = k.bias ? v[2][o] : 0.0;
        for (int i = 0; i < k.ci; ++i)
          s += v[1][std::size_t(o) * k.ci + i] * v[0][gidx(k.gx, k.ci, R, b, r, i)];
        y[gidx(k.gy, k.co, R, b, r, o)] = s;
      }
  return y;
}

// ---------------------------------------------------------------- layer_norm

template <class Exec, class Real>
struct LayerNormRun : RunBase<Exec, Real> {
  using real = Real;
  op::LayerNormCfg cfg;
  index_t R;
  typename RunBase<Exec, Real>::Buf mean, rstd;
  typename RunBase<Exec, Real>::Buf partial;  // empty: one team per channel; else column_sums
  LayerNormRun(int D, index_t rows, bool column_sums = false)
      : cfg{D},
        R(rows),
        mean("mean", rows),
        rstd("rstd", rows),
        partial("partial", column_sums ? op::column_sum_scratch(rows, D) : 0) {}

  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x"), g = this->up(v[1], "g"), b = this->up(v[2], "b");
    auto y = this->zeros(v[0].size());
    op::layer_norm_forward(this->exec, cfg, R, g.data(), b.data(), x.data(), y.data(), mean.data(),
                           rstd.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);
    auto x = this->up(v[0], "x"), g = this->up(v[1], "g"), dy = this->up(r, "dy");
    const auto dg0 = random_vector(v[1].size(), 13), db0 = random_vector(v[2].size(), 14);
    auto dg = this->up(dg0, "dg"), db = this->up(db0, "db");
    auto dx = this->garbage(v[0].size());
    op::layer_norm_backward(this->exec, cfg, R, g.data(), x.data(), mean.data(), rstd.data(), dy.data(),
                            dg.data(), db.data(), dx.data(), partial.size() ? partial.data() : nullptr);
    this->exec.fence();
    return {download(dx), minus(download(dg), dg0), minus(download(db), db0)};
  }
};

std::vector<double> layer_norm_reference(int D, const Vars& v) {
  std::vector<double> y(v[0].size());
  for (std::size_t r = 0; r < v[0].size() / D; ++r) {
    double mu = 0, var = 0;
    for (int c = 0; c < D; ++c) mu += v[0][r * D + c] / D;
    for (int c = 0; c < D; ++c) var += (v[0][r * D + c] - mu) * (v[0][r * D + c] - mu) / D;
    for (int c = 0; c < D; ++c)
      y[r * D + c] = (v[0][r * D + c] - mu) / std::sqrt(var + 1e-5) * v[1][c] + v[2][c];
  }
  return y;
}

// ---------------------------------------------------------------- geglu

template <class Exec, class Real>
struct GegluRun : RunBase<Exec, Real> {
  using real = Real;
  index_t R;
  int L;
  GegluRun(index_t rows, int half) : R(rows), L(half) {}
  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x");
    auto y = this->zeros(std::size_t(R) * L);
    op::geglu_forward(this->exec, R, L, x.data(), y.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto x = this->up(v[0], "x"), dy = this->up(r, "dy");
    auto dx = this->garbage(v[0].size());
    op::geglu_backward(this->exec, R, L, x.data(), dy.data(), dx.data());
    this->exec.fence();
    return {download(dx)};
  }
};

// ---------------------------------------------------------------- rope

template <class Exec, class Real>
struct RopeRun : RunBase<Exec, Real> {
  using real = Real;
  op::RopeCfg cfg;
  index_t M;
  int n;
  typename RunBase<Exec, Real>::Buf table;
  RopeRun(int dim, index_t blocks, const std::vector<double>& coords)
      : cfg{dim}, M(blocks), n(int(coords.size())), table("table", coords.size() * dim) {
    auto c = surro::test::to_device<Exec>(coords, "coords");
    op::rope_table(this->exec, cfg, n, c.data(), table.data());
    this->exec.fence();  // before c is freed
  }
  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x");
    auto y = this->zeros(v[0].size());
    op::rope_forward(this->exec, cfg, M, n, table.data(), x.data(), y.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto dy = this->up(r, "dy");
    auto dx = this->garbage(v[0].size());
    op::rope_backward(this->exec, cfg, M, n, table.data(), dy.data(), dx.data());
    this->exec.fence();
    return {download(dx)};
  }
};

// torch: inv_freq = 10000^(-arange(0, dim, 2)/dim); freqs = (coords * 64) outer inv_freq, duplicated;
// x cos + rotate_half(x) sin with rotate_half([x1, x2]) = [-x2, x1].
std::vector<double> rope_reference(int dim, int M, const std::vector<double>& coords,
                                   const std::vector<double>& x) {
  const int n = int(coords.size()), h = dim / 2;
  std::vector<double> y(x.size());
  for (int m = 0; m < M; ++m)
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < dim; ++c) {
        const double theta = coords[i] * 64.0 * std::pow(10000.0, -double(2 * (c % h)) / dim);
        const std::size_t row = (std::size_t(m) * n + i) * dim;
        const double rot = c < h ? -x[row + c + h] : x[row + c - h];
        y[row + c] = x[row + c] * std::cos(theta) + rot * std::sin(theta);
      }
  return y;
}

// ---------------------------------------------------------------- instance_norm

template <class Exec, class Real>
struct InstanceNormRun : RunBase<Exec, Real> {
  using real = Real;
  op::InstanceNormCfg cfg;
  op::InstanceNormWorkspace<Exec> ws;
  typename RunBase<Exec, Real>::Buf y, rstd;
  explicit InstanceNormRun(op::InstanceNormCfg c)
      : cfg(c),
        ws(this->exec, c),
        y("y", c.slabs * c.points * c.channels),
        rstd("rstd", c.slabs * c.channels) {}
  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x");
    op::instance_norm_forward(this->exec, ws, x.data(), y.data(), rstd.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);
    auto dy = this->up(r, "dy");
    auto dx = this->garbage(v[0].size());
    op::instance_norm_backward(this->exec, ws, y.data(), rstd.data(), dy.data(), dx.data());
    this->exec.fence();
    return {download(dx)};
  }
};

// ---------------------------------------------------------------- axis_mean

template <class Exec, class Real>
struct AxisMeanRun : RunBase<Exec, Real> {
  using real = Real;
  op::AxisMeanCfg cfg;
  int B;
  AxisMeanRun(op::AxisMeanCfg c, int batch) : cfg(std::move(c)), B(batch) {}
  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x");
    auto y = this->zeros(std::size_t(B) * cfg.packed_rows() * cfg.channels);
    op::axis_mean_forward(this->exec, cfg, B, x.data(), y.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto dy = this->up(r, "dy");
    auto dx = this->garbage(v[0].size());
    op::axis_mean_backward(this->exec, cfg, B, dy.data(), dx.data());
    this->exec.fence();
    return {download(dx)};
  }
};

std::vector<double> axis_mean_reference(const std::vector<int>& grid, int B, int D,
                                        const std::vector<double>& x) {
  const int d = int(grid.size());
  int n[3] = {1, 1, 1};
  for (int a = 0; a < d; ++a) n[a] = grid[a];
  const int N = n[0] * n[1] * n[2];
  std::vector<double> y;
  for (int a = 0; a < d; ++a) {
    std::vector<double> ya(std::size_t(B) * n[a] * D, 0.0);
    for (int b = 0; b < B; ++b)
      for (int p = 0; p < N; ++p) {
        const int idx[3] = {p / (n[1] * n[2]), (p / n[2]) % n[1], p % n[2]};
        for (int c = 0; c < D; ++c)
          ya[(std::size_t(b) * n[a] + idx[a]) * D + c] += x[(std::size_t(b) * N + p) * D + c] * n[a] / N;
      }
    y.insert(y.end(), ya.begin(), ya.end());
  }
  return y;
}

// ---------------------------------------------------------------- fourier_features

template <class Exec, class Real>
struct FourierRun : RunBase<Exec, Real> {
  using real = Real;
  op::FourierFeaturesCfg cfg;
  index_t N;
  FourierRun(op::FourierFeaturesCfg c, index_t points) : cfg(c), N(points) {}
  std::vector<double> forward(const Vars& v) {
    auto p = this->up(v[0], "p"), bm = this->up(v[1], "B");
    auto y = this->zeros(std::size_t(N) * 2 * cfg.features);
    op::fourier_features_forward(this->exec, cfg, N, bm.data(), p.data(), y.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto p = this->up(v[0], "p"), bm = this->up(v[1], "B"), dy = this->up(r, "dy");
    const auto db0 = random_vector(v[1].size(), 15);
    auto dbm = this->up(db0, "dB");
    auto dp = this->garbage(v[0].size());
    op::fourier_features_backward(this->exec, cfg, N, bm.data(), p.data(), dy.data(), dbm.data(), dp.data());
    this->exec.fence();
    return {download(dp), minus(download(dbm), db0)};
  }
};

// ---------------------------------------------------------------- field_lift

template <class Exec, class Real>
struct FieldLiftRun : RunBase<Exec, Real> {
  using real = Real;
  op::FieldLiftCfg cfg;
  int B;
  index_t N;
  FieldLiftRun(op::FieldLiftCfg c, int batch, index_t points) : cfg(c), B(batch), N(points) {}
  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "x"), w = this->up(v[1], "w"), b = this->up(v[2], "b");
    auto y = this->zeros(std::size_t(B) * cfg.out_channels() * N);
    op::field_lift_forward(this->exec, cfg, B, N, w.data(), b.data(), x.data(), y.data());
    this->exec.fence();
    return download(y);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto x = this->up(v[0], "x"), w = this->up(v[1], "w"), dy = this->up(r, "dy");
    const auto dw0 = random_vector(v[1].size(), 16), db0 = random_vector(v[2].size(), 17);
    auto dw = this->up(dw0, "dw"), db = this->up(db0, "db");
    auto dx = this->garbage(v[0].size());
    op::field_lift_backward(this->exec, cfg, B, N, w.data(), x.data(), dy.data(), dw.data(), db.data(),
                            dx.data());
    this->exec.fence();
    return {download(dx), minus(download(dw), dw0), minus(download(db), db0)};
  }
};

// ---------------------------------------------------------------- lowrank kernel, factorized application

template <class Exec, class Real>
struct LowRankRun : RunBase<Exec, Real> {
  using real = Real;
  op::FactorizedCfg cfg;
  int axis;
  op::FactorizedWorkspace<Exec, Real> ws;
  LowRankRun(op::FactorizedCfg c, int a) : cfg(c), axis(a), ws(this->exec, c) {}
  std::size_t nk() const { return std::size_t(cfg.blocks) * cfg.grid[axis] * cfg.grid[axis]; }
  std::vector<double> forward(const Vars& v) {
    auto q = this->up(v[0], "q"), k = this->up(v[1], "k");
    auto K = this->zeros(nk());
    op::lowrank_kernel_forward(this->exec, ws, axis, q.data(), k.data(), K.data());
    this->exec.fence();
    return download(K);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    auto q = this->up(v[0], "q"), k = this->up(v[1], "k"), dK = this->up(r, "dK");
    auto dq = this->garbage(v[0].size()), dk = this->garbage(v[1].size());
    op::lowrank_kernel_backward(this->exec, ws, axis, q.data(), k.data(), dK.data(), dq.data(), dk.data());
    this->exec.fence();
    return {download(dq), download(dk)};
  }
};

// vars: v (M, N..., C), then K_a (M, N_a, N_a) per axis.
template <class Exec, class Real>
struct FactorizedRun : RunBase<Exec, Real> {
  using real = Real;
  using Buf = typename RunBase<Exec, Real>::Buf;
  op::FactorizedCfg cfg;
  op::FactorizedWorkspace<Exec, Real> ws;
  Buf inter;
  explicit FactorizedRun(op::FactorizedCfg c)
      : cfg(c), ws(this->exec, c), inter("inter", std::max<index_t>(1, c.inter_size())) {}

  std::vector<double> forward(const Vars& v) {
    auto x = this->up(v[0], "v");
    std::vector<Buf> K;
    op::AxisPtrs<const Real> kp{};
    for (int a = 0; a < cfg.dims(); ++a) {
      K.push_back(this->up(v[1 + a], "K"));
      kp[a] = K.back().data();
    }
    auto u = this->up(std::vector<double>(cfg.u_size(), kGarbage), "U");
    op::factorized_forward(this->exec, ws, kp, x.data(), inter.data(), u.data());
    this->exec.fence();
    return download(u);
  }
  Vars backward(const Vars& v, const std::vector<double>& r) {
    forward(v);  // the chained intermediates
    auto x = this->up(v[0], "v"), du = this->up(r, "dU");
    std::vector<Buf> K, dK;
    op::AxisPtrs<const Real> kp{};
    op::AxisPtrs<Real> dkp{};
    for (int a = 0; a < cfg.dims(); ++a) {
      K.push_back(this->up(v[1 + a], "K"));
      dK.push_back(this->garbage(v[1 + a].size()));
      kp[a] = K.back().data();
      dkp[a] = dK.back().data();
    }
    auto dv = this->garbage(v[0].size());
    op::factorized_backward(this->exec, ws, kp, x.data(), inter.data(), du.data(), dkp, dv.data());
    this->exec.fence();
    Vars g{download(dv)};
    for (auto& e : dK) g.push_back(download(e));
    return g;
  }
};

// (K *_a x) for one block layout (M, N..., C), naive.
std::vector<double> apply_reference(const std::vector<int>& grid, int M, int C, int a,
                                    const std::vector<double>& K, const std::vector<double>& x) {
  int n[3] = {1, 1, 1};
  for (std::size_t t = 0; t < grid.size(); ++t) n[t] = grid[t];
  const int N = n[0] * n[1] * n[2], na = n[a];
  std::vector<double> y(x.size(), 0.0);
  for (int m = 0; m < M; ++m)
    for (int p = 0; p < N; ++p) {
      int idx[3] = {p / (n[1] * n[2]), (p / n[2]) % n[1], p % n[2]};
      const int i = idx[a];
      for (int j = 0; j < na; ++j) {
        idx[a] = j;
        const int q = (idx[0] * n[1] + idx[1]) * n[2] + idx[2];
        for (int c = 0; c < C; ++c)
          y[(std::size_t(m) * N + p) * C + c] +=
              K[(std::size_t(m) * na + i) * na + j] * x[(std::size_t(m) * N + q) * C + c];
      }
    }
  return y;
}

std::vector<double> factorized_reference(const op::FactorizedCfg& c, const Vars& v) {
  const int d = c.dims();
  const std::size_t nc = std::size_t(c.points()) * c.channels;
  if (c.variant == op::FactorizedVariant::chained) {
    std::vector<double> y = v[0];
    for (int a = 0; a < d; ++a) y = apply_reference(c.grid, c.blocks, c.channels, a, v[1 + a], y);
    return y;
  }
  std::vector<double> u(c.u_size());
  for (int a = 0; a < d; ++a) {
    const auto ya = apply_reference(c.grid, c.blocks, c.channels, a, v[1 + a], v[0]);
    for (int m = 0; m < c.blocks; ++m)
      std::copy(ya.begin() + m * nc, ya.begin() + (m + 1) * nc, u.begin() + (std::size_t(m) * d + a) * nc);
  }
  return u;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("linear: every layout pair against a naive loop; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  // (Cin, Cout, in_groups, out_groups, bias): channel-last; channel-first in, out, both; group-major
  // in (G = 3 heads of 2, and G = 2 with B = 3 > G); group-major out (G = 2 with B = 3 > G, G = 3
  // with B = 2 <= G); Cin = 1. The group-major side's B x G products are one call (gemm's outer
  // count), through pointer arrays on CUDA.
  const LinearCase cases[] = {{5, 4, 1, 1, true},  {5, 4, 5, 1, true},  {5, 4, 1, 4, true},
                              {5, 4, 5, 4, false}, {6, 4, 3, 1, true},  {6, 4, 3, 1, false},
                              {4, 6, 1, 2, true},  {4, 6, 1, 3, false}, {4, 3, 1, 1, false},
                              {1, 3, 1, 1, true},  {4, 4, 2, 1, true}};
  const int which = GENERATE(range(0, 11));
  const LinearCase k = cases[which];
  const int B = which == 6 || which == 10 ? 3 : 2, R = 7;
  CAPTURE(which, k.ci, k.co, k.gx, k.gy, k.bias);
  op::LinearCfg cfg{k.ci, k.co, k.bias};
  op::LinearShape sh{B, R, k.gx, k.gy};
  Vars v{random_vector(std::size_t(B) * R * k.ci, 1 + which), random_vector(std::size_t(k.co) * k.ci, 2),
         random_vector(k.co, 3)};
  LinearRun<Exec, Real> run(cfg, sh);
  LinearRun<HostExec, double> ref(cfg, sh);
  const double u = epsilon<Real>();
  const double tol = 8 * u * (std::max(k.ci, B * R) + 2);  // depths Cin (y), Cout (dx), B R (dW, db)
  std::vector<const char*> names{"x", "weight", "bias"};
  if (!k.bias) {
    // Without a bias the bias gradient is left untouched: exactly its initial value rounded to Real.
    const auto r = random_vector(std::size_t(B) * R * k.co, 5);
    const auto db = run.backward(v, r)[2], db0 = random_vector(v[2].size(), 12);
    for (std::size_t i = 0; i < db.size(); ++i) REQUIRE(db[i] + db0[i] == double(Real(db0[i])));
  }
  check_layer(run, ref, v, linear_reference(k, B, R, v), tol, names, 100 + which);
  // With the scratch: the bias gradient through column_sums (plain rows out), and the B samples'
  // weight gradients in one GEMM call and one sum (B > 1 and a side not channel-last: all but case 0
  // and the channel-last cases 8 and 9).
  const std::size_t sums = k.bias && k.gy == 1 ? op::column_sum_scratch(index_t(B) * R, k.co) : 0,
                    samples = k.gx != 1 || k.gy != 1 ? std::size_t(B) * k.co * k.ci : 0;
  REQUIRE(op::linear_backward_scratch(op::LinearWorkspace<Exec>(Exec(), cfg, sh)) == std::max(sums, samples));
  LinearRun<Exec, Real> blocked(cfg, sh, true);
  const auto r = random_vector(std::size_t(B) * R * k.co, 6);
  require_grads(blocked.backward(v, r), ref.backward(v, r), tol, names);
  // The ReLU fused into the bias pass (the GEMM writes y, one pass adds the bias and clips), in
  // every layout: relu is 1-Lipschitz, so the error is at most the pre-activation's, tol ||z||.
  LinearRun<Exec, Real> fused(cfg, sh, false, op::Activation::relu);
  const auto z = linear_reference(k, B, R, v);
  auto want = z;
  for (double& e : want) e = std::max(e, 0.0);
  const auto got = fused.forward(v);
  REQUIRE(norm(minus(got, want)) <= tol * norm(z));
  REQUIRE(std::count(want.begin(), want.end(), 0.0) > 0);  // the data cross zero: the clip is tested
}

TEST_CASE("linear: registration, initialization and refused layouts", "[iff_layers]") {
  op::ParamTable t;
  op::linear_register(t, "iff.to_v", {96, 480, false});
  op::linear_register(t, "iff.pos", {96, 96, true});
  REQUIRE(t.slot("iff.to_v.weight").shape == std::vector<int>{480, 96});
  REQUIRE(!t.has("iff.to_v.bias"));
  REQUIRE(t.parameter_count() == 46080 + 9312);
  HostExec exec;
  CHECK_THROWS_WITH(op::LinearWorkspace<HostExec>(exec, {6, 4, true}, {1, 5, 3, 4}),
                    Catch::Contains("a group-major side needs a channel-last other side"));
  CHECK_THROWS_WITH(op::LinearWorkspace<HostExec>(exec, {6, 4, true}, {1, 5, 4, 1}),
                    Catch::Contains("in_groups = 4: expected a divisor of Cin = 6"));
  View1<double, HostMem> w("w", 64 * 16), b("b", 64);
  op::linear_init(exec, op::LinearCfg{16, 64, true}, w.data(), b.data(), 3, 10);
  double mean = 0, sq = 0;
  for (int i = 0; i < 1024; ++i) {
    REQUIRE(std::abs(w(i)) <= 0.25);  // U(-1/sqrt(16), 1/sqrt(16))
    mean += w(i) / 1024;
    sq += w(i) * w(i) / 1024;
  }
  for (int i = 0; i < 64; ++i) REQUIRE(std::abs(b(i)) <= 0.25);
  // U(-a, a), a = 1/4: mean 0 with standard error a/sqrt(3)/32 = 0.0045; E w^2 = a^2/3 = 1/48 with
  // standard error a^2 sqrt(1/5 - 1/9)/32 = 5.8e-4 (1024 draws); 4 sigma each.
  REQUIRE(std::abs(mean) <= 4 * 0.0045);
  REQUIRE(std::abs(sq - 1.0 / 48) <= 4 * 5.8e-4);
}

TEMPLATE_LIST_TEST_CASE("layer_norm: torch's LayerNorm; gradients", "[iff_layers]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int D = 12, R = 9;
  Vars v{random_vector(std::size_t(R) * D, 21), random_vector(D, 22, 0.5, 1.5), random_vector(D, 23)};
  LayerNormRun<Exec, Real> run(D, R);
  LayerNormRun<HostExec, double> ref(D, R);
  // Mean and variance are D-term sums; xhat = (x - mean) rstd has |xhat| <= sqrt(D), which
  // multiplies the relative error of rstd: 8 u (D + 2) sqrt(D).
  const double u = epsilon<Real>();
  const double tol = 8 * u * (std::max(D, R) + 2) * std::sqrt(double(D));
  check_layer(run, ref, v, layer_norm_reference(D, v), tol, {"x", "weight", "bias"}, 24);
  // The parameter sums through column_sums, over 150 rows (3 blocks).
  const int R2 = 150;
  Vars v2{random_vector(std::size_t(R2) * D, 25), v[1], v[2]};
  LayerNormRun<Exec, Real> blocked(D, R2, true);
  LayerNormRun<HostExec, double> ref2(D, R2);
  check_layer(blocked, ref2, v2, layer_norm_reference(D, v2), 8 * u * (R2 + 2) * std::sqrt(double(D)),
              {"x", "weight", "bias"}, 26);
  // A row wider than a GPU's 32 lanes (D = 40: lanes hold one or two channels) and R = 21 rows (the
  // last team of 8 rows partly empty).
  const int D3 = 40, R3 = 21;
  Vars v3{random_vector(std::size_t(R3) * D3, 27), random_vector(D3, 28, 0.5, 1.5), random_vector(D3, 29)};
  LayerNormRun<Exec, Real> wide(D3, R3);
  LayerNormRun<HostExec, double> ref3(D3, R3);
  check_layer(wide, ref3, v3, layer_norm_reference(D3, v3),
              8 * u * (std::max(D3, R3) + 2) * std::sqrt(double(D3)), {"x", "weight", "bias"}, 30);
}

TEMPLATE_LIST_TEST_CASE("geglu: gelu(a) * b over the two halves; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int R = 5, L = 6;
  Vars v{random_vector(std::size_t(R) * 2 * L, 31, -3.0, 3.0)};
  std::vector<double> want(std::size_t(R) * L);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < L; ++c) {
      const double a = v[0][r * 2 * L + c];
      want[r * L + c] = 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))) * v[0][r * 2 * L + L + c];
    }
  GegluRun<Exec, Real> run(R, L);
  GegluRun<HostExec, double> ref(R, L);
  // Elementwise: erf within a few ulp, two products: 8 u (as the gelu test), times the input range 3.
  check_layer(run, ref, v, want, 24 * epsilon<Real>(), {"x"}, 32);
}

TEMPLATE_LIST_TEST_CASE("rope: rotary embedding as torch's; backward is the inverse rotation", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int dim = 8, M = 3;
  // linspace(0, 2, 5): theta reaches 2 * 64 = 128 rad on the first frequency.
  const std::vector<double> coords{0.0, 0.5, 1.0, 1.5, 2.0};
  Vars v{random_vector(std::size_t(M) * coords.size() * dim, 41)};
  RopeRun<Exec, Real> run(dim, M, coords);
  RopeRun<HostExec, double> ref(dim, M, coords);
  // cos and sin of a double theta rounded to Real (u each), then a 2-term sum: 8 u (2 + 2).
  check_layer(run, ref, v, rope_reference(dim, M, coords, v[0]), 32 * epsilon<Real>(), {"x"}, 42);
  // The rotation is orthogonal: backward(forward(x)) = x.
  const auto y = run.forward(v);
  REQUIRE(rel_l2(run.backward(v, y)[0], v[0]) <= 32 * epsilon<Real>());
}

TEMPLATE_LIST_TEST_CASE("instance_norm: per (slab, channel) over the points; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  // Chunks of 3 points: 4 partial reductions per (slab, channel), the last one short; and one chunk.
  // The elementwise passes take 4 points per thread: 10 points are blocks of 4, 4 and 2.
  const int C = GENERATE(8, 4, 3);
  op::InstanceNormCfg cfg{3, 10, C};
  cfg.chunk = GENERATE(3, 128);
  CAPTURE(C, cfg.chunk);
  Vars v{random_vector(std::size_t(3) * 10 * C, 51, -2.0, 3.0)};
  std::vector<double> want(v[0].size());
  for (int m = 0; m < 3; ++m)
    for (int c = 0; c < C; ++c) {
      double mu = 0, var = 0;
      for (int n = 0; n < 10; ++n) mu += v[0][(m * 10 + n) * C + c] / 10;
      for (int n = 0; n < 10; ++n) var += std::pow(v[0][(m * 10 + n) * C + c] - mu, 2) / 10;
      for (int n = 0; n < 10; ++n)
        want[(m * 10 + n) * C + c] = (v[0][(m * 10 + n) * C + c] - mu) / std::sqrt(var + 1e-5);
    }
  InstanceNormRun<Exec, Real> run(cfg);
  InstanceNormRun<HostExec, double> ref(cfg);
  // Statistics accumulate in double; float adds the input and output roundings amplified by
  // |xhat| <= sqrt(N), and the backward's N-term sums: 8 u (N + 2).
  check_layer(run, ref, v, want, 8 * epsilon<Real>() * 12, {"x"}, 52);
}

TEMPLATE_LIST_TEST_CASE("instance_norm: a channel-last y over groups of slabs; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  // x (B, G, N, C) = (2, 3, 10, 4) head-major; y and dy (B, N, G C): slab m = b G + g.
  const int B = 2, G = 3, N = 10, C = 4;
  op::InstanceNormCfg cfg{B * G, N, C};
  cfg.chunk = GENERATE(3, 128);
  cfg.y_groups = G;
  CAPTURE(cfg.chunk);
  Vars v{random_vector(std::size_t(B) * G * N * C, 54, -2.0, 3.0)};
  std::vector<double> want(v[0].size());
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < G; ++g)
      for (int c = 0; c < C; ++c) {
        const auto x = [&](int n) { return v[0][((b * G + g) * N + n) * C + c]; };
        double mu = 0, var = 0;
        for (int n = 0; n < N; ++n) mu += x(n) / N;
        for (int n = 0; n < N; ++n) var += std::pow(x(n) - mu, 2) / N;
        for (int n = 0; n < N; ++n) want[((b * N + n) * G + g) * C + c] = (x(n) - mu) / std::sqrt(var + 1e-5);
      }
  InstanceNormRun<Exec, Real> run(cfg);
  InstanceNormRun<HostExec, double> ref(cfg);
  check_layer(run, ref, v, want, 8 * epsilon<Real>() * 12, {"x"}, 55);
  // y_groups must divide the slabs.
  op::InstanceNormCfg bad{B * G, N, C};
  bad.y_groups = 4;
  REQUIRE_THROWS_WITH(op::InstanceNormWorkspace<Exec>(Exec(), bad), Catch::Contains("y_groups 4"));
}

TEST_CASE("instance_norm: statistics of data far from zero keep their accuracy", "[iff_layers]") {
  // x = 1e6 + r, r of order 1: sums of squares about zero would cancel ~(1e6)^2 / 1 = 1e12 of
  // their 1e-16 relative accuracy (1e-4 in the variance); the sums about each chunk's first value
  // and the merge of chunk deviations lose at most a factor ~ chunk, so double keeps ~1e-13.
  op::InstanceNormCfg cfg{2, 40, 3};
  cfg.chunk = 7;
  std::vector<double> x = random_vector(2 * 40 * 3, 53, -1.0, 1.0);
  for (double& v : x) v += 1e6;
  InstanceNormRun<HostExec, double> run(cfg);
  const std::vector<double> y = run.forward({x});
  double worst = 0;
  for (int m = 0; m < 2; ++m)
    for (int c = 0; c < 3; ++c) {
      double mu = 0, var = 0;
      for (int n = 0; n < 40; ++n) mu += x[(m * 40 + n) * 3 + c] / 40;
      for (int n = 0; n < 40; ++n) var += std::pow(x[(m * 40 + n) * 3 + c] - mu, 2) / 40;
      for (int n = 0; n < 40; ++n) {
        const double want = (x[(m * 40 + n) * 3 + c] - mu) / std::sqrt(var + 1e-5);
        worst = std::max(worst, std::abs(y[(m * 40 + n) * 3 + c] - want));
      }
    }
  // |y| <= sqrt(40); x itself carries 1e6 * 1e-16 = 1e-10 absolute, 1e-10 of the spread.
  CHECK(worst <= 1e-8);
}

TEMPLATE_LIST_TEST_CASE("axis_mean: the mean over every other axis, 2D and 3D; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const std::vector<int> grid = GENERATE(std::vector<int>{4, 3}, std::vector<int>{3, 4, 2});
  // slices: the space's choice, then 3 (outer rows cut as devices cut them: 3 or 4 outer rows
  // give slices of 1 and 2 rows, one of 1 row leaves slices empty); D = 35 spans two channel blocks
  // of 32, the second partly empty.
  const int slices = GENERATE(0, 3);
  const int B = 2, D = slices == 0 ? 3 : 35;
  op::AxisMeanCfg cfg{grid, D};
  cfg.slices = slices;
  CAPTURE(slices);
  Vars v{random_vector(std::size_t(B) * cfg.points() * D, 61)};
  AxisMeanRun<Exec, Real> run(cfg, B);
  AxisMeanRun<HostExec, double> ref(cfg, B);
  // Sums accumulate in double: the result carries the final rounding and the inputs' (2 u); backward
  // sums d terms: 8 u (d + 2).
  check_layer(run, ref, v, axis_mean_reference(grid, B, D, v[0]), 8 * epsilon<Real>() * 5, {"x"}, 62);
  REQUIRE(cfg.offset(1, B) == B * grid[0] * D);
}

TEMPLATE_LIST_TEST_CASE("fourier_features: sin/cos of 2 pi p B; gradients of B and p", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const op::FourierFeaturesCfg cfg{2, 5, 1.0};
  const index_t N = 6;
  Vars v{random_vector(std::size_t(N) * 2, 71, 0.0, 1.0), random_vector(2 * 5, 72, -2.0, 2.0)};
  std::vector<double> want(std::size_t(N) * 10);
  for (int n = 0; n < N; ++n)
    for (int f = 0; f < 5; ++f) {
      const double t = 2 * M_PI * (v[0][n * 2] * v[1][f] + v[0][n * 2 + 1] * v[1][5 + f]);
      want[n * 10 + f] = std::sin(t);
      want[n * 10 + 5 + f] = std::cos(t);
    }
  FourierRun<Exec, Real> run(cfg, N);
  FourierRun<HostExec, double> ref(cfg, N);
  // The phase is formed in double from Real inputs: rounding p and B to Real moves it by at most
  // 2 pi sum |p B| 2u <= 2 pi * 4 * 2u; plus the output rounding, and the backward's N-term sums.
  const double u = epsilon<Real>();
  check_layer(run, ref, v, want, 8 * u * (16 * M_PI + N + 2), {"p", "B"}, 73);
}

TEST_CASE("fourier_features: B is a frozen parameter drawn as randn * scale", "[iff_layers]") {
  op::ParamTable t;
  t.add("net.w", {4});
  op::fourier_features_register(t, "net.pos.fourier", {3, 48, 8.0});
  REQUIRE(t.slot("net.pos.fourier.B").frozen);
  REQUIRE(t.trainable_size() == t.slot("net.pos.fourier.B").offset);
  HostExec exec;
  View1<double, HostMem> bm("B", 3 * 48);
  op::fourier_features_init(exec, op::FourierFeaturesCfg{3, 48, 8.0}, bm.data(), 5, 1);
  double mean = 0, sq = 0;
  for (int i = 0; i < 144; ++i) {
    mean += bm(i) / 144;
    sq += bm(i) * bm(i) / 144;
  }
  // N(0, 64): the mean's standard error is 8/12 = 0.67; the variance's is 64 sqrt(2/144) = 7.5; 4 sigma.
  REQUIRE(std::abs(mean) <= 4 * 0.67);
  REQUIRE(std::abs(sq - 64) <= 4 * 7.5);
}

TEMPLATE_LIST_TEST_CASE("field_lift: per-field 1x1 map shared over the window; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const op::FieldLiftCfg cfg{2, 3, 4};  // C = 2 fields, T = 3 frames, G = 4 channels each
  const int B = 2;
  const index_t N = 5;
  Vars v{random_vector(std::size_t(B) * 6 * N, 81), random_vector(8, 82), random_vector(8, 83)};
  std::vector<double> want(std::size_t(B) * 24 * N);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < 2; ++c)
      for (int j = 0; j < 4; ++j)
        for (int t = 0; t < 3; ++t)
          for (int n = 0; n < N; ++n)
            want[((b * 24) + (c * 4 + j) * 3 + t) * N + n] =
                v[1][c * 4 + j] * v[0][(b * 6 + t * 2 + c) * N + n] + v[2][c * 4 + j];
  FieldLiftRun<Exec, Real> run(cfg, B, N);
  FieldLiftRun<HostExec, double> ref(cfg, B, N);
  // One product and a sum forward; the parameter gradients sum B T N = 30 terms: 8 u (30 + 2).
  check_layer(run, ref, v, want, 8 * epsilon<Real>() * 32, {"x", "weight", "bias"}, 84);
}

TEMPLATE_LIST_TEST_CASE("lowrank_kernel: K = q k^T per block; gradients", "[iff_layers]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  op::FactorizedCfg cfg;
  cfg.grid = {5, 3};
  cfg.blocks = 4;
  cfg.channels = 2;
  cfg.kernel_dim = 6;
  const int axis = 0, n = 5, M = 4, dk = 6;
  Vars v{random_vector(std::size_t(M) * n * dk, 91), random_vector(std::size_t(M) * n * dk, 92)};
  std::vector<double> want(std::size_t(M) * n * n, 0.0);
  for (int m = 0; m < M; ++m)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        for (int c = 0; c < dk; ++c)
          want[(m * n + i) * n + j] += v[0][(m * n + i) * dk + c] * v[1][(m * n + j) * dk + c];
  LowRankRun<Exec, Real> run(cfg, axis);
  LowRankRun<HostExec, double> ref(cfg, axis);
  check_layer(run, ref, v, want, 8 * epsilon<Real>() * (dk + 2), {"q", "k"}, 93);
}

TEMPLATE_LIST_TEST_CASE(
    "factorized: parallel and chained application of the axis kernels, 2D and 3D; gradients", "[iff_layers]",
    surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  // 3D with M = 6 blocks: axis 0 is one batched GEMM (P = 1), axes 1 and 2 are M x P products in
  // one call (gemm's outer count; P = 4 and 12); 2D with M = 3, P = 5 on axis 1. Cases 4 and 5 are
  // the 3D ones with dK's partial products summed in 3 groups (P = 4: groups of 1 and 2 terms;
  // P = 12: 4 each), as device spaces do, and computed 4 blocks per call (calls of 4 and 2 blocks),
  // as large grids are, with axis 0's reduction (P = 1, Q = 30) cut in 5 slices (split-K), on every
  // space. Cases 6 to 9 force the direct application (direct_apply = 1) on every axis, with axis
  // lengths that take each register width (16: 4, 5; 32: 18; 64: 35; 96: 70) and rows of K padded
  // to a multiple of 4 (3, 5, 18, 35, 70); where op(K) does not fit the space's team scratch (doubles at 70
  // on Serial's 32 KB) the GEMM runs instead, so case 9 covers that choice too.
  const int which = GENERATE(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  op::FactorizedCfg cfg;
  const bool three_d = which < 2 || (which > 3 && which < 8);
  cfg.grid = three_d ? std::vector<int>{4, 3, 5} : std::vector<int>{5, 4};
  cfg.blocks = three_d ? 6 : 3;
  cfg.channels = 2;
  if (which == 6 || which == 7) cfg.grid = {4, 18, 5}, cfg.blocks = 2;
  if (which == 8) cfg.grid = {3, 35}, cfg.blocks = 2;
  if (which == 9) cfg.grid = {2, 70}, cfg.blocks = 1, cfg.channels = 1;
  cfg.kernel_dim = 4;
  cfg.variant = which % 2 == 0 ? op::FactorizedVariant::parallel : op::FactorizedVariant::chained;
  if (which == 4 || which == 5) cfg.partial_groups = 3, cfg.partial_blocks = 4, cfg.split_k = 5;
  if (which >= 6) cfg.direct_apply = 1;
  CAPTURE(which);
  Vars v{random_vector(std::size_t(cfg.blocks) * cfg.points() * cfg.channels, 101 + which)};
  for (int a = 0; a < cfg.dims(); ++a)
    v.push_back(random_vector(std::size_t(cfg.blocks) * cfg.grid[a] * cfg.grid[a], 111 + a));
  FactorizedRun<Exec, Real> run(cfg);
  FactorizedRun<HostExec, double> ref(cfg);
  // Forward depth sum_a N_a (chained: the axes compose); dK_a sums N C / N_a terms.
  index_t depth = 0;
  for (int a = 0; a < cfg.dims(); ++a) depth += cfg.grid[a];
  for (int a = 0; a < cfg.dims(); ++a) depth = std::max(depth, cfg.points() * cfg.channels / cfg.grid[a]);
  const double tol = 8 * epsilon<Real>() * double(depth + 2);
  std::vector<const char*> names{"v", "K_x", "K_y", "K_z"};
  check_layer(run, ref, v, factorized_reference(cfg, v), tol, names, 121 + which);
}
