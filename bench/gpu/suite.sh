#!/usr/bin/env bash
# The benchmark suite, surro against PyTorch peers in one session, then one markdown table.
#
# On the GPU machine (the stage from bench/gpu/stage.sh, unpacked through bench/gpu/env.sh):
#   bench/gpu/suite.sh                 every part: FNO cases (surro, torch eager, torch.compile),
#                                      IFactFormer-m cases (the same three), the NS solver
#                                      comparison (bench/gpu/ns2d.sh), copy bandwidth, the FNO-2D
#                                      rollout end to end (bench/gpu/rollout.sh)
# Here, a CPU smoke test (build/release, Debian's torch in /usr/bin/python3, reduced sizes):
#   bench/gpu/suite.sh --cpu --small
# Options:
#   --only fno|iff|ns|bw|roll  one part only (repeatable); a device command is limited to 10 minutes, so
#                        the parts can run in separate calls and table.py merges their logs
#   --cases REGEX        FNO / IFactFormer cases whose name matches (bash regex), e.g. 'fno2d_m8', 'iff_32x33x16'
#   --no-compile         skip torch.compile;  --compile-only: only the torch.compile peer
#   --tf32               the FNO / IFactFormer cases with TF32 GEMMs on both sides (surro's
#                        --matmul tf32, torch's allow_tf32), named <case>_tf32
#   --graph              the inference cases only, surro's forward replayed as one CUDA graph
#                        (--graph on; core/device_graph.hpp), named <case>_graph; the peers as always
#   --small              CPU-sized cases (FNO 32² batch 4, 16×16×10 batch 2; IFactFormer 8×9×6 batch 2,
#                        dim 16, 2 heads of 8, 2 iterations, and 12×10 batch 3 in 2D; rollout at 32²)
# Environment: PYTHON (python3; /usr/bin/python3 with --cpu), COMPILE_TIMEOUT (seconds per
# case for compilation and warm-up, default 300), BUILD (build/release, with --cpu), TIMING (the
# timing flags of both sides; default "--warmup 5 --reps 10 --iters 5", with --cpu
# "--warmup 1 --reps 3 --iters 1").
# Output: the raw lines (JSON and key=value) go to $OUT/suite.log when OUT is set, the tables
# (bench/peers/table.py) to stdout and $OUT/suite.md. Each FNO / IFactFormer case runs surro with
# --dump and the peers with --load, so every peer line also reports its difference from surro's output.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0 small=0 eager=1 compile=1 cases_re=. parts=() tf32=0 graph=0
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    --small) small=1 ;;
    --only) parts+=("$2"); shift ;;
    --cases) cases_re=$2; shift ;;
    --no-compile) compile=0 ;;
    --compile-only) eager=0 ;;
    --tf32) tf32=1 ;;
    --graph) graph=1 ;;
    *) echo "suite.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((${#parts[@]})) || parts=(fno iff ns bw roll)
has_part() { [[ " ${parts[*]} " == *" $1 "* ]]; }

if ((cpu)); then
  export PATH="$PWD/${BUILD:-build/release}/bench:$PATH"
  py=${PYTHON:-/usr/bin/python3} dev=cpu
  read -ra timing <<<"${TIMING:---warmup 1 --reps 3 --iters 1}"
else
  [[ -f .device/stage.tgz ]] && rm -rf /tmp/surro-stage  # unpack this call's stage, not an older one
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
  py=${PYTHON:-python3} dev=cuda
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  read -ra timing <<<"${TIMING:---warmup 5 --reps 10 --iters 5}"
fi
ct=${COMPILE_TIMEOUT:-300}
work=$(mktemp -d "${TMPDIR:-/tmp}/surro-suite.XXXXXX")
log=${OUT:+$OUT/suite.log}
log=${log:-$work/suite.log}
trap 'rm -rf "$work"' EXIT
: >>"$log"
echo "suite: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(command -v bench_fno) $(command -v bench_ifactformer) $("$py" -c 'import torch; print("torch", torch.__version__)')" | tee -a "$log"

# name | model and problem flags (shared by bench_fno and bench/peers/fno.py)
if ((small)); then
  g2="--grid 32,32 --batch 4" g2b1="--grid 32,32 --batch 1" g3="--grid 16,16,10 --pad 0,0,6 --batch 2"
else
  g2="--grid 64,64 --batch 20" g2b1="--grid 64,64 --batch 1" g3="--grid 64,64,40 --pad 0,0,6 --batch 10"
fi
ns2d="--in 10 --out 1"
cases=(
  "fno2d_m8w20_train|--modes 8,8 --width 20 $ns2d $g2 --mode train"
  "fno2d_m8w20_infer1|--modes 8,8 --width 20 $ns2d $g2b1 --mode infer"
  "fno2d_m8w20_infer|--modes 8,8 --width 20 $ns2d $g2 --mode infer"
  "fno2d_m12w32_train|--modes 12,12 --width 32 $ns2d $g2 --mode train"
  "fno2d_m12w32_infer1|--modes 12,12 --width 32 $ns2d $g2b1 --mode infer"
  "fno2d_m12w32_infer|--modes 12,12 --width 32 $ns2d $g2 --mode infer"
  # FNO-3D as the paper's fourier_3d.py: 10 frames repeated over 40 time slices, 3 grid channels,
  # time axis padded by 6.
  "fno3d_m8w20_train|--modes 8,8,8 --width 20 $ns2d $g3 --mode train"
)

