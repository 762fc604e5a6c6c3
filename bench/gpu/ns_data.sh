# Sourced by the GPU scripts that train on the Navier–Stokes benchmark data (accuracy.sh ns|ns4,
# fno_parity.sh), so they generate the same data. The shipped configs (ns2d_nu1e-3.json,
# ns2d_nu1e-4.json) solve on 256² with Crank–Nicolson at dt 1e-4 (about 1.4 h of H100 for 1300
# trajectories); these overrides solve the same equation, forcing and initial-condition law on the
# recorded 64² grid with IF-RK4 at dt 2.5e-3 (about 110 s for 1300 trajectories; accuracy.sh
# measures what that changes, bench/RESULTS.md). The generation is deterministic: a rerun on a fresh
# machine writes the same values.
ns64_gen_sets=(--set solver.grid=64 --set solver.scheme=ifrk4 --set solver.dt=2.5e-3 --set dataset.per_file=500
               --set dataset.batch=500)
