"""Merges the benchmark suite's output lines into markdown tables (bench/gpu/suite.sh).

Reads every file given (or stdin) and keeps the lines it knows, ignoring the rest:
  - JSON lines of bench_fno and bench/peers/fno.py (impl surro / torch-eager / torch-compile);
  - JSON lines of bench_ifactformer and bench/peers/ifactformer.py (the same, with model
    "ifactformer"): a table of their own;
  - the JSON line of bench/peers/bandwidth.py (case copy_bandwidth);
  - key=value lines of bench_ns2d and bench/ns2d_peer.py (bench/gpu/ns2d.sh).
Ratios are surro / peer (below 1: surro is faster); each peer line is paired with the surro line
of its case that precedes it in the same file (suite.sh runs surro first in every call), so logs of
several calls merge without pairing figures of different calls. The surro column shows the last.

FNO and IFactFormer memory: surro's figure is the device memory really resident after warm-up (cudaMemGetInfo,
relative to just after start-up); the peer's are torch.cuda.max_memory_allocated and that same
resident figure (mem_get_info relative to just after start-up).

NS "of copy bw": a lower bound on the achieved bandwidth over the copy bandwidth measured in the
same run. The byte count is only the FFTs' compulsory traffic: per right-hand side one C2R of 4
spectra and one R2C of 1 field, each reading its input and writing its output once, i.e.
B * 5 * (16 n (n/2 + 1) + 8 n^2) bytes (float64); one right-hand side per crank_nicolson step,
four per ifrk4 step. The pointwise kernels and extra FFT passes move more, so the true figure is
higher.

Usage: python3 bench/peers/table.py [FILE...]
"""
import json
import sys


