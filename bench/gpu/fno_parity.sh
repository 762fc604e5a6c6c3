#!/usr/bin/env bash
# Learning parity with the original FNO script (issue 14): trains surro (configs/train_fno_ns2d.json,
# train.mode unrolled) and the ORIGINAL fourier_2d_time.py of zongyi-li/fourier_neural_operator
# (bench/peers/fno_original.py runs upstream's file) on the same data, same model (FNO-2D, modes 8,
# width 20), optimizer (Adam, lr 1e-3, weight decay 1e-4, batch 20) and schedule (StepLR), for
# several seeds, and records each epoch of each run in one CSV. bench/peers/fno_parity_table.py
# turns the CSVs of one or more calls into the epoch table with seed spreads and the verdict.
#
# Data: NS nu = 1e-3 generated as accuracy.sh's ns case (configs/ns2d_nu1e-3.json with
# bench/gpu/ns_data.sh's 64² IF-RK4 overrides; 1000 train / 100 valid / 200 test), exported with
# `surro export --format fno-mat` to train.mat / test.mat, which the original reads as they are.
# Both sides train on t = 1..10 -> t = 11..50 (the original's u[..., :10] -> u[..., 10:50]):
# surro trains on a dataset imported from the same values (bench/peers/fno_parity.py says why).
# Every CSV row carries the data hash; calls on fresh machines regenerate the data and must agree.
#
# Prerequisites here: bench/gpu/stage.sh (the CUDA build), THEN bench/gpu/fetch_fno_original.sh
# (upstream's files into .device/fno_original; stage.sh empties .device). Carry .device.
#
# Environment (defaults in brackets):
#   SIDE     both | surro | original [both]: for each seed, surro first, then the original
#   SEEDS    ["0 1 2"]        EPOCHS [50]     STEP [10]     GAMMA [0.5]   (StepLR, per epoch)
#   BUDGET_S [540]: wall seconds for the whole call, data included. A run stops at an epoch
#            boundary when the next epoch would pass it, and leaves a state file in the output;
#            runs not reached are listed as not started.
#   RESUME_DIR [.device/fno_parity]: state files of earlier calls (copy them there from the earlier
#            call's output, carry .device): a run whose state file is there continues after its
#            saved epoch. Names: surro_<tag>_s<seed>.state.tgz, original_<tag>_s<seed>.state.pt.
#   NTRAIN [1000] NTEST [200] GRID [64]; SMALL=1: a smoke test (32², 20 / 2 / 20 trajectories);
#   PARALLEL [0]: 1 runs every (side, seed) at once on the one GPU (the original's small batches should
#            leave it mostly idle, so all at once should take not much longer than one: not measured);
#            the epoch times are then shared-GPU times, marked as such, and no timing: measure the
#            time per epoch with PARALLEL=0 (one seed is enough).
#   TF32 [0]: 1 adds, for each seed, a surro run with model.matmul_precision tf32 (side surro-tf32 in
#            the CSV, state files surro-tf32_*): what TF32 GEMMs do to accuracy, same data and epochs.
#   PYTHON [python3]; WORK [/tmp/surro-parity]; OUT: outputs go to $OUT/fno_parity/ (SMALL=1:
#   $OUT/fno_parity_small/).
# Outputs (at most 3 files plus one state file per unfinished run): curves.csv (one row per epoch
# per run), log.txt, summary.txt (this call's table), *.state.* of runs stopped by the budget.
# A run that completes leaves no state file: give the next call only the seeds still to do.
# surro trains in segments (2 epochs, then as many as the budget holds, `--resume` in between),
# with an eval of the last checkpoint after each; the first epoch of each segment includes the
# process's start-up (planning), so compare times by the table's medians, not single epochs.
# surro's validation split is the test split (the original also tests every epoch); the figures
# come from checkpoint_last.h5, as the original reports its last epoch, never from a best-of.
#
# Time (estimates from earlier H100/H200 calls, 1000 train samples; check log.txt): data on a fresh
# machine ≈ 110 s to generate + ≈ 30 s to export, hash and import (a warm machine reuses it);
# surro ≈ 5 s per epoch (50 epochs ≈ 270 s with start-up and evals); the original 15–23 s per
# epoch (50 epochs ≈ 750–1150 s: two or three calls). So one 600 s call (BUDGET_S=540) holds the
# data, one complete surro seed and a few original epochs; or, with the data, about 20 original
# epochs (SIDE=original). 3 seeds × both sides × 50 epochs ≈ 60 min of device time in all.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
t_start=$(date +%s)
budget=${BUDGET_S:-540}
deadline=$((t_start + budget))
side=${SIDE:-both}
seeds=${SEEDS:-0 1 2}
epochs=${EPOCHS:-50}
step=${STEP:-10}
gamma=${GAMMA:-0.5}
small=${SMALL:-0}
parallel=${PARALLEL:-0}
tf32=${TF32:-0}
if [[ $small == 1 ]]; then ntrain=${NTRAIN:-20} ntest=${NTEST:-20} grid=${GRID:-32}; else
  ntrain=${NTRAIN:-1000} ntest=${NTEST:-200} grid=${GRID:-64}; fi
