#pragma once
// TFRecord files and tf.train.Example records, without TensorFlow.
//
// A TFRecord file is a sequence of records, each framed as
//   uint64 length (little-endian) | uint32 masked CRC32C of those 8 bytes | data (length bytes)
//   | uint32 masked CRC32C of the data
// with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32). The reader checks both CRCs;
// a bad CRC or a record cut short is Error(input) naming the file, the record index and its byte offset.
// Parsing Example messages uses protobuf classes generated from datasets/proto/tf_example.proto (our
// own copy of the wire format); protobuf stays out of this header.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace surro::data {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), table-driven.
// Extends `crc` (the value returned for the bytes before) by n more bytes; crc32c("123456789") = 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0);

// TFRecord's masked form of a CRC (stored so that CRCs of data holding CRCs stay well distributed).
inline std::uint32_t mask_crc32c(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

class TfRecordReader {
 public:
  // Opens `path`; a missing or unreadable file is Error(input).
  explicit TfRecordReader(std::string path);
  ~TfRecordReader();
  TfRecordReader(const TfRecordReader&) = delete;
  TfRecordReader& operator=(const TfRecordReader&) = delete;

  // Reads the next record into `data`, checking both CRCs. Returns false at the end of the file (no
  // byte left); a partial header or record is an error.
  bool next(std::string& data);
  // Steps over the next record without reading its data: checks the length's CRC and that the file
  // holds the whole record, not the data's CRC. Returns false at the end of the file.
  bool skip();

  long long index() const { return m_index; }        // records read or skipped so far
  std::uint64_t offset() const { return m_offset; }  // byte offset of the next record
  const std::string& path() const { return m_path; }

 private:
  // Reads and checks the next header; false at a clean end of file. Sets `length`.
  bool read_header(std::uint64_t& length);

  std::string m_path;
  std::FILE* m_file = nullptr;
  std::uint64_t m_size = 0;    // file size in bytes
  std::uint64_t m_offset = 0;  // where the next record starts
  long long m_index = 0;
};

// Records in a TFRecord file, counted by reading only their 12-byte headers (length CRCs checked).
long long count_tfrecords(const std::string& path);

// The BytesList features of a serialized tf.train.Example: name -> its values. Features of other kinds
// (FloatList, Int64List, or none set) are left out. `ctx` prefixes errors (file and record): a record that
// is not an Example is Error(input).
std::map<std::string, std::vector<std::string>> example_bytes_features(const std::string& record,
                                                                       const std::string& ctx);

}  // namespace surro::data
