// libFuzzer target: HDF5 files as bytes. The input is written to a scratch .hdf5 file and given to
// every HDF5 reader that takes a file from the user: the Well layout (read_well_file,
// validate_well_file), the mesh layout (read_mesh_file, validate_mesh_file) and a checkpoint's
// normalizers (load_checkpoint_normalizers). HDF5 itself is not instrumented; what surro does with
// what it returns is.
#include "core/error.hpp"
#include "datasets/checkpoint.hpp"
#include "datasets/mesh_file.hpp"
#include "datasets/well.hpp"
#include "fuzz/fuzz_common.hpp"

namespace {

template <class F>
void refused_or_read(F&& read) {
  try {
    read();
  } catch (const surro::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = surro::fuzz::write_scratch("input.hdf5", data, size);
  refused_or_read([&] { (void)surro::data::read_well_file(path); });
  refused_or_read([&] { (void)surro::data::validate_well_file(path); });
  refused_or_read([&] {
    if (surro::data::is_mesh_file(path)) (void)surro::data::read_mesh_file(path);
  });
  refused_or_read([&] { (void)surro::data::validate_mesh_file(path); });
  refused_or_read([&] { (void)surro::data::load_checkpoint_normalizers(path); });
  return 0;
}
