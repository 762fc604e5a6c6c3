// core/io.hpp: atomic writes that report failures naming the target (not the temporary) and leave
// nothing behind, run-folder markers, and an HDF5 write that fails for lack of space (here a
// file-size limit) reported on one line, with the library still usable afterwards.
#include "fresh_dir.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/hdf5.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return surro::test::fresh_dir("io", name + "_" + std::to_string(::getpid()));
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lowers the file-size limit of this process for its lifetime, with SIGXFSZ ignored so that a write
// beyond the limit fails with EFBIG ("File too large") as a full disk fails with ENOSPC.
struct FileSizeLimit {
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old);
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
};

void write_big_hdf5(const std::string& path, std::size_t n) {
  surro::io::write_atomic(path, [&](const std::string& tmp) {
    surro::data::h5::File f = surro::data::h5::create_file(tmp);
    std::vector<float> v(n, 1.5f);
    surro::data::h5::write_float_dataset(f, "u", {n}, v.data(), false);
    surro::data::h5::close_file(f);
  });
}

}  // namespace

TEST_CASE("write_atomic names the target in errors and leaves no temporary", "[io]") {
  const fs::path dir = fresh_dir("atomic");
  const std::string target = (dir / "out.txt").string();
  surro::io::write_text_atomic(target, "old\n");
  try {
    surro::io::write_atomic(target, [](const std::string& tmp) {
      std::ofstream(tmp) << "partial";
      throw surro::Error(surro::ErrorKind::runtime, tmp + ": write failed: No space left on device");
    });
    FAIL("expected an error");
  } catch (const surro::Error& e) {
    CHECK(e.kind() == surro::ErrorKind::runtime);
    CHECK(std::string(e.what()) == target + ": write failed: No space left on device");
  }
  CHECK(entries(dir) == std::vector<std::string>{"out.txt"});  // temporary removed
  CHECK(slurp(target) == "old\n");                             // earlier content intact
  // A target the finished file cannot replace (a folder that is not empty): the rename's own reason,
  // not that of removing the temporary afterwards (which succeeds, and once read "Success").
  fs::create_directories(dir / "taken" / "inside");
  const std::string taken = (dir / "taken").string();
  CHECK_THROWS_WITH(surro::io::write_text_atomic(taken, "new\n"),
                    taken + ": cannot move the finished file into place: " +
                        std::error_code(EISDIR, std::generic_category()).message());
  std::vector<std::string> left = entries(dir);  // no temporary beside them
  std::sort(left.begin(), left.end());
  CHECK(left == (std::vector<std::string>{"out.txt", "taken"}));
  fs::remove_all(dir);
}

TEST_CASE("begin_output marks a folder unfinished until end_output", "[io]") {
  const fs::path dir = fresh_dir("marker") / "run";
  surro::io::begin_output(dir.string());
  CHECK(fs::exists(dir / surro::io::kIncompleteMarker));
  surro::io::end_output(dir.string());
  CHECK_FALSE(fs::exists(dir / surro::io::kIncompleteMarker));
  fs::remove_all(dir.parent_path());
}

TEST_CASE("an HDF5 write beyond the file-size limit fails on one line naming the file", "[io]") {
  const fs::path dir = fresh_dir("hdf5");
  const std::string target = (dir / "big.hdf5").string();
  std::string message;
  {
    FileSizeLimit limit(64 * 1024);
    try {
      write_big_hdf5(target, 100000);  // 400 kB of float32
    } catch (const surro::Error& e) {
      CHECK(e.kind() == surro::ErrorKind::runtime);
      message = e.what();
    }
  }
  INFO(message);
  CHECK(message.rfind(target + ": ", 0) == 0);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find(".tmp") == std::string::npos);
  CHECK(entries(dir).empty());
  // HDF5 is still usable: the same write succeeds without the limit. (Before the fix, the failed
  // close left a dangling identifier and the test binary crashed at exit in HDF5's shutdown.)
  write_big_hdf5(target, 100000);
  CHECK(fs::file_size(target) > 400000);
  fs::remove_all(dir);
}
