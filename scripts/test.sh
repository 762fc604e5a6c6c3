#!/usr/bin/env bash
# Quick start, command 2: install, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
ctest --preset release "$@"
