"""Markdown table of a bench/cpu/threads.sh log (standard library only).

The log holds "threads T" markers, each followed by that thread count's result lines: key=value
lines from bench_ns2d / ns2d_peer.py (impl=surro | torch-cpuT, step_ms=...) and JSON lines from
bench_fno / peers/fno.py ({"impl": "surro" | "torch-eager", "ms": ...}). One row per thread count
and case: milliseconds per step of each side, its speed-up over its own one-thread time (parallel
efficiency = speed-up / threads), and torch / surro (above 1: surro is faster).

  python3 bench/cpu/threads_table.py LOG
"""
import json
import sys


def parse(path):
    rows = {}  # (case, threads) -> {side: ms}
    threads = None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("threads "):
                threads = int(line.split()[1])
                continue
            if threads is None or not line or line.startswith("#"):
                continue
            if line.startswith("{"):
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if d.get("status", "ok") != "ok" or "ms" not in d:
                    continue
                case = "fno " + d.get("case", "?") + " " + "x".join(map(str, d.get("grid", []))) + \
                       " b%s" % d.get("batch", "?")
                side = "surro" if d.get("impl") == "surro" else "torch"
                rows.setdefault((case, threads), {})[side] = float(d["ms"])
            elif "impl=" in line and "step_ms=" in line:
                kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
                case = "ns2d %s %s^2 b%s" % (kv.get("scheme", "?"), kv.get("grid", "?"), kv.get("batch", "?"))
                side = "surro" if kv["impl"] == "surro" else "torch"
                rows.setdefault((case, threads), {})[side] = float(kv["step_ms"])
    return rows


def fmt(ms, base, t):
    if ms is None:
        return "–", "–"
    if base is None:
        return "%.2f" % ms, "–"
    s = base / ms
    return "%.2f" % ms, "%.2f× (%.0f%%)" % (s, 100.0 * s / t)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = parse(sys.argv[1])
    cases = sorted({c for c, _ in rows})
    print("| case | threads | surro ms | surro speed-up (eff.) | torch ms | torch speed-up (eff.) | torch / surro |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in cases:
        counts = sorted(t for c, t in rows if c == case)
        one = rows.get((case, 1), {})
        for t in counts:
            r = rows[(case, t)]
            s_ms, s_up = fmt(r.get("surro"), one.get("surro"), t)
            p_ms, p_up = fmt(r.get("torch"), one.get("torch"), t)
            ratio = "%.2f" % (r["torch"] / r["surro"]) if "torch" in r and "surro" in r else "–"
            print(f"| {case} | {t} | {s_ms} | {s_up} | {p_ms} | {p_up} | {ratio} |")


if __name__ == "__main__":
    main()
