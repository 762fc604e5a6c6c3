#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into build/fuzz and runs each for
# a bounded time on its seed corpus fuzz/corpus/<target>/. New inputs go to build/fuzz/corpus/<target>
# (the repository's corpus stays as committed); a crash leaves build/fuzz/crash-<target>-* and fails
# the script. Needs clang and libclang-rt (scripts/setup_fuzz.sh installs them on Debian).
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]
set -euo pipefail
seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/fuzz"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_config fuzz_msh fuzz_tfrecord fuzz_hdf5)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DSURRO_ENABLE_FUZZ=ON -DSURRO_ENABLE_TESTS=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  echo "== $t: ${seconds}s"
  # Gmsh and HDF5 are not instrumented and leak by design at exit: leak checking stays off. A
  # damaged HDF5 file can make HDF5 ask malloc for exabytes; glibc then returns null, which HDF5
  # handles, so ASan returns null too rather than reporting it.
  if ! ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
      -artifact_prefix="$build/crash-$t-" -print_final_stats=1 "$build/corpus/$t" "$root/fuzz/corpus/$t" \
      2>"$build/$t.log"; then
    failed+=("$t")
    tail -40 "$build/$t.log"
  fi
  grep -E "^(stat::number_of_executed_runs|stat::new_units_added)" "$build/$t.log" || true
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: findings in ${failed[*]} (inputs: $build/crash-*; logs: $build/<target>.log)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no finding"
