#include "datasets/loader.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/well.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <utility>

namespace surro::data {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& names) {
  std::ostringstream os;
  for (std::size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
  return os.str();
}

std::string shape_string(const std::vector<int>& shape) {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ")";
  return os.str();
}

const FieldSpec* find_field(const DatasetSpec& spec, const std::string& name) {
  for (const auto& f : spec.fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> field_names(const DatasetSpec& spec) {
  std::vector<std::string> names;
  for (const auto& f : spec.fields) names.push_back(f.name);
  return names;
}

// The split's data files: *.hdf5 / *.h5 regular files, dot-files (temporaries) skipped, sorted.
std::vector<std::string> split_files(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    SURRO_THROW(ErrorKind::input, folder.string() << ": not a folder (expected <dataset>/data/<split>)");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    if (name.empty() || name[0] == '.' || (ext != ".hdf5" && ext != ".h5")) continue;
    if (!entry.is_regular_file(ec)) continue;
    files.push_back(entry.path().string());
  }
  if (ec) SURRO_THROW(ErrorKind::input, folder.string() << ": cannot list the folder: " << ec.message());
  if (files.empty()) SURRO_THROW(ErrorKind::input, folder.string() << ": no *.hdf5 files");
  std::sort(files.begin(), files.end());
  return files;
}

// Everything a later file must share with the first one.
void check_agrees(const std::string& file, const DatasetSpec& spec, const std::string& first_file,
                  const DatasetSpec& first, const std::vector<std::string>& fields) {
  if (spec.dataset_name != first.dataset_name)
    SURRO_THROW(ErrorKind::input, file << ": dataset_name \"" << spec.dataset_name << "\": expected \""
                                       << first.dataset_name << "\" as in " << first_file);
  if (spec.dims != first.dims)
    SURRO_THROW(ErrorKind::input, file << ": spatial dims [" << join(spec.dims) << "]: expected ["
                                       << join(first.dims) << "] as in " << first_file);
  if (spec.shape() != first.shape())
    SURRO_THROW(ErrorKind::input, file << ": grid " << shape_string(spec.shape()) << ": expected "
                                       << shape_string(first.shape()) << " as in " << first_file);
  for (std::size_t d = 0; d < spec.coords.size(); ++d)
    if (spec.coords[d] != first.coords[d])
      SURRO_THROW(ErrorKind::input, file << ": /dimensions/" << spec.dims[d]
                                         << ": coordinates differ from those in " << first_file);
  if (spec.times.size() != first.times.size())
    SURRO_THROW(ErrorKind::input, file << ": /dimensions/time: " << spec.times.size() << " times: expected "
                                       << first.times.size() << " as in " << first_file);
  if (spec.times != first.times)
    SURRO_THROW(ErrorKind::input, file << ": /dimensions/time: times differ from those in " << first_file);
  for (const auto& name : fields) {
    const FieldSpec* f = find_field(spec, name);
    if (!f)
      SURRO_THROW(ErrorKind::input, file << ": /t0_fields/" << name << ": field missing (the file has: "
                                         << join(field_names(spec)) << ")");
    if (f->time_varying != find_field(first, name)->time_varying)
      SURRO_THROW(ErrorKind::input, file << ": /t0_fields/" << name << ": time_varying = "
                                         << (f->time_varying ? "true" : "false") << ": expected "
                                         << (f->time_varying ? "false" : "true") << " as in " << first_file);
  }
}

// Everything a later mesh file must share with the first one (meshes differ per trajectory).
void check_agrees_mesh(const std::string& file, const MeshFile& mf, const std::string& first_file,
                       const DatasetSpec& first,
                       const std::map<std::string, std::vector<double>>& first_params,
                       const std::vector<std::string>& fields) {
  const DatasetSpec& spec = mf.spec;
  if (spec.dataset_name != first.dataset_name)
    SURRO_THROW(ErrorKind::input, file << ": @dataset_name \"" << spec.dataset_name << "\": expected \""
                                       << first.dataset_name << "\" as in " << first_file);
  if (spec.dims != first.dims)
    SURRO_THROW(ErrorKind::input, file << ": @spatial_dims [" << join(spec.dims) << "]: expected ["
                                       << join(first.dims) << "] as in " << first_file);
  if (spec.times.size() != first.times.size())
    SURRO_THROW(ErrorKind::input, file << ": /time: " << spec.times.size() << " times: expected "
                                       << first.times.size() << " as in " << first_file);
  if (spec.times != first.times)
    SURRO_THROW(ErrorKind::input, file << ": /time: times differ from those in " << first_file);
  for (const auto& name : fields) {
    const FieldSpec* f = find_field(spec, name);
    const FieldSpec* f0 = find_field(first, name);
    if (!f)
      SURRO_THROW(ErrorKind::input,
                  file << ": field " << name << " missing (the file has: " << join(field_names(spec)) << ")");
    if (f->time_varying != f0->time_varying)
      SURRO_THROW(ErrorKind::input,
                  file << ": field " << name << ": time_varying = " << (f->time_varying ? "true" : "false")
                       << ": expected " << (f0->time_varying ? "true" : "false") << " as in " << first_file);
    if (f->components != f0->components)
      SURRO_THROW(ErrorKind::input, file << ": field " << name << ": " << f->components
                                         << " components: expected " << f0->components << " as in "
                                         << first_file);
  }
  std::vector<std::string> names, first_names;
  for (const auto& kv : mf.block.sample_parameters) names.push_back(kv.first);
  for (const auto& kv : first_params) first_names.push_back(kv.first);
  if (names != first_names)
    SURRO_THROW(ErrorKind::input, file << ": @sample_parameters [" << join(names) << "]: expected ["
                                       << join(first_names) << "] as in " << first_file);
}

}  // namespace

namespace {

void check_fields(const std::vector<std::string>& fields, const char* who) {
  if (fields.empty()) SURRO_THROW(ErrorKind::usage, who << ": no fields requested");
  if (std::set<std::string>(fields.begin(), fields.end()).size() != fields.size())
    SURRO_THROW(ErrorKind::usage, who << ": fields [" << join(fields) << "]: expected distinct names");
}

}  // namespace

// Takes the spec of the first block (`origin` names it in errors) and sets the store's shape.
void TrajectoryStore::set_spec(const DatasetSpec& spec, const std::string& origin) {
  m_spec = spec;
  const std::size_t F = m_fields.size();
  m_varying.assign(F, false);
  m_components.assign(F, 1);
  m_channels = 0;
  bool any_varying = false;
  for (std::size_t c = 0; c < F; ++c) {
    const FieldSpec* f = find_field(spec, m_fields[c]);
    if (!f)
      SURRO_THROW(ErrorKind::input, origin << ": " << (spec.on_mesh ? "field " : "/t0_fields/") << m_fields[c]
                                           << ": field missing (the file has: " << join(field_names(spec))
                                           << ")");
    if (spec.on_mesh && f->components < 1)
      SURRO_THROW(ErrorKind::input, origin << ": field " << m_fields[c] << ": components = " << f->components
                                           << ": expected >= 1");
    m_varying[c] = f->time_varying;
    m_components[c] = spec.on_mesh ? f->components : 1;
    m_channels += m_components[c];
    any_varying = any_varying || f->time_varying;
  }
  if (spec.on_mesh) {
    m_grid.clear();
    m_points = 0;  // the largest V_s, set as trajectories arrive
  } else {
    m_grid = spec.shape();
    m_points = static_cast<index_t>(spec.points());
  }
  m_frames = any_varying ? static_cast<int>(spec.times.size()) : 1;
  if (m_frames < 1)
    SURRO_THROW(ErrorKind::input, origin << ": " << (spec.on_mesh ? "/time" : "/dimensions/time")
                                         << ": no recorded times for time-varying fields");
}

// Appends a block's trajectories, laid out as the spec given to set_spec, and their sample
// parameters (every block must carry the names the first one did).
void TrajectoryStore::append(const Block& block, const std::string& origin) {
  const std::size_t first = m_data.size();
  if (first == 0) {
    m_sample_parameters.clear();
    for (const auto& kv : block.sample_parameters) m_sample_parameters[kv.first];
  }
  for (auto& kv : m_sample_parameters) {
    const auto it = block.sample_parameters.find(kv.first);
    if (it == block.sample_parameters.end() || it->second.size() != static_cast<std::size_t>(block.count))
      SURRO_THROW(ErrorKind::input, origin << ": sample parameter " << kv.first << ": expected "
                                           << block.count << " values (one per trajectory)");
    kv.second.insert(kv.second.end(), it->second.begin(), it->second.end());
  }
  if (m_spec.on_mesh) {
    append_mesh(block, origin);
    return;
  }
  const std::size_t C = m_fields.size();
  const std::size_t T = static_cast<std::size_t>(m_frames);
  const std::size_t P = static_cast<std::size_t>(m_points);
  m_data.resize(first + static_cast<std::size_t>(block.count), std::vector<float>(T * C * P));
  for (std::size_t c = 0; c < C; ++c) {
    const std::vector<float>& src = block.fields.at(m_fields[c]);  // (count, [T,] N...)
    for (long long b = 0; b < block.count; ++b) {
      std::vector<float>& dst = m_data[first + static_cast<std::size_t>(b)];  // (T, C, N...)
      for (std::size_t t = 0; t < T; ++t) {
        // A constant field (count, N...) is repeated in every frame.
        const std::size_t offset =
            m_varying[c] ? (static_cast<std::size_t>(b) * T + t) * P : static_cast<std::size_t>(b) * P;
        std::memcpy(dst.data() + (t * C + c) * P, src.data() + offset, P * sizeof(float));
      }
    }
  }
}

// Mesh trajectories: block field f holds the samples' ([T,] V_b, C_f) one after the other; each
// trajectory becomes (T, V_b, C) with field f in columns [channel(f), channel(f) + C_f).
void TrajectoryStore::append_mesh(const Block& block, const std::string& origin) {
  if (block.meshes.size() != static_cast<std::size_t>(block.count))
    SURRO_THROW(ErrorKind::input, origin << ": " << block.meshes.size()
                                         << " meshes: expected one per trajectory (" << block.count << ")");
  const std::size_t F = m_fields.size();
  const std::size_t C = static_cast<std::size_t>(m_channels);
  const std::size_t T = static_cast<std::size_t>(m_frames);
  std::vector<const std::vector<float>*> src(F);  // (F) each (sum_b [T,] V_b C_f)
  std::vector<std::size_t> read(F, 0);            // (F) values consumed so far
  for (std::size_t f = 0; f < F; ++f) {
    const auto it = block.fields.find(m_fields[f]);
    if (it == block.fields.end())
      SURRO_THROW(ErrorKind::input, origin << ": field " << m_fields[f] << ": missing from the block");
    src[f] = &it->second;
  }
  for (long long b = 0; b < block.count; ++b) {
    const mesh::Mesh& m = block.meshes[static_cast<std::size_t>(b)];
    const std::size_t V = static_cast<std::size_t>(m.num_points());
    std::vector<float> dst(T * V * C);  // (T, V, C)
    std::size_t col = 0;
    for (std::size_t f = 0; f < F; ++f) {
      const std::size_t Cf = static_cast<std::size_t>(m_components[f]);
      const std::size_t frames_f = m_varying[f] ? T : 1;
      if (read[f] + frames_f * V * Cf > src[f]->size())
        SURRO_THROW(ErrorKind::input, origin << ": field " << m_fields[f] << ": " << src[f]->size()
                                             << " values end inside trajectory " << block.first + b << " ("
                                             << V << " nodes, " << Cf << " components)");
      const float* in = src[f]->data() + read[f];  // ([T,] V, C_f)
      for (std::size_t t = 0; t < T; ++t) {
        // A constant field (V, C_f) is repeated in every frame.
        const float* in_t = in + (m_varying[f] ? t * V * Cf : 0);
        for (std::size_t v = 0; v < V; ++v)
          for (std::size_t k = 0; k < Cf; ++k) dst[(t * V + v) * C + col + k] = in_t[v * Cf + k];
      }
      read[f] += frames_f * V * Cf;
      col += Cf;
    }
    m_data.push_back(std::move(dst));
    m_meshes.push_back(m);
    m_mesh_points.push_back(static_cast<index_t>(V));
    m_points = std::max(m_points, static_cast<index_t>(V));
  }
  for (std::size_t f = 0; f < F; ++f)
    if (read[f] != src[f]->size())
      SURRO_THROW(ErrorKind::input, origin << ": field " << m_fields[f] << ": " << src[f]->size()
                                           << " values: expected " << read[f] << " for the block's meshes");
}

TrajectoryStore load_split(const std::string& dataset_dir, const std::string& split,
                           const std::vector<std::string>& fields) {
  ScopedRegion region("surro::data::load_split");
  check_fields(fields, "load_split");
  TrajectoryStore store;
  store.m_fields = fields;
  store.m_files = split_files(fs::path(dataset_dir) / "data" / split);
  const std::string& first = store.m_files.front();
  const bool mesh_layout = is_mesh_file(first);
  for (const auto& file : store.m_files) {
    if (&file != &first && is_mesh_file(file) != mesh_layout)
      SURRO_THROW(ErrorKind::input, file << ": " << (mesh_layout ? "grid" : "mesh (@layout = \"surro_mesh\")")
                                         << " file: expected the " << (mesh_layout ? "mesh" : "grid")
                                         << " layout of " << first << " (a split holds one layout)");
    if (mesh_layout) {
      MeshFile mf = read_mesh_file(file);
      if (&file == &first)
        store.set_spec(mf.spec, file);
      else
        check_agrees_mesh(file, mf, first, store.m_spec, store.m_sample_parameters, fields);
      store.append(mf.block, file);
    } else {
      WellFile wf = read_well_file(file);
      if (&file == &first)
        store.set_spec(wf.spec, file);
      else
        check_agrees(file, wf.spec, first, store.m_spec, fields);
      store.append(wf.block, file);
    }
  }
  return store;
}

TrajectoryStore store_from_block(const DatasetSpec& spec, const Block& block,
                                 const std::vector<std::string>& fields, const std::string& origin) {
  check_fields(fields, "store_from_block");
  TrajectoryStore store;
  store.m_fields = fields;
  store.set_spec(spec, origin);
  store.append(block, origin);
  return store;
}

int TrajectoryStore::channel(const std::string& field) const {
  int first = 0;
  for (std::size_t f = 0; f < m_fields.size(); ++f) {
    if (m_fields[f] == field) return first;
    first += m_components[f];
  }
  SURRO_THROW(ErrorKind::usage, "field \"" << field << "\" is not loaded (loaded: " << join(m_fields) << ")");
}

const mesh::Mesh& TrajectoryStore::mesh(int s) const {
  if (!on_mesh())
    SURRO_THROW(ErrorKind::usage, "store: mesh(" << s << "): the store holds grid trajectories, not meshes");
  if (s < 0 || s >= trajectories())
    SURRO_THROW(ErrorKind::usage,
                "store: mesh(" << s << "): expected a trajectory in [0, " << trajectories() << ")");
  return m_meshes[static_cast<std::size_t>(s)];
}

double TrajectoryStore::sample_parameter(const std::string& name, int s) const {
  const auto it = m_sample_parameters.find(name);
  if (it == m_sample_parameters.end()) {
    std::vector<std::string> known;
    for (const auto& kv : m_sample_parameters) known.push_back(kv.first);
    SURRO_THROW(ErrorKind::usage,
                "store: sample parameter \""
                    << name << "\" unknown (known: " << (known.empty() ? "none" : join(known)) << ")");
  }
  if (s < 0 || s >= trajectories())
    SURRO_THROW(ErrorKind::usage, "store: sample parameter " << name << " of trajectory " << s
                                                             << ": expected a trajectory in [0, "
                                                             << trajectories() << ")");
  return it->second[static_cast<std::size_t>(s)];
}

WindowLoader::WindowLoader(const TrajectoryStore& store, const WindowSpec& spec, int batch,
                           std::uint64_t seed, bool shuffle, bool drop_last)
    : m_store(&store), m_batch(batch), m_seed(seed), m_shuffle(shuffle), m_drop_last(drop_last) {
  if (spec.t_in < 1 || spec.t_out < 1 || spec.stride < 1)
    SURRO_THROW(ErrorKind::usage, "window: t_in = " << spec.t_in << ", t_out = " << spec.t_out
                                                    << ", stride = " << spec.stride
                                                    << ": expected positive values");
  const int T = store.frames();
  const int length = spec.t_in + spec.t_out;
  if (length > T)
    SURRO_THROW(ErrorKind::usage, "window: t_in + t_out = "
                                      << length << " frames: the trajectories have only " << T << " frames");
  m_stride = spec.stride;
  m_per_trajectory = spec.all_starts ? (T - length) / spec.stride + 1 : 1;
  const int C = store.channels();
  for (int t = 0; t < spec.t_in; ++t)
    for (int c = 0; c < C; ++c) m_x.push_back({t, c});
  for (int t = 0; t < spec.t_out; ++t)
    for (int c = 0; c < C; ++c) m_y.push_back({spec.t_in + t, c});
  finish_setup();
}

WindowLoader::WindowLoader(const TrajectoryStore& store, const PairSpec& spec, int batch, std::uint64_t seed,
                           bool shuffle, bool drop_last)
    : m_store(&store), m_batch(batch), m_seed(seed), m_shuffle(shuffle), m_drop_last(drop_last) {
  if (store.on_mesh())
    SURRO_THROW(ErrorKind::usage,
                "pair: the store holds mesh trajectories: pairs (PairSpec) serve grid "
                "datasets only; use windows (WindowSpec) on meshes");
  const int T = store.frames();
  auto resolve = [T](int frame, const char* what) {
    const int f = frame < 0 ? T + frame : frame;
    if (f < 0 || f >= T)
      SURRO_THROW(ErrorKind::usage, "pair: " << what << " = " << frame << ": expected a frame in [" << -T
                                             << ", " << T << ") (the trajectories have " << T << " frames)");
    return f;
  };
  const int fin = resolve(spec.input_frame, "input_frame");
  const int fout = resolve(spec.target_frame, "target_frame");
  if (spec.inputs.empty() || spec.targets.empty())
    SURRO_THROW(ErrorKind::usage, "pair: expected at least one input and one target field");
  for (const auto& name : spec.inputs) m_x.push_back({fin, store.channel(name)});
  for (const auto& name : spec.targets) m_y.push_back({fout, store.channel(name)});
  m_stride = 1;
  m_per_trajectory = 1;
  finish_setup();
}

void WindowLoader::finish_setup() {
  if (m_batch < 1)
    SURRO_THROW(ErrorKind::usage, "loader: batch = " << m_batch << ": expected a positive integer");
  if (m_store->trajectories() < 1) SURRO_THROW(ErrorKind::usage, "loader: the store holds no trajectories");
  m_order.resize(static_cast<std::size_t>(m_store->trajectories()) *
                 static_cast<std::size_t>(m_per_trajectory));
  // Rows of one staging buffer: B samples of (N...) on grids, up to max_rows nodes on meshes.
  const std::size_t rows = on_mesh() ? static_cast<std::size_t>(max_rows(m_batch))
                                     : static_cast<std::size_t>(m_batch) * static_cast<std::size_t>(points());
  m_hx.assign(rows * m_x.size(), 0.0f);
  m_hy.assign(rows * m_y.size(), 0.0f);
  m_batch_trajectories.clear();
  m_batch_offsets.clear();
  start_epoch(0);
}

index_t WindowLoader::max_rows(int batch) const {
  if (batch < 1)
    SURRO_THROW(ErrorKind::usage, "loader: max_rows(" << batch << "): expected a positive batch");
  if (!on_mesh()) return batch;
  // The largest node counts first; each trajectory can fill up to windows_per_trajectory samples.
  std::vector<index_t> sizes(static_cast<std::size_t>(m_store->trajectories()));
  for (int s = 0; s < m_store->trajectories(); ++s) sizes[static_cast<std::size_t>(s)] = m_store->points(s);
  std::sort(sizes.begin(), sizes.end(), std::greater<index_t>());
  index_t rows = 0;
  long long left = batch;
  for (const index_t V : sizes) {
    const long long take = std::min<long long>(left, m_per_trajectory);
    rows += static_cast<index_t>(take) * V;
    left -= take;
    if (left == 0) break;
  }
  return rows;
}

int WindowLoader::batches() const {
  const long long n = samples();
  return static_cast<int>(m_drop_last ? n / m_batch : (n + m_batch - 1) / m_batch);
}

void WindowLoader::start_epoch(int epoch) {
  if (epoch < 0) SURRO_THROW(ErrorKind::usage, "loader: epoch = " << epoch << ": expected >= 0");
  std::iota(m_order.begin(), m_order.end(), 0LL);
  if (!m_shuffle) return;
  // Sorting by a keyed Philox output is a uniformly random permutation (up to 64-bit key
  // collisions, which the index tie-break resolves deterministically).
  const rng::Philox gen{m_seed};
  std::vector<std::pair<std::uint64_t, long long>> keyed(m_order.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) {
    const rng::Words w = gen.bits(static_cast<std::uint64_t>(epoch), i);
    keyed[i] = {(static_cast<std::uint64_t>(w.w[0]) << 32) | w.w[1], static_cast<long long>(i)};
  }
  std::sort(keyed.begin(), keyed.end());
  for (std::size_t i = 0; i < keyed.size(); ++i) m_order[i] = keyed[i].second;
}

int WindowLoader::gather(int batch_index) {
  if (batch_index < 0 || batch_index >= batches())
    SURRO_THROW(ErrorKind::usage,
                "loader: batch " << batch_index << ": expected an index in [0, " << batches() << ")");
  const long long first = static_cast<long long>(batch_index) * m_batch;
  const int count = static_cast<int>(std::min<long long>(m_batch, samples() - first));
  m_batch_trajectories.assign(static_cast<std::size_t>(count), 0);
  m_batch_offsets.assign(static_cast<std::size_t>(count) + 1, 0);
  for (int i = 0; i < count; ++i) {
    const long long sample = m_order[static_cast<std::size_t>(first + i)];
    const int s = trajectory_of(sample), t0 = start_of(sample);
    m_batch_trajectories[static_cast<std::size_t>(i)] = s;
    const index_t row = m_batch_offsets[static_cast<std::size_t>(i)];
    m_batch_offsets[static_cast<std::size_t>(i) + 1] = row + (on_mesh() ? m_store->points(s) : 1);
    if (on_mesh()) {
      copy_mesh_rows(m_x, s, t0, row, m_hx);
      copy_mesh_rows(m_y, s, t0, row, m_hy);
    } else {
      copy_grid_sample(m_x, s, t0, i, m_hx);
      copy_grid_sample(m_y, s, t0, i, m_hy);
    }
  }
  return count;
}

// Grid sample i: (channels, N...) at dst[i * channels * N].
void WindowLoader::copy_grid_sample(const std::vector<Source>& sources, int s, int t0, int i,
                                    std::vector<float>& dst) const {
  const std::size_t P = static_cast<std::size_t>(m_store->points());
  const std::size_t K = sources.size();
  for (std::size_t k = 0; k < K; ++k)
    std::memcpy(dst.data() + (static_cast<std::size_t>(i) * K + k) * P,
                m_store->frame(s, t0 + sources[k].frame) + static_cast<std::size_t>(sources[k].channel) * P,
                P * sizeof(float));
}

// Mesh sample: rows [row, row + V_s) of dst (rows, channels); column k = sources[k] of each node.
void WindowLoader::copy_mesh_rows(const std::vector<Source>& sources, int s, int t0, index_t row,
                                  std::vector<float>& dst) const {
  const std::size_t V = static_cast<std::size_t>(m_store->points(s));
  const std::size_t C = static_cast<std::size_t>(m_store->channels());
  const std::size_t K = sources.size();
  std::vector<const float*> from(K);  // (K) the column's first node: frame (V_s, C) + channel
  for (std::size_t k = 0; k < K; ++k) from[k] = m_store->frame(s, t0 + sources[k].frame) + sources[k].channel;
  float* out = dst.data() + static_cast<std::size_t>(row) * K;
  for (std::size_t v = 0; v < V; ++v)
    for (std::size_t k = 0; k < K; ++k) out[v * K + k] = from[k][v * C];
}

template <class Exec>
int WindowLoader::fill(const Exec& exec, int batch_index, float* x, float* y) {
  ScopedRegion region("surro::data::WindowLoader::fill");
  const int count = gather(batch_index);
  using DeviceView =
      Kokkos::View<float*, Kokkos::LayoutRight, typename Exec::memory_space, Kokkos::MemoryUnmanaged>;
  using HostView =
      Kokkos::View<const float*, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  // Values per row: a grid row is a sample (N... per channel), a mesh row a node.
  const std::size_t rows = static_cast<std::size_t>(m_batch_offsets.back());
  const std::size_t per_channel = on_mesh() ? 1 : static_cast<std::size_t>(m_store->points());
  const std::size_t nx = rows * m_x.size() * per_channel;
  const std::size_t ny = rows * m_y.size() * per_channel;
  Kokkos::deep_copy(exec, DeviceView(x, nx), HostView(m_hx.data(), nx));
  Kokkos::deep_copy(exec, DeviceView(y, ny), HostView(m_hy.data(), ny));
  exec.fence();
  return count;
}

template int WindowLoader::fill<ExecSpace>(const ExecSpace&, int, float*, float*);
#ifdef KOKKOS_ENABLE_CUDA
template int WindowLoader::fill<HostExec>(const HostExec&, int, float*, float*);
#endif

namespace {

// The store channels of the named fields, every component of each, in order.
std::vector<int> field_channels(const TrajectoryStore& store, const std::vector<std::string>& fields) {
  std::vector<int> channels;
  for (const auto& name : fields) {
    const int first = store.channel(name);
    const auto f = std::find(store.fields().begin(), store.fields().end(), name) - store.fields().begin();
    for (int k = 0; k < store.components()[static_cast<std::size_t>(f)]; ++k) channels.push_back(first + k);
  }
  return channels;
}

// Frames (or, for deltas, steps t -> t + 1) [first, first + n) resolved from (t0, count) over
// `available` of them. Error(usage) when the range is empty or outside.
std::pair<int, int> frame_range(int t0, int count, int available, int frames, const char* who) {
  const int first = t0 < 0 ? available + t0 : t0;
  const int n = count > 0 ? count : available - first;
  if (first < 0 || n < 1 || first + n > available)
    SURRO_THROW(ErrorKind::usage, who << ": frames " << t0 << " (+" << count
                                      << ") are outside trajectories of " << frames << " frames");
  return {first, n};
}

// Fits over frames t in [first, first + n): the selected channels of frame(t), or of
// frame(t + 1) - frame(t) when `delta`, accumulated trajectory by trajectory, frame by frame.
// Real: the staging precision (float for values, double for differences).
template <class Real>
GaussianNormalizer fit_frames(const TrajectoryStore& store, const std::vector<int>& channels, NormKind kind,
                              int first, int n, bool delta) {
  const std::size_t K = channels.size();
  const std::size_t C = static_cast<std::size_t>(store.channels());
  GaussianNormalizer norm(kind, static_cast<int>(K), store.on_mesh() ? 1 : store.points());
  std::vector<Real> sample;  // grid (K, N...); mesh (V_s, K): V_s samples of (K, 1)
  for (int s = 0; s < store.trajectories(); ++s) {
    const std::size_t V = static_cast<std::size_t>(store.points(s));
    sample.resize(K * V);
    for (int t = first; t < first + n; ++t) {
      const float* a = store.frame(s, t);
      const float* b = delta ? store.frame(s, t + 1) : nullptr;
      auto value = [&](std::size_t i) { return delta ? Real(b[i]) - Real(a[i]) : Real(a[i]); };
      for (std::size_t k = 0; k < K; ++k) {
        const std::size_t c = static_cast<std::size_t>(channels[k]);
        for (std::size_t v = 0; v < V; ++v)
          sample[store.on_mesh() ? v * K + k : k * V + v] = value(store.on_mesh() ? v * C + c : c * V + v);
      }
      norm.accumulate(sample.data(), store.on_mesh() ? static_cast<index_t>(V) : 1);
    }
  }
  norm.finish();
  return norm;
}

void check_normalizer_kind(const TrajectoryStore& store, NormKind kind, const char* who) {
  if (store.on_mesh() && kind != NormKind::channel)
    SURRO_THROW(ErrorKind::usage, who << ": kind " << to_string(kind)
                                      << " on a mesh store: expected channel (every trajectory has its own "
                                         "mesh, so statistics per point do not exist)");
}

}  // namespace

GaussianNormalizer fit_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                  NormKind kind, int t0, int count) {
  SURRO_REQUIRE(!fields.empty(), "fit_normalizer: no fields");
  check_normalizer_kind(store, kind, "normalizer");
  const std::vector<int> channels = field_channels(store, fields);
  const int T = store.frames();
  const auto range = frame_range(t0, count, T, T, "normalizer");
  return fit_frames<float>(store, channels, kind, range.first, range.second, false);
}

