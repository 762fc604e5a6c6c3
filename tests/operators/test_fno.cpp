// The whole FNO: parameter counts against the paper, a finite-difference gradient check of every
// parameter and input in 1D, 2D (with and without padding) and 3D, inference = training forward,
// and host/device agreement.
#include "harness.hpp"
#include "operators/models/fno.hpp"

#include <catch2/catch.hpp>

using namespace surro;
using namespace surro::test::layers;

namespace {

struct Case {
  op::FnoCfg cfg;
  std::vector<int> grid;
  int batch;
};

std::vector<Case> small_cases() {
  std::vector<Case> out;
  op::FnoCfg c;
  c.in_channels = 2;
  c.out_channels = 1;
  c.width = 3;
  c.layers = 2;
  c.projection = 4;
  c.modes = {3};
  out.push_back({c, {8}, 2});  // 1D
  c.modes = {2, 2};
  out.push_back({c, {6, 5}, 2});  // 2D, odd last axis
  c.padding = {2, 1};
  out.push_back({c, {5, 4}, 2});  // 2D padded (Darcy-style)
  c.padding.clear();
  c.modes = {1, 1, 2};
  c.out_channels = 2;
  out.push_back({c, {3, 4, 4}, 1});  // 3D
  return out;
}

std::size_t points(const std::vector<int>& g) {
  std::size_t n = 1;
  for (int e : g) n *= e;
  return n;
}

}  // namespace

TEST_CASE("fno: parameter counts match the FNO paper's", "[fno]") {
  // NS FNO-2D: modes 8, width 20, 10 input frames (+2 grid channels) -> 414,517 (paper Table 1,
  // counting the 4 unused BatchNorm2d layers of the reference script: 4 * 2 * 20 = 160).
  op::FnoCfg ns;
  ns.in_channels = 10;
  ns.modes = {8, 8};
  op::ParamTable t2;
  op::fno_register(t2, ns);
  CHECK(t2.parameter_count() == 414357);
  CHECK(op::fno_reference_parameter_count(ns, t2) == 414517);
  // FNO-3D: modes 8, width 20, 10 input frames (+3 grid channels) -> 6,558,537.
  op::FnoCfg ns3 = ns;
  ns3.modes = {8, 8, 8};
  op::ParamTable t3;
  op::fno_register(t3, ns3);
  CHECK(op::fno_reference_parameter_count(ns3, t3) == 6558537);
  // Burgers FNO-1D, modes 16, width 64: lift 2*64+64, 4 x (16*64*64*2 + 64*64+64), 64*128+128, 128+1.
  op::FnoCfg b;
  b.modes = {16};
  b.width = 64;
  op::ParamTable t1;
  op::fno_register(t1, b);
  CHECK(t1.parameter_count() == 192 + 4 * (131072 + 4160) + 8320 + 129);
}

TEST_CASE("fno: finite-difference gradients of every parameter and input", "[fno]") {
  const auto cases = small_cases();
  const int which = GENERATE(0, 1, 2, 3);
  const Case& k = cases[which];
  CAPTURE(which, k.grid);
  HostExec exec;
  op::ParamTable table;
  op::fno_register(table, k.cfg);
  op::Fno<HostExec, double> model(exec, k.cfg, table, k.batch, k.grid, true);
  const std::size_t n = points(k.grid);
  const std::size_t nx = k.batch * k.cfg.in_channels * n, ny = k.batch * k.cfg.out_channels * n;

  View1<double, HostMem> p("p", table.size()), g("g", table.size()), x("x", nx), y("y", ny), dx("dx", nx);
  model.init(exec, p.data(), 11);
  const std::vector<double> p0(p.data(), p.data() + table.size());
  const std::vector<double> x0 = random_vector(nx, 3);
  const std::vector<double> r = random_vector(ny, 4);

  auto forward = [&](const std::vector<std::vector<double>>& v) {
    std::copy(v[0].begin(), v[0].end(), p.data());
    std::copy(v[1].begin(), v[1].end(), x.data());
    model.forward(exec, p.data(), x.data(), y.data());
    exec.fence();
    return std::vector<double>(y.data(), y.data() + ny);
  };
  forward({p0, x0});
  // Gradients accumulate: start from random values and subtract them afterwards.
  const std::vector<double> g0 = random_vector(table.size(), 5);
  std::copy(g0.begin(), g0.end(), g.data());
  View1<double, HostMem> dy("dy", ny);
  std::copy(r.begin(), r.end(), dy.data());
  model.backward(exec, p.data(), dy.data(), g.data(), dx.data());
  exec.fence();
  std::vector<double> gp(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) gp[i] = g.data()[i] - g0[i];
  const std::vector<double> gx(dx.data(), dx.data() + nx);
  gradcheck({p0, x0}, forward, r, {gp, gx}, {"params", "x"});
}

