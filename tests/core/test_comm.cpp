// The backend choice of the sums over ranks (core/comm_device.hpp), and the NCCL path on one GPU:
// a sum over one rank is the value itself, bit for bit, so the gradient (device, in place on the
// execution space's stream), the host scalar sums and the max come back unchanged. In a build
// without NCCL the second test checks that SURRO_COMM=nccl is refused instead.
#include "core/comm.hpp"
#include "core/comm_device.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace surro;

namespace {

// SURRO_COMM set for one scope; the backend stopped and the variable removed after it.
struct CommEnv {
  explicit CommEnv(const char* value) { setenv("SURRO_COMM", value, 1); }
  ~CommEnv() {
    comm::stop_device();
    unsetenv("SURRO_COMM");
  }
  CommEnv(const CommEnv&) = delete;
  CommEnv& operator=(const CommEnv&) = delete;
};

ErrorKind start_error() {
  try {
    comm::start_device(ExecSpace());
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::runtime;  // no error: the caller's REQUIRE on usage fails
}

}  // namespace

TEST_CASE("comm: SURRO_COMM names a backend", "[comm]") {
  {
    CommEnv env("bogus");
    REQUIRE(start_error() == ErrorKind::usage);
  }
  {
    CommEnv env("host");
    comm::start_device(ExecSpace());
    REQUIRE(std::string(comm::device_backend()) == "host");
    REQUIRE(comm::reducing() == (comm::size() > 1));
  }
}

TEST_CASE("comm: NCCL on one GPU leaves every sum over one rank unchanged", "[comm]") {
  CommEnv env("nccl");
  if (!comm::nccl_built()) {
    REQUIRE(start_error() == ErrorKind::usage);  // refused, not silently the host path
    return;
  }
  REQUIRE(comm::size() == 1);  // surro_tests is one process
  comm::start_device(ExecSpace());
  REQUIRE(std::string(comm::device_backend()) == "nccl");
  REQUIRE(comm::reducing());
  REQUIRE(!comm::nccl_version().empty());

  // An odd length, not a multiple of NCCL's chunks; values of every magnitude and sign.
  const std::size_t n = 1000003;
  std::vector<float> ref(n);
  for (std::size_t i = 0; i < n; ++i)
    ref[i] = static_cast<float>((i % 2 ? -1.0 : 1.0) *
                                std::ldexp(1.0 + double(i % 977) / 977.0, int(i % 61) - 30));
  ExecSpace exec;
  View1<float> grads("surro::test::comm::grads", n);  // (n)
  Kokkos::View<float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> host(ref.data(), n);
  Kokkos::deep_copy(exec, grads, host);
  comm::sum_device(exec, grads.data(), n);
  auto back = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grads);
  REQUIRE(std::memcmp(back.data(), ref.data(), n * sizeof(float)) == 0);

  double values[3] = {0.1, -3.0e300, 5e-324};
  comm::sum(values, 3);
  REQUIRE(values[0] == 0.1);
  REQUIRE(values[1] == -3.0e300);
  REQUIRE(values[2] == 5e-324);
  REQUIRE(comm::sum(1.0 / 3.0) == 1.0 / 3.0);
  REQUIRE(comm::sum((1LL << 40) + 1) == (1LL << 40) + 1);
  REQUIRE(comm::max(7) == 7);
  REQUIRE(comm::max(-2) == -2);
}
