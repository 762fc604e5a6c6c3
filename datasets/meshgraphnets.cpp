#include "datasets/meshgraphnets.hpp"

#include "core/error.hpp"
#include "datasets/tfrecord.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace surro::data {
namespace {

using json = nlohmann::json;

// What we read of each feature, as CylinderFlow's meta.json declares it.
struct Expected {
  const char* name;
  const char* dtype;  // float32 or int32: 4 bytes per value
  bool dynamic;       // dynamic: (T, V, C); static: (1, V|Nc, C)
  int components;     // C, the last axis, which meta.json must state
};
constexpr std::array<Expected, 5> kFeatures = {{{"mesh_pos", "float32", false, 2},
                                                {"cells", "int32", false, 3},
                                                {"node_type", "int32", false, 1},
                                                {"velocity", "float32", true, 2},
                                                {"pressure", "float32", true, 1}}};

constexpr double kDefaultDt = 0.01;  // CylinderFlow's time step (DeepMind's paper, PhysicsNeMo docs)

struct Meta {
  std::string path;     // <dir>/meta.json
  long long steps = 0;  // T = trajectory_length
  double dt = kDefaultDt;
  std::map<std::string, std::array<long long, 3>> shapes;  // feature -> shape, -1 = per trajectory
};

std::string shape_str(const std::array<long long, 3>& s) {
  std::ostringstream os;
  os << '(' << s[0] << ", " << s[1] << ", " << s[2] << ')';
  return os.str();
}

// One feature's entry of meta.json, checked against what we read; returns its shape.
std::array<long long, 3> check_feature_meta(const std::string& path, const json& features, const Expected& e,
                                            long long steps) {
  const std::string where = path + ": features." + e.name;
  if (!features.contains(e.name) || !features[e.name].is_object())
    SURRO_THROW(ErrorKind::input, where << ": missing: expected an object with dtype, shape and type");
  const json& f = features[e.name];
  const char* want_type = e.dynamic ? "dynamic" : "static";
  for (const auto& [key, want] :
       {std::pair<const char*, const char*>{"dtype", e.dtype}, {"type", want_type}}) {
    const json got = f.contains(key) ? f[key] : json();
    if (!got.is_string() || got.get<std::string>() != want)
      SURRO_THROW(ErrorKind::input,
                  where << "." << key << ": expected \"" << want << "\", got " << got.dump());
  }
  const json& shape = f.contains("shape") ? f["shape"] : json();
  if (!shape.is_array() || shape.size() != 3)
    SURRO_THROW(ErrorKind::input, where << ".shape: expected 3 integers, got " << shape.dump());
  std::array<long long, 3> s{};
  for (int k = 0; k < 3; ++k) {
    if (!shape[k].is_number_integer() || (shape[k].get<long long>() < 1 && shape[k].get<long long>() != -1))
      SURRO_THROW(ErrorKind::input,
                  where << ".shape[" << k << "]: expected a positive integer or -1, got " << shape[k].dump());
    s[k] = shape[k].get<long long>();
  }
  if (e.dynamic ? (s[0] != steps && s[0] != -1) : s[0] != 1)
    SURRO_THROW(ErrorKind::input,
                where << ".shape[0] = " << s[0] << ": expected "
                      << (e.dynamic ? "trajectory_length (" + std::to_string(steps) + ") or -1"
                                    : std::string("1 (stored once)")));
  if (s[2] != e.components)
    SURRO_THROW(ErrorKind::input,
                where << ".shape[2] = " << s[2] << ": expected " << e.components << " components");
  if (e.dynamic) s[0] = steps;
  return s;
}

Meta read_meta(const std::string& dir) {
  Meta m;
  m.path = (std::filesystem::path(dir) / "meta.json").string();
  std::ifstream in(m.path);
  if (!in)
    SURRO_THROW(ErrorKind::input, m.path << ": cannot open (a MeshGraphNets dataset folder has meta.json)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& ex) {
    SURRO_THROW(ErrorKind::input, m.path << ": not valid JSON: " << ex.what());
  }
  if (!j.is_object()) SURRO_THROW(ErrorKind::input, m.path << ": expected a JSON object");
  if (!j.contains("trajectory_length") || !j["trajectory_length"].is_number_integer() ||
      j["trajectory_length"].get<long long>() < 1)
    SURRO_THROW(ErrorKind::input,
                m.path << ": trajectory_length: expected a positive integer, got "
                       << (j.contains("trajectory_length") ? j["trajectory_length"].dump() : "nothing"));
  m.steps = j["trajectory_length"].get<long long>();
  if (j.contains("dt") && !j["dt"].is_null()) {
    if (!j["dt"].is_number() || !(j["dt"].get<double>() > 0) || !std::isfinite(j["dt"].get<double>()))
      SURRO_THROW(ErrorKind::input, m.path << ": dt: expected a positive number, got " << j["dt"].dump());
    m.dt = j["dt"].get<double>();
  }
  if (!j.contains("features") || !j["features"].is_object())
    SURRO_THROW(ErrorKind::input, m.path << ": features: expected an object (feature -> dtype, shape, type)");
  const bool listed = j.contains("field_names");
  if (listed && !j["field_names"].is_array())
    SURRO_THROW(ErrorKind::input, m.path << ": field_names: expected an array of names");
  for (const Expected& e : kFeatures) {
    if (listed &&
        std::find(j["field_names"].begin(), j["field_names"].end(), json(e.name)) == j["field_names"].end())
      SURRO_THROW(ErrorKind::input, m.path << ": field_names: expected to list '" << e.name << "'");
    m.shapes[e.name] = check_feature_meta(m.path, j["features"], e, m.steps);
  }
  return m;
}

DatasetSpec spec_from_meta(const std::string& dir, const Meta& m) {
  DatasetSpec spec;
  spec.dataset_name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (spec.dataset_name.empty())
    spec.dataset_name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  spec.on_mesh = true;
  spec.dims = {"x", "y"};
  for (long long k = 0; k < m.steps; ++k) spec.times.push_back(static_cast<double>(k) * m.dt);
  spec.fields = {{"velocity", true, 2}, {"pressure", true, 1}};
  spec.parameters["dt"] = m.dt;
  spec.provenance["source"] = "MeshGraphNets TFRecord " + dir;
  return spec;
}

std::uint32_t load_le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t(u[0]) | std::uint32_t(u[1]) << 8 | std::uint32_t(u[2]) << 16 |
         std::uint32_t(u[3]) << 24;
}

