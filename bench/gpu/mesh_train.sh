#!/usr/bin/env bash
# The graph models trained by surro on the GPU, on a CylinderFlow subset generated there
# (stage from stage.sh; env.sh puts it on PATH). Two phases, so each fits one device call:
#   mesh_train.sh data  DIR   generate DIR/data (TRAIN/VALID/TEST trajectories of STEPS frames)
#   mesh_train.sh train DIR   train the mesh transformer and MeshGraphNet side by side for SECONDS
#                             each (SIGTERM then; checkpoint_last.h5 holds the last step), then roll
#                             both out on the test split and print their metrics.
# Environment: TRAIN (40), VALID (5), TEST (5), STEPS (600), SPINUP (3.0), SECONDS_EACH (300).
set -u
phase=$1
dir=$2
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/gpu/env.sh
mkdir -p "$dir"
if [[ $phase == data ]]; then
  start=$(date +%s)
  surro generate configs/cylinder_flow.json --set run.output_dir="$dir/data" \
    --set dataset.train="${TRAIN:-40}" --set dataset.valid="${VALID:-5}" --set dataset.test="${TEST:-5}" \
    --set dataset.per_file=25 --set dataset.batch=50 --set solver.steps="${STEPS:-600}" \
    --set solver.spinup="${SPINUP:-3.0}" 2>&1 | grep -v "^ \|^{\|^}"
  end=$(date +%s)
  echo "mesh_train data: $(( ${TRAIN:-40} + ${VALID:-5} + ${TEST:-5} )) trajectories of ${STEPS:-600} frames in $((end - start)) s"
  surro validate "$dir/data" | tail -1
  exit 0
fi
seconds=${SECONDS_EACH:-300}
for m in mesh_transformer meshgraphnet; do
  # batch 2 as both papers; the epoch count only sets the schedule's horizon here: the run is
  # stopped by time (SIGTERM -> checkpoint at the next step, exit 4).
  timeout -s TERM "$seconds" surro train "configs/train_${m}_cylinder.json" --set data.dataset="$dir/data" \
    --set run.output_dir="$dir/$m" --set train.epochs=20 --set data.fields='["velocity","pressure"]' \
    > "$dir/$m.log" 2>&1 &
done
wait
for m in mesh_transformer meshgraphnet; do
  grep -E "model:|epoch " "$dir/$m.log" | tail -4
  ckpt=$dir/$m/checkpoint_best.h5
  [[ -s $ckpt ]] || ckpt=$dir/$m/checkpoint_last.h5
  surro rollout "$ckpt" --split test -o "$dir/${m}_rollout" --vtk-every 50 2>&1 | grep -v "^surro: info: resolved" |
    grep -E "horizon|all-rollout|trajectory|forces|rollout:" 
done
