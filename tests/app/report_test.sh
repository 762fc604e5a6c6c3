#!/usr/bin/env bash
# surro report end to end: a tiny train and rollout (grid, NS 2D; then a mesh, CylinderFlow) each
# write report.html on their own; `surro report` rewrites it; the page is self-contained, every image is a decodable PNG and
# every number shown equals metrics.json (check_report.py); a report that cannot be written only
# warns. With a browser (4th argument): chromium loads the page headless and every image decodes
# there (the page's own script marks <body data-images="decoded/total">).
# Usage: report_test.sh /path/to/surro CONFIG_DIR PYTHON CHECK_REPORT_PY [CHROMIUM]
set -u
surro=$(realpath "$1")
configs=$(realpath "$2")
python=$3
check=$(realpath "$4")
browser=${5:-}
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# 8 + 2 + 2 trajectories of 9 frames on a 16^2 grid; a window of 4 frames leaves 5 rollout steps.
"$surro" -q generate "$configs/ns2d_nu1e-3.json" --set run.output_dir=data --set solver.grid=32 \
  --set solver.record_grid=16 --set solver.t_final=2 --set solver.record_steps=8 --set solver.dt=2e-3 \
  --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 --set dataset.per_file=4 || bad "generate"
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=run --set data.dataset=data \
  --set train.batch=4 --set model.modes=[4,4] --set model.width=8 --set model.projection=16 \
  --set data.t_in=4 --set data.t_out=1 --set train.mode=teacher_forcing --set train.epochs=3 || bad "train"
[[ -s run/report.html ]] && ok || bad "train wrote no report.html: $(ls run)"
"$python" "$check" run/report.html --min-images 2 && ok || bad "training report"

"$surro" -q rollout run/checkpoint_best.h5 --samples 2 -o roll >/dev/null || bad "rollout"
[[ -s roll/report.html ]] && ok || bad "rollout wrote no report.html: $(ls roll)"
grep -q '"reference_change_rms"' roll/metrics.json && ok || bad "metrics.json has no per_step.reference_change_rms"
# Loss, learning rate, RMSE, relative L2, spectrum, 2 profiles (1 field, 2 axes), 3 snapshots.
"$python" "$check" roll/report.html --metrics roll/metrics.json --min-images 10 && ok || bad "rollout report"
grep -q "Loss per epoch\|loss curves" roll/report.html && ok || bad "the rollout report lacks the training curves"
grep -q '&quot;t_in&quot;: 4' roll/report.html && ok || bad "the rollout report lacks the resolved config"

# The reference's change from the initial frame (metrics.json), against VTK's files: started one
# frame later, step 1's change is frame t_in + 1 minus frame t_in, the references of steps 1 and 2
# of the rollout from frame 0.
"$surro" -q rollout run/checkpoint_best.h5 --samples 1 --steps 2 -o from0 >/dev/null &&
  "$surro" -q eval run/checkpoint_best.h5 --samples 1 --start 1 --steps 1 -o from1 >/dev/null || bad "short rollouts"
"$python" "$check" --reference-change from1/metrics.json vorticity from0/rollout_000000.vti from0/rollout_000001.vti \
  && ok || bad "reference_change_rms"

# surro report on its own: same checks; the training folder found through rollout.hdf5's checkpoint.
rm roll/report.html
"$surro" -q report roll >/dev/null && [[ -s roll/report.html ]] && ok || bad "surro report roll"
"$python" "$check" roll/report.html --metrics roll/metrics.json --min-images 10 && ok || bad "surro report: check"
grep -q "Loss per epoch\|loss curves" roll/report.html && ok || bad "surro report did not find the training run"
"$surro" -q eval run/checkpoint_best.h5 --samples 2 -o ev >/dev/null && [[ -s ev/report.html ]] && ok \
  || bad "eval -o wrote no report"
"$python" "$check" ev/report.html --metrics ev/metrics.json --min-images 5 && ok || bad "eval report"