for v in PARALLEL TF32; do
  [[ ${!v:-0} == 0 || ${!v:-0} == 1 ]] || { echo "$v=${!v}: expected 0 or 1" >&2; exit 2; }
done
t_out=40
resume_dir=${RESUME_DIR:-.device/fno_parity}
py=${PYTHON:-python3}
work=${WORK:-/tmp/surro-parity}
out=${OUT:-$work/out}/fno_parity
[[ $small == 1 ]] && out+=_small  # a smoke test's rows stay apart from the real ones
src=.device/fno_original
case $side in both | surro | original) ;; *) echo "SIDE=$side: expected both, surro or original" >&2; exit 2 ;; esac
mkdir -p "$work" "$out"
exec > >(tee -a "$out/log.txt") 2>&1
command -v surro >/dev/null || source bench/gpu/env.sh
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
device=${device:-cpu}
echo "fno_parity.sh: $(date -u +%FT%TZ) on $device; $(surro --version)"
echo "settings: SIDE=$side SEEDS='$seeds' EPOCHS=$epochs STEP=$step GAMMA=$gamma NTRAIN=$ntrain NTEST=$ntest" \
  "GRID=$grid BUDGET_S=$budget RESUME_DIR=$resume_dir"
if [[ $side != surro ]]; then
  if [[ ! -f $src/fourier_2d_time.py ]]; then
    echo "no $src/fourier_2d_time.py: run bench/gpu/fetch_fno_original.sh here (after stage.sh) and carry .device" >&2
    exit 2
  fi
  cat "$src/SOURCE"
  "$py" -c 'import torch, scipy, h5py; print("python: torch", torch.__version__, "scipy", scipy.__version__, "h5py", h5py.__version__)'
fi
left() { echo $((deadline - $(date +%s))); }
# Seconds a run needs left to start: a surro segment of 2 epochs, the original's load and one epoch.
if [[ $small == 1 ]]; then surro_min=20 original_min=20; else surro_min=60 original_min=90; fi

# --- data: generate (resumes), export the two .mat files, hash, the u-only dataset for surro ---
source bench/gpu/ns_data.sh
gen_sets=("${ns64_gen_sets[@]}" --set dataset.train="$ntrain" --set dataset.test="$ntest")
if [[ $small == 1 ]]; then gen_sets+=(--set dataset.valid=2 --set dataset.per_file=20 --set dataset.batch=20); fi
[[ $grid != 64 ]] && gen_sets+=(--set solver.grid="$grid" --set solver.record_grid="$grid")
data=$work/data_ns${grid}_${ntrain}_${ntest}
prep=${data}_parity  # not inside $data: export refuses outputs in the dataset folder
t0=$(date +%s)
if ! surro -q generate configs/ns2d_nu1e-3.json --set run.output_dir="$data" "${gen_sets[@]}" 2>&1 | tail -3; then
  echo "FAILED: generate"; exit 1
