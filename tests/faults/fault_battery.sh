#!/usr/bin/env bash
# The standing fault battery of issue #12: hostile but realistic inputs on a tiny dataset, each
# checked for its exit code, one line naming what is wrong, and the state on disk (a refusal writes
# nothing; a diverged run never replaces a good checkpoint). One section per defect class.
# Usage: fault_battery.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# absent PATH...: a refused command left nothing behind.
absent() { for p in "$@"; do [[ ! -e $p ]] && ok || bad "a refused command wrote $p"; done; }

# A tiny NS dataset (15 frames of 16^2, 8/2/2 trajectories) and a one-epoch model trained on it.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 || bad "generate"
tcfg="$configs/train_fno_ns2d.json"
tiny=(--set data.dataset=data --set train.batch=4 --set model.modes=[4,4] --set model.width=8
      --set model.projection=16 --set train.mode=teacher_forcing --set data.t_out=1 --set data.all_starts=true)
"$surro" -q train "$tcfg" --set run.output_dir=good "${tiny[@]}" --set train.epochs=1 || bad "train"
ck=good/checkpoint_last.h5
data_sum=$(md5sum data/config.json)
ck_sum=$(md5sum "$ck")

# Class 4: integers out of range, numbers beyond double, duplicate keys.
expect 2 'train\.batch: expected a positive integer no larger than 2147483647, got 4294967312' -- \
  "$surro" check "$tcfg" --set train.batch=4294967312
expect 2 'model\.modes\[1\]: expected .* no larger than 2147483647' -- "$surro" check "$tcfg" --set 'model.modes=[4,4294967300]'
printf '{"run": {"seed": 1e400}}\n' >huge.json
expect 2 '^surro: error: huge\.json: malformed JSON: number overflow' -- "$surro" check huge.json
printf '{"run": {"seed": 1, "name": "a", "seed": 2}}\n' >dup.json
expect 2 '^surro: error: dup\.json: run\.seed: duplicate key' -- "$surro" check dup.json
for flag in "--steps 4294967297" "--steps -1" "--samples -1" "--samples 4294967298" "--start -1" \
            "--vtk-sample -2" "--vtk-every 0" "--seed -5"; do
  # shellcheck disable=SC2086
  expect 2 "${flag%% *}" -- "$surro" -q rollout "$ck" $flag -o out_int
done
absent out_int

# Class 5: every user index checked before any work or output.
expect 2 '--start 99: trajectories have 15 frames' -- "$surro" -q rollout "$ck" --start 99 -o out_idx
expect 2 '--start 2147483647: trajectories have 15 frames' -- "$surro" -q rollout "$ck" --start 2147483647 -o out_idx
expect 2 '--vtk-sample 99: expected 0\.\.1' -- "$surro" -q rollout "$ck" --samples 2 --vtk-sample 99 -o out_idx
expect 2 '--vtk-sample 5: expected 0\.\.1' -- "$surro" -q rollout "$ck" --vtk-sample 5 -o out_idx
expect 2 '--samples 3: the test split has 2' -- "$surro" -q rollout "$ck" --samples 3 -o out_idx
expect 2 '--split' -- "$surro" -q eval "$ck" --split bogus -o out_idx
absent out_idx

# Class 3: unsafe output locations are refused before any work, naming the key.
expect 2 'run\.output_dir: expected a non-empty folder path' -- "$surro" -q train "$tcfg" --set run.output_dir= "${tiny[@]}"
expect 2 'run\.output_dir: expected a non-empty folder path' -- "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set 'run.output_dir=""'
expect 2 "run\.output_dir = '/': refusing to write into the filesystem root" -- \
  "$surro" -q simulate "$configs/demo_ns2d.json" --set run.output_dir=/
expect 2 "run\.output_dir = 'data': is the dataset folder" -- "$surro" -q train "$tcfg" --set run.output_dir=data "${tiny[@]}"
expect 2 "run\.output_dir = 'data/run': is inside the dataset folder" -- \
  "$surro" -q train "$tcfg" --set run.output_dir=data/run "${tiny[@]}"
expect 2 "run\.output_dir = './data/': is the dataset folder" -- "$surro" -q train "$tcfg" --set run.output_dir=./data/ "${tiny[@]}"
[[ $(md5sum data/config.json) == "$data_sum" ]] && ok || bad "the dataset's config.json was overwritten"
absent data/run data/checkpoint_last.h5 data/history.csv
expect 2 "-o = 'data/roll': is inside the dataset folder" -- "$surro" -q rollout "$ck" -o data/roll
expect 2 "-o = 'data': is the dataset folder" -- "$surro" -q eval "$ck" -o data
expect 2 "is the folder of the checkpoint" -- "$surro" -q rollout "$ck" -o good
expect 2 "-o = 'good/checkpoint_last.h5': exists and is not a folder" -- "$surro" -q rollout "$ck" -o "$ck"
absent data/roll good/metrics.json
[[ $(md5sum data/config.json) == "$data_sum" && $(md5sum "$ck") == "$ck_sum" ]] && ok || bad "inputs changed"

# Class 2: a diverging learning rate stops at once (exit 1, naming epoch, step and the quantity)
# and checkpoint_last.h5 keeps the last good epoch, which still rolls out.
expect 1 'train: epoch 1, step [0-9]+: the (training loss|gradient norm|validation loss) is .*training diverged' -- \
  "$surro" -q train "$tcfg" --set run.output_dir=diverged "${tiny[@]}" --set optimizer.lr=1e30 --set train.epochs=3
