// FNO layers (operators/layers): each against a naive double reference on every space in
// RealCases, plus a finite-difference gradient check in double of every input and parameter
// (harness.hpp states that tolerance). Float tolerances are stated per test.
#include "core/error.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/grid_channels.hpp"
#include "operators/layers/pad.hpp"
#include "operators/layers/pointwise_linear.hpp"
#include "operators/layers/spectral_conv.hpp"
#include "operators/params.hpp"
#include "operators/harness.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <limits>

using namespace surro;
using namespace surro::test::layers;
using surro::test::epsilon;

namespace {

constexpr double kGarbage = 1e30;  // pre-fills dx: "overwritten" means none of it survives

std::vector<double> minus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
  return a;
}

// ---------------------------------------------------------------- pointwise_linear

std::vector<double> linear_reference(const op::PointwiseLinearCfg& c, int B, int R,
                                     const std::vector<double>& x, const std::vector<double>& w,
                                     const std::vector<double>& bias,
                                     std::vector<double>* magnitude = nullptr) {
  std::vector<double> y(std::size_t(B) * c.c_out * R);
  if (magnitude) magnitude->assign(y.size(), 0.0);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < c.c_out; ++o)
      for (int n = 0; n < R; ++n) {
        double s = c.bias ? bias[o] : 0.0, m = c.bias ? std::abs(bias[o]) : 0.0;
        for (int i = 0; i < c.c_in; ++i) {
          s += w[o * c.c_in + i] * x[(std::size_t(b) * c.c_in + i) * R + n];
          m += std::abs(w[o * c.c_in + i] * x[(std::size_t(b) * c.c_in + i) * R + n]);
        }
        y[(std::size_t(b) * c.c_out + o) * R + n] = s;
        if (magnitude) (*magnitude)[(std::size_t(b) * c.c_out + o) * R + n] = m;
      }
  return y;
}

// vars: x (B, Cin, R), W (Cout, Cin), bias (Cout).
template <class Exec, class Real>
struct LinearRun {
  using mem = typename Exec::memory_space;
  op::PointwiseLinearCfg cfg;
  int B, R;
  Exec exec;
  op::PointwiseLinearWorkspace<Exec> ws;
  LinearRun(op::PointwiseLinearCfg c, int b, int r) : cfg(c), B(b), R(r), ws(exec, c, b, r) {}