# The ParaView render beside a rollout (compare.png): a PNG written by Python (struct + zlib, not
# surro's cairo) is embedded byte for byte with its Description as caption; a truncated one is left
# out with a warning naming it, and the page still checks.
"$python" "$check" --write-png roll/compare.png "vorticity at t = 1.75" || bad "python wrote no PNG"
"$surro" -q report roll >/dev/null 2>err.log && ok || bad "report with compare.png: $(cat err.log)"
"$python" "$check" --embedded roll/report.html roll/compare.png "vorticity at t = 1.75" && ok \
  || bad "compare.png not embedded"
"$python" "$check" roll/report.html --metrics roll/metrics.json --min-images 11 && ok || bad "report with compare.png"
head -c 60 roll/compare.png >cut.png && cp cut.png roll/compare.png
"$surro" -q report roll >/dev/null 2>err.log && ok || bad "a truncated compare.png failed the report: $(cat err.log)"
grep -q "compare.png not embedded: .*roll/compare.png: truncated" err.log && ok || bad "no warning: $(cat err.log)"
grep -q "compare.png not embedded" roll/report.html && ok || bad "the page does not say compare.png was left out"
"$python" "$check" roll/report.html --metrics roll/metrics.json --min-images 10 && ok || bad "report without compare.png"
! "$python" "$check" --embedded roll/report.html cut.png >/dev/null && ok || bad "the truncated PNG was embedded"
rm roll/compare.png

# surro report --paraview with stand-ins for pvpython (run as `PVPYTHON compare.py --png FILE`): one
# writing a PNG (with Python), one failing, one hanging, one missing. A failure exits 1 naming the
# command and its exit code or time limit, and report.html is still written.
printf '#!/bin/sh\nexec "%s" "%s" --write-png "$3" "rendered by a stand-in"\n' "$python" "$check" >fake_pv
printf '#!/bin/sh\necho "paraview: no such array" >&2\nexit 3\n' >failing_pv
printf '#!/bin/sh\nsleep 100\n' >hanging_pv
chmod +x fake_pv failing_pv hanging_pv
"$surro" -q report roll --paraview ./fake_pv >/dev/null 2>err.log && ok || bad "--paraview fake_pv: $(cat err.log)"
"$python" "$check" --embedded roll/report.html roll/compare.png "rendered by a stand-in" && ok \
  || bad "--paraview: compare.png not embedded"
[[ ! -e roll/compare.tmp.png ]] && ok || bad "--paraview left its temporary PNG"
rm roll/report.html
expect 1 "ParaView render failed: .*failing_pv .*roll/compare.py --png .*exited with code 3 .*compare.log; last line: paraview: no such array.*report.html written without it" \
  -- "$surro" -q report roll --paraview ./failing_pv
[[ -s roll/report.html && -s roll/compare.png ]] && ok || bad "a failed render: no report.html, or the earlier compare.png removed"
grep -q "ParaView render failed" roll/report.html && ok || bad "the page does not say the render failed"
start=$(date +%s)
expect 1 "hanging_pv .*did not finish in 2 s and was stopped" -- "$surro" -q report roll --paraview ./hanging_pv --paraview-timeout 2
(($(date +%s) - start < 15)) && ok || bad "--paraview-timeout 2 took $(($(date +%s) - start)) s"
expect 1 "--paraview surro-no-such-pvpython: no such executable on PATH" -- "$surro" -q report roll --paraview surro-no-such-pvpython
"$python" "$check" roll/report.html --metrics roll/metrics.json --min-images 11 && ok || bad "report after failed renders"
rm roll/compare.png roll/compare.log

