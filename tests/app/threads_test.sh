#!/usr/bin/env bash
# Results do not depend on the OpenMP thread count (issue 13): each job below runs twice, with
# OMP_NUM_THREADS=1 and =N, and the two outputs must be bitwise equal (h5diff without a tolerance,
# cmp). Jobs: a Navier-Stokes dataset (spectral solver), FNO training on it and a rollout of the
# trained model with its metrics (spectrum shells included), a CylinderFlow dataset (the FEM solver
# with AMG-preconditioned CG), and a training epoch of both graph models on it (MeshGraphNet, mesh
# transformer). Both runs of a training job read the same dataset (the one-thread one), so a
# difference points at the training, not at its data.
# Skipped (exit 77) unless surro runs its numeric work on Kokkos::OpenMP (Serial and CUDA builds).
# Usage: threads_test.sh /path/to/surro CONFIG_DIR [N]   (N: SURRO_TEST_THREADS, default 2)
set -u
surro=$(realpath "$1")
configs=$(realpath "$2")
n=${3:-${SURRO_TEST_THREADS:-2}}
if ! "$surro" info --json | grep -Eq '"execution_space": "OpenMP"'; then
  echo "SKIP: the execution space is not OpenMP ($("$surro" info --json | grep '"execution_space"'))"
  exit 77
fi
work=$(mktemp -d)
[[ -n ${SURRO_KEEP_WORK:-} ]] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0 failures=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# at THREADS ARGS...: surro with THREADS OpenMP threads; OpenBLAS follows OMP_NUM_THREADS when its own
# variable is unset, so its GEMMs run with the same count.
at() {
  local t=$1
  shift
  env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS OMP_NUM_THREADS="$t" OMP_PROC_BIND=false \
    "$surro" -q "$@"
}
# twice WHAT ARGS...: the job with 1 thread in t1/, with n in tn/, writing WHAT there (ARGS use
# @OUT@ for it). Both runs see the same relative paths, so the configs stored in the outputs agree.
twice() {
  local what=$1 t
  shift
  for t in 1 "$n"; do
    local top=$work/t$([[ $t == 1 ]] && echo 1 || echo n)
    mkdir -p "$top"
    (cd "$top" && at "$t" "${@//@OUT@/$what}" >"$what.log" 2>&1) || bad "$what with $t thread(s): $(tail -3 "$top/$what.log")"
  done
}
# same_h5 FILE [OBJECT]: t1/FILE and tn/FILE (or their OBJECT) hold the same values, bit for bit.
same_h5() {
  local out
  if [[ ! -s t1/$1 || ! -s tn/$1 ]]; then
    bad "$1: missing ($(ls "$(dirname "t1/$1")" 2>&1 | tr '\n' ' '))"
  elif out=$(h5diff -r "t1/$1" "tn/$1" ${2:+"$2" "$2"} 2>&1); then
    ok
  else
    bad "$1${2:+ $2} differs between 1 and $n threads: $(grep -v '^$' <<<"$out" | head -8)"
  fi
}

# A small Navier-Stokes dataset: 2 + 1 + 1 trajectories of 13 frames, 32^2 recorded on 16^2.
twice ns generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=@OUT@ --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=12 --set solver.record_steps=12 --set solver.dt=2e-3 \
  --set dataset.train=2 --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2
h5s=$(cd t1/ns 2>/dev/null && find . -name '*.h5' -o -name '*.hdf5' | sort)
[[ -n $h5s ]] || bad "ns: no HDF5 file written"
for f in $h5s; do same_h5 "ns/$f"; done

# FNO, 3 epochs teacher-forced on the one-thread dataset: weights, Adam moments, history's losses.
fno=(--set data.dataset="$work/t1/ns" --set train.batch=4 --set model.modes=[4,4] --set model.width=8
     --set model.projection=16 --set train.epochs=3 --set train.mode=teacher_forcing --set data.t_out=1
     --set data.all_starts=true)
twice fno train "$configs/train_fno_ns2d.json" --set run.output_dir=@OUT@ "${fno[@]}"
same_h5 fno/checkpoint_last.h5
# history.csv: the loss columns (the wall-clock column differs by nature).
loss_cols() { head -1 "$1" | tr ',' '\n' | grep -nvE 'time|seconds|wall|_s$' | cut -d: -f1 | paste -sd, -; }
if [[ -s t1/fno/history.csv && -s tn/fno/history.csv ]]; then
  cols=$(loss_cols t1/fno/history.csv)
  cmp -s <(cut -d, -f"$cols" t1/fno/history.csv) <(cut -d, -f"$cols" tn/fno/history.csv) && ok ||
    bad "fno history differs: $(diff <(cut -d, -f"$cols" t1/fno/history.csv) <(cut -d, -f"$cols" tn/fno/history.csv) | head -4)"
else
  bad "fno: no history.csv"
fi

# Rollout of the one-thread model, its trajectories and metrics (rel-L2, RMSE, spectrum error).
twice roll rollout "$work/t1/fno/checkpoint_last.h5" --samples 1 -o @OUT@
same_h5 roll/rollout.hdf5
cmp -s t1/roll/metrics.json tn/roll/metrics.json && ok ||
  bad "rollout metrics.json differs: $(diff t1/roll/metrics.json tn/roll/metrics.json | head -6)"

# CylinderFlow: 2 + 1 + 1 trajectories of 6 recorded steps on a coarse mesh (FEM, AMG-CG).
twice cyl generate "$configs/cylinder_flow.json" --set run.output_dir=@OUT@ --set dataset.train=2 \
  --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2 --set dataset.batch=4 \
  --set solver.steps=6 --set solver.spinup=0.2 --set solver.mesh_size=0.1
h5s=$(cd t1/cyl 2>/dev/null && find . -name '*.h5' -o -name '*.hdf5' | sort)
[[ -n $h5s ]] || bad "cyl: no HDF5 file written"
for f in $h5s; do same_h5 "cyl/$f"; done

# Both graph models, one epoch each on the one-thread CylinderFlow data.
twice mgn train "$configs/train_meshgraphnet_cylinder.json" --set run.output_dir=@OUT@ \
  --set data.dataset="$work/t1/cyl" --set model.hidden=16 --set model.blocks=2 --set train.epochs=1
same_h5 mgn/checkpoint_last.h5
twice mt train "$configs/train_mesh_transformer_cylinder.json" --set run.output_dir=@OUT@ \
  --set data.dataset="$work/t1/cyl" --set model.dim=16 --set model.layers=2 --set train.epochs=1 \
  --set data.fields='["velocity","pressure"]'
same_h5 mt/checkpoint_last.h5

echo "threads (1 vs $n): $pass passed, $failures failed"
[[ $failures -eq 0 ]]
