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
