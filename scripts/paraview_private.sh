#!/usr/bin/env bash
# Unpacks Debian 12's ParaView into a private folder and writes a `pvpython` wrapper there, without
# installing anything into the system: no root, no dpkg database, nothing removed.
#
#   scripts/paraview_private.sh [PREFIX]     PREFIX defaults to build/paraview-private
#   -> PREFIX/bin/pvpython, pvbatch, paraview  run ParaView with the private libraries and modules
#
# Why: on Debian 12 `python3-paraview` (which provides pvpython) conflicts with `python3-vtk9`, a
# dependency of `libvtk9-dev`, surro's build dependency; `apt-get install paraview` removes
# libvtk9-dev. This route fetches the .deb files with `apt-get download` (a plain user may run it)
# and unpacks them with `dpkg -x`. Only the packages the system lacks are fetched (apt's own
# simulation decides which); the rest of the libraries come from the system as usual.
# Debian's ParaView renders through X: run pvpython under `xvfb-run` on a machine without a display
# (package xvfb). Set SURRO_PVPYTHON=PREFIX/bin/pvpython for the `paraview` tests.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:-$repo/build/paraview-private}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
root=$prefix/root  # the unpacked file tree (usr/...)
debs=$prefix/debs  # the downloaded packages

# The packages apt would install for ParaView's Python here: the Inst lines of a simulation (which
# also reports that it would remove python3-vtk9: we install nothing, so that never happens).
mapfile -t pkgs < <(apt-get install -s --no-install-recommends paraview python3-paraview 2>/dev/null |
  awk '/^Inst /{print $2}')
if ((${#pkgs[@]} == 0)); then
  if dpkg-query -W -f='${Status}' python3-paraview 2>/dev/null | grep -q "install ok installed"; then
    echo "paraview_private: python3-paraview is installed in the system already; use /usr/bin/pvpython" >&2
    exit 0
  fi
  echo "paraview_private: apt cannot resolve paraview python3-paraview here (is this Debian 12, and" \
    "are the package lists current? run 'apt-get update' as root)" >&2
  exit 1
fi
echo "paraview_private: fetching ${#pkgs[@]} packages into $debs"
mkdir -p "$debs" "$root"
sandbox=()
[[ $(id -u) -ne 0 ]] || sandbox=(-o APT::Sandbox::User=root)  # root: no warning about the _apt user
(cd "$debs" && apt-get download -q "${sandbox[@]}" "${pkgs[@]}" >/dev/null) || {
  echo "paraview_private: apt-get download failed (package lists stale? run 'apt-get update' as root)" >&2
  exit 1
}
for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done

# With `paraview` installed from apt without its Python (--no-install-recommends: docs/paraview.md
# route (a)), only python3-paraview is unpacked here and the programs are the system's.
[[ -x $root/usr/bin/pvpython || -x /usr/bin/pvpython ]] || {
  echo "paraview_private: no pvpython in $root/usr/bin or /usr/bin after unpacking: expected it in package paraview" >&2
  exit 1
}
# ParaView's libraries (libvtk*-pv5.11.so, ...) and its dependencies' live in usr/lib/<triplet>, its
# plugins in usr/lib/<triplet>/paraview-X.Y; its Python modules in usr/lib/python3/dist-packages
# (with its Python-only dependencies such as matplotlib). One wrapper per program.
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
mkdir -p "$prefix/bin"
for program in pvpython pvbatch paraview; do
  real=$root/usr/bin/$program
  [[ -x $real ]] || real=/usr/bin/$program
  [[ -x $real ]] || continue
  cat >"$prefix/bin/$program" <<EOF
#!/bin/sh
# Written by surro's scripts/paraview_private.sh: ParaView unpacked in $root.
export LD_LIBRARY_PATH="$root/usr/lib/$triplet\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PYTHONPATH="$root/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}"
exec "$real" "\$@"
EOF
  chmod +x "$prefix/bin/$program"
done
echo "paraview_private: $(du -sh "$root" | cut -f1) unpacked ($(du -sh "$debs" | cut -f1) of .deb files)"
echo "paraview_private: pvpython is $prefix/bin/pvpython (run it under xvfb-run without a display)"
