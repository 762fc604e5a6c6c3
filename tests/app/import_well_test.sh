#!/usr/bin/env bash
# surro import --format the-well end to end, on files written by an independent program
# (tests/datasets/make_external.py: h5py following The Well's published schema): a dataset folder
# (data/{train,valid,test}/, two train files with different Rayleigh numbers), values at known indices
# of scalar, vector and tensor fields (value = n + 0.1 t + 0.01 i + 0.001 j, n counted across a
# split's files), scalars as dataset or per-trajectory parameters, boundary metadata, our stats.yaml
# against the writer's (The Well's definition), files given one by one, each refusal's message,
# resume, surro validate, and 2 epochs of training.
# Usage: import_well_test.sh SURRO PYTHON MAKE_EXTERNAL_PY CONFIG_DIR
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


# 1. The dataset folder: train 2 + 3 trajectories, valid 2, test 1; --per-file 2 -> train 3 files.
"$surro" -q import src/the_well_demo --format the-well -o well --per-file 2 || bad "import the_well_demo failed"
"$surro" -q validate well >/dev/null || bad "validate well: $("$surro" validate well 2>&1)"
[[ $(hdf5_count well/data/train) -eq 3 && $(hdf5_count well/data/valid) -eq 1 && $(hdf5_count well/data/test) -eq 1 ]] && ok ||
  bad "well files: $(find well -name '*.hdf5')"
f=well/data/train/the_well_demo_0001.hdf5  # train trajectories 2, 3: the second source file
hdf5_check $f /t0_fields/tracer 0,3,4,5 1,1,1,1 2.345 "t0 tracer (n = 2, t = 3, i = 4, j = 5)"
hdf5_check $f /t0_fields/velocity_x 0,3,4,5 1,1,1,1 2.345 "t1 velocity component x"
hdf5_check $f /t0_fields/velocity_y 0,3,4,5 1,1,1,1 4.69 "t1 velocity component y = 2 value"
# stress[c, d] = value(j = 0) + 0.1 (2c + d), stored constant along y: repeated over j.
hdf5_check $f /t0_fields/stress_yx 1,2,4,5 1,1,1,1 3.44 "t2 stress_yx (n = 3, t = 2, i = 4, any j)"
hdf5_check $f /t0_fields/stress_xy 1,2,4,0 1,1,1,1 3.34 "t2 stress_xy"
hdf5_check well/data/train/the_well_demo_0000.hdf5 /t0_fields/pressure 1,7,2 1,1,1 -1.072 "constant-in-time pressure"
hdf5_check $f /dimensions/time 4 1 2 "times kept (0.5 k)"
hdf5_check $f /dimensions/x 3 1 0.75 "x kept"
hdf5_check $f /dimensions/y 0 1 0.0833333 "y kept (cell centres)"
hdf5_check well/data/train/the_well_demo_0000.hdf5 /scalars/Rayleigh 1 1 10000 "per-trajectory Rayleigh, first file"
hdf5_check well/data/train/the_well_demo_0002.hdf5 /scalars/Rayleigh 0 1 100000 "per-trajectory Rayleigh, second file"
hdf5_check well/data/train/the_well_demo_0002.hdf5 /scalars/seed 0 1 202 "sample-varying scalar seed"
h5dump -a Schmidt $f | grep -q '(0): 1$' && ok || bad "Schmidt (equal everywhere) not a dataset parameter"
h5dump -a surro_boundary_conditions $f | grep -q 'x_periodic: PERIODIC on x; y_wall: WALL on y' && ok ||
  bad "boundary metadata: $(h5dump -a surro_boundary_conditions $f)"
h5dump -d /boundary_conditions/x_periodic/mask $f >/dev/null 2>&1 && h5dump -A $f | grep -q '"y_wall"' && ok ||
  bad "boundary groups x_periodic / y_wall not written"
grep -q '"source_stats_yaml": ".*the_well_demo/stats.yaml"' well/config.json &&
  grep -q '"velocity_y": 1' well/config.json && ok || bad "config.json: $(cat well/config.json)"

