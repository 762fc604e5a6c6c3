#include "datasets/hdf5.hpp"

#include "core/threads.hpp"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace surro::data::h5 {
namespace {

// HDF5 refuses a null buffer even for zero elements; zero-sized writes and reads point here.
char g_empty_buffer[8] = {};

// Before any other HDF5 call of the process (static initialisation): no library shutdown at exit,
// which would close again a file whose failed H5Fclose left a dangling identifier (see hdf5.hpp).
const bool g_no_atexit = H5dont_atexit() >= 0;

// HDF5's file drivers describe a failed system call over several lines ("file write failed: time =
// ...\n, filename = '...', file descriptor = 3, errno = 28, error message = 'No space left on
// device', buf = ..."). Keeps "<what failed>: <OS error>" on one line; other descriptions only lose
// their line breaks.
std::string one_line_detail(std::string desc) {
  const std::string key = "error message = '";
  const std::size_t em = desc.find(key);
  if (em != std::string::npos) {
    const std::size_t begin = em + key.size();
    const std::size_t end = desc.find('\'', begin);
    const std::string os_error =
        desc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    const std::size_t head = desc.find(": time =");
    desc = (head == std::string::npos ? std::string("system call failed") : desc.substr(0, head)) + ": " +
           os_error;
  }
  for (char& c : desc)
    if (c == '\n' || c == '\r') c = ' ';
  return desc;
}

herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* out) {
  // Walked upward, entry 0 is where HDF5 detected the problem: the most specific description.
  if (n == 0 && err && err->desc) *static_cast<std::string*>(out) = one_line_detail(err->desc);
  return 0;
}

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

void reclaim_vlen(hid_t type, hid_t space, void* buf) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, buf);
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
#endif
}

std::string join_path(const std::string& parent, const std::string& child) {
  if (child.empty()) return parent;
  if (parent.empty() || parent == "/") return "/" + child;
  return parent + "/" + child;
}

