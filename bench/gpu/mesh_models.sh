#!/usr/bin/env bash
# surro's graph models (bench_mesh_models: mesh transformer, MeshGraphNet) against the same models in
# PyTorch (bench/peers/mesh_models.py), on Gmsh channel meshes (the DFG / CylinderFlow domain). Every
# case runs surro with --dump, then the peer on that dump: the peer checks its output and gradients
# against surro's before timing, so every timing line also says whether the two compute the same thing.
#
# On the GPU machine (the stage from bench/gpu/stage.sh, unpacked through bench/gpu/env.sh):
#   bench/gpu/mesh_models.sh                     every part (may exceed one 10-minute call: split with --only)
#   bench/gpu/mesh_models.sh --only cyl          CylinderFlow size (size 0.0275, 1,873 nodes), batch 1 and 8
#   bench/gpu/mesh_models.sh --only large        single meshes of about 20k, 100k and 300k nodes, batch 1
#   bench/gpu/mesh_models.sh --only global       the mesh transformer without and with 8 global nodes
#                                                (--global-nodes): CylinderFlow size batch 2 at the
#                                                shipped config's width 64 and 10 layers, and ~100k nodes
#   bench/gpu/mesh_models.sh --only sweep [--models meshgraphnet]
#                                                the scale sweep: B copies of a ~50k-node mesh (one
#                                                block-diagonal graph of B x 50k nodes; memory per node is
#                                                that of one mesh of that size) for B = 1, 2, 3, ... until
#                                                both sides fail to train; each side's largest is in table 2
# Here (CPU, build/release, no torch): bench/gpu/mesh_models.sh --cpu --small runs surro only (the peer is
# skipped when `import torch` fails) at reduced sizes, and checks every dump with bench/peers/mesh_dump.py.
# Options: --only cyl|large|global|sweep (repeatable), --models "mesh_transformer meshgraphnet", --cpu, --small.
# Environment: OUT (results, default /tmp/mesh-models: mesh_models.log with every JSON line,
# mesh_models.md with the tables), PYTHON (python3), STEPS (10), WARMUP (3), LARGE_SIZES (the large
# part's node counts), SWEEP_BATCHES (the sweep's B list), KEEP_DUMPS=1 keeps the dumps under $OUT/dumps (default: deleted after each case).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
cpu=0 small=0 parts=() models="mesh_transformer meshgraphnet"
while (($#)); do
  case $1 in
    --cpu) cpu=1 ;;
    --small) small=1 ;;
    --only) parts+=("$2"); shift ;;
    --models) models=$2; shift ;;
    *) echo "mesh_models.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
