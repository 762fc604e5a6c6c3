#!/usr/bin/env bash
# Builds and installs a CUDA-enabled Kokkos for the GPU build (README "GPU build (CUDA)") from a git
# mirror of kokkos/kokkos, outside this repository: checks out the release into a work tree, applies
# the CUDA 13 runtime-API fixes the README lists (each only where its old call appears exactly
# once; otherwise it says so and leaves the file), configures with the README's flags, builds and
# installs.
# Nothing of Kokkos is committed here.
#
# Usage: bench/gpu/build_kokkos.sh [GIT_DIR [PREFIX [TAG]]]
#   GIT_DIR  a kokkos/kokkos mirror (default /work/.mirror/kokkos+kokkos/repo, the session tool's
#            `fetch github:kokkos/kokkos`, or $KOKKOS_MIRROR)
#   PREFIX   install prefix (default $HOME/kokkos-cuda); then
#            Kokkos_ROOT=PREFIX cmake --preset cuda && cmake --build build/cuda
#   TAG      release (default 4.6.01, the one the README's figures use)
# Environment: WORK (default PREFIX-src: the work tree and the build folder), JOBS (default 2),
# CUDA_ARCH (default HOPPER90: Kokkos_ARCH_<CUDA_ARCH>). About 8 minutes on 2 cores.
set -euo pipefail
git_dir=${1:-${KOKKOS_MIRROR:-/work/.mirror/kokkos+kokkos/repo}}
prefix=${2:-$HOME/kokkos-cuda}
tag=${3:-4.6.01}
work=${WORK:-$prefix-src}
nvcc=${CUDACXX:-/usr/local/cuda/bin/nvcc}
[[ -x $nvcc ]] || { echo "build_kokkos.sh: no nvcc at $nvcc (set CUDACXX)" >&2; exit 2; }
if ! git --git-dir="$git_dir" rev-parse -q --verify "$tag^{commit}" >/dev/null; then
  echo "build_kokkos.sh: $git_dir has no $tag (expected a kokkos/kokkos mirror; pass its git dir)" >&2
  exit 2
fi
rm -rf "$work/kokkos" && mkdir -p "$work"
git clone -q "$git_dir" "$work/kokkos"
git -C "$work/kokkos" checkout -q "$tag"

# The CUDA 13 fixes. Each replaces one old call (asserted present exactly once, else skipped with a
# note) by a version switch on CUDART_VERSION, so the tree still builds with CUDA 12.
python3 - "$work/kokkos/core/src/Cuda" <<'EOF'
import sys
d = sys.argv[1]
def fix(path, old, new, what):
    p = d + "/" + path
    s = open(p).read()
    if s.count(old) != 1:
        print("build_kokkos.sh: %s: the old form of %s is not there once; left as is" % (path, what))
        return
    open(p, "w").write(s.replace(old, new))
    print("build_kokkos.sh: %s: %s" % (path, what))
inst = "Kokkos_Cuda_Instance.hpp"
fix(inst, "    return cudaGraphAddDependencies(graph, from, to, numDependencies);\n",
    "#if CUDART_VERSION >= 13000\n"
    "    return cudaGraphAddDependencies(graph, from, to, nullptr, numDependencies);\n"
    "#else\n"
    "    return cudaGraphAddDependencies(graph, from, to, numDependencies);\n"
    "#endif\n", "cudaGraphAddDependencies takes an edge-data pointer")
fix(inst, "    return cudaMemAdvise(devPtr, count, advice, device);\n",
    "#if CUDART_VERSION >= 13000\n"
    "    cudaMemLocation loc;\n"
    "    loc.type = cudaMemLocationTypeDevice;\n"
    "    loc.id = device;\n"
    "    return cudaMemAdvise(devPtr, count, advice, loc);\n"
    "#else\n"
    "    return cudaMemAdvise(devPtr, count, advice, device);\n"
    "#endif\n", "cudaMemAdvise takes a cudaMemLocation")
fix(inst, "    return cudaMemPrefetchAsync(devPtr, count, dstDevice,\n"
          "                                get_input_stream(stream));\n",
    "#if CUDART_VERSION >= 13000\n"
    "    cudaMemLocation loc;\n"
    "    loc.type = cudaMemLocationTypeDevice;\n"
    "    loc.id = dstDevice;\n"
    "    return cudaMemPrefetchAsync(devPtr, count, loc, 0, get_input_stream(stream));\n"
    "#else\n"
    "    return cudaMemPrefetchAsync(devPtr, count, dstDevice,\n"
    "                                get_input_stream(stream));\n"
    "#endif\n", "cudaMemPrefetchAsync takes a cudaMemLocation and flags")
fix("Kokkos_CudaSpace.cpp", "KOKKOS_IMPL_CUDA_SAFE_CALL(cudaMemAdvise_v2(",
    "KOKKOS_IMPL_CUDA_SAFE_CALL(cudaMemAdvise(", "cudaMemAdvise_v2 is cudaMemAdvise in CUDA 13")
EOF

cmake -S "$work/kokkos" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_CXX_STANDARD=17 -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_CUDA=ON \
  -DKokkos_ARCH_"${CUDA_ARCH:-HOPPER90}"=ON -DKokkos_ENABLE_COMPILE_AS_CMAKE_LANGUAGE=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc" >"$work/configure.log"
cmake --build "$work/build" -j"${JOBS:-2}"
cmake --install "$work/build" >/dev/null
echo "build_kokkos.sh: Kokkos $tag with CUDA installed in $prefix"
