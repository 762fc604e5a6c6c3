"""The learning-parity table of issue 14 from the CSVs of bench/gpu/fno_parity.sh (standard library
only; runs here or on the GPU machine).

  python3 bench/peers/fno_parity_table.py [--epochs E] [--every K] CALL1/fno_parity CALL2/curves.csv ...

Arguments are curves.csv files or folders holding one (also FOLDER/fno_parity/curves.csv). Rows of
several calls merge by (side, seed, epoch): a later file's non-empty cells win, so a resumed run's
calls join into one curve. Per epoch and side: the mean and (min–max) over seeds of
  train_step  training loss, mean per-step relative L2 (upstream's printed train_l2_step/ntrain/T)
  test_step   test, mean per-step relative L2 of the 40-step rollout (test_l2_step/ntest/T)
  test_full   test, relative L2 of the whole 40-step rollout (test_l2_full/ntest, the paper's
              figure; surro: `surro eval` of the last checkpoint, only at the end of each segment)
  seconds     the epoch's wall time (training and the test pass)

Verdict at the final epoch E (--epochs, else the last epoch every run of both sides reached):
surro's test_full (mean over its seeds, and each seed) against the original's seed range
[min, max]; and the time-per-epoch ratio surro / original (medians over epochs 2..E, one device),
target <= 1/3. Different data hashes in the rows void the verdict; so would a timing ratio across
devices, which is reported per device.
"""
import argparse
import csv
import os
import statistics
import sys

METRICS = ("train_step", "test_step", "test_full", "seconds")
SIDES = ("original", "surro")


def find_csv(path):
    for p in (path, os.path.join(path, "curves.csv"), os.path.join(path, "fno_parity", "curves.csv")):
        if os.path.isfile(p):
            return p
    sys.exit("fno_parity_table.py: %s: no curves.csv there" % path)


def load(paths):
    rows = {}
    for path in paths:
        with open(find_csv(path)) as f:
            for r in csv.DictReader(f):
                key = (r["side"], int(r["seed"]), int(r["epoch"]))
                old = rows.setdefault(key, {})
                for k, v in r.items():
                    if v != "" or k not in old:
                        old[k] = v
    return rows


def fmt(x):
    return "%.4g" % x


def spread(values):
    if not values:
        return "–"
    if len(values) == 1:
        return fmt(values[0])
    return "%s (%s–%s)" % (fmt(statistics.mean(values)), fmt(min(values)), fmt(max(values)))