((${#parts[@]})) || parts=(cyl large sweep)
has_part() { [[ " ${parts[*]} " == *" $1 "* ]]; }

out=${OUT:-/tmp/mesh-models}
mkdir -p "$out"
log=$out/mesh_models.log
if ((cpu)); then
  export PATH="$PWD/${BUILD:-build/release}/bench:$PATH"
  py=${PYTHON:-python3} dev=cpu
else
  [[ -f .device/stage.tgz ]] && rm -rf /tmp/surro-stage  # unpack this call's stage, not an older one
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
  py=${PYTHON:-python3} dev=cuda
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$log"
fi
steps=${STEPS:-10} warmup=${WARMUP:-3}
((small)) && steps=${STEPS:-2} warmup=${WARMUP:-1}
small_flags=()
((small)) && small_flags=(--layers 2 --width 32)
have_torch=1
"$py" -c 'import torch, numpy' 2>/dev/null || { have_torch=0; echo "mesh_models.sh: no torch/numpy in $py: surro only" >&2; }
dumps=$out/dumps
echo "mesh_models: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(command -v bench_mesh_models)" | tee -a "$log"

# run_case NAME MODEL SIZE BATCH [FLAGS...]: surro (with --dump), the dump check, then the peer; both
# JSON lines into the log. Sets `last_mesh_size` (the size surro meshed) and `surro_ok`/`peer_ok`.
run_case() {
  local name=$1 model=$2 size=$3 batch=$4 line
  shift 4
  rm -rf "${dumps:?}/$name"
  line=$(bench_mesh_models "$model" "$size" "$batch" --steps "$steps" --warmup "$warmup" --dump "$dumps/$name" \
    --case "$name" "${small_flags[@]}" "$@" 2>"$out/$name.surro.err" | tail -1)
  [[ $line == "{"* ]] || line="{\"impl\": \"surro\", \"case\": \"$name\", \"status\": \"crashed\"}"
  echo "$line" | tee -a "$log" "$out/$name.surro.json"
  surro_ok=0 peer_ok=0
  [[ $line == *'"status":"ok"'* ]] && surro_ok=1
  last_mesh_size=$("$py" -c 'import json,sys; print(json.loads(sys.argv[1]).get("mesh_size", ""))' "$line")
  if [[ -f $dumps/$name/meta.json ]]; then
    ((small)) && "$py" bench/peers/mesh_dump.py "$dumps/$name" | tee -a "$log"
    if ((have_torch)); then
      line=$("$py" bench/peers/mesh_models.py --load "$dumps/$name" --case "$name" --device $dev --steps "$steps" \
        --warmup "$warmup" --surro "$out/$name.surro.json" 2>"$out/$name.torch.err" | tail -1)
      [[ $line == "{"* ]] || line="{\"impl\": \"torch\", \"case\": \"$name\", \"status\": \"crashed\"}"
      echo "$line" | tee -a "$log"
      [[ $line == *'"status": "ok"'* ]] && peer_ok=1
    fi
  fi
  [[ ${KEEP_DUMPS:-0} == 1 ]] || rm -rf "${dumps:?}/$name"
}

if has_part cyl; then
  for model in $models; do
    for b in 1 8; do
      ((small)) && b=$((b == 8 ? 2 : 1))
      run_case "${model}_cyl_b$b" "$model" 0.0275 $b
    done
  done
fi

if has_part large; then
  read -ra sizes <<<"${LARGE_SIZES:-20000 100000 300000}"
  ((small)) && read -ra sizes <<<"${LARGE_SIZES:-4000}"
  for n in "${sizes[@]}"; do
    size=nodes:$n
    for model in $models; do
      run_case "${model}_n$n" "$model" "$size" 1
      [[ $last_mesh_size =~ ^[0-9.e-]+$ ]] && size=$last_mesh_size  # the next model meshes once, same mesh
    done
  done
fi

if has_part global; then
  for g in 0 8; do
    run_case "mesh_transformer_cyl_b2_d64_g$g" mesh_transformer 0.0275 2 --layers 10 --width 64 --global-nodes $g
  done
  size=nodes:100000
  for g in 0 8; do
    ((small)) && break
    run_case "mesh_transformer_n100000_g$g" mesh_transformer "$size" 1 --global-nodes $g
    [[ $last_mesh_size =~ ^[0-9.e-]+$ ]] && size=$last_mesh_size  # the same mesh for both
  done
fi

if has_part sweep; then
  base=nodes:50000
  read -ra batches <<<"${SWEEP_BATCHES:-1 2 3 4 5 6 8 10 12 14 16 20 24}"
  ((small)) && base=nodes:2000 && read -ra batches <<<"${SWEEP_BATCHES:-1 2}"
  steps=${STEPS:-2} warmup=${WARMUP:-1}  # large cases: a few steps suffice for the mean
  for model in $models; do
    size=$base surro_on=1 peer_on=$have_torch
    for b in "${batches[@]}"; do
      ((surro_on || peer_on)) || break
      run_case "${model}_sweep_b$b" "$model" "$size" "$b"
      [[ $last_mesh_size =~ ^[0-9.e-]+$ ]] && size=$last_mesh_size
      ((surro_ok)) || surro_on=0
      ((peer_ok)) || peer_on=0
    done
  done
fi

"$py" bench/peers/mesh_table.py "$log" | tee "$out/mesh_models.md"
