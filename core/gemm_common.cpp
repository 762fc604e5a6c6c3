#include "core/error.hpp"
#include "core/gemm.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace surro::gemm {

void validate(const Shape& s, const char* label) {
  SURRO_REQUIRE(s.m >= 0 && s.n >= 0 && s.k >= 0 && s.batch >= 0 && s.outer >= 0,
                label << ": m, n, k, batch, outer = " << s.m << ", " << s.n << ", " << s.k << ", " << s.batch
                      << ", " << s.outer << ": expected non-negative sizes");
  SURRO_REQUIRE(s.entries() <= index_t(INT_MAX), label << ": outer x batch = " << s.outer << " x " << s.batch
                                                       << ": expected at most " << INT_MAX
                                                       << " products in one call");
  const int a_cols = s.op_a == Op::none ? s.k : s.m;
  const int b_cols = s.op_b == Op::none ? s.n : s.k;
  SURRO_REQUIRE(s.lda >= std::max(1, a_cols), label << ": lda = " << s.lda << ": expected >= " << a_cols);
  SURRO_REQUIRE(s.ldb >= std::max(1, b_cols), label << ": ldb = " << s.ldb << ": expected >= " << b_cols);
  SURRO_REQUIRE(s.ldc >= std::max(1, s.n), label << ": ldc = " << s.ldc << ": expected >= " << s.n);
}

int shared_blas_threads(int blas_threads, int hardware_threads, int local_processes, bool user_set) {
  if (user_set || blas_threads <= 1 || local_processes <= 1) return 0;
  const int share = std::max(1, hardware_threads / local_processes);
  return share < blas_threads ? share : 0;
}

namespace impl {

std::unique_ptr<profile::Region> profile_region(const char* backend, const Shape& s, char type,
                                                std::size_t bytes, bool reads_c, bool tf32) {
  auto op = [](Op o) { return o == Op::none ? 'N' : o == Op::trans ? 'T' : 'C'; };
  char name[160];
  char batch[32];
  if (s.outer == 1)
    std::snprintf(batch, sizeof(batch), "b%d", s.batch);
  else
    std::snprintf(batch, sizeof(batch), "b%dx%d", s.outer, s.batch);
  std::snprintf(name, sizeof(name), "surro::gemm::%s %cgemm%s %c%c %dx%dx%d %s", backend, type,
                tf32 ? "(tf32)" : "", op(s.op_a), op(s.op_b), s.m, s.n, s.k, batch);
  const double mats = double(s.entries()), m = s.m, n = s.n, k = s.k;
  // An operand with stride 0 is one matrix read for every batch entry (per outer entry, unless its
  // outer stride is 0 as well).
  auto reads = [&](index_t stride, index_t outer) {
    return (stride ? double(s.batch) : 1.0) * (outer ? double(s.outer) : 1.0);
  };
  const double a = reads(s.stride_a, s.outer_a) * m * k, b = reads(s.stride_b, s.outer_b) * k * n;
  const double c = mats * m * n * (reads_c ? 2.0 : 1.0);
  const bool complex = type == 'c' || type == 'z';
  const profile::Peak peak = type == 'd' || type == 'z' ? profile::Peak::fp64
                             : tf32                     ? profile::Peak::tf32
                                                        : profile::Peak::fp32;
  return std::make_unique<profile::Region>(name, (a + b + c) * double(bytes),
                                           (complex ? 8.0 : 2.0) * mats * m * n * k, peak);
}

}  // namespace impl

}  // namespace surro::gemm
