#!/usr/bin/env bash
# Installs surro's build dependencies (Debian 12 packages) when missing, then configures and builds
# the CPU release preset into build/release. Sourced by demo.sh and test.sh; safe to run again.
# It never removes an installed package: when apt would (ParaView's python3-paraview against
# libvtk9-dev on Debian 12), it stops before changing anything and names the conflict and the
# routes (docs/paraview.md). SURRO_VTK_DIR=<dir with vtk-config.cmake> builds against that VTK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtrilinos-kokkos-dev   # Kokkos 3.4.1 (Serial), packaged with Trilinos
  libhdf5-dev hdf5-tools   # datasets and checkpoints
  libopenmpi-dev openmpi-bin   # SURRO_MPI: data-parallel training, parallel generation
  libvtk9-dev              # ParaView output
  libcli11-dev nlohmann-json3-dev catch2
  libfftw3-dev libopenblas-dev
  libprotobuf-dev protobuf-compiler   # MeshGraphNets TFRecord reader (tf.train.Example)
  python3-protobuf         # the TFRecord test's independent writer (tests/datasets/make_tfrecord.py)
  python3-h5py python3-scipy python3-yaml  # FNO .mat / PDEBench / The Well test files (tests/datasets/make_external.py); yaml: app.import_well reads stats.yaml
  libgmsh-dev gmsh         # unstructured meshes (Gmsh C++ API) and the CLI that writes test fixtures
  libcairo2-dev            # the run report's images (PNG, drawn without a display)
)
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)

# The packages apt would remove to install `$@` (the Remv lines of a simulation), one per line; the
# simulation's own error text (e.g. "pkgProblemResolver::Resolve generated breaks") when it fails.
# Never removes anything itself. Used below and by tests/scripts/setup_no_remove_test.sh.
apt_removals() {
  local sim
  sim=$(apt-get install -s "$@" 2>&1) || { printf '%s\n' "$sim" | grep -E '^(E:|W:| )' >&2; return 1; }
  printf '%s\n' "$sim" | awk '/^Remv /{print $2}'
}

# The routes for a machine with ParaView, when its Python is installed.
paraview_routes() {
  dpkg-query -W -f='${Status}' python3-paraview 2>/dev/null | grep -q "install ok installed" || return 0
  echo "  python3-paraview (ParaView's pvpython) is installed and conflicts with python3-vtk9, which" \
    "libvtk9-dev needs. Keep ParaView and build surro against ParaView's own VTK" \
    "(paraview-dev, SURRO_VTK_DIR), or remove python3-paraview yourself and use a private pvpython" \
    "(scripts/paraview_private.sh): docs/paraview.md describes both." >&2
}

# Installs `$@`, refusing before any change when apt would remove an installed package (on Debian 12
# installing libvtk9-dev removes python3-paraview, ParaView's Python): setup never removes what the
# user has. The install itself runs with --no-remove as well, so apt aborts rather than remove.
install_without_removals() {
  local removals
  if ! removals=$(apt_removals "$@"); then
    echo "surro setup: apt cannot install $* here without breaking installed packages (above);" \
      "nothing was changed." >&2
    paraview_routes
    return 1
  fi
  if [[ -n $removals ]]; then
    echo "surro setup: installing $* would remove the installed package(s) $(echo $removals)." >&2
    paraview_routes
    echo "surro setup: nothing was changed (surro never removes packages)." >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-remove "$@"
}

# Sourced with SURRO_SETUP_FUNCTIONS_ONLY=1 (by the test), define the functions and stop here.
[[ ${SURRO_SETUP_FUNCTIONS_ONLY:-0} == 1 ]] && return 0

# With SURRO_VTK_DIR (e.g. ParaView's VTK, docs/paraview.md), surro builds against that VTK and
# libvtk9-dev is not needed.
if [[ -n ${SURRO_VTK_DIR:-} ]]; then
  packages=("${packages[@]/libvtk9-dev/}")
fi
missing=()
for p in "${packages[@]}"; do
  [[ -n $p ]] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "surro setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  install_without_removals "${missing[@]}" || exit 1
fi

cmake --preset release ${SURRO_VTK_DIR:+-DVTK_DIR="$SURRO_VTK_DIR"} >/dev/null
cmake --build --preset release
