#!/usr/bin/env bash
# Stages a CUDA build for a GPU machine that has the CUDA toolkit but not our Debian libraries:
# copies the binaries, the test scripts and configs, and the shared-library closure of the
# binaries except glibc and the CUDA libraries (libcuda, cuFFT, cuBLAS, cudart, NCCL come from the
# machine's own driver and toolkit) into .device/ (git-ignored), compressed; for an MPI build also
# OpenMPI's libraries (lib/mpi) and runtime (openmpi/: mpirun, plugins), used by env.sh where the
# machine has no OpenMPI of its own.
# Usage: bench/gpu/stage.sh [build-dir]   (default build/cuda)
# STAGE_CLI_ONLY=1: surro and the HDF5 tools only (no surro_tests, no bench programs).
# STAGE_BENCH="bench_mesh_models ...": of the bench programs, only these (default: all).
# STAGE_DIR (default .device): where the archive goes, e.g. .device-omp for an OpenMP build staged
# beside a CUDA one (env.sh reads it from SURRO_STAGE_TGZ).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build/cuda}
out=${STAGE_DIR:-.device}
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib"
bins=("$build/app/surro")
# The test binary and the benchmarks when they are built, unless STAGE_CLI_ONLY=1: a run that needs
# only the CLI (a training chunk) then fits the device's 64 MiB transfer beside a carried run.
if [[ ${STAGE_CLI_ONLY:-0} != 1 ]]; then
  [[ -x $build/tests/surro_tests ]] && bins+=("$build/tests/surro_tests")
  for b in "$build"/bench/*; do
    [[ -x $b && -f $b ]] || continue
    # STAGE_BENCH="bench_a bench_b": only these benchmark programs (the full set with the tests does
    # not fit a carry beside a training pack).
    [[ -n ${STAGE_BENCH:-} && " $STAGE_BENCH " != *" $(basename "$b") "* ]] && continue
    bins+=("$b")
  done
fi
bins+=("$(command -v h5diff)")  # the job tests compare datasets with it
bins+=("$(command -v h5dump)")  # bench/peers/rollout.py reads HDF5 through it where h5py is missing
bins+=("$(command -v h5ls)")    # [mesh_dataset] and [dataset_commands] list written files with it
cp "${bins[@]}" "$out/bin/"
# The tests read their fixtures from the source folder compiled into them (SURRO_TEST_DATA_DIR and
# friends); env.sh links that path to the device's checkout when it is missing there.
sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" >"$out/source_dir"
# NCCL too: the GPU image has libnccl2 (2.28 for CUDA 13) on the loader's path, and libnccl.so.2
# alone (218 MB) would not fit a carry.
skip='^(linux-vdso|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux|libcuda\.so|libcufft|libcublas|libcudart|libnvJitLink|libnccl)'
closure() {  # closure DIR FILE...: the shared libraries the files need, but the skipped ones, into DIR
  local dir=$1 f name path
  shift
  for f in "$@"; do
    ldd "$f" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
      [[ $name =~ $skip ]] || cp -Lu "$path" "$dir/$name"
    done
  done
}
closure "$out/lib" "${bins[@]}"
# OpenMPI (an MPI build links libmpi): its libraries go to lib/mpi, apart, so that env.sh can use a
# machine's own OpenMPI (libraries, plugins and mpirun of one version) where it has one; and its
# runtime goes to openmpi/ (OPAL_PREFIX) for a machine without one: mpirun (orterun), orted, the MCA
# plugins OpenMPI and PMIx dlopen, the help texts and the default MCA parameters. A plain
# `surro ...` never starts MPI (core/comm.hpp), so it needs only the libraries to load.
libmpi=$(ldd "$build/app/surro" | awk '$1 ~ /^libmpi\.so/ {print $3}')
if [[ -n $libmpi ]]; then
  ompi_lib=$(dirname "$(readlink -f "$libmpi")")/openmpi/lib
  mkdir -p "$out/lib/mpi" "$out/openmpi/bin" "$out/openmpi/plugins" "$out/openmpi/pmix" "$out/openmpi/etc"
  cp -L "$(command -v orterun)" "$out/openmpi/bin/mpirun"
  cp -L "$(command -v orted)" "$out/openmpi/bin/orted"
  cp -L "$ompi_lib"/openmpi3/*.so "$out/openmpi/plugins/"
  # Debian's OpenMPI 4.1 uses the external PMIx (libpmix2), whose own plugins live here.
  cp -L /usr/lib/x86_64-linux-gnu/pmix2/lib/pmix/*.so "$out/openmpi/pmix/"
  cp -rL /usr/share/openmpi "$out/openmpi/share"
  cp -L /etc/openmpi/openmpi-mca-params.conf /etc/openmpi/openmpi-default-hostfile "$out/openmpi/etc/" 2>/dev/null || true
  closure "$out/lib/mpi" "$libmpi" "$out"/openmpi/bin/* "$out"/openmpi/plugins/*.so "$out"/openmpi/pmix/*.so
  # OpenMPI's own libraries and its fabric stack leave lib/, so that a machine's OpenMPI is not
  # shadowed by them (general ones such as libz stay in both).
  ompi_family='^lib(mpi|open-rte|open-pal|oshmem|mca_common|hwloc|event|pmix|fabric|uc[pmst]|psm|infinipath|ibverbs|rdmacm|efa|nl-|munge|numa)'
  for f in "$out"/lib/mpi/*; do
    [[ $(basename "$f") =~ $ompi_family ]] && rm -f "$out/lib/$(basename "$f")"
  done
fi
# xz, not gzip: the Gmsh closure (OpenCASCADE, FLTK) makes a gzip archive larger than a carry allows.
# The name stays stage.tgz for the scripts that look for it; `tar -xf` reads either.
# A carry holds 64 MiB in all (with .device/fno_original beside it, ~4 MB), so an archive over
# STAGE_MAX_MIB (default 58) is packed again with xz -9e: smaller by ~7%, ~5 min on 2 cores.
XZ_OPT="-6 -T2" tar -cJf "$out.tgz" -C "$out" .
max_bytes=$(( ${STAGE_MAX_MIB:-58} * 1024 * 1024 ))
if (( $(stat -c %s "$out.tgz") > max_bytes )); then
  echo "stage: $(du -h "$out.tgz" | cut -f1) over ${STAGE_MAX_MIB:-58} MiB; packing again with xz -9e" >&2
  XZ_OPT="-9e -T2" tar -cJf "$out.tgz" -C "$out" .
fi
rm -rf "$out" && mkdir "$out" && mv "$out.tgz" "$out/stage.tgz"
du -sh "$out/stage.tgz"