  // y0: accumulate onto it (y = y0 + W x + b); null: y = W x + b into garbage.
  std::vector<double> forward(const std::vector<std::vector<double>>& v,
                              const std::vector<double>* y0 = nullptr) {
    auto x = upload<Exec, Real>(v[0], "x"), w = upload<Exec, Real>(v[1], "w"),
         b = upload<Exec, Real>(v[2], "b");
    auto y =
        upload<Exec, Real>(y0 ? *y0 : std::vector<double>(std::size_t(B) * cfg.c_out * R, kGarbage), "y");
    op::pointwise_linear_forward(exec, ws, w.data(), cfg.bias ? b.data() : nullptr, x.data(), y.data(),
                                 y0 != nullptr);
    exec.fence();
    return download(y);
  }
  std::vector<std::vector<double>> backward(const std::vector<std::vector<double>>& v,
                                            const std::vector<double>& r, bool with_dx = true) {
    auto x = upload<Exec, Real>(v[0], "x"), w = upload<Exec, Real>(v[1], "w");
    auto dy = upload<Exec, Real>(r, "dy");
    const auto dw0 = random_vector(v[1].size(), 11),
               db0 = random_vector(v[2].size(), 12);  // accumulate onto these
    auto dw = upload<Exec, Real>(dw0, "dw"), db = upload<Exec, Real>(db0, "db");
    auto dx = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "dx");
    op::pointwise_linear_backward(exec, ws, w.data(), x.data(), dy.data(), dw.data(),
                                  cfg.bias ? db.data() : nullptr, with_dx ? dx.data() : nullptr);
    exec.fence();
    return {download(dx), minus(download(dw), dw0), minus(download(db), db0)};
  }
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("pointwise_linear: forward matches a naive loop; backward gradients", "[linear]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const bool bias = GENERATE(true, false);
  op::PointwiseLinearCfg cfg{3, 4, bias};
  const int B = 2, R = 15;  // e.g. a 5 x 3 grid
  std::vector<std::vector<double>> v{random_vector(std::size_t(B) * 3 * R, 1), random_vector(12, 2),
                                     random_vector(4, 3)};
  LinearRun<Exec, Real> run(cfg, B, R);
  std::vector<double> mag;
  const auto want = linear_reference(cfg, B, R, v[0], v[1], v[2], &mag);
  const auto got = run.forward(v);
  // Higham eq. 3.13: |y - y_hat| <= gamma_{Cin+1} (|W||x| + |b|); a factor 2 for the input rounding to Real.
  const double u = epsilon<Real>(), gamma = (cfg.c_in + 1) * u / (1 - (cfg.c_in + 1) * u);
  for (std::size_t i = 0; i < got.size(); ++i)
    REQUIRE(std::abs(got[i] - want[i]) <= 2 * gamma * mag[i] + 1e-300);

  const auto r = random_vector(got.size(), 4);
  const auto g = run.backward(v, r);
  // The same gradients, exact in double: dx = W^T r, dW = sum r x^T, db = sum r.
  std::vector<double> dx(v[0].size(), 0.0), dw(12, 0.0), db(4, 0.0);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < 4; ++o)
      for (int n = 0; n < R; ++n) {
        const double ro = r[(std::size_t(b) * 4 + o) * R + n];
        db[o] += ro;
        for (int i = 0; i < 3; ++i) {
          dx[(std::size_t(b) * 3 + i) * R + n] += v[1][o * 3 + i] * ro;
          dw[o * 3 + i] += ro * v[0][(std::size_t(b) * 3 + i) * R + n];
        }
      }
  if (!bias) db.assign(4, 0.0);
  // Each gradient is a sum of at most B R terms of size <= 1 (inputs in [-1, 1]); the float
  // bound gamma_{B R + 2} per unit term (Higham 3.13) plus the accumulation onto dW0 ~ 1.
  const double tol = 2 * (B * R + 2) * u * (B * R + 1);
  REQUIRE(max_abs(minus(g[0], dx)) <= tol);
  REQUIRE(max_abs(minus(g[1], dw)) <= tol);
  REQUIRE(max_abs(minus(g[2], db)) <= tol);

  if constexpr (std::is_same_v<Real, double>) {
    SECTION("finite differences") {
      std::vector<std::vector<double>> vars = v;
      if (!bias) vars.pop_back();
      auto grads = g;
      if (!bias) grads.pop_back();
      gradcheck(vars,
                [&](const std::vector<std::vector<double>>& p) {
                  auto q = p;
                  if (!bias) q.push_back(v[2]);
                  return run.forward(q);
                },
                r, grads, {"x", "weight", "bias"});
    }
  }
  SECTION("accumulate adds W x + b onto y") {
    // One more rounded addition than above: gamma_{Cin+2} over |W||x| + |b| + |y0|.
    const auto y0 = random_vector(got.size(), 5);
    const auto acc = run.forward(v, &y0);
    const double gamma2 = (cfg.c_in + 2) * u / (1 - (cfg.c_in + 2) * u);
    for (std::size_t i = 0; i < acc.size(); ++i)
      REQUIRE(std::abs(acc[i] - (y0[i] + want[i])) <= 2 * gamma2 * (mag[i] + std::abs(y0[i])) + 1e-300);
  }
  SECTION("null dx leaves the parameter gradients unchanged") {
    const auto g2 = run.backward(v, r, false);
    REQUIRE(max_abs(g2[0]) == double(Real(kGarbage)));  // untouched
    REQUIRE(max_abs(minus(g2[1], g[1])) == 0.0);
    REQUIRE(max_abs(minus(g2[2], g[2])) == 0.0);
  }
}

