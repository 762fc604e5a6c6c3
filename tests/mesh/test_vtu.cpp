// Unstructured VTK time series (.vtu): every step is read back with vtkXMLUnstructuredGridReader, an
// independent reader, and checked against the mesh and fields given (points, cell connectivity and
// types, arrays' types, components and values, node_type, TimeValue), and the .pvd after every step.
#include "core/error.hpp"
#include "mesh/vtk_writer.hpp"
#include "vtk_series_check.hpp"

#include <catch2/catch.hpp>

#include <vtkCellData.h>
#include <vtkCellType.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkIdList.h>
#include <vtkInformation.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkUnstructuredGrid.h>
#include <vtkXMLUnstructuredGridReader.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace surro;
namespace fs = std::filesystem;

namespace {

using test::fresh_vtk_dir;
using test::parse_pvd;

// 2 x 3 points, x = 0.5 i, y = 0.25 j + 1, four counter-clockwise triangles, MeshGraphNets node types.
mesh::Mesh strip_mesh() {
  mesh::Mesh m;
  m.dim = 2;
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 3; ++i) {
      m.points.push_back(0.5 * i);
      m.points.push_back(0.25 * j + 1.0);
    }
  m.cells = {0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4};
  m.node_type = {mesh::wall, mesh::wall, mesh::wall, mesh::inflow, mesh::normal, mesh::outflow};
  return m;
}

// Two tetrahedra sharing the face (1, 2, 3); no node types.
mesh::Mesh two_tets() {
  mesh::Mesh m;
  m.dim = 3;
  m.points = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
  m.cells = {0, 1, 2, 3, 1, 2, 3, 4};
  return m;
}