std::string object_path(hid_t obj) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) return "/";
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(obj, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

std::string file_name(hid_t obj) {
  const ssize_t n = H5Fget_name(obj, nullptr, 0);
  if (n <= 0) return "(unknown HDF5 file)";
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Fget_name(obj, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

Attribute open_attr(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) fail(ErrorKind::input, obj, "", "attribute '" + name + "': missing");
  Attribute a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!a.valid()) fail(ErrorKind::input, obj, "", "attribute '" + name + "': cannot open");
  return a;
}

// Writes an attribute, replacing one of the same name. `space` and `file_type` describe the stored
// attribute, `mem_type` the buffer.
void put_attr(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, hid_t space,
              const void* buf) {
  if (H5Aexists(obj, name.c_str()) > 0 && H5Adelete(obj, name.c_str()) < 0)
    fail(ErrorKind::runtime, obj, "", "attribute '" + name + "': cannot replace it");
  Attribute a(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) fail(ErrorKind::runtime, obj, "", "attribute '" + name + "': cannot create it");
  if (H5Awrite(a, mem_type, buf ? buf : g_empty_buffer) < 0)
    fail(ErrorKind::runtime, obj, "", "attribute '" + name + "': cannot write it");
}

Dataspace scalar_space() {
  return Dataspace(H5Screate(H5S_SCALAR));
}

Dataspace simple_space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return scalar_space();
  return Dataspace(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::vector<hsize_t> space_dims(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank > 0 ? static_cast<std::size_t>(rank) : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

hsize_t product(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  return n;
}

// Reads a whole attribute as strings (scalar or 1-D), whatever the string flavour.
std::vector<std::string> read_strings(hid_t obj, const std::string& name, bool want_array) {
  Attribute a = open_attr(obj, name);
  Datatype ft(H5Aget_type(a));
  if (H5Tget_class(ft) != H5T_STRING)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected " + (want_array ? "a list of strings" : "a string") + ", got " +
             describe_type(ft));
  Dataspace space(H5Aget_space(a));
  const std::vector<hsize_t> dims = space_dims(space);
  if (!want_array && product(dims) != 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected one string, got shape " + describe_dims(dims));
  if (want_array && dims.size() != 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected a 1-D list of strings, got shape " + describe_dims(dims));
  const std::size_t n = static_cast<std::size_t>(product(dims));
  std::vector<std::string> out;
  out.reserve(n);
  Datatype mem(H5Tcopy(ft));  // identical memory type: no character-set conversion
  if (H5Tis_variable_str(ft) > 0) {
    std::vector<char*> ptrs(std::max<std::size_t>(n, 1), nullptr);
    if (H5Aread(a, mem, ptrs.data()) < 0)
      fail(ErrorKind::input, obj, "", "attribute '" + name + "': cannot read it");
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(ptrs[i] ? ptrs[i] : "");
    if (n > 0) reclaim_vlen(mem, space, ptrs.data());
  } else {
    const std::size_t size = H5Tget_size(ft);
    std::vector<char> buf(std::max<std::size_t>(n * size, 1), '\0');
    if (H5Aread(a, mem, buf.data()) < 0)
      fail(ErrorKind::input, obj, "", "attribute '" + name + "': cannot read it");
    const bool space_pad = H5Tget_strpad(ft) == H5T_STR_SPACEPAD;
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * size, size);
      const std::size_t end = s.find('\0');
      if (end != std::string::npos) s.resize(end);
      if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
      out.push_back(std::move(s));
    }
  }
  return out;
}

// Reads a scalar-or-1-D numeric attribute converted to `mem_type`; `what` names the expectation.
template <class T>
std::vector<T> read_numbers(hid_t obj, const std::string& name, hid_t mem_type, bool allow_float,
                            const char* what) {
  Attribute a = open_attr(obj, name);
  Datatype ft(H5Aget_type(a));
  const H5T_class_t cls = H5Tget_class(ft);
  if (!(cls == H5T_INTEGER || (allow_float && cls == H5T_FLOAT)))
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected " + what + ", got " + describe_type(ft));
  Dataspace space(H5Aget_space(a));
  const std::vector<hsize_t> dims = space_dims(space);
  if (dims.size() > 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected a scalar or a 1-D list, got shape " + describe_dims(dims));
  std::vector<T> out(static_cast<std::size_t>(product(dims)));
  if (H5Aread(a, mem_type, out.empty() ? static_cast<void*>(g_empty_buffer) : out.data()) < 0)
    fail(ErrorKind::input, obj, "", "attribute '" + name + "': cannot read it as " + what);
  return out;
}

std::vector<bool> read_bools(hid_t obj, const std::string& name, bool want_array) {
  Datatype ft = attr_type(obj, name);
  const H5T_class_t cls = H5Tget_class(ft);
  std::vector<long long> raw;
  if (cls == H5T_ENUM && H5Tget_size(ft) == 1) {
    // Enum values cannot be converted to integers by HDF5; read the raw byte with the file's own
    // type. FALSE = 0 and TRUE = 1 in the h5py convention, so the byte is the truth value.
    Attribute a = open_attr(obj, name);
    Dataspace space(H5Aget_space(a));
    const std::vector<hsize_t> dims = space_dims(space);
    if (dims.size() > 1)
      fail(ErrorKind::input, obj, "",
           "attribute '" + name + "': expected a bool or a 1-D list of bools, got shape " +
               describe_dims(dims));
    std::vector<signed char> bytes(std::max<hsize_t>(product(dims), 1));
    Datatype mem(H5Tcopy(ft));
    if (H5Aread(a, mem, bytes.data()) < 0)
      fail(ErrorKind::input, obj, "", "attribute '" + name + "': cannot read it");
    bytes.resize(static_cast<std::size_t>(product(dims)));
    for (signed char b : bytes) raw.push_back(b);
  } else if (cls == H5T_INTEGER) {
    raw = read_numbers<long long>(obj, name, H5T_NATIVE_LLONG, false, "a bool");
  } else {
    fail(ErrorKind::input, obj, "", "attribute '" + name + "': expected a bool, got " + describe_type(ft));
  }
  if (!want_array && raw.size() != 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected one bool, got " + std::to_string(raw.size()) + " values");
  std::vector<bool> out;
  for (long long v : raw) out.push_back(v != 0);
  return out;
}

}  // namespace

void silence_errors() {
  (void)g_no_atexit;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

herr_t close_file_id(hid_t file) {
  unsigned intent = 0;
  if (H5Fget_intent(file, &intent) >= 0 && (intent & H5F_ACC_RDWR) && H5Fflush(file, H5F_SCOPE_LOCAL) < 0)
    return -1;  // left open on purpose: H5Fclose would fail the same way and leave a dangling id
  return H5Fclose(file);
}

std::string error_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &detail);
  return detail;
}

std::string where(hid_t obj, const std::string& child) {
  return file_name(obj) + ": " + join_path(object_path(obj), child);
}

void fail(ErrorKind kind, hid_t obj, const std::string& child, const std::string& message) {
  const std::string detail = error_detail();  // before any other HDF5 call clears the stack
  std::string msg = where(obj, child) + ": " + message;
  if (!detail.empty()) msg += " (HDF5: " + detail + ")";
  throw Error(kind, msg, __FILE__, __LINE__);
}

// ---- files -----------------------------------------------------------------------------------

File create_file(const std::string& path, hsize_t userblock) {
  silence_errors();
  Plist fcpl(H5Pcreate(H5P_FILE_CREATE));
  if (userblock > 0 && H5Pset_userblock(fcpl, userblock) < 0)
    SURRO_THROW(ErrorKind::runtime, path << ": userblock of " << userblock
                                         << " bytes: expected a power of two >= 512 (HDF5: " << error_detail()
                                         << ")");
  File f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT));
  if (!f.valid())
    SURRO_THROW(ErrorKind::runtime, path << ": cannot create the HDF5 file (HDF5: " << error_detail() << ")");
  return f;
}

