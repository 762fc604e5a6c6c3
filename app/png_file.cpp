// PNG structure check (app/png_file.hpp), following the PNG specification (ISO/IEC 15948): chunks
// are length (4 bytes, big-endian), type (4), data (length), CRC-32 of type and data (4).
#include "app/png_file.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace surro::app {
namespace impl::png_file {

// CRC-32 (polynomial 0xEDB88320, reflected), as PNG and zlib compute it.
std::uint32_t crc32(const unsigned char* p, std::size_t n) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

// Bit depths the specification allows for each colour type.
bool valid_depth(int colour, int depth) {
  switch (colour) {
    case 0:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3:
      return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6:
      return depth == 8 || depth == 16;
    default:
      return false;
  }
}

void check_header(const std::string& path, const unsigned char* d, std::uint32_t length, PngInfo& info) {
  if (length != 13)
    SURRO_THROW(ErrorKind::input, path << ": IHDR chunk of " << length << " bytes: expected 13");
  const std::uint32_t w = be32(d), h = be32(d + 4);
  if (w == 0 || h == 0 || w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
    SURRO_THROW(ErrorKind::input,
                path << ": IHDR size " << w << "x" << h << ": expected a width and height in 1..2^31-1");
  if (!valid_depth(d[9], d[8]))
    SURRO_THROW(ErrorKind::input, path << ": IHDR colour type " << int(d[9]) << " with bit depth "
                                       << int(d[8]) << ": not a combination PNG allows");
  info.width = long(w);
  info.height = long(h);
}

}  // namespace impl::png_file

PngInfo check_png(const std::string& path, const std::string& bytes) {
  using namespace impl::png_file;
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  const auto* d = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (n < 8 || !std::equal(signature, signature + 8, d))
    SURRO_THROW(ErrorKind::input, path << ": not a PNG file: expected the 8-byte PNG signature");
  PngInfo info;
  std::size_t pos = 8, idat = 0;
  for (int index = 0;; ++index) {
    if (n - pos < 12)
      SURRO_THROW(ErrorKind::input, path << ": truncated: " << n - pos << " bytes after chunk " << index
                                         << " at byte " << pos << ": expected another chunk (IEND last)");
    const std::uint32_t length = be32(d + pos);
    const std::string type(bytes, pos + 4, 4);
    if (length > 0x7FFFFFFFu || n - pos - 12 < length)
      SURRO_THROW(ErrorKind::input, path << ": truncated: chunk " << type << " at byte " << pos
                                         << " declares " << length << " bytes of data, the file has "
                                         << n - pos - 12);
    const unsigned char* data = d + pos + 8;
    if (crc32(d + pos + 4, length + 4) != be32(data + length))
      SURRO_THROW(ErrorKind::input,
                  path << ": chunk " << type << " at byte " << pos << ": CRC-32 does not match its data");
    if (index == 0 && type != "IHDR")
      SURRO_THROW(ErrorKind::input, path << ": first chunk " << type << ": expected IHDR");
    if (type == "IHDR" && index == 0) check_header(path, data, length, info);
    if (type == "IDAT") ++idat;
    if (type == "tEXt") {
      const std::string body(bytes, pos + 8, length);
      const std::size_t zero = body.find('\0');
      if (zero != std::string::npos) info.text[body.substr(0, zero)] = body.substr(zero + 1);
    }
    pos += 12 + std::size_t(length);
    if (type == "IEND") break;
  }
  if (idat == 0) SURRO_THROW(ErrorKind::input, path << ": no IDAT chunk: expected the image data");
  if (pos != n)
    SURRO_THROW(ErrorKind::input,
                path << ": " << n - pos << " bytes after the IEND chunk: expected the file to end there");
  return info;
}

std::string latin1_to_utf8(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

}  // namespace surro::app
