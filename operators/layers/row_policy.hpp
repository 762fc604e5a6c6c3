#pragma once
// Launch shape for row-wise kernels: a reduction over the D channels of each of R rows (LayerNorm,
// RMSNorm), then an elementwise pass over the same row.
//
// One team per row leaves most of a GPU block idle when D is 64 to 256 (a team is 128 or more
// threads) and pays a block-wide barrier per reduction. Here a row is one vector of kRowLanes lanes
// (a warp on CUDA: the reductions are warp shuffles, no barrier), kRowsPerTeam rows share a team, and
// each lane holds D / kRowLanes channels. On host spaces a row is one thread (vector length 1): the
// channels are summed in index order, as a serial loop would.
//
// A functor reads its row as row_index(team) and returns when it is >= R (the last team may be
// partly empty); it must not call team barriers. The reduction order over a row's channels is
// fixed by the space alone (lanes, then the shuffle tree), so results do not change with R or with
// the OpenMP thread count.
#include "core/types.hpp"

#include <Kokkos_Core.hpp>

namespace surro::op {

// Lanes per row: 32 on a device space, 1 where the host can read the execution space's memory.
template <class Exec>
inline constexpr int kRowLanes =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename Exec::memory_space>::accessible ? 1 : 32;

// Rows per team: 8 warps (256 threads) on a device; 1 on the host spaces, whose teams are threads.
template <class Exec>
inline constexpr int kRowsPerTeam = kRowLanes<Exec> == 1 ? 1 : 8;

template <class Exec>
Kokkos::TeamPolicy<Exec> row_policy(const Exec& exec, index_t rows) {
  const index_t per = kRowsPerTeam<Exec>;
  return Kokkos::TeamPolicy<Exec>(exec, int((rows + per - 1) / per), int(per), kRowLanes<Exec>);
}

// The row a thread of row_policy works on (>= R: none).
template <class Member>
KOKKOS_INLINE_FUNCTION index_t row_index(const Member& team) {
  return index_t(team.league_rank()) * team.team_size() + team.team_rank();
}

}  // namespace surro::op