# Refusals and failures: nothing to report (exit 2, naming the folder); a report that cannot be
# written (report.html is a folder) warns and the rollout still succeeds with its metrics.
mkdir empty
"$surro" -q report empty 2>err.log
[[ $? -eq 2 ]] && grep -q "empty: nothing to report" err.log && ok || bad "empty folder: $(cat err.log)"
"$surro" -q report missing 2>err.log
[[ $? -eq 2 ]] && grep -q "missing: no such folder" err.log && ok || bad "missing folder: $(cat err.log)"
mkdir -p blocked/report.html
"$surro" -q rollout run/checkpoint_best.h5 --samples 1 -o blocked >/dev/null 2>err.log && ok \
  || bad "a failed report failed the rollout: $(cat err.log)"
grep -q "report: not written" err.log && [[ -s blocked/metrics.json ]] && ok || bad "no warning: $(cat err.log)"

# A mesh run (CylinderFlow, 2 + 1 + 1 trajectories of 8 steps, MeshGraphNet): snapshots drawn as
# triangles; the per-field RMSE and the reference's change are shown and match metrics.json.
"$surro" -q generate "$configs/cylinder_flow.json" --set run.output_dir=mdata --set dataset.train=2 \
  --set dataset.valid=1 --set dataset.test=1 --set dataset.per_file=2 --set dataset.batch=4 \
  --set solver.steps=8 --set solver.spinup=1.0 --set solver.mesh_size=0.08 || bad "mesh generate"
"$surro" -q train "$configs/train_meshgraphnet_cylinder.json" --set run.output_dir=mrun --set data.dataset=mdata \
  --set model.hidden=16 --set model.blocks=2 --set data.fields='["velocity","pressure"]' --set train.epochs=2 \
  || bad "mesh train"
"$surro" -q rollout mrun/checkpoint_best.h5 -o mroll >/dev/null || bad "mesh rollout"
grep -q '"reference_change_rms"' mroll/metrics.json && ok || bad "mesh metrics.json has no reference_change_rms"
# Loss, learning rate, RMSE, relative L2, 3 snapshots x 2 fields.
"$python" "$check" mroll/report.html --metrics mroll/metrics.json --min-images 10 && ok || bad "mesh report"
[[ $(grep -c "<h3>rollout_0000..\.vtu" mroll/report.html) -eq 3 ]] && ok || bad "mesh report: not 3 snapshots"

# A pair model (Darcy a -> u) predicts once: the error table, no step curves, the snapshot of
# prediction.pvd, and the training curves (the rollout passes the checkpoint's folder).
"$surro" -q generate "$configs/darcy2d.json" --set run.output_dir=darcy --set solver.grid=33 \
  --set solver.record_grid=17 --set dataset.train=8 --set dataset.valid=2 --set dataset.test=2 \
  --set dataset.per_file=8 || bad "darcy generate"
"$surro" -q train "$configs/train_fno_darcy2d.json" --set run.output_dir=darcy_run --set data.dataset=darcy \
  --set model.modes=[4,4] --set model.width=8 --set model.projection=16 --set model.padding=[3,3] \
  --set train.epochs=2 --set train.batch=4 || bad "darcy train"
"$surro" -q rollout darcy_run/checkpoint_best.h5 -o darcy_pred >/dev/null || bad "darcy rollout"
# Loss, learning rate, one snapshot.
"$python" "$check" darcy_pred/report.html --metrics darcy_pred/metrics.json --min-images 3 && ok || bad "darcy report"
grep -q "prediction_000000.vti" darcy_pred/report.html && ! grep -q "against rollout step" darcy_pred/report.html \
  && ok || bad "darcy report: expected the prediction snapshot and no step curves"

if [[ -n $browser ]]; then
  # Headless chromium: the page loads from file:// and every image decodes in the browser.
  images=$(grep -o '<img ' roll/report.html | wc -l)
  dom=$("$browser" --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 \
    --dump-dom "file://$work/roll/report.html" 2>browser.log)
  got=$(grep -o 'data-images="[0-9]*/[0-9]*"' <<<"$dom")
  [[ $got == "data-images=\"$images/$images\"" ]] && ok \
    || bad "chromium: ${got:-no data-images mark}, expected $images/$images: $(tail -3 browser.log)"
fi

echo "report: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
