// Rollout against fake surrogates with closed-form trajectories, window order element by element,
// buffer reuse; metrics against naive double loops and Parseval; VTK and HDF5 output read back.
#include "core/error.hpp"
#include "core/rng.hpp"
#include "datasets/well.hpp"
#include "operators/metrics.hpp"
#include "operators/rollout.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataReader.h>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <fstream>
#include <sstream>

using namespace surro;
using namespace surro::op;
namespace fs = std::filesystem;

namespace {

// y[b, c, x] = newest[b, c, x - 1] (periodic roll along the flattened grid, weights 1).
// Step s of a rollout is then the initial newest frame rolled by s + 1: a copy, exact.
struct RollNewest {
  const float* x;
  float* y;
  int in_frames, channels;
  index_t points;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t p = i % points;
    const index_t bc = i / points;
    const index_t b = bc / channels, c = bc % channels;
    const index_t src = (p + points - 1) % points;
    y[i] = x[((b * in_frames + in_frames - 1) * channels + c) * points + src];
  }
};

// y[b, c, p] = sum_t (t + 1) * window[b, t, c, p]: every window slot has its own weight, so a
// misordered window changes the prediction.
struct WeightedSum {
  const float* x;
  float* y;
  int in_frames, channels;
  index_t points;
  KOKKOS_INLINE_FUNCTION void operator()(const index_t i) const {
    const index_t p = i % points;
    const index_t bc = i / points;
    const index_t b = bc / channels, c = bc % channels;
    float s = 0.0f;
    for (int t = 0; t < in_frames; ++t)
      s += float(t + 1) * x[((b * in_frames + t) * channels + c) * points + p];
    y[i] = s;
  }
};

template <class Kernel>
class FakeSurrogate : public Surrogate {
 public:
  FakeSurrogate(int t_in, int c, std::vector<int> grid, int max_b)
      : m_t(t_in), m_c(c), m_grid(grid), m_max(max_b) {}
  int in_frames() const override { return m_t; }
  int channels() const override { return m_c; }
  std::vector<int> grid() const override { return m_grid; }
  int max_batch() const override { return m_max; }
  index_t points() const {
    index_t p = 1;
    for (int n : m_grid) p *= n;
    return p;
  }
  void predict(const ExecSpace& exec, int batch, const float* x, float* y) override {
    const index_t n = static_cast<index_t>(batch) * m_c * points();
    if (record) {
      Kokkos::View<const float*, ExecSpace::memory_space, Kokkos::MemoryUnmanaged> xv(
          x, static_cast<std::size_t>(batch) * m_t * m_c * points());
      exec.fence();
      windows.push_back(test::to_host(xv));
    }
    Kokkos::parallel_for("test::fake_predict", Kokkos::RangePolicy<ExecSpace>(exec, 0, n),
                         Kernel{x, y, m_t, m_c, points()});
  }
  bool record = false;
  std::vector<std::vector<float>> windows;  // each (B, T_in * C, N...)

 private:
  int m_t, m_c;
  std::vector<int> m_grid;
  int m_max;
};

std::vector<float> frame_to_host(const float* frame, std::size_t n) {
  Kokkos::View<const float*, ExecSpace::memory_space, Kokkos::MemoryUnmanaged> v(frame, n);
  return test::to_host(v);
}

}  // namespace

TEST_CASE("rollout of a roll surrogate equals the closed form exactly", "[rollout]") {
  const int B = 2, T = 3, C = 2, Nx = 5, Ny = 4, steps = 7;
  const int P = Nx * Ny;
  FakeSurrogate<RollNewest> model(T, C, {Nx, Ny}, B);
  std::vector<float> w0(static_cast<std::size_t>(B) * T * C * P);
  for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = static_cast<float>(i) * 0.5f - 3.0f;
  auto dw = test::to_device<ExecSpace>(w0, "w0");
  ExecSpace exec;
  int calls = 0;
  rollout(exec, model, B, dw.data(), steps, [&](int s, const float* frame) {
    CHECK(s == calls++);
    const std::vector<float> got = frame_to_host(frame, static_cast<std::size_t>(B) * C * P);
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < C; ++c)
        for (int p = 0; p < P; ++p) {
          const int src = ((p - (s + 1)) % P + P) % P;
          const float want = w0[((static_cast<std::size_t>(b) * T + T - 1) * C + c) * P + src];
          REQUIRE(got[(static_cast<std::size_t>(b) * C + c) * P + p] == want);
        }
  });
  CHECK(calls == steps);
  // The caller's window is not modified.
  CHECK(test::to_host(dw) == w0);
}

