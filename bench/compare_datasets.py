#!/usr/bin/env python3
"""Compares two dataset trees written by `surro generate` (e.g. a CPU and a GPU build's
bench/gpu/generate_small.sh output), file by file and dataset by dataset.

Usage: bench/compare_datasets.py A_DIR B_DIR

For every .hdf5 file under A_DIR (the same relative path must exist under B_DIR): every dataset
and every attribute, recursively. Integer and string data must be equal. Floating-point data are
reported as identical, or with the count of differing values, the largest difference in float32
units in the last place (float32 data) and the largest |a - b| relative to max |a| of that dataset.
Root attributes that record provenance (surro_*: backend, git, timing) are listed, not compared.
Exit status 0 when only floating-point values differ (or nothing does), 1 when anything else does.
"""
import pathlib
import sys

import h5py
import numpy as np


def walk(group, prefix=""):
    """Yields (path, object) for every group and dataset below `group`, in sorted order."""
    for name in sorted(group):
        obj = group[name]
        path = f"{prefix}/{name}"
        yield path, obj
        if isinstance(obj, h5py.Group):
            yield from walk(obj, path)


def same(x, y):
    x, y = np.asarray(x), np.asarray(y)
    return x.shape == y.shape and bool(np.all(x == y))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a_root, b_root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted(p.relative_to(a_root) for p in a_root.rglob("*.hdf5"))
    if not files:
        sys.exit(f"compare_datasets: no .hdf5 files under {a_root}")
    hard = 0
    totals = {"values": 0, "differing": 0, "ulp": 0, "rel": 0.0}
    for rel in files:
        fa, fb = h5py.File(a_root / rel, "r"), h5py.File(b_root / rel, "r")
        notes = []
        for key in sorted(fa.attrs):
            if key.startswith("surro_"):
                continue
            if key not in fb.attrs or not same(fa.attrs[key], fb.attrs[key]):
                notes.append(f"root attribute {key} differs")
                hard += 1
        for path, obj in walk(fa):
            if path not in fb:
                notes.append(f"{path} missing in B")
                hard += 1
                continue
            for key in obj.attrs:
                if key not in fb[path].attrs or not same(obj.attrs[key], fb[path].attrs[key]):
                    notes.append(f"{path} @{key} differs")
                    hard += 1
            if not isinstance(obj, h5py.Dataset):
                continue
            x, y = obj[()], fb[path][()]
            if np.shape(x) != np.shape(y):
                notes.append(f"{path}: shape {np.shape(x)} against {np.shape(y)}")
                hard += 1
                continue
            if getattr(x, "dtype", None) is None or x.dtype.kind != "f":
                if not same(x, y):
                    notes.append(f"{path}: non-floating data differ")
                    hard += 1
                continue
            diff = x != y
            totals["values"] += x.size
            n = int(diff.sum())
            if n == 0:
                continue
            totals["differing"] += n
            scale = float(np.abs(x).max()) or 1.0
            rel_max = float(np.abs(x.astype(np.float64) - y).max()) / scale
            totals["rel"] = max(totals["rel"], rel_max)
            ulp = ""
            if x.dtype == np.float32:
                u = int(np.abs(x.view(np.int32).astype(np.int64) - y.view(np.int32).astype(np.int64))[diff].max())
                totals["ulp"] = max(totals["ulp"], u)
                ulp = f", at most {u} ulp"
            notes.append(f"{path}: {n} of {x.size} values differ{ulp}, max |a - b| / max |a| = {rel_max:.2e}")
        print(f"{rel}: {'identical values' if not notes else 'values differ'}")
        for note in notes:
            print(f"  {note}")
    t = totals
    print(f"floating-point values: {t['values']}, differing: {t['differing']}"
          f" ({t['differing'] / max(t['values'], 1):.2e}), at most {t['ulp']} float32 ulp,"
          f" max |a - b| / max |a| = {t['rel']:.2e}; other differences: {hard}")
    sys.exit(1 if hard else 0)


if __name__ == "__main__":
    main()
