"""Data and surro-side helpers of the learning-parity run (bench/gpu/fno_parity.sh, issue 14).

  prep        --train train.mat --test test.mat --ntrain N --ntest M --out surro_u.mat
              Reads the two files `surro export --format fno-mat` wrote (the files the original
              script reads), prints the data hash, and writes the u-only file surro imports.
  surro-rows  --history history.csv --evals evals.txt --seed S --after E --t-out T --data-hash H
              --device NAME --csv curves.csv
              Appends surro's epochs after E to the parity CSV (bench/peers/fno_original.py's columns).

Why a u-only file: the original script reads `u` (N, S, S, 50), the frames one record interval
after the initial one (t = 1..50; datasets/fno_mat.hpp), and trains on u[..., :10] -> u[..., 10:50],
i.e. t = 1..10 in, t = 11..50 out. surro's window loader takes frames 0..9 -> 10..49 of a trajectory,
so on the generated dataset (frames t = 0..50) it would see t = 0..9 -> 10..49, one frame earlier.
`surro import` of a .mat without `a` makes trajectories of u's frames only (t = 1..50): surro's
frames 0..9 -> 10..49 are then exactly the original's inputs and targets. The file holds the
original's train samples [:ntrain] then its test samples [-ntest:], imported as --train ntrain
--valid 0 --test ntest.

The data hash: sha256 over the stored float32 bytes of train.mat's u, then test.mat's u (the
whole variables, HDF5 storage order). The .mat files themselves are not hashed: HDF5 object headers
may carry modification times, so two identical exports need not be identical files. Equal hashes in
two calls mean both sides of both calls trained and tested on the same values.

The history's train_loss and valid_loss are sums over a sample's T_out unrolled steps of the
per-step relative L2, averaged over samples (operators/train/unroll.hpp); divided by T_out they are
upstream's train_l2_step / ntrain / T and test_l2_step / ntest / T. test_full (relative L2 of the
whole 40-step prediction, averaged over samples: upstream's test_l2_full / ntest) comes from
`surro eval` of checkpoint_last.h5 (metrics.json rel_l2_mean), written to evals.txt as
"epoch value" lines by the harness at the end of each training segment; other epochs leave it
empty. surro's history records no train_full.
"""
import argparse
import hashlib
import os
import sys

SIDE = "surro"
CSV_HEADER = "side,seed,epoch,lr,train_step,train_full,test_step,test_full,seconds,data_sha256,device\n"


def prep(a):
    import h5py
    import numpy as np
    h = hashlib.sha256()
    parts, t = [], None
    for path, n, take in ((a.train, a.ntrain, "first"), (a.test, a.ntest, "last")):
        with h5py.File(path, "r") as f:
            u = f["u"][()]  # stored (T, S2, S1, N): MatReader reverses it to (N, S1, S2, T)
            if u.dtype != np.float32 or u.ndim != 4:
                sys.exit("fno_parity.py: %s: u is %s %s, expected float32 of rank 4" % (path, u.dtype, u.shape))
            h.update(np.ascontiguousarray(u).tobytes())
            if u.shape[3] < n:
                sys.exit("fno_parity.py: %s: %d samples, fewer than %d" % (path, u.shape[3], n))
            parts.append(u[..., :n] if take == "first" else u[..., u.shape[3] - n:])
            if t is None:
                t = f["t"][()]
            print("%s: u (N, S1, S2, T) = %s as MatReader reads it; taking the %s %d" %
                  (path, tuple(reversed(u.shape)), take, n))
    digest = h.hexdigest()
    u = np.concatenate(parts, axis=3)
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as o:
        o.create_dataset("u", data=u)
        o.create_dataset("t", data=t)
        for k in ("u", "t"):
            o[k].attrs["MATLAB_class"] = np.bytes_(b"single")
    os.replace(tmp, a.out)
    print("wrote %s: u (N, S1, S2, T) = %s, no a" % (a.out, tuple(reversed(u.shape))))
    print("data_sha256 %s" % digest)
    if a.hash_file:
        with open(a.hash_file, "w") as f:
            f.write(digest + "\n")


def surro_rows(a):
    evals = {}
    if os.path.exists(a.evals):
        with open(a.evals) as f:
            for line in f:
                if line.strip():
                    e, v = line.split()
                    evals[int(e)] = float(v)
    with open(a.history) as f:
        lines = [l.strip() for l in f if l.strip()]
    head = lines[0].split(",")
    col = {k: i for i, k in enumerate(head)}
    for k in ("epoch", "lr", "train_loss", "valid_loss", "seconds"):
        if k not in col:
            sys.exit("fno_parity.py: %s: no column %s (header %s)" % (a.history, k, lines[0]))
    new = not os.path.exists(a.csv)
    n = 0
    with open(a.csv, "a") as out:
        if new:
            out.write(CSV_HEADER)
        for line in lines[1:]:
            r = line.split(",")
            e = int(r[col["epoch"]])
            if e <= a.after:
                continue
            full = "%.6g" % evals[e] if e in evals else ""
            row = [a.side, a.seed, e, r[col["lr"]], "%.6g" % (float(r[col["train_loss"]]) / a.t_out), "",
                   "%.6g" % (float(r[col["valid_loss"]]) / a.t_out), full, r[col["seconds"]], a.data_hash,
                   a.device]
            out.write(",".join(str(v) for v in row) + "\n")
            n += 1
    print("fno_parity.py: %d surro row(s) for seed %d after epoch %d -> %s" % (n, a.seed, a.after, a.csv))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("prep")
    q.add_argument("--train", required=True)
    q.add_argument("--test", required=True)
    q.add_argument("--ntrain", type=int, required=True)
    q.add_argument("--ntest", type=int, required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--hash-file", default="")
    r = sub.add_parser("surro-rows")
    r.add_argument("--history", required=True)
    r.add_argument("--evals", required=True)
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--after", type=int, default=0, help="only epochs after this one (done in earlier calls)")
    r.add_argument("--t-out", type=int, default=40)
    r.add_argument("--data-hash", default="")
    r.add_argument("--device", default="")
    r.add_argument("--csv", required=True)
    r.add_argument("--side", default=SIDE, help="the CSV's side column (surro-tf32: TF32 GEMMs)")
    a = p.parse_args()
    prep(a) if a.cmd == "prep" else surro_rows(a)


if __name__ == "__main__":
    main()
