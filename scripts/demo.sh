#!/usr/bin/env bash
# Quick start, command 1: install, build, and run the main job on the embedded defaults, on the CPU:
#   1. a classical 2D Navier-Stokes simulation      -> runs/demo_ns2d/demo_ns2d.pvd (ParaView)
#   2. a small dataset from the same solver          -> runs/demo/data (The Well's HDF5 layout)
#   3. a Fourier Neural Operator trained on it       -> runs/demo/fno/checkpoint_best.h5
#   4. the FNO rolled out against the solver         -> runs/demo/rollout/rollout.pvd
#      (prediction, reference and error), and the error table
#   5. flow past a cylinder on an unstructured mesh  -> runs/demo_cylinder/cylinder_flow.pvd (.vtu),
#      finite elements, vortex shedding with its drag/lift history and Strouhal number
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
surro=./build/release/app/surro
$surro info
$surro simulate configs/demo_ns2d.json
rm -rf runs/demo
$surro generate configs/demo_dataset.json
$surro train configs/demo_fno.json
$surro rollout runs/demo/fno/checkpoint_best.h5 -o runs/demo/rollout
# 3 time units of spin-up, then 2 recorded (200 frames): about a minute on one core.
rm -rf runs/demo_cylinder
$surro simulate configs/cylinder_flow.json --set run.output_dir=runs/demo_cylinder --set solver.steps=200
echo "Open runs/demo_ns2d/demo_ns2d.pvd, runs/demo/rollout/rollout.pvd and"
echo "runs/demo_cylinder/cylinder_flow.pvd in ParaView."