TEMPLATE_LIST_TEST_CASE("fno: inference equals training forward; every space agrees with double", "[fno]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  using Mem = typename Exec::memory_space;
  const Case k = small_cases()[2];  // padded 2D: every stage
  Exec exec;
  op::ParamTable table;
  op::fno_register(table, k.cfg);
  const std::size_t n = points(k.grid);
  const std::size_t nx = k.batch * k.cfg.in_channels * n, ny = k.batch * k.cfg.out_channels * n;

  // Reference: double on the host.
  HostExec host;
  op::Fno<HostExec, double> ref(host, k.cfg, table, k.batch, k.grid, true);
  View1<double, HostMem> pd("p", table.size()), xd("x", nx), yd("y", ny);
  ref.init(host, pd.data(), 7);
  const std::vector<double> xs = random_vector(nx, 8);
  std::copy(xs.begin(), xs.end(), xd.data());
  ref.forward(host, pd.data(), xd.data(), yd.data());
  const std::vector<double> want(yd.data(), yd.data() + ny);

  auto p = upload<Exec, Real>(std::vector<double>(pd.data(), pd.data() + table.size()), "p");
  auto x = upload<Exec, Real>(xs, "x");
  View1<Real, Mem> y_train("y_train", ny), y_infer("y_infer", ny);
  op::Fno<Exec, Real> train(exec, k.cfg, table, k.batch, k.grid, true);
  op::Fno<Exec, Real> infer(exec, k.cfg, table, k.batch, k.grid, false);
  train.forward(exec, p.data(), x.data(), y_train.data());
  infer.forward(exec, p.data(), x.data(), y_infer.data());
  exec.fence();
  CHECK(download(y_train) == download(y_infer));
  // Float: each of the 2L + 3 GEMM/FFT stages adds at most (K + log2 N) eps relative error
  // (K <= 6, N <= 42 here): (7 * 12) eps ~ 1e-5 in float; we allow 1e-4. Double: 1e-12.
  const double tol = std::is_same_v<Real, float> ? 1e-4 : 1e-12;
  CHECK(rel_l2(download(y_train), want) <= tol);

  // matmul_precision tf32: cuBLAS rounds float GEMM operands to 10 mantissa bits (u = 2^-11), so
  // each of the 2L + 3 GEMM stages adds about 2u relative error: 7 * 2^-10 ~ 7e-3; we allow 1e-2.
  // Host backends ignore the policy.
  op::FnoCfg tf32 = k.cfg;
  tf32.gemm.allow_tf32 = true;
  op::Fno<Exec, Real> fast(exec, tf32, table, k.batch, k.grid, false);
  View1<Real, Mem> y_fast("y_fast", ny);
  fast.forward(exec, p.data(), x.data(), y_fast.data());
  exec.fence();
  CHECK(rel_l2(download(y_fast), want) <= (std::is_same_v<Real, float> ? 1e-2 : 1e-12));
}

TEST_CASE("fno: configs that do not fit the data are refused", "[fno]") {
  op::FnoCfg c;
  c.modes = {8, 8};
  CHECK_THROWS_WITH(op::fno_validate(c, {64}), Catch::Contains("the data grid has 1 axes but modes has 2 entries"));
  CHECK_THROWS(op::fno_validate(c, {10, 10}));  // 2 * 8 > 10 on the two-sided axis
  c.padding = {9};
  CHECK_THROWS_WITH(op::fno_validate(c, {64, 64}), Catch::Contains("padding has 1 entries: expected 0 or 2"));
}

TEMPLATE_LIST_TEST_CASE("fno: gradients on every space agree with the double host gradients", "[fno]",
                        surro::test::RealCases) {
  using Exec = typename TestType::exec;
  using Real = typename TestType::scalar;
  using Mem = typename Exec::memory_space;
  const Case k = small_cases()[2];  // padded 2D
  Exec exec;
  op::ParamTable table;
  op::fno_register(table, k.cfg);
  const std::size_t n = points(k.grid);
  const std::size_t nx = k.batch * k.cfg.in_channels * n, ny = k.batch * k.cfg.out_channels * n;
  const std::vector<double> xs = random_vector(nx, 21), dys = random_vector(ny, 22);

  HostExec host;
  op::Fno<HostExec, double> ref(host, k.cfg, table, k.batch, k.grid, true);
  View1<double, HostMem> pd("p", table.size()), gd("g", table.size()), xd("x", nx), yd("y", ny), dyd("dy", ny),
      dxd("dx", nx);
  ref.init(host, pd.data(), 9);
  std::copy(xs.begin(), xs.end(), xd.data());
  std::copy(dys.begin(), dys.end(), dyd.data());
  ref.forward(host, pd.data(), xd.data(), yd.data());
  ref.backward(host, pd.data(), dyd.data(), gd.data(), dxd.data());

  op::Fno<Exec, Real> model(exec, k.cfg, table, k.batch, k.grid, true);
  auto p = upload<Exec, Real>(std::vector<double>(pd.data(), pd.data() + table.size()), "p");
  auto x = upload<Exec, Real>(xs, "x");
  auto dy = upload<Exec, Real>(dys, "dy");
  View1<Real, Mem> y("y", ny), g("g", table.size()), dx("dx", nx);
  model.forward(exec, p.data(), x.data(), y.data());
  model.backward(exec, p.data(), dy.data(), g.data(), dx.data());
  exec.fence();
  // Backward is as deep as forward (the same stages transposed): the forward test's float bound
  // applies; double agrees to round-off.
  const double tol = std::is_same_v<Real, float> ? 1e-4 : 1e-12;
  CHECK(rel_l2(download(g), std::vector<double>(gd.data(), gd.data() + table.size())) <= tol);
  CHECK(rel_l2(download(dx), std::vector<double>(dxd.data(), dxd.data() + nx)) <= tol);
}