def column(rows, side, epoch, metric, seeds):
    out = []
    for s in seeds:
        r = rows.get((side, s, epoch))
        if r and r.get(metric, "") != "":
            out.append(float(r[metric]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+")
    p.add_argument("--epochs", type=int, default=0, help="the final epoch of the verdict (default: the last all runs reached)")
    p.add_argument("--every", type=int, default=1, help="print every K-th epoch (and the first and last)")
    a = p.parse_args()
    rows = load(a.paths)
    if not rows:
        sys.exit("fno_parity_table.py: no rows")
    # Further sides (surro-tf32: fno_parity.sh TF32=1) get columns and are compared with both.
    sides = list(SIDES) + sorted({k[0] for k in rows} - set(SIDES))
    seeds = {s: sorted({k[1] for k in rows if k[0] == s}) for s in sides}
    last = {(k[0], k[1]): 0 for k in rows}
    for k in rows:
        last[(k[0], k[1])] = max(last[(k[0], k[1])], k[2])
    hashes = sorted({r["data_sha256"] for r in rows.values()})
    devices = sorted({r["device"] for r in rows.values()})
    print("data_sha256: %s" % ", ".join(h or "(none)" for h in hashes))
    if len(hashes) > 1:
        print("WARNING: the rows come from different data (%d hashes): the comparison is void" % len(hashes))
    print("devices: %s" % ", ".join(devices))
    for side in sides:
        runs = ", ".join("seed %d: %d epochs" % (s, last[(side, s)]) for s in seeds[side])
        print("%s: %s" % (side, runs or "no runs"))
    max_epoch = max(k[2] for k in rows)

    # The epoch table.
    head = ["epoch"]
    for m in METRICS:
        for side in sides:
            head.append("%s %s" % (side[:4] if side == "original" else side, m))
    print()
    print("mean (min–max) over seeds; orig = the original fourier_2d_time.py")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for e in range(1, max_epoch + 1):
        if not (e == 1 or e == max_epoch or e % a.every == 0 or e == a.epochs):
            continue
        cells = [str(e)]
        for m in METRICS:
            for side in sides:
                cells.append(spread(column(rows, side, e, m, seeds[side])))
        print("| " + " | ".join(cells) + " |")

    # The verdict.
    reached = [last[k] for k in last]
    final = a.epochs or min(reached)
    print()
    print("verdict at epoch %d:" % final)
    ok_runs = {side: [s for s in seeds[side] if last[(side, s)] >= final] for side in sides}
    for side in sides:
        missing = [s for s in seeds[side] if s not in ok_runs[side]]
        if missing:
            print("  %s: seeds %s have not reached epoch %d (left out)" % (side, missing, final))
    verdict = True
    for metric in ("test_full", "test_step"):
        orig = column(rows, "original", final, metric, ok_runs["original"])
        sur = column(rows, "surro", final, metric, ok_runs["surro"])
        if not orig or not sur:
            print("  %s: missing on a side (original %d, surro %d seeds)" % (metric, len(orig), len(sur)))
            verdict = False
            continue
        lo, hi = min(orig), max(orig)
        mean = statistics.mean(sur)
        inside_mean = lo <= mean <= hi
        inside_all = all(lo <= v <= hi for v in sur)
        rel = (mean - statistics.mean(orig)) / statistics.mean(orig)
        print("  %s: surro %s (%d seeds: %s) vs original range [%s, %s] (mean %s, %d seeds): surro mean %s "
              "the range (%+.1f%% from the original's mean); every surro seed inside: %s" %
              (metric, fmt(mean), len(sur), ", ".join(fmt(v) for v in sur), fmt(lo), fmt(hi),
               fmt(statistics.mean(orig)), len(orig), "INSIDE" if inside_mean else "OUTSIDE", 100 * rel,
               "yes" if inside_all else "no"))
        if metric == "test_full":
            verdict = verdict and inside_mean
            if len(orig) < 2:
                print("  (one original seed: its range is a point; run more seeds for a spread)")
    for extra in sides[len(SIDES):]:
        v = column(rows, extra, final, "test_full", ok_runs[extra])
        if not v:
            print("  %s test_full: no seed reached epoch %d" % (extra, final))
            continue
        for side in SIDES:
            ref = column(rows, side, final, "test_full", ok_runs[side])
            if ref:
                m = statistics.mean(v)
                print("  %s test_full: %s (%d seeds: %s) vs %s range [%s, %s] (mean %s): %s, %+.1f%% from its mean" %
                      (extra, fmt(m), len(v), ", ".join(fmt(x) for x in v), side, fmt(min(ref)), fmt(max(ref)),
                       fmt(statistics.mean(ref)), "inside" if min(ref) <= m <= max(ref) else "outside",
                       100 * (m - statistics.mean(ref)) / statistics.mean(ref)))
    ratios = []
    for dev in devices:
        if "concurrent" in dev:  # PARALLEL=1 rows: the runs shared one GPU
            print("  time per epoch on %s: the runs shared the device, not a timing" % dev)
            continue
        med = {}
        for side in SIDES:
            v = [float(r["seconds"]) for k, r in rows.items()
                 if k[0] == side and r["device"] == dev and 2 <= k[2] <= final and r.get("seconds", "") != ""]
            med[side] = statistics.median(v) if v else None
        if med["original"] and med["surro"]:
            ratio = med["surro"] / med["original"]
            ratios.append(ratio)
            print("  time per epoch on %s: surro %.2f s, original %.2f s (medians, epochs 2..%d): ratio %.3f "
                  "(target <= 0.333: %s)" % (dev, med["surro"], med["original"], final, ratio,
                                             "met" if ratio <= 1 / 3 else "missed"))
    if not ratios:
        print("  time per epoch: no device with both sides' epochs 2..%d" % final)
    if len(hashes) > 1:
        verdict = False
    print("PARITY: %s; TIME: %s" % ("surro's final test L2 is inside the original's seed range" if verdict
                                    else "not shown (outside the range, or runs or data missing)",
                                    ("ratio %.3f, %s" % (ratios[0], "met" if ratios[0] <= 1 / 3 else "missed"))
                                    if len(ratios) == 1 else ("%d devices" % len(ratios) if ratios else "no ratio")))


if __name__ == "__main__":
    main()
