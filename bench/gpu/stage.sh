#!/usr/bin/env bash
# Stages a CUDA build for a GPU machine that has the CUDA toolkit but not our Debian libraries:
# copies the binaries, the test scripts and configs, and the shared-library closure of the
# binaries except glibc and the CUDA libraries (libcuda, cuFFT, cuBLAS, cudart come from the
# machine's own driver and toolkit) into .device/ (git-ignored), compressed.
# Usage: bench/gpu/stage.sh [build-dir]   (default build/cuda)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build/cuda}
out=.device
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib"
bins=("$build/app/surro")
# The test binary when it is built (a run that needs only the CLI can stage without it).
[[ -x $build/tests/surro_tests ]] && bins+=("$build/tests/surro_tests")
for b in "$build"/bench/*; do [[ -x $b && -f $b ]] && bins+=("$b"); done
bins+=("$(command -v h5diff)")  # the job tests compare datasets with it
bins+=("$(command -v h5dump)")  # bench/peers/rollout.py reads HDF5 through it where h5py is missing
cp "${bins[@]}" "$out/bin/"
skip='^(linux-vdso|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux|libcuda\.so|libcufft|libcublas|libcudart|libnvJitLink)'
for b in "${bins[@]}"; do
  ldd "$b" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    [[ $name =~ $skip ]] || cp -Lu "$path" "$out/lib/$name"
  done
done
# xz, not gzip: the Gmsh closure (OpenCASCADE, FLTK) makes a gzip archive larger than a carry allows.
# The name stays stage.tgz for the scripts that look for it; `tar -xf` reads either.
XZ_OPT="-6 -T2" tar -cJf "$out.tgz" -C "$out" . && rm -rf "$out" && mkdir "$out" && mv "$out.tgz" "$out/stage.tgz"
du -sh "$out/stage.tgz"
