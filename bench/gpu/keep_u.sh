#!/usr/bin/env bash
# The IFactFormer-m training step with model.keep_u never and always, alternating, on one machine in
# one call: what keeping each iteration's attention output buys against recomputing it (surro
# against itself; suite.sh gives the ratio to torch). The Re_tau 180 case of suite.sh (32×33×16,
# batch 5) unless GRID / BATCH say otherwise; REPEAT (2) rounds; one JSON line per run on stdout.
#   bench/gpu/keep_u.sh                on the GPU machine (the stage through bench/gpu/env.sh)
#   BUILD=build/release bench/gpu/keep_u.sh --cpu   here, with a small grid (GRID=8,9,6 BATCH=2)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
if [[ ${1:-} == --cpu ]]; then
  export PATH="$PWD/${BUILD:-build/release}/bench:$PATH"
  grid=${GRID:-8,9,6} batch=${BATCH:-2} timing=(--warmup 1 --reps 2 --iters 1)
else
  # shellcheck source=bench/gpu/env.sh
  source bench/gpu/env.sh
  grid=${GRID:-32,33,16} batch=${BATCH:-5} timing=(--warmup 5 --reps 10 --iters 5)
fi
# shellcheck disable=SC2054  # --lengths takes one comma-separated value
re180=(--dim 96 --heads 5 --dim-head 96 --km 3 --layers 10 --lift 16 --in 3 --out 3
  --lengths 12.566370614359172,2,4.1887902047863905)
for ((r = 0; r < ${REPEAT:-2}; ++r)); do
  for keep in never always; do
    bench_ifactformer --case "keep_u_$keep" "${re180[@]}" --grid "$grid" --batch "$batch" --mode train \
      --keep-u "$keep" "${timing[@]}" || exit 1
  done
done
