#pragma once
// Column sums of a row-major (R, C) quantity: out(c) += sum_{r < R} term(r, c) for c < C, in a
// fixed order on every execution space, for parameter gradients (a bias, a norm's scale and shift)
// summed over many rows (mesh nodes or edges).
//
// One team per channel, reading down a column, leaves most of a GPU idle (C is 2 to 256 teams)
// and reads a row-major array one element per 32-byte sector. Here two passes do the work:
//   1. the rows are cut into column_sum_blocks(R) blocks of consecutive rows, boundaries from R
//      alone (reduce::chunk_begin); one team per block, its threads on the columns (neighbouring
//      threads read neighbouring elements of a row), each summing its column over the block's rows
//      in row order into partial(block, c);
//   2. one team per column adds the blocks' partials (column_sums_by_team: a team reduction, one
//      thread in order on the host spaces, a fixed tree for a given team size on a device).
// The grouping depends on R and C only, so the bits do not change with the OpenMP thread count, and
// a GPU reproduces its own bits. `partial` is planned by the caller: column_sum_scratch(R, C)
// scalars, at most kColumnSumMaxBlocks * C whatever R.
#include "core/profile.hpp"
#include "core/reduce.hpp"
#include "core/types.hpp"

#include <cstddef>
#include <string>

namespace surro::op {

// Blocks hold at least kColumnSumMinRows rows (all R when fewer); at most kColumnSumMaxBlocks blocks.
inline constexpr index_t kColumnSumMinRows = 64;
inline constexpr index_t kColumnSumMaxBlocks = 4096;

KOKKOS_INLINE_FUNCTION constexpr index_t column_sum_blocks(index_t rows) {
  if (rows <= 0) return 0;
  const index_t b = (rows + kColumnSumMinRows - 1) / kColumnSumMinRows;
  return b < kColumnSumMaxBlocks ? b : kColumnSumMaxBlocks;
}

// Scalars of `partial` for R rows and C columns.
inline std::size_t column_sum_scratch(index_t rows, int cols) {
  return std::size_t(column_sum_blocks(rows)) * std::size_t(cols > 0 ? cols : 0);
}

// term(r, c) = a(r * ld + c): a column of a row-major array with leading dimension ld.
template <class Real>
struct ColumnOf {
  const Real* a;  // (R, ld)
  index_t ld;
  KOKKOS_INLINE_FUNCTION Real operator()(const index_t r, const int c) const { return a[r * ld + c]; }
};

namespace column_sums_impl {

template <class Exec, class Real, class Term>
struct Blocks {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Term term;
  index_t rows, blocks;
  int cols;
  Real* partial;  // (blocks, C)
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const index_t b = team.league_rank();
    const index_t r0 = reduce::chunk_begin(rows, blocks, b), r1 = reduce::chunk_begin(rows, blocks, b + 1);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, cols), [&](const int c) {
      Real acc = 0;
      for (index_t r = r0; r < r1; ++r) acc += term(r, c);
      partial[b * cols + c] = acc;
    });
  }
};

// One team per column c: out(c) += sum_r term(r, c) as a team reduction over the rows (one thread in
// order on the host spaces, a fixed tree for a given team size on a device).
template <class Exec, class Real, class Term>
struct TeamPerColumn {
  using member_type = typename Kokkos::TeamPolicy<Exec>::member_type;
  Term term;
  Real* out;  // (C) +=
  index_t rows;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int c = team.league_rank();
    Real sum = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, rows), [&](const index_t r, Real& acc) { acc += term(r, c); }, sum);
    Kokkos::single(Kokkos::PerTeam(team), [&]() { out[c] += sum; });
  }
};

}  // namespace column_sums_impl

// out(c) += sum_r term(r, c) in one pass of one team per column (the second pass below, and alone
// where a column's terms are contiguous, as a channel-first activation's, or where no scratch was
// planned). term_bytes as below; the work is declared under `label`.
template <class Exec, class Real, class Term>
void column_sums_by_team(const Exec& exec, const std::string& label, index_t rows, int cols, const Term& term,
                         Real* out /* (C) += */, double term_bytes = sizeof(Real)) {
  if (rows <= 0 || cols <= 0) return;
  profile::add_work(label.c_str(), double(rows) * cols * term_bytes + 2.0 * cols * sizeof(Real));
  Kokkos::parallel_for(label, Kokkos::TeamPolicy<Exec>(exec, cols, Kokkos::AUTO),
                       column_sums_impl::TeamPerColumn<Exec, Real, Term>{term, out, rows});
}

// out(c) += sum_r term(r, c); label names the two kernels (label + "::blocks", "::columns").
// partial null: column_sums_by_team under `label` (one pass; slow on a device for few columns).
// term_bytes: what one term reads (the profiler's work: sizeof(Real) for ColumnOf, more for a
// term that combines several arrays).
template <class Exec, class Real, class Term>
void column_sums(const Exec& exec, const std::string& label, index_t rows, int cols, const Term& term,
                 Real* partial /* (column_sum_scratch(R, C)) or null */, Real* out /* (C) += */,
                 double term_bytes = sizeof(Real)) {
  if (!partial) return column_sums_by_team(exec, label, rows, cols, term, out, term_bytes);
  const index_t blocks = column_sum_blocks(rows);
  if (blocks == 0 || cols <= 0) return;
  if (profile::enabled())  // the terms in, the partials out (the columns pass declares its own work)
    profile::add_work((label + "::blocks").c_str(),
                      double(rows) * cols * term_bytes + double(blocks) * cols * sizeof(Real));
  using Policy = Kokkos::TeamPolicy<Exec>;
  // A device team covers the columns in whole warps (up to 256 threads); a host team is one thread.
  const int team = cols < 256 ? (cols + 31) / 32 * 32 : 256;
  const Policy first =
      is_device_exec_v<Exec> ? Policy(exec, int(blocks), team) : Policy(exec, int(blocks), Kokkos::AUTO);
  Kokkos::parallel_for(label + "::blocks", first,
                       column_sums_impl::Blocks<Exec, Real, Term>{term, rows, blocks, cols, partial});
  column_sums_by_team(exec, label + "::columns", blocks, cols, ColumnOf<Real>{partial, cols}, out);
}

}  // namespace surro::op