File open_file(const std::string& path, bool writable) {
  silence_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) SURRO_THROW(ErrorKind::input, path << ": no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    SURRO_THROW(ErrorKind::input, path << ": not a regular file");
#if H5_VERSION_GE(1, 12, 0)
  const htri_t is_hdf5 = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
#endif
  if (is_hdf5 <= 0)
    SURRO_THROW(ErrorKind::input, path << ": not an HDF5 file (no HDF5 signature; empty, or truncated before "
                                          "its superblock?)");
  File f(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid())
    SURRO_THROW(ErrorKind::input,
                path << ": cannot open the HDF5 file: truncated or damaged (HDF5: " << error_detail() << ")");
  return f;
}

void close_file(File& file) {
  if (!file.valid()) return;
  const ssize_t open = H5Fget_obj_count(file, H5F_OBJ_ALL | H5F_OBJ_LOCAL);
  const std::string name = file_name(file);
  SURRO_REQUIRE(open == 1, name << ": " << (open - 1)
                                << " HDF5 objects are still open at close: expected none (a surro bug)");
  // Flush first: on failure the file stays open (File's destructor then gives it up, see hdf5.hpp).
  if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0)
    SURRO_THROW(ErrorKind::runtime, name << ": cannot write the HDF5 file (HDF5: " << error_detail() << ")");
  if (H5Fclose(file.release()) < 0)
    SURRO_THROW(ErrorKind::runtime,
                name << ": cannot flush and close the HDF5 file (HDF5: " << error_detail() << ")");
}

// ---- groups, links -----------------------------------------------------------------------------

Group create_group(hid_t loc, const std::string& name) {
  Group g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g.valid()) fail(ErrorKind::runtime, loc, name, "cannot create the group");
  return g;
}

bool has_link(hid_t loc, const std::string& name) {
  return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0;
}

namespace {
H5I_type_t object_kind(hid_t loc, const std::string& name) {
  if (!has_link(loc, name)) return H5I_BADID;
  const hid_t o = H5Oopen(loc, name.c_str(), H5P_DEFAULT);
  if (o < 0) return H5I_BADID;
  const H5I_type_t t = H5Iget_type(o);
  H5Oclose(o);
  return t;
}
}  // namespace

bool is_group(hid_t loc, const std::string& name) {
  return object_kind(loc, name) == H5I_GROUP;
}
bool is_dataset(hid_t loc, const std::string& name) {
  return object_kind(loc, name) == H5I_DATASET;
}