// pointwise_linear_gelu_forward: y = W x + b [+ y0] kept (unless a aliases it) and a = gelu(y), against
// the naive double sums. Its backward is gelu_backward then pointwise_linear_backward, each checked on
// its own (above and in "gelu").
TEMPLATE_LIST_TEST_CASE("pointwise_linear_gelu: the linear map, its bias and the GELU in one pass",
                        "[linear]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const bool bias = GENERATE(true, false), accumulate = GENERATE(false, true), alias = GENERATE(false, true);
  CAPTURE(bias, accumulate, alias);
  const op::PointwiseLinearCfg cfg{5, 4, bias};
  const int B = 3, R = 14;
  const std::size_t ny = std::size_t(B) * cfg.c_out * R;
  // Inputs in [-2, 2]: pre-activations reach both tails of the GELU.
  const std::vector<double> x = random_vector(std::size_t(B) * cfg.c_in * R, 21, -2.0, 2.0),
                            w = random_vector(20, 22), b = random_vector(4, 23), y0 = random_vector(ny, 24);
  std::vector<double> mag;
  auto want = linear_reference(cfg, B, R, x, w, b, &mag);
  if (accumulate)
    for (std::size_t i = 0; i < ny; ++i) {
      want[i] += y0[i];
      mag[i] += std::abs(y0[i]);
    }

  Exec exec;
  op::PointwiseLinearWorkspace<Exec> ws(exec, cfg, B, R);
  auto xd = upload<Exec, Real>(x, "x"), wd = upload<Exec, Real>(w, "w"), bd = upload<Exec, Real>(b, "b");
  auto y = upload<Exec, Real>(accumulate ? y0 : std::vector<double>(ny, kGarbage), "y");
  auto a = upload<Exec, Real>(std::vector<double>(ny, kGarbage), "a");
  Real* out = alias ? y.data() : a.data();
  op::pointwise_linear_gelu_forward(exec, ws, wd.data(), bias ? bd.data() : nullptr, xd.data(), y.data(), out,
                                    accumulate);
  exec.fence();
  const auto got_y = download(y), got_a = alias ? got_y : download(a);
  // The pre-activation as in the test above: gamma_{Cin+2} over |W||x| + |b| + |y0| (one more
  // addition than the plain map: the bias after the GEMM's sum), 2x for rounding the inputs. The
  // GELU moves that error by at most max |gelu'| < 1.13 and adds its own evaluation error: erf within
  // 2 ulp (glibc, CUDA), then three roundings: 8 u of |gelu(y)|, plus u for underflow near 0.
  const double u = epsilon<Real>(), gamma = (cfg.c_in + 2) * u / (1 - (cfg.c_in + 2) * u);
  for (std::size_t i = 0; i < ny; ++i) {
    const double e_pre = 2 * gamma * mag[i] + 1e-300;
    const double ga = want[i] / 2 * (1 + std::erf(want[i] / std::sqrt(2.0)));
    if (!alias) REQUIRE(std::abs(got_y[i] - want[i]) <= e_pre);
    REQUIRE(std::abs(got_a[i] - ga) <= 1.13 * e_pre + 8 * u * std::abs(ga) + u);
  }
}

TEST_CASE("pointwise_linear: registration and initialization", "[linear]") {
  op::ParamTable t;
  op::pointwise_linear_register(t, "fno.layer0.w", {20, 20, true});
  op::pointwise_linear_register(t, "fno.fc1", {20, 128, false});
  REQUIRE(t.slot("fno.layer0.w.weight").shape == std::vector<int>{20, 20});
  REQUIRE(t.slot("fno.layer0.w.bias").shape == std::vector<int>{20});
  REQUIRE(!t.has("fno.fc1.bias"));
  REQUIRE(t.parameter_count() == 420 + 2560);
  REQUIRE_THROWS_AS(op::pointwise_linear_register(t, "bad", {0, 3, true}), Error);

  HostExec exec;
  const op::PointwiseLinearCfg cfg{16, 8, true};
  View1<double, HostMem> w("w", 128), b("b", 8);
  op::pointwise_linear_init(exec, cfg, w.data(), b.data(), 7, 100);
  double mean = 0;
  for (int i = 0; i < 128; ++i) {
    REQUIRE(std::abs(w(i)) <= 0.25);  // U(-1/sqrt(Cin), 1/sqrt(Cin))
    mean += w(i) / 128;
  }
  for (int i = 0; i < 8; ++i) REQUIRE(std::abs(b(i)) <= 0.25);
  // Standard error of the mean of 128 U(-1/4, 1/4) draws: (1/4)/sqrt(3)/sqrt(128) = 0.0128; 4 sigma.
  REQUIRE(std::abs(mean) <= 4 * 0.0128);
}

// ---------------------------------------------------------------- gelu

