#include "datasets/tfrecord.hpp"

#include "core/error.hpp"
#include "tf_example.pb.h"  // generated from datasets/proto/tf_example.proto at build time

#include <array>
#include <cerrno>
#include <cstring>

namespace surro::data {
namespace {

// Table for the reflected Castagnoli polynomial: entry b is the CRC register after shifting byte b through.
std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t r = b;
    for (int k = 0; k < 8; ++k) r = (r & 1u) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
    t[b] = r;
  }
  return t;
}

std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

std::uint32_t load_le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t r = ~crc;
  for (std::size_t i = 0; i < n; ++i) r = table[(r ^ p[i]) & 0xFFu] ^ (r >> 8);
  return ~r;
}

TfRecordReader::TfRecordReader(std::string path) : m_path(std::move(path)) {
  m_file = std::fopen(m_path.c_str(), "rb");
  if (!m_file) SURRO_THROW(ErrorKind::input, m_path << ": cannot open: " << std::strerror(errno));
  // fseeko/ftello take off_t, 64-bit on the platforms we build for (long is 32-bit on some).
  const off_t end = fseeko(m_file, 0, SEEK_END) == 0 ? ftello(m_file) : off_t(-1);
  if (end < 0 || fseeko(m_file, 0, SEEK_SET) != 0) {
    std::fclose(m_file);
    SURRO_THROW(ErrorKind::input, m_path << ": cannot determine the file size");
  }
  m_size = static_cast<std::uint64_t>(end);
}

TfRecordReader::~TfRecordReader() {
  if (m_file) std::fclose(m_file);
}

bool TfRecordReader::read_header(std::uint64_t& length) {
  if (m_offset == m_size) return false;
  unsigned char h[12];
  const std::size_t got = std::fread(h, 1, sizeof h, m_file);
  if (got != sizeof h)
    SURRO_THROW(ErrorKind::input, m_path << ": record " << m_index << " at byte " << m_offset
                                         << ": truncated header: expected 12 bytes, got " << got);
  const std::uint32_t want = load_le32(h + 8), have = mask_crc32c(crc32c(h, 8));
  if (want != have)
    SURRO_THROW(ErrorKind::input, m_path << ": record " << m_index << " at byte " << m_offset
                                         << ": length CRC mismatch: stored 0x" << std::hex << want
                                         << ", computed 0x" << have << " (corrupt file or not a TFRecord)");
  length = load_le64(h);
  const std::uint64_t left = m_size - m_offset - 12;
  if (length > left || left - length < 4)
    SURRO_THROW(ErrorKind::input,
                m_path << ": record " << m_index << " at byte " << m_offset << ": truncated: " << length
                       << " data bytes and a 4-byte CRC expected, " << left << " bytes left in the file");
  return true;
}

bool TfRecordReader::next(std::string& data) {
  std::uint64_t length = 0;
  if (!read_header(length)) return false;
  data.resize(length);
  unsigned char footer[4];
  if (std::fread(&data[0], 1, length, m_file) != length || std::fread(footer, 1, 4, m_file) != 4)
    SURRO_THROW(ErrorKind::input, m_path << ": record " << m_index << " at byte " << m_offset
                                         << ": read failed: " << std::strerror(errno));
  const std::uint32_t want = load_le32(footer), have = mask_crc32c(crc32c(data.data(), data.size()));
  if (want != have)
    SURRO_THROW(ErrorKind::input, m_path << ": record " << m_index << " at byte " << m_offset
                                         << ": data CRC mismatch: stored 0x" << std::hex << want
                                         << ", computed 0x" << have << " (corrupt record)");
  m_offset += 12 + length + 4;
  ++m_index;
  return true;
}

bool TfRecordReader::skip() {
  std::uint64_t length = 0;
  if (!read_header(length)) return false;
  const std::uint64_t next = m_offset + 12 + length + 4;
  if (fseeko(m_file, static_cast<off_t>(next), SEEK_SET) != 0)
    SURRO_THROW(ErrorKind::input, m_path << ": record " << m_index << " at byte " << m_offset
                                         << ": seek failed: " << std::strerror(errno));
  m_offset = next;
  ++m_index;
  return true;
}

long long count_tfrecords(const std::string& path) {
  TfRecordReader r(path);
  while (r.skip()) {
  }
  return r.index();
}

std::map<std::string, std::vector<std::string>> example_bytes_features(const std::string& record,
                                                                       const std::string& ctx) {
  surro::tf::Example ex;
  if (!ex.ParseFromString(record))
    SURRO_THROW(ErrorKind::input,
                ctx << ": not a tf.train.Example (protobuf parse failed on " << record.size() << " bytes)");
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, feature] : ex.features().feature()) {
    if (feature.kind_case() != surro::tf::Feature::kBytesList) continue;
    const auto& values = feature.bytes_list().value();
    out[name].assign(values.begin(), values.end());
  }
  return out;
}

}  // namespace surro::data
