#!/usr/bin/env bash
# Generates reduced versions of four shipped datasets (NS, Burgers, Darcy, CylinderFlow) (same configs, fewer and
# smaller trajectories) with whatever `surro` is on PATH, into $1/<name>. Run on the CPU build
# here and on the CUDA build on the GPU machine; compare with h5diff (bench/RESULTS.md). With OUT set
# (the device's $OUT) the whole tree also goes into one file, $OUT/generate_small.tgz: the device
# returns at most 8 files and no deep folders.
set -eu
out=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
common=(--set dataset.train=4 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4)
surro -q generate configs/ns2d_nu1e-3.json --set run.output_dir="$out/ns2d" "${common[@]}" \
  --set solver.grid=128 --set solver.t_final=2 --set solver.record_steps=2 --set solver.dt=1e-3
surro -q generate configs/burgers1d.json --set run.output_dir="$out/burgers" "${common[@]}" --set solver.grid=2048
surro -q generate configs/darcy2d.json --set run.output_dir="$out/darcy" "${common[@]}" --set solver.grid=85 \
  --set solver.record_grid=43
surro -q generate configs/cylinder_flow.json --set run.output_dir="$out/cylinder" "${common[@]}" \
  --set solver.steps=5 --set solver.spinup=0.2 --set dataset.batch=4
for d in ns2d burgers darcy cylinder; do surro validate "$out/$d" | tail -1; done
[[ -n ${OUT:-} ]] && tar -czf "$OUT/generate_small.tgz" -C "$out" .
exit 0
