// The batch loader: a split read into channel-first host frames, every window and pair placed where
// the documented layout says, the epoch permutation, partial batches, and errors naming the file.
// Every value written encodes (trajectory, time, field, point), so each placement is checked exactly
// (small integers are exact in float: equality, no tolerance).
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "datasets/loader.hpp"
#include "datasets/well.hpp"
#include "spaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <utility>

using namespace surro;
using namespace surro::data;
namespace fs = std::filesystem;

namespace {

constexpr int Nx = 4, Ny = 3, P = Nx * Ny, T = 7;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = test::fresh_dir("loader", name);
  fs::create_directories(dir / "data" / "train");
  return dir;
}

// Fields u, v vary in time, a does not; `steady` gives Darcy's layout (no times, a and u constant).
DatasetSpec make_spec(bool steady = false) {
  DatasetSpec s;
  s.dataset_name = steady ? "darcy_test" : "ns_test";
  s.dims = {"x", "y"};
  s.coords = {{0.0, 0.25, 0.5, 0.75}, {0.0, 0.5, 1.0}};
  s.boundaries = {Boundary::periodic, Boundary::periodic};
  if (steady) {
    s.fields = {{"a", false}, {"u", false}};
  } else {
    for (int t = 0; t < T; ++t) s.times.push_back(0.5 * t);
    s.fields = {{"u", true}, {"v", true}, {"a", false}};
  }
  s.parameters = {{"nu", 1e-3}};
  return s;
}

int field_id(const std::string& name) {
  return name == "u" ? 0 : name == "v" ? 1 : 2;
}

// The value of field `name` of trajectory s at time t and point p; constant fields ignore t.
float value(int s, int t, const std::string& name, int p, const DatasetSpec& spec) {
  const bool varying = std::any_of(spec.fields.begin(), spec.fields.end(),
                                   [&](const FieldSpec& f) { return f.name == name && f.time_varying; });
  if (!varying) return static_cast<float>(100000 + (s * 4 + field_id(name)) * P + p);
  return static_cast<float>(((s * T + t) * 4 + field_id(name)) * P + p);
}

Block make_block(const DatasetSpec& spec, long long first, long long count) {
  Block b;
  b.first = first;
  b.count = count;
  for (const auto& f : spec.fields) {
    auto& v = b.fields[f.name];
    const int frames = f.time_varying ? static_cast<int>(spec.times.size()) : 1;
    for (long long s = 0; s < count; ++s)
      for (int t = 0; t < frames; ++t)
        for (int p = 0; p < P; ++p) v.push_back(value(static_cast<int>(first + s), t, f.name, p, spec));
  }
  return b;
}

std::string file_name(const fs::path& dir, int k) {
  return (dir / "data" / "train" / ("ns_000" + std::to_string(k) + ".hdf5")).string();
}

// Files of 2 and 3 trajectories (S = 5), plus a dot-file temporary and a non-HDF5 file that the
// loader must skip (reading either would fail).
fs::path make_dataset(const std::string& name, bool steady = false) {
  const fs::path dir = fresh_dir(name);
  const DatasetSpec spec = make_spec(steady);
  write_well_file(file_name(dir, 1), spec, make_block(spec, 2, 3));  // written first, sorted second
  write_well_file(file_name(dir, 0), spec, make_block(spec, 0, 2));
  std::ofstream(dir / "data" / "train" / ".ns_0002.hdf5") << "half-written temporary";
  std::ofstream(dir / "data" / "train" / "notes.txt") << "not data";
  return dir;
}

constexpr int kLoaderTrajectories = 5;