fi
echo "generate_seconds=$(($(date +%s) - t0))"
t0=$(date +%s)
if [[ ! -f $prep/ready ]]; then
  rm -rf "$prep" && mkdir -p "$prep"
  surro -q export "$data" --format fno-mat --split train -o "$prep/train.mat" &&
    surro -q export "$data" --format fno-mat --split test -o "$prep/test.mat" &&
    "$py" bench/peers/fno_parity.py prep --train "$prep/train.mat" --test "$prep/test.mat" --ntrain "$ntrain" \
      --ntest "$ntest" --out "$prep/surro_u.mat" --hash-file "$prep/data.sha256" &&
    surro -q import "$prep/surro_u.mat" --format fno-mat -o "$prep/surro_data" --train "$ntrain" --valid 0 \
      --test "$ntest" >"$prep/import.log" 2>&1 &&
    touch "$prep/ready" || { echo "FAILED: data preparation"; exit 1; }
fi
hash=$(cat "$prep/data.sha256")
echo "data_sha256 $hash  (u of train.mat then test.mat; prep_seconds=$(($(date +%s) - t0)))"

tag="n${ntrain}x${ntest}_g${grid}_st${step}_ga${gamma}"
csv=$out/curves.csv
declare -a report=()

# --- surro: segments of `surro train` (--resume extends train.epochs), an eval after each ---
# run_surro SEED [VARIANT]: VARIANT tf32 trains with model.matmul_precision tf32, side surro-tf32.
run_surro() {
  local seed=$1 name=surro${2:+-$2}
  local dir=$work/run_${name}_${tag}_s$1 arch=${name}_${tag}_s$1.state.tgz
  if [[ ! -f $dir/checkpoint_last.h5 && -f $resume_dir/$arch ]]; then
    mkdir -p "$dir" && tar -xzf "$resume_dir/$arch" -C "$dir" && echo "$name seed $seed: state from $resume_dir/$arch"
  fi
  local ndone=0
  [[ -f $dir/history.csv ]] && ndone=$(tail -n +2 "$dir/history.csv" | tail -1 | cut -d, -f1)
  ndone=${ndone:-0}
  local after=$ndone n resume per fit
  local sets=(--set run.output_dir="$dir" --set data.dataset="$prep/surro_data" --set data.valid_split=test
              --set run.seed="$seed" --set schedule.step_size="$step" --set schedule.gamma="$gamma"
              --set data.t_out=$t_out)
  [[ ${2:-} == tf32 ]] && sets+=(--set model.matmul_precision=tf32)
  while ((ndone < epochs)); do
    if ((ndone == after)); then  # the first segment of this call measures the epoch time
      (($(left) < surro_min)) && break
      n=$((ndone + 2 < epochs ? ndone + 2 : epochs))
    else
      per=$(tail -n +2 "$dir/history.csv" | cut -d, -f6 | sort -g | tail -1)
      fit=$("$py" -c "print(max(0, int(($(left) - 40) / (1.1 * $per))))")
      ((fit < 1)) && break
      n=$((ndone + fit < epochs ? ndone + fit : epochs))
    fi
    resume=()
    [[ -f $dir/checkpoint_last.h5 ]] && resume=(--resume)
    if ! surro train configs/train_fno_ns2d.json "${sets[@]}" --set train.epochs="$n" "${resume[@]}" \
      >>"$dir.log" 2>&1; then
      echo "FAILED: $name train, seed $seed (tail of $dir.log):"; tail -n 5 "$dir.log"; break
    fi
    ndone=$n
    if surro -q eval "$dir/checkpoint_last.h5" --split test --steps $t_out -o "$dir/eval_last" >/dev/null 2>&1; then
      echo "$ndone $("$py" -c "import json; print(json.load(open('$dir/eval_last/metrics.json'))['rel_l2_mean'])")" \
        >>"$dir/evals.txt"
    else
      echo "FAILED: $name eval, seed $seed, epoch $ndone"
    fi
    grep -E "epoch [0-9]+/" "$dir.log" | tail -n 1
  done
  [[ -f $dir/history.csv ]] && "$py" bench/peers/fno_parity.py surro-rows --history "$dir/history.csv" \
    --evals "$dir/evals.txt" --seed "$seed" --after "$after" --t-out $t_out --data-hash "$hash" \
    --device "$device" --csv "$csv" --side "$name"
  if ((ndone < epochs)); then
    if [[ -f $dir/checkpoint_last.h5 ]]; then
      tar -czf "$out/$arch" -C "$dir" checkpoint_last.h5 history.csv evals.txt config.json
      report+=("$name seed $seed: $ndone/$epochs epochs; state $arch (copy to $resume_dir/ for the next call)")
    else
      report+=("$name seed $seed: not started")
    fi
  else
    report+=("$name seed $seed: complete ($epochs epochs)")
  fi
}

