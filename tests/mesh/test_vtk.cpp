// VTK time series: read back every step with vtkXMLImageDataReader (names, extents, values,
// orientation, TimeValue) and parse the .pvd collection.
#include "core/error.hpp"
#include "mesh/vtk_writer.hpp"
#include "vtk_series_check.hpp"

#include <catch2/catch.hpp>

#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkNew.h>
#include <vtkObject.h>
#include <vtkPointData.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkXMLImageDataReader.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace surro;
namespace fs = std::filesystem;

namespace {

using test::fresh_vtk_dir;
using test::parse_pvd;

struct Read {
  vtkNew<vtkXMLImageDataReader> reader;
  vtkImageData* image = nullptr;
  explicit Read(const std::string& path) {
    REQUIRE(reader->CanReadFile(path.c_str()) == 1);
    reader->SetFileName(path.c_str());
    reader->Update();
    image = reader->GetOutput();
    REQUIRE(image != nullptr);
  }
  double at(const char* name, int i, int j, int k) {
    vtkDataArray* a = image->GetPointData()->GetArray(name);
    REQUIRE(a != nullptr);
    int ijk[3] = {i, j, k};
    return a->GetTuple1(image->ComputePointId(ijk));
  }
  double time_value() {
    vtkDataArray* t = image->GetFieldData()->GetArray("TimeValue");
    REQUIRE(t != nullptr);
    CHECK(t->GetDataType() == VTK_DOUBLE);
    CHECK(t->GetNumberOfTuples() == 1);
    return t->GetTuple1(0);
  }
};

}  // namespace

TEST_CASE("vtk: 2-D series: arrays, extents, orientation, TimeValue and the .pvd", "[vtk]") {
  const fs::path dir = fresh_vtk_dir("2d");
  const int Nx = 4, Ny = 3;
  mesh::VtkGridSeries series(dir.string(), "flow", {0.5, -1.0}, {0.25, 0.5}, {Nx, Ny});
  const std::vector<double> times = {0.0, 0.25, 1.0 / 3.0};
  std::vector<float> fx(Nx * Ny), g(Nx * Ny);  // (Nx, Ny), x slowest
  for (std::size_t s = 0; s < times.size(); ++s) {
    for (int i = 0; i < Nx; ++i)
      for (int j = 0; j < Ny; ++j) {
        fx[i * Ny + j] = float(i);  // varies only along x
        g[i * Ny + j] = float(100 * s + 10 * i + j);
      }
    series.write_step(times[s], {{"fx", fx.data()}, {"g", g.data()}});
    // After every step the collection is complete and valid.
    const auto entries = parse_pvd(series.pvd_path());
    REQUIRE(entries.size() == s + 1);
    CHECK(entries.back().time == times[s]);  // %.17g round-trips
  }
  series.finish();
  CHECK_THROWS_AS(series.write_step(2.0, {{"fx", fx.data()}}), Error);

  const auto entries = parse_pvd((dir / "flow.pvd").string());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].file == "flow_000000.vti");
  CHECK(entries[2].file == "flow_000002.vti");
  for (std::size_t s = 0; s < 3; ++s) {
    CHECK(entries[s].time == times[s]);
    Read r((dir / entries[s].file).string());
    int dims[3];
    r.image->GetDimensions(dims);
    CHECK(dims[0] == Nx);
    CHECK(dims[1] == Ny);
    CHECK(dims[2] == 1);
    int ext[6];
    r.image->GetExtent(ext);
    CHECK(std::vector<int>(ext, ext + 6) == std::vector<int>{0, Nx - 1, 0, Ny - 1, 0, 0});
    double origin[3], spacing[3];
    r.image->GetOrigin(origin);
    r.image->GetSpacing(spacing);
    CHECK(origin[0] == 0.5);
    CHECK(origin[1] == -1.0);
    CHECK(spacing[0] == 0.25);
    CHECK(spacing[1] == 0.5);
    CHECK(r.image->GetPointData()->GetNumberOfArrays() == 2);
    CHECK(std::string(r.image->GetPointData()->GetArrayName(0)) == "fx");
    CHECK(std::string(r.image->GetPointData()->GetArrayName(1)) == "g");
    CHECK(r.image->GetPointData()->GetArray("g")->GetDataType() == VTK_FLOAT);
    // Orientation: fx changes along VTK's x and not along VTK's y.
    for (int i = 0; i < Nx; ++i)
      for (int j = 0; j < Ny; ++j) {
        CHECK(r.at("fx", i, j, 0) == i);
        CHECK(r.at("g", i, j, 0) == 100 * s + 10 * i + j);
      }
    // The point at VTK (i=3, j=0) sits at x = 0.5 + 3 * 0.25.
    double x[3];
    int ijk[3] = {3, 0, 0};
    r.image->GetPoint(r.image->ComputePointId(ijk), x);
    CHECK(x[0] == 1.25);
    CHECK(r.time_value() == times[s]);
    // The XML reader turns TimeValue into the pipeline's time, which is what ParaView shows.
    vtkInformation* info = r.reader->GetOutputInformation(0);
    REQUIRE(info->Has(vtkStreamingDemandDrivenPipeline::TIME_STEPS()));
    CHECK(info->Get(vtkStreamingDemandDrivenPipeline::TIME_STEPS())[0] == times[s]);
  }
  // Only the finished files: no temporaries left behind.
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    CHECK((ext == ".vti" || ext == ".pvd"));
    ++n;
  }
  CHECK(n == 4);
}

