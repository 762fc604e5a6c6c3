// Mesh evaluation: metrics of samples with different node counts and per-field errors against
// naive double loops (MeshGraphNets' horizon definition), and the .vtu rollout series read back
// with VTK's own reader.
#include "core/error.hpp"
#include "mesh/mesh.hpp"
#include "operators/metrics.hpp"
#include "operators/rollout.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <vtkDataArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace surro;
using namespace surro::op;
namespace fs = std::filesystem;

namespace {

std::vector<float> uniform_floats(std::uint64_t seed, std::size_t n, double lo, double hi) {
  std::mt19937_64 gen(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53));
  return v;
}

FieldLayout velocity_pressure(bool channel_last) {
  FieldLayout l;
  l.names = {"velocity", "pressure"};
  l.components = {2, 1};
  l.channel_last = channel_last;
  return l;
}

// Naive sums of one mesh batch: data (sum_b T V_b C) channel-last, sample after sample.
struct Naive {
  std::vector<double> e, r;  // (B, T, F)
};
Naive naive_sums(const std::vector<long long>& v, int steps, const std::vector<float>& pred,
                 const std::vector<float>& ref) {
  const int comp[2] = {2, 1}, first[2] = {0, 2};
  Naive n;
  std::size_t base = 0;
  for (std::size_t b = 0; b < v.size(); ++b)
    for (int t = 0; t < steps; ++t) {
      for (int f = 0; f < 2; ++f) {
        double e = 0.0, r = 0.0;
        for (long long i = 0; i < v[b]; ++i)
          for (int c = first[f]; c < first[f] + comp[f]; ++c) {
            const std::size_t k = base + (static_cast<std::size_t>(t) * v[b] + i) * 3 + c;
            const double d = double(pred[k]) - double(ref[k]);
            e += d * d;
            r += double(ref[k]) * double(ref[k]);
          }
        n.e.push_back(e);
        n.r.push_back(r);
      }
      if (t == steps - 1) base += static_cast<std::size_t>(steps) * v[b] * 3;
    }
  return n;
}