TEST_CASE("rollout shifts the window oldest-first, element by element; buffers are reused", "[rollout]") {
  const int B = 2, T = 3, C = 2, N = 6, steps = 5;
  FakeSurrogate<WeightedSum> model(T, C, {N}, 4);
  model.record = true;
  const std::size_t frame = static_cast<std::size_t>(C) * N;
  std::vector<float> w0(B * T * frame);
  for (std::size_t i = 0; i < w0.size(); ++i)
    w0[i] = static_cast<float>(i % 7) - 2.0f;  // small integers: exact
  auto dw = test::to_device<ExecSpace>(w0, "w0");
  ExecSpace exec;
  Rollout r(exec, model);
  CHECK(r.max_batch() == 4);
  const float* window_ptr = r.window_data();
  const float* frame_ptr = r.frame_data();

  for (int run = 0; run < 2; ++run) {
    model.windows.clear();
    std::vector<std::vector<float>> frames;
    r.run(exec, B, dw.data(), steps, [&](int, const float* f) {
      CHECK(f == frame_ptr);
      frames.push_back(frame_to_host(f, B * frame));
    });
    CHECK(r.window_data() == window_ptr);
    CHECK(r.frame_data() == frame_ptr);
    REQUIRE(model.windows.size() == static_cast<std::size_t>(steps));
    // Host reference: W_{s+1} = (frames 1 .. T-1 of W_s, y_s), y_s = sum_t (t + 1) W_s[t].
    std::vector<float> w = w0;
    for (int s = 0; s < steps; ++s) {
      const std::vector<float>& seen = model.windows[s];
      for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(seen[i] == w[i]);
      std::vector<float> y(B * frame);
      for (int b = 0; b < B; ++b)
        for (std::size_t j = 0; j < frame; ++j) {
          float acc = 0.0f;
          for (int t = 0; t < T; ++t) acc += float(t + 1) * w[(b * T + t) * frame + j];
          y[b * frame + j] = acc;
        }
      for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(frames[s][i] == y[i]);
      std::vector<float> next(w.size());
      for (int b = 0; b < B; ++b) {
        for (int t = 0; t + 1 < T; ++t)
          for (std::size_t j = 0; j < frame; ++j)
            next[(b * T + t) * frame + j] = w[(b * T + t + 1) * frame + j];
        for (std::size_t j = 0; j < frame; ++j) next[(b * T + T - 1) * frame + j] = y[b * frame + j];
      }
      w = next;
    }
  }
  CHECK_THROWS_AS(r.run(exec, 5, dw.data(), 1, nullptr), Error);
}

