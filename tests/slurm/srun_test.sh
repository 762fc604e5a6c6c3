#!/usr/bin/env bash
# surro under a real Slurm: a throwaway one-node cluster on this machine (scripts/slurm/local_cluster.sh:
# munged, slurmctld and slurmd from Debian's packages, all state in a temporary folder).
#  - `srun -n 2 --mpi=pmix surro info`: every task sees 2 ranks; with `--mpi=none` (Slurm's default)
#    Debian's OpenMPI cannot start and surro fails instead of running the job twice;
#  - `srun -n 2 --mpi=pmix surro train` writes the same history and checkpoint, bit for bit, as the
#    same config under `mpirun -n 2` (the same rank count, hence the same order of every sum);
#  - scripts/slurm/train.sbatch through sbatch with 2 tasks: USR1 to the batch shell (what
#    --signal=B:USR1@300 sends; here `scancel --signal=USR1 --batch`) -> the trap forwards it to srun,
#    checkpoint, exit 4, the script requeues the job; the requeued job (same id, Restarts=1) resumes
#    from the checkpoint and completes the epochs, once.
# Skips (77) when Slurm or munge is not installed, without root, or when the daemons cannot start
# (the reason is printed); .ci/run installs the packages and requires this test to pass.
# Usage: srun_test.sh /path/to/surro CONFIG_DIR SCRIPT_DIR MPIRUN
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
scripts=$(realpath "$3")
mpirun=$4
work=$(mktemp -d)
chmod 755 "$work" # munged refuses a socket under a folder that others cannot traverse (mktemp's 0700)
cluster=$work/cluster
trap '"$scripts/local_cluster.sh" stop "$cluster" >/dev/null 2>&1; rm -rf "$work"' EXIT
cd "$work" || exit 1

start_log=$work/start.log
env_line=$("$scripts/local_cluster.sh" start "$cluster" 2>"$start_log")
case $? in
  0) eval "$env_line" ;;
  3) echo "SKIP: $(cat "$start_log")"; exit 77 ;;
  *) echo "SKIP: the local Slurm cluster did not start:"; cat "$start_log"; exit 77 ;;
esac
# Shared memory only (no network in the container), as in tests/mpi/mpi_test.sh; srun passes the
# environment on to the tasks.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl_base_warn_component_unused=0
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_plm=isolated
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
step=(timeout 120 srun --quiet -n 2)

# (a) The rank count under srun.
"${step[@]}" --mpi=pmix "$surro" info --json >info.json 2>info.err
[[ $? -eq 0 && $(grep -c '"ranks": 2' info.json) -eq 2 ]] && ok \
  || bad "srun -n 2 --mpi=pmix surro info: not 2 ranks on both tasks: $(cat info.json info.err | head -c 1000)"
"${step[@]}" --mpi=none "$surro" info --json >none.json 2>none.err
[[ $? -ne 0 && $(grep -c '"ranks"' none.json) -eq 0 ]] && grep -q "PMI support" none.err && ok \
  || bad "srun --mpi=none: expected OpenMPI's 'not built with SLURM's PMI support' failure: $(head -c 600 none.err)"

# (b) Training: srun and mpirun with 2 ranks, the same bits.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 || bad "generate"
cfg=$configs/train_fno_ns2d.json
tiny=(--set data.dataset="$work/data" --set train.batch=4 --set model.modes=[4,4] --set model.width=8
      --set model.projection=16 --set train.mode=teacher_forcing --set data.t_out=1 --set data.all_starts=true)
"${step[@]}" --mpi=pmix "$surro" -q train "$cfg" --set run.output_dir=srun "${tiny[@]}" --set train.epochs=2 \
  >srun.log 2>&1 || bad "srun -n 2 train: $(tail -5 srun.log)"
timeout 120 "$mpirun" --oversubscribe -n 2 "$surro" -q train "$cfg" --set run.output_dir=mpirun "${tiny[@]}" \
  --set train.epochs=2 >mpirun.log 2>&1 || bad "mpirun -n 2 train: $(tail -5 mpirun.log)"