Group open_group(hid_t loc, const std::string& name) {
  if (!has_link(loc, name)) fail(ErrorKind::input, loc, name, "missing group");
  if (!is_group(loc, name))
    fail(ErrorKind::input, loc, name, "expected a group, found another kind of object");
  Group g(H5Gopen2(loc, name.c_str(), H5P_DEFAULT));
  if (!g.valid()) fail(ErrorKind::input, loc, name, "cannot open the group");
  return g;
}

Dataset open_dataset(hid_t loc, const std::string& name) {
  if (!has_link(loc, name)) fail(ErrorKind::input, loc, name, "missing dataset");
  if (!is_dataset(loc, name))
    fail(ErrorKind::input, loc, name, "expected a dataset, found another kind of object");
  Dataset d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
  if (!d.valid()) fail(ErrorKind::input, loc, name, "cannot open the dataset");
  return d;
}

std::vector<std::string> link_names(hid_t group) {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) fail(ErrorKind::input, group, "", "cannot list the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail(ErrorKind::input, group, "", "cannot list the group");
    std::string s(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<std::size_t>(n));
    names.push_back(std::move(s));
  }
  return names;
}

bool has_attr(hid_t obj, const std::string& name) {
  return H5Aexists(obj, name.c_str()) > 0;
}

std::vector<std::string> attr_names(hid_t obj) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names) < 0)
    fail(ErrorKind::input, obj, "", "cannot list the attributes");
  return names;
}

// ---- types -------------------------------------------------------------------------------------

Datatype vlen_string_type() {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

Datatype bool_enum_type() {
  Datatype t(H5Tenum_create(H5T_STD_I8LE));
  signed char v = 0;
  H5Tenum_insert(t, "FALSE", &v);
  v = 1;
  H5Tenum_insert(t, "TRUE", &v);
  return t;
}

bool is_bool_enum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  bool has_false = false, has_true = false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    signed char value = -1;
    H5Tget_member_value(type, i, &value);
    const std::string n = name ? name : "";
    H5free_memory(name);
    has_false = has_false || (n == "FALSE" && value == 0);
    has_true = has_true || (n == "TRUE" && value == 1);
  }
  return has_false && has_true;
}

std::string describe_type(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(size * 8);
    case H5T_FLOAT:
      return "float" + std::to_string(size * 8);
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) return "variable-length string";
      return "fixed-length string (" + std::to_string(size) + " bytes)";
    case H5T_ENUM:
      return is_bool_enum(type) ? "bool enum" : "enum (" + std::to_string(size) + " bytes)";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array type";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_REFERENCE:
      return "reference";
    case H5T_TIME:
      return "time";
    default:
      return "unknown type";
  }
}

std::string describe_dims(const std::vector<hsize_t>& dims) {
  std::ostringstream os;
  os << '(';
  for (std::size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << ')';
  return os.str();
}

// ---- attributes --------------------------------------------------------------------------------

void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  Datatype t = vlen_string_type();
  Dataspace s = scalar_space();
  const char* p = value.c_str();
  put_attr(obj, name, t, t, s, &p);
}

void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  Datatype t = vlen_string_type();
  Dataspace s = simple_space({values.size()});
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  put_attr(obj, name, t, t, s, ptrs.empty() ? nullptr : ptrs.data());
}

void write_bool_attr(hid_t obj, const std::string& name, bool value) {
  Datatype t = bool_enum_type();
  Dataspace s = scalar_space();
  const signed char v = value ? 1 : 0;
  put_attr(obj, name, t, t, s, &v);
}

void write_bool_array_attr(hid_t obj, const std::string& name, const std::vector<bool>& values) {
  Datatype t = bool_enum_type();
  Dataspace s = simple_space({values.size()});
  std::vector<signed char> v(values.begin(), values.end());
  put_attr(obj, name, t, t, s, v.empty() ? nullptr : v.data());
}

void write_int64_attr(hid_t obj, const std::string& name, std::int64_t value) {
  Dataspace s = scalar_space();
  put_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s, &value);
}

void write_double_attr(hid_t obj, const std::string& name, double value) {
  Dataspace s = scalar_space();
  put_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, &value);
}