# IFactFormer-m (3D parallel, the reference's IFM-HEAD version) on the turbulent channel flow's
# shapes: 3 velocity fields in and out, one input frame, the Re_tau 180 config (dim 96, 5 heads of
# 96, kernel multiplier 3, 10 weight-shared iterations, 16 lift channels per field; 1,163,331
# parameters), the reference's domain lengths [4 pi, 2, 4 pi / 3]. 32×33×16 is the Re_tau 180 grid,
# 64×65×32 the Re_tau 590 one. Batch 5 is the reference's; a torch eager training step keeps about
# 217 KB per point and sample (autograd's saved tensors, measured on the CPU at 16×17×8 with
# bench/peers/ifactformer.py), i.e. about 29 GB per sample at 64×65×32: batch 5 (145 GB) cannot fit
# 80 GB on the peer's side, so that grid also runs at batch 2 (about 58 GB saved), the largest
# batch estimated to fit both sides; the batch-5 case stays to show where each side stands.
L="--lengths 12.566370614359172,2,4.1887902047863905"
if ((small)); then
  iff3="--dim 16 --heads 2 --dim-head 8 --km 3 --layers 2 --lift 16 --in 3 --out 3 --grid 8,9,6 --batch 2 $L"
  iff_cases=(
    "iff_small_train|$iff3 --mode train"
    "iff_small_infer|$iff3 --mode infer"
    "iff_small_chained_train|$iff3 --variant chained --mode train"
    "iff2d_small_train|--dim 16 --heads 2 --dim-head 8 --km 3 --layers 2 --lift 16 --in 2 --out 1 --grid 12,10 --batch 3 --lengths 1,2 --mode train"
  )
else
  re180="--dim 96 --heads 5 --dim-head 96 --km 3 --layers 10 --lift 16 --in 3 --out 3 $L"
  iff_cases=(
    "iff_32x33x16_train|$re180 --grid 32,33,16 --batch 5 --mode train"
    "iff_32x33x16_infer|$re180 --grid 32,33,16 --batch 5 --mode infer"
    "iff_64x65x32_train_b2|$re180 --grid 64,65,32 --batch 2 --mode train"
    "iff_64x65x32_train|$re180 --grid 64,65,32 --batch 5 --mode train"
    "iff_64x65x32_infer|$re180 --grid 64,65,32 --batch 5 --mode infer"
  )
fi

# peer SCRIPT IMPL NAME FLAGS...: a PyTorch peer (bench/peers/SCRIPT) on one case, its JSON line
# into the log. The peer stops itself after COMPILE_TIMEOUT; `timeout` is the backstop, and a run
# that prints no line (killed, crashed) gets one with status "killed" and its last output.
peer() {
  local script=$1 impl=$2 name=$3 out
  shift 3
  out=$(timeout -k 10 $((ct + 120)) "$py" "bench/peers/$script" --case "$name" "$@" "${timing[@]}" --device $dev \
    --load "$work/$name" 2>&1)
  if [[ $(tail -1 <<<"$out") == "{"* ]]; then
    tail -1 <<<"$out" | tee -a "$log"
  else
    printf '%s\n' "$out" | tail -5 >&2
    echo "{\"impl\": \"$impl\", \"case\": \"$name\", \"status\": \"killed\"}" | tee -a "$log"
  fi
}

# run_cases BENCH SCRIPT CASE...: each case surro first (with --dump), then the peers (with --load).
run_cases() {
  local bench=$1 script=$2 c name flags own
  shift 2
  for c in "$@"; do
    name=${c%%|*}
    read -ra flags <<<"${c#*|}"
    [[ $name =~ $cases_re ]] || continue
    own=()  # surro's flags only
    if ((graph)); then
      [[ " ${flags[*]} " == *" --mode infer"* ]] || continue
      name+=_graph
      own+=(--graph on)
    fi
    if ((tf32)); then
      name+=_tf32
      flags+=(--matmul tf32)
    fi
    mkdir -p "$work/$name"
    "$bench" --case "$name" "${flags[@]}" "${own[@]}" "${timing[@]}" --dump "$work/$name" 2>&1 | tee -a "$log"
    ((eager)) && peer "$script" torch-eager "$name" "${flags[@]}"
    ((compile)) && peer "$script" torch-compile "$name" "${flags[@]}" --compile --compile-timeout "$ct"
    rm -rf "${work:?}/$name"
  done
}

has_part fno && run_cases bench_fno fno.py "${cases[@]}"
has_part iff && run_cases bench_ifactformer ifactformer.py "${iff_cases[@]}"

if has_part ns; then
  if ((cpu)); then
    for scheme in crank_nicolson ifrk4; do
      bench_ns2d 64 2 $scheme 5 25 2>&1 | tee -a "$log"
      "$py" bench/ns2d_peer.py 64 2 $scheme cpu 20 2>&1 | tail -1 | tee -a "$log"
    done
  else
    bash bench/gpu/ns2d.sh 2>&1 | tee -a "$log"
  fi
fi

if has_part bw; then
  if ((cpu)); then mib=256; else mib=2048; fi
  "$py" bench/peers/bandwidth.py --device $dev --mib $mib 2>&1 | tail -1 | tee -a "$log"
fi

if has_part roll; then
  roll=(--no-table)
  ((cpu)) && roll+=(--cpu)
  ((small)) && roll+=(--small)
  ((cpu)) || roll+=(--staged)
  OUT='' bash bench/gpu/rollout.sh "${roll[@]}" 2>&1 | tee -a "$log"
fi

echo
"$py" bench/peers/table.py "$log" | tee ${OUT:+"$OUT/suite.md"}