TEMPLATE_LIST_TEST_CASE("relative L2 and RMSE equal naive double sums", "[metrics]", test::ExecSpaces) {
  using Exec = TestType;
  const int B = 3, T = 4;
  const long long n = 37;
  const std::size_t total = static_cast<std::size_t>(B) * T * n;
  const std::vector<double> rd = test::uniform_draws(77, 1, total, -2.0, 2.0),
                            pd = test::uniform_draws(77, 2, total, -2.0, 2.0);
  std::vector<float> ref(rd.begin(), rd.end()), pred(total);
  for (std::size_t i = 0; i < total; ++i) pred[i] = ref[i] + 0.1f * static_cast<float>(pd[i]);
  auto dref = test::to_device<Exec>(ref, "ref");
  auto dpred = test::to_device<Exec>(pred, "pred");
  Exec exec;
  const EvalReport rep = trajectory_errors(exec, B, T, n, dpred.data(), dref.data());

  // Step-by-step accumulation gives the same sums.
  EvalReport acc(B, T, n);
  std::vector<float> step_pred(B * n), step_ref(B * n);
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < B; ++b)
      for (long long i = 0; i < n; ++i) {
        step_pred[b * n + i] = pred[(b * T + t) * n + i];
        step_ref[b * n + i] = ref[(b * T + t) * n + i];
      }
    add_step(exec, acc, t, test::to_device<Exec>(step_pred, "p").data(),
             test::to_device<Exec>(step_ref, "r").data());
  }
  acc.finalize();

  // Summation order differs from the naive loop: relative error ~ n * eps(double).
  const double tol = 1e-12;
  double all_e = 0.0, rel_mean = 0.0;
  std::vector<double> step_rel(T, 0.0);
  for (int b = 0; b < B; ++b) {
    double te = 0.0, tr = 0.0;
    for (int t = 0; t < T; ++t) {
      double e = 0.0, r = 0.0;
      for (long long i = 0; i < n; ++i) {
        const std::size_t k = (static_cast<std::size_t>(b) * T + t) * n + i;
        const double d = double(pred[k]) - double(ref[k]);
        e += d * d;
        r += double(ref[k]) * ref[k];
      }
      CHECK(rep.rel_l2[b * T + t] == Approx(std::sqrt(e) / std::sqrt(r)).epsilon(tol));
      CHECK(rep.rmse[b * T + t] == Approx(std::sqrt(e / n)).epsilon(tol));
      CHECK(acc.rel_l2[b * T + t] == Approx(std::sqrt(e) / std::sqrt(r)).epsilon(tol));
      step_rel[t] += std::sqrt(e) / std::sqrt(r) / B;
      te += e;
      tr += r;
    }
    CHECK(rep.rel_l2_trajectory[b] == Approx(std::sqrt(te) / std::sqrt(tr)).epsilon(tol));
    rel_mean += std::sqrt(te) / std::sqrt(tr) / B;
    all_e += te;
  }
  for (int t = 0; t < T; ++t) CHECK(rep.rel_l2_step_mean[t] == Approx(step_rel[t]).epsilon(tol));
  CHECK(rep.rel_l2_mean == Approx(rel_mean).epsilon(tol));
  CHECK(rep.rmse_overall == Approx(std::sqrt(all_e / (B * T * n))).epsilon(tol));
  CHECK(acc.rmse_overall == Approx(rep.rmse_overall).epsilon(tol));
}

TEMPLATE_LIST_TEST_CASE("StepErrors: launch then store gives each step's naive sums", "[metrics]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const int B = 3, T = 4;
  const long long n = 50;
  Exec exec;
  StepErrors<Exec> errors(B, n);
  EvalReport deferred(B, T, n);
  std::vector<double> want_e(B * T), want_r(B * T);  // (B, T) naive double sums
  View1<double, typename Exec::memory_space> sums("sums", std::size_t(T) * B * 2);  // (T, B, 2)
  for (int t = 0; t < T; ++t) {
    std::vector<float> p(B * n), r(B * n);
    const std::vector<double> a = test::uniform_draws(90 + t, 1, B * n, -1.0, 1.0),
                              b = test::uniform_draws(95 + t, 1, B * n, -1.0, 1.0);
    for (long long i = 0; i < B * n; ++i) {
      p[i] = float(a[i]), r[i] = float(b[i]);
      const double d = double(p[i]) - double(r[i]);
      want_e[(i / n) * T + t] += d * d;
      want_r[(i / n) * T + t] += double(r[i]) * r[i];
    }
    auto dp = test::to_device<Exec>(p, "p"), dr = test::to_device<Exec>(r, "r");
    errors.launch(exec, dp.data(), dr.data(), sums.data() + std::size_t(t) * B * 2);
    exec.fence();  // dp, dr are freed at the end of the iteration
  }
  const std::vector<double> host = test::to_host(sums);
  for (int t = 0; t < T; ++t) errors.store(deferred, t, host.data() + std::size_t(t) * B * 2);
  // Double sums of n = 50 exactly-representable products: only the summation order differs.
  for (int e = 0; e < B * T; ++e) {
    CHECK(deferred.err2[e] == Approx(want_e[e]).epsilon(1e-13));
    CHECK(deferred.ref2[e] == Approx(want_r[e]).epsilon(1e-13));
  }
  EvalReport wrong(B + 1, T, n);
  CHECK_THROWS_WITH(errors.store(wrong, 0, host.data()), Catch::Contains("does not match StepErrors"));
}