void write_int64_array_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& values) {
  Dataspace s = simple_space({values.size()});
  put_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s, values.empty() ? nullptr : values.data());
}

void write_fixed_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, std::max<std::size_t>(value.size(), 1));
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  H5Tset_cset(t, H5T_CSET_ASCII);
  Dataspace s = scalar_space();
  std::string buf = value;
  buf.resize(std::max<std::size_t>(value.size(), 1), '\0');
  put_attr(obj, name, t, t, s, buf.data());
}

std::string read_string_attr(hid_t obj, const std::string& name) {
  return read_strings(obj, name, false).front();
}

std::vector<std::string> read_string_array_attr(hid_t obj, const std::string& name) {
  return read_strings(obj, name, true);
}

bool read_bool_attr(hid_t obj, const std::string& name) {
  return read_bools(obj, name, false).front();
}

std::vector<bool> read_bool_array_attr(hid_t obj, const std::string& name) {
  return read_bools(obj, name, true);
}

std::int64_t read_int_attr(hid_t obj, const std::string& name) {
  const auto v = read_numbers<long long>(obj, name, H5T_NATIVE_LLONG, false, "an integer");
  if (v.size() != 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected one integer, got " + std::to_string(v.size()) + " values");
  return v[0];
}

std::vector<std::int64_t> read_int_array_attr(hid_t obj, const std::string& name) {
  const auto v = read_numbers<long long>(obj, name, H5T_NATIVE_LLONG, false, "integers");
  return std::vector<std::int64_t>(v.begin(), v.end());
}

double read_double_attr(hid_t obj, const std::string& name) {
  const auto v = read_numbers<double>(obj, name, H5T_NATIVE_DOUBLE, true, "a number");
  if (v.size() != 1)
    fail(ErrorKind::input, obj, "",
         "attribute '" + name + "': expected one number, got " + std::to_string(v.size()) + " values");
  return v[0];
}

Datatype attr_type(hid_t obj, const std::string& name) {
  Attribute a = open_attr(obj, name);
  return Datatype(H5Aget_type(a));
}

std::vector<hsize_t> attr_dims(hid_t obj, const std::string& name) {
  Attribute a = open_attr(obj, name);
  Dataspace s(H5Aget_space(a));
  return space_dims(s);
}

// ---- datasets ----------------------------------------------------------------------------------

namespace {

// The chunks of a chunked, shuffled and deflated (level kDeflateLevel) dataset, filtered by worker
// threads and written with H5Dwrite_chunk in chunk order. Why: HDF5 runs its filters on one thread,
// and deflate at about 40 MB/s made writing a 3.3 MB rollout trajectory take 80-95 ms (more than
// its 20 VTK files) and bounds `surro generate`'s output rate. The bytes are those of HDF5's own
// pipeline: the shuffle filter's byte planes, then zlib's compress2 at the same level over the
// whole chunk (what H5Z_filter_deflate does); the test compares the stored chunks with the
// library's. Needs the element's bytes in memory as they are stored (checked by the caller).
constexpr int kDeflateLevel = 4;
std::atomic<bool> parallel_filters{true};                       // set_parallel_chunk_filters
std::atomic<std::size_t> filter_batch_bytes{kChunkBatchBytes};  // set_parallel_chunk_filters

class ChunkWriter {
 public:
  ChunkWriter(hid_t dset, const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk,
              std::size_t elem, const unsigned char* data)
      : m_dset(dset), m_dims(dims), m_chunk(chunk), m_elem(elem), m_data(data), m_rank(dims.size()) {
    m_grid.resize(m_rank);
    m_count = 1;
    m_chunk_elems = 1;
    for (std::size_t k = 0; k < m_rank; ++k) {
      m_grid[k] = (dims[k] + chunk[k] - 1) / chunk[k];
      m_count *= m_grid[k];
      m_chunk_elems *= chunk[k];
    }
  }

  // False when a chunk could not be compressed or written (the caller names the dataset).
  // batch_bytes: the input bytes of the chunks in flight at once (at least one chunk), so memory
  // stays bounded for large datasets; the test makes it small to take the multi-batch path.
  bool write(std::size_t batch_bytes) {
    const std::size_t chunk_bytes = m_chunk_elems * m_elem;
    const hsize_t batch = std::max<hsize_t>(1, batch_bytes / chunk_bytes);
    std::vector<std::vector<unsigned char>> out(static_cast<std::size_t>(std::min(batch, m_count)));
    // Scratch per worker, kept across batches: the gathered chunk and its byte planes.
    const unsigned workers = host_workers(out.size());
    std::vector<std::vector<unsigned char>> raw(workers), shuffled(workers);
    for (hsize_t first = 0; first < m_count; first += batch) {
      const hsize_t n = std::min(batch, m_count - first);
      try {  // a chunk zlib refuses, or memory running out, is a failed write
        host_parallel_for(n, 0, [&](std::size_t i, unsigned w) {
          raw[w].resize(chunk_bytes);
          shuffled[w].resize(chunk_bytes);
          if (!filter(first + i, raw[w], shuffled[w], out[i])) throw std::runtime_error("compress2");
        });
      } catch (const std::exception&) {
        return false;
      }
      std::vector<hsize_t> offset(m_rank);
      for (hsize_t i = 0; i < n; ++i) {
        chunk_offset(first + i, offset);
        if (H5Dwrite_chunk(m_dset, H5P_DEFAULT, 0, offset.data(), out[i].size(), out[i].data()) < 0)
          return false;
      }
    }
    return true;
  }

 private:
  void chunk_offset(hsize_t c, std::vector<hsize_t>& offset) const {
    for (std::size_t k = m_rank; k-- > 0;) {
      offset[k] = (c % m_grid[k]) * m_chunk[k];
      c /= m_grid[k];
    }
  }

  // Chunk c gathered (LayoutRight over the chunk's shape, zeros beyond the dataset's edge),
  // shuffled into byte planes and deflated into z.
  bool filter(hsize_t c, std::vector<unsigned char>& raw, std::vector<unsigned char>& shuffled,
              std::vector<unsigned char>& z) const {
    std::vector<hsize_t> offset(m_rank), extent(m_rank), idx(m_rank, 0);
    chunk_offset(c, offset);
    bool partial = false;
    for (std::size_t k = 0; k < m_rank; ++k) {
      extent[k] = std::min(m_chunk[k], m_dims[k] - offset[k]);
      partial = partial || extent[k] < m_chunk[k];
    }
    if (partial) std::fill(raw.begin(), raw.end(), 0);
    // Rows along the last axis: extent[r-1] elements each, over the chunk's leading indices.
    const std::size_t last = m_rank - 1, row = extent[last] * m_elem;
    while (true) {
      std::size_t src = 0, dst = 0;
      for (std::size_t k = 0; k < m_rank; ++k) {
        const hsize_t i = k == last ? 0 : idx[k];
        src = src * m_dims[k] + offset[k] + i;
        dst = dst * m_chunk[k] + i;
      }
      std::memcpy(raw.data() + dst * m_elem, m_data + src * m_elem, row);
      std::size_t k = last;
      while (k-- > 0 && ++idx[k] == extent[k]) idx[k] = 0;
      if (k == std::size_t(-1)) break;
    }
    // The shuffle filter: byte b of element i to b * elements + i.
    const std::size_t elems = m_chunk_elems;
    for (std::size_t i = 0; i < elems; ++i)
      for (std::size_t b = 0; b < m_elem; ++b) shuffled[b * elems + i] = raw[i * m_elem + b];
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    z.resize(size);
    if (compress2(z.data(), &size, shuffled.data(), static_cast<uLong>(shuffled.size()), kDeflateLevel) !=
        Z_OK)
      return false;
    z.resize(size);
    return true;
  }

  hid_t m_dset;
  std::vector<hsize_t> m_dims, m_chunk, m_grid;
  std::size_t m_elem;
  const unsigned char* m_data;
  std::size_t m_rank;
  hsize_t m_count = 0, m_chunk_elems = 0;
};

// Whether elements of mem_type are stored as they are in memory (same size, order and class).
bool same_bytes(hid_t mem_type, hid_t file_type) {
  return H5Tget_size(mem_type) == H5Tget_size(file_type) &&
         H5Tget_order(mem_type) == H5Tget_order(file_type) &&
         H5Tget_class(mem_type) == H5Tget_class(file_type);
}

// One writer for every numeric dataset: `file_type` as stored, `mem_type` the buffer's elements.
void write_numeric_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                           hid_t file_type, hid_t mem_type, const void* data, bool compress) {
  Dataspace space = simple_space(dims);
  Plist dcpl(H5Pcreate(H5P_DATASET_CREATE));
  std::vector<hsize_t> chunks;  // set where compressed
  const bool chunkable = !dims.empty() && product(dims) > 0;
  if (compress && chunkable) {
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 || H5Zfilter_avail(H5Z_FILTER_SHUFFLE) <= 0)
      fail(ErrorKind::runtime, loc, name, "this HDF5 library lacks the deflate or shuffle filter");
    // Chunks of about 1 MiB (HDF5's default chunk cache) spanning whole trailing axes first, so
    // reading one frame or one trajectory touches few chunks.
    const hsize_t target = (hsize_t(1) << 20) / H5Tget_size(file_type);
    std::vector<hsize_t> chunk(dims.size(), 1);
    hsize_t inner = 1;
    for (std::size_t k = dims.size(); k-- > 0;) {
      if (inner * dims[k] <= target) {
        chunk[k] = dims[k];
        inner *= dims[k];
      } else {
        chunk[k] = std::max<hsize_t>(1, target / inner);
        break;
      }
    }
    if (H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()) < 0 || H5Pset_shuffle(dcpl) < 0 ||
        H5Pset_deflate(dcpl, kDeflateLevel) < 0)
      fail(ErrorKind::runtime, loc, name, "cannot set chunking and compression " + describe_dims(chunk));
    chunks = chunk;
  }
  Dataset d(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (!d.valid())
    fail(ErrorKind::runtime, loc, name,
         "cannot create the " + describe_type(file_type) + " dataset " + describe_dims(dims));
  if (!chunks.empty() && data && parallel_filters && same_bytes(mem_type, file_type)) {
    ChunkWriter w(d, dims, chunks, H5Tget_size(file_type), static_cast<const unsigned char*>(data));
    if (!w.write(filter_batch_bytes))
      fail(ErrorKind::runtime, loc, name, "cannot write the dataset's compressed chunks");
  } else {
    const void* buf = product(dims) > 0 && data ? data : static_cast<const void*>(g_empty_buffer);
    if (H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
      fail(ErrorKind::runtime, loc, name, "cannot write the dataset");
  }
  // Chunks wait in the chunk cache; writing them now reports a full disk here, not in H5Dclose
  // (whose failure the destructor cannot report).
  if (H5Dflush(d) < 0) fail(ErrorKind::runtime, loc, name, "cannot write the dataset");
}

}  // namespace

