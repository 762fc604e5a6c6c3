#!/usr/bin/env python3
"""The top kernels of surro profiles (bench/gpu/profile.sh, rollout.sh --profile) against issue 14's
rule: each of the five kernels that take the most time should reach 60% of the measured copy
bandwidth, or have a stated reason.

  bench/gpu/top_kernels.py [--top N] [--rule PCT] profile_*.txt

For every file: its header (profiled ms, the probes' copy bandwidth), then the N kernels with the
largest total time from its "kernels" table (library calls such as cuBLAS and cuFFT are regions, not
kernels, and are listed in the "regions" table instead), each with its share, GB/s, percentage of the
copy bandwidth and a verdict: "ok" at or above the rule, "below" under it, and "no figure" for a
kernel that declares no bytes (core/profile.hpp add_work). Prints a Markdown table per file.
"""
import argparse
import re
import sys

ROW = re.compile(
    r"^\s*(?P<ms>[0-9.]+)\s+(?P<calls>\d+)\s+(?P<mean>[0-9.]+)\s+(?P<share>[0-9.]+)%\s+"
    r"(?P<gbs>[0-9.]+|-)\s+(?P<bw>[0-9.]+%|-)\s+(?P<gflops>[0-9.]+|-)\s+(?P<pk>[0-9.]+%|-)\s+(?P<name>\S.*)$")


def kernels(lines):
    """The rows of the first 'kernels' table (until the next header)."""
    rows, inside = [], False
    for line in lines:
        if line.startswith("kernels ("):
            inside = True
            continue
        if inside:
            if line.startswith("regions (") or not line.strip():
                break
            m = ROW.match(line)
            if m:
                rows.append(m.groupdict())
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--rule", type=float, default=60.0, help="percent of the copy bandwidth")
    a = ap.parse_args()
    status = 0
    for path in a.files:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            print(f"top_kernels.py: {path}: {e.strerror}", file=sys.stderr)
            status = 1
            continue
        head = next((l for l in lines if l.startswith("surro profile:")), None)
        rows = kernels(lines)
        if head is None or not rows:
            print(f"top_kernels.py: {path}: no surro profile (expected a 'surro profile:' line and a "
                  "'kernels' table)", file=sys.stderr)
            status = 1
            continue
        rows.sort(key=lambda r: float(r["ms"]), reverse=True)
        print(f"### {path}\n\n{head}\n")
        print("| kernel | total ms | calls | share | GB/s | of copy bw | verdict |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for r in rows[:a.top]:
            if r["bw"] == "-":
                verdict = "no figure"
            else:
                verdict = "ok" if float(r["bw"].rstrip("%")) >= a.rule else "below"
            print(f"| `{r['name']}` | {r['ms']} | {r['calls']} | {r['share']}% | {r['gbs']} | {r['bw']} | {verdict} |")
        print()
    return status


if __name__ == "__main__":
    sys.exit(main())