GaussianNormalizer fit_delta_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                        NormKind kind, int t0, int count) {
  SURRO_REQUIRE(!fields.empty(), "fit_delta_normalizer: no fields");
  check_normalizer_kind(store, kind, "delta normalizer");
  const std::vector<int> channels = field_channels(store, fields);
  const int T = store.frames();
  if (T < 2)
    SURRO_THROW(ErrorKind::usage,
                "delta normalizer: the trajectories have " << T << " frame: expected at least 2");
  const auto range = frame_range(t0, count, T - 1, T, "delta normalizer");
  return fit_frames<double>(store, channels, kind, range.first, range.second, true);
}

GaussianNormalizer fit_edge_normalizer(const TrajectoryStore& store) {
  if (!store.on_mesh())
    SURRO_THROW(ErrorKind::usage, "edge normalizer: the data are on a grid; edge features exist on meshes only");
  const int dim = store.mesh(0).dim;
  GaussianNormalizer norm(NormKind::channel, dim + 1, 1);
  std::vector<double> features;  // (2 E, dim + 1, 1) of one mesh
  long long edges = 0;
  for (int s = 0; s < store.trajectories(); ++s) {
    const mesh::Mesh& m = store.mesh(s);
    const std::vector<int> e = mesh::unique_edges(m);  // (E, 2)
    const std::size_t E = e.size() / 2;
    features.assign(2 * E * static_cast<std::size_t>(dim + 1), 0.0);
    for (std::size_t k = 0; k < E; ++k) {
      double* fwd = features.data() + 2 * k * static_cast<std::size_t>(dim + 1);  // sender e[2k]
      double* bwd = fwd + (dim + 1);                                               // sender e[2k + 1]
      double n2 = 0;
      for (int c = 0; c < dim; ++c) {
        const double d = m.points[static_cast<std::size_t>(e[2 * k]) * dim + c] -
                         m.points[static_cast<std::size_t>(e[2 * k + 1]) * dim + c];
        fwd[c] = d;
        bwd[c] = -d;
        n2 += d * d;
      }
      fwd[dim] = bwd[dim] = std::sqrt(n2);
    }
    norm.accumulate(features.data(), static_cast<index_t>(2 * E));
    edges += static_cast<long long>(E);
  }
  if (edges == 0) SURRO_THROW(ErrorKind::usage, "edge normalizer: the training meshes have no edges");
  norm.finish();
  return norm;
}

}  // namespace surro::data
