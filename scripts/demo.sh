#!/usr/bin/env bash
# Quick start, command 1: install, build, and run the main job on the embedded default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
./build/release/app/surro info
./build/release/app/surro check configs/run.json
