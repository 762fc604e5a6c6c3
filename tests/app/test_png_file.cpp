// surro report's PNG check (app/png_file.hpp) on a PNG written by another program: the 112 bytes
// below are the output of Python's struct and zlib (a 3x2 RGB image, a tEXt Description, one IDAT),
// then the same bytes cut short or changed, each refused naming the file and the failed check.
#include "app/png_file.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace surro;

namespace {

const unsigned char kPython3x2[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1,
    0x4d, 0x00, 0x00, 0x00, 0x16, 0x74, 0x45, 0x58, 0x74, 0x44, 0x65, 0x73, 0x63, 0x72, 0x69, 0x70,
    0x74, 0x69, 0x6f, 0x6e, 0x00, 0x75, 0x20, 0x61, 0x74, 0x20, 0x74, 0x20, 0x3d, 0x20, 0x32, 0xd7,
    0xc8, 0xac, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x08, 0x60,
    0x38, 0xc1, 0xf0, 0x1f, 0x08, 0x19, 0x18, 0x02, 0x2a, 0xa0, 0x2c, 0x00, 0x43, 0x30, 0x06, 0xa5,
    0x42, 0xc9, 0xf1, 0x7e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

std::string python_png() {
  return std::string(reinterpret_cast<const char*>(kPython3x2), sizeof(kPython3x2));
}

// The message check_png throws for `bytes`, "" when it accepts them.
std::string refusal(const std::string& bytes) {
  try {
    app::check_png("x.png", bytes);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a PNG from Python's zlib is accepted with its size and text", "[png_file]") {
  const app::PngInfo info = app::check_png("x.png", python_png());
  CHECK(info.width == 3);
  CHECK(info.height == 2);
  REQUIRE(info.text.count("Description") == 1);
  CHECK(info.text.at("Description") == "u at t = 2");
  CHECK(app::latin1_to_utf8("t = 2\xb5s") == "t = 2\xc2\xb5s");
}

TEST_CASE("truncated or changed PNGs are refused, naming the file and the check", "[png_file]") {
  const std::string png = python_png();
  // Cut anywhere: inside the signature, a chunk header, a chunk's data, or before IEND.
  for (const std::size_t keep : {std::size_t(0), std::size_t(5), std::size_t(8), std::size_t(20),
                                 std::size_t(40), std::size_t(90), png.size() - 12, png.size() - 1}) {
    const std::string why = refusal(png.substr(0, keep));
    INFO("first " << keep << " bytes: " << why);
    CHECK(why.rfind("x.png: ", 0) == 0);
    CHECK((keep < 8 ? why.find("PNG signature") : why.find("truncated")) != std::string::npos);
  }
  std::string flipped = png;
  flipped[80] = char(flipped[80] ^ 0x01);  // a byte of the IDAT data
  CHECK(refusal(flipped).find("chunk IDAT at byte 67: CRC-32 does not match") != std::string::npos);
  std::string narrow = png;
  narrow[19] = 0;  // width 0, with its CRC-32 from Python's zlib.crc32: 0xf9214a4e
  narrow[29] = char(0xf9), narrow[30] = char(0x21), narrow[31] = char(0x4a), narrow[32] = char(0x4e);
  CHECK(refusal(narrow).find("x.png: IHDR size 0x2: expected a width and height in 1..2^31-1") == 0);
  CHECK(refusal(png + "extra").find("5 bytes after the IEND chunk") != std::string::npos);
  std::string no_signature = png;
  no_signature[1] = 'J';
  CHECK(refusal(no_signature).find("expected the 8-byte PNG signature") != std::string::npos);
}
