#pragma once
// Thin RAII over the HDF5 C API, and the typed helpers our schemas need.
//
// Type conventions (h5py's, which The Well's checker tests through Python types):
//   string        variable-length UTF-8 string, scalar dataspace         -> str
//   string array  variable-length UTF-8 strings, 1-D dataspace (may be 0) -> ndarray of str
//   bool          enum {FALSE = 0, TRUE = 1} over H5T_STD_I8LE           -> numpy.bool_
//   integer       H5T_STD_I64LE; real H5T_IEEE_F64LE
//
// Errors: HDF5's own stack printing is switched off; every failure becomes a surro::Error whose message
// starts with the file and the HDF5 object path ("run/a.hdf5: /t0_fields/u: ..."), plus the innermost
// HDF5 error description where there is one, on one line ("file write failed: No space left on
// device"). Readers raise ErrorKind::input (bad data), writers ErrorKind::runtime (a failing library
// call or disk).
//
// Failed writes (disk full, file-size limit): HDF5 1.10's H5Fclose, when its final flush fails, frees
// the file but keeps the identifier, and HDF5's shutdown at exit closes it again (a use after free:
// exit 139). So a file we wrote is flushed before it is closed (datasets are flushed after each
// write, files by close_file and by File's destructor), and a file whose flush failed is never handed
// to H5Fclose: its identifier is given up (the process reports the error; the OS closes the
// descriptor, and write_atomic has removed the temporary). HDF5's own shutdown at exit is switched
// off (H5dont_atexit) for the same reason.
#include "core/error.hpp"

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace surro::data::h5 {

// Owns one HDF5 identifier; Close is its H5?close function. Move-only.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : m_id(id) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : m_id(std::exchange(other.m_id, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      m_id = std::exchange(other.m_id, H5I_INVALID_HID);
    }
    return *this;
  }
  hid_t id() const { return m_id; }
  operator hid_t() const { return m_id; }  // NOLINT: passes straight to the C API
  bool valid() const { return m_id >= 0; }
  // Closes now, ignoring failure (destructor path). Writers close files with close_file() instead.
  void reset() {
    if (m_id >= 0) Close(m_id);
    m_id = H5I_INVALID_HID;
  }
  hid_t release() { return std::exchange(m_id, H5I_INVALID_HID); }

 private:
  hid_t m_id = H5I_INVALID_HID;
};

// H5Fclose after a successful flush; a writable file whose flush fails is left open (see above).
herr_t close_file_id(hid_t file);

using File = Handle<close_file_id>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Attribute = Handle<H5Aclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Plist = Handle<H5Pclose>;

// Turns off HDF5's automatic error printing on this thread (the library is thread-safe, so the
// setting is per thread). Every open/create helper calls it.
void silence_errors();

// The innermost description on HDF5's current error stack ("truncated file: eof = ..."), or "".
// Call it right after the failing call: the next HDF5 API call clears the stack.
std::string error_detail();

// "<file>: <object path>" for any open identifier; `child` is appended to the object path.
std::string where(hid_t obj, const std::string& child = "");

// Throws Error(kind, "<file>: <path>[/child]: message[ (HDF5: detail)]").
[[noreturn]] void fail(ErrorKind kind, hid_t obj, const std::string& child, const std::string& message);

// ---- files -----------------------------------------------------------------------------------
// Creates (truncating) `path`. userblock: bytes reserved before the superblock (0, or a power of
// two >= 512; MATLAB v7.3 files use 512). Errors: runtime.
File create_file(const std::string& path, hsize_t userblock = 0);
// Opens an existing file read-only (or read-write). Errors: input, naming the file: missing,
// not an HDF5 file, truncated or otherwise unreadable.
File open_file(const std::string& path, bool writable = false);
// Flushes and closes a file we wrote, checking that nothing inside is still open (an open
// object would keep the file open past a rename). Errors: runtime.
void close_file(File& file);

// ---- groups, links -----------------------------------------------------------------------------
Group create_group(hid_t loc, const std::string& name);
Group open_group(hid_t loc, const std::string& name);      // input error when missing or not a group
Dataset open_dataset(hid_t loc, const std::string& name);  // input error when missing or not a dataset
bool has_link(hid_t loc, const std::string& name);
bool is_group(hid_t loc, const std::string& name);
bool is_dataset(hid_t loc, const std::string& name);
std::vector<std::string> link_names(hid_t group);  // in name order
bool has_attr(hid_t obj, const std::string& name);
std::vector<std::string> attr_names(hid_t obj);  // in name order