TEST_CASE("vtk: 3-D and 1-D grids keep every axis in place", "[vtk]") {
  const fs::path dir = fresh_vtk_dir("3d1d");
  {
    const int Nx = 3, Ny = 4, Nz = 2;
    mesh::VtkGridSeries series(dir.string(), "cube", {0, 0, 0}, {1, 1, 1}, {Nx, Ny, Nz});
    std::vector<float> f(Nx * Ny * Nz);  // (Nx, Ny, Nz)
    for (int i = 0; i < Nx; ++i)
      for (int j = 0; j < Ny; ++j)
        for (int k = 0; k < Nz; ++k) f[(i * Ny + j) * Nz + k] = float(100 * i + 10 * j + k);
    series.write_step(0.5, {{"f", f.data()}});
    Read r(series.step_path(0));
    int dims[3];
    r.image->GetDimensions(dims);
    CHECK(std::vector<int>(dims, dims + 3) == std::vector<int>{Nx, Ny, Nz});
    for (int i = 0; i < Nx; ++i)
      for (int j = 0; j < Ny; ++j)
        for (int k = 0; k < Nz; ++k) CHECK(r.at("f", i, j, k) == 100 * i + 10 * j + k);
    CHECK(r.time_value() == 0.5);
  }
  {
    mesh::VtkGridSeries series(dir.string(), "line", {-1}, {0.5}, {5});
    const std::vector<float> f = {0, 1, 4, 9, 16};
    series.write_step(0, {{"u", f.data()}});
    series.write_step(1, {{"u", f.data()}});
    Read r(series.step_path(1));
    int dims[3];
    r.image->GetDimensions(dims);
    CHECK(std::vector<int>(dims, dims + 3) == std::vector<int>{5, 1, 1});
    for (int i = 0; i < 5; ++i) CHECK(r.at("u", i, 0, 0) == i * i);
    CHECK(r.time_value() == 1.0);
    CHECK(parse_pvd(series.pvd_path()).size() == 2);
  }
}

TEST_CASE("vtk: bad arguments are errors naming the file", "[vtk]") {
  const fs::path dir = fresh_vtk_dir("errors");
  CHECK_THROWS_WITH(mesh::VtkGridSeries(dir.string(), "a", {0, 0}, {1, 1}, {4, 0}),
                    Catch::Contains("dims[1] = 0: expected > 0"));
  CHECK_THROWS_WITH(mesh::VtkGridSeries(dir.string(), "a", {0}, {1, 1}, {4, 4}),
                    Catch::Contains("origin has 1 and spacing 2 entries: expected one per dim (2)"));
  mesh::VtkGridSeries series(dir.string(), "a", {0}, {1}, {2});
  const std::vector<float> f = {1, 2};
  series.write_step(1.0, {{"u", f.data()}});
  CHECK_THROWS_WITH(series.write_step(1.0, {{"u", f.data()}}),
                    Catch::Contains("a_000001.vti: time = 1: expected greater than the previous step's 1"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"u", f.data()}, {"u", f.data()}}),
                    Catch::Contains("field 'u' given twice"));
  // Grids take one-component point fields only; a stated point count must match Nx * Ny * Nz.
  CHECK_THROWS_WITH(series.write_step(2.0, {{"u", f.data(), 2}}),
                    Catch::Contains("a_000001.vti: point field 'u': components = 2: expected 1 to 1"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"u", f.data(), 1, 3}}),
                    Catch::Contains("a_000001.vti: point field 'u': 3 points: expected 2"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"u", f.data()}}, {{"c", f.data()}}),
                    Catch::Contains("a_000001.vti: 1 cell fields: expected none on a grid"));
  CHECK(series.steps() == 1);
}

namespace {

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Step s of the threaded-writer tests: fields "a" and "b" of an (Nx, Ny) grid, different per step.
void fill_step(std::size_t s, int Nx, int Ny, std::vector<float>& a, std::vector<float>& b) {
  a.resize(std::size_t(Nx) * Ny);
  b.resize(std::size_t(Nx) * Ny);
  for (int i = 0; i < Nx; ++i)
    for (int j = 0; j < Ny; ++j) {
      a[i * Ny + j] = std::sin(0.1f * float(s) + 0.3f * float(i)) * std::cos(0.2f * float(j));
      b[i * Ny + j] = float(s) + 0.001f * float(i * Ny + j);
    }
}

}  // namespace

