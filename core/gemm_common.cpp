#include "core/error.hpp"
#include "core/gemm.hpp"

namespace surro::gemm {

void validate(const Shape& s, const char* label) {
  SURRO_REQUIRE(s.m >= 0 && s.n >= 0 && s.k >= 0 && s.batch >= 0,
                label << ": m, n, k, batch = " << s.m << ", " << s.n << ", " << s.k << ", " << s.batch
                      << ": expected non-negative sizes");
  const int a_cols = s.op_a == Op::none ? s.k : s.m;
  const int b_cols = s.op_b == Op::none ? s.n : s.k;
  SURRO_REQUIRE(s.lda >= std::max(1, a_cols), label << ": lda = " << s.lda << ": expected >= " << a_cols);
  SURRO_REQUIRE(s.ldb >= std::max(1, b_cols), label << ": ldb = " << s.ldb << ": expected >= " << b_cols);
  SURRO_REQUIRE(s.ldc >= std::max(1, s.n), label << ": ldc = " << s.ldc << ": expected >= " << s.n);
}

}  // namespace surro::gemm