void set_parallel_chunk_filters(bool on, std::size_t batch_bytes) {
  parallel_filters = on;
  filter_batch_bytes = batch_bytes;
}

void write_float_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                         const float* data, bool compress) {
  write_numeric_dataset(loc, name, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, compress);
}

void write_double_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const double* data, bool compress) {
  write_numeric_dataset(loc, name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, compress);
}

void write_int_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const int* data,
                       bool compress) {
  static_assert(sizeof(int) == 4, "int32 datasets are written from int");
  write_numeric_dataset(loc, name, dims, H5T_STD_I32LE, H5T_NATIVE_INT, data, compress);
}

void write_bool_dataset(hid_t loc, const std::string& name, const std::vector<bool>& values) {
  Datatype t = bool_enum_type();
  Dataspace space = simple_space({values.size()});
  Dataset d(H5Dcreate2(loc, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!d.valid()) fail(ErrorKind::runtime, loc, name, "cannot create the bool dataset");
  std::vector<signed char> v(values.begin(), values.end());
  if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
               v.empty() ? static_cast<void*>(g_empty_buffer) : v.data()) < 0)
    fail(ErrorKind::runtime, loc, name, "cannot write the dataset");
}

std::vector<hsize_t> dataset_dims(hid_t dset) {
  Dataspace s(H5Dget_space(dset));
  return space_dims(s);
}

