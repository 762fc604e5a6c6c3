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
Values are closed-form functions of the indices, so the test checks them without this script:
  value(n, i, j, t) = n + 0.1 i + 0.01 j + 0.001 t   (logical indices, as Python reads them)
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


if __name__ == "__main__":
    main(sys.argv[1])