// Fills every batch of the current epoch into Exec's memory and checks each sample's x and y
// against `expect(s, t0, x_or_y, channel, p)`. Returns the (s, t0) pairs seen, in order.
template <class Exec, class Expect>
std::vector<std::pair<int, int>> check_epoch(WindowLoader& loader, int per, int stride, Expect expect) {
  using Mem = typename Exec::memory_space;
  const int B = loader.batch_size(), CX = loader.x_channels(), CY = loader.y_channels();
  View1<float, Mem> x("surro::test::loader::x", static_cast<std::size_t>(B) * CX * P);
  View1<float, Mem> y("surro::test::loader::y", static_cast<std::size_t>(B) * CY * P);
  std::vector<std::pair<int, int>> seen;
  for (int b = 0; b < loader.batches(); ++b) {
    Kokkos::deep_copy(x, -1.0f);
    Kokkos::deep_copy(y, -1.0f);
    const int count = loader.fill(Exec(), b, x.data(), y.data());
    const auto hx = test::to_host(x), hy = test::to_host(y);
    for (int i = 0; i < count; ++i) {
      // Sample numbering as documented: trajectory-major, k-th start at t0 = k * stride.
      const long long sample = loader.order()[static_cast<std::size_t>(b) * B + i];
      const int s = static_cast<int>(sample / per), t0 = static_cast<int>(sample % per) * stride;
      seen.emplace_back(s, t0);
      for (int k = 0; k < CX; ++k)
        for (int p = 0; p < P; ++p) REQUIRE(hx[(i * CX + k) * P + p] == expect(s, t0, true, k, p));
      for (int k = 0; k < CY; ++k)
        for (int p = 0; p < P; ++p) REQUIRE(hy[(i * CY + k) * P + p] == expect(s, t0, false, k, p));
    }
    // Only `count` samples are written: the rest of the caller's buffer is untouched.
    for (std::size_t e = static_cast<std::size_t>(count) * CX * P; e < hx.size(); ++e)
      REQUIRE(hx[e] == -1.0f);
    for (std::size_t e = static_cast<std::size_t>(count) * CY * P; e < hy.size(); ++e)
      REQUIRE(hy[e] == -1.0f);
  }
  return seen;
}

}  // namespace

TEST_CASE("loader: a split in host memory, channel-first, files sorted, dot-files skipped", "[loader]") {
  const fs::path dir = make_dataset("store");
  const DatasetSpec spec = make_spec();
  const std::vector<std::string> fields = {"v", "a", "u"};  // not the file's order
  const TrajectoryStore store = load_split(dir.string(), "train", fields);
  CHECK(store.trajectories() == kLoaderTrajectories);
  CHECK(store.frames() == T);
  CHECK(store.channels() == 3);
  CHECK(store.points() == P);
  CHECK(store.grid() == std::vector<int>{Nx, Ny});
  CHECK(store.fields() == fields);
  CHECK(store.spec().dataset_name == "ns_test");
  CHECK(store.spec().times == spec.times);
  REQUIRE(store.files().size() == 2);
  CHECK(fs::path(store.files()[0]).filename() == "ns_0000.hdf5");
  CHECK(store.channel("u") == 2);
  for (int s = 0; s < kLoaderTrajectories; ++s)
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < P; ++p)
          REQUIRE(store.frame(s, t)[c * P + p] == value(s, t, fields[c], p, spec));  // a repeats

  // Steady data: one frame.
  const fs::path darcy = make_dataset("store_steady", true);
  const TrajectoryStore steady = load_split(darcy.string(), "train", {"u", "a"});
  CHECK(steady.trajectories() == kLoaderTrajectories);
  CHECK(steady.frames() == 1);
  for (int s = 0; s < kLoaderTrajectories; ++s)
    for (int p = 0; p < P; ++p) {
      REQUIRE(steady.frame(s, 0)[p] == value(s, 0, "u", p, make_spec(true)));
      REQUIRE(steady.frame(s, 0)[P + p] == value(s, 0, "a", p, make_spec(true)));
    }
}

