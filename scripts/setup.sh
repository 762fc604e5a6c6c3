#!/usr/bin/env bash
# Installs surro's build dependencies (Debian 12 packages) when missing, then configures and builds
# the CPU release preset into build/release. Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtrilinos-kokkos-dev   # Kokkos 3.4.1 (Serial), packaged with Trilinos
  libhdf5-dev hdf5-tools   # datasets and checkpoints
  libvtk9-dev              # ParaView output
  libcli11-dev nlohmann-json3-dev catch2
  libfftw3-dev libopenblas-dev
  libprotobuf-dev protobuf-compiler   # MeshGraphNets TFRecord reader (tf.train.Example)
  python3-protobuf         # the TFRecord test's independent writer (tests/datasets/make_tfrecord.py)
  python3-h5py python3-scipy python3-yaml  # FNO .mat / PDEBench / The Well test files (tests/datasets/make_external.py); yaml: app.import_well reads stats.yaml
  libgmsh-dev gmsh         # unstructured meshes (Gmsh C++ API) and the CLI that writes test fixtures
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "surro setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

cmake --preset release >/dev/null
cmake --build --preset release
