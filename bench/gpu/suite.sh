#!/usr/bin/env bash
# The benchmark suite, surro against PyTorch peers in one session, then one markdown table.
#
# On the GPU machine (the stage from bench/gpu/stage.sh, unpacked through bench/gpu/env.sh):
#   bench/gpu/suite.sh                 every part: FNO cases (surro, torch eager, torch.compile),
#                                      the NS solver comparison (bench/gpu/ns2d.sh), copy bandwidth
# Here, a CPU smoke test (build/release, Debian's torch in /usr/bin/python3, reduced sizes):
#   bench/gpu/suite.sh --cpu --small
# Options:
#   --only fno|ns|bw     one part only (repeatable); a device command is limited to 10 minutes, so
#                        the parts can run in separate calls and table.py merges their logs
#   --cases REGEX        FNO cases whose name matches (bash regex), e.g. 'fno2d_m8'
#   --no-compile         skip torch.compile;  --compile-only: only the torch.compile peer
#   --small              CPU-sized cases (32² batch 4, 16×16×10 batch 2)
# Environment: PYTHON (python3; /usr/bin/python3 with --cpu), COMPILE_TIMEOUT (seconds per
# case for compilation and warm-up, default 300), BUILD (build/release, with --cpu), TIMING (the
# timing flags of both sides; default "--warmup 5 --reps 10 --iters 5", with --cpu
# "--warmup 1 --reps 3 --iters 1").
# Output: the raw lines (JSON and key=value) go to $OUT/suite.log when OUT is set, the tables
# (bench/peers/table.py) to stdout and $OUT/suite.md. Each FNO case runs surro with --dump and the
# peers with --load, so every peer line also reports its difference from surro's output.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0 small=0 eager=1 compile=1 cases_re=. parts=()
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    --small) small=1 ;;
    --only) parts+=("$2"); shift ;;
    --cases) cases_re=$2; shift ;;
    --no-compile) compile=0 ;;
    --compile-only) eager=0 ;;
    *) echo "suite.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((${#parts[@]})) || parts=(fno ns bw)
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
echo "suite: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(command -v bench_fno) $("$py" -c 'import torch; print("torch", torch.__version__)')" | tee -a "$log"

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

# peer IMPL NAME FLAGS...: the PyTorch peer on one case, its JSON line into the log. The peer
# stops itself after COMPILE_TIMEOUT; `timeout` is the backstop, and a run that prints no line
# (killed, crashed) gets one with status "killed" and its last output.
peer() {
  local impl=$1 name=$2 out
  shift 2
  out=$(timeout -k 10 $((ct + 120)) "$py" bench/peers/fno.py --case "$name" "$@" "${timing[@]}" --device $dev \
    --load "$work/$name" 2>&1)
  if [[ $(tail -1 <<<"$out") == "{"* ]]; then
    tail -1 <<<"$out" | tee -a "$log"
  else
    printf '%s\n' "$out" | tail -5 >&2
    echo "{\"impl\": \"$impl\", \"case\": \"$name\", \"status\": \"killed\"}" | tee -a "$log"
  fi
}

if has_part fno; then
  for c in "${cases[@]}"; do
    name=${c%%|*}
    read -ra flags <<<"${c#*|}"
    [[ $name =~ $cases_re ]] || continue
    bench_fno --case "$name" "${flags[@]}" "${timing[@]}" --dump "$work/$name" 2>&1 | tee -a "$log"
    ((eager)) && peer torch-eager "$name" "${flags[@]}"
    ((compile)) && peer torch-compile "$name" "${flags[@]}" --compile --compile-timeout "$ct"
    rm -rf "${work:?}/$name"
  done
fi

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

echo
"$py" bench/peers/table.py "$log" | tee ${OUT:+"$OUT/suite.md"}
