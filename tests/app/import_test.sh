#!/usr/bin/env bash
# surro import --format meshgraphnets end to end, on TFRecord folders written by an independent program
# (tests/datasets/make_tfrecord.py --splits: Google's Python protobuf, its own CRC32C): files per split,
# surro validate, velocity values against the writer's, resumption (skipped files keep their bytes, a
# removed file is rewritten), incremental splits, refusals before anything is written, a damaged record.
# Usage: import_test.sh SURRO PYTHON MAKE_TFRECORD_PY PROTOC PROTO_DIR
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
surro=$(realpath "$1")
python=$2
script=$(realpath "$3")
protoc=$4
proto_dir=$(realpath "$5")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# The fixtures' writer needs Python with google.protobuf: its absence fails the test, loudly.
if [[ ! -x $python ]]; then
  echo "FAIL: $python not found: install the Debian packages python3 python3-protobuf"
  exit 1
fi
"$python" "$script" --splits src "$protoc" "$proto_dir" >make.log 2>&1
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "FAIL: make_tfrecord.py --splits exited $rc (3: google.protobuf missing, install python3-protobuf):"
  cat make.log
  exit 1
fi
src=$work/src/cylinder_flow


# 1. A full import: 5 + 2 + 2 trajectories, 2 per file -> 3 + 1 + 1 files, stats.yaml, config.json.
"$surro" import "$src" --format meshgraphnets -o out --per-file 2 2>full.log || bad "import failed: $(cat full.log)"
[[ $(hdf5_count out/data/train) -eq 3 && $(hdf5_count out/data/valid) -eq 1 && $(hdf5_count out/data/test) -eq 1 ]] && ok ||
  bad "file counts: $(find out -type f)"
[[ -f out/data/train/cylinder_flow_0002.hdf5 && -s out/stats.yaml && -s out/config.json ]] && ok ||
  bad "expected cylinder_flow_0002.hdf5, stats.yaml, config.json: $(find out -type f)"
[[ $(grep -c ': written; ' full.log) -eq 5 ]] && ok || bad "expected a progress line per file: $(cat full.log)"
grep -q "\"source\": \"$src\"" out/config.json && grep -q '"format": "meshgraphnets"' out/config.json &&
  grep -q '"per_file": 2' out/config.json && grep -q '"not_in_source": "density, viscosity' out/config.json && ok ||
  bad "config.json: $(cat out/config.json)"
expect 0 'out: valid' -- "$surro" validate out

# 2. Values: trajectory r of a split is group /trajectories/<r> of file r / 2; velocity (T, V, 2) as written.
while read -r split r k i c want; do
  file=$(printf 'out/data/%s/cylinder_flow_%04d.hdf5' "$split" $((r / 2)))
  got=$(hdf5_value "$file" "$(printf '/trajectories/%06d/velocity' "$r")" "$k,$i,$c" "1,1,1" '%.9g')
  [[ $got == "$want" ]] && ok || bad "$file record $r velocity[$k,$i,$c] = '$got', the writer wrote $want"
done <src/expected.txt
[[ $(wc -l <src/expected.txt) -eq 4 ]] && ok || bad "expected.txt: $(cat src/expected.txt)"
[[ $(hdf5_value out/data/test/cylinder_flow_0000.hdf5 /time 4 1 '%.9g') == 0.08 ]] && ok || bad "time[4]: expected 4 dt = 0.08"
h5dump -a /surro_source out/data/valid/cylinder_flow_0000.hdf5 | grep -q "\"$src\"" &&
  h5dump -a /dataset_name out/data/valid/cylinder_flow_0000.hdf5 | grep -q '"cylinder_flow"' && ok ||
  bad "root attributes surro_source / dataset_name"

# 3. Resume: a rerun skips every file and leaves its bytes alone.
cp -r out snapshot
"$surro" import "$src" --format meshgraphnets -o out --per-file 2 2>rerun.log || bad "rerun failed: $(cat rerun.log)"
grep -q "resuming: 9 of 9 trajectories already imported" rerun.log && [[ $(grep -c 'already imported, skipped' rerun.log) -eq 5 ]] &&
  ok || bad "rerun did not skip: $(cat rerun.log)"
same=1
for f in $(cd snapshot && find data -name '*.hdf5') stats.yaml config.json; do
  cmp -s "snapshot/$f" "out/$f" || { same=0; bad "rerun changed $f"; }
done
((same)) && ok

# 4. As after a kill: one file missing and a temporary left behind; the rerun writes that file only.
rm out/data/train/cylinder_flow_0001.hdf5
touch out/data/train/.cylinder_flow_0001.hdf5.tmp999.0
"$surro" import "$src" --format meshgraphnets -o out --per-file 2 2>resume.log || bad "resume failed: $(cat resume.log)"
grep -q "resuming: 7 of 9" resume.log && [[ $(grep -c ': written; ' resume.log) -eq 1 ]] && ok ||
  bad "resume: $(cat resume.log)"
h5diff -q snapshot/data/train/cylinder_flow_0001.hdf5 out/data/train/cylinder_flow_0001.hdf5 && ok ||
  bad "rewritten file differs"
[[ -z $(find out -name '.*tmp*') ]] && ok || bad "temporaries left: $(find out -name '.*tmp*')"