struct ReadVtu {
  vtkNew<vtkXMLUnstructuredGridReader> reader;
  vtkUnstructuredGrid* grid = nullptr;
  explicit ReadVtu(const std::string& path) {
    REQUIRE(reader->CanReadFile(path.c_str()) == 1);
    reader->SetFileName(path.c_str());
    reader->Update();
    grid = reader->GetOutput();
    REQUIRE(grid != nullptr);
  }
  // The mesh's geometry and topology, whatever the step: points (z = 0 in 2D), cells and types.
  void check_mesh(const mesh::Mesh& m) {
    const int dim = m.dim, nk = m.nodes_per_cell();
    REQUIRE(grid->GetNumberOfPoints() == m.num_points());
    REQUIRE(grid->GetNumberOfCells() == m.num_cells());
    CHECK(grid->GetPoints()->GetDataType() == VTK_DOUBLE);
    for (vtkIdType v = 0; v < m.num_points(); ++v) {
      double x[3];
      grid->GetPoint(v, x);
      for (int d = 0; d < 3; ++d) CHECK(x[d] == (d < dim ? m.points[v * dim + d] : 0.0));
    }
    vtkNew<vtkIdList> ids;
    for (vtkIdType c = 0; c < m.num_cells(); ++c) {
      CHECK(grid->GetCellType(c) == (dim == 2 ? VTK_TRIANGLE : VTK_TETRA));
      grid->GetCellPoints(c, ids);
      REQUIRE(ids->GetNumberOfIds() == nk);
      for (int k = 0; k < nk; ++k) CHECK(ids->GetId(k) == m.cells[c * nk + k]);
    }
  }
  vtkDataArray* array(vtkFieldData* data, const char* name, int type, int components, vtkIdType n) {
    vtkDataArray* a = data->GetArray(name);
    REQUIRE(a != nullptr);
    CHECK(a->GetDataType() == type);
    CHECK(a->GetNumberOfComponents() == components);
    CHECK(a->GetNumberOfTuples() == n);
    return a;
  }
  double time_value() {
    vtkDataArray* t = array(grid->GetFieldData(), "TimeValue", VTK_DOUBLE, 1, 1);
    // The XML reader turns TimeValue into the pipeline's time, which is what ParaView shows.
    vtkInformation* info = reader->GetOutputInformation(0);
    REQUIRE(info->Has(vtkStreamingDemandDrivenPipeline::TIME_STEPS()));
    CHECK(info->Get(vtkStreamingDemandDrivenPipeline::TIME_STEPS())[0] == t->GetTuple1(0));
    return t->GetTuple1(0);
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("vtu: 2-D triangle series: geometry, point and cell arrays, node_type, TimeValue, .pvd", "[vtu]") {
  const fs::path dir = fresh_vtk_dir("vtu_2d");
  const mesh::Mesh m = strip_mesh();
  const int V = 6, Nc = 4;
  mesh::VtkMeshSeries series(dir.string(), "flow", m);
  const std::vector<double> times = {0.0, 0.01, 0.3};
  std::vector<float> p(V), u(V * 2), cid(Nc);  // (V, 1), (V, 2), (Nc, 1)
  auto fill = [&](std::size_t s) {
    for (int v = 0; v < V; ++v) {
      p[v] = float(100 * s + v) + 0.5f;
      u[v * 2] = float(s + v);
      u[v * 2 + 1] = -0.25f * float(v);
    }
    for (int c = 0; c < Nc; ++c) cid[c] = float(10 * s + c);
  };
  for (std::size_t s = 0; s < times.size(); ++s) {
    fill(s);
    series.write_step(times[s], {{"pressure", p.data(), 1, V}, {"velocity", u.data(), 2, V}},
                      {{"cell_id", cid.data(), 1, Nc}});
    const auto entries = parse_pvd(series.pvd_path());
    REQUIRE(entries.size() == s + 1);
    CHECK(entries.back().time == times[s]);
    CHECK(fs::path(entries.back().file).extension() == ".vtu");
  }
  series.finish();
  CHECK_THROWS_AS(series.write_step(2.0, {{"pressure", p.data()}}), Error);

  const auto entries = parse_pvd((dir / "flow.pvd").string());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].file == "flow_000000.vtu");
  CHECK(entries[2].file == "flow_000002.vtu");
  for (std::size_t s = 0; s < 3; ++s) {
    const std::string path = (dir / entries[s].file).string();
    // Appended raw binary, zlib, 64-bit headers, as the .vti files.
    const std::string text = read_text(path);
    CHECK_THAT(text, Catch::Contains("type=\"UnstructuredGrid\""));
    CHECK_THAT(text, Catch::Contains("header_type=\"UInt64\""));
    CHECK_THAT(text, Catch::Contains("compressor=\"vtkZLibDataCompressor\""));
    CHECK_THAT(text, Catch::Contains("<AppendedData encoding=\"raw\">"));

    ReadVtu r(path);
    r.check_mesh(m);
    fill(s);
    vtkPointData* pd = r.grid->GetPointData();
    CHECK(pd->GetNumberOfArrays() == 3);
    vtkDataArray* pa = r.array(pd, "pressure", VTK_FLOAT, 1, V);
    vtkDataArray* ua = r.array(pd, "velocity", VTK_FLOAT, 3, V);  // padded from 2 (header: Glyph)
    vtkDataArray* nt = r.array(pd, "node_type", VTK_INT, 1, V);
    for (int v = 0; v < V; ++v) {
      CHECK(pa->GetComponent(v, 0) == p[v]);
      CHECK(ua->GetComponent(v, 0) == u[v * 2]);
      CHECK(ua->GetComponent(v, 1) == u[v * 2 + 1]);
      CHECK(ua->GetComponent(v, 2) == 0.0);
      CHECK(nt->GetComponent(v, 0) == m.node_type[v]);
    }
    CHECK(r.grid->GetCellData()->GetNumberOfArrays() == 1);
    vtkDataArray* ca = r.array(r.grid->GetCellData(), "cell_id", VTK_FLOAT, 1, Nc);
    for (int c = 0; c < Nc; ++c) CHECK(ca->GetComponent(c, 0) == cid[c]);
    CHECK(r.time_value() == times[s]);
  }
  // Only the finished files: no temporaries left behind.
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    CHECK((ext == ".vtu" || ext == ".pvd"));
    ++n;
  }
  CHECK(n == 4);
}

