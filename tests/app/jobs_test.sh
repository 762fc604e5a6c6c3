#!/usr/bin/env bash
# End-to-end jobs: generate (complete, killed and resumed, refused on a config change), validate,
# export to FNO .mat, simulate to a ParaView series, and the 3D solver end to end.
# Usage: jobs_test.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

small=(--set solver.grid=64 --set solver.record_grid=32 --set solver.t_final=2 --set solver.record_steps=4
       --set solver.dt=1e-3 --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2
       --set dataset.per_file=2 --set dataset.batch=1)

# 1. An uninterrupted generation, then a validated folder.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=full "${small[@]}" || bad "generate failed"
[[ $(find full/data -name '*.hdf5' | wc -l) -eq 6 ]] && ok || bad "expected 6 files: $(find full -type f)"
"$surro" validate full >/dev/null && ok || bad "validate rejected a generated dataset"

# 2. Killed mid-way (SIGKILL: no cleanup), then resumed with the same command: same data.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" &
pid=$!
for _ in $(seq 1 200); do
  [[ $(find killed/data -name '*.hdf5' 2>/dev/null | wc -l) -ge 2 ]] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
written=$(find killed/data -name '*.hdf5' | wc -l)
# The kill must land mid-run for this to test resumption.
[[ $written -ge 1 && $written -lt 6 ]] && ok || bad "kill landed after $written of 6 files"
"$surro" generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" 2>resume.log || bad "resume failed"
if [[ $written -lt 6 ]]; then grep -q "resuming: " resume.log && ok || bad "resume did not report skipped files"; fi
[[ -d killed/data/train && -z $(find killed -name '.*tmp*') ]] && ok || bad "temporaries left behind: $(find killed -name '.*tmp*')"
same=1
[[ $(cd full 2>/dev/null && find data -name '*.hdf5' | wc -l) -eq 6 ]] || { same=0; bad "nothing to compare"; }
for f in $(cd full && find data -name '*.hdf5'); do
  h5diff -q "full/$f" "killed/$f" >/dev/null 2>&1 || { same=0; bad "resumed $f differs from the uninterrupted run"; }
done
((same)) && ok

# 3. A different config on the same folder is refused, and nothing is overwritten.
before=$(md5sum killed/data/train/*.hdf5 | md5sum)
[[ $(ls killed/data/train/*.hdf5 2>/dev/null | wc -l) -eq 4 ]] || bad "resumed run has no train files"
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" --set solver.viscosity=1e-4 2>err.log
rc=$?
[[ $rc -eq 2 ]] && grep -q "was generated from a different configuration" err.log && ok || bad "config change: exit $rc, $(cat err.log)"
[[ $(md5sum killed/data/train/*.hdf5 | md5sum) == "$before" ]] && ok || bad "refused run changed files"
# Issue #12 class 6: a resume with another file layout or fewer trajectories is refused naming the
# key, before anything is written (it used to skip the old files as "already written").
before_stats=$(md5sum killed/stats.yaml)
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" --set dataset.per_file=3 2>err.log
rc=$?
[[ $rc -eq 2 ]] && grep -q "dataset.per_file changed" err.log && ok || bad "per_file change: exit $rc, $(cat err.log)"
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" --set dataset.train=6 2>err.log
rc=$?
[[ $rc -eq 2 ]] && grep -q "dataset.train changed" err.log && ok || bad "train count change: exit $rc, $(cat err.log)"
[[ $(md5sum killed/data/train/*.hdf5 | md5sum) == "$before" && $(md5sum killed/stats.yaml) == "$before_stats" ]] && ok ||
  bad "refused resume changed files"
# The batch size defines no data: a resume with another batch is accepted.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=killed "${small[@]}" --set dataset.batch=2 &&
  ok || bad "a resume with another batch size was refused"

# 4. A damaged file is reported with its path; exit code 3.
cp full/data/test/*.hdf5 damaged.hdf5
truncate -s 2000 damaged.hdf5
"$surro" validate damaged.hdf5 >val.log 2>&1
rc=$?
[[ $rc -eq 3 ]] && grep -q "damaged.hdf5" val.log && ok || bad "damaged file: exit $rc, $(cat val.log)"

# 5. Export to the FNO .mat layout.
"$surro" -q export full --format fno-mat --split test -o test.mat && [[ -s test.mat ]] && ok || bad "export failed"
head -c 19 test.mat | grep -q "MATLAB 7.3 MAT-file" && ok || bad "no MATLAB header"

# 6. simulate: a .pvd with one .vti per recorded time, diagnostics, config.
"$surro" -q simulate "$configs/demo_ns2d.json" --set run.output_dir=sim --set solver.grid=32 \
  --set solver.record_grid=32 --set solver.t_final=1 --set solver.record_steps=4 --set solver.dt=1e-3 || bad "simulate failed"
[[ $(grep -c "<DataSet" sim/demo_ns2d.pvd) -eq 5 && $(ls sim/*.vti | wc -l) -eq 5 ]] && ok || bad "pvd/vti count"
[[ $(wc -l <sim/diagnostics.csv) -eq 6 && -s sim/spectrum.csv && -s sim/config.json ]] && ok || bad "csv outputs"

# 7. The 3D solver end to end: a small burgers_3d dataset validates, and simulate writes a 3D
# ParaView series with the three velocity components.
b3d=(--set solver.grid=16 --set solver.record_grid=8 --set solver.t_final=0.1 --set solver.record_steps=2
     --set solver.dt=0.01 --set dataset.train=2 --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2)
"$surro" -q generate "$configs/burgers3d.json" --set run.output_dir=b3d "${b3d[@]}" || bad "burgers3d generate failed"
"$surro" validate b3d >/dev/null && ok || bad "validate rejected the burgers3d dataset"
"$surro" -q simulate "$configs/burgers3d.json" --set run.output_dir=b3dsim "${b3d[@]}" || bad "burgers3d simulate failed"
[[ $(ls b3dsim/*.vti | wc -l) -eq 3 && $(grep -c 'WholeExtent="0 7 0 7 0 7"' b3dsim/burgers3d_000002.vti) -eq 1 ]] &&
  grep -q 'Name="w"' b3dsim/burgers3d_000002.vti && ok || bad "burgers3d vti series"

echo "jobs: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
