#!/usr/bin/env bash
# Quick start, command 1: install, build, and run the main job on the embedded default: a 2D
# Navier-Stokes simulation whose ParaView time series lands in runs/demo_ns2d/demo_ns2d.pvd.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
./build/release/app/surro info
./build/release/app/surro simulate configs/demo_ns2d.json
echo "Open runs/demo_ns2d/demo_ns2d.pvd in ParaView; diagnostics in runs/demo_ns2d/diagnostics.csv."