// (T, V, C) -> (T, C, V) per sample.
std::vector<float> to_channel_first(const std::vector<long long>& v, int steps, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  std::size_t base = 0;
  for (long long vb : v) {
    for (int t = 0; t < steps; ++t)
      for (long long i = 0; i < vb; ++i)
        for (int c = 0; c < 3; ++c)
          y[base + (static_cast<std::size_t>(t) * 3 + c) * vb + i] =
              x[base + (static_cast<std::size_t>(t) * vb + i) * 3 + c];
    base += static_cast<std::size_t>(steps) * vb * 3;
  }
  return y;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("metrics: samples of different sizes, per-field RMSE and horizons equal naive sums",
                        "[metrics]", test::ExecSpaces) {
  using Exec = TestType;
  const std::vector<long long> v = {5, 11, 7};  // V_b
  const int B = 3, T = 4, C = 3;
  long long total_points = 0;
  for (long long x : v) total_points += x;
  const std::size_t total = static_cast<std::size_t>(total_points) * T * C;
  const std::vector<float> ref = uniform_floats(1, total, -2.0, 2.0),
                           noise = uniform_floats(2, total, -1.0, 1.0);
  std::vector<float> pred(total);
  // Errors grow with t, so the horizons differ from each other.
  {
    std::size_t base = 0;
    for (long long vb : v) {
      for (std::size_t k = 0; k < static_cast<std::size_t>(T * vb * C); ++k)
        pred[base + k] = ref[base + k] + 0.05f * (1 + static_cast<int>(k / (vb * C))) * noise[base + k];
      base += static_cast<std::size_t>(T) * vb * C;
    }
  }
  Exec exec;
  const std::vector<int> horizons = {1, 2, 4, 10};  // 10 > T: dropped
  const EvalReport rep =
      trajectory_errors(exec, T, v, velocity_pressure(true), test::to_device<Exec>(pred, "p").data(),
                        test::to_device<Exec>(ref, "r").data(), horizons);
  // The same data channel-first.
  const EvalReport rep_cf = trajectory_errors(
      exec, T, v, velocity_pressure(false), test::to_device<Exec>(to_channel_first(v, T, pred), "p").data(),
      test::to_device<Exec>(to_channel_first(v, T, ref), "r").data(), horizons);
  // Step by step, samples {0, 1} then {2} in two calls of one StepErrors planned for 2 samples.
  EvalReport acc(T, v, velocity_pressure(true), horizons);
  StepErrors<Exec> step_errors(velocity_pressure(true), 2);
  for (int t = 0; t < T; ++t) {
    for (int first : {0, 2}) {
      const int nb = first == 0 ? 2 : 1;
      std::vector<float> sp, sr;
      std::vector<long long> offsets = {0};
      std::size_t base = 0;
      for (int b = 0; b < first; ++b) base += static_cast<std::size_t>(T) * v[b] * C;
      for (int b = first; b < first + nb; ++b) {
        const std::size_t frame = static_cast<std::size_t>(v[b]) * C, at = base + t * frame;
        sp.insert(sp.end(), pred.begin() + at, pred.begin() + at + frame);
        sr.insert(sr.end(), ref.begin() + at, ref.begin() + at + frame);
        offsets.push_back(offsets.back() + v[b]);
        base += static_cast<std::size_t>(T) * frame;
      }
      step_errors.add(exec, acc, t, first, offsets, test::to_device<Exec>(sp, "p").data(),
                      test::to_device<Exec>(sr, "r").data());
    }
  }
  acc.finalize();

  const Naive n = naive_sums(v, T, pred, ref);
  // Summation orders differ (team reductions, fields summed apart): relative error ~ n eps(double).
  const double tol = 1e-12;
  REQUIRE(rep.horizons == std::vector<int>{1, 2, 4});
  CHECK(rep.frame_size == 0);  // sizes differ
  const int comp[2] = {2, 1};
  for (const EvalReport* r : std::vector<const EvalReport*>{&rep, &rep_cf, &acc}) {
    double pooled = 0.0;
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) {
        const std::size_t bt = static_cast<std::size_t>(b) * T + t;
        const double e = n.e[2 * bt] + n.e[2 * bt + 1], q = n.r[2 * bt] + n.r[2 * bt + 1];
        CHECK(r->rmse[bt] == Approx(std::sqrt(e / (v[b] * C))).epsilon(tol));
        CHECK(r->rel_l2[bt] == Approx(std::sqrt(e / q)).epsilon(tol));
        for (int f = 0; f < 2; ++f)
          CHECK(r->field_rmse[bt * 2 + f] ==
                Approx(std::sqrt(n.e[2 * bt + f] / (v[b] * comp[f]))).epsilon(tol));
        pooled += e;
      }
    CHECK(r->rmse_overall == Approx(std::sqrt(pooled / (T * total_points * C))).epsilon(tol));
    // Horizon h: sqrt(mean_b (1/h) sum_{t < h} MSE(b, t)); per field with that field's elements.
    auto horizon = [&](int h, int field) {
      double m = 0.0;
      for (int b = 0; b < B; ++b) {
        double s = 0.0;
        for (int t = 0; t < h; ++t) {
          const std::size_t bt = static_cast<std::size_t>(b) * T + t;
          s += field < 0 ? (n.e[2 * bt] + n.e[2 * bt + 1]) / (v[b] * C)
                         : n.e[2 * bt + field] / (v[b] * comp[field]);
        }
        m += s / h;
      }
      return std::sqrt(m / B);
    };
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(r->horizon_rmse[k] == Approx(horizon(horizons[k], -1)).epsilon(tol));
      for (int f = 0; f < 2; ++f)
        CHECK(r->field_horizon_rmse[f * 3 + k] == Approx(horizon(horizons[k], f)).epsilon(tol));
    }
    CHECK(r->rmse_one_step == Approx(horizon(1, -1)).epsilon(tol));
    CHECK(r->rmse_all_rollout == Approx(horizon(T, -1)).epsilon(tol));
    for (int f = 0; f < 2; ++f) {
      CHECK(r->field_rmse_all_rollout[f] == Approx(horizon(T, f)).epsilon(tol));
      for (int t = 0; t < T; ++t) {
        double m = 0.0;
        for (int b = 0; b < B; ++b)
          m += n.e[2 * (static_cast<std::size_t>(b) * T + t) + f] / (v[b] * comp[f]) / B;
        CHECK(r->field_rmse_step_mean[f * T + t] == Approx(std::sqrt(m)).epsilon(tol));
      }
      double rel = 0.0;
      for (int b = 0; b < B; ++b) {
        double e = 0.0, q = 0.0;
        for (int t = 0; t < T; ++t) {
          e += n.e[2 * (static_cast<std::size_t>(b) * T + t) + f];
          q += n.r[2 * (static_cast<std::size_t>(b) * T + t) + f];
        }
        CHECK(r->field_rel_l2_trajectory[b * 2 + f] == Approx(std::sqrt(e / q)).epsilon(tol));
        rel += std::sqrt(e / q) / B;
      }
      CHECK(r->field_rel_l2_mean[f] == Approx(rel).epsilon(tol));
    }
  }
  // The horizons grow with t by construction.
  CHECK(rep.horizon_rmse[0] < rep.horizon_rmse[1]);
  CHECK(rep.horizon_rmse[1] < rep.horizon_rmse[2]);
  // Offsets whose sizes disagree with the report's samples are refused.
  CHECK_THROWS_AS(step_errors.add(exec, acc, 0, 0, {0, 5, 12}, test::to_device<Exec>(pred, "p").data(),
                                  test::to_device<Exec>(ref, "r").data()),
                  Error);
}