TEMPLATE_LIST_TEST_CASE("loader: every window's x and y hold the documented frames", "[loader]",
                        test::ExecSpaces) {
  using Exec = TestType;
  const fs::path dir = make_dataset("windows");
  const DatasetSpec spec = make_spec();
  const std::vector<std::string> fields = {"u", "a", "v"};
  const TrajectoryStore store = load_split(dir.string(), "train", fields);
  const int C = 3;

  struct Case {
    WindowSpec w;
    int per;  // windows per trajectory, counted by hand
  };
  // T = 7: t_in + t_out = 5 fits at t0 = 0, 1, 2; with stride 2 at 0, 2; the FNO style at 0 only.
  const std::vector<Case> cases = {{{3, 2, true, 1}, 3}, {{3, 2, true, 2}, 2}, {{3, 2, false, 1}, 1},
                                   {{2, 5, true, 1}, 1}, {{1, 1, true, 1}, 6}, {{1, 1, true, 4}, 2}};
  for (const auto& cs : cases) {
    for (bool shuffle : {false, true}) {
      INFO("t_in " << cs.w.t_in << " t_out " << cs.w.t_out << " all_starts " << cs.w.all_starts << " stride "
                   << cs.w.stride << " shuffle " << shuffle);
      WindowLoader loader(store, cs.w, 4, 11, shuffle, false);
      REQUIRE(loader.windows_per_trajectory() == cs.per);
      REQUIRE(loader.samples() == kLoaderTrajectories * cs.per);
      CHECK(loader.x_channels() == cs.w.t_in * C);
      CHECK(loader.y_channels() == cs.w.t_out * C);
      const int t_in = cs.w.t_in;
      // Channel k = t * C + c: field c at window step t, oldest first.
      auto expect = [&](int s, int t0, bool is_x, int k, int p) {
        const int t = k / C, c = k % C;
        return value(s, t0 + (is_x ? t : t_in + t), fields[c], p, spec);
      };
      for (int epoch : {0, 1}) {
        loader.start_epoch(epoch);
        const auto seen = check_epoch<Exec>(loader, cs.per, cs.w.all_starts ? cs.w.stride : 1, expect);
        // Each window exactly once per epoch.
        std::set<std::pair<int, int>> expected;
        for (int s = 0; s < kLoaderTrajectories; ++s)
          for (int k = 0; k < cs.per; ++k) expected.emplace(s, k * cs.w.stride);
        CHECK(seen.size() == expected.size());
        CHECK(std::set<std::pair<int, int>>(seen.begin(), seen.end()) == expected);
        if (!shuffle) {
          // Natural order: trajectory-major, then t0.
          CHECK(std::is_sorted(seen.begin(), seen.end()));
        }
      }
    }
  }
}

TEST_CASE("loader: the epoch order is a permutation depending only on (seed, epoch)", "[loader]") {
  const fs::path dir = make_dataset("order");
  const TrajectoryStore store = load_split(dir.string(), "train", {"u"});
  const WindowSpec w{1, 1, true, 1};  // 6 windows per trajectory: 30 samples
  WindowLoader a(store, w, 4, 1234, true, false), b(store, w, 4, 1234, true, false);
  WindowLoader other_seed(store, w, 4, 1235, true, false), natural(store, w, 4, 1234, false, false);
  std::vector<long long> iota(static_cast<std::size_t>(a.samples()));
  std::iota(iota.begin(), iota.end(), 0LL);
  CHECK(natural.order() == iota);

  std::vector<std::vector<long long>> orders;
  for (int epoch = 0; epoch < 4; ++epoch) {
    a.start_epoch(epoch);
    auto sorted = a.order();
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota);
    CHECK(a.order() != iota);  // 1/30! chance of a false failure
    orders.push_back(a.order());
  }
  for (int e = 1; e < 4; ++e) CHECK(orders[e] != orders[e - 1]);
  // Only (seed, epoch) matters: not the history of the loader, nor which loader.
  b.start_epoch(3);
  CHECK(b.order() == orders[3]);
  b.start_epoch(0);
  CHECK(b.order() == orders[0]);
  a.start_epoch(1);
  CHECK(a.order() == orders[1]);
  other_seed.start_epoch(0);
  CHECK(other_seed.order() != orders[0]);
  natural.start_epoch(5);
  CHECK(natural.order() == iota);
  // The batch size does not enter the order.
  WindowLoader c(store, w, 7, 1234, true, true);
  c.start_epoch(2);
  CHECK(c.order() == orders[2]);
}

