// libFuzzer target: a Gmsh .msh file read by mesh::read_msh with the boundary groups the channel
// configs use. Gmsh itself parses the file (not instrumented); surro's checks of what it returns are.
#include "core/error.hpp"
#include "fuzz/fuzz_common.hpp"
#include "mesh/gmsh_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = surro::fuzz::write_scratch("mesh.msh", data, size);
  try {
    const surro::mesh::Mesh m =
        surro::mesh::read_msh(path, {{"wall", 6}, {"inflow", 4}, {"outflow", 5}, {"obstacle", 6}});
    (void)m;
  } catch (const surro::Error&) {
  }
  return 0;
}
