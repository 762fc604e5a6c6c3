#!/usr/bin/env bash
# Thread scaling on the CPU (issue 13): the Navier-Stokes solver step (bench_ns2d) and an FNO
# training step (bench_fno) of the OpenMP build at 1, 2, 4, 8, 16 threads, each beside its PyTorch
# peer (bench/ns2d_peer.py, bench/peers/fno.py with torch.set_num_threads) on the same cores, then
# one markdown table (bench/cpu/threads_table.py): milliseconds per step, speed-up over one thread,
# and torch / surro.
#
#   Kokkos_ROOT=/path/to/kokkos-omp cmake --preset openmp
#   cmake --build --preset openmp --target bench_ns2d bench_fno
#   bench/cpu/threads.sh                         # 1 2 4 8 16 threads, full sizes
#   bench/cpu/threads.sh --threads "1 2" --small # a smoke test on a small machine
# Options: --threads "LIST" (default "1 2 4 8 16"), --small (NS 64^2 batch 4, FNO 32^2 batch 4),
# --no-peer (surro only), --only ns|fno (repeatable).
# Environment: BUILD (build/openmp), PYTHON (python3, with torch), OUT (the raw log and the table go
# to $OUT/threads.log and $OUT/threads.md when set). Threads are pinned one per core, packed from
# core 0 (OMP_PROC_BIND=close, OMP_PLACES=cores) on both sides; OpenBLAS, used by surro's GEMMs, gets
# the same count (OPENBLAS_NUM_THREADS), as does torch's intra-op pool (--threads / set_num_threads).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
threads="1 2 4 8 16" small=0 peer=1 parts=()
while (($#)); do
  case $1 in
    --threads) threads=$2; shift ;;
    --small) small=1 ;;
    --no-peer) peer=0 ;;
    --only) parts+=("$2"); shift ;;
    *) echo "threads.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((${#parts[@]})) || parts=(ns fno)
has_part() { [[ " ${parts[*]} " == *" $1 "* ]]; }
build=${BUILD:-build/openmp}
py=${PYTHON:-python3}
for b in bench_ns2d bench_fno; do
  [[ -x $build/bench/$b ]] || { echo "threads.sh: $build/bench/$b missing (cmake --build --preset openmp --target $b)" >&2; exit 2; }
done
if ((peer)) && ! "$py" -c 'import torch' 2>/dev/null; then
  echo "threads.sh: $py has no torch; running surro only (--no-peer)" >&2
  peer=0
fi
log=${OUT:+$OUT/threads.log}
log=${log:-$(mktemp "${TMPDIR:-/tmp}/surro-threads.XXXXXX")}
: >"$log"

if ((small)); then
  ns=(64 4 crank_nicolson) ns_steps=(3 13) ns_peer_steps=10
  fno=(--modes 8,8 --width 20 --in 10 --out 1 --grid 32,32 --batch 4 --mode train)
  timing=(--warmup 1 --reps 3 --iters 1)
else
  # The GPU suite's NS case (256^2, batch 20, Crank-Nicolson) and its FNO-2D training case (modes 8,
  # width 20, 10 frames in, 64^2, batch 20).
  ns=(256 20 crank_nicolson) ns_steps=(5 25) ns_peer_steps=20
  fno=(--modes 8,8 --width 20 --in 10 --out 1 --grid 64,64 --batch 20 --mode train)
  timing=(--warmup 2 --reps 5 --iters 2)
fi

# pinned T CMD...: CMD with T threads bound one per core.
pinned() {
  local t=$1
  shift
  OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t OMP_PROC_BIND=close OMP_PLACES=cores "$@"
}

{
  echo "# threads.sh $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(nproc) cpus: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  pinned "${threads##* }" "$build/app/surro" info 2>/dev/null | grep -E 'execution space|OpenMP|FFT|GEMM'
  ((peer)) && "$py" -c 'import torch; print("# torch", torch.__version__, torch.__config__.parallel_info().splitlines()[0])'
} | tee -a "$log"

for t in $threads; do
  echo "threads $t" | tee -a "$log"
  if has_part ns; then
    pinned "$t" "$build/bench/bench_ns2d" "${ns[@]}" "${ns_steps[@]}" 2>&1 | tail -1 | tee -a "$log"
    ((peer)) && pinned "$t" "$py" bench/ns2d_peer.py "${ns[@]}" cpu "$ns_peer_steps" --threads "$t" 2>&1 |
      tail -1 | tee -a "$log"
  fi
  if has_part fno; then
    pinned "$t" "$build/bench/bench_fno" --case fno2d_train "${fno[@]}" "${timing[@]}" 2>&1 | tail -1 | tee -a "$log"
    ((peer)) && pinned "$t" "$py" bench/peers/fno.py --case fno2d_train "${fno[@]}" "${timing[@]}" --device cpu \
      --threads "$t" 2>&1 | tail -1 | tee -a "$log"
  fi
done

echo
"$py" bench/cpu/threads_table.py "$log" | tee ${OUT:+"$OUT/threads.md"}