namespace {
template <class Exec, class Real>
struct GeluRun {
  using mem = typename Exec::memory_space;
  Exec exec;
  std::vector<double> forward(const std::vector<std::vector<double>>& v) {
    auto x = upload<Exec, Real>(v[0], "x");
    View1<Real, mem> y("y", v[0].size());
    op::gelu_forward(exec, index_t(v[0].size()), x.data(), y.data());
    exec.fence();
    return download(y);
  }
  std::vector<double> backward(const std::vector<double>& x0, const std::vector<double>& r) {
    auto x = upload<Exec, Real>(x0, "x"), dy = upload<Exec, Real>(r, "dy");
    auto dx = upload<Exec, Real>(std::vector<double>(x0.size(), kGarbage), "dx");
    op::gelu_backward(exec, index_t(x0.size()), x.data(), dy.data(), dx.data());
    exec.fence();
    return download(dx);
  }
};
}  // namespace

TEMPLATE_LIST_TEST_CASE("gelu: exact erf GELU and its derivative", "[gelu]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const auto x = random_vector(64, 5, -5.0, 5.0), r = random_vector(64, 6);
  GeluRun<Exec, Real> run;
  const auto y = run.forward({x});
  const auto dx = run.backward(x, r);
  // Reference in double from std::erf. Float: erff and expf are within a few ulp; rounding x to
  // float moves y by |gelu'(x)| |x| u <= 1.13 |x| u. Allow 8 u (|y| + |x|).
  const double u = epsilon<Real>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = double(Real(x[i]));
    const double phi = 0.5 * (1 + std::erf(xi / std::sqrt(2.0)));
    const double want = xi * phi;
    const double dwant = (phi + xi * std::exp(-0.5 * xi * xi) / std::sqrt(2 * M_PI)) * double(Real(r[i]));
    REQUIRE(std::abs(y[i] - want) <= 8 * u * (std::abs(want) + std::abs(xi)));
    REQUIRE(std::abs(dx[i] - dwant) <= 8 * u * (std::abs(dwant) + std::abs(xi * double(Real(r[i])))));
  }
  if constexpr (std::is_same_v<Real, double>) {
    SECTION("finite differences") {
      gradcheck({x}, [&](const std::vector<std::vector<double>>& p) { return run.forward(p); }, r, {dx},
                {"x"});
    }
  }
  SECTION("in place and shared with the kernels") {
    REQUIRE(op::gelu_value(0.0) == 0.0);
    REQUIRE(op::gelu_derivative(0.0) == 0.5);
    REQUIRE(std::abs(op::gelu_value(1.0f) - 0.8413447f) <= 2e-7f);
  }
}

// ---------------------------------------------------------------- spectral_conv

namespace {

using cd = std::complex<double>;

struct SpectralCase {
  std::vector<int> grid, modes;
};

// Retained frequencies in the weight's mode order (spectral_conv.hpp): (kx[, ky[, kz]]) indices
// on the full DFT grid, and the half-axis weight w (1 on columns 0 and N/2, else 2).
std::vector<std::vector<int>> retained_modes(const std::vector<int>& grid, const std::vector<int>& modes) {
  const int d = int(grid.size());
  int m[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) m[t] = modes[t];
  std::vector<std::vector<int>> out;
  for (int blk = 0; blk < (1 << (d - 1)); ++blk)
    for (int a = 0; a < m[0]; ++a)
      for (int b = 0; b < m[1]; ++b)
        for (int c = 0; c < m[2]; ++c) {
          std::vector<int> k{a, b, c};
          k.resize(d);
          for (int t = 0; t < d - 1; ++t)
            if ((blk >> t) & 1) k[t] = grid[t] - m[t] + k[t];
          out.push_back(k);
        }
  return out;
}

// Direct DFT sums, no FFT: x_hat at the retained modes, the per-mode mixing, and
// y(n) = 1/N sum_modes w Re(y_hat e^{2 pi i k.n/N}) (torch.fft.irfftn of the truncated spectrum).
std::vector<double> spectral_reference(const SpectralCase& sc, int B, int ci, int co,
                                       const std::vector<double>& x,
                                       const std::vector<double>& w_interleaved) {
  const int d = int(sc.grid.size());
  const auto ks = retained_modes(sc.grid, sc.modes);
  int n[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) n[t] = sc.grid[t];
  const int N = n[0] * n[1] * n[2], last = sc.grid.back();
  auto phase = [&](const std::vector<int>& k, int p) {
    const int idx[3] = {p / (n[1] * n[2]), (p / n[2]) % n[1], p % n[2]};
    double s = 0;
    for (int t = 0; t < d; ++t) s += double(k[t]) * idx[t] / n[t];
    return 2 * M_PI * s;
  };
  std::vector<double> y(std::size_t(B) * co * N, 0.0);
  for (std::size_t m = 0; m < ks.size(); ++m) {
    const int col = ks[m][d - 1];
    const double wt = (col == 0 || 2 * col == last) ? 1.0 : 2.0;
    for (int b = 0; b < B; ++b) {
      std::vector<cd> xh(ci, 0.0);
      for (int i = 0; i < ci; ++i)
        for (int p = 0; p < N; ++p)
          xh[i] += x[(std::size_t(b) * ci + i) * N + p] * std::polar(1.0, -phase(ks[m], p));
      for (int o = 0; o < co; ++o) {
        cd yh = 0;
        for (int i = 0; i < ci; ++i) {
          const std::size_t e = (m * ci + i) * co + o;
          yh += xh[i] * cd(w_interleaved[2 * e], w_interleaved[2 * e + 1]);
        }
        for (int p = 0; p < N; ++p)
          y[(std::size_t(b) * co + o) * N + p] += wt / N * std::real(yh * std::polar(1.0, phase(ks[m], p)));
      }
    }
  }
  return y;
}

// vars: x (B, Cin, N...), W interleaved (M, Cin, Cout) complex.
template <class Exec, class Real>
struct SpectralRun {
  using mem = typename Exec::memory_space;
  using C = Complex<Real>;
  op::SpectralConvCfg cfg;
  int B;
  Exec exec;
  op::SpectralConvWorkspace<Exec, Real> ws;
  View1<C, mem> x_modes;
  SpectralRun(op::SpectralConvCfg c, int b, const std::vector<int>& grid)
      : cfg(c), B(b), ws(exec, c, b, grid), x_modes("x_modes", c.mode_count() * b * c.c_in) {}

