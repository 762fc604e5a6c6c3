#!/usr/bin/env bash
# The finite-element flow solver on the GPU (stage from stage.sh, unpacked by run_tests.sh or
# env.sh into /tmp/surro-stage). Prints key=value lines; scratch under $1 (default /tmp/fem).
#   1. DFG 2D-1 and 2D-3 functionals on the default and refined Gmsh meshes (bench_fem_dfg);
#   2. CylinderFlow generation throughput: one file of B trajectories at several batch sizes,
#      60 recorded frames each (seconds per trajectory-frame, the figure that extrapolates to the
#      full 1000 x 600 dataset).
# The CPU/GPU comparison of a tiny CylinderFlow dataset is in generate_small.sh.
set -u
out=${1:-/tmp/fem}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/gpu/env.sh
mkdir -p "$out"
for mesh in gmsh:0.0275:0.01 gmsh:0.01:0.0025 gmsh:0.006:0.0015; do
  bench_fem_dfg 1 "$mesh" 0.02 10
done
bench_fem_dfg 3 gmsh:0.0275:0.01 0.0025 8
bench_fem_dfg 3 gmsh:0.01:0.0025 0.000625 8
for b in 1 10 50 100; do
  rm -rf "$out/thr$b"
  start=$(date +%s.%N)
  surro -q generate configs/cylinder_flow.json --set run.output_dir="$out/thr$b" --set dataset.train=$b \
    --set dataset.valid=0 --set dataset.test=0 --set dataset.per_file=$b --set dataset.batch=$b \
    --set solver.steps=60 --set solver.spinup=0.5 >/dev/null
  end=$(date +%s.%N)
  echo "cylinder_flow_generate batch=$b trajectories=$b frames=60 seconds=$(echo "$end - $start" | bc)"
done
