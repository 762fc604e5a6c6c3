#!/usr/bin/env bash
# surro train / rollout / eval on meshes, end to end, through the shipped configs on a tiny generated
# CylinderFlow dataset: both graph models train (validation loss falls), a stopped run resumes to
# the same weights, rollouts write ParaView series of .vtu with prediction, reference and error plus
# a valid mesh dataset file and the physics comparison; wrong pairings of model and data are refused.
# Usage: mesh_train_test.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# 3 + 1 + 1 trajectories of 16 recorded steps on coarse meshes (~600 nodes).
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=data --set dataset.train=3 \
  --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2 --set dataset.batch=5 \
  --set solver.steps=16 --set solver.spinup=1.0 --set solver.mesh_size=0.08 || bad "generate"

# No input noise here: on 16 steps after a short spin-up the change per step is far below MeshGraphNets'
# noise of 0.02, which would then be all the model learns.
tiny_t=(--set data.dataset=data --set model.dim=16 --set model.layers=2 --set schedule.warmup=5
        --set data.fields='["velocity","pressure"]' --set train.input_noise=0 --set optimizer.lr=0.003)
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=mt "${tiny_t[@]}" \
  --set train.epochs=6 || bad "mesh_transformer train"
[[ -s mt/checkpoint_best.h5 && $(wc -l <mt/history.csv) -eq 7 ]] && ok || bad "mesh_transformer outputs: $(ls mt)"
first=$(awk -F, 'NR == 2 { print $5 }' mt/history.csv)
best=$(awk -F, 'NR > 1 { print $5 }' mt/history.csv | sort -g | head -1)
# The validation loss (normalized change MSE, no input noise) falls below its first epoch's value.
awk -v a="$first" -v b="$best" 'BEGIN { exit !(b + 0 < a + 0) }' && ok || bad "valid loss $first -> best $best"

# One epoch, then --resume to two: the same weights as two epochs at once (a constant learning rate, so
# the schedule does not depend on the run's length).
constant=(--set schedule='{"type": "constant"}')
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=full "${tiny_t[@]}" \
  "${constant[@]}" --set train.epochs=2 || bad "full train"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=part "${tiny_t[@]}" \
  "${constant[@]}" --set train.epochs=1 || bad "part train"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=part "${tiny_t[@]}" \
  "${constant[@]}" --set train.epochs=2 --resume || bad "resume"
h5diff -q full/checkpoint_last.h5 part/checkpoint_last.h5 /params /params && ok ||
  bad "resumed weights differ from the uninterrupted run's"

"$surro" -q rollout mt/checkpoint_best.h5 -o roll --vtk-every 5 >roll.txt 2>&1 || bad "rollout: $(tail -3 roll.txt)"
[[ -s roll/rollout.pvd && -s roll/metrics.json && -s roll/forces.csv && -s roll/rollout.hdf5 ]] && ok ||
  bad "rollout outputs: $(ls roll)"
grep -q 'velocity_pred' roll/rollout_000000.vtu && grep -q 'pressure_error' roll/rollout_000000.vtu &&
  grep -q 'node_type' roll/rollout_000000.vtu && ok || bad "vtu arrays"
"$surro" validate roll/rollout.hdf5 | grep -q valid && ok || bad "rollout.hdf5 does not validate"
# Provenance as for grids (one function writes both): the test split's one trajectory, from frame 0.
for attr in surro_source_split=test surro_source_trajectories=0..0 surro_source_start_frame=0 \
            surro_source_dataset=data surro_checkpoint=mt/checkpoint_best.h5; do
  h5dump -a "${attr%%=*}" roll/rollout.hdf5 2>/dev/null | grep -q "(0): \"${attr#*=}\"" && ok ||
    bad "rollout.hdf5: attribute ${attr%%=*}: expected ${attr#*=}: $(h5dump -a "${attr%%=*}" roll/rollout.hdf5 2>&1 | grep '(0)')"
done
grep -q '"rmse_all_rollout"' roll/metrics.json && grep -q '"horizons"' roll/metrics.json && ok ||
  bad "metrics.json keys"
grep -q 'horizon 10' roll.txt && grep -q 'forces (mean relative error' roll.txt && ok || bad "rollout table: $(cat roll.txt)"
"$surro" eval mt/checkpoint_best.h5 --split valid --steps 5 >eval.txt 2>&1 && grep -q 'all-rollout (   5 steps)' eval.txt &&
  ok || bad "eval: $(tail -3 eval.txt)"

"$surro" -q train "$configs/train_meshgraphnet_cylinder.json" --set run.output_dir=mgn --set data.dataset=data \
  --set model.hidden=16 --set model.blocks=2 --set train.epochs=2 --set optimizer.lr=0.003 || bad "meshgraphnet train"
"$surro" -q rollout mgn/checkpoint_last.h5 -o mgn_roll >/dev/null 2>&1 && [[ -s mgn_roll/rollout.pvd ]] && ok ||
  bad "meshgraphnet rollout"
# Its edge features are standardized with statistics fitted on the training meshes (3 channels: dx, dy, |d|),
# stored in the checkpoint beside the node and target normalizers.
h5dump -d /normalizers/edges/mean mgn/checkpoint_last.h5 2>/dev/null | grep -q 'DATASPACE  SIMPLE { ( 3 )' && ok ||
  bad "meshgraphnet checkpoint has no 3-channel /normalizers/edges"

# With rotary position encoding the transformer trains and rolls out the same way.
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=rope "${tiny_t[@]}" \
  --set train.epochs=1 --set model.rope=true --set model.rope_length=2.2 >rope.txt 2>&1 &&
  "$surro" -q rollout rope/checkpoint_last.h5 -o rope_roll >>rope.txt 2>&1 && [[ -s rope_roll/rollout.pvd ]] && ok ||
  bad "rope train/rollout: $(tail -3 rope.txt)"

# Wrong pairings fail before any training, naming the problem.
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=bad1 --set data.dataset=data \
  --set data.fields='["velocity"]' --set data.t_in=1 --set data.t_out=1 --set train.mode=teacher_forcing \
  >err1.txt 2>&1
[[ $? -ne 0 ]] && grep -q 'fno works on grids' err1.txt && ok || bad "fno on meshes: $(tail -2 err1.txt)"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=bad2 "${tiny_t[@]}" \
  --set train.mode=pushforward --set data.t_out=2 >err2.txt 2>&1
[[ $? -ne 0 ]] && grep -q 'mesh models train one step' err2.txt && ok || bad "pushforward on meshes: $(tail -2 err2.txt)"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=bad3 "${tiny_t[@]}" \
  --set normalize.targets=none >err3.txt 2>&1
[[ $? -ne 0 ]] && grep -q 'normalized_mse needs normalize.targets' err3.txt && ok || bad "loss without normalizer"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=bad5 "${tiny_t[@]}" \
  --set model.rope_length=2.2 >err5.txt 2>&1
[[ $? -eq 2 && ! -e bad5 ]] && grep -q 'rope_length.*only read with "rope": true' err5.txt && ok ||
  bad "rope_length without rope: $(tail -2 err5.txt)"
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=bad4 "${tiny_t[@]}" \
  --set normalize.edges=channel >err4.txt 2>&1
[[ $? -eq 2 && ! -e bad4/history.csv ]] && grep -q 'normalize.edges: "channel" but mesh_transformer derives no edge features' err4.txt &&
  ok || bad "edge normalizer on the transformer: $(tail -2 err4.txt)"

echo "mesh_train: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