// ---- attributes: writers replace an existing attribute of the same name ------------------------
void write_string_attr(hid_t obj, const std::string& name, const std::string& value);
void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void write_bool_attr(hid_t obj, const std::string& name, bool value);
void write_bool_array_attr(hid_t obj, const std::string& name, const std::vector<bool>& values);
void write_int64_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_double_attr(hid_t obj, const std::string& name, double value);
// H5T_STD_I64LE, 1-D dataspace of values.size() (possibly 0).
void write_int64_array_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& values);
// A fixed-length ASCII string of exactly value.size() bytes (NULLTERM), as MATLAB writes MATLAB_class.
void write_fixed_string_attr(hid_t obj, const std::string& name, const std::string& value);

// Readers are lenient where the value is unambiguous (fixed-length strings, integer bools, any
// integer or float width) and raise input errors naming the attribute otherwise. validate_*
// functions in well.hpp are the strict checks.
std::string read_string_attr(hid_t obj, const std::string& name);
std::vector<std::string> read_string_array_attr(hid_t obj, const std::string& name);
bool read_bool_attr(hid_t obj, const std::string& name);
std::vector<bool> read_bool_array_attr(hid_t obj, const std::string& name);
std::int64_t read_int_attr(hid_t obj, const std::string& name);
std::vector<std::int64_t> read_int_array_attr(hid_t obj, const std::string& name);  // scalar or 1-D
double read_double_attr(hid_t obj, const std::string& name);

// ---- types -------------------------------------------------------------------------------------
Datatype vlen_string_type();
Datatype bool_enum_type();  // enum {FALSE = 0, TRUE = 1} over H5T_STD_I8LE
// True for exactly the h5py bool enum: 1 byte, two members FALSE = 0 and TRUE = 1.
bool is_bool_enum(hid_t type);
// "float32", "int64", "uint8", "variable-length string", "fixed-length string (8 bytes)", "bool enum", ...
std::string describe_type(hid_t type);
std::string describe_dims(const std::vector<hsize_t>& dims);  // "(2, 5, 16)"; "()" for a scalar

// ---- datasets ----------------------------------------------------------------------------------
// float32 dataset of `dims` from LayoutRight `data`. compress: chunked (about 1 MiB chunks over the
// trailing axes), shuffle + deflate level 4; otherwise contiguous. dims may be {} (scalar).
void write_float_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                         const float* data, bool compress);
// Compressed datasets are filtered chunk by chunk on every core the process may use and written
// with H5Dwrite_chunk: the bytes HDF5's own (single-threaded) filter pipeline stores, with at most
// batch_bytes of input chunks (at least one chunk) in flight at once. on = false sends them through
// that pipeline instead. A process-wide switch for the tests, which compare the two and take the
// multi-batch path with a small batch_bytes; call it with no other write in flight.
constexpr std::size_t kChunkBatchBytes = std::size_t(64) << 20;
void set_parallel_chunk_filters(bool on, std::size_t batch_bytes = kChunkBatchBytes);
// float64 (H5T_IEEE_F64LE) and int32 (H5T_STD_I32LE) datasets, chunked and compressed as above.
void write_double_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const double* data, bool compress);
void write_int_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const int* data,
                       bool compress);
// Bool dataset (the enum type) of shape (n).
void write_bool_dataset(hid_t loc, const std::string& name, const std::vector<bool>& values);

std::vector<hsize_t> dataset_dims(hid_t dset);  // {} for a scalar dataspace
Datatype dataset_type(hid_t dset);
Datatype attr_type(hid_t obj, const std::string& name);
std::vector<hsize_t> attr_dims(hid_t obj, const std::string& name);  // {} for scalar; input error when absent

// Reads a float32 dataset whose shape must equal `expected` (input errors: missing, not float32,
// "expected shape (…), got (…)"). Rows [row0, row0 + nrows) of axis 0 only, when nrows >= 0.
std::vector<float> read_float_dataset(hid_t loc, const std::string& name,
                                      const std::vector<hsize_t>& expected, long long row0 = 0,
                                      long long nrows = -1);
// As read_float_dataset, for data stored as any float width (read_double_dataset) or any integer
// type that fits int (read_int_dataset), converted by HDF5; the error names what was expected.
std::vector<double> read_double_dataset(hid_t loc, const std::string& name,
                                        const std::vector<hsize_t>& expected, long long row0 = 0,
                                        long long nrows = -1);
std::vector<int> read_int_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& expected,
                                  long long row0 = 0, long long nrows = -1);
// Reads a rank-1 dataset of any float or integer type, converted to double.
std::vector<double> read_real_vector(hid_t loc, const std::string& name);

}  // namespace surro::data::h5
