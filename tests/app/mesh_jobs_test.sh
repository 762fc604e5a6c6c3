#!/usr/bin/env bash
# The mesh solver end to end: simulate (a .pvd of .vtu files, per-step functionals, summary.json),
# generate (mesh files, killed and resumed to the same data), validate, and the graph-physics export.
# Usage: mesh_jobs_test.sh /path/to/surro CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
configs=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# Coarse meshes (a few hundred nodes) and a few steps: the mechanics, not the physics.
tiny=(--set solver.mesh_size=0.08 --set solver.mesh_size_obstacle=0.02 --set solver.dt=0.01
      --set solver.record_dt=0.02 --set solver.steps=4 --set solver.spinup=0.02)

# 1. simulate: one sample as a ParaView series with its functionals.
"$surro" -q simulate "$configs/cylinder_flow.json" --set run.output_dir=sim "${tiny[@]}" || bad "simulate failed"
[[ $(ls sim/*.vtu 2>/dev/null | wc -l) -eq 4 && -f sim/cylinder_flow.pvd ]] && ok || bad "expected 4 .vtu + .pvd: $(ls sim)"
grep -q 'file="cylinder_flow_000003.vtu"' sim/cylinder_flow.pvd && ok || bad ".pvd lacks the last step"
grep -q "<UnstructuredGrid>" sim/cylinder_flow_000000.vtu && grep -q 'Name="velocity"' sim/cylinder_flow_000000.vtu &&
  grep -q 'Name="node_type"' sim/cylinder_flow_000000.vtu && ok || bad ".vtu lacks the mesh, velocity or node types"
head -1 sim/diagnostics.csv | grep -q "^time,drag_coefficient,lift_coefficient,pressure_difference" && ok ||
  bad "diagnostics.csv header: $(head -1 sim/diagnostics.csv)"
# The functionals at every step from the first recorded frame: t = 0.02 .. 0.08 every 0.01.
[[ $(($(wc -l <sim/diagnostics.csv) - 1)) -eq 7 ]] && ok || bad "expected 7 diagnostics rows, got $(wc -l <sim/diagnostics.csv)"
grep -q '"strouhal": null' sim/summary.json && grep -q '"reynolds"' sim/summary.json && ok ||
  bad "summary.json: $(cat sim/summary.json)"

# 2. generate: 4/1/1 trajectories, 2 per file; killed after the first file, resumed: same data.
gen=("${tiny[@]}" --set dataset.train=4 --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2
     --set dataset.batch=2)
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=full "${gen[@]}" || bad "generate failed"
[[ $(find full/data -name '*.hdf5' | wc -l) -eq 4 ]] && ok || bad "expected 4 files: $(find full -type f)"
"$surro" validate full >/dev/null && ok || bad "validate rejected a generated mesh dataset"
grep -q "velocity_y:" full/stats.yaml && grep -q "^std_delta:" full/stats.yaml && ok || bad "stats.yaml: $(cat full/stats.yaml)"
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=killed "${gen[@]}" &
pid=$!
for _ in $(seq 1 600); do
  [[ $(find killed/data -name '*.hdf5' 2>/dev/null | wc -l) -ge 1 ]] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=killed "${gen[@]}" || bad "resume failed"
same=1
for f in $(cd full && find data -name '*.hdf5'); do
  h5diff -q "full/$f" "killed/$f" >/dev/null 2>&1 || { same=0; bad "resumed $f differs from the uninterrupted run"; }
done
((same)) && ok
# Batch size does not change a trajectory (sample i depends on (seed, i) only).
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=batch1 "${gen[@]}" --set dataset.batch=1 ||
  bad "generate with batch 1 failed"
same=1
for f in $(cd full && find data -name '*.hdf5'); do
  h5diff -q "full/$f" "batch1/$f" >/dev/null 2>&1 || { same=0; bad "batch 1 $f differs from batch 2"; }
done
((same)) && ok

# 3. graph-physics export of the train split.
"$surro" -q export full --format graph-physics --split train -o gp.h5 && [[ -f gp.h5 && -f gp_meta.json ]] && ok ||
  bad "graph-physics export: $(ls)"

# 4. A config whose cylinder leaves the channel is refused before anything is written.
"$surro" -q simulate "$configs/cylinder_flow.json" --set run.output_dir=refused --set 'solver.radius=[0.05,0.3]' 2>err.log
rc=$?
[[ $rc -eq 2 && ! -e refused ]] && grep -q "solver" err.log && ok || bad "cylinder outside: exit $rc, $(cat err.log)"

# 5. A user's Gmsh file (written by the gmsh program) instead of generated meshes; its groups mapped
#    to the roles by solver.groups.
data=$(realpath "$configs/../tests/data/mesh")
user=(--set solver.mesh_file="$data/channel_v41.msh" --set solver.length=1 --set solver.height=0.5
      --set 'solver.cylinder_x=[0.3,0.3]' --set 'solver.cylinder_y=[0.25,0.25]' --set 'solver.radius=[0.1,0.1]'
      --set 'solver.reynolds=[20,20]' --set solver.dt=0.01 --set solver.record_dt=0.02 --set solver.steps=3
      --set solver.spinup=0)
"$surro" -q simulate "$configs/cylinder_flow.json" --set run.output_dir=user "${user[@]}" && [[ -f user/cylinder_flow_000002.vtu ]] &&
  ok || bad "simulate on a user mesh"
grep -q 'NumberOfPoints="221"' user/cylinder_flow_000000.vtu && ok || bad "the user mesh's 221 nodes are not in the .vtu"
"$surro" -q simulate "$configs/cylinder_flow.json" --set run.output_dir=user2 "${user[@]}" --set solver.groups.walls=Walls 2>err.log
rc=$?
[[ $rc -eq 3 ]] && grep -q "channel_v41.msh" err.log && ok || bad "unknown group: exit $rc, $(cat err.log)"
"$surro" -q simulate "$configs/cylinder_flow.json" --set run.output_dir=user3 --set solver.mesh_file=nowhere.msh 2>err.log
rc=$?
[[ $rc -eq 2 ]] && grep -q "solver.mesh_file" err.log && ok || bad "missing mesh file: exit $rc, $(cat err.log)"

echo "mesh jobs: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
