#!/usr/bin/env bash
# One device call that measures what issue 14's open targets still lack, within a time budget, so a
# session that is lent a GPU for a few minutes spends them on measurements, not on writing commands.
#
# On the GPU machine, after bench/gpu/stage.sh (STAGE_BENCH="bench_ifactformer bench_fno bench_ns2d"
# keeps the stage under the carry limit) and with .device carried:
#   CALL_S=540 bench/gpu/open_targets.sh
# Here, a CPU smoke test of the script itself (build/release, Debian's torch, reduced sizes):
#   CALL_S=300 bench/gpu/open_targets.sh --cpu
#
# Sections, in order; each runs only while the budget has at least its minimum left and is cut
# (timeout) at the budget's end, so the call returns with the files of the sections that finished:
#   tests     GPU tests of the kernels changed since the last GPU test run (run_tests.sh with tags)
#   fno       FNO-2D inference, batch 20 and 1, surro against torch eager (suite.sh --only fno)
#   iff       IFactFormer-m inference and training at 32x33x16 (suite.sh --only iff)
#   graph     the FNO and IFactFormer-m inference cases with surro's forward replayed as one CUDA graph
#             (suite.sh --graph), the peers again in the same section
#   roll      the 200-step rollout, timed against its peer, then one profiled run (rollout.sh --profile)
#   profile   per-kernel profiles of FNO, IFactFormer-m and the NS solver (profile.sh)
#   ns        the NS solver against its peer at 256² b20/b100 and 1024² b4 (suite.sh --only ns)
# tests, roll and ns run with SURRO_DEVICE_GRAPH=on (the rollout's and the NS solver's recorded
# steps, off by default until tested on a GPU); profile runs without it, so its NS step times
# (each profile file's first line) are the unrecorded ones of the same call.
# SECTIONS="fno roll tests" picks some and runs them in that order (default: the order above). Everything goes to $OUT (or
# /tmp/surro-open-targets): one log per section, suite.md tables, profiles and top_kernels.md, all
# packed into results.tgz at the end, with summary.txt and top_kernels.md also beside it.
# Environment: CALL_S (seconds the script may take; default 540, under the device's 600 s a call),
# SECTIONS, PYTHON.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    *) echo "open_targets.sh: unknown option $1 (expected --cpu)" >&2; exit 2 ;;
  esac
  shift
done
start=$(date +%s)
deadline=$((start + ${CALL_S:-540}))
out=${OUT:-/tmp/surro-open-targets}
mkdir -p "$out"/{fno,iff,graph,roll,profile,ns}
sections=${SECTIONS:-tests fno iff graph roll profile ns}
cpu_flag=() small_flag=()
((cpu)) && cpu_flag=(--cpu) small_flag=(--small)
if ((!cpu)); then
  rm -rf /tmp/surro-stage  # this call's stage, not one a previous call left on a warm machine
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
fi
git log -1 --format='commit %H %cs' 2>/dev/null | tee -a "$out/device.txt"

# section NAME MIN_S COMMAND...: runs COMMAND with its output in $out/NAME.log when at least MIN_S
# seconds of the budget are left, cut at the deadline; one status line per section in summary.txt.
section() {
  local name=$1 min=$2 left rc t0
  shift 2
  [[ " $sections " == *" $name "* ]] || return 0
  left=$((deadline - $(date +%s)))
  if ((left < min)); then
    echo "$name: skipped ($left s left, needs $min)" | tee -a "$out/summary.txt"
    return 0
  fi
  t0=$(date +%s)
  echo "== $name ($left s left): $*"
  timeout -k 5 "$left" "$@" >"$out/$name.log" 2>&1
  rc=$?
  echo "$name: rc $rc in $(($(date +%s) - t0)) s" | tee -a "$out/summary.txt"
  tail -25 "$out/$name.log"
}

# run_section NAME: one section's command. The code that changed since the GPU tests last passed
# (session 24, a49c0bf): the device graph (core/device_graph.hpp, with its refusal of host-memory
# copies) and its users, the rollout's prediction and the NS solver's step; in the FNO, the
# pointwise branch accumulating onto the spectral output (3f075d0), the one-pass spectral scatter
# (cc7dfcc, 7aa3bfd), the bias and GELU in one pass (e7a5034) and the bias gradient's per-sample
# chunks (e6d03bc): the tests section's fno, spectral_conv and linear tags cover them. Inference against eager only: torch.compile's compile time
# would take the budget, and issue 14's inference targets are stated against eager.
run_section() {
  case $1 in
    tests)
      if ((cpu)); then
        section tests 30 env PATH="$PWD/build/release/tests:$PATH" surro_tests "[iff_layers],[gemm],[pad],[linear]"
      else
        section tests 90 env SURRO_DEVICE_GRAPH=on bench/gpu/run_tests.sh device_graph rollout rollout_vtu ns2d \
          spectral_conv fno linear
      fi ;;
    fno) OUT=$out/fno section fno 60 bench/gpu/suite.sh "${cpu_flag[@]}" "${small_flag[@]}" --only fno --cases infer \
      --no-compile ;;
    iff) OUT=$out/iff section iff 90 bench/gpu/suite.sh "${cpu_flag[@]}" "${small_flag[@]}" --only iff \
      --cases '32x33x16|small' --no-compile ;;
    graph) OUT=$out/graph section graph 90 bench/gpu/suite.sh "${cpu_flag[@]}" "${small_flag[@]}" --only fno --only iff \
      --cases 'fno2d.*infer|iff_32x33x16_infer|iff_small_infer' --graph --no-compile ;;
    roll)
      if ((cpu)); then
        OUT=$out/roll section roll 60 bench/gpu/rollout.sh --cpu --small --reps 1 --warmup 0 --profile
      else
        OUT=$out/roll section roll 120 env SURRO_DEVICE_GRAPH=on bench/gpu/rollout.sh --reps 3 --profile
      fi ;;
    profile) OUT=$out/profile section profile 90 bench/gpu/profile.sh "${cpu_flag[@]}" --only fno --only iff --only ns ;;
    ns) OUT=$out/ns section ns 120 env SURRO_DEVICE_GRAPH=on bench/gpu/suite.sh "${cpu_flag[@]}" "${small_flag[@]}" \
      --only ns ;;
    *) echo "open_targets.sh: unknown section $1 (expected tests fno iff graph roll profile ns)" >&2 ;;
  esac
}
for name in $sections; do run_section "$name"; done
profiles=()
for f in "$out"/profile/profile_*.txt "$out"/roll/profile_*.txt; do [[ -f $f ]] && profiles+=("$f"); done
((${#profiles[@]})) && "${PYTHON:-python3}" bench/gpu/top_kernels.py "${profiles[@]}" >"$out/top_kernels.md" 2>&1
echo "open_targets: $(($(date +%s) - start)) s; files in $out" | tee -a "$out/summary.txt"
# The device returns a few files only (the rest were dropped by count in session 24's call, the
# per-kernel profiles among them): everything goes into one archive beside the summary.
tar -czf "$out.tgz" -C "$out" . && rm -rf "${out:?}"/* && mv "$out.tgz" "$out/results.tgz"
tar -xzf "$out/results.tgz" -C "$out" ./summary.txt ./top_kernels.md 2>/dev/null
ls -la "$out"
