"""Markdown tables from the JSON lines of bench_mesh_models (impl "surro") and bench/peers/mesh_models.py
(impl "torch"), paired by their "case" field (standard library only).

  python3 bench/peers/mesh_table.py LOG [LOG...]

Table 1, one row per case: nodes, edges, batch; each side's inference and training ms per step and the
ratios surro / torch (< 1: surro faster); surro's resident device memory (cudaMemGetInfo high-water;
without CUDA what it planned) and torch's peak allocated memory during training, in MiB and bytes per node; the agreement of the
peer with surro (max |dy| / max |y|, the worst tensor's gradient difference). A side whose line says
status error / oom shows that instead of figures.
Table 2, per model and side: the largest case that trained (status ok) and the smallest that did not,
with the memory per node at the largest.
"""
import json
import sys


def read(paths):
    lines = []
    for p in paths:
        with open(p) as f:
            for text in f:
                text = text.strip()
                if text.startswith("{"):
                    try:
                        lines.append(json.loads(text))
                    except json.JSONDecodeError:
                        pass
    return [l for l in lines if l.get("impl") in ("surro", "torch") and l.get("case")]


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def main(paths):
    lines = read(paths)
    cases = {}
    for l in lines:
        cases.setdefault(l["case"], {})[l["impl"]] = l  # the last line of a case wins
    print("| case | nodes | edges | B | surro infer ms | torch infer ms | ratio | surro train ms | torch train ms "
          "| ratio | surro MiB (B/node) | torch MiB (B/node) | y diff | grad diff |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, c in cases.items():
        s, t = c.get("surro", {}), c.get("torch", {})
        ref = s or t
        nodes = ref.get("nodes")

        def side(l, key):
            if l.get("status") not in (None, "ok"):
                return l.get("status")
            return fmt(l.get(key), ".2f")

        def mem(l, key):
            if l.get("status") not in (None, "ok"):
                return l.get("status")
            if l.get(key) is None and l.get("planned_mib") is not None:  # no CUDA: what surro planned
                key = "planned_mib"
            if l.get(key) is None:
                return "—"
            return f"{'planned ' if key == 'planned_mib' else ''}{l[key]:.0f} ({l[key] * 2**20 / nodes / 1e3:.0f} k)"

        ratio = lambda k: fmt(s[k] / t[k], ".2f") if s.get(k) and t.get(k) else "—"  # noqa: E731
        print(f"| {name} | {nodes} | {ref.get('edges')} | {ref.get('batch')} | {side(s, 'infer_ms')} | "
              f"{side(t, 'infer_ms')} | {ratio('infer_ms')} | {side(s, 'train_ms')} | {side(t, 'train_ms')} | "
              f"{ratio('train_ms')} | {mem(s, 'resident_mib')} | {mem(t, 'peak_train_mib')} | "
              f"{fmt(t.get('y_rel_diff'), '.1e')} | {fmt(t.get('grad_rel_diff'), '.1e')} |")
    print()
    print("| model | side | largest trained (nodes) | memory per node there | smallest failed (nodes) |")
    print("|---|---|---:|---:|---:|")
    models = sorted({l["model"] for l in lines if "model" in l})
    for m in models:
        for impl, key in (("surro", "resident_bytes_per_node"), ("torch", "peak_train_bytes_per_node")):
            ls = [l for l in lines if l.get("model") == m and l["impl"] == impl and l.get("nodes")]
            ok = [l for l in ls if l.get("status") == "ok" and l.get("train_ms")]
            bad = [l for l in ls if l.get("status") not in (None, "ok")]
            best = max(ok, key=lambda l: l["nodes"], default=None)
            worst = min(bad, key=lambda l: l["nodes"], default=None)
            per = best.get(key) or best.get("planned_bytes_per_node") if best else None
            print(f"| {m} | {impl} | {best['nodes'] if best else '—'} | "
                  f"{fmt(per / 1e3 if per else None, '.0f')} kB | {worst['nodes'] if worst else '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
