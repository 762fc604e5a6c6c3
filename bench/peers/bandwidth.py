"""Achievable memory bandwidth: a device-to-device copy of one large float32 buffer with torch
(dst.copy_(src)), the reference for bench/peers/table.py's "fraction of copy bandwidth" column.

Counts read + write (2 x bytes per copy). Warm-up excluded; median over repetitions, timed with
CUDA events (host clock on CPU). Prints one JSON line.
Usage: python3 bench/peers/bandwidth.py [--device cuda|cpu] [--mib 2048] [--reps 20] [--threads 1]
"""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--mib", type=int, default=2048, help="buffer size in MiB (each of source and destination)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    a = ap.parse_args()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if not cuda:
        torch.set_num_threads(a.threads)
    n = a.mib * (1 << 20) // 4
    src = torch.rand(n, device=dev)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    times = []
    for _ in range(a.reps):
        if cuda:
            t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            t0.record()
            dst.copy_(src)
            t1.record()
            t1.synchronize()
            times.append(t0.elapsed_time(t1) / 1e3)
        else:
            s = time.perf_counter()
            dst.copy_(src)
            times.append(time.perf_counter() - s)
    assert torch.equal(dst, src)
    sec = statistics.median(times)
    print(json.dumps({"impl": "torch", "case": "copy_bandwidth", "space": dev.type,
                      "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
                      "threads": 1 if cuda else torch.get_num_threads(), "torch": torch.__version__,
                      "bytes": 4 * n, "reps": a.reps, "ms": sec * 1e3, "gb_per_s": 2 * 4 * n / sec / 1e9,
                      "status": "ok"}), flush=True)


if __name__ == "__main__":
    main()
