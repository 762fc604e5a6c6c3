#!/usr/bin/env bash
# Benchmark case 5 of issue 6: a 200-step autoregressive rollout of the FNO-2D (modes 12, width 32,
# 10 frames in, 1 out: the suite's fno2d_m12w32 model) on one trajectory at 64², writing the VTK
# series every 10 steps, timed end to end: `surro rollout` against the PyTorch peer
# bench/peers/rollout.py, which does the same work on the same checkpoint and trajectory.
#
# On the GPU machine (the stage from bench/gpu/stage.sh, unpacked through bench/gpu/env.sh):
#   bench/gpu/rollout.sh
# Here, a CPU smoke test (build/release, Debian's torch in /usr/bin/python3, 32² instead of 64²):
#   bench/gpu/rollout.sh --cpu --small
# Options:
#   --reps R        timed runs of each side, interleaved (default 3); the table shows the median
#   --warmup W      untimed runs of each side first (default 1): libraries and data in the page
#                   cache, as on any run after the first
#   --steps N       rollout steps (default 200);  --vtk-every N  (default 10)
#   --no-table      print the raw lines only (bench/gpu/suite.sh --only roll makes the table)
#   --staged        the caller has unpacked the stage already (suite.sh): keep it
#   --profile       after the timed runs, one more surro run with SURRO_PROFILE=1: its per-kernel
#                   and per-region profile (core/profile.hpp) to $OUT/profile_rollout.txt (or the
#                   work folder's, printed), to see what a step spends besides the model
# Environment: PYTHON (python3; /usr/bin/python3 with --cpu), BUILD (build/release, with --cpu),
# OUT (raw lines to $OUT/rollout.log, the table to $OUT/rollout.md).
#
# The data are for timing only: a small NS 2D dataset (nu 1e-3, FNO forcing) solved directly on the
# record grid with IF-RK4 at dt 1e-2, frames every 0.1 time units (steps + 11 frames; seconds to
# generate), 4/1/1 trajectories; the FNO trains for one teacher-forced epoch over every window of
# the 4 training trajectories (enough for a rollout that stays bounded, not an accurate model), with
# normalize none so the peer needs no normalizers. Timed per run: the wall time of the whole process
# (`surro rollout CKPT --samples 1 --steps N --vtk-every M -o DIR`; the peer's `python3
# bench/peers/rollout.py ...`, import torch included), and each side's own in-process figure without
# start-up (surro's "from the first step to the last output" info line; the peer's inprocess_s).
# Each peer run also reports its difference from the surro run just before it (predicted
# trajectories at step 1 and the last step).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0 small=0 reps=3 warmup=1 steps=200 every=10 table=1 staged=0 profile=0
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    --small) small=1 ;;
    --reps) reps=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --steps) steps=$2; shift ;;
    --vtk-every) every=$2; shift ;;
    --no-table) table=0 ;;
    --staged) staged=1 ;;
    --profile) profile=1 ;;
    *) echo "rollout.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for v in reps steps every; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "rollout.sh: --${v/every/vtk-every} ${!v}: expected a positive integer" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "rollout.sh: --warmup $warmup: expected a non-negative integer" >&2; exit 2; }

if ((cpu)); then
  surro=$PWD/${BUILD:-build/release}/app/surro
  py=${PYTHON:-/usr/bin/python3} dev=cpu
else
  # Unpack this call's stage, not an older one.
  ((staged)) || { [[ -f .device/stage.tgz ]] && rm -rf /tmp/surro-stage; }
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
  surro=$(command -v surro)
  py=${PYTHON:-python3} dev=cuda
  ((staged)) || nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi
[[ -x $surro ]] || { echo "rollout.sh: no surro executable ($surro)" >&2; exit 2; }
if ((small)); then grid=32; else grid=64; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/surro-rollout.XXXXXX")
trap 'rm -rf "$work"' EXIT
[[ -n ${OUT:-} ]] && mkdir -p "$OUT"
log=${OUT:+$OUT/rollout.log}
log=${log:-$work/rollout.log}
: >>"$log"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
echo "rollout: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $surro $("$py" -c 'import torch; print("torch", torch.__version__)')" \
  | tee -a "$log"

# Data and checkpoint: timing inputs only (see the header).
frames=$((steps + 10))  # record_steps: steps + 11 frames at t = 0, 0.1, ...
t0=$(now)
"$surro" -q generate configs/ns2d_nu1e-3.json --set run.output_dir="$work/data" --set solver.grid=$grid \
  --set solver.record_grid=$grid --set solver.scheme=ifrk4 --set solver.dt=1e-2 \
  --set solver.t_final="$(awk -v n=$frames 'BEGIN { print n / 10 }')" --set solver.record_steps=$frames \
  --set dataset.train=4 --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=4 \
  || { echo "rollout.sh: generate failed" >&2; exit 1; }