def fmt(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    return "%.*g" % (digits, v) if abs(v) < 10 ** digits else "%.0f" % v


def size_of(r):
    if "grid" not in r:
        return "?"
    g = r["grid"]
    grid = "%d²" % g[0] if len(g) == 2 and g[0] == g[1] else "×".join(str(e) for e in g)
    return "%s, B %d" % (grid, r["batch"])


def cell(r, key="ms"):
    """A record's figure, or its status when it has none."""
    if r is None:
        return "–"
    if r.get("status") != "ok":
        return r.get("status", "?")
    return fmt(r.get(key))


def ratio(a, b):
    a = b.get("_surro", a) if b is not None else a
    if a is None or b is None or a.get("status") != "ok" or b.get("status") != "ok":
        return "–"
    return "**%.2f**" % (a["ms"] / b["ms"])


def mib(r):
    if r is None or r.get("status") != "ok" or r.get("resident_mib") is None:
        return "–"
    if r["impl"] == "surro":
        return "%.0f" % r["resident_mib"]
    return "%.0f / %.0f" % (r["peak_alloc_mib"], r["resident_mib"])


def parse(lines):
    fno, ns, bw, order = {}, {}, None, []
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("case") == "copy_bandwidth":
                bw = r
            elif "impl" in r and "case" in r:
                key = (r["case"], tuple(r.get("grid", ())), r.get("batch"))
                if "model" not in r and r["case"].startswith("iff"):  # a killed peer's line
                    r["model"] = "ifactformer"
                if "grid" not in r:  # a line without sizes (a killed run) joins its case's row
                    key = next((k for k in order if k[0] == r["case"]), key)
                if key not in fno:
                    fno[key] = {}
                    order.append(key)
                if r["impl"] != "surro":  # its ratio is against surro's line of the same call
                    r["_surro"] = fno[key].get("surro")
                fno[key][r["impl"]] = r
        elif line.startswith("impl=") and "step_ms=" in line:
            r = dict(kv.split("=", 1) for kv in line.split())
            impl = "surro" if r["impl"] == "surro" else ("compile" if "compile" in r["impl"] else "eager")
            ns.setdefault((int(r["grid"]), int(r["batch"]), r["scheme"]), {})[impl] = r
    return fno, order, ns, bw


def model_of(rs):
    return next((r["model"] for r in rs.values() if r.get("model")), "fno")


def fno_table(fno, order):
    out = ["| case | size | surro ms | torch eager ms | ratio | torch.compile ms | ratio | surro MiB "
           "| eager MiB (alloc / resident) | compile MiB (alloc / resident) | max rel diff (out; grad) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    notes, mismatch, failed = [], False, {}
    for key in order:
        rs = fno[key]
        s, e, c = rs.get("surro"), rs.get("torch-eager"), rs.get("torch-compile")
        any_r = next(r for r in (s, e, c) if r is not None and "grid" in r) if any(
            r is not None and "grid" in r for r in (s, e, c)) else (s or e or c)
        diffs = []
        for r in (e, c):
            if r is not None and r.get("rel_diff_max") is not None:
                d = fmt(r["rel_diff_max"], 2)
                if r.get("grad_rel_diff") is not None:
                    d += "; " + fmt(r["grad_rel_diff"], 2)
                diffs.append(d)
        out.append("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            key[0], any_r.get("mode", "?"), size_of(any_r), cell(s), cell(e), ratio(s, e), cell(c), ratio(s, c),
            mib(s), mib(e), mib(c), " / ".join(diffs) if diffs else "–"))
        counts = {r["impl"]: r.get("params") for r in (s, e, c) if r is not None and r.get("params") is not None}
        if len(set(counts.values())) > 1:
            mismatch = True
            notes.append("**%s: parameter counts differ: %s**" % (key[0], counts))
        for r in (s, e, c):
            if r is not None and r.get("status") != "ok":
                what = "%s %s%s" % (r["impl"], r.get("status"), (": " + r["reason"]) if r.get("reason") else "")
                failed.setdefault(what, []).append(key[0])
    if not mismatch and order:
        notes.insert(0, "Parameter counts agree between surro and the peer in every case.")
    notes += ["%s (%s)" % (what, ", ".join(names)) for what, names in failed.items()]
    compiled = ["%s %gs" % (key[0], fno[key]["torch-compile"]["compile_s"]) for key in order
                if fno[key].get("torch-compile", {}).get("compile_s") is not None]
    if compiled:
        notes.append("torch.compile: seconds to the end of the first compiled call: " + ", ".join(compiled))
    return out, notes


def ns_table(ns, bw):
    out = ["| grid | batch | scheme | surro ms/step | torch eager | ratio | torch.compile | ratio "
           "| surro ≥ of copy bw |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (n, b, scheme), rs in sorted(ns.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        s, e, c = rs.get("surro"), rs.get("eager"), rs.get("compile")
        ms = lambda r: float(r["step_ms"]) if r else None
        rat = lambda a, p: "**%.2f**" % (ms(a) / ms(p)) if a and p else "–"
        frac = "–"
        if s and bw:
            rhs = 1 if scheme == "crank_nicolson" else 4
            bytes_min = rhs * b * 5 * (16 * n * (n // 2 + 1) + 8 * n * n)
            frac = "%.0f%%" % (100 * bytes_min / (ms(s) * 1e-3) / 1e9 / bw["gb_per_s"])
        out.append("| %d² | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            n, b, scheme, fmt(ms(s), 4), fmt(ms(e), 4), rat(s, e), fmt(ms(c), 4), rat(s, c), frac))
    return out


def main():
    lines = []
    if len(sys.argv) > 1:
        for path in sys.argv[1:]:
            with open(path) as f:
                lines += f.readlines()
    else:
        lines = sys.stdin.readlines()
    fno, order, ns, bw = parse(lines)
    out = []
    devices = sorted({r.get("device", "?") + " (" + r.get("space", "?") + ")"
                      for rs in fno.values() for r in rs.values() if r.get("device")})
    torches = sorted({r["torch"] for rs in fno.values() for r in rs.values() if r.get("torch")})
    if devices:
        out.append("Devices: %s. PyTorch %s." % (", ".join(devices), ", ".join(torches) or "?"))
    if bw:
        out.append("Copy bandwidth (torch, %d MiB device-to-device, read + write): %.1f GB/s." % (
            bw["bytes"] >> 20, bw["gb_per_s"]))
    titles = {"fno": "FNO", "ifactformer": "IFactFormer-m (3D parallel unless the case says otherwise)"}
    for model in ("fno", "ifactformer"):
        keys = [k for k in order if model_of(fno[k]) == model]
        if not keys:
            continue
        rows, notes = fno_table(fno, keys)
        out += ["", "%s, float32: ms per call (training step or inference forward), median; ratio = surro / peer." %
                titles[model], ""]
        out += rows + [""] + ["- " + n for n in notes]
    if ns:
        out += ["", "NS solver, float64: ms per time step; ratio = surro / peer.", ""] + ns_table(ns, bw)
    print("\n".join(out))


if __name__ == "__main__":
    main()
