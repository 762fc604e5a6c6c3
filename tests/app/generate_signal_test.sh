#!/usr/bin/env bash
# surro generate stopped by SIGTERM (and SIGUSR1): it finishes the file in progress and exits 4; the
# files then present are complete and equal to an uninterrupted run's (h5diff); no temporaries are
# left; the rerun completes the dataset, identical to the uninterrupted one (every file and
# stats.yaml).
# Usage: generate_signal_test.sh /path/to/surro CONFIG_DIR
set -u
surro=$(realpath "$1")
configs=$(realpath "$2")
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# 16 one-trajectory files; a few tenths of a second each on one core.
gen=(--set solver.grid=32 --set solver.record_grid=16 --set solver.t_final=14 --set solver.record_steps=14
     --set solver.dt=2e-3 --set dataset.train=12 --set dataset.valid=2 --set dataset.test=2
     --set dataset.per_file=1)
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=full "${gen[@]}" || bad "generate"

# same_as_full DIR: every .hdf5 file under DIR equals full's (values and attributes).
same_as_full() {
  local f n=0
  for f in $(cd "$1" && find data -name '*.hdf5'); do
    h5diff "full/$f" "$1/$f" >/dev/null || { echo "differs: $f"; return 1; }
    n=$((n + 1))
  done
  echo "$n"
}

for sig in TERM USR1; do
  out=stop_$sig
  "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=$out "${gen[@]}" 2>err_$sig.log &
  pid=$!
  for _ in $(seq 1 1000); do [[ -e $out/data/train/ns2d_nu1e-3_0000.hdf5 ]] && break; sleep 0.01; done
  kill -$sig $pid
  wait $pid
  rc=$?
  [[ $rc -eq 4 ]] && ok || bad "SIG$sig: exit $rc, expected 4 (0: finished before the signal, testing nothing)"
  grep -q "stopped by signal" err_$sig.log && ok || bad "SIG$sig: no stop message: $(cat err_$sig.log)"
  [[ ! -e $out/stats.yaml ]] && ok || bad "SIG$sig: stats.yaml written by an interrupted run"
  [[ -z $(find $out -name '.*.tmp*') ]] && ok || bad "SIG$sig: temporaries left: $(find $out -name '.*.tmp*')"
  n=$(same_as_full $out) && ((n >= 1 && n < 16)) && ok || bad "SIG$sig: files after the stop: $n (expected 1..15, equal to the full run's)"
  "$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=$out "${gen[@]}" || bad "SIG$sig: resume failed"
  n=$(same_as_full $out) && ((n == 16)) && ok || bad "SIG$sig: resumed dataset: $n (expected 16 files equal to the full run's)"
  cmp -s full/stats.yaml $out/stats.yaml && ok || bad "SIG$sig: stats.yaml differs from the full run's"
done

echo "generate_signal_test: $pass passed, $failures failed"
((failures == 0))
