#!/usr/bin/env bash
# Runs the three shipped benchmark-dataset configs at their full resolution and time span, with
# only the trajectory counts reduced (train 4, valid 2, test 2), with whatever `surro` is on PATH,
# into $1/<name>; prints the wall time of each and validates the result.
set -eu
out=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
counts=(--set dataset.train=4 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4)
for c in ns2d_nu1e-3 burgers1d darcy2d; do
  start=$(date +%s%N)
  surro -q generate "configs/$c.json" --set run.output_dir="$out/$c" "${counts[@]}"
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "$c: ${ms} ms for 8 trajectories; $(surro validate "$out/$c" | tail -1)"
done
