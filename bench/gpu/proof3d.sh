#!/usr/bin/env bash
# The 3D operator path end to end on the GPU machine (issue 5): generate the small burgers_3d
# dataset, train the small 3D IFactFormer-m, roll it out to ParaView and evaluate. Logs, history
# and metrics go to $OUT/proof3d.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/gpu/env.sh
work=/tmp/surro-proof3d out=${OUT:-/tmp/surro-proof3d/out}/proof3d
rm -rf "$work" && mkdir -p "$work" "$out"
exec > >(tee -a "$out/log.txt") 2>&1
surro --version
start=$SECONDS
surro -q generate configs/burgers3d.json --set run.output_dir="$work/data" || echo "FAILED: generate"
echo "generate_seconds=$((SECONDS - start))"
start=$SECONDS
surro train configs/train_ifactformer_burgers3d.json --set run.output_dir="$work/run" --set data.dataset="$work/data" \
  >"$work/train.log" 2>&1 || echo "FAILED: train"
echo "train_seconds=$((SECONDS - start))"
grep -E "model:|data:" "$work/train.log"
tail -n 2 "$work/train.log"
cp "$work/run/history.csv" "$out/"
surro -q rollout "$work/run/checkpoint_best.h5" --samples 4 -o "$work/roll" | tail -n 6
ls "$work/roll" | head -4
grep -c "<DataSet" "$work/roll/rollout.pvd"
cp "$work/roll/statistics.json" "$out/"