# --- the original: upstream's script, resumable through its state file ---
run_original() {
  local seed=$1 arch=original_${tag}_s$1.state.pt
  local resume=()
  [[ -f $resume_dir/$arch ]] && resume=(--resume "$resume_dir/$arch") && echo "original seed $seed: state from $resume_dir/$arch"
  if (($(left) < original_min)); then report+=("original seed $seed: not started (budget)"); return; fi
  PYTHONUNBUFFERED=1 "$py" bench/peers/fno_original.py --src "$src" --train "$prep/train.mat" \
    --test "$prep/test.mat" --seed "$seed" --epochs "$epochs" --step "$step" --gamma "$gamma" --ntrain "$ntrain" \
    --ntest "$ntest" --grid "$grid" --t-out $t_out --csv "$csv" --state "$out/$arch" "${resume[@]}" \
    --deadline "$deadline" --data-hash "$hash" --device-name "$device"
  case $? in
    0) rm -f "$out/$arch"; report+=("original seed $seed: complete ($epochs epochs)") ;;
    3) report+=("original seed $seed: stopped by the budget; state $arch (copy to $resume_dir/ for the next call)") ;;
    *) report+=("original seed $seed: FAILED (see log.txt)$([[ -f $out/$arch ]] && echo "; state $arch")") ;;
  esac
}

# The runs of this call: for each seed, each side in this order.
sides=()
[[ $side != original ]] && sides+=(surro)
[[ $side != original && $tf32 == 1 ]] && sides+=(surro-tf32)
[[ $side != surro ]] && sides+=(original)
run_side() {  # SIDE SEED
  case $1 in surro) run_surro "$2" ;; surro-tf32) run_surro "$2" tf32 ;; original) run_original "$2" ;; esac
}
if [[ $parallel == 1 ]]; then
  # Every (side, seed) run at once, each with its own CSV, log and report, merged when all are done.
  # The runs share the GPU, so their epoch times are not timings: the device column says so and
  # fno_parity_table.py leaves such rows out of the time ratio.
  nruns=$(($(wc -w <<<"$seeds") * ${#sides[@]}))
  device="$device [concurrent x$nruns]"
  pids=()
  for seed in $seeds; do
    for s in "${sides[@]}"; do
      (
        csv=$work/part_${s}_s$seed.csv report=()
        rm -f "$csv"
        run_side "$s" "$seed"
        printf '%s\n' "${report[@]}" >"$work/part_${s}_s$seed.report"
      ) >"$work/part_${s}_s$seed.log" 2>&1 &
      pids+=($!)
    done
  done
  wait "${pids[@]}"  # not a bare wait: that would also wait for the log's tee, which never ends
  for seed in $seeds; do
    for s in "${sides[@]}"; do
      part=$work/part_${s}_s$seed
      [[ -f $part.log ]] || continue
      echo "--- log of $s seed $seed ---"; cat "$part.log"
      [[ -f $part.report ]] && report+=("$(cat "$part.report")")
      if [[ -f $part.csv ]]; then
        if [[ -f $csv ]]; then tail -n +2 "$part.csv" >>"$csv"; else cp "$part.csv" "$csv"; fi
      fi
      rm -f "$part".{log,report,csv}
    done
  done
else
  for seed in $seeds; do
    for s in "${sides[@]}"; do run_side "$s" "$seed"; done
  done
fi
echo "--- runs in this call ---"
printf '%s\n' "${report[@]}"
echo "total_seconds=$(($(date +%s) - t_start))"
[[ -f $csv ]] && "$py" bench/peers/fno_parity_table.py --epochs "$epochs" "$csv" | tee "$out/summary.txt"
