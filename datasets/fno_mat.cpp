#include "datasets/fno_mat.hpp"

#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/hdf5.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>

namespace surro::data {
namespace {

constexpr hsize_t kUserblock = 512;  // MATLAB v7.3: the header lives in the HDF5 userblock

const char* kind_name(FnoMatKind kind) {
  switch (kind) {
    case FnoMatKind::time_series:
      return "time_series";
    case FnoMatKind::burgers:
      return "burgers";
    case FnoMatKind::darcy:
      return "darcy";
  }
  return "?";
}

// A variable as MatReader returns it: logical shape and LayoutRight values.
struct Variable {
  std::string name;
  std::vector<hsize_t> shape;
  std::vector<float> values;
};

// LayoutRight values of `shape` -> the same array in column-major order, which is LayoutRight
// over the reversed shape: what MATLAB stores and what MatReader's axis reversal undoes.
std::vector<float> to_column_major(const std::vector<float>& in, const std::vector<hsize_t>& shape) {
  const std::size_t k = shape.size();
  std::vector<std::size_t> cstride(k, 1), idx(k, 0);
  for (std::size_t m = 1; m < k; ++m) cstride[m] = cstride[m - 1] * shape[m - 1];
  std::vector<float> out(in.size());
  std::size_t off = 0;
  for (std::size_t p = 0; p < in.size(); ++p) {
    out[off] = in[p];
    for (std::size_t m = k; m-- > 0;) {  // odometer over the LayoutRight index, last axis fastest
      off += cstride[m];
      if (++idx[m] < shape[m]) break;
      off -= cstride[m] * shape[m];
      idx[m] = 0;
    }
  }
  return out;
}

const std::vector<float>& field_data(const DatasetSpec& spec, const Block& block, const FieldSpec& f,
                                     const std::string& ctx) {
  auto it = block.fields.find(f.name);
  SURRO_REQUIRE(it != block.fields.end(), ctx << ": block: field '" << f.name << "' missing");
  const long long expected = block.count * spec.sample_size(f);
  SURRO_REQUIRE(static_cast<long long>(it->second.size()) == expected,
                ctx << ": block: field '" << f.name << "' has " << it->second.size()
                    << " values: expected count * sample_size = " << expected);
  return it->second;
}

const FieldSpec& only_time_varying_field(const DatasetSpec& spec, const std::string& ctx) {
  const FieldSpec* found = nullptr;
  int n = 0;
  for (const auto& f : spec.fields)
    if (f.time_varying) {
      found = &f;
      ++n;
    }
  SURRO_REQUIRE(n == 1, ctx << ": the spec has " << n << " time-varying fields: expected exactly one");
  SURRO_REQUIRE(!spec.times.empty(), ctx << ": times: empty: expected at least one recorded time");
  return *found;
}

const FieldSpec& constant_field(const DatasetSpec& spec, const std::string& name, const std::string& ctx) {
  auto it = std::find_if(spec.fields.begin(), spec.fields.end(),
                         [&](const FieldSpec& f) { return f.name == name; });
  SURRO_REQUIRE(it != spec.fields.end(), ctx << ": field '" << name << "' missing from the spec");
  SURRO_REQUIRE(!it->time_varying,
                ctx << ": field '" << name << "' varies in time: expected a constant field (N, Nx, Ny)");
  return *it;
}

std::vector<Variable> build_variables(const DatasetSpec& spec, const Block& block, FnoMatKind kind,
                                      const std::string& ctx) {
  const std::size_t D = spec.coords.size();
  const hsize_t N = static_cast<hsize_t>(block.count);
  std::vector<Variable> vars;
  if (kind == FnoMatKind::darcy) {
    SURRO_REQUIRE(D == 2, ctx << ": " << D << " spatial dims: expected 2");
    const hsize_t Nx = spec.coords[0].size(), Ny = spec.coords[1].size();
    const std::pair<const char*, const char*> names[] = {{"coeff", "a"}, {"sol", "u"}};  // variable, field
    for (const auto& [var, field] : names) {
      const FieldSpec& f = constant_field(spec, field, ctx);
      vars.push_back({var, {N, Nx, Ny}, field_data(spec, block, f, ctx)});  // (N, Nx, Ny) already
    }
    return vars;
  }
  const FieldSpec& f = only_time_varying_field(spec, ctx);
  const std::vector<float>& u = field_data(spec, block, f, ctx);  // (N, T, Nx[, Ny])
  const hsize_t T = spec.times.size();
  if (kind == FnoMatKind::burgers) {
    SURRO_REQUIRE(D == 1, ctx << ": " << D << " spatial dims: expected 1");
    const hsize_t Nx = spec.coords[0].size();
    Variable a{"a", {N, Nx}, std::vector<float>(N * Nx)}, last{"u", {N, Nx}, std::vector<float>(N * Nx)};
    for (hsize_t n = 0; n < N; ++n)
      for (hsize_t i = 0; i < Nx; ++i) {
        a.values[n * Nx + i] = u[(n * T + 0) * Nx + i];
        last.values[n * Nx + i] = u[(n * T + T - 1) * Nx + i];
      }
    vars.push_back(std::move(a));
    vars.push_back(std::move(last));
    return vars;
  }
  SURRO_REQUIRE(D == 2, ctx << ": " << D << " spatial dims: expected 2");
  const hsize_t Nx = spec.coords[0].size(), Ny = spec.coords[1].size(), P = Nx * Ny;
  // As the FNO generator ns_2d.py: a = the initial frame, u = the frames after it (t > 0).
  SURRO_REQUIRE(T >= 2, ctx << ": " << T << " recorded time(s): expected at least 2 (a initial frame and u after)");
  const hsize_t Tu = T - 1;
  Variable a{"a", {N, Nx, Ny}, std::vector<float>(N * P)};
  Variable frames{"u", {N, Nx, Ny, Tu}, std::vector<float>(N * P * Tu)};  // time last
  Variable t{"t", {1, Tu}, std::vector<float>(spec.times.begin() + 1, spec.times.end())};
  for (hsize_t n = 0; n < N; ++n)
    for (hsize_t tt = 0; tt < T; ++tt)
      for (hsize_t p = 0; p < P; ++p) {
        const float v = u[(n * T + tt) * P + p];
        if (tt == 0) a.values[n * P + p] = v;
        else frames.values[(n * P + p) * Tu + tt - 1] = v;
      }
  vars.push_back(std::move(a));
  vars.push_back(std::move(frames));
  vars.push_back(std::move(t));
  return vars;
}

// The 128-byte MATLAB header: 116 bytes of text padded with spaces, an 8-byte subsystem data
// offset (zero: none), version 0x0200 and the endian indicator "IM" (as a little-endian writer stores them).
std::string matlab_header() {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a %b %d %H:%M:%S %Y", &tm);
  std::string text =
      std::string("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: ") + date + " HDF5 schema 1.00 .";
  text.resize(116, ' ');
  std::string header = text + std::string(8, '\0');
  header += '\x00';
  header += '\x02';
  header += "IM";
  return header;
}

}  // namespace

void export_fno_mat(const std::string& path, const DatasetSpec& spec, const Block& block, FnoMatKind kind) {
  const std::string ctx = std::string("export_fno_mat(") + kind_name(kind) + "): " + path;
  SURRO_REQUIRE(block.count > 0, ctx << ": block.count = " << block.count << ": expected > 0");
  const std::vector<Variable> vars = build_variables(spec, block, kind, ctx);
  io::write_atomic(path, [&](const std::string& tmp) {
    {
      h5::File f = h5::create_file(tmp, kUserblock);
      for (const auto& v : vars) {
        std::vector<hsize_t> dims(v.shape.rbegin(), v.shape.rend());
        const std::vector<float> stored = to_column_major(v.values, v.shape);
        h5::write_float_dataset(f, v.name, dims, stored.data(), false);
        h5::Dataset d = h5::open_dataset(f, v.name);
        h5::write_fixed_string_attr(d, "MATLAB_class", "single");
      }
      h5::close_file(f);
    }
    const std::string header = matlab_header();
    std::fstream out(tmp, std::ios::in | std::ios::out | std::ios::binary);
    out.seekp(0);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.flush();
    if (!out) SURRO_THROW(ErrorKind::runtime, tmp << ": cannot write the MATLAB header into the userblock");
  });
}

}  // namespace surro::data
