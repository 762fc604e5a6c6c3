# Helpers shared by the shell-driven tests (tests/app/*.sh, tests/faults/*.sh, tests/slurm/*.sh).
# Source it after `set -u`: source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# Each script counts checks in pass and failures and ends with [[ $failures -eq 0 ]].
pass=0 failures=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect CODE PATTERN -- command...: exit code CODE and output (stdout + stderr) matching PATTERN (ERE).
# On failure the first 1000 characters of the output are printed.
expect() {
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]] || ! grep -Eq -- "$pattern" <<<"$out"; then
    bad "$* -> exit $rc (want $code), output: $(head -c 1000 <<<"$out")  [pattern: $pattern]"
  else
    ok
  fi
}

# make_external PYTHON SCRIPT DIR: runs the independent writer of external formats
# (tests/datasets/make_external.py) into DIR; on failure prints why and which Debian packages it needs
# and returns 1 (the caller exits: nothing else can be checked without the files).
make_external() {
  local python=$1 script=$2 dir=$3 rc
  if [[ ! -x $python ]]; then
    echo "FAIL: $python not found: install the Debian packages python3 python3-h5py python3-scipy"
    return 1
  fi
  mkdir -p "$dir" && "$python" "$script" "$dir" >"$dir.log" 2>&1
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: make_external.py exited $rc (3: h5py or scipy missing, install python3-h5py python3-scipy):"
    cat "$dir.log"
    return 1
  fi
}

# The HDF5 checks of the import tests, read with h5dump (an independent reader).
# hdf5_count DIR: the number of .hdf5 files below DIR.
hdf5_count() { find "$1" -name '*.hdf5' 2>/dev/null | wc -l; }
# hdf5_value FILE DATASET START COUNT [FORMAT]: one value of a dataset at START (comma-separated
# indices), printed with FORMAT (default %.6g).
hdf5_value() {
  h5dump -m "${5:-%.6g}" -d "$2" -s "$3" -c "$4" "$1" | sed -n 's/^ *([0-9,]*): *\([^ ,]*\).*/\1/p' | head -1
}
# hdf5_check FILE DATASET START COUNT WANT WHAT: the value equals WANT within 1e-5 (the writers'
# values are a few units with three decimals, stored as float32: spacing below 1e-6).
hdf5_check() {
  local v
  v=$(hdf5_value "$1" "$2" "$3" "$4")
  awk -v a="$v" -v b="$5" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }' && ok ||
    bad "$6: $2[$3] = '$v', expected $5"
}