t1=$(now)
"$surro" -q train configs/train_fno_ns2d.json --set run.output_dir="$work/run" --set data.dataset="$work/data" \
  --set 'model.modes=[12,12]' --set model.width=32 --set data.t_out=1 --set train.mode=teacher_forcing \
  --set data.all_starts=true --set train.epochs=1 --set train.batch=20 --set normalize.inputs=none \
  --set normalize.targets=none >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; echo "rollout.sh: train failed" >&2; exit 1; }
t2=$(now)
ckpt=$work/run/checkpoint_last.h5
echo "rollout_setup grid=$grid frames=$((frames + 1)) generate_s=$(elapsed "$t0" "$t1") train_s=$(elapsed "$t1" "$t2")" \
  "$(tail -n 1 "$work/run/history.csv" | awk -F, '{ print "train_loss=" $4 " valid_loss=" $5 }')" | tee -a "$log"

# run_surro REP: one timed surro rollout; a JSON line (rep 0 = warm-up, not printed).
run_surro() {
  local rep=$1 a b rc ins stp vti
  rm -rf "$work/surro"
  a=$(now)
  "$surro" rollout "$ckpt" --samples 1 --steps "$steps" --vtk-every "$every" -o "$work/surro" \
    >"$work/surro.out" 2>"$work/surro.err"
  rc=$?
  b=$(now)
  ((rep)) || return 0
  # "surro: info: rollout: 1.23 s from the first step to the last output (1.01 s stepping)"
  ins=$(sed -n 's/.*rollout: \([0-9.e+-]*\) s from the first step.*/\1/p' "$work/surro.err")
  stp=$(sed -n 's/.*last output (\([0-9.e+-]*\) s stepping).*/\1/p' "$work/surro.err")
  if ((rc)); then
    tail -n 3 "$work/surro.err" >&2
    echo "{\"impl\": \"surro\", \"case\": \"rollout\", \"rep\": $rep, \"status\": \"error\", \"reason\": \"exit $rc\"}"
  else
    vti=("$work/surro/"rollout_*.vti)
    echo "{\"impl\": \"surro\", \"case\": \"rollout\", \"rep\": $rep, \"grid\": [$grid, $grid], \"steps\": $steps," \
      "\"vtk_every\": $every, \"vtk_files\": ${#vti[@]}, \"space\": \"$dev\"," \
      "\"wall_s\": $(elapsed "$a" "$b"), \"inprocess_s\": ${ins:-null}, \"steps_s\": ${stp:-null}, \"status\": \"ok\"}"
  fi
}

# run_peer REP: the peer on the same checkpoint and trajectory, compared with the surro run before
# it; its JSON line with the process's wall time added.
run_peer() {
  local rep=$1 a b out
  rm -rf "$work/peer"
  a=$(now)
  out=$("$py" bench/peers/rollout.py --checkpoint "$ckpt" --dataset "$work/data" --steps "$steps" \
    --vtk-every "$every" -o "$work/peer" --device $dev --surro "$work/surro" 2>&1)
  b=$(now)
  ((rep)) || return 0
  if [[ $(tail -1 <<<"$out") == "{"* ]]; then
    "$py" -c 'import json, sys; r = json.loads(sys.argv[1]); r.update(rep=int(sys.argv[2]), wall_s=float(sys.argv[3])); print(json.dumps(r))' \
      "$(tail -1 <<<"$out")" "$rep" "$(elapsed "$a" "$b")"
  else
    printf '%s\n' "$out" | tail -5 >&2
    echo "{\"impl\": \"torch-eager\", \"case\": \"rollout\", \"rep\": $rep, \"status\": \"killed\"}"
  fi
}

for ((r = 0; r < warmup; r++)); do run_surro 0; run_peer 0; done
for ((r = 1; r <= reps; r++)); do
  run_surro $r | tee -a "$log"
  run_peer $r | tee -a "$log"
done

if ((profile)); then
  prof=${OUT:-$work}/profile_rollout.txt
  SURRO_PROFILE=1 "$surro" rollout "$ckpt" --samples 1 --steps "$steps" --vtk-every "$every" -o "$work/surro" \
    >"$prof" 2>&1 || echo "rollout.sh: the profiled run failed (see $prof)" >&2
  [[ -n ${OUT:-} ]] || cat "$prof"
fi

((table)) && "$py" bench/peers/table.py "$log" | tee ${OUT:+"$OUT/rollout.md"}