TEST_CASE("vtk: write_steps on worker threads writes the files and .pvd that write_step writes", "[vtk]") {
  // 23 steps of a 33 x 17 grid on 4 workers (more than this machine's cores need not matter): every
  // file byte for byte as the one-at-a-time writer's, so workers neither mix steps up nor share
  // state; VTK's warning switch is back as it was.
  const int Nx = 33, Ny = 17;
  const std::size_t T = 23;
  std::vector<double> times(T);
  for (std::size_t s = 0; s < T; ++s) times[s] = 0.5 + 0.25 * double(s);
  const fs::path one = fresh_vtk_dir("steps_one"), many = fresh_vtk_dir("steps_many");
  const int display = vtkObject::GetGlobalWarningDisplay();
  {
    mesh::VtkGridSeries series(one.string(), "u", {0, 0}, {0.1, 0.2}, {Nx, Ny});
    std::vector<float> a, b;
    for (std::size_t s = 0; s < T; ++s) {
      fill_step(s, Nx, Ny, a, b);
      series.write_step(times[s], {{"a", a.data()}, {"b", b.data()}});
    }
    series.finish();
  }
  mesh::VtkGridSeries series(many.string(), "u", {0, 0}, {0.1, 0.2}, {Nx, Ny});
  series.write_steps(
      times,
      [&](std::size_t s, mesh::VtkStepFields& f) {
        f.scratch.resize(2);
        fill_step(s, Nx, Ny, f.scratch[0], f.scratch[1]);
        f.point.emplace_back("a", f.scratch[0].data());
        f.point.emplace_back("b", f.scratch[1].data());
      },
      4);
  series.finish();
  CHECK(series.steps() == int(T));
  CHECK(vtkObject::GetGlobalWarningDisplay() == display);
  CHECK(file_bytes(one / "u.pvd") == file_bytes(many / "u.pvd"));
  for (std::size_t s = 0; s < T; ++s) {
    INFO("step " << s);
    CHECK(file_bytes(series.step_path(int(s))) ==
          file_bytes(one / fs::path(series.step_path(int(s))).filename()));
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(many)) files += e.path().extension() == ".vti";
  CHECK(files == int(T));  // and no temporaries
}

TEST_CASE("vtk: write_steps errors: times checked first, a failed step ends the .pvd before it", "[vtk]") {
  const int display = vtkObject::GetGlobalWarningDisplay();
  const std::vector<float> f = {1, 2, 3};
  {
    // Times that do not increase: an error naming the step's file, and no file written at all.
    const fs::path dir = fresh_vtk_dir("steps_times");
    mesh::VtkGridSeries series(dir.string(), "a", {0}, {1}, {3});
    auto produce = [&](std::size_t, mesh::VtkStepFields& fl) { fl.point.emplace_back("u", f.data()); };
    CHECK_THROWS_WITH(series.write_steps({0.0, 1.0, 1.0, 2.0}, produce, 2),
                      Catch::Contains("a_000002.vti: time = 1: expected a finite number greater than the "
                                      "previous step's 1"));
    CHECK(series.steps() == 0);
    CHECK(!fs::exists(dir / "a_000000.vti"));
    // After steps written one at a time, the next batch continues their numbering and times.
    series.write_step(0.5, {{"u", f.data()}});
    CHECK_THROWS_WITH(series.write_steps({0.25}, produce, 2),
                      Catch::Contains("a_000001.vti: time = 0.25: expected a finite number greater than the "
                                      "previous step's 0.5"));
    series.write_steps({0.75, 1.0}, produce, 2);
    CHECK(series.steps() == 3);
    CHECK(parse_pvd(series.pvd_path()).size() == 3);
  }
  // A step whose fields are wrong (step 7 names "u" twice), on 3 workers: the error names its file,
  // steps 0..6 are written and listed (indices are handed out in order, and started ones finish),
  // none after is listed.
  const fs::path dir = fresh_vtk_dir("steps_fail");
  mesh::VtkGridSeries series(dir.string(), "a", {0}, {1}, {3});
  std::vector<double> times(20);
  for (std::size_t s = 0; s < times.size(); ++s) times[s] = double(s);
  CHECK_THROWS_WITH(series.write_steps(
                        times,
                        [&](std::size_t s, mesh::VtkStepFields& fl) {
                          fl.point.emplace_back("u", f.data());
                          if (s == 7) fl.point.emplace_back("u", f.data());
                        },
                        3),
                    Catch::Contains("a_000007.vti: point field 'u' given twice"));
  CHECK(series.steps() == 7);
  const auto entries = parse_pvd(series.pvd_path());
  REQUIRE(entries.size() == 7);
  CHECK(entries.back().file == "a_000006.vti");
  CHECK(!fs::exists(dir / "a_000007.vti"));
  CHECK(vtkObject::GetGlobalWarningDisplay() == display);
  // A producer's own exception comes through as it was thrown.
  CHECK_THROWS_WITH(series.write_steps({100.0, 101.0},
                                       [&](std::size_t s, mesh::VtkStepFields& fl) {
                                         if (s == 1) throw std::runtime_error("producer failed at 1");
                                         fl.point.emplace_back("u", f.data());
                                       }),
                    "producer failed at 1");
  CHECK(series.steps() == 8);
}