absent diverged/checkpoint_last.h5 diverged/checkpoint_best.h5
# A resume may not change optimizer.lr (class 6), so the divergence comes from the run's own step
# schedule: learning rate 1e-3 in epoch 1, times 1e30 from epoch 2.
blowup=(--set 'schedule={"type": "step", "unit": "epoch", "step_size": 1, "gamma": 1e30}')
"$surro" -q train "$tcfg" --set run.output_dir=resumed "${tiny[@]}" "${blowup[@]}" --set train.epochs=1 || bad "train 1 epoch"
resumed_sum=$(md5sum <resumed/checkpoint_last.h5)
expect 1 'train: epoch 2, step [0-9]+: .* is .*training diverged' -- \
  "$surro" -q train "$tcfg" --set run.output_dir=resumed "${tiny[@]}" "${blowup[@]}" --set train.epochs=3 --resume
[[ $(md5sum <resumed/checkpoint_last.h5) == "$resumed_sum" ]] && ok || bad "a diverged resume replaced checkpoint_last.h5"
[[ $(wc -l <resumed/history.csv) -eq 2 ]] && ok || bad "a diverged epoch left a history row"
"$surro" -q eval resumed/checkpoint_last.h5 --samples 1 | grep -q '^trajectory: relative L2 [0-9]' && ok \
  || bad "the kept checkpoint does not evaluate"

# A checkpoint whose predictions blow up (learning rate 10: finite weights, one epoch, and a
# rollout that overflows after a few steps): rollout and eval exit 1 naming the step, writing nothing.
"$surro" -q train "$tcfg" --set run.output_dir=wild "${tiny[@]}" --set optimizer.lr=10 --set train.epochs=1 \
  || bad "train wild"
expect 1 'wild/checkpoint_last\.h5: the prediction of step [0-9]+ is not finite \(sample [0-9]+, value [0-9]+ is .*nan' -- \
  "$surro" -q rollout wild/checkpoint_last.h5 -o wild_roll --vtk-every 1
expect 1 'the prediction of step [0-9]+ is not finite' -- "$surro" -q eval wild/checkpoint_last.h5 -o wild_eval
absent wild_roll wild_eval

# Class 8: absurd sizes are refused before any output, naming the key, with the estimate and the
# available memory (or disk).
expect 2 '^surro: error: model: model type fno with [0-9.e+]+ parameters .* needs at least .* of memory, .* available \(' -- \
  "$surro" -q train "$tcfg" --set run.output_dir=huge "${tiny[@]}" --set model.width=1000000000
expect 2 '^surro: error: train\.batch = 1000000000: .* needs at least .* TiB of memory' -- \
  "$surro" -q train "$tcfg" --set run.output_dir=huge "${tiny[@]}" --set train.batch=1000000000
expect 2 '^surro: error: solver\.grid = 1000000: .* needs at least .* of memory' -- \
  "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=huge --set solver.grid=1000000 \
  --set dataset.train=2 --set dataset.valid=0 --set dataset.test=0
expect 2 '^surro: error: dataset\.per_file = 2000: .* needs at least .* of memory' -- \
  "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=huge --set solver.grid=4096 \
  --set solver.record_grid=4096 --set dataset.train=2000 --set dataset.per_file=2000 --set dataset.batch=1
expect 2 '^surro: error: dataset\.train \+ valid \+ test = 2000000300: .* needs at least .* of disk space' -- \
  "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=huge --set dataset.train=2000000000
absent huge

# Class 3 (export): an output inside the dataset folder, or the folder itself, is refused first.
expect 2 "-o = 'data/export\.mat': is inside the dataset folder 'data'" -- \
  "$surro" -q export data --format fno-mat -o data/export.mat
expect 2 "-o = 'data': is a folder" -- "$surro" -q export data --format fno-mat -o data
expect 2 "-o = 'data/data/train/x\.mat': is inside the dataset folder" -- \
  "$surro" -q export data --format fno-mat -o data/data/train/x.mat
absent data/export.mat data/data/train/x.mat
"$surro" -q export data --format fno-mat -o export.mat && [[ -s export.mat ]] && ok || bad "export beside the dataset"

# Class 9: unknown subcommand named, Kokkos flag typo, missing checkpoint file.
expect 2 "unknown subcommand 'trian'; valid subcommands: .*train" -- "$surro" trian x.json
expect 2 '--kokkos-threads=abc: expected --kokkos-threads=N' -- "$surro" --kokkos-threads=abc info
expect 2 'missing\.h5: no such checkpoint file' -- "$surro" -q rollout missing.h5 -o out_missing
absent out_missing

# Class 7 (part): Ctrl-C stops training like SIGTERM (checkpoint, exit 4); a resume removes the
# temporaries a killed checkpoint write left behind.
"$surro" -q train "$tcfg" --set run.output_dir=int "${tiny[@]}" --set train.epochs=200 &
pid=$!
for _ in $(seq 1 1000); do [[ -s int/history.csv ]] && break; sleep 0.01; done
kill -INT $pid
wait $pid
rc=$?
[[ $rc -eq 4 && -s int/checkpoint_last.h5 ]] && ok || bad "SIGINT: exit $rc, expected 4 with a checkpoint"
: >good/.checkpoint_last.h5.tmp4242.17
: >good/.history.csv.tmp4242.18
"$surro" -q train "$tcfg" --set run.output_dir=good "${tiny[@]}" --set train.epochs=2 --resume || bad "resume"
[[ -z $(find good -name '.*.tmp*') ]] && ok || bad "orphan temporaries survived a resume: $(find good -name '.*.tmp*')"

echo "faults: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
