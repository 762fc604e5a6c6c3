#!/usr/bin/env bash
# End-to-end checks of the surro command line: exit codes, one-line errors naming file and JSON
# path, and that a failing command writes nothing. Usage: cli_test.sh /path/to/surro
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

printf '{"run": {"name": "demo", "seed": 3}}\n' >good.json
printf '{"run": {"name": "demo", "seeed": 3}}\n' >unknown_key.json
printf '{"run": {"seed": "three"}}\n' >wrong_type.json
printf '{"run": {"seed": -4}}\n' >out_of_range.json
printf '{"run": {"seed": 3,}}\n' >malformed.json
printf '{"run": {}, "solvr": {}}\n' >unknown_section.json

expect 0 '^surro [0-9]+\.[0-9]+\.[0-9]+ \(git ' -- "$surro" --version
expect 0 'FFT +FFTW|FFT +cuFFT' -- "$surro" info
expect 0 '"execution_space"' -- "$surro" info --json
expect 0 '"seed": 3' -- "$surro" check good.json
expect 0 '"seed": 9' -- "$surro" check good.json --set run.seed=9
expect 0 '"log_level": "info"' -- "$surro" check good.json
expect 2 '^surro: error: unknown_key\.json: run\.seeed: unknown key \(did you mean .seed.\?\)' -- "$surro" check unknown_key.json
expect 2 '^surro: error: wrong_type\.json: run\.seed: expected a non-negative integer, got the string "three"$' -- "$surro" check wrong_type.json
expect 2 '^surro: error: out_of_range\.json: run\.seed: expected a non-negative integer, got -4$' -- "$surro" check out_of_range.json
expect 2 '^surro: error: malformed\.json:1:20: malformed JSON: ' -- "$surro" check malformed.json
expect 2 '^surro: error: missing\.json: cannot open config file: No such file or directory$' -- "$surro" check missing.json
expect 2 '^surro: error: unknown_section\.json: solvr: unknown key; valid keys here: run$' -- "$surro" check unknown_section.json
expect 2 '^surro: error: good\.json: run\.seed: expected a non-negative integer, got -1$' -- "$surro" check good.json --set run.seed=-1
expect 2 "^surro: error: --set 'run\.seed': expected key\.path=value$" -- "$surro" check good.json --set run.seed
expect 2 'The following argument was not expected: --bogus|--bogus' -- "$surro" info --bogus
# Processes sharing a node share OpenBLAS's threads (a Serial host space; the OpenMP build runs
# OpenBLAS single-threaded and reports 0): two announced processes get half the hardware threads
# each when OpenBLAS would start more, and an explicit OPENBLAS_NUM_THREADS is kept.
own=$(env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS -u OMP_NUM_THREADS "$surro" info --json |
  sed -n 's/.*"host_blas_threads": \([0-9]*\).*/\1/p')
if [[ -n $own && $own -gt 1 ]]; then
  half=$(($(getconf _NPROCESSORS_ONLN) / 2)); ((half < 1)) && half=1; ((half > own)) && half=$own
  expect 0 "\"host_blas_threads\": $half\b" -- env -u OPENBLAS_NUM_THREADS -u GOTO_NUM_THREADS -u OMP_NUM_THREADS \
    OMPI_COMM_WORLD_LOCAL_SIZE=2 "$surro" info --json
  expect 0 "\"host_blas_threads\": $own\b" -- env -u GOTO_NUM_THREADS -u OMP_NUM_THREADS OPENBLAS_NUM_THREADS=$own \
    OMPI_COMM_WORLD_LOCAL_SIZE=2 "$surro" info --json
fi
expect 2 'A subcommand is required|subcommand' -- "$surro"
expect 0 'Kokkos flags' -- "$surro" --help
# A failed command wrote nothing: only the inputs are in the folder.
if [[ $(ls -A | wc -l) -ne 6 ]]; then
  echo "FAIL: failing commands left files behind: $(ls -A)"
  failures=$((failures + 1))
else
  pass=$((pass + 1))
fi
# Errors are one line.
lines=$("$surro" check unknown_key.json 2>&1 | wc -l)
if [[ $lines -ne 1 ]]; then echo "FAIL: config error took $lines lines"; failures=$((failures + 1)); else pass=$((pass + 1)); fi

echo "cli: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