// A feature's raw bytes: one BytesList value of 4-byte little-endian values, sized as meta.json's shape
// with its -1 (the node or cell count) resolved. Returns the shape.
std::array<long long, 3> feature_bytes(const std::map<std::string, std::vector<std::string>>& features,
                                       const std::string& ctx, const Meta& m, const char* name,
                                       const std::string*& bytes) {
  const auto it = features.find(name);
  if (it == features.end())
    SURRO_THROW(ErrorKind::input, ctx << ": feature '" << name << "': missing or not a BytesList");
  if (it->second.size() != 1)
    SURRO_THROW(ErrorKind::input,
                ctx << ": feature '" << name << "': expected one bytes value, got " << it->second.size());
  bytes = &it->second.front();
  std::array<long long, 3> s = m.shapes.at(name);
  long long known = 1;  // product of the stated axes; only the node/cell axis may be -1 (check_feature_meta)
  int free_axis = -1;
  for (int k = 0; k < 3; ++k) {
    if (s[k] == -1)
      free_axis = k;
    else
      known *= s[k];
  }
  const std::size_t nbytes = bytes->size();
  const long long values = static_cast<long long>(nbytes / 4);
  if (nbytes % 4 != 0 || (free_axis < 0 ? values != known : values % known != 0))
    SURRO_THROW(ErrorKind::input, ctx << ": feature '" << name << "': expected shape " << shape_str(s)
                                      << " (meta.json, -1 any) of 4-byte values, so "
                                      << (free_axis < 0 ? "exactly " : "a multiple of ") << known * 4
                                      << " bytes; got " << nbytes << " bytes");
  if (free_axis >= 0) s[free_axis] = values / known;
  return s;
}

// Little-endian 4-byte values (float32 or int32) into out (bytes / 4), whatever the host's byte order.
template <class T>
void decode_le32(const std::string& bytes, T* out) {
  static_assert(sizeof(T) == 4, "4-byte values only");
  for (std::size_t i = 0; i < bytes.size() / 4; ++i) {
    const std::uint32_t u = load_le32(bytes.data() + 4 * i);
    std::memcpy(out + i, &u, 4);
  }
}