TEMPLATE_LIST_TEST_CASE("energy spectrum: one Fourier mode in its shell; Parseval", "[metrics]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const int Nx = 16, Ny = 12;
  const double pi = 3.14159265358979323846;
  std::vector<float> f(2 * Nx * Ny);
  const std::vector<double> noise = test::uniform_draws(77, 3, Nx * Ny, -1.0, 1.0);
  for (int i = 0; i < Nx; ++i)
    for (int j = 0; j < Ny; ++j) {
      // Sample 0: 2 cos(2 pi (3x + 4y)), |k| = 5, energy 2^2 / 2 = 2. Sample 1: noise.
      f[i * Ny + j] = static_cast<float>(2.0 * std::cos(2.0 * pi * (3.0 * i / Nx + 4.0 * j / Ny)));
      f[Nx * Ny + i * Ny + j] = static_cast<float>(noise[i * Ny + j]);
    }
  auto df = test::to_device<Exec>(f, "f");
  Exec exec;
  SpectrumPlan<Exec> plan(exec, 2, Nx, Ny);
  const int K = plan.shells();
  CHECK(K == static_cast<int>(std::floor(std::sqrt(8.0 * 8 + 6 * 6) + 0.5)) + 1);
  // compute_into fills a caller's device buffer (checked below); compute() returns the same on the host.
  View1<double, typename Exec::memory_space> into("into", 2 * K);
  plan.compute_into(exec, df.data(), into.data());
  const std::vector<double> e = test::to_host(into);
  CHECK(plan.compute(exec, df.data()) == e);
  // Float FFT of O(1) data: coefficient errors ~ eps(float) * log N; energies to 1e-5.
  for (int k = 0; k < K; ++k) CHECK(e[k] == Approx(k == 5 ? 2.0 : 0.0).margin(1e-5));
  double mean_sq = 0.0, sum_e = 0.0;
  for (int i = 0; i < Nx * Ny; ++i) mean_sq += noise[i] * noise[i] / (Nx * Ny);
  for (int k = 0; k < K; ++k) sum_e += e[K + k];
  CHECK(sum_e == Approx(mean_sq).epsilon(1e-5));
  // Spectrum error: zero against itself, log10(4) = 0.602 decades per shell for a 2x amplitude.
  std::vector<double> scaled(e.begin() + K, e.end());
  for (double& v : scaled) v *= 4.0;
  CHECK(spectrum_log_error(e.data() + K, e.data() + K, K, 6) == Approx(0.0).margin(1e-12));
  CHECK(spectrum_log_error(scaled.data(), e.data() + K, K, 6) == Approx(std::log10(4.0)).epsilon(1e-12));
  // Through a report: pred = 2 f has 4x the energy in every shell -> log10(4) per sample.
  CHECK(plan.kmax() == 6);
  std::vector<float> f2(f);
  for (float& v : f2) v *= 2.0f;
  auto df2 = test::to_device<Exec>(f2, "f2");
  EvalReport rep(2, 1, Nx * Ny);
  add_spectrum_step(exec, rep, plan, 0, df2.data(), df.data());
  rep.finalize();
  // Scaling by 2 is exact, so every shell holding round-off energy also has ratio 4; shells that are
  // exactly empty in both are floored alike (ratio 1). Sample 0: between one shell's share and all.
  CHECK(rep.spectrum_error[0] >= std::log10(4.0) / std::sqrt(6.0) * (1 - 1e-4));
  CHECK(rep.spectrum_error[0] <= std::log10(4.0) * (1 + 1e-4));
  CHECK(rep.spectrum_error[1] == Approx(std::log10(4.0)).epsilon(1e-4));
}

