// Losses: values against a naive double loop, gradients against the analytic double gradient
// and (in double) central finite differences, on every execution space (host/device agreement).
#include "core/rng.hpp"
#include "operators/loss.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

using namespace surro;
using namespace surro::op;

namespace {

template <class Real>
std::vector<Real> cast(const std::vector<double>& v) {
  return std::vector<Real>(v.begin(), v.end());
}

// Naive references in double on the Real-rounded inputs.
double rel_l2_ref(int B, int n, const std::vector<double>& x, const std::vector<double>& y,
                  std::vector<double>* dx) {
  double total = 0.0;
  if (dx) dx->assign(x.size(), 0.0);
  for (int b = 0; b < B; ++b) {
    double dd = 0.0, yy = 0.0;
    for (int i = 0; i < n; ++i) {
      dd += (x[b * n + i] - y[b * n + i]) * (x[b * n + i] - y[b * n + i]);
      yy += y[b * n + i] * y[b * n + i];
    }
    total += std::sqrt(dd) / std::sqrt(yy);
    if (dx)
      for (int i = 0; i < n; ++i)
        (*dx)[b * n + i] = (x[b * n + i] - y[b * n + i]) / (std::sqrt(dd) * std::sqrt(yy));
  }
  return total;
}

double mse_ref(const std::vector<double>& x, const std::vector<double>& y, std::vector<double>* dx) {
  double s = 0.0;
  const double m = static_cast<double>(x.size());
  if (dx) dx->resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    s += (x[i] - y[i]) * (x[i] - y[i]);
    if (dx) (*dx)[i] = 2.0 * (x[i] - y[i]) / m;
  }
  return s / m;
}

// Central difference of f at x[i] with step h: error h^2 f'''/6 plus round-off ~eps |f| / h.
double central_difference(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x,
                          std::size_t i, double h) {
  const double x0 = x[i];
  x[i] = x0 + h;
  const double fp = f(x);
  x[i] = x0 - h;
  const double fm = f(x);
  return (fp - fm) / (2.0 * h);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("loss: relative L2 and MSE against naive double loops", "[loss]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  const int B = 3, n = 257;
  const auto xr = cast<Real>(test::uniform_draws(2024, 1, B * n, -1.0, 1.0));
  const auto yr = cast<Real>(test::uniform_draws(2024, 2, B * n, -1.0, 1.0));
  const std::vector<double> x(xr.begin(), xr.end()), y(yr.begin(), yr.end());  // the exact inputs
  const auto dx = surro::test::to_device<Exec>(xr, "x");
  const auto dy = surro::test::to_device<Exec>(yr, "y");
  const auto dg = surro::test::to_device<Exec>(std::vector<Real>(B * n, Real(7)), "g");
  // Sums run in double on Real inputs: the value agrees with the naive loop to ~n eps_double.
  // A gradient element e_i / (||e|| ||y||) (times 1/B for the mean) takes about four rounded
  // operations in the kernel and three in the reference, each within half an ulp of Real; the
  // device may also contract them into FMAs (nvcc does, g++ without -mfma does not). So the two
  // agree to (4 + 3) / 2 eps: we allow 4 eps.
  const double tol_value = 1e-12;
  const double tol_grad = 4.0 * surro::test::epsilon<Real>();
  std::vector<double> ref_grad;

  SECTION("rel_l2, summed over the batch") {
    const double ref = rel_l2_ref(B, n, x, y, &ref_grad);
    const double got = rel_l2_loss(Exec(), Reduction::sum, B, n, dx.data(), dy.data(), dg.data());
    CHECK(got == Approx(ref).epsilon(tol_value));
    const auto g = surro::test::to_host(dg);
    for (int i = 0; i < B * n; ++i) CHECK(g[i] == Approx(ref_grad[i]).epsilon(tol_grad).margin(1e-30));
  }
  SECTION("rel_l2, averaged over the batch") {
    const double ref = rel_l2_ref(B, n, x, y, &ref_grad) / B;
    const double got = rel_l2_loss(Exec(), Reduction::mean, B, n, dx.data(), dy.data(), dg.data());
    CHECK(got == Approx(ref).epsilon(tol_value));
    const auto g = surro::test::to_host(dg);
    for (int i = 0; i < B * n; ++i) CHECK(g[i] == Approx(ref_grad[i] / B).epsilon(tol_grad).margin(1e-30));
  }
  SECTION("rel_l2 without a gradient buffer leaves nothing written") {
    const double ref = rel_l2_ref(B, n, x, y, nullptr);
    CHECK(rel_l2_loss<Exec, Real>(Exec(), Reduction::sum, B, n, dx.data(), dy.data(), nullptr) ==
          Approx(ref).epsilon(tol_value));
    for (Real v : surro::test::to_host(dg)) CHECK(v == Real(7));
  }
  SECTION("mse") {
    const double ref = mse_ref(x, y, &ref_grad);
    const double got = mse_loss(Exec(), B, n, dx.data(), dy.data(), dg.data());
    CHECK(got == Approx(ref).epsilon(tol_value));
    const auto g = surro::test::to_host(dg);
    for (int i = 0; i < B * n; ++i) CHECK(g[i] == Approx(ref_grad[i]).epsilon(tol_grad).margin(1e-30));
  }
  SECTION("a perfect prediction has loss 0 and gradient 0") {
    CHECK(rel_l2_loss(Exec(), Reduction::sum, B, n, dy.data(), dy.data(), dg.data()) == 0.0);
    for (Real v : surro::test::to_host(dg)) CHECK(v == Real(0));
  }
  SECTION("an all-zero target is refused") {
    const auto zero = surro::test::to_device<Exec>(std::vector<Real>(B * n, Real(0)), "zero");
    CHECK_THROWS_WITH(rel_l2_loss(Exec(), Reduction::sum, B, n, dx.data(), zero.data(), dg.data()),
                      Catch::Contains("all-zero target"));
  }
}

TEMPLATE_LIST_TEST_CASE("loss: gradients match central finite differences in double", "[loss]",
                        surro::test::ExecSpaces) {
  using Exec = TestType;
  const int B = 2, n = 33;
  const auto x = test::uniform_draws(2024, 3, B * n, -1.0, 1.0),
             y = test::uniform_draws(2024, 4, B * n, -1.0, 1.0);
  const auto dyv = surro::test::to_device<Exec>(y, "y");
  auto device_loss = [&](bool rel, const std::vector<double>& xs, std::vector<double>* grad) {
    const auto dxv = surro::test::to_device<Exec>(xs, "x");
    const auto dgv = surro::test::to_device<Exec>(std::vector<double>(xs.size(), 0.0), "g");
    const double l = rel ? rel_l2_loss(Exec(), Reduction::sum, B, n, dxv.data(), dyv.data(), dgv.data())
                         : mse_loss(Exec(), B, n, dxv.data(), dyv.data(), dgv.data());
    if (grad) *grad = surro::test::to_host(dgv);
    return l;
  };
  // h = 1e-5: truncation h^2 |f'''| / 6 ~ 1e-11 (|f'''| = O(1) for these smooth losses away from
  // pred = target), round-off eps |f| / h ~ 1e-11; 1e-8 absolute leaves a wide margin.
  const double h = 1e-5;
  for (bool rel : {true, false}) {
    std::vector<double> grad;
    device_loss(rel, x, &grad);
    for (std::size_t i = 0; i < x.size(); i += 5) {
      const double fd = central_difference(
          [&](const std::vector<double>& xs) { return device_loss(rel, xs, nullptr); }, x, i, h);
      CHECK(grad[i] == Approx(fd).margin(1e-8));
    }
  }
}