  std::vector<double> forward(const std::vector<std::vector<double>>& v) {
    auto x = upload<Exec, Real>(v[0], "x"), w = upload<Exec, Real>(v[1], "w");
    View1<Real, mem> y("y", std::size_t(B) * cfg.c_out * ws.points);
    op::spectral_conv_forward(exec, ws, reinterpret_cast<const C*>(w.data()), x.data(), y.data(),
                              x_modes.data());
    exec.fence();
    return download(y);
  }
  // After forward(v): x_modes holds v's modes.
  std::vector<std::vector<double>> backward(const std::vector<std::vector<double>>& v,
                                            const std::vector<double>& r) {
    forward(v);
    auto w = upload<Exec, Real>(v[1], "w"), dy = upload<Exec, Real>(r, "dy");
    const auto dw0 = random_vector(v[1].size(), 21);
    auto dw = upload<Exec, Real>(dw0, "dw");
    auto dx = upload<Exec, Real>(std::vector<double>(v[0].size(), kGarbage), "dx");
    op::spectral_conv_backward(exec, ws, reinterpret_cast<const C*>(w.data()), x_modes.data(), dy.data(),
                               reinterpret_cast<C*>(dw.data()), dx.data());
    exec.fence();
    return {download(dx), minus(download(dw), dw0)};
  }
};

const SpectralCase kSpectralCases[] = {{{8}, {5}},
                                       {{7}, {4}},
                                       {{9}, {2}},  // 1D: even and odd at the limit N/2+1
                                       {{6, 8}, {3, 5}},
                                       {{5, 7}, {2, 4}},
                                       {{4, 5}, {1, 2}},  // 2D: limits 2m <= Nx, m <= Ny/2+1
                                       {{4, 6, 4}, {2, 3, 3}},
                                       {{5, 4, 5}, {2, 2, 3}},
                                       {{3, 5, 6}, {1, 2, 2}}};  // 3D

}  // namespace