TEST_CASE("EvalReport writes JSON and CSV", "[metrics]") {
  EvalReport r(2, 3, 10);
  for (int i = 0; i < 6; ++i) {
    r.err2[i] = 1.0 + i;
    r.ref2[i] = 100.0;
  }
  r.spectrum_error = {0.1, 0.2, 0.3, 0.1, 0.2, 0.3};
  r.finalize();
  const fs::path dir = fs::temp_directory_path() / "surro_test_metrics";
  fs::remove_all(dir);
  write_report_json((dir / "r.json").string(), r);
  write_report_csv((dir / "r.csv").string(), r);
  std::ifstream js(dir / "r.json");
  const nlohmann::json j = nlohmann::json::parse(js);
  CHECK(j["steps"] == 3);
  CHECK(j["per_step"]["rel_l2"].size() == 3);
  CHECK(j["per_sample"]["rel_l2"][1][2].get<double>() == Approx(std::sqrt(6.0) / 10.0));
  CHECK(j["spectrum_error_mean"].get<double>() == Approx(0.2));
  std::ifstream cs(dir / "r.csv");
  std::string header, row;
  std::getline(cs, header);
  CHECK(header == "step,rel_l2_mean,rmse,spectrum_error_mean");
  // Steps are numbered 1..N as in rollout's printed table (README: one convention everywhere).
  int rows = 0;
  while (std::getline(cs, row)) {
    ++rows;
    CHECK(row.substr(0, row.find(',')) == std::to_string(rows));
  }
  CHECK(rows == 3);
}

namespace {

data::DatasetSpec small_spec(int T) {
  data::DatasetSpec s;
  s.dataset_name = "rollout_test";
  s.dims = {"x", "y"};
  s.coords = {{0.0, 0.25, 0.5, 0.75}, {0.0, 0.5, 1.0}};
  s.boundaries = {data::Boundary::periodic, data::Boundary::periodic};
  for (int t = 0; t < T; ++t) s.times.push_back(1.0 + t);
  s.fields = {{"u", true}, {"v", true}};
  return s;
}

}  // namespace

TEST_CASE("write_rollout_vtk: _pred, _ref, _error read back", "[rollout]") {
  const int T = 2, C = 2, Nx = 4, Ny = 3, P = Nx * Ny;
  const data::DatasetSpec spec = small_spec(T);
  std::vector<float> pred(T * C * P), ref(T * C * P);
  for (int i = 0; i < T * C * P; ++i) {
    pred[i] = 0.5f * i;
    ref[i] = 0.25f * i + 1.0f;
  }
  const fs::path dir = fs::temp_directory_path() / "surro_test_rollout_vtk";
  fs::remove_all(dir);
  const std::string pvd = write_rollout_vtk(dir.string(), "roll", spec, spec.times, pred.data(), ref.data());
  CHECK(fs::exists(pvd));
  for (int t = 0; t < T; ++t) {
    std::ostringstream name;
    name << "roll_" << std::setw(6) << std::setfill('0') << t << ".vti";
    vtkNew<vtkXMLImageDataReader> reader;
    const std::string path = (dir / name.str()).string();
    REQUIRE(reader->CanReadFile(path.c_str()) == 1);
    reader->SetFileName(path.c_str());
    reader->Update();
    vtkImageData* image = reader->GetOutput();
    CHECK(image->GetPointData()->GetNumberOfArrays() == 6);
    const char* fields[] = {"u", "v"};
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < Nx; ++i)
        for (int j = 0; j < Ny; ++j) {
          int ijk[3] = {i, j, 0};
          const vtkIdType id = image->ComputePointId(ijk);
          const int k = (t * C + c) * P + i * Ny + j;
          vtkDataArray* ap = image->GetPointData()->GetArray((std::string(fields[c]) + "_pred").c_str());
          vtkDataArray* ar = image->GetPointData()->GetArray((std::string(fields[c]) + "_ref").c_str());
          vtkDataArray* ae = image->GetPointData()->GetArray((std::string(fields[c]) + "_error").c_str());
          REQUIRE(ap != nullptr);
          REQUIRE(ar != nullptr);
          REQUIRE(ae != nullptr);
          CHECK(ap->GetTuple1(id) == pred[k]);
          CHECK(ar->GetTuple1(id) == ref[k]);
          CHECK(ae->GetTuple1(id) == pred[k] - ref[k]);
        }
  }
}