# 5. Refusals: other options on the same folder (files untouched), and bad arguments (nothing written).
before=$(md5sum out/data/*/*.hdf5 | md5sum)
expect 2 "cylinder_flow_0000\.hdf5: was imported from a different source or with different options" -- \
  "$surro" import "$src" --format meshgraphnets -o out --per-file 3
expect 2 "cylinder_flow_0000\.hdf5: was imported from a different source" -- \
  "$surro" import "$src" --format meshgraphnets -o out --per-file 2 --limit 4
cp -r "$src" src/copy
expect 2 "cylinder_flow_0000\.hdf5: was imported from a different source" -- \
  "$surro" import src/copy --format meshgraphnets -o out --per-file 2 --name cylinder_flow
[[ $(md5sum out/data/*/*.hdf5 | md5sum) == "$before" ]] && ok || bad "a refused import changed files"
cp out/data/valid/cylinder_flow_0000.hdf5 out/data/test/other.hdf5
expect 2 'data/test/other\.hdf5: not a file of this import' -- \
  "$surro" import "$src" --format meshgraphnets -o out --per-file 2
rm out/data/test/other.hdf5
mkdir -p nometa partial
cp "$src/train.tfrecord" nometa/
cp "$src/meta.json" "$src/train.tfrecord" partial/
expect 2 'unknown format; valid formats: meshgraphnets' -- "$surro" import "$src" --format tfrecord -o r1
expect 2 '--per-file 0: expected at least 1' -- "$surro" import "$src" --format meshgraphnets -o r1 --per-file 0
expect 2 "--splits: 'bogus': unknown split; valid splits: train, valid, test" -- \
  "$surro" import "$src" --format meshgraphnets -o r1 --splits train,bogus
expect 2 'nowhere: no such folder' -- "$surro" import nowhere --format meshgraphnets -o r1
expect 2 'nometa/meta\.json: missing' -- "$surro" import nometa --format meshgraphnets -o r1
expect 2 "partial/valid\.tfrecord: missing \(split 'valid' requested; choose the splits with --splits\)" -- \
  "$surro" import partial --format meshgraphnets -o r1
expect 2 "is the source folder $src" -- "$surro" import "$src" --format meshgraphnets -o "$src"
expect 2 "lies inside the source folder $src" -- "$surro" import "$src" --format meshgraphnets -o "$src/sub/out"
expect 2 'Run .surro --help' -- "$surro" import "$src" -o r1
[[ ! -e r1 && ! -e $src/sub && $(ls "$src" | wc -l) -eq 4 ]] && ok || bad "a refused import wrote something"

# 6. Splits one at a time into one folder: no stats.yaml until train is in; then the same as one import.
expect 0 'train split not imported: stats\.yaml not written' -- \
  "$surro" import "$src" --format meshgraphnets -o inc --per-file 2 --splits valid
[[ ! -e inc/stats.yaml && $(hdf5_count inc/data/valid) -eq 1 ]] && ok || bad "valid-only import: $(find inc -type f)"
"$surro" -q import "$src" --format meshgraphnets -o inc --per-file 2 --splits test,train || bad "second import failed"
expect 0 'inc: valid' -- "$surro" validate inc
same=1
for f in $(cd out && find data -name '*.hdf5'); do
  h5diff -q "out/$f" "inc/$f" >/dev/null 2>&1 || { same=0; bad "inc/$f differs from the one-run import"; }
done
((same)) && cmp -s out/stats.yaml inc/stats.yaml && ok || bad "incremental import differs"
tr -d ' \n' <inc/config.json | grep -q '"splits":\["train","valid","test"\],' && ok ||
  bad "inc/config.json should list every split imported: $(cat inc/config.json)"

# 7. --limit: the first N of each split; the last file holds the rest.
"$surro" -q import "$src" --format meshgraphnets -o lim --per-file 2 --limit 3 --name cyl || bad "--limit failed"
[[ $(hdf5_count lim/data/train) -eq 2 && $(hdf5_count lim/data/valid) -eq 1 && -f lim/data/train/cyl_0001.hdf5 ]] && ok ||
  bad "--limit files: $(find lim -type f)"
h5dump -a /n_trajectories lim/data/train/cyl_0001.hdf5 | grep -Eq '^ *\(0\): 1$' && ok || bad "cyl_0001: expected 1 trajectory"
expect 0 'lim: valid' -- "$surro" validate lim

# 8. A damaged record (data CRC of record 2) stops the import with exit 3, naming file and record;
# the files before it are complete.
expect 3 'corrupt/train\.tfrecord: record 2 at byte [0-9]+' -- \
  "$surro" import src/corrupt --format meshgraphnets -o bad --per-file 1 --splits train
[[ $(hdf5_count bad/data/train) -eq 2 && -z $(find bad -name '.*tmp*') ]] && ok || bad "damaged import left: $(find bad)"

# MeshGraphNets' data, once imported, trains and rolls out like generated data (the graph models'
# shipped config; a tiny model for 2 epochs). The fixture holds no density or viscosity, so no forces.
configs=$(dirname "$script")/../../configs
"$surro" -q train "$configs/train_mesh_transformer_cylinder.json" --set data.dataset=out --set run.output_dir=mt \
  --set model.dim=16 --set model.layers=2 --set train.epochs=2 --set schedule.warmup=2 2>train.log &&
  [[ $(wc -l <mt/history.csv) -eq 3 ]] && ok || bad "training on the imported data: $(tail -3 train.log)"
"$surro" rollout mt/checkpoint_last.h5 -o roll >roll.log 2>&1 && [[ -s roll/rollout.pvd && -s roll/metrics.json ]] &&
  grep -q 'forces: not computed' roll.log && ok || bad "rollout on the imported data: $(tail -3 roll.log)"

echo "import: $pass passed, $failures failed"
[[ $failures -eq 0 ]]
