#pragma once
// Host-side errors. Messages name the input, the field and the expected value, e.g.
//   "fft plan: shape[1] = 0: expected a positive extent".
// Device code uses Kokkos::abort instead. Only app/ turns an Error into an exit code.
#include <sstream>
#include <stdexcept>
#include <string>

namespace surro {

// What went wrong decides the exit code in app/ (see README "Exit codes").
enum class ErrorKind {
  runtime,  // a failure while running: I/O, a library call, a diverging solve
  usage,    // bad command line or config: fixed by the user editing their input
  input,    // bad input data: dataset, checkpoint, mesh
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what, const char* file = nullptr, int line = 0)
      : std::runtime_error(what), m_kind(kind), m_file(file ? file : ""), m_line(line) {}
  ErrorKind kind() const noexcept { return m_kind; }
  // Where in surro's source the error was raised; shown with --verbose only.
  const std::string& source_file() const noexcept { return m_file; }
  int source_line() const noexcept { return m_line; }

 private:
  ErrorKind m_kind;
  std::string m_file;
  int m_line;
};

// A number as messages print it: 6 significant digits, the stream's default ("0.001", "1e-06").
inline std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace surro

// SURRO_THROW(kind, "shape[" << i << "] = " << n << ": expected a positive extent")
#define SURRO_THROW(kind, stream_expr)                                       \
  do {                                                                       \
    std::ostringstream surro_throw_os_;                                      \
    surro_throw_os_ << stream_expr;                                          \
    throw ::surro::Error((kind), surro_throw_os_.str(), __FILE__, __LINE__); \
  } while (false)

// Runtime precondition on the host: SURRO_REQUIRE(n > 0, "fft plan: batch = " << n << ": expected > 0")
#define SURRO_REQUIRE(cond, stream_expr)                                \
  do {                                                                  \
    if (!(cond)) SURRO_THROW(::surro::ErrorKind::runtime, stream_expr); \
  } while (false)
