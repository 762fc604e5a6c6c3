#!/usr/bin/env bash
# Disk full during every kind of write: `generate` (dataset files), `train` (checkpoints) and
# `rollout` (rollout.hdf5 after the metrics and the ParaView files). Each must exit 1 with one
# error line that names the file and the OS error, leave no temporary (.NAME.tmp*) behind, keep
# the files written before the failure intact, and (rollout) leave the folder marked unfinished
# (.incomplete).
# The full disk is a small tmpfs when this machine lets us mount one (root, as in CI); otherwise a
# file-size limit (ulimit -f, SIGXFSZ ignored so write() returns EFBIG) stands in for it: then every
# file over the limit fails, so "files before the failure" cannot be checked for generate and train.
# SURRO_FAULTS_METHOD=ulimit forces the fallback.
# Usage: disk_full.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

# small_dir NAME KB LIMIT_KB: a tmpfs folder that holds about KB kilobytes, or (fallback) a plain
# folder with LIMIT_KB as the file-size limit for run_limited.
method=""
[[ ${SURRO_FAULTS_METHOD:-} == ulimit ]] && method="ulimit -f"
small_dir() {
  mkdir -p "$work/$1"
  if [[ -z $method || $method == tmpfs ]] && mount -t tmpfs -o "size=$2k" tmpfs "$work/$1" 2>/dev/null; then
    mounts+=("$work/$1")
    method=tmpfs
    limit_kb=""
  else
    method="ulimit -f"
    limit_kb=$3
  fi
}
# run_limited LOG CMD...: runs CMD under the file-size limit in ulimit mode (plain otherwise).
run_limited() {
  local log=$1
  shift
  if [[ -n $limit_kb ]]; then
    (trap '' XFSZ; ulimit -f "$limit_kb"; exec "$@") 2>"$log"
  else
    "$@" 2>"$log"
  fi
}
# check_failure WHAT LOG DIR FILE_PATTERN rc: exit 1, one error line naming a file that matches
# FILE_PATTERN (the target, not its temporary) and the OS error, no temporary left in DIR.
check_failure() {
  local what=$1 log=$2 dir=$3 pattern=$4 rc=$5
  [[ $rc -eq 1 ]] && ok || bad "$what: exit $rc, expected 1 (139: crashed in HDF5's shutdown)"
  local lines
  lines=$(wc -l <"$log")
  [[ $lines -eq 1 ]] && ok || bad "$what: expected one error line, got $lines: $(cat "$log")"
  grep -Eq "^surro: error: .*${pattern}.*(No space left on device|File too large)" "$log" && ok \
    || bad "$what: the error does not name the file and the OS error: $(cat "$log")"
  grep -q '\.tmp[0-9]' "$log" && bad "$what: the error names the temporary, not the file: $(cat "$log")" || ok
  local left
  left=$(find "$dir" -name '.*.tmp*' | head -3)
  [[ -z $left ]] && ok || bad "$what: temporaries left behind: $left"
}

set_gen=(--set solver.grid=32 --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14
         --set solver.dt=2e-3 --set dataset.train=4 --set dataset.valid=2 --set dataset.test=2
         --set dataset.per_file=2)
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data "${set_gen[@]}" || bad "generate on disk"
tiny=(--set data.dataset="$work/data" --set train.batch=4 --set model.modes=[4,4] --set model.width=8
      --set model.projection=16 --set train.mode=teacher_forcing --set data.t_out=1)
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=model "${tiny[@]}" --set train.epochs=1 \
  || bad "train on disk"

# generate: each file is about 48 KiB; 120 KiB holds two (and config.json), not the third.
small_dir gen 120 40
run_limited gen.log "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir="$work/gen" \
  "${set_gen[@]}"
check_failure generate gen.log gen 'ns2d_nu1e-3_000[0-9]\.hdf5' $?
if [[ $method == tmpfs ]]; then
  [[ -s gen/data/train/ns2d_nu1e-3_0000.hdf5 ]] && "$surro" -q validate gen/data/train/ns2d_nu1e-3_0000.hdf5 \
    >/dev/null && ok || bad "generate: the file written before the failure is gone or damaged"
fi

# train: checkpoint_best is 84 KB, checkpoint_last 236 KB: epoch 1 writes both (320 KB); epoch 2's
# temporary beside them does not fit in 400 KB.
small_dir ckpt 400 60
run_limited train.log "$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir="$work/ckpt" \
  "${tiny[@]}" --set train.epochs=3
check_failure train train.log ckpt 'checkpoint_(last|best)\.h5' $?
if [[ $method == tmpfs ]]; then
  "$surro" -q rollout ckpt/checkpoint_last.h5 -o ckpt_check >/dev/null 2>&1 && ok \
    || bad "train: checkpoint_last.h5 from before the failure is gone or damaged"
fi

# rollout: metrics, statistics and two .vti (11 pages) fit in 64 KiB; rollout.hdf5 (31 KB) does not.
small_dir roll 64 20
run_limited roll.log "$surro" -q rollout model/checkpoint_last.h5 -o "$work/roll" --vtk-every 4 >/dev/null
check_failure rollout roll.log roll 'rollout\.(hdf5|pvd|vti)|rollout_[0-9]+\.vti|metrics|statistics|spectrum' $?
[[ -e roll/.incomplete ]] && ok || bad "rollout: the unfinished folder is not marked (.incomplete): $(ls -a roll)"
# The ParaView files (VTK's writer) fail the same way: 28 KiB hold the metrics, not the first .vti.
if [[ $method == tmpfs ]]; then
  small_dir roll_vtk 28 0
  run_limited roll_vtk.log "$surro" -q rollout model/checkpoint_last.h5 -o "$work/roll_vtk" --vtk-every 4 >/dev/null
  check_failure "rollout (vtk)" roll_vtk.log roll_vtk 'rollout[._].*(vti|pvd)|statistics|spectrum' $?
  [[ -e roll_vtk/.incomplete ]] && ok || bad "rollout (vtk): the unfinished folder is not marked"
fi
# And a finished rollout is not marked.
"$surro" -q rollout model/checkpoint_last.h5 -o "$work/roll_ok" --vtk-every 4 >/dev/null || bad "rollout on disk"
[[ -s roll_ok/metrics.json && ! -e roll_ok/.incomplete ]] && ok || bad "finished rollout: $(ls -a roll_ok)"

echo "disk_full: method $method; $pass checks passed, $failures failed"
[[ $failures -eq 0 ]]
