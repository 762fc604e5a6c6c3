#!/usr/bin/env bash
# surro train end to end on a tiny generated dataset: history and checkpoints written; a run
# stopped by SIGTERM exits 4 after a checkpoint, and --resume reaches exactly the weights of an
# uninterrupted run (h5diff of /params); bad resumes are refused.
# Usage: train_test.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 || bad "generate"
tiny=(--set data.dataset=data --set train.batch=4 --set model.modes=[4,4] --set model.width=8
      --set model.projection=16)
# The shipped config is the unrolled benchmark (t_out 40); the tiny dataset has 15 frames, so the
# one-step checks below train teacher-forced.
# 20 epochs: the stopped run below is signalled after its first epoch and must still be running.
common=("${tiny[@]}" --set train.epochs=20 --set train.mode=teacher_forcing --set data.t_out=1
        --set data.all_starts=true)

"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=full "${common[@]}" || bad "train failed"
[[ -s full/checkpoint_last.h5 && -s full/checkpoint_best.h5 && $(wc -l <full/history.csv) -eq 21 ]] && ok \
  || bad "outputs: $(ls full)"

# Stopped by SIGTERM part-way, then resumed: same final weights as the uninterrupted run.
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=stopped "${common[@]}" &
pid=$!
for _ in $(seq 1 800); do [[ -s stopped/history.csv ]] && break; sleep 0.01; done
kill -TERM $pid
wait $pid
rc=$?
if [[ $rc -eq 4 ]]; then
  ok
  [[ -s stopped/checkpoint_last.h5 ]] && ok || bad "no checkpoint after SIGTERM"
else
  bad "SIGTERM: exit $rc, expected 4 (0: the run finished before the signal, testing nothing)"
fi
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=stopped "${common[@]}" --resume || bad "resume failed"
h5diff full/checkpoint_last.h5 stopped/checkpoint_last.h5 /params /params >/dev/null && ok \
  || bad "resumed weights differ from the uninterrupted run"
[[ $(wc -l <stopped/history.csv) -eq 21 ]] && ok || bad "history after resume: $(cat stopped/history.csv)"

# One step per epoch (the batch holds all 112 samples): every signal lands in an epoch's last step
# or its validation, so the stop must come after that epoch's history row and checkpoint; the
# resumed run then has every row once and the uninterrupted run's weights.
one=("${tiny[@]}" --set train.batch=112 --set train.epochs=200 --set train.mode=teacher_forcing
     --set data.t_out=1 --set data.all_starts=true)
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=one_full "${one[@]}" || bad "one-step train failed"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=one_stop "${one[@]}" &
pid=$!
for _ in $(seq 1 800); do [[ -s one_stop/history.csv ]] && break; sleep 0.01; done
kill -TERM $pid
wait $pid
[[ $? -eq 4 ]] && ok || bad "one-step SIGTERM: expected exit 4 (0: finished before the signal)"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=one_stop "${one[@]}" --resume \
  || bad "one-step resume failed"
h5diff one_full/checkpoint_last.h5 one_stop/checkpoint_last.h5 /params /params >/dev/null && ok \
  || bad "one-step resumed weights differ from the uninterrupted run"
cut -d, -f1 one_stop/history.csv | diff - <(cut -d, -f1 one_full/history.csv) >/dev/null && ok \
  || bad "one-step history epochs differ: $(cut -d, -f1 one_stop/history.csv | tr '\n' ' ')"

# Refusals: a second fresh run over an existing one; --resume with nothing to resume.
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=full "${common[@]}" 2>err.log
[[ $? -eq 2 ]] && grep -q "already there; continue it with --resume" err.log && ok || bad "overwrite not refused"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=nothing "${common[@]}" --resume 2>err.log
[[ $? -eq 2 ]] && grep -q "does not exist (nothing to resume)" err.log && ok || bad "empty resume not refused"
# A model that does not fit the data: modes too large for the 16-point grid.
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=bigmodes "${common[@]}" --set model.modes=[12,12] 2>err.log
[[ $? -ne 0 && ! -e bigmodes/checkpoint_last.h5 ]] && ok || bad "oversized modes accepted: $(cat err.log)"

