#!/usr/bin/env bash
# Issue 13 on one GPU: the NCCL path (core/comm_device.hpp) of a CUDA build with MPI and NCCL,
# one rank. Stage first (here): bench/gpu/stage.sh (build/cuda configured with the cuda preset:
# SURRO_MPI=ON, SURRO_NCCL=AUTO). On the GPU machine, from the repository root, carrying .device:
#   bash bench/gpu/nccl.sh
# Checks (FAIL lines and a non-zero exit on a failure; NOTE lines are information):
#  1. surro info: NCCL built, its version; SURRO_COMM=nccl starts a one-rank communicator
#     (ncclGetUniqueId, ncclCommInitRank) without MPI, and info says "sums over ranks: nccl".
#  2. surro_tests [comm] (when staged): a 10^6-value gradient, host scalars and max through NCCL.
#  3. A small FNO (ns2d 16², batch 4, 2 epochs) trained as one plain process (nothing reduced) and
#     with SURRO_COMM=nccl (every step's gradient, loss, validation sum and stop flag through
#     ncclAllReduce on Kokkos' stream): a sum over one rank is the value itself, so the weights
#     and history rows must be bitwise the same; the NCCL run twice: bitwise the same (determinism).
#  4. mpirun -n 1 (MPI started, the NCCL id broadcast over MPI): bitwise the NCCL run again. The
#     machine's OpenMPI when it has one, else the staged one (env.sh, $surro_mpi); SURRO_STAGED_MPI=1
#     tries the staged runtime on a machine with OpenMPI too.
#  5. NOTE: 2 ranks sharing the one GPU with SURRO_COMM=host (gradients staged through the host and
#     MPI's ordered sum): within the round-off bound of docs/hpc.md of the 1-rank run; and the same
#     with NCCL, which refuses two ranks on one device (its error message is shown).
#  6. NOTE: the losses against the host build's (Kokkos Serial, FFTW) for the same config and data
#     generator, printed with their relative difference (CPU and GPU data and kernels differ in
#     round-off only; expect below 1e-3).
# Environment: WORK (a scratch folder, default a new temporary one).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
rm -rf /tmp/surro-stage
source bench/gpu/env.sh  # sets stage, surro_mpi (shellcheck source=env.sh)
repo=$PWD
# NVLink multicast stays off (shared machines: docs/hpc.md); warnings from NCCL on stderr.
export NCCL_NVLS_ENABLE=0 NCCL_DEBUG=${NCCL_DEBUG:-WARN}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work" && cd "$work" || exit 1
pass=0 failures=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { failures=$((failures + 1)); echo "FAIL: $*"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "NCCL library: $(ldd "$(command -v surro)" | awk '$1 ~ /^libnccl/ {print $3}'); OpenMPI: $surro_mpi"

# 1. info
surro info | grep -E "^(MPI|NCCL|device) "
surro info --json | grep -A3 '"nccl"' | grep -q '"built": true' && ok "NCCL built" || bad "surro info: NCCL not built"
SURRO_COMM=nccl surro info >info_nccl.txt 2>&1
grep -q "sums over ranks: nccl" info_nccl.txt && ok "one-rank NCCL communicator" \
  || bad "SURRO_COMM=nccl surro info: $(tail -3 info_nccl.txt)"

# 2. unit test
if command -v surro_tests >/dev/null; then
  surro_tests "[comm]" | tail -2 | grep -q "All tests passed" && ok "surro_tests [comm]" || bad "surro_tests [comm]"
else
  echo "NOTE: surro_tests not staged; [comm] skipped"
fi

# 3. training: plain vs NCCL (bitwise), NCCL twice (bitwise)
surro -q generate "$repo/configs/ns2d_nu1e-3.json" --set run.output_dir=d1 --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=2 || bad "generate"
tiny=("$repo/configs/train_fno_ns2d.json" --set data.dataset=d1 --set train.batch=4 --set "model.modes=[4,4]"
      --set model.width=8 --set model.projection=16 --set train.mode=teacher_forcing --set data.t_out=1
      --set data.all_starts=true --set train.epochs=2)
rows() { cut -d, -f1-5 "$1"; }  # history without the timing columns
same() {  # same A B: bitwise the same weights and history rows
  h5diff "$1/checkpoint_last.h5" "$2/checkpoint_last.h5" /params /params >/dev/null &&
    [[ $(rows "$1/history.csv") == $(rows "$2/history.csv") ]]
}
surro -q train "${tiny[@]}" --set run.output_dir=plain || bad "train, plain"
SURRO_COMM=nccl surro -q train "${tiny[@]}" --set run.output_dir=nccl || bad "train, SURRO_COMM=nccl"
SURRO_COMM=nccl surro -q train "${tiny[@]}" --set run.output_dir=nccl2 || bad "train, SURRO_COMM=nccl again"
same plain nccl && ok "NCCL one rank = plain run, bitwise" || bad "NCCL one rank differs from the plain run"
same nccl nccl2 && ok "NCCL run reproduces itself bitwise" || bad "NCCL run not bitwise reproducible"
echo "history (NCCL):" && rows nccl/history.csv

# 4. mpirun -n 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm=isolated OMPI_MCA_rmaps_base_oversubscribe=1
if command -v mpirun >/dev/null; then
  mpi=(timeout 180 mpirun --oversubscribe -x SURRO_COMM -x NCCL_NVLS_ENABLE -x NCCL_DEBUG -x LD_LIBRARY_PATH)
  if SURRO_COMM=nccl "${mpi[@]}" -n 1 "$(command -v surro)" info >info_mpi1.txt 2>&1 &&
    grep -q "MPI             1 rank" info_mpi1.txt && grep -q "sums over ranks: nccl" info_mpi1.txt; then
    ok "mpirun -n 1 ($surro_mpi OpenMPI): MPI started, NCCL communicator"
    SURRO_COMM=nccl "${mpi[@]}" -n 1 "$(command -v surro)" -q train "${tiny[@]}" --set run.output_dir=mpi1 \
      || bad "train under mpirun -n 1"
    same nccl mpi1 && ok "mpirun -n 1 with NCCL = the NCCL run, bitwise" || bad "mpirun -n 1 differs"
  else
    # A plain `surro` never starts MPI (no singleton MPI_Init: core/comm.hpp), so 1-3 stand.
    bad "mpirun -n 1 ($surro_mpi OpenMPI) did not start: $(tail -5 info_mpi1.txt)"
  fi
  # 5. two ranks on one GPU
  steps=$(tail -1 plain/history.csv | cut -d, -f2)
  bound=$(awk -v s="$steps" 'BEGIN { printf "%.3g", s * 2 * 1024 * 2^-24 * 1e-3 }')
  if SURRO_COMM=host "${mpi[@]}" -n 2 "$(command -v surro)" -q train "${tiny[@]}" --set run.output_dir=host2 \
    --kokkos-device-id=0 >host2.log 2>&1; then
    if h5diff -d "$bound" plain/checkpoint_last.h5 host2/checkpoint_last.h5 /params /params >/dev/null; then
      echo "NOTE: 2 ranks, one GPU, SURRO_COMM=host: weights within $bound of 1 rank"
    else
      echo "NOTE: 2 ranks, one GPU, SURRO_COMM=host: weights beyond $bound of 1 rank"
    fi
  else
    echo "NOTE: 2 ranks, one GPU, SURRO_COMM=host did not run: $(tail -3 host2.log)"
  fi
  SURRO_COMM=nccl "${mpi[@]}" -n 2 "$(command -v surro)" info --kokkos-device-id=0 >nccl2gpu.log 2>&1
  echo "NOTE: 2 ranks on one GPU with NCCL (exit $?; NCCL refuses one device for two ranks):"
  grep -E "error|NCCL" nccl2gpu.log | head -4
else
  bad "no mpirun (neither the machine's nor the staged one)"
fi

# 6. against the host build's losses (build/release, same commands, Kokkos Serial + FFTW)
echo "NOTE: losses, GPU (NCCL) vs host build (relative difference; round-off only, expect < 1e-3):"
paste -d, <(rows nccl/history.csv) "$repo/bench/gpu/nccl_host_history.csv" | awk -F, 'NR > 1 {
  dt = ($4 - $9) / $9; dv = ($5 - $10) / $10; if (dt < 0) dt = -dt; if (dv < 0) dv = -dv
  printf "  epoch %s: train %s vs %s (%.1e), valid %s vs %s (%.1e)\n", $1, $4, $9, dt, $5, $10, dv }'

echo "nccl.sh: $pass passed, $failures failed (scratch: $work)"
[[ $failures -eq 0 ]]