TEST_CASE("write_rollout_hdf5: predicted trajectories as a Well dataset file", "[rollout]") {
  const int B = 2, T = 2, C = 2, P = 12;
  const data::DatasetSpec spec = small_spec(T);
  std::vector<float> traj(B * T * C * P);
  for (std::size_t i = 0; i < traj.size(); ++i) traj[i] = static_cast<float>(i);
  const data::Block block = rollout_block(spec, 3, B, traj.data());
  const fs::path dir = fs::temp_directory_path() / "surro_test_rollout_h5";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "pred.hdf5").string();
  write_rollout_hdf5(path, spec, block);
  CHECK(data::validate_well_file(path).empty());
  const data::WellFile back = data::read_well_file(path);
  CHECK(back.block.first == 3);
  CHECK(back.spec.provenance.at("content") == "surrogate rollout");
  const std::vector<float>& v = back.block.fields.at("v");  // (B, T, P), channel 1
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int p = 0; p < P; ++p) CHECK(v[(b * T + t) * P + p] == traj[((b * T + t) * C + 1) * P + p]);
}

TEST_CASE("metrics: shells the reference does not resolve are left out of the spectrum error", "[metrics]") {
  // Shells 2 and 3 hold 1e-20 of the reference energy (unresolved in float32 data): only shell 1,
  // where the prediction is 10x too energetic, counts -> exactly 1 decade.
  const double e_ref[4] = {1.0, 1.0, 1e-20, 1e-20};
  const double e_pred[4] = {1.0, 10.0, 5.0, 5.0};
  CHECK(surro::op::spectrum_log_error(e_pred, e_ref, 4, 3) == Approx(1.0).epsilon(1e-12));
  const double e_ref2[4] = {1.0, 1.0, 1.0, 1.0};
  CHECK(surro::op::spectrum_log_error(e_pred, e_ref2, 4, 3) ==
        Approx(std::sqrt((1.0 + 2 * std::pow(std::log10(5.0), 2)) / 3)).epsilon(1e-12));
}

TEST_CASE("spectrum error counts only shells the reference resolves (above 1e-10 of its energy)",
          "[metrics]") {
  // Shells 0..4 (kmax 4): shell 3 holds 1e-12 and shell 4 1e-20 of the reference's energy, below the
  // 1e-10 threshold, so wild predictions there do not count. Shells 1 and 2 count: log10 differences
  // 0 and 1, error sqrt((0 + 1) / 2) exactly up to double rounding.
  const double ref[5] = {1.0, 1.0, 0.1, 1e-12, 1e-20};
  const double pred[5] = {1.0, 1.0, 1.0, 1e-3, 1.0};
  CHECK(surro::op::spectrum_log_error(pred, ref, 5, 4) == Approx(std::sqrt(0.5)).epsilon(1e-14));
  // Equal on the resolved shells, off by 12 and 20 decades on the others: error 0.
  const double exact[5] = {1.0, 1.0, 0.1, 1.0, 1.0};
  CHECK(surro::op::spectrum_log_error(exact, ref, 5, 4) == 0.0);
}
