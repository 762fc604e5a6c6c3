#!/usr/bin/env bash
# On the GPU machine: unpack .device/stage.tgz (from stage.sh), find the machine's CUDA libraries,
# and run the test suite entry by entry as ctest does (one run per tag, then the CLI tests).
# Prints "N passed, M failed" last. Usage: bench/gpu/run_tests.sh [tag...]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rm -rf /tmp/surro-stage
source bench/gpu/env.sh
echo "cuFFT from $cudalib, cuBLAS from $blaslib"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
surro info || exit 1
tags=("$@")
# Default: every Catch2 tag CTest runs, read from the module.tag lists (SURRO_HOST_TEST_TAGS and
# SURRO_TEST_TAGS) in tests/CMakeLists.txt; surro_tests holds both.
((${#tags[@]})) || mapfile -t tags < <(sed -n '/^set(SURRO_\(HOST_\)\{0,1\}TEST_TAGS/,/)$/p' tests/CMakeLists.txt |
                                        grep -oE '\b[a-z]+\.[a-z0-9_]+\b' | sed 's/^[a-z]*\.//')
((${#tags[@]})) || { echo "no test tags found in tests/CMakeLists.txt" >&2; exit 1; }
pass=0 fail=0
for t in "${tags[@]}"; do
  # [tfrecord] runs an independent writer with the Python compiled into the tests
  # (SURRO_TEST_PYTHON, /usr/bin/python3 by default), which needs google.protobuf; a GPU image
  # without it cannot run that check (CI runs it), so say so instead of counting a failure.
  if [[ $t == tfrecord ]] && ! "${SURRO_TEST_PYTHON:-/usr/bin/python3}" -c 'import google.protobuf' 2>/dev/null; then
    echo "SKIPPED: [$t] (no google.protobuf for ${SURRO_TEST_PYTHON:-/usr/bin/python3} here)"; continue
  fi
  # Catch2 exits with the count of listed tests, so read the list rather than the exit code.
  listed=$(surro_tests "[$t]" --list-test-names-only 2>/dev/null || true)
  if [[ -n $listed ]]; then
    if surro_tests "[$t]" 2>&1 | tail -4; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: [$t]"; fi
  fi
done
if bash tests/app/cli_test.sh "$stage/bin/surro"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
if bash tests/app/jobs_test.sh "$stage/bin/surro" configs; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
if bash tests/app/train_test.sh "$stage/bin/surro" configs; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
for cfg in configs/*.json; do
  if surro check "$cfg" >/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: check $cfg"; fi
done
echo "gpu ctest-equivalent: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
