#!/usr/bin/env bash
# What a session does on this (CPU) machine before its first device call, in one command: a CUDA
# Kokkos (build_kokkos.sh; once per machine), the `cuda` preset's build (ccache), and a stage of
# the binaries bench/gpu/open_targets.sh needs (stage.sh), small enough to carry beside the tree.
# A fresh machine takes about 15-20 minutes on 2 cores (Kokkos about 2-8, surro about 10); a
# machine that kept its build, a few.
#
# Usage: bench/gpu/prepare.sh
# Environment: KOKKOS_ROOT (default /work/gpu/kokkos-cuda), KOKKOS_MIRROR (the kokkos/kokkos git
# mirror, default /work/.mirror/kokkos+kokkos/repo), STAGE_BENCH (default "bench_ifactformer
# bench_fno bench_ns2d"), STAGE_MAX_MIB (default 50).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
kokkos=${KOKKOS_ROOT:-/work/gpu/kokkos-cuda}
if ! compgen -G "$kokkos/lib*/cmake/Kokkos/KokkosConfig.cmake" >/dev/null; then
  bench/gpu/build_kokkos.sh "${KOKKOS_MIRROR:-/work/.mirror/kokkos+kokkos/repo}" "$kokkos"
fi
if [[ ! -f build/cuda/CMakeCache.txt ]]; then
  Kokkos_ROOT=$kokkos cmake --preset cuda -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache
fi
Kokkos_ROOT=$kokkos cmake --build build/cuda -j"$(nproc)"
# Kernels Kokkos launches through constant memory (functor and policy of 512 bytes or more): a
# DeviceGraph refuses to record them (core/device_graph.cpp), so one in a model or in the NS solver
# would turn its graph off (one warning at run time). When this check was written (session 26),
# only the Darcy and FEM solvers' own kernels were.
const_mem=$(nm -C build/cuda/app/surro | grep ' [tTwW] .*cuda_parallel_launch_constant_memory<' |
  while read -r line; do n=$(grep -o -m1 'surro::[A-Za-z0-9_:]*' <<<"$line" | head -1); echo "${n:-unnamed}"; done |
  sort -u)
echo "prepare: kernels launched through constant memory, by owner:"; sed 's/^/  /' <<<"$const_mem"
if grep -qvE '^surro::solvers::(fem|impl::darcy)::' <<<"$const_mem"; then
  echo "prepare: WARNING: a kernel outside the Darcy and FEM solvers launches through constant memory;" \
    "a DeviceGraph that records it falls back to direct launches"
fi
STAGE_BENCH=${STAGE_BENCH:-bench_ifactformer bench_fno bench_ns2d} STAGE_MAX_MIB=${STAGE_MAX_MIB:-50} \
  bench/gpu/stage.sh build/cuda
# A carry holds 64 MiB with the tree: the tracked training pack (bench/gpu/state, ~6 MB) may not fit
# beside a large stage, so say what to do rather than fail at the device.
stage=$(stat -c %s .device/stage.tgz)
pack=$(du -cb bench/gpu/state/*.tgz 2>/dev/null | tail -1 | cut -f1)
echo "prepare: stage $((stage >> 20)) MiB, packs in bench/gpu/state $((pack >> 20)) MiB"
if ((stage + pack > 56 << 20)); then
  echo "prepare: move bench/gpu/state/*.tgz out of the tree for the call (git checkout -- them after)"
fi
echo "prepare: then run, carrying .device:  CALL_S=540 bench/gpu/open_targets.sh"