TEMPLATE_LIST_TEST_CASE("spectral_conv: agrees with direct DFT sums in 1D, 2D, 3D; gradients",
                        "[spectral_conv]", surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int which = GENERATE(range(0, int(std::size(kSpectralCases))));
  const SpectralCase& sc = kSpectralCases[which];
  CAPTURE(which, sc.grid, sc.modes);
  const int B = 2, ci = 2, co = 3;
  op::SpectralConvCfg cfg{ci, co, sc.modes};
  index_t N = 1;
  for (int e : sc.grid) N *= e;
  // Weights of unit size (not the 1/(Cin Cout) init) so every mode matters equally.
  std::vector<std::vector<double>> v{random_vector(std::size_t(B) * ci * N, 31 + which),
                                     random_vector(2 * cfg.mode_count() * ci * co, 41 + which)};
  SpectralRun<Exec, Real> run(cfg, B, sc.grid);
  const auto want = spectral_reference(sc, B, ci, co, v[0], v[1]);
  const auto got = run.forward(v);
  // Two FFTs (8 eps log2 N each, as tests/core/test_fft.cpp) and a K = Cin complex GEMM
  // (2 gamma_Cin): rel L2 within 8 u (2 log2 N + Cin + 2); truncation can make ||y|| smaller than
  // ||x_hat|| ||W||, for which we allow a further factor 4.
  const double u = epsilon<Real>();
  const double tol = 4 * 8 * u * (2 * std::log2(double(N) + 1) + ci + 2);
  REQUIRE(rel_l2(got, want) <= tol);

  const auto r = random_vector(got.size(), 51 + which);
  const auto g = run.backward(v, r);
  // Gradients against the double computation on the host (checked by finite differences below).
  SpectralRun<HostExec, double> ref(cfg, B, sc.grid);
  const auto gref = ref.backward(v, r);
  REQUIRE(rel_l2(g[0], gref[0]) <= tol);
  // dW accumulated onto a random dW0 of size ~1: compare the increments normwise against dW0's size.
  REQUIRE(std::sqrt(dot(minus(g[1], gref[1]), minus(g[1], gref[1]))) <=
          tol * (std::sqrt(dot(gref[1], gref[1])) + std::sqrt(double(g[1].size()))));
  if constexpr (std::is_same_v<Real, double>) {
    SECTION("finite differences") {
      gradcheck(v, [&](const std::vector<std::vector<double>>& p) { return run.forward(p); }, r, g,
                {"x", "weight"});
    }
  }
}

TEST_CASE("spectral_conv: mode limits, registration, initialization", "[spectral_conv]") {
  using op::SpectralConvCfg;
  auto kind_of = [](const SpectralConvCfg& c, const std::vector<int>& grid) {
    try {
      op::spectral_conv_validate(c, grid);
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("spectral_conv: ") == 0);
      return int(e.kind());
    }
    return -1;
  };
  const int usage = int(ErrorKind::usage);
  CHECK(kind_of({2, 2, {5}}, {8}) == -1);  // 8/2 + 1
  CHECK(kind_of({2, 2, {6}}, {8}) == usage);
  CHECK(kind_of({2, 2, {3, 5}}, {6, 8}) == -1);
  CHECK(kind_of({2, 2, {4, 5}}, {6, 8}) == usage);  // +/- kx blocks would overlap
  CHECK(kind_of({2, 2, {3, 4}}, {7, 6}) == -1);     // 2*3 <= 7 (odd Nx), 4 = 6/2 + 1
  CHECK(kind_of({2, 2, {4, 4}}, {7, 6}) == usage);
  CHECK(kind_of({2, 2, {2, 2, 2}}, {4, 4}) == usage);  // grid rank
  CHECK(kind_of({0, 2, {2}}, {}) == usage);
  CHECK(kind_of({2, 2, {1, 1, 1, 1}}, {}) == usage);
  REQUIRE_THROWS_WITH(op::spectral_conv_validate({2, 2, {10}}, {16}),
                      Catch::Contains("modes[0] = 10 on Nx = 16: expected at most 9"));

  // The paper's FNO-3D: four layers of 4 blocks, modes 8, width 20 (models.md 1.2: 4*4*20*20*8^3*2).
  op::ParamTable t;
  for (int l = 0; l < 4; ++l)
    op::spectral_conv_register(t, "fno.layer" + std::to_string(l) + ".spectral", {20, 20, {8, 8, 8}});
  REQUIRE(t.parameter_count() == std::size_t(4) * 4 * 20 * 20 * 512 * 2);
  REQUIRE(t.slot("fno.layer0.spectral.weight").shape == std::vector<int>{4, 8, 8, 8, 20, 20});
  REQUIRE(t.slot("fno.layer0.spectral.weight").kind == op::ParamKind::complex);

  HostExec exec;
  const SpectralConvCfg cfg{4, 5, {3, 2}};
  const index_t n = cfg.mode_count() * 20;
  View1<Complex<double>, HostMem> w("w", n);
  op::spectral_conv_init(exec, cfg, w.data(), 3, 9);
  const double scale = 1.0 / 20;
  double mean = 0;
  for (index_t i = 0; i < n; ++i) {
    REQUIRE((w(i).real() >= 0 && w(i).real() < scale && w(i).imag() >= 0 && w(i).imag() < scale));
    mean += (w(i).real() + w(i).imag()) / (2 * n);
  }
  // 2n uniform draws on [0, scale): standard error scale / sqrt(12 * 2n); 4 sigma.
  REQUIRE(std::abs(mean - scale / 2) <= 4 * scale / std::sqrt(24.0 * n));
}

