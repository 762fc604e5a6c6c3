#!/usr/bin/env bash
# NS solver throughput on the GPU: surro (bench_ns2d from .device/stage.tgz, unpacked by
# run_tests.sh into /tmp/surro-stage) against the PyTorch peer (bench/ns2d_peer.py) eager, and
# torch.compile on a subset (compilation takes minutes), same grid, batch, scheme and float64,
# in the same session. Prints key=value lines.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/gpu/env.sh
for scheme in crank_nicolson ifrk4; do
  for c in "256 1" "256 20" "256 100" "1024 4"; do
    set -- $c
    bench_ns2d "$1" "$2" "$scheme" 20 220
    python3 bench/ns2d_peer.py "$1" "$2" "$scheme" cuda 200 2>&1 | tail -1
  done
done
for c in "256 20 crank_nicolson" "256 100 crank_nicolson" "256 20 ifrk4"; do
  set -- $c
  timeout 240 python3 bench/ns2d_peer.py "$1" "$2" "$3" cuda 200 --compile 2>&1 | tail -1
done