# Unrolled training over 3 frames (first 10 in, next 3 out), through per-channel normalizers and
# with input noise: the validation loss (unrolled rel-L2 summed over the 3 frames, per sample)
# falls over 20 epochs; a run split in two by --resume (10 then 20 epochs) reaches exactly the
# weights of an uninterrupted one (the noise depends on the seed and the step only).
unrolled=("${tiny[@]}" --set data.t_out=3 --set train.mode=unrolled --set train.input_noise=0.01
          --set normalize.inputs=channel --set normalize.targets=channel)
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=unr "${unrolled[@]}" --set train.epochs=20 \
  || bad "unrolled train failed"
first=$(sed -n 2p unr/history.csv | cut -d, -f5) final=$(tail -n 1 unr/history.csv | cut -d, -f5)
[[ -n $first && -n $final ]] && awk -v a="$first" -v b="$final" 'BEGIN { exit !(b + 0 < a + 0) }' && ok \
  || bad "unrolled valid loss $first -> $final"
"$surro" -q rollout unr/checkpoint_best.h5 --samples 2 -o unr_roll >/dev/null && ok || bad "rollout of an unrolled model"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=unr2 "${unrolled[@]}" --set train.epochs=10 \
  || bad "unrolled first half failed"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=unr2 "${unrolled[@]}" --set train.epochs=20 \
  --resume || bad "unrolled resume failed"
h5diff unr/checkpoint_last.h5 unr2/checkpoint_last.h5 /params /params >/dev/null && ok \
  || bad "unrolled: resumed weights differ from the uninterrupted run"
h5diff unr/checkpoint_best.h5 unr/checkpoint_best.h5 /normalizers/targets /normalizers/targets >/dev/null && ok \
  || bad "no /normalizers/targets in the checkpoint"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=unr2 "${unrolled[@]}" --set train.epochs=30 \
  --set normalize.inputs=pointwise --resume 2>err.log
[[ $? -eq 2 ]] && grep -q "the run was trained with another configuration: normalize.inputs changed" err.log && ok \
  || bad "resume with other normalizers: $(cat err.log)"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=pf "${tiny[@]}" --set data.t_out=3 \
  --set train.mode=pushforward --set train.epochs=2 && [[ $(wc -l <pf/history.csv) -eq 3 ]] && ok \
  || bad "pushforward train failed"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=tf3 "${tiny[@]}" --set data.t_out=3 \
  --set train.mode=teacher_forcing 2>err.log
[[ $? -eq 2 ]] && grep -q "expected 1 with train.mode teacher_forcing" err.log && ok || bad "t_out 3 teacher-forced: $(cat err.log)"

# Rollout from the trained checkpoint: ParaView series (prediction, reference, error), predicted
# trajectories as a valid dataset file, metrics; eval prints the table.
"$surro" -q rollout full/checkpoint_best.h5 --samples 2 -o roll >roll.log || bad "rollout failed: $(cat roll.log)"
[[ $(grep -c "<DataSet" roll/rollout.pvd) -eq 5 ]] && ok || bad "rollout.pvd steps"   # frames t = 0..14, 10 in
# --vtk-every 2 over the 5 steps: steps 2, 4 and the last one (5), each the same file as in the
# full series and at its true time.
"$surro" -q rollout full/checkpoint_best.h5 --samples 2 --steps 5 --vtk-every 2 -o every >/dev/null || bad "rollout --vtk-every 2"
[[ $(ls every/rollout_*.vti 2>/dev/null | wc -l) -eq 3 && $(grep -c "<DataSet" every/rollout.pvd) -eq 3 ]] && ok \
  || bad "--vtk-every 2: $(ls every) / $(grep -c "<DataSet" every/rollout.pvd) .pvd entries, expected 3"
cmp -s every/rollout_000000.vti roll/rollout_000001.vti && cmp -s every/rollout_000001.vti roll/rollout_000003.vti \
  && cmp -s every/rollout_000002.vti roll/rollout_000004.vti && ok || bad "--vtk-every 2: not steps 2, 4, 5"