// ---------------------------------------------------------------- grid_channels

namespace {
template <class Exec, class Real>
struct GridRun {
  using mem = typename Exec::memory_space;
  op::GridChannelsCfg cfg;
  int B;
  index_t N;
  Exec exec;
  std::vector<double> forward(const std::vector<std::vector<double>>& v) {
    auto x = upload<Exec, Real>(v[0], "x");
    View1<Real, mem> y("y", std::size_t(B) * (cfg.c_in + cfg.grid.size()) * N);
    op::grid_channels_forward(exec, cfg, B, x.data(), y.data());
    exec.fence();
    return download(y);
  }
  std::vector<double> backward(const std::vector<double>& r) {
    auto dy = upload<Exec, Real>(r, "dy");
    auto dx = upload<Exec, Real>(std::vector<double>(std::size_t(B) * cfg.c_in * N, kGarbage), "dx");
    op::grid_channels_backward(exec, cfg, B, dy.data(), dx.data());
    exec.fence();
    return download(dx);
  }
};
}  // namespace

TEMPLATE_LIST_TEST_CASE("grid_channels: linspace(0, 1, N) per axis after the inputs", "[grid]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const auto grid = GENERATE(std::vector<int>{7}, std::vector<int>{3, 4}, std::vector<int>{2, 3, 5},
                             std::vector<int>{1, 4});
  CAPTURE(grid);
  const int B = 2, C = 3, d = int(grid.size());
  index_t N = 1;
  for (int e : grid) N *= e;
  GridRun<Exec, Real> run{{C, grid}, B, N, Exec()};
  const auto x = random_vector(std::size_t(B) * C * N, 61);
  const auto y = run.forward({x});
  int n[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) n[t] = grid[t];
  for (int b = 0; b < B; ++b)
    for (index_t p = 0; p < N; ++p) {
      for (int c = 0; c < C; ++c)
        REQUIRE(y[(std::size_t(b) * (C + d) + c) * N + p] ==
                double(Real(x[(std::size_t(b) * C + c) * N + p])));
      const int idx[3] = {int(p / (n[1] * n[2])), int(p / n[2] % n[1]), int(p % n[2])};
      for (int t = 0; t < d; ++t) {
        const double want = n[t] > 1 ? double(idx[t]) / (n[t] - 1) : 0.0;
        // i / (N - 1) in Real: one rounding of the quotient of two exact integers.
        REQUIRE(std::abs(y[(std::size_t(b) * (C + d) + C + t) * N + p] - want) <= epsilon<Real>() * want);
      }
    }
  const auto r = random_vector(y.size(), 62);
  const auto dx = run.backward(r);
  if constexpr (std::is_same_v<Real, double>) {
    gradcheck({x}, [&](const std::vector<std::vector<double>>& p) { return run.forward(p); }, r, {dx}, {"x"});
  }
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c)
      for (index_t p = 0; p < N; ++p)
        REQUIRE(dx[(std::size_t(b) * C + c) * N + p] ==
                double(Real(r[(std::size_t(b) * (C + d) + c) * N + p])));
}

// ---------------------------------------------------------------- pad / crop

