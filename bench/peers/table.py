"""Merges the benchmark suite's output lines into markdown tables (bench/gpu/suite.sh).

Reads every file given (or stdin) and keeps the lines it knows, ignoring the rest:
  - JSON lines of bench_fno and bench/peers/fno.py (impl surro / torch-eager / torch-compile);
  - JSON lines of bench_ifactformer and bench/peers/ifactformer.py (the same, with model
    "ifactformer"): a table of their own;
  - the JSON line of bench/peers/bandwidth.py (case copy_bandwidth);
  - key=value lines of bench_ns2d and bench/ns2d_peer.py (bench/gpu/ns2d.sh);
  - JSON lines of case "rollout" (bench/gpu/rollout.sh: surro rollout and bench/peers/rollout.py, one
    per timed run) and its rollout_setup line: a table of medians over the runs.
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


def parse(lines, roll=None):
    fno, ns, bw, order = {}, {}, None, []
    roll = roll if roll is not None else {"runs": [], "setup": []}
    for line in lines:
        line = line.strip()
        if line.startswith("rollout_setup "):
            roll["setup"].append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
        elif line.startswith("{"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("case") == "rollout":
                roll["runs"].append(r)
            elif r.get("case") == "copy_bandwidth":
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


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def rollout_table(roll):
    """Benchmark case 5 (bench/gpu/rollout.sh): medians over the timed runs of each side, per problem."""
    groups, order = {}, []
    for r in roll["runs"]:
        key = (tuple(r.get("grid", ())), r.get("steps"), r.get("vtk_every"))
        if "grid" not in r:  # a failed run's line joins the first problem seen
            key = order[0] if order else key
        if key not in groups:
            groups[key] = {}
            order.append(key)
        groups[key].setdefault(r["impl"], []).append(r)
    out = ["| grid | steps, VTK every | surro wall s | torch eager wall s | ratio | surro in-process s "
           "| torch in-process s | ratio | max rel diff step 1 | max rel diff last step |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    notes = []
    for key in order:
        s_runs = [r for r in groups[key].get("surro", []) if r.get("status") == "ok"]
        p_runs = [r for r in groups[key].get("torch-eager", []) if r.get("status") == "ok"]
        med = lambda runs, k: median([r.get(k) for r in runs])
        sw, pw = med(s_runs, "wall_s"), med(p_runs, "wall_s")
        si, pi = med(s_runs, "inprocess_s"), med(p_runs, "inprocess_s")
        rat = lambda a, b: "**%.2f**" % (a / b) if a is not None and b else "–"
        agree = [r for r in p_runs if r.get("agreement") == "ok"]
        d1 = max((r["rel_diff_max_step1"] for r in agree), default=None)
        dn = max((r["rel_diff_max_last"] for r in agree), default=None)
        grid = "%d²" % key[0][0] if len(key[0]) == 2 and key[0][0] == key[0][1] else "×".join(map(str, key[0]))
        grid = grid or "?"
        out.append("| %s | %s, %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            grid, fmt(key[1]), fmt(key[2]), fmt(sw), fmt(pw), rat(sw, pw), fmt(si), fmt(pi), rat(si, pi),
            fmt(d1, 2), fmt(dn, 2)))
        span = lambda runs, k: ("%s–%s" % (fmt(min(r[k] for r in runs)), fmt(max(r[k] for r in runs)))
                                if runs else "–")
        notes.append("%s: %d surro and %d peer runs (wall s, min–max: surro %s, peer %s)" % (
            grid, len(s_runs), len(p_runs), span(s_runs, "wall_s"), span(p_runs, "wall_s")))
        if p_runs:
            p = p_runs[-1]
            notes.append("peer (%s, %s, torch %s, HDF5 through %s): medians import %s s, load %s s, untimed first "
                         "forward %s s; in-process %s s of which %s s stepping and metrics; surro's stepping %s s" % (
                             p.get("device"), p.get("space"), p.get("torch"), p.get("h5"),
                             fmt(med(p_runs, "import_s")), fmt(med(p_runs, "load_s")), fmt(med(p_runs, "warmup_s")),
                             fmt(pi), fmt(med(p_runs, "steps_s")), fmt(med(s_runs, "steps_s"))))
            if "rel_diff_max_at" in p:
                notes.append("max |peer − surro| / max |surro| by step (last run): " + ", ".join(
                    "%s: %s" % (k, fmt(v, 2)) for k, v in p["rel_diff_max_at"].items()))
            if "surro_rel_l2_last" in p:
                notes.append("relative L2 against the reference at the last step: surro %s, peer %s" % (
                    fmt(p["surro_rel_l2_last"], 4), fmt(p.get("rel_l2_last"), 4)))
        for r in groups[key].get("surro", []) + groups[key].get("torch-eager", []):
            if r.get("status") != "ok":
                notes.append("%s run %s: %s%s" % (r["impl"], r.get("rep", "?"), r.get("status"),
                                                  ": " + r["reason"] if r.get("reason") else ""))
            elif r["impl"] != "surro" and r.get("agreement", "ok") != "ok":
                notes.append("peer run %s: agreement %s" % (r.get("rep", "?"), r["agreement"]))
    for st in roll["setup"]:
        notes.append("setup (timing data only): grid %s, %s frames, generate %s s, 1 training epoch %s s "
                     "(valid loss %s)" % (st.get("grid"), st.get("frames"), st.get("generate_s"), st.get("train_s"),
                                          st.get("valid_loss")))
    return out, notes


def main():
    lines = []
    if len(sys.argv) > 1:
        for path in sys.argv[1:]:
            with open(path) as f:
                lines += f.readlines()
    else:
        lines = sys.stdin.readlines()
    roll = {"runs": [], "setup": []}
    fno, order, ns, bw = parse(lines, roll)
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
    if roll["runs"]:
        rows, notes = rollout_table(roll)
        out += ["", "FNO-2D rollout (modes 12, width 32, 10 frames in), one trajectory, VTK every N steps, float32: "
                "seconds, median over runs; wall = the whole process, in-process = without start-up; "
                "ratio = surro / peer.", ""] + rows + [""] + ["- " + n for n in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main()
