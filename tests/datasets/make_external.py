#!/usr/bin/env python3
"""Independent writer of small FNO .mat and PDEBench files for surro import's tests.

Follows each project's published layout, not surro's code:
  FNO (zongyi-li/fourier_neural_operator): MATLAB v7.3 = HDF5 with a 512-byte userblock holding the
    MATLAB header; MATLAB stores column-major, so an (N, S1, S2, T) array is written transposed
    (numpy .T), exactly what MatReader's axis reversal undoes. MATLAB_class attribute per variable.
    A MATLAB v5 file (scipy.io.savemat) for the refusal.
  PDEBench (pdebench/PDEBench data_gen): 1D Burgers `tensor` (N, T, X) + x-coordinate (X) +
    t-coordinate (T + 1, the upstream off-by-one); 2D Darcy `tensor` (N, 1, X, Y) + `nu` (N, X, Y);
    diffusion-reaction groups "0000".. with data (T, X, Y, 2), grid/x, grid/y, grid/t.
  The Well (PolymathicAI/the_well docs/data_format.md, checked against the rules of its
    scripts/check_thewell_formatting.py): a dataset folder the_well_demo/ with data/{train,valid,test}/
    *.hdf5 and stats.yaml (as scripts/compute_statistics.py defines it), plus one bad file per refusal.
Values are closed-form functions of the indices, so the test checks them without this script:
  value(n, i, j, t) = n + 0.1 i + 0.01 j + 0.001 t   (logical indices, as Python reads them)
  (The Well files: field(B, T, X, Y) = n + 0.1 t + 0.01 i + 0.001 j, n the trajectory's index in its
  split, counted across the split's files in name order.)
Usage: make_external.py OUTDIR   (exit 3 when h5py or scipy is missing)
"""
import sys

try:
    import h5py
    import numpy as np
    import scipy.io
except ImportError as e:
    print(f"missing Python module: {e} (install python3-h5py python3-scipy)", file=sys.stderr)
    sys.exit(3)


def field(*shape):
    """value(n, i, j, t) over a logical shape of up to 4 axes."""
    grids = np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing="ij")
    weights = [1.0, 0.1, 0.01, 0.001]
    return sum(w * g for w, g in zip(weights, grids))


def matlab_v73(path, variables):
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            d = f.create_dataset(name, data=np.asarray(value).T)  # column-major storage
            d.attrs.create("MATLAB_class", np.bytes_(b"double"))
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Fri Dec  4 00:00:00 2026 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header)


def main(out):
    n = 10
    # Navier-Stokes (ns_V1e-3_N5000_T50 layout): a (N, S, S), u (N, S, S, T), t (1, T)
    matlab_v73(f"{out}/ns_V1e-3_N10_T6.mat",
               {"a": field(n, 8, 8) - 0.5, "u": field(n, 8, 8, 6), "t": np.arange(1.0, 7.0)[None, :]})
    # Darcy (piececonst_r421 layout): coeff, sol (N, S1, S2), S1 != S2 to catch swapped axes
    matlab_v73(f"{out}/piececonst_r9_N10.mat", {"coeff": field(n, 9, 7), "sol": -field(n, 9, 7)})
    # Burgers (burgers_data_R10 layout): a, u (N, X)
    matlab_v73(f"{out}/burgers_data_R10.mat", {"a": field(n, 16), "u": 2 * field(n, 16)})
    # A variable that cannot be represented: u of rank 3
    matlab_v73(f"{out}/bad_rank.mat", {"u": field(n, 4, 4)})
    # MATLAB v5 (scipy.io.savemat), as ns_2d.py saves
    scipy.io.savemat(f"{out}/ns_v5.mat", {"a": field(n, 8, 8), "u": field(n, 8, 8, 6)})

    # PDEBench 1D Burgers
    with h5py.File(f"{out}/1D_Burgers_Sols_Nu0.01.hdf5", "w") as f:
        f.create_dataset("tensor", data=field(n, 5, 16).astype(np.float32))
        f.create_dataset("x-coordinate", data=((np.arange(16) + 0.5) / 16).astype(np.float32))
        f.create_dataset("t-coordinate", data=(np.arange(6) * 0.01).astype(np.float32))
        f.attrs["Nu"] = 0.01
    # PDEBench 2D Darcy
    with h5py.File(f"{out}/2D_DarcyFlow_beta1.0_Train.hdf5", "w") as f:
        f.create_dataset("tensor", data=field(n, 1, 9, 7).astype(np.float32))
        f.create_dataset("nu", data=(1 + field(n, 9, 7)).astype(np.float32))
        f.create_dataset("x-coordinate", data=((np.arange(9) + 0.5) / 9).astype(np.float32))
        f.create_dataset("y-coordinate", data=((np.arange(7) + 0.5) / 7).astype(np.float32))
        f.attrs["beta"] = 1.0
    # PDEBench 2D diffusion-reaction: one group per sample
    with h5py.File(f"{out}/2D_diff-react_NA_NA.h5", "w") as f:
        for s in range(n):
            g = f.create_group(f"{s:04d}")
            u = field(1, 5, 8, 6)[0] + s  # (T, X, Y) logical t, i, j -> value uses t as axis 1
            g.create_dataset("data", data=np.stack([u, -u], axis=-1).astype(np.float32))
            g.create_dataset("grid/x", data=np.linspace(-1, 1, 8, dtype=np.float32))
            g.create_dataset("grid/y", data=np.linspace(-1, 1, 6, dtype=np.float32))
            g.create_dataset("grid/t", data=np.linspace(0, 5, 5, dtype=np.float32))
            g.attrs["config"] = "sim: {}"

    well_dataset(f"{out}/the_well_demo")
    well_refusals(out)