namespace {
template <class Exec, class Real>
struct PadRun {
  using mem = typename Exec::memory_space;
  op::PadCfg cfg;
  int B;
  bool crop;  // false: pad (small -> big); true: crop (big -> small)
  Exec exec;
  std::size_t small() const {
    std::size_t n = std::size_t(B) * cfg.channels;
    for (int e : cfg.grid) n *= e;
    return n;
  }
  std::size_t big() const {
    std::size_t n = std::size_t(B) * cfg.channels;
    for (std::size_t t = 0; t < cfg.grid.size(); ++t) n *= cfg.grid[t] + cfg.pad[t];
    return n;
  }
  std::vector<double> forward(const std::vector<std::vector<double>>& v) {
    auto x = upload<Exec, Real>(v[0], "x");
    View1<Real, mem> y("y", crop ? small() : big());
    if (crop)
      op::crop_forward(exec, cfg, B, x.data(), y.data());
    else
      op::pad_forward(exec, cfg, B, x.data(), y.data());
    exec.fence();
    return download(y);
  }
  std::vector<double> backward(const std::vector<double>& r) {
    auto dy = upload<Exec, Real>(r, "dy");
    auto dx = upload<Exec, Real>(std::vector<double>(crop ? big() : small(), kGarbage), "dx");
    if (crop)
      op::crop_backward(exec, cfg, B, dy.data(), dx.data());
    else
      op::pad_backward(exec, cfg, B, dy.data(), dx.data());
    exec.fence();
    return download(dx);
  }
};

// Naive pad of (S, small...) into (S, big...) on right-aligned 3-axis extents.
std::vector<double> pad_reference(const op::PadCfg& cfg, int B, const std::vector<double>& x) {
  const int d = int(cfg.grid.size());
  int s[3] = {1, 1, 1}, g[3] = {1, 1, 1};
  for (int t = 0; t < d; ++t) {
    s[3 - d + t] = cfg.grid[t];
    g[3 - d + t] = cfg.grid[t] + cfg.pad[t];
  }
  const int S = B * cfg.channels;
  std::vector<double> y(std::size_t(S) * g[0] * g[1] * g[2], 0.0);
  for (int q = 0; q < S; ++q)
    for (int i = 0; i < s[0]; ++i)
      for (int j = 0; j < s[1]; ++j)
        for (int k = 0; k < s[2]; ++k)
          y[((std::size_t(q) * g[0] + i) * g[1] + j) * g[2] + k] =
              x[((std::size_t(q) * s[0] + i) * s[1] + j) * s[2] + k];
  return y;
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("pad and crop: zero padding on the right, crop back; adjoint pair", "[pad]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const auto which = GENERATE(0, 1, 2, 3);
  const std::vector<op::PadCfg> cfgs{
      {2, {7}, {3}}, {2, {5, 4}, {2, 3}}, {1, {3, 4, 2}, {1, 0, 2}}, {2, {4, 4}, {9, 9}}};
  const op::PadCfg cfg = cfgs[which];
  CAPTURE(which);
  const int B = 2;
  PadRun<Exec, Real> pad{cfg, B, false, Exec()}, crop{cfg, B, true, Exec()};
  const auto x = random_vector(pad.small(), 71);
  const auto xr = [&] {  // x as Real: padding and cropping copy values exactly
    std::vector<double> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) v[i] = double(Real(x[i]));
    return v;
  }();
  const auto y = pad.forward({x});
  REQUIRE(y == pad_reference(cfg, B, xr));
  REQUIRE(crop.forward({y}) == xr);  // crop(pad(x)) == x
  const auto r = random_vector(pad.big(), 72);
  const auto rr = [&] {
    std::vector<double> v(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) v[i] = double(Real(r[i]));
    return v;
  }();
  REQUIRE(pad.backward(r) == crop.forward({r}));  // pad's adjoint is crop
  const auto s = random_vector(pad.small(), 73);
  REQUIRE(crop.backward(s) == pad.forward({s}));  // crop's adjoint is pad
  // <pad x, r> == <x, crop r>: every product appears once on each side (exact up to summation order).
  REQUIRE(std::abs(dot(y, rr) - dot(xr, crop.forward({r}))) <= 1e-12 * x.size());
  if constexpr (std::is_same_v<Real, double>) {
    gradcheck({x}, [&](const std::vector<std::vector<double>>& p) { return pad.forward(p); }, r,
              {pad.backward(r)}, {"x"});
    gradcheck({r}, [&](const std::vector<std::vector<double>>& p) { return crop.forward(p); }, s,
              {crop.backward(s)}, {"x"});
  }
}

TEST_CASE("pad: validation", "[pad]") {
  REQUIRE_NOTHROW(op::pad_validate({2, {8, 8}, {9, 9}}));
  REQUIRE_THROWS_AS(op::pad_validate({2, {8, 8}, {9}}), Error);
  REQUIRE_THROWS_AS(op::pad_validate({2, {8, 8}, {-1, 0}}), Error);
  REQUIRE_THROWS_AS(op::pad_validate({0, {8}, {1}}), Error);
}