// One record (one trajectory): appends its mesh to block.meshes and its (T, V, C) fields.
void decode_trajectory(const std::string& record, const std::string& ctx, const Meta& m, Block& block) {
  const auto features = example_bytes_features(record, ctx);
  std::map<std::string, const std::string*> bytes;
  std::map<std::string, std::array<long long, 3>> shape;
  for (const Expected& e : kFeatures) shape[e.name] = feature_bytes(features, ctx, m, e.name, bytes[e.name]);
  const long long V = shape["mesh_pos"][1];
  if (V < 1 || shape["cells"][1] < 1)
    SURRO_THROW(ErrorKind::input, ctx << ": " << V << " nodes and " << shape["cells"][1]
                                      << " cells: expected a mesh with at least one of each");
  for (const char* name : {"node_type", "velocity", "pressure"})
    if (shape[name][1] != V)
      SURRO_THROW(ErrorKind::input, ctx << ": feature '" << name << "': shape " << shape_str(shape[name])
                                        << ": expected " << V << " nodes as mesh_pos "
                                        << shape_str(shape["mesh_pos"]));
  mesh::Mesh mesh;
  mesh.dim = 2;
  std::vector<float> pos(V * 2);  // (V, 2)
  decode_le32(*bytes["mesh_pos"], pos.data());
  mesh.points.assign(pos.begin(), pos.end());
  mesh.cells.resize(shape["cells"][1] * 3);  // (Nc, 3)
  decode_le32(*bytes["cells"], mesh.cells.data());
  mesh.node_type.resize(V);  // (V)
  decode_le32(*bytes["node_type"], mesh.node_type.data());
  for (std::size_t i = 0; i < mesh.cells.size(); ++i)
    if (mesh.cells[i] < 0 || mesh.cells[i] >= V)
      SURRO_THROW(ErrorKind::input, ctx << ": feature 'cells': cells[" << i / 3 << "][" << i % 3 << "] = "
                                        << mesh.cells[i] << ": expected a node index in [0, " << V << ")");
  for (long long v = 0; v < V; ++v)
    if (mesh.node_type[v] < 0 || mesh.node_type[v] >= mesh::node_type_count)
      SURRO_THROW(ErrorKind::input, ctx << ": feature 'node_type': node_type[" << v
                                        << "] = " << mesh.node_type[v] << ": expected a NodeType in [0, "
                                        << int(mesh::node_type_count) << ")");
  for (const char* name : {"velocity", "pressure"}) {
    std::vector<float>& out = block.fields[name];  // the trajectories' (T, V_b, C), concatenated
    const std::size_t at = out.size();
    out.resize(at + bytes[name]->size() / 4);
    decode_le32(*bytes[name], out.data() + at);
  }
  block.meshes.push_back(std::move(mesh));
}

std::string split_path(const std::string& dir, const std::string& split) {
  SURRO_REQUIRE(!split.empty() && split.find('/') == std::string::npos,
                dir << ": split '" << split << "': expected a name such as train, valid or test");
  return (std::filesystem::path(dir) / (split + ".tfrecord")).string();
}

}  // namespace

DatasetSpec meshgraphnets_spec(const std::string& dir) {
  return spec_from_meta(dir, read_meta(dir));
}

long long count_meshgraphnets(const std::string& dir, const std::string& split) {
  return count_tfrecords(split_path(dir, split));
}

MeshGraphNetsData read_meshgraphnets(const std::string& dir, const std::string& split, long long first,
                                     long long count) {
  const std::string path = split_path(dir, split);
  if (first < 0 || (count < 1 && count != -1))
    SURRO_THROW(ErrorKind::usage,
                path << ": first = " << first << ", count = " << count
                     << ": expected first >= 0 and count > 0 (or -1: through the last record)");
  const Meta m = read_meta(dir);
  MeshGraphNetsData out;
  out.spec = spec_from_meta(dir, m);
  out.block.first = first;
  out.block.fields["velocity"];  // present even when the range holds no trajectory
  out.block.fields["pressure"];
  TfRecordReader reader(path);
  while (reader.index() < first)
    if (!reader.skip())
      SURRO_THROW(ErrorKind::usage,
                  path << ": first = " << first << ": the file holds only " << reader.index() << " records");
  std::string record;
  while (count < 0 || out.block.count < count) {
    const long long index = reader.index();
    const std::uint64_t offset = reader.offset();
    if (!reader.next(record)) {
      if (count < 0) break;
      SURRO_THROW(ErrorKind::usage, path << ": records [" << first << ", " << first + count
                                         << ") requested: the file holds only " << index << " records");
    }
    decode_trajectory(record,
                      path + ": record " + std::to_string(index) + " at byte " + std::to_string(offset), m,
                      out.block);
    ++out.block.count;
  }
  return out;
}

}  // namespace surro::data
