#!/usr/bin/env python3
"""Manual cross-check, not run by CTest: how h5py (what The Well's tools use) sees our files.

Usage: h5py_check.py WELL_FILE.hdf5 [FNO_FILE.mat]
Checks that strings read as str, string lists as arrays of str, bools as numpy.bool_, and that a
MatReader-style read of the .mat (reverse every axis) gives the logical shapes.
"""
import sys

import h5py
import numpy as np


def check_well(path):
    problems = []
    with h5py.File(path, "r") as f:
        def expect(cond, what):
            if not cond:
                problems.append(what)

        for name in ("dataset_name", "grid_type"):
            expect(isinstance(f.attrs[name], str), f"/@{name}: {type(f.attrs[name])}, expected str")
        for name in ("n_spatial_dims", "n_trajectories"):
            expect(isinstance(f.attrs[name], (int, np.integer)), f"/@{name}: not an integer")
        params = f.attrs["simulation_parameters"]
        expect(isinstance(params, np.ndarray), "/@simulation_parameters: not an array")
        for p in params:
            expect(isinstance(p, str), f"/@simulation_parameters: {p!r} not str")
            expect(p in f.attrs, f"/@{p}: missing")
            expect(p in f["scalars"], f"/scalars/{p}: missing")
            expect(f["scalars"][p].shape == (), f"/scalars/{p}: shape {f['scalars'][p].shape}, expected ()")
        dims = f["dimensions"].attrs["spatial_dims"]
        expect(all(isinstance(d, str) for d in dims), "/dimensions@spatial_dims: not str")

        def visit(name, obj):
            for key, value in obj.attrs.items():
                if key in ("sample_varying", "time_varying", "symmetric", "antisymmetric"):
                    expect(isinstance(value, np.bool_), f"/{name}@{key}: {type(value)}, expected numpy.bool_")
                if key == "dim_varying":
                    expect(value.dtype == np.bool_, f"/{name}@dim_varying: dtype {value.dtype}")
                if key in ("field_names", "associated_dims", "associated_fields", "spatial_dims"):
                    expect(isinstance(value, np.ndarray), f"/{name}@{key}: {type(value)}, expected ndarray")
                    expect(all(isinstance(v, str) for v in value), f"/{name}@{key}: elements not str")
                if key == "bc_type":
                    expect(isinstance(value, str), f"/{name}@bc_type: not str")
            if isinstance(obj, h5py.Dataset) and name.endswith("/mask"):
                expect(obj.dtype == np.bool_, f"/{name}: dtype {obj.dtype}, expected bool")

        f.visititems(visit)
        for group in ("t0_fields", "t1_fields", "t2_fields"):
            for field in f[group].attrs["field_names"]:
                d = f[group][field]
                expected = ()
                if d.attrs["sample_varying"]:
                    expected += (int(f.attrs["n_trajectories"]),)
                if d.attrs["time_varying"]:
                    expected += (f["dimensions"]["time"].shape[-1],)
                for k, dim in enumerate(dims):
                    if d.attrs["dim_varying"][k]:
                        expected += (f["dimensions"][dim].shape[-1],)
                expect(d.shape == expected, f"/{group}/{field}: shape {d.shape}, expected {expected}")
                expect(d.dtype == np.float32, f"/{group}/{field}: dtype {d.dtype}")
    return problems


def check_mat(path):
    problems = []
    with h5py.File(path, "r") as f:
        for key in f.keys():
            x = f[key][()]
            x = np.transpose(x, axes=range(len(x.shape) - 1, -1, -1))  # what MatReader does
            cls = f[key].attrs["MATLAB_class"]
            if cls != b"single":
                problems.append(f"{key}@MATLAB_class = {cls!r}")
            print(f"  {key}: logical shape {x.shape}, dtype {x.dtype}")
    with open(path, "rb") as raw:
        header = raw.read(128)
    if not header.startswith(b"MATLAB 7.3 MAT-file") or header[124:128] != b"\x00\x02IM":
        problems.append(f"header {header!r}")
    return problems


if __name__ == "__main__":
    problems = check_well(sys.argv[1])
    if len(sys.argv) > 2:
        problems += check_mat(sys.argv[2])
    for p in problems:
        print("PROBLEM:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)
