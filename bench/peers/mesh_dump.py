"""Reads and checks a `bench_mesh_models --dump DIR` directory with the standard library only (no
numpy, no torch), so the dump can be validated on any machine; bench/peers/mesh_models.py loads the
same files into torch through load_arrays.

  python3 bench/peers/mesh_dump.py DIR [DIR...]     prints one JSON line per directory, exit 1 on a defect

Checks: every file of meta.json's list exists with prod(shape) * itemsize bytes; the parameter table's
tensors lie inside params.bin without overlapping; node types in 0..8; edges in range, no self-loops,
each edge's reverse present, receivers non-decreasing within each mesh; the mask is a CSR (offsets from
0 to nnz, non-decreasing; columns in range, sorted, unique per row) that stays inside each mesh's node
block; all floats finite; where the dump has outputs (surro writes the inputs before planning its model
and the outputs after one forward and backward, so a model that did not fit leaves inputs only), meta's loss equals the mean of (y - target)^2 and dy equals
2 (y - target) / n, both to float32 rounding (relative 1e-5 on the loss, 1e-6 absolute on dy entries,
whose size is about 2 / n).
"""
import array
import json
import math
import os
import sys

ITEMSIZE = {"float32": 4, "float64": 8, "int32": 4, "int64": 8}
TYPECODE = {"float32": "f", "float64": "d", "int32": "i", "int64": "q"}


def read_meta(d):
    with open(os.path.join(d, "meta.json")) as f:
        return json.load(f)


def read_raw(d, name, meta):
    """The file as a flat array.array of its dtype (native byte order, as written)."""
    spec = meta["files"][name]
    a = array.array(TYPECODE[spec["dtype"]])
    assert a.itemsize == ITEMSIZE[spec["dtype"]], "this platform's array item sizes differ"
    with open(os.path.join(d, name), "rb") as f:
        a.frombytes(f.read())
    return a


def load_arrays(d, np):
    """Every file as a numpy array of its dtype and shape (for mesh_models.py)."""
    meta = read_meta(d)
    out = {}
    for name, spec in meta["files"].items():
        out[name[:-4]] = np.fromfile(os.path.join(d, name), dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
    return meta, out


def check(d):
    meta = read_meta(d)
    problems = []
    for name, spec in meta["files"].items():
        path = os.path.join(d, name)
        want = ITEMSIZE[spec["dtype"]] * math.prod(spec["shape"])
        got = os.path.getsize(path) if os.path.exists(path) else -1
        if got != want:
            problems.append(f"{name}: {got} bytes, expected {want} ({spec['dtype']} {spec['shape']})")
    if problems:
        return meta, problems
    V, E, nnz = meta["nodes"], meta["edges"], meta["nnz"]
    P = meta["params_size"]
    # Parameter table: inside params.bin, disjoint, counts = prod(shape).
    end = 0
    for s in sorted(meta["slots"], key=lambda s: s["offset"]):
        if s["count"] != math.prod(s["shape"]) or s["offset"] < end or s["offset"] + s["count"] > P:
            problems.append(f"slot {s['name']}: offset {s['offset']} count {s['count']} shape {s['shape']}")
        end = s["offset"] + s["count"]
    if sum(s["count"] for s in meta["slots"]) != meta["params"]:
        problems.append(f"slots count {sum(s['count'] for s in meta['slots'])} != params {meta['params']}")
    nt = read_raw(d, "node_type.bin", meta)
    if any(t < 0 or t > 8 for t in nt):
        problems.append("node_type outside 0..8")
    # Which mesh owns each node (node_offsets (B + 1)).
    offs = meta["node_offsets"]
    if offs[0] != 0 or offs[-1] != V or len(offs) != meta["batch"] + 1:
        problems.append(f"node_offsets {offs[:3]}..{offs[-1]}: expected 0..{V} with batch + 1 entries")
    owner = array.array("i", [0]) * V
    for b in range(len(offs) - 1):
        for i in range(offs[b], offs[b + 1]):
            owner[i] = b
    snd, rcv = read_raw(d, "senders.bin", meta), read_raw(d, "receivers.bin", meta)
    pairs = set()
    for e in range(E):
        s, r = snd[e], rcv[e]
        if not (0 <= s < V and 0 <= r < V) or s == r or owner[s] != owner[r]:
            problems.append(f"edge {e}: {s} -> {r}")
            break
        if e and owner[r] == owner[rcv[e - 1]] and r < rcv[e - 1]:
            problems.append(f"edge {e}: receivers not in order")
            break
        pairs.add((s, r))
    if any((r, s) not in pairs for (s, r) in pairs):
        problems.append("an edge lacks its reverse")
    mo, mi = read_raw(d, "mask_offsets.bin", meta), read_raw(d, "mask_indices.bin", meta)
    if mo[0] != 0 or mo[V] != nnz or any(mo[i] > mo[i + 1] for i in range(V)):
        problems.append("mask offsets: not a CSR from 0 to nnz")
    else:
        for i in range(V):
            row = mi[mo[i]:mo[i + 1]]
            if any(not (0 <= j < V) or owner[j] != owner[i] or j == i for j in row) or any(
                    row[t] >= row[t + 1] for t in range(len(row) - 1)):
                problems.append(f"mask row {i}: columns out of range, off the mesh, on the diagonal, or unsorted")
                break
    if meta.get("k_hop", 1) == 1 and meta["model"] == "mesh_transformer":
        # 1-hop: the mask is the edges' pattern (row = receiver, column = sender).
        mask_pairs = {(mi[t], i) for i in range(V) for t in range(mo[i], mo[i + 1])}
        if mask_pairs != pairs:
            problems.append("1-hop mask differs from the edge set")
    names = [n for n in ("params.bin", "grads.bin", "x.bin", "target.bin", "y.bin", "dy.bin") if n in meta["files"]]
    floats = {n: read_raw(d, n, meta) for n in names}
    for n, a in floats.items():
        if not all(math.isfinite(v) for v in a):
            problems.append(f"{n}: non-finite values")
    if "y.bin" in floats:  # absent when surro's model did not fit: the dump then holds the inputs only
        y, t, dy = floats["y.bin"], floats["target.bin"], floats["dy.bin"]
        n = len(y)
        loss = sum((a - b) ** 2 for a, b in zip(y, t)) / n
        if abs(loss - meta["loss"]) > 1e-5 * abs(meta["loss"]):
            problems.append(f"loss {meta['loss']} != mean (y - target)^2 = {loss}")
        worst = max(abs(g - 2.0 * (a - b) / n) for g, a, b in zip(dy, y, t))
        if worst > 1e-6 * max(1.0, 2.0 / n * 4):
            problems.append(f"dy differs from 2 (y - target) / n by {worst}")
    pos = read_raw(d, "positions.bin", meta)
    dim = meta["files"]["positions.bin"]["shape"][1]
    xs = pos[0::dim]
    if min(xs) < -1e-12 or max(xs) > 2.2 + 1e-12:
        problems.append("positions outside the channel's x range [0, 2.2]")
    return meta, problems


def main(argv):
    bad = 0
    for d in argv:
        meta, problems = check(d)
        print(json.dumps({"dump": d, "model": meta.get("model"), "nodes": meta.get("nodes"), "edges": meta.get("edges"),
                          "nnz": meta.get("nnz"), "params": meta.get("params"),
                          "outputs": "y.bin" in meta.get("files", {}), "ok": not problems,
                          "problems": problems}))
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
