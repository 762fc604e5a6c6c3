#!/usr/bin/env bash
# scripts/slurm/*.sbatch without Slurm: srun, scontrol and sbatch are stubs on PATH (srun runs its
# command, scontrol records its arguments). train.sbatch gets USR1 mid-training (as
# --signal=B:USR1@300 sends it): a checkpoint is written, surro exits 4, the script requeues the job;
# the requeued run (the same command) resumes to completion; generate.sbatch likewise (exit 4 after
# the file in progress, requeue, completion). bash -n (and shellcheck when
# installed) on every template.
# Usage: slurm_test.sh /path/to/surro CONFIG_DIR SCRIPT_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
scripts=$(realpath "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

for f in "$scripts"/*.sbatch; do
  bash -n "$f" && ok || bad "bash -n $f"
  if command -v shellcheck >/dev/null; then shellcheck -S warning "$f" && ok || bad "shellcheck $f"; fi
done

mkdir bin
printf '#!/usr/bin/env bash\necho "srun $*" >>"%s/calls.log"\nexec "$@"\n' "$work" >bin/srun
printf '#!/usr/bin/env bash\necho "scontrol $*" >>"%s/calls.log"\n' "$work" >bin/scontrol
printf '#!/usr/bin/env bash\necho "sbatch $*" >>"%s/calls.log"\n' "$work" >bin/sbatch
chmod +x bin/*
export PATH="$work/bin:$PATH" SURRO="$surro" SLURM_JOB_ID=4242

"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 || bad "generate"
args=("$configs/train_fno_ns2d.json" --set data.dataset=data --set run.output_dir=run --set train.batch=4
      --set model.modes=[4,4] --set model.width=8 --set model.projection=16 --set train.epochs=30
      --set train.mode=teacher_forcing --set data.t_out=1 --set data.all_starts=true)

bash "$scripts/train.sbatch" "${args[@]}" >first.log 2>&1 &
job=$!
for _ in $(seq 1 1000); do [[ -s run/history.csv ]] && break; sleep 0.01; done
kill -USR1 $job
wait $job
rc=$?
[[ $rc -eq 4 ]] && ok || bad "USR1: train.sbatch exited $rc, expected 4 (0: finished before the signal); $(cat first.log)"
[[ -s run/checkpoint_last.h5 ]] && ok || bad "no checkpoint after USR1"
grep -q "srun $surro --log plain train $configs/train_fno_ns2d.json --auto-resume" calls.log && ok \
  || bad "srun command line: $(cat calls.log)"
grep -qx "scontrol requeue 4242" calls.log && ok || bad "no requeue after exit 4: $(cat calls.log)"

# The requeued job: the same command resumes and finishes; no second requeue.
bash "$scripts/train.sbatch" "${args[@]}" >second.log 2>&1 && ok || bad "requeued run failed: $(cat second.log)"
grep -q "resumed from run/checkpoint_last.h5" second.log && ok || bad "the requeued run did not resume"
[[ $(wc -l <run/history.csv) -eq 31 ]] && ok || bad "history after the requeue: $(wc -l <run/history.csv) lines"
[[ $(grep -c "scontrol requeue" calls.log) -eq 1 ]] && ok || bad "requeued twice: $(cat calls.log)"

# generate.sbatch: USR1 after the first file -> exit 4 and a requeue; the requeued job completes.
: >calls.log
gen=("$configs/ns2d_nu1e-3.json" --set run.output_dir=gen --set solver.grid=32 --set solver.record_grid=16
     --set solver.t_final=14 --set solver.record_steps=14 --set solver.dt=2e-3 --set dataset.train=8
     --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=1)
bash "$scripts/generate.sbatch" "${gen[@]}" >gen_first.log 2>&1 &
job=$!
for _ in $(seq 1 1000); do [[ -n $(find gen/data -name '*.hdf5' 2>/dev/null) ]] && break; sleep 0.01; done
kill -USR1 $job
wait $job
rc=$?
[[ $rc -eq 4 ]] && ok || bad "USR1: generate.sbatch exited $rc, expected 4; $(cat gen_first.log)"
grep -qx "scontrol requeue 4242" calls.log && ok || bad "generate: no requeue after exit 4: $(cat calls.log)"
bash "$scripts/generate.sbatch" "${gen[@]}" >gen_second.log 2>&1 && ok || bad "requeued generate failed"
[[ $(find gen/data -name '*.hdf5' | wc -l) -eq 12 && -s gen/stats.yaml ]] && ok || bad "requeued generate incomplete"
[[ $(grep -c "scontrol requeue" calls.log) -eq 1 ]] && ok || bad "generate requeued twice: $(cat calls.log)"

echo "slurm: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
