#!/usr/bin/env bash
# scripts/setup.sh never removes an installed package (issue #15 section 1): its install step
# (install_without_removals) runs against stub apt-get, dpkg-query and sudo on PATH that play three
# machines: a clean one (apt removes nothing: setup installs, with --no-remove), one with ParaView's
# python3-paraview (apt's simulation would remove it: setup refuses before installing, naming the
# package and the routes) and one where apt's resolver fails ("generated breaks": setup refuses,
# showing apt's error). Nothing real is installed: the stubs only log their arguments.
# Usage: setup_no_remove_test.sh /path/to/scripts/setup.sh
set -u
setup=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
mkdir -p "$work/bin"
# apt-get: `install -s` answers per $SCENARIO; every call is logged.
cat >"$work/bin/apt-get" <<'STUB'
#!/usr/bin/env bash
echo "apt-get $*" >>"$STUB_LOG"
if [[ " $* " == *" -s "* ]]; then
  case $SCENARIO in
    clean) echo "Inst libvtk9-dev (9.1.0+really9.1.0+dfsg2-5 Debian:12 [amd64])" ;;
    paraview)
      echo "The following packages will be REMOVED:"
      echo "  python3-paraview"
      echo "Remv python3-paraview [5.11.0+dfsg-1+b1]"
      echo "Inst python3-vtk9 (9.1.0+really9.1.0+dfsg2-5 Debian:12 [amd64])"
      echo "Inst libvtk9-dev (9.1.0+really9.1.0+dfsg2-5 Debian:12 [amd64])" ;;
    breaks)
      echo "E: Error, pkgProblemResolver::Resolve generated breaks, this may be caused by held packages."
      exit 100 ;;
  esac
fi
exit 0
STUB
# dpkg-query: python3-paraview is installed on the paraview and breaks machines, nothing else asked.
cat >"$work/bin/dpkg-query" <<'STUB'
#!/usr/bin/env bash
[[ ${*: -1} == python3-paraview && $SCENARIO != clean ]] && { printf 'install ok installed'; exit 0; }
exit 1
STUB
printf '#!/usr/bin/env bash\nexec "$@"\n' >"$work/bin/sudo"
chmod +x "$work/bin/"*

# Runs setup.sh's install step for libvtk9-dev on machine $1; its output in $work/$1.out.
run() {
  : >"$work/$1.log"
  (export PATH="$work/bin:$PATH" SCENARIO=$1 STUB_LOG="$work/$1.log" SURRO_SETUP_FUNCTIONS_ONLY=1
   source "$setup" && install_without_removals libvtk9-dev) >"$work/$1.out" 2>&1
}
installs() { grep -v -- ' -s ' "$work/$1.log" | grep -c 'apt-get install'; }

run clean && ok=1 || ok=0
((ok)) || bad "clean machine: install refused: $(cat "$work/clean.out")"
grep -q -- 'apt-get install -y -qq --no-remove libvtk9-dev' "$work/clean.log" ||
  bad "clean machine: no install with --no-remove: $(cat "$work/clean.log")"

if run paraview; then bad "paraview machine: setup went on although apt would remove python3-paraview"; fi
[[ $(installs paraview) -eq 0 ]] || bad "paraview machine: apt-get install ran: $(cat "$work/paraview.log")"
grep -q 'would remove the installed package(s) python3-paraview' "$work/paraview.out" &&
  grep -q 'docs/paraview.md' "$work/paraview.out" && grep -q 'paraview_private.sh' "$work/paraview.out" ||
  bad "paraview machine: message does not name python3-paraview and the routes: $(cat "$work/paraview.out")"

if run breaks; then bad "breaks machine: setup went on although apt's resolver failed"; fi
[[ $(installs breaks) -eq 0 ]] || bad "breaks machine: apt-get install ran: $(cat "$work/breaks.log")"
grep -q 'generated breaks' "$work/breaks.out" && grep -q 'nothing was changed' "$work/breaks.out" &&
  grep -q 'docs/paraview.md' "$work/breaks.out" ||
  bad "breaks machine: message lacks apt's error or the routes: $(cat "$work/breaks.out")"
((failures)) && exit 1
echo "setup.sh: installs on a clean machine with --no-remove; refuses, changing nothing, on 2 conflicting ones"