Datatype dataset_type(hid_t dset) {
  return Datatype(H5Dget_type(dset));
}

namespace {

// Reads rows [row0, row0 + nrows) of axis 0 (all when nrows < 0) of a dataset whose shape must be
// `expected` and whose stored type passes `accept` (else "expected <what> data, got <type>").
template <class T>
std::vector<T> read_numeric_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& expected,
                                    long long row0, long long nrows, hid_t mem_type, bool (*accept)(hid_t),
                                    const char* what) {
  Dataset d = open_dataset(loc, name);
  Datatype t = dataset_type(d);
  if (!accept(t))
    fail(ErrorKind::input, d, "", std::string("expected ") + what + " data, got " + describe_type(t));
  const std::vector<hsize_t> dims = dataset_dims(d);
  if (dims != expected)
    fail(ErrorKind::input, d, "",
         "expected shape " + describe_dims(expected) + ", got " + describe_dims(dims));
  Dataspace file_space(H5Dget_space(d));
  std::vector<hsize_t> mem_dims = dims;
  if (nrows >= 0) {
    SURRO_REQUIRE(!dims.empty() && row0 >= 0 && static_cast<hsize_t>(row0 + nrows) <= dims[0],
                  where(d) << ": rows [" << row0 << ", " << row0 + nrows
                           << "): expected within axis 0 of shape " << describe_dims(dims));
    std::vector<hsize_t> start(dims.size(), 0);
    start[0] = static_cast<hsize_t>(row0);
    mem_dims[0] = static_cast<hsize_t>(nrows);
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, mem_dims.data(), nullptr);
  }
  std::vector<T> out(static_cast<std::size_t>(product(mem_dims)));
  if (out.empty()) return out;
  Dataspace mem_space = simple_space(mem_dims);
  if (H5Dread(d, mem_type, mem_space, file_space, H5P_DEFAULT, out.data()) < 0)
    fail(ErrorKind::input, d, "", "cannot read the data (truncated or damaged file?)");
  return out;
}