TEST_CASE("vtu: 3-D tetrahedra with 3- and 2-component arrays and no node types", "[vtu]") {
  const fs::path dir = fresh_vtk_dir("vtu_3d");
  const mesh::Mesh m = two_tets();
  mesh::VtkMeshSeries series(dir.string(), "tets", m);
  const std::vector<float> w = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};  // (V, 3)
  const std::vector<float> g = {1.5f, -2.5f, 3.5f, -4.5f};                          // (Nc, 2)
  series.write_step(0.5, {{"w", w.data(), 3}}, {{"g", g.data(), 2}});
  series.write_step(0.75, {{"w", w.data(), 3}}, {{"g", g.data(), 2}});
  REQUIRE(parse_pvd(series.pvd_path()).size() == 2);
  ReadVtu r(series.step_path(1));
  r.check_mesh(m);
  CHECK(r.grid->GetPointData()->GetArray("node_type") == nullptr);
  CHECK(r.grid->GetPointData()->GetNumberOfArrays() == 1);
  vtkDataArray* wa = r.array(r.grid->GetPointData(), "w", VTK_FLOAT, 3, 5);
  for (int v = 0; v < 5; ++v)
    for (int c = 0; c < 3; ++c) CHECK(wa->GetComponent(v, c) == w[v * 3 + c]);
  vtkDataArray* ga = r.array(r.grid->GetCellData(), "g", VTK_FLOAT, 3, 2);
  for (int c = 0; c < 2; ++c) {
    CHECK(ga->GetComponent(c, 0) == g[c * 2]);
    CHECK(ga->GetComponent(c, 1) == g[c * 2 + 1]);
    CHECK(ga->GetComponent(c, 2) == 0.0);
  }
  CHECK(r.time_value() == 0.75);
}

TEST_CASE("vtu: bad meshes and fields are errors naming the series or the file", "[vtu]") {
  const fs::path dir = fresh_vtk_dir("vtu_errors");
  {
    mesh::Mesh bad = strip_mesh();
    bad.cells[5] = 6;
    CHECK_THROWS_WITH(mesh::VtkMeshSeries(dir.string(), "m", bad),
                      Catch::Contains("mesh.cells[1][2] = 6: expected a point index in [0, 6)"));
    bad = strip_mesh();
    bad.node_type.pop_back();
    CHECK_THROWS_WITH(mesh::VtkMeshSeries(dir.string(), "m", bad),
                      Catch::Contains("mesh.node_type has 5 entries: expected 0 or V = 6"));
    bad.dim = 1;
    CHECK_THROWS_WITH(mesh::VtkMeshSeries(dir.string(), "m", bad),
                      Catch::Contains("mesh.dim = 1: expected 2 or 3"));
  }
  mesh::VtkMeshSeries series(dir.string(), "m", strip_mesh());
  const std::vector<float> f(4 * 6, 1.0f);
  series.write_step(1.0, {{"p", f.data()}});
  const std::string next = "m_000001.vtu: ";
  CHECK_THROWS_WITH(series.write_step(2.0, {{"p", f.data(), 1, 7}}),
                    Catch::Contains(next + "point field 'p': 7 points: expected 6"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"p", f.data()}}, {{"c", f.data(), 1, 6}}),
                    Catch::Contains(next + "cell field 'c': 6 cells: expected 4"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"p", f.data(), 4}}),
                    Catch::Contains(next + "point field 'p': components = 4: expected 1 to 3"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"p", f.data()}}, {{"c", f.data(), 0}}),
                    Catch::Contains(next + "cell field 'c': components = 0: expected 1 to 3"));
  CHECK_THROWS_WITH(series.write_step(1.0, {{"p", f.data()}}),
                    Catch::Contains(next + "time = 1: expected greater than the previous step's 1"));
  CHECK_THROWS_WITH(series.write_step(0.5, {{"p", f.data()}}),
                    Catch::Contains(next + "time = 0.5: expected greater than the previous step's 1"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"node_type", f.data()}}),
                    Catch::Contains(next + "point field 'node_type': the name is taken"));
  CHECK_THROWS_WITH(series.write_step(2.0, {{"p", nullptr}}),
                    Catch::Contains(next + "point field 'p': null data"));
  CHECK_THROWS_WITH(series.write_step(2.0, {}, {{"c", f.data()}}),
                    Catch::Contains(next + "no point fields: expected at least one"));
  CHECK(series.steps() == 1);
  CHECK(parse_pvd(series.pvd_path()).size() == 1);
  CHECK_FALSE(fs::exists(series.step_path(1)));
}
