// libFuzzer target: a MeshGraphNets dataset folder. The input is meta.json and train.tfrecord in one:
// its first two bytes give the length L of meta.json (little endian), the next L bytes are meta.json,
// the rest is the TFRecord file. Reads the records (CRCs, tf.train.Example parsing), then the folder
// through meshgraphnets_spec, count_meshgraphnets and read_meshgraphnets (first trajectory).
#include "core/error.hpp"
#include "datasets/meshgraphnets.hpp"
#include "datasets/tfrecord.hpp"
#include "fuzz/fuzz_common.hpp"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t meta_len = std::min<std::size_t>(data[0] | (std::size_t(data[1]) << 8), size - 2);
  const std::string dir = (surro::fuzz::scratch_dir() / "mgn").string();
  std::filesystem::create_directories(dir);
  surro::fuzz::write_scratch("mgn/meta.json", data + 2, meta_len);
  const std::string records =
      surro::fuzz::write_scratch("mgn/train.tfrecord", data + 2 + meta_len, size - 2 - meta_len);
  try {
    surro::data::TfRecordReader reader(records);
    std::string record;
    for (int i = 0; i < 64 && reader.next(record); ++i)
      (void)surro::data::example_bytes_features(record, records);
  } catch (const surro::Error&) {
  }
  try {
    (void)surro::data::meshgraphnets_spec(dir);
    if (surro::data::count_meshgraphnets(dir, "train") > 0)
      (void)surro::data::read_meshgraphnets(dir, "train", 0, 1);
  } catch (const surro::Error&) {
  }
  return 0;
}
