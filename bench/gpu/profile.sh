#!/usr/bin/env bash
# Per-kernel profiles on the GPU machine (core/profile.hpp: fenced kernel and region times, and
# for the kernels and library calls that declare their work, achieved GB/s and GFLOP/s against the
# copy bandwidth and GEMM peaks measured at the start of each process). One file per case in $OUT
# (or /tmp/surro-profile): the NS solver's two schemes, the FNO-2D and IFactFormer-m training
# steps and inference forwards of the benchmark suite, and the two graph models' training steps
# (bench_mesh_models).
# Usage: bench/gpu/profile.sh [--only ns|fno|iff|mesh]...   (after bench/gpu/stage.sh; --cpu: this machine)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0 parts=()
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    --only) parts+=("$2"); shift ;;
    *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((${#parts[@]})) || parts=(ns fno iff mesh)
has_part() { [[ " ${parts[*]} " == *" $1 "* ]]; }
if ((cpu)); then
  export PATH="$PWD/${BUILD:-build/release}/bench:$PATH"
else
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
fi
out=${OUT:-/tmp/surro-profile}
mkdir -p "$out"
export SURRO_PROFILE=1
run() {  # run NAME COMMAND...: the timing line and the profile into $out/profile_NAME.txt
  local name=$1
  shift
  echo "== $name: $*"
  "$@" >"$out/profile_$name.txt" 2>&1
  head -1 "$out/profile_$name.txt"
  grep -m1 "^{\|^impl=" "$out/profile_$name.txt"
}
if has_part ns; then
  if ((cpu)); then sizes=("64 2"); else sizes=("256 1" "256 100" "1024 4"); fi
  for s in "${sizes[@]}"; do
    read -r n b <<<"$s"
    for scheme in crank_nicolson ifrk4; do run "ns_${scheme}_${n}_b$b" bench_ns2d "$n" "$b" "$scheme" 20 120; done
  done
fi
timing=(--warmup 3 --reps 3 --iters 3)
if has_part fno; then
  if ((cpu)); then g="--grid 32,32 --batch 4"; else g="--grid 64,64 --batch 20"; fi
  for m in fp32 tf32; do
    # shellcheck disable=SC2086
    run "fno2d_m12w32_train_$m" bench_fno --case p --modes 12,12 --width 32 --in 10 --out 1 $g --mode train \
      --matmul $m "${timing[@]}"
  done
  # Issue 14's inference targets: both FNO-2D widths, batch 20.
  for mw in "8 20" "12 32"; do
    read -r m w <<<"$mw"
    # shellcheck disable=SC2086
    run "fno2d_m${m}w${w}_infer" bench_fno --case p --modes $m,$m --width $w --in 10 --out 1 $g --mode infer \
      "${timing[@]}"
  done
fi
if has_part iff; then
  L="--lengths 12.566370614359172,2,4.1887902047863905"
  if ((cpu)); then
    iff="--dim 16 --heads 2 --dim-head 8 --km 3 --layers 2 --lift 16 --in 3 --out 3 --grid 8,9,6 --batch 2 $L"
  else
    iff="--dim 96 --heads 5 --dim-head 96 --km 3 --layers 10 --lift 16 --in 3 --out 3 --grid 32,33,16 --batch 5 $L"
  fi
  for m in fp32 tf32; do
    # shellcheck disable=SC2086
    run "iff_32x33x16_train_$m" bench_ifactformer --case p $iff --mode train --matmul $m --warmup 1 --reps 2 --iters 1
  done
  # shellcheck disable=SC2086
  run "iff_32x33x16_infer" bench_ifactformer --case p $iff --mode infer --warmup 1 --reps 2 --iters 1
fi
if has_part mesh; then
  # One channel mesh of about 100k nodes (4,000 here), batch 1: the "large" case of mesh_models.sh.
  if ((cpu)); then n=4000 small=(--layers 2 --width 32); else n=100000 small=(); fi
  for model in mesh_transformer meshgraphnet; do
    run "${model}_n${n}" bench_mesh_models "$model" "nodes:$n" 1 --steps 3 --warmup 1 "${small[@]}"
  done
fi