# ---- The Well ------------------------------------------------------------------------------------
# h5py's conventions are The Well's: str attributes are variable-length UTF-8, lists of str are 1-D
# arrays of them, numpy bools are stored as the enum {FALSE, TRUE}.
WELL_X = np.linspace(0.0, 1.75, 8)  # uniform, h = 0.25
WELL_Y = (np.arange(6) + 0.5) / 6.0
WELL_T = 0.5 * np.arange(5)


def strings(names):
    return np.array(names, dtype=h5py.string_dtype())


def flags(obj, sample_varying, time_varying):
    obj.attrs["sample_varying"] = np.bool_(sample_varying)
    obj.attrs["time_varying"] = np.bool_(time_varying)


def well_values(n0, b, extra=()):
    """field(B, T, X, Y) shifted to global trajectory n0, with trailing tensor axes `extra`."""
    base = field(b, len(WELL_T), len(WELL_X), len(WELL_Y)) + n0
    return base.reshape(base.shape + (1,) * len(extra)) * np.ones(extra)


def well_file(path, n0, b, rayleigh, seed0, bad=None, time_sample_varying=False):
    """One file of b trajectories. Fields: tracer (t0), pressure (t0, constant in time), velocity
    (t1: component d = (d + 1) * value), stress (t2, constant along y: [c, d] = value(j = 0) + 0.1 (2c + d)).
    Scalars: Rayleigh (per file), Schmidt = 1 (everywhere), seed (per trajectory)."""
    T, X, Y = len(WELL_T), len(WELL_X), len(WELL_Y)
    with h5py.File(path, "w") as f:
        f.attrs["dataset_name"] = "the_well_demo"
        f.attrs["grid_type"] = "spherical" if bad == "spherical" else "cartesian"
        f.attrs["n_spatial_dims"] = 4 if bad == "4d" else 2
        f.attrs["n_trajectories"] = b
        f.attrs["simulation_parameters"] = strings(["Rayleigh", "Schmidt"])
        f.attrs["Rayleigh"] = rayleigh
        f.attrs["Schmidt"] = 1.0
        dims = f.create_group("dimensions")
        dims.attrs["spatial_dims"] = strings(["x", "y"])
        t = np.tile(WELL_T, (b, 1)) if time_sample_varying else WELL_T
        flags(dims.create_dataset("time", data=t.astype(np.float32)), time_sample_varying, True)
        x = WELL_X.copy()
        if bad == "nonuniform":
            x[3] += 0.1
        if bad == "moving":
            flags(dims.create_dataset("x", data=np.tile(x, (T, 1)).astype(np.float32)), False, True)
        else:
            flags(dims.create_dataset("x", data=x.astype(np.float32)), False, False)
        flags(dims.create_dataset("y", data=WELL_Y.astype(np.float32)), False, False)
        bcs = f.create_group("boundary_conditions")
        for name, kind, dim, length in [("x_periodic", "PERIODIC", "x", X), ("y_wall", "WALL", "y", Y)]:
            g = bcs.create_group(name)
            g.attrs["bc_type"] = kind
            g.attrs["associated_dims"] = strings([dim])
            g.attrs["associated_fields"] = strings([])
            flags(g, False, False)
            mask = np.zeros(length, dtype=bool)
            mask[[0, -1]] = True
            g.create_dataset("mask", data=mask)
            g.create_dataset("values", data=np.zeros(2, dtype=np.float32))
        sc = f.create_group("scalars")
        sc.attrs["field_names"] = strings(["Rayleigh", "Schmidt", "seed"])
        flags(sc.create_dataset("Rayleigh", data=np.float32(rayleigh)), False, bad == "time_scalar")
        flags(sc.create_dataset("Schmidt", data=np.float32(1.0)), False, False)
        flags(sc.create_dataset("seed", data=(seed0 + np.arange(b)).astype(np.float32)), True, False)
        if bad == "time_scalar":
            del sc["Rayleigh"]
            flags(sc.create_dataset("Rayleigh", data=np.full(T, rayleigh, np.float32)), False, True)
        value = well_values(n0, b)
        t0 = f.create_group("t0_fields")
        t0.attrs["field_names"] = strings(["tracer", "pressure"])
        d = t0.create_dataset("tracer", data=value.astype(np.float32))
        d.attrs["dim_varying"] = np.array([True, True])
        flags(d, bad != "shared", True)
        if bad == "shared":  # not sample_varying: (T, X, Y)
            del t0["tracer"]
            d = t0.create_dataset("tracer", data=value[0].astype(np.float32))
            d.attrs["dim_varying"] = np.array([True, True])
            flags(d, False, True)
        d = t0.create_dataset("pressure", data=(-value[:, 0]).astype(np.float32))
        d.attrs["dim_varying"] = np.array([True, True])
        flags(d, True, False)
        t1 = f.create_group("t1_fields")
        t1.attrs["field_names"] = strings(["velocity"])
        vel = well_values(n0, b, (3 if bad == "shape" else 2,)) * np.array([1.0, 2.0, 3.0][: 3 if bad == "shape" else 2])
        d = t1.create_dataset("velocity", data=vel.astype(np.float32))
        d.attrs["dim_varying"] = np.array([True, True])
        flags(d, True, True)
        t2 = f.create_group("t2_fields")
        t2.attrs["field_names"] = strings(["stress"])
        stress = well_values(n0, b, (2, 2))[:, :, :, 0] + 0.1 * np.array([[0.0, 1.0], [2.0, 3.0]])
        d = t2.create_dataset("stress", data=stress.astype(np.float32))  # (B, T, X, 2, 2)
        d.attrs["dim_varying"] = np.array([True, False])
        d.attrs["symmetric"] = np.bool_(False)
        d.attrs["antisymmetric"] = np.bool_(False)
        flags(d, True, True)