TEMPLATE_LIST_TEST_CASE("loader: the last partial batch, and drop_last", "[loader]", test::ExecSpaces) {
  using Exec = TestType;
  const fs::path dir = make_dataset("partial");
  const DatasetSpec spec = make_spec();
  const TrajectoryStore store = load_split(dir.string(), "train", {"u", "v"});
  const WindowSpec w{2, 1, false, 1};  // one window per trajectory: 5 samples
  auto expect = [&](int s, int t0, bool is_x, int k, int p) {
    const int t = k / 2, c = k % 2;
    return value(s, t0 + (is_x ? t : 2 + t), c ? "v" : "u", p, spec);
  };
  for (int batch : {1, 2, 3, 5, 8}) {
    INFO("batch " << batch);
    WindowLoader keep(store, w, batch, 3, true, false), drop(store, w, batch, 3, true, true);
    CHECK(keep.batches() == (kLoaderTrajectories + batch - 1) / batch);
    CHECK(drop.batches() == kLoaderTrajectories / batch);
    using Mem = typename Exec::memory_space;
    View1<float, Mem> x("x", static_cast<std::size_t>(batch) * 4 * P),
        y("y", static_cast<std::size_t>(batch) * 2 * P);
    int total = 0;
    for (int b = 0; b < keep.batches(); ++b) {
      const int n = keep.fill(Exec(), b, x.data(), y.data());
      CHECK(n == std::min(batch, kLoaderTrajectories - b * batch));
      total += n;
    }
    CHECK(total == kLoaderTrajectories);
    for (int b = 0; b < drop.batches(); ++b) CHECK(drop.fill(Exec(), b, x.data(), y.data()) == batch);
    CHECK(check_epoch<Exec>(keep, 1, 1, expect).size() == static_cast<std::size_t>(kLoaderTrajectories));
    CHECK(check_epoch<Exec>(drop, 1, 1, expect).size() ==
          static_cast<std::size_t>(kLoaderTrajectories / batch * batch));
    test::require_error([&] { keep.fill(Exec(), keep.batches(), x.data(), y.data()); }, ErrorKind::usage,
                        "batch");
    test::require_error([&] { keep.fill(Exec(), -1, x.data(), y.data()); }, ErrorKind::usage, "batch");
  }
}

TEMPLATE_LIST_TEST_CASE("loader: steady pairs (Darcy a -> u) and frame pairs (Burgers u(0) -> u(T))",
                        "[loader]", test::ExecSpaces) {
  using Exec = TestType;
  {
    const fs::path dir = make_dataset("darcy", true);
    const DatasetSpec spec = make_spec(true);
    const TrajectoryStore store = load_split(dir.string(), "train", {"a", "u"});
    WindowLoader loader(store, PairSpec{{"a"}, {"u"}}, 2, 5, true, false);
    CHECK(loader.samples() == kLoaderTrajectories);
    CHECK(loader.x_channels() == 1);
    CHECK(loader.y_channels() == 1);
    auto expect = [&](int s, int, bool is_x, int, int p) { return value(s, 0, is_x ? "a" : "u", p, spec); };
    CHECK(check_epoch<Exec>(loader, 1, 1, expect).size() == static_cast<std::size_t>(kLoaderTrajectories));
    // A window needs time: the steady store has one frame.
    test::require_error(
        [&] {
          WindowLoader(store, WindowSpec{1, 1, true, 1}, 2, 5, true, false);
        },
        ErrorKind::usage, "only 1 frames");
  }
  {
    const fs::path dir = make_dataset("burgers");
    const DatasetSpec spec = make_spec();
    const TrajectoryStore store = load_split(dir.string(), "train", {"u", "v", "a"});
    WindowLoader burgers(store, PairSpec{{"u"}, {"u"}, 0, -1}, 3, 5, false, false);
    auto first_last = [&](int s, int, bool is_x, int, int p) {
      return value(s, is_x ? 0 : T - 1, "u", p, spec);
    };
    CHECK(check_epoch<Exec>(burgers, 1, 1, first_last).size() ==
          static_cast<std::size_t>(kLoaderTrajectories));
    // Several fields, in the PairSpec's order, at other frames.
    WindowLoader multi(store, PairSpec{{"a", "u"}, {"v", "u"}, 2, -3}, 2, 5, true, false);
    CHECK(multi.x_channels() == 2);
    auto expect = [&](int s, int, bool is_x, int k, int p) {
      return is_x ? value(s, 2, k ? "u" : "a", p, spec) : value(s, T - 3, k ? "u" : "v", p, spec);
    };
    CHECK(check_epoch<Exec>(multi, 1, 1, expect).size() == static_cast<std::size_t>(kLoaderTrajectories));
    test::require_error(
        [&] {
          WindowLoader(store, PairSpec{{"a"}, {"w"}}, 2, 5, true, false);
        },
        ErrorKind::usage, "\"w\"");
    test::require_error(
        [&] {
          WindowLoader(store, PairSpec{{"a"}, {"u"}, T, -1}, 2, 5, true, false);
        },
        ErrorKind::usage, "input_frame = 7");
    test::require_error(
        [&] {
          WindowLoader(store, PairSpec{{"a"}, {"u"}, 0, -T - 1}, 2, 5, true, false);
        },
        ErrorKind::usage, "target_frame = -8");
  }
}

