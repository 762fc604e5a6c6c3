#!/usr/bin/env bash
# Optional: what scripts/fuzz.sh needs beyond scripts/setup.sh (Debian): clang and its runtime
# libraries (libFuzzer, ASan, UBSan).
set -euo pipefail
apt-get install -y clang libclang-rt-dev