[[ "$(grep -o 'timestep="[^"]*"' every/rollout.pvd)" == "$(grep -o 'timestep="[^"]*"' roll/rollout.pvd | sed -n '2p;4p;5p')" ]] \
  && ok || bad "--vtk-every 2: .pvd times $(grep -o 'timestep="[^"]*"' every/rollout.pvd | tr '\n' ' ')"
# The predictions come back to the host in chunks of steps (2 here, with a last chunk of 1): the
# same files as the default (one chunk of all 5 steps at this size), byte for byte.
SURRO_ROLLOUT_CHUNK=2 "$surro" -q rollout full/checkpoint_best.h5 --samples 2 --steps 5 --vtk-every 2 -o chunked \
  >/dev/null || bad "rollout with SURRO_ROLLOUT_CHUNK=2"
for f in metrics.json metrics.csv spectrum.csv statistics.csv rollout_000000.vti rollout_000002.vti; do
  cmp -s every/$f chunked/$f && ok || bad "SURRO_ROLLOUT_CHUNK=2: $f differs from the default"
done
h5diff -q every/rollout.hdf5 chunked/rollout.hdf5 >/dev/null && ok || bad "SURRO_ROLLOUT_CHUNK=2: rollout.hdf5 differs"
SURRO_ROLLOUT_CHUNK=0 "$surro" -q rollout full/checkpoint_best.h5 --steps 5 -o chunk0 2>err.log
[[ $? -eq 2 && ! -e chunk0 ]] && grep -q "SURRO_ROLLOUT_CHUNK (environment): expected a whole number" err.log && ok \
  || bad "SURRO_ROLLOUT_CHUNK=0: $(cat err.log)"
"$surro" validate roll/rollout.hdf5 >/dev/null && ok || bad "rollout.hdf5 invalid"
# Provenance: the rollout's source dataset, split, trajectories, start frame and checkpoint.
for attr in surro_source_split=test surro_source_trajectories=0..1 surro_source_start_frame=0 \
            surro_source_dataset=data surro_checkpoint=full/checkpoint_best.h5; do
  h5dump -a "${attr%%=*}" roll/rollout.hdf5 2>/dev/null | grep -q "(0): \"${attr#*=}\"" && ok ||
    bad "rollout.hdf5: attribute ${attr%%=*}: expected ${attr#*=}: $(h5dump -a "${attr%%=*}" roll/rollout.hdf5 2>&1 | grep '(0)')"
done
grep -q '"rel_l2_mean"' roll/metrics.json && grep -q "^trajectory: relative L2" roll.log && ok || bad "metrics"
# Long-rollout statistics: profiles along both axes (16 + 16 indices) and the spectrum's 12 shells.
[[ $(grep -c "^mean," roll/statistics.csv) -eq 32 && $(grep -c "^rms," roll/statistics.csv) -eq 32 ]] && \
  grep -q '"rms_rel_l2"' roll/statistics.json && [[ $(wc -l <roll/spectrum.csv) -eq 13 ]] && \
  [[ $(wc -l <roll/statistics_spectra.csv) -eq 19 ]] && grep -q spectrum_log_error roll/statistics.json && ok \
  || bad "statistics: $(head -3 roll/statistics.csv) / $(wc -l <roll/spectrum.csv) spectrum lines"
"$surro" -q eval full/checkpoint_best.h5 --split valid | grep -q "^trajectory: relative L2" && ok || bad "eval"
"$surro" -q rollout missing.h5 -o x 2>err.log
[[ $? -eq 2 ]] && grep -q "missing.h5: no such checkpoint file" err.log && ok || bad "missing checkpoint: $(cat err.log)"
"$surro" -q rollout full/checkpoint_best.h5 --steps 50 -o x 2>err.log
[[ $? -eq 2 ]] && grep -q "only 5 reference frames follow the window" err.log && ok || bad "too many steps: $(cat err.log)"
"$surro" -q rollout full/checkpoint_best.h5 --vtk-every 0 -o x 2>err.log
[[ $? -eq 2 ]] && grep -q -- "--vtk-every: Value 0 not in range 1 to" err.log && ok || bad "--vtk-every 0: $(cat err.log)"
[[ ! -e x ]] && ok || bad "a refused rollout wrote output"

# Initial conditions simulated on the spot by the dataset's solver: with the dataset's own seed,
# samples 0 and 1 are the first two training trajectories, so the metrics agree exactly; on a
# finer record grid (FNO evaluated at 32^2 after training at 16^2) the rollout still runs.
want=$("$surro" -q eval full/checkpoint_best.h5 --split train --samples 2 | tail -n 1)
got=$("$surro" -q eval full/checkpoint_best.h5 --initial solver --seed 2020 --samples 2 | tail -n 1)
[[ -n $want && "$want" == "$got" ]] && ok || bad "solver initial conditions: '$got', expected '$want'"
"$surro" -q rollout full/checkpoint_best.h5 --initial solver --samples 1 --solver-set solver.record_grid=32 \
  -o sroll >/dev/null && [[ -s sroll/rollout.pvd ]] && ok || bad "rollout from solver initial conditions at 32^2"
"$surro" -q rollout full/checkpoint_best.h5 --initial solver --solver-config nowhere.json -o x 2>err.log
[[ $? -eq 2 ]] && grep -q "nowhere.json does not exist" err.log && ok || bad "missing solver config: $(cat err.log)"

# A pair model (Darcy a -> u): trains, evaluates once per trajectory, writes prediction.pvd.
"$surro" -q generate "$configs/darcy2d.json" --set run.output_dir=darcy --set solver.grid=33 --set solver.record_grid=17 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=8 || bad "darcy generate"
"$surro" -q train "$configs/train_fno_darcy2d.json" --set run.output_dir=darcy_run --set data.dataset=darcy \
  --set model.modes=[4,4] --set model.width=8 --set model.projection=16 --set model.padding=[3,3] \
  --set train.epochs=2 --set train.batch=4 || bad "darcy train"
"$surro" -q rollout darcy_run/checkpoint_best.h5 -o darcy_pred | grep -q "relative L2" && \
  [[ -s darcy_pred/prediction.pvd && -s darcy_pred/metrics.json ]] && ok || bad "darcy evaluation"
# The shipped Darcy config normalizes pointwise, as the FNO reference: both normalizers stored.
h5diff darcy_run/checkpoint_best.h5 darcy_run/checkpoint_best.h5 /normalizers/inputs /normalizers/inputs \
  >/dev/null && ok || bad "darcy: no /normalizers/inputs"

# IFactFormer on the shared pipeline. 2D, chained variant (-o), on the NS data: trains, rolls out.
iffs=(--set model.dim=8 --set model.heads=2 --set model.dim_head=4 --set model.n_layer=2 --set train.batch=4)
"$surro" -q train "$configs/train_ifactformer_ns2d.json" --set run.output_dir=iff2d --set data.dataset=data \
  --set data.t_in=4 --set model.variant=chained --set train.epochs=3 "${iffs[@]}" || bad "ifactformer 2D train"
"$surro" -q rollout iff2d/checkpoint_best.h5 --samples 2 -o iff2d_roll >/dev/null && [[ -s iff2d_roll/rollout.pvd ]] \
  && ok || bad "ifactformer 2D rollout"
# 3D, parallel variant (-m), on a tiny burgers_3d dataset (u, v, w on 8^3): the validation loss
# falls over 4 epochs, and the rollout's ParaView series holds the three predicted fields.
"$surro" -q generate "$configs/burgers3d.json" --set run.output_dir=b3d --set solver.grid=16 \
  --set solver.record_grid=8 --set solver.record_steps=6 --set solver.t_final=0.3 --set solver.dt=0.01 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 \
  --set dataset.batch=4 || bad "burgers3d generate"
"$surro" -q train "$configs/train_ifactformer_burgers3d.json" --set run.output_dir=iff3d --set data.dataset=b3d \
  --set train.epochs=4 "${iffs[@]}" || bad "ifactformer 3D train"
first=$(sed -n 2p iff3d/history.csv | cut -d, -f5) final=$(tail -n 1 iff3d/history.csv | cut -d, -f5)
[[ -n $first && -n $final ]] && awk -v a="$first" -v b="$final" 'BEGIN { exit !(b + 0 < a + 0) }' && ok \
  || bad "ifactformer 3D valid loss $first -> $final"
"$surro" -q rollout iff3d/checkpoint_best.h5 --samples 2 -o iff3d_roll >/dev/null &&
  grep -q 'u_pred' iff3d_roll/rollout_000000.vti && grep -q 'w_error' iff3d_roll/rollout_000000.vti && ok \
  || bad "ifactformer 3D rollout: $(ls iff3d_roll 2>&1 | head -3)"

echo "train: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
