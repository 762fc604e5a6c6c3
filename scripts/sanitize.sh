#!/usr/bin/env bash
# CI's sanitizer run: the host-level unit tests (surro_tests_host: the core machinery, the dataset,
# mesh and checkpoint formats and their readers; tests/CMakeLists.txt lists them) built with
# AddressSanitizer and UndefinedBehaviorSanitizer (the asan preset, in build/asan) and run; any
# report fails the test. About 5 minutes from a cold cache on 2 cores. The whole suite under the
# sanitizers (cmake --build --preset asan && ctest --preset asan) takes over half an hour.
# Usage: scripts/sanitize.sh [ctest arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake --preset asan >/dev/null
cmake --build --preset asan-host
ctest --preset asan-host "$@"
