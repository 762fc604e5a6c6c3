#!/usr/bin/env bash
# surro import --format fno-mat / pdebench end to end, on files written by an independent program
# (tests/datasets/make_external.py: h5py following FNO's MATLAB v7.3 layout and PDEBench's schemas,
# scipy.io.savemat for MATLAB v5): values at known indices (value = n + 0.1 i + 0.01 j + 0.001 t of
# the logical indices), splits, surro validate, refusals naming the variable and shape, the v5 recipe,
# and each format trained for 2 epochs (finite loss, history written).
# Usage: import_external_test.sh SURRO PYTHON MAKE_EXTERNAL_PY CONFIG_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
python=$2
script=$(realpath "$3")
configs=$(realpath "$4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

make_external "$python" "$script" src || exit 1

import() {  # FORMAT FILE OUT [options]
  local format=$1 file=$2 out=$3
  shift 3
  "$surro" -q import "src/$file" --format "$format" -o "$out" "$@" || bad "import $file failed"
  "$surro" -q validate "$out" >/dev/null || bad "validate $out: $("$surro" validate "$out" 2>&1)"
}

# 1. FNO Navier-Stokes: a (t = 0) then u's 6 frames at t; 10 samples: train 6, valid 0.2 -> 2, test 2.
import fno-mat ns_V1e-3_N10_T6.mat ns --per-file 4 --valid 0.2 --test 2
[[ $(hdf5_count ns/data/train) -eq 2 && $(hdf5_count ns/data/valid) -eq 1 && $(hdf5_count ns/data/test) -eq 1 ]] && ok ||
  bad "ns files: $(find ns -name '*.hdf5')"
f=ns/data/train/ns_V1e-3_N10_T6_0000.hdf5
# vorticity[1, 2, 3, 4] is u[1, 3, 4, 1] = 1 + 0.3 + 0.04 + 0.001; frame 0 is a - 0.5.
hdf5_check $f /t0_fields/vorticity 1,2,3,4 1,1,1,1 1.341 "ns u"
hdf5_check $f /t0_fields/vorticity 1,0,3,4 1,1,1,1 0.84 "ns a"
hdf5_check $f /dimensions/time 3 1 3 "ns t (a at 0, then t = 1..6)"
hdf5_check $f /dimensions/x 2 1 0.25 "ns x_i = i / 8"
# The test split is the file's last 2 samples: its trajectory 0 is sample 8.
hdf5_check ns/data/test/ns_V1e-3_N10_T6_0000.hdf5 /t0_fields/vorticity 0,1,0,0 1,1,1,1 8 "ns test split"
grep -q '"valid": \[' ns/config.json && grep -q '"layout": "fno-mat time_series"' ns/config.json && ok ||
  bad "ns config.json: $(cat ns/config.json)"

# 2. FNO Darcy: coeff (N, 9, 7) -> a, sol -> u; 9 != 7 catches swapped axes; x_i = i / 8.
import fno-mat piececonst_r9_N10.mat darcy
f=darcy/data/train/piececonst_r9_N10_0000.hdf5
hdf5_check $f /t0_fields/a 2,8,6 1,1,1 2.86 "darcy coeff"
hdf5_check $f /t0_fields/u 2,8,6 1,1,1 -2.86 "darcy sol"
hdf5_check $f /dimensions/x 8 1 1 "darcy x_8 = 1"

# 3. FNO Burgers: u frames a (t = 0), u (t = 1).
import fno-mat burgers_data_R10.mat burgers
f=burgers/data/train/burgers_data_R10_0000.hdf5
hdf5_check $f /t0_fields/u 3,0,5 1,1,1 3.5 "burgers a"
hdf5_check $f /t0_fields/u 3,1,5 1,1,1 7 "burgers u"

# 4. PDEBench 1D Burgers (t-coordinate one longer than T), 2D Darcy, diffusion-reaction groups.
import pdebench 1D_Burgers_Sols_Nu0.01.hdf5 pb_burgers --train 6 --valid 2 --test 2
f=pb_burgers/data/train/1D_Burgers_Sols_Nu0.01_0000.hdf5
hdf5_check $f /t0_fields/u 4,2,7 1,1,1 4.27 "pdebench burgers"
hdf5_check $f /dimensions/time 4 1 0.04 "pdebench burgers t"
[[ $(h5ls $f/dimensions/time | grep -c '{5}') -eq 1 ]] && ok || bad "pdebench burgers: expected 5 times"
h5dump -a Nu $f | grep -q '0.01' && ok || bad "pdebench burgers: attribute Nu not kept"
import pdebench 2D_DarcyFlow_beta1.0_Train.hdf5 pb_darcy
f=pb_darcy/data/train/2D_DarcyFlow_beta1.0_Train_0000.hdf5
hdf5_check $f /t0_fields/u 5,8,6 1,1,1 5.086 "pdebench darcy tensor (N, 1, X, Y): axis 1 is the 0.1 axis"
hdf5_check $f /t0_fields/a 5,8,6 1,1,1 6.86 "pdebench darcy nu"
import pdebench 2D_diff-react_NA_NA.h5 pb_dr
f=pb_dr/data/train/2D_diff-react_NA_NA_0000.hdf5
hdf5_check $f /t0_fields/u 3,4,7,5 1,1,1,1 3.475 "diff-react u"
hdf5_check $f /t0_fields/v 3,4,7,5 1,1,1,1 -3.475 "diff-react v"

# 5. Refusals: name the variable and its shape; v5 gets the recipe; splits beyond the file.
expect 3 'bad_rank.mat: variable u of shape \(10, 4, 4\): expected' -- "$surro" import src/bad_rank.mat --format fno-mat -o x
expect 3 'MATLAB v5 .mat file: .*scipy.io.loadmat.*-v7.3' -- "$surro" import src/ns_v5.mat --format fno-mat -o x
expect 2 'holds 10 samples: --train 9 \+ --valid 1 \+ --test 1 exceed' -- "$surro" import src/burgers_data_R10.mat --format fno-mat -o x --train 9
expect 2 '--valid 1.5: expected a number of samples' -- "$surro" import src/burgers_data_R10.mat --format fno-mat -o x --valid 1.5
expect 2 'only for single-file formats' -- "$surro" import src --format meshgraphnets -o x --train 3
expect 3 'no PDEBench layout: .*found: a, u' -- "$surro" import src/burgers_data_R10.mat --format pdebench -o x
[[ ! -e x ]] && ok || bad "a refused import wrote $(find x)"

# 6. Resume: a rerun skips every file.
"$surro" import src/piececonst_r9_N10.mat --format fno-mat -o darcy 2>rerun.log
[[ $(grep -c 'already imported, skipped' rerun.log) -eq 3 ]] && ok || bad "rerun: $(cat rerun.log)"

# 7. Each format trains: 2 epochs, finite losses, history written.
tiny=(--set train.epochs=2 --set train.batch=2 --set model.width=4 --set model.projection=8)
train() {  # NAME CONFIG DATASET [sets]
  local name=$1 cfg=$2 data=$3
  shift 3
  "$surro" -q train "$configs/$cfg" --set run.output_dir="run_$name" --set data.dataset="$data" "${tiny[@]}" "$@" ||
    bad "train $name failed"
  [[ $(wc -l <"run_$name/history.csv") -eq 3 ]] && ! grep -Eqi 'nan|inf' "run_$name/history.csv" && ok ||
    bad "train $name history: $(cat "run_$name/history.csv" 2>/dev/null)"
}
train fno_ns train_fno_ns2d.json ns --set model.modes=[2,2] --set data.t_in=2 --set data.t_out=1 \
  --set train.mode=teacher_forcing --set data.all_starts=true
train fno_darcy train_fno_darcy2d.json darcy --set model.modes=[2,2]
train fno_burgers train_fno_burgers1d.json burgers --set model.modes=[4]
train pb_burgers train_fno_burgers1d.json pb_burgers --set model.modes=[4]
train pb_darcy train_fno_darcy2d.json pb_darcy --set model.modes=[2,2]
train pb_dr train_fno_ns2d.json pb_dr --set 'data.fields=["u","v"]' --set model.modes=[2,2] --set data.t_in=2 \
  --set data.t_out=1 --set train.mode=teacher_forcing --set data.all_starts=true

echo "import_external_test: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
