#pragma once
// A PNG file's structure checked before surro report embeds it (an image it did not draw itself,
// e.g. the ParaView render compare.py saves): the signature, an IHDR chunk first (13 bytes, a
// non-zero width and height below 2^31, a valid bit depth for its colour type), every chunk inside
// the file with a matching CRC-32, at least one IDAT chunk and IEND last, at the end of the file.
// The compressed image data itself is not inflated: the CRCs catch changed bytes, the IEND check a
// truncated file. Host only.
#include <map>
#include <string>

namespace surro::app {

struct PngInfo {
  long width = 0, height = 0;
  std::map<std::string, std::string> text;  // tEXt chunks: keyword -> text (Latin-1, as stored)
};

// Checks `bytes`, the content of the file `path` (named in errors); throws ErrorKind::input naming
// `path`, what is wrong and what was expected.
PngInfo check_png(const std::string& path, const std::string& bytes);

// Latin-1 (PNG tEXt) as UTF-8, for showing a tEXt value in an HTML page.
std::string latin1_to_utf8(const std::string& text);

}  // namespace surro::app