rows() { cut -d, -f1-5 "$1"; } # history without the timing columns
[[ -s srun/history.csv && $(rows srun/history.csv) == "$(rows mpirun/history.csv)" ]] && ok \
  || bad "history under srun differs from mpirun: $(paste -d'|' srun/history.csv mpirun/history.csv)"
h5diff srun/checkpoint_last.h5 mpirun/checkpoint_last.h5 /params /params >/dev/null && ok \
  || bad "weights under srun differ from mpirun (h5diff /params)"

# (c) train.sbatch through sbatch: 2 tasks (the template's srun takes the MPI plugin from
# SLURM_MPI_TYPE), no GPU on this node (--gpus-per-task=0 overrides the template's 1).
# job_field JOB NAME: NAME's value in `scontrol show job`.
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
export SURRO=$surro SLURM_MPI_TYPE=pmix
job=$(sbatch --parsable --ntasks-per-node=2 --gpus-per-task=0 --chdir="$work" --output="$work/job.log" \
  "$scripts/train.sbatch" "$cfg" --set run.output_dir=job "${tiny[@]}" --set train.epochs=30)
if [[ ! $job =~ ^[0-9]+$ ]]; then
  bad "sbatch train.sbatch: '$job'"
else
  for _ in $(seq 1 600); do [[ -s job/history.csv ]] && break; sleep 0.05; done
  scancel --signal=USR1 --batch "$job" || bad "scancel --signal=USR1 --batch $job"
  # The script requeues the job: back to PENDING (Slurm delays a requeued job's start by 120 s).
  for _ in $(seq 1 300); do [[ $(job_field "$job" Restarts) == 1 ]] && break; sleep 0.1; done
  # The requeue (and with it slurmd's revocation of the first run's credential) happened by now.
  requeued_at=$(date +%s)
  [[ $(job_field "$job" Restarts) == 1 ]] && ok || bad "job $job not requeued: $(scontrol show job "$job"; cat job.log)"
  grep -q "surro: interrupted after a checkpoint; requeueing job $job" job.log && ok \
    || bad "train.sbatch did not report exit 4 and requeue: $(cat job.log)"
  [[ -s job/checkpoint_last.h5 ]] && ok || bad "no checkpoint after USR1"
  first=$(($(wc -l <job/history.csv) - 1))
  [[ $first -lt 30 ]] && ok || bad "the job finished its 30 epochs before USR1 arrived"
  # Start the requeued job now rather than in 120 s, but only as Slurm's delay would: after the first
  # run has ended (PENDING, no longer COMPLETING: its end sets the 120 s delay, which would override
  # StartTime) and in a later second than the requeue. slurmd refuses a launch credential created
  # in the second of the revocation (whole seconds), and slurmctld then fails the job ("Killing
  # non-startable batch JobId=N: Job credential revoked"): a start within that second is Slurm's
  # refusal, not the script's behaviour.
  for _ in $(seq 1 300); do [[ $(job_field "$job" JobState) == PENDING ]] && break; sleep 0.1; done
  while (($(date +%s) <= requeued_at)); do sleep 0.1; done
  scontrol update JobId="$job" StartTime=now || bad "scontrol update StartTime=now"
  for _ in $(seq 1 1200); do [[ $(job_field "$job" JobState) =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT)$ ]] && break; sleep 0.1; done
  [[ $(job_field "$job" JobState) == COMPLETED && $(job_field "$job" Restarts) == 1 ]] && ok \
    || bad "requeued job $job: $(job_field "$job" JobState), restarts $(job_field "$job" Restarts): $(tail -20 job.log)"
  grep -q "resumed from job/checkpoint_last.h5" job.log && ok || bad "the requeued run did not resume: $(cat job.log)"
  [[ $(wc -l <job/history.csv) -eq 31 ]] && ok || bad "history after the requeue: $(wc -l <job/history.csv) lines"
  [[ $(grep -c "requeueing job" job.log) -eq 1 ]] && ok || bad "requeued more than once: $(cat job.log)"
fi

echo "srun: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