TEST_CASE("metrics: variable-size reports add JSON keys and CSV columns; grid reports do not", "[metrics]") {
  const fs::path dir = fs::temp_directory_path() / "surro_test_mesh_metrics";
  fs::remove_all(dir);
  fs::create_directories(dir);
  EvalReport r(3, {4, 6}, velocity_pressure(true), {1, 2, 50});
  for (std::size_t i = 0; i < r.err2.size(); ++i) {
    r.field_err2[2 * i] = 0.5 * (i + 1);
    r.field_err2[2 * i + 1] = 0.25 * (i + 1);
    r.field_ref2[2 * i] = r.field_ref2[2 * i + 1] = 10.0;
    r.err2[i] = 0.75 * (i + 1);
    r.ref2[i] = 20.0;
  }
  r.finalize();
  write_report_json((dir / "m.json").string(), r);
  write_report_csv((dir / "m.csv").string(), r);
  std::ifstream in(dir / "m.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["points"] == std::vector<long long>{4, 6});
  CHECK(j["horizons"]["steps"] == std::vector<int>{1, 2});
  CHECK(j["rmse_all_rollout"].get<double>() == Approx(r.rmse_all_rollout));
  // Sample 0 pressure: e = 0.25 (1, 2, 3) over 4 nodes of 1 component; sample 1: 0.25 (4, 5, 6) over 6.
  const double p_all = std::sqrt((0.25 * 6 / 3 / 4 + 0.25 * 15 / 3 / 6) / 2);
  CHECK(j["fields"]["pressure"]["rmse_all_rollout"].get<double>() == Approx(p_all).epsilon(1e-14));
  CHECK(j["fields"]["velocity"]["horizon_rmse"].size() == 2);
  CHECK(j["fields"]["velocity"]["per_step_rmse"].size() == 3);
  std::ifstream csv(dir / "m.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header == "step,rel_l2_mean,rmse,rmse_velocity,rmse_pressure");

  EvalReport g(2, 3, 10);
  for (std::size_t i = 0; i < g.err2.size(); ++i) g.err2[i] = g.ref2[i] = 1.0;
  g.finalize();
  write_report_json((dir / "g.json").string(), g);
  std::ifstream gin(dir / "g.json");
  const nlohmann::json gj = nlohmann::json::parse(gin);
  CHECK(!gj.contains("horizons"));
  CHECK(!gj.contains("fields"));
  CHECK(!gj.contains("rmse_all_rollout"));
  fs::remove_all(dir);
}

TEST_CASE("write_rollout_vtu: pred, ref, error per field and node_type, read back by VTK's reader",
          "[rollout_vtu]") {
  // Two triangles of the unit square; node types of a CylinderFlow mesh.
  mesh::Mesh m;
  m.dim = 2;
  m.points = {0, 0, 1, 0, 1, 1, 0, 1};
  m.cells = {0, 1, 2, 0, 2, 3};
  m.node_type = {mesh::wall, mesh::inflow, mesh::normal, mesh::outflow};
  const int T = 3, V = 4, C = 3;
  const std::vector<float> pred = uniform_floats(5, T * V * C, -1.0, 1.0);
  const std::vector<float> ref = uniform_floats(6, T * V * C, -1.0, 1.0);
  const std::vector<double> times = {0.01, 0.02, 0.05};
  const fs::path dir = fs::temp_directory_path() / "surro_test_rollout_vtu";
  fs::remove_all(dir);
  const std::string pvd =
      write_rollout_vtu(dir.string(), "rollout", m, velocity_pressure(true), times, pred.data(), ref.data());
  CHECK(pvd == (dir / "rollout.pvd").string());
  {
    std::ifstream in(pvd);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK_THAT(ss.str(), Catch::Contains("rollout_000002.vtu"));
  }
  for (int t = 0; t < T; ++t) {
    char name[32];
    std::snprintf(name, sizeof name, "rollout_%06d.vtu", t);
    vtkNew<vtkXMLUnstructuredGridReader> reader;
    const std::string path = (dir / name).string();
    REQUIRE(reader->CanReadFile(path.c_str()) == 1);
    reader->SetFileName(path.c_str());
    reader->Update();
    vtkUnstructuredGrid* grid = reader->GetOutput();
    REQUIRE(grid->GetNumberOfPoints() == V);
    REQUIRE(grid->GetNumberOfCells() == 2);
    vtkPointData* pd = grid->GetPointData();
    vtkDataArray* nt = pd->GetArray("node_type");
    REQUIRE(nt != nullptr);
    for (int v = 0; v < V; ++v) CHECK(nt->GetComponent(v, 0) == m.node_type[v]);
    // velocity: channels 0, 1, read back as 3-component vectors (z = 0); pressure: channel 2.
    const char* suffix[3] = {"_pred", "_ref", "_error"};
    for (int k = 0; k < 3; ++k) {
      vtkDataArray* u = pd->GetArray((std::string("velocity") + suffix[k]).c_str());
      vtkDataArray* p = pd->GetArray((std::string("pressure") + suffix[k]).c_str());
      REQUIRE(u != nullptr);
      REQUIRE(p != nullptr);
      CHECK(u->GetNumberOfComponents() == 3);
      CHECK(p->GetNumberOfComponents() == 1);
      for (int v = 0; v < V; ++v)
        for (int c = 0; c < 3; ++c) {
          const std::size_t i = (static_cast<std::size_t>(t) * V + v) * C + c;
          // float32 arrays round-trip exactly; the error is computed in float as pred - ref.
          const float want = k == 0 ? pred[i] : k == 1 ? ref[i] : pred[i] - ref[i];
          if (c < 2) {
            CHECK(static_cast<float>(u->GetComponent(v, c)) == want);
          } else {
            CHECK(u->GetComponent(v, 2) == 0.0);
            CHECK(static_cast<float>(p->GetComponent(v, 0)) == want);
          }
        }
    }
  }
  // Without ref: only the predictions.
  const fs::path dir2 = dir / "pred_only";
  write_rollout_vtu(dir2.string(), "p", m, velocity_pressure(true), {0.0}, pred.data(), nullptr);
  vtkNew<vtkXMLUnstructuredGridReader> reader;
  reader->SetFileName((dir2 / "p_000000.vtu").string().c_str());
  reader->Update();
  CHECK(reader->GetOutput()->GetPointData()->GetArray("velocity_pred") != nullptr);
  CHECK(reader->GetOutput()->GetPointData()->GetArray("velocity_ref") == nullptr);
  // A channel-first layout is refused.
  CHECK_THROWS_AS(
      write_rollout_vtu((dir / "x").string(), "x", m, velocity_pressure(false), {0.0}, pred.data(), nullptr),
      Error);
  fs::remove_all(dir);
}
