#!/usr/bin/env bash
# The graph models trained by surro on the GPU, on a CylinderFlow subset generated there
# (stage from stage.sh; env.sh puts it on PATH). Two phases, so each fits one device call:
#   mesh_train.sh data  DIR   generate DIR/data (TRAIN/VALID/TEST trajectories of STEPS frames)
#   mesh_train.sh train DIR   train the VARIANTS side by side for SECONDS_EACH each (SIGTERM then;
#                             checkpoint_last.h5 holds the last step), then roll each out on the
#                             test split and print its metrics.
# Environment: TRAIN (40), VALID (5), TEST (5), STEPS (600), SPINUP (3.0), SECONDS_EACH (300),
#   VARIANTS ("mt mgn"): mt the shipped mesh transformer (1-hop mask), mt_k2 its 2-hop mask,
#   mt_dilated the dilated mask (dilation 2, radius 6), mt_global 1-hop plus 8 global nodes, mt_rope
#   1-hop with rotary position encoding (the generated channel's length 2.2), mgn the shipped MeshGraphNet.
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
variant_args() {  # variant_args NAME: the config and overrides of one variant
  case $1 in
    mt) echo configs/train_mesh_transformer_cylinder.json ;;
    mt_k2) echo configs/train_mesh_transformer_cylinder.json --set model.mask=k_hop --set model.k=2 ;;
    mt_dilated) echo configs/train_mesh_transformer_cylinder.json --set model.mask=dilated \
      --set model.dilation=2 --set model.radius=6 ;;
    mt_global) echo configs/train_mesh_transformer_cylinder.json --set model.global_nodes=8 ;;
    mt_rope) echo configs/train_mesh_transformer_cylinder.json --set model.rope=true --set model.rope_length=2.2 ;;
    mgn) echo configs/train_meshgraphnet_cylinder.json ;;
    *) echo "mesh_train.sh: unknown variant $1" >&2; return 1 ;;
  esac
}
read -r -a variants <<<"${VARIANTS:-mt mgn}"
for v in "${variants[@]}"; do
  # shellcheck disable=SC2046  # the variant's words are a config path and --set pairs without spaces
  set -- $(variant_args "$v") || exit 2
  # batch 2 as both papers; the epoch count only sets the schedule's horizon here: the run is
  # stopped by time (SIGTERM -> checkpoint at the next step, exit 4).
  timeout -s TERM "$seconds" surro train "$@" --set data.dataset="$dir/data" --set run.output_dir="$dir/$v" \
    --set train.epochs=20 --set data.fields='["velocity","pressure"]' >"$dir/$v.log" 2>&1 &
done
wait
for v in "${variants[@]}"; do
  echo "== $v"
  grep -E "model:|epoch " "$dir/$v.log" | tail -3
  ckpt=$dir/$v/checkpoint_best.h5
  [[ -s $ckpt ]] || ckpt=$dir/$v/checkpoint_last.h5
  surro rollout "$ckpt" --split test -o "$dir/${v}_rollout" --vtk-every 50 2>&1 |
    grep -v "^surro: info: resolved" | grep -E "horizon|all-rollout|trajectory|forces|rollout:"
done