def well_stats(files):
    """stats.yaml as The Well's compute_statistics.py defines it: train split, float64, reduced over
    every axis but the tensor axes, pooled over files; *_delta on u[:, 1:] - u[:, :-1]."""
    stats = {k: {} for k in ["mean", "std", "rms", "mean_delta", "std_delta", "rms_delta"]}
    for group, order in [("t0_fields", 0), ("t1_fields", 1), ("t2_fields", 2)]:
        with h5py.File(files[0], "r") as f0:
            names = list(f0[group].attrs["field_names"])
        for name in names:
            arrays, deltas = [], []
            for path in files:
                with h5py.File(path, "r") as f:
                    u = f[group][name][...].astype(np.float64)
                    tv = bool(f[group][name].attrs["time_varying"])
                tail = u.shape[u.ndim - order:] if order else ()
                arrays.append(u.reshape((-1,) + tail))
                if tv:
                    deltas.append((u[:, 1:] - u[:, :-1]).reshape((-1,) + tail))
            for key, parts in [("", arrays), ("_delta", deltas)]:
                if not parts:
                    continue
                a = np.concatenate(parts)
                stats["mean" + key][name] = a.mean(axis=0)
                stats["std" + key][name] = a.std(axis=0)
                stats["rms" + key][name] = np.sqrt((a * a).mean(axis=0))
    return stats


def yaml_value(v):
    v = np.asarray(v)
    if v.ndim == 0:
        return "%.4E" % v
    return "[" + ", ".join(yaml_value(x) for x in v) + "]"


def well_dataset(root):
    """the_well_demo: train 2 files (2 + 3 trajectories, Rayleigh 1e4 and 1e5; the second stores time
    per trajectory), valid 1 file (2), test 1 file (1)."""
    import os
    layout = {"train": [(2, 1e4, False), (3, 1e5, True)], "valid": [(2, 1e6, False)], "test": [(1, 1e6, False)]}
    for split, files in layout.items():
        os.makedirs(f"{root}/data/{split}")
        n0 = 0
        for k, (b, rayleigh, tsv) in enumerate(files):
            well_file(f"{root}/data/{split}/the_well_demo_Rayleigh_{rayleigh:.0e}_{k}.hdf5", n0, b, rayleigh,
                      100 * (k + 1), time_sample_varying=tsv)
            n0 += b
    train = sorted(f"{root}/data/train/{p}" for p in os.listdir(f"{root}/data/train"))
    with open(f"{root}/stats.yaml", "w") as out:
        for key, values in sorted(well_stats(train).items()):
            out.write(f"{key}:\n")
            for name, v in sorted(values.items()):
                out.write(f"  {name}: {yaml_value(v)}\n")


def well_refusals(out):
    for bad in ["spherical", "4d", "nonuniform", "moving", "shared", "shape", "time_scalar"]:
        well_file(f"{out}/well_bad_{bad}.hdf5", 0, 2, 1e4, 0, bad=bad)


if __name__ == "__main__":
    main(sys.argv[1])