# 2. Our stats.yaml against the writer's (The Well's definition; vectors and tensors per component).
"$python" - well/stats.yaml src/the_well_demo/stats.yaml <<'EOF' && ok || bad "stats.yaml differs from The Well's"
import sys, yaml
ours, theirs = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
axes = {"x": 0, "y": 1}
bad = 0
for stat in ["mean", "std", "rms", "mean_delta", "rms_delta"]:
    for key, v in ours[stat].items():
        name, _, comp = key.partition("_")
        w = theirs[stat][key] if key in theirs[stat] else theirs[stat][name]
        for c in comp:
            w = w[axes[c]]
        if abs(v - w) > 2e-4 * max(abs(w), 1e-3):
            print(f"{stat} {key}: ours {v}, The Well's {w}")
            bad += 1
sys.exit(1 if bad else 0)
EOF

# 3. Files given one by one: one sequence, cut by --train/--valid/--test; name = dataset_name.
train_files=(src/the_well_demo/data/train/*.hdf5)
"$surro" -q import "${train_files[@]}" --format the-well -o files --train 3 --valid 1 --test 1 ||
  bad "import files failed"
"$surro" -q validate files >/dev/null || bad "validate files: $("$surro" validate files 2>&1)"
hdf5_check files/data/test/the_well_demo_0000.hdf5 /t0_fields/tracer 0,0,0,0 1,1,1,1 4 "files: test = sample 4"
hdf5_check files/data/valid/the_well_demo_0000.hdf5 /scalars/Rayleigh 0 1 100000 "files: valid = sample 3"

# 4. Refusals: each names the file, the HDF5 path and what surro cannot represent; nothing written.
refuse() { expect 3 "well_bad_$1.hdf5: $2" -- "$surro" import "src/well_bad_$1.hdf5" --format the-well -o x; }
refuse spherical "/: grid_type 'spherical': surro's grid datasets are cartesian"
refuse 4d "/: n_spatial_dims = 4: surro's grids have 1, 2 or 3 spatial dims"
refuse nonuniform "/dimensions/x: non-uniform axis: coordinate 3 = 0.85"
refuse moving "/dimensions/x: time_varying = true: time-varying coordinates"
refuse shared "/t0_fields/tracer: sample_varying = false: a field shared by all trajectories"
refuse shape "/t1_fields/velocity: shape \(2, 5, 8, 6, 3\): expected \(B=2, T=5, x=8, y=6, D=2\)"
refuse time_scalar "/scalars/Rayleigh: time_varying = true: a time-varying scalar"
expect 2 "--train/--valid/--test: .*the_well_demo is a folder with its own splits" -- \
  "$surro" import src/the_well_demo --format the-well -o x --train 2
expect 2 "takes one source, got 2" -- "$surro" import src/ns_V1e-3_N10_T6.mat src/ns_v5.mat --format fno-mat -o x
expect 2 "several sources must all be files" -- "$surro" import "${train_files[0]}" src/the_well_demo \
  --format the-well -o x
[[ ! -e x ]] && ok || bad "a refused import wrote $(find x)"

# 5. Resume: a rerun skips every file.
"$surro" import src/the_well_demo --format the-well -o well --per-file 2 2>rerun.log
[[ $(grep -c 'already imported, skipped' rerun.log) -eq 5 ]] && ok || bad "rerun: $(cat rerun.log)"

# 6. Training: 2 epochs on scalar, vector and tensor components; finite losses, history written.
"$surro" -q train "$configs/train_fno_ns2d.json" --set run.output_dir=run_well --set data.dataset=well \
  --set 'data.fields=["tracer","velocity_x","velocity_y","stress_xy"]' --set model.modes=[2,2] \
  --set data.t_in=2 --set data.t_out=1 --set train.mode=teacher_forcing --set data.all_starts=true \
  --set train.epochs=2 --set train.batch=2 --set model.width=4 --set model.projection=8 || bad "train well failed"
[[ $(wc -l <run_well/history.csv) -eq 3 ]] && ! grep -Eqi 'nan|inf' run_well/history.csv && ok ||
  bad "train well history: $(cat run_well/history.csv 2>/dev/null)"

echo "import_well_test: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
