#!/usr/bin/env bash
# CylinderFlow generation speed by pressure preconditioner and batch size, on the GPU machine
# (stage from stage.sh; env.sh puts it on PATH). Each case generates B training trajectories in one
# batch (plus VALID and TEST trajectories, one each by default, in their own batches) of STEPS
# recorded frames after SPINUP time units, and prints the simulate timing and the solver's
# iteration counts.
# Environment: BATCHES ("16 64"), PRECONDITIONERS ("jacobi amg"), STEPS (20), SPINUP (0.2),
# VALID (1), TEST (1). A full-length batch of the shipped config: STEPS=600 SPINUP=3.0 VALID=0 TEST=0.
# Usage: bench/gpu/gen_precond.sh DIR
set -u
dir=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/gpu/env.sh
mkdir -p "$dir"
for b in ${BATCHES:-16 64}; do
  for p in ${PRECONDITIONERS:-jacobi amg}; do
    out=$dir/gen_${p}_b$b
    start=$SECONDS
    surro generate configs/cylinder_flow.json --set run.output_dir="$out" \
      --set dataset.train="$b" --set dataset.valid="${VALID:-1}" --set dataset.test="${TEST:-1}" --set dataset.per_file="$b" \
      --set dataset.batch="$b" --set solver.steps="${STEPS:-20}" --set solver.spinup="${SPINUP:-0.2}" \
      --set solver.preconditioner="$p" >"$out.log" 2>&1
    rc=$?
    echo "gen_precond: preconditioner $p batch $b rc $rc wall $((SECONDS - start)) s"
    grep -E "timing:" "$out.log" | tail -1
  done
done