bool is_float32(hid_t t) {
  return H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 4;
}
bool is_float(hid_t t) {
  return H5Tget_class(t) == H5T_FLOAT;
}
bool is_int32_range(hid_t t) {
  // Integers HDF5 converts to int without overflow: up to 4 bytes signed, 2 bytes unsigned.
  if (H5Tget_class(t) != H5T_INTEGER) return false;
  return H5Tget_sign(t) == H5T_SGN_NONE ? H5Tget_size(t) <= 2 : H5Tget_size(t) <= 4;
}

}  // namespace

std::vector<float> read_float_dataset(hid_t loc, const std::string& name,
                                      const std::vector<hsize_t>& expected, long long row0, long long nrows) {
  return read_numeric_dataset<float>(loc, name, expected, row0, nrows, H5T_NATIVE_FLOAT, is_float32,
                                     "float32");
}

std::vector<double> read_double_dataset(hid_t loc, const std::string& name,
                                        const std::vector<hsize_t>& expected, long long row0,
                                        long long nrows) {
  return read_numeric_dataset<double>(loc, name, expected, row0, nrows, H5T_NATIVE_DOUBLE, is_float,
                                      "floating-point");
}

std::vector<int> read_int_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& expected,
                                  long long row0, long long nrows) {
  return read_numeric_dataset<int>(loc, name, expected, row0, nrows, H5T_NATIVE_INT, is_int32_range,
                                   "integer (at most 32-bit)");
}

std::vector<double> read_real_vector(hid_t loc, const std::string& name) {
  Dataset d = open_dataset(loc, name);
  Datatype t = dataset_type(d);
  const H5T_class_t cls = H5Tget_class(t);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    fail(ErrorKind::input, d, "", "expected real numbers, got " + describe_type(t));
  const std::vector<hsize_t> dims = dataset_dims(d);
  if (dims.size() != 1)
    fail(ErrorKind::input, d, "", "expected a 1-D dataset, got shape " + describe_dims(dims));
  std::vector<double> out(static_cast<std::size_t>(dims[0]));
  if (out.empty()) return out;
  if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail(ErrorKind::input, d, "", "cannot read the data (truncated or damaged file?)");
  return out;
}

}  // namespace surro::data::h5
