#include "datasets/loader.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "datasets/well.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
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
  const std::size_t C = m_fields.size();
  m_varying.assign(C, false);
  bool any_varying = false;
  for (std::size_t c = 0; c < C; ++c) {
    const FieldSpec* f = find_field(spec, m_fields[c]);
    if (!f)
      SURRO_THROW(ErrorKind::input, origin << ": /t0_fields/" << m_fields[c]
                                           << ": field missing (the file has: " << join(field_names(spec))
                                           << ")");
    m_varying[c] = f->time_varying;
    any_varying = any_varying || f->time_varying;
  }
  m_grid = spec.shape();
  m_points = static_cast<index_t>(spec.points());
  m_frames = any_varying ? static_cast<int>(spec.times.size()) : 1;
  if (m_frames < 1)
    SURRO_THROW(ErrorKind::input, origin << ": /dimensions/time: no recorded times for time-varying fields");
}

// Appends a block's trajectories, laid out as the spec given to set_spec.
void TrajectoryStore::append(const Block& block) {
  const std::size_t C = m_fields.size();
  const std::size_t T = static_cast<std::size_t>(m_frames);
  const std::size_t P = static_cast<std::size_t>(m_points);
  const std::size_t first = m_data.size();
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

TrajectoryStore load_split(const std::string& dataset_dir, const std::string& split,
                           const std::vector<std::string>& fields) {
  ScopedRegion region("surro::data::load_split");
  check_fields(fields, "load_split");
  TrajectoryStore store;
  store.m_fields = fields;
  store.m_files = split_files(fs::path(dataset_dir) / "data" / split);
  for (const auto& file : store.m_files) {
    WellFile wf = read_well_file(file);
    if (&file == &store.m_files.front())
      store.set_spec(wf.spec, file);
    else
      check_agrees(file, wf.spec, store.m_files.front(), store.m_spec, fields);
    store.append(wf.block);
  }
  return store;
}

TrajectoryStore store_from_block(const DatasetSpec& spec, const Block& block,
                                 const std::vector<std::string>& fields, const std::string& origin) {
  check_fields(fields, "store_from_block");
  TrajectoryStore store;
  store.m_fields = fields;
  store.set_spec(spec, origin);
  store.append(block);
  return store;
}

int TrajectoryStore::channel(const std::string& field) const {
  for (std::size_t c = 0; c < m_fields.size(); ++c)
    if (m_fields[c] == field) return static_cast<int>(c);
  SURRO_THROW(ErrorKind::usage, "field \"" << field << "\" is not loaded (loaded: " << join(m_fields) << ")");
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
  const std::size_t P = static_cast<std::size_t>(m_store->points());
  const std::size_t B = static_cast<std::size_t>(m_batch);
  m_hx.assign(B * m_x.size() * P, 0.0f);
  m_hy.assign(B * m_y.size() * P, 0.0f);
  start_epoch(0);
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
  const std::size_t P = static_cast<std::size_t>(m_store->points());
  const std::size_t CX = m_x.size(), CY = m_y.size();
  for (int i = 0; i < count; ++i) {
    const long long sample = m_order[static_cast<std::size_t>(first + i)];
    const int s = trajectory_of(sample), t0 = start_of(sample);
    for (std::size_t k = 0; k < CX; ++k)
      std::memcpy(m_hx.data() + (i * CX + k) * P,
                  m_store->frame(s, t0 + m_x[k].frame) + static_cast<std::size_t>(m_x[k].channel) * P,
                  P * sizeof(float));
    for (std::size_t k = 0; k < CY; ++k)
      std::memcpy(m_hy.data() + (i * CY + k) * P,
                  m_store->frame(s, t0 + m_y[k].frame) + static_cast<std::size_t>(m_y[k].channel) * P,
                  P * sizeof(float));
  }
  return count;
}

template <class Exec>
int WindowLoader::fill(const Exec& exec, int batch_index, float* x, float* y) {
  ScopedRegion region("surro::data::WindowLoader::fill");
  const int count = gather(batch_index);
  using DeviceView =
      Kokkos::View<float*, Kokkos::LayoutRight, typename Exec::memory_space, Kokkos::MemoryUnmanaged>;
  using HostView =
      Kokkos::View<const float*, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
  const std::size_t P = static_cast<std::size_t>(m_store->points());
  const std::size_t nx = static_cast<std::size_t>(count) * m_x.size() * P;
  const std::size_t ny = static_cast<std::size_t>(count) * m_y.size() * P;
  Kokkos::deep_copy(exec, DeviceView(x, nx), HostView(m_hx.data(), nx));
  Kokkos::deep_copy(exec, DeviceView(y, ny), HostView(m_hy.data(), ny));
  exec.fence();
  return count;
}

template int WindowLoader::fill<ExecSpace>(const ExecSpace&, int, float*, float*);
#ifdef KOKKOS_ENABLE_CUDA
template int WindowLoader::fill<HostExec>(const HostExec&, int, float*, float*);
#endif

GaussianNormalizer fit_normalizer(const TrajectoryStore& store, const std::vector<std::string>& fields,
                                  NormKind kind, int t0, int count) {
  SURRO_REQUIRE(!fields.empty(), "fit_normalizer: no fields");
  std::vector<int> channels;
  for (const auto& f : fields) channels.push_back(store.channel(f));
  const int T = store.frames();
  const int first = t0 < 0 ? T + t0 : t0;
  const int n = count > 0 ? count : T - first;
  if (first < 0 || n < 1 || first + n > T)
    SURRO_THROW(ErrorKind::usage, "normalizer: frames " << t0 << " (+" << count
                                                        << ") are outside trajectories of " << T
                                                        << " frames");
  const index_t P = store.points();
  const int C = static_cast<int>(channels.size());
  GaussianNormalizer norm(kind, C, P);
  std::vector<float> sample(std::size_t(C) * P);  // (C, N...) of the chosen fields
  for (int s = 0; s < store.trajectories(); ++s)
    for (int t = first; t < first + n; ++t) {
      const float* frame = store.frame(s, t);
      for (int c = 0; c < C; ++c)
        std::copy(frame + std::size_t(channels[c]) * P, frame + std::size_t(channels[c] + 1) * P,
                  sample.begin() + std::size_t(c) * P);
      norm.accumulate(sample.data(), 1);
    }
  norm.finish();
  return norm;
}

}  // namespace surro::data