TEST_CASE("loader: files that disagree are refused with Error(input) naming the file", "[loader]") {
  // The second file (ns_0001.hdf5) differs from the first in one respect.
  auto mismatched = [](const std::string& name, const DatasetSpec& second) {
    const fs::path dir = fresh_dir(name);
    const DatasetSpec spec = make_spec();
    write_well_file(file_name(dir, 0), spec, make_block(spec, 0, 2));
    write_well_file(file_name(dir, 1), second, make_block(second, 2, 1));
    return dir.string();
  };
  const std::string bad = "ns_0001.hdf5";
  {
    DatasetSpec s = make_spec();
    s.coords[1] = {0.0, 0.5, 1.0, 1.5};  // P changes too; make_block writes P values per frame
    s.coords[0] = {0.0, 0.5, 0.75};
    test::require_error([&] { load_split(mismatched("grid", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": grid (3, 4)");
  }
  {
    DatasetSpec s = make_spec();
    s.coords[0][1] = 0.3;
    test::require_error([&] { load_split(mismatched("coords", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": /dimensions/x");
  }
  {
    DatasetSpec s = make_spec();
    s.times.back() = 9.0;
    test::require_error([&] { load_split(mismatched("times", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": /dimensions/time");
  }
  {
    DatasetSpec s = make_spec();
    s.times.pop_back();
    test::require_error([&] { load_split(mismatched("ntimes", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": /dimensions/time: 6 times");
  }
  {
    DatasetSpec s = make_spec();
    s.fields = {{"u", true}, {"a", false}};
    test::require_error(
        [&] {
          load_split(mismatched("field", s), "train", {"u", "v"});
        },
        ErrorKind::input, bad + ": /t0_fields/v: field missing");
    // A field the loader does not keep may differ.
    CHECK(load_split(mismatched("field_ok", s), "train", {"a", "u"}).trajectories() == 3);
  }
  {
    DatasetSpec s = make_spec();
    s.fields = {{"u", false}, {"v", true}, {"a", false}};
    test::require_error([&] { load_split(mismatched("varying", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": /t0_fields/u: time_varying = false");
  }
  {
    DatasetSpec s = make_spec();
    s.dataset_name = "other";
    test::require_error([&] { load_split(mismatched("name", s), "train", {"u"}); }, ErrorKind::input,
                        bad + ": dataset_name \"other\"");
  }
  // The first file lacks a requested field; a folder without data; no folder; a broken file.
  const fs::path dir = make_dataset("errors");
  test::require_error(
      [&] {
        load_split(dir.string(), "train", {"u", "w"});
      },
      ErrorKind::input, "ns_0000.hdf5: /t0_fields/w: field missing");
  fs::create_directories(dir / "data" / "valid");
  test::require_error([&] { load_split(dir.string(), "valid", {"u"}); }, ErrorKind::input, "no *.hdf5 files");
  test::require_error([&] { load_split(dir.string(), "test", {"u"}); }, ErrorKind::input, "not a folder");
  std::ofstream(dir / "data" / "train" / "ns_0002.hdf5") << "not HDF5";
  test::require_error([&] { load_split(dir.string(), "train", {"u"}); }, ErrorKind::input, "ns_0002.hdf5");
  test::require_error([&] { load_split(dir.string(), "train", {}); }, ErrorKind::usage, "no fields");
  test::require_error([&] { load_split(dir.string(), "train", {"u", "u"}); }, ErrorKind::usage, "distinct");
}
