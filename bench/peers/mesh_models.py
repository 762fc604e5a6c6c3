"""PyTorch peer for bench_mesh_models: surro's two graph models written as PyTorch users write them,
float32, eager, on the mesh, weights, inputs and attention mask of a `bench_mesh_models --dump DIR`.

mesh_transformer (graph-physics' EncodeTransformDecode; operators/models/mesh_transformer.hpp):
  h = RMSNorm(MLP4([x, one_hot(node_type, 9)]))            MLP4: 4 nn.Linear, ReLU between
  L times:  h = h + proj(MaskedMHA(q(n), k(n), v(n))),  n = RMSNorm(h)
            h = h + GatedMLP(RMSNorm(h)),  GatedMLP(u) = out(gelu(a(m)) * b(m)), m = RMSNorm(u)
  y = MLP4(h)
  RMSNorm(x) = scale x / (||x|| / sqrt(d) + 1e-8) (graph-physics'); GELU exact; heads interleaved
  (q.view(V, Dh, H), graph-physics' layout). MaskedMHA scores only the mask's entries: with the mask as
  (row = query, col = key) index pairs, s = <q[row], k[col]> / sqrt(Dh) (index_select), a softmax per
  row (segment max by scatter_reduce('amax'), exp, segment sum by index_add_; or --attention pyg:
  torch_geometric.utils.softmax), and o = index_add_(row, p v[col]). This is how PyG's TransformerConv
  (graph-physics' fallback without DGL) computes it. The GatedMLP keeps graph-physics' two Linear(d, 3d)
  (surro stacks them into one (6d, d) weight: rows [0, 3d) are `a`, [3d, 6d) are `b`).
meshgraphnet (DeepMind's MeshGraphNets; operators/models/meshgraphnet.hpp):
  ef = [pos[s] - pos[r], |pos[s] - pos[r]|] (float64, then float32, as surro)
  h = LN(MLP([x, one_hot])), e = LN(MLP(ef));  L times: m = LN(MLP([h[s], h[r], e]));
  a = index_add_(r, m); h = h + LN(MLP([h, a])); e = e + m;   y = MLP(h)
  MLP: `hidden_layers` hidden layers (2), ReLU; LN = nn.LayerNorm (eps 1e-5).

Agreement (always, before timing): y of one forward against surro's y.bin, the MSE loss against
surro's, and the parameter gradients of one backward against grads.bin. Reported: y_rel_diff =
max|dy| / max|y|, loss_rel_diff, grad_rel_diff = max over tensors of ||dg|| / ||g|| (grad_worst names
the tensor; grad_rel_diff_total the same over the whole flat gradient). The key biases' gradients are
exactly zero (softmax is invariant to the per-row shift <q_i, b_k> they add), so both sides return
rounding noise there: they are left out of grad_rel_diff and checked as grad_zero_rel = their norm over
the whole gradient's norm instead. Tolerances (float32, unit roundoff u = 6e-8; TF32 off): both sides sum in different orders
(cuBLAS / OpenBLAS blocking, segment sums in another order), so each GEMM of depth K <= 3 d carries a
relative error of order sqrt(K) u (~1.2e-6 at K = 384) and each norm or softmax about u. The forward
chains ~2 L + 10 such layers (40 at L = 15) whose Lipschitz constants are O(1) on normalized streams,
so the difference in y stays below ~40 x 1.2e-6 x (a few) ~ 1e-4: --tol-y 1e-4. A parameter gradient is
a sum over all V (or E) rows of products of forward and backward quantities that each carry that
error, and sums with cancellation lose more relative precision: --tol-grad 1e-3 per tensor (norm-wise).
A run outside either tolerance prints "agree": false and exits 1 after its line.

Timing (after the check): `warmup` calls excluded, then `steps` calls between torch.cuda.synchronize,
the mean per call: infer_ms = one forward under torch.no_grad; train_ms = zero_grad, forward,
F.mse_loss, backward, torch.optim.Adam(lr 1e-3) step, and loss.item() (surro's loss returns to the host
every step; --async-loss drops it). Memory (CUDA): torch.cuda.max_memory_allocated over the timed
inference calls (peak_infer_mib) and over the training calls (peak_train_mib; includes the parameters,
gradients, Adam moments and graph), and per node.

  python3 bench/peers/mesh_models.py --load DIR [--case NAME] [--device cuda|cpu] [--steps 10] [--warmup 3]
      [--surro FILE] [--attention index|pyg] [--tf32] [--async-loss] [--threads N] [--no-time]
  python3 bench/peers/mesh_models.py --selftest [--device cpu]

--surro FILE: a file holding surro's JSON line for the same case (the last line with "impl": "surro");
the peer's line then adds surro_over_peer_{train,infer} (time ratios: < 1 means surro is faster) and
surro_over_peer_mem (surro's resident_mib over the peer's peak_train_mib).
--selftest: the sparse attention against a dense masked softmax attention on a random graph (values
and gradients), and the parameter mapping of both models on a synthetic table (no dump needed).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mesh_dump  # noqa: E402  (same folder; standard library only)

NODE_TYPES = 9


def mlp(widths):
    """widths[0] -> ... -> widths[-1]: nn.Linear layers with ReLU between (none after the last)."""
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_names(prefix, seq):
    """surro's names of an mlp(): prefix.linear{i}.{weight,bias} -> [parameter]."""
    out = {}
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    for i, lin in enumerate(linears):
        out[f"{prefix}.linear{i}.weight"] = [lin.weight]
        out[f"{prefix}.linear{i}.bias"] = [lin.bias]
    return out


class RMSNorm(nn.Module):
    """graph-physics' RMSNorm: scale x / (||x||_2 d^-1/2 + eps), no bias."""

    def __init__(self, d, eps=1e-8):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(d))
        self.eps = eps
        self.d = d

    def forward(self, x):
        return self.scale * x / (x.norm(dim=-1, keepdim=True) * self.d ** -0.5 + self.eps)


class Graph:
    """The batch's structure on the device: one-hot node types, edges, mask pairs (row = query)."""

    def __init__(self, arrays, device):
        t = lambda a, dtype: torch.as_tensor(a, device=device).to(dtype)  # noqa: E731
        self.nodes = int(arrays["node_type"].shape[0])
        self.onehot = F.one_hot(t(arrays["node_type"], torch.long), NODE_TYPES).float()
        self.pos = t(arrays["positions"], torch.float64)
        self.senders = t(arrays["senders"], torch.long)
        self.receivers = t(arrays["receivers"], torch.long)
        offsets = t(arrays["mask_offsets"], torch.long)
        self.col = t(arrays["mask_indices"], torch.long)
        self.row = torch.repeat_interleave(torch.arange(self.nodes, device=device), offsets[1:] - offsets[:-1])


def segment_softmax(s, row, nodes):
    """Softmax of s (nnz, H) over the entries of each row (row (nnz) sorted or not)."""
    idx = row.unsqueeze(1).expand_as(s)
    m = torch.full((nodes, s.shape[1]), -math.inf, device=s.device, dtype=s.dtype)
    m = m.scatter_reduce(0, idx, s.detach(), reduce="amax", include_self=True)  # the shift needs no gradient
    e = (s - m.index_select(0, row)).exp()
    z = torch.zeros_like(m).index_add_(0, row, e)
    return e / z.index_select(0, row)


class MaskedMHA(nn.Module):
    def __init__(self, d, heads, layout="interleaved", attention="index"):
        super().__init__()
        self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))
        self.heads, self.dh, self.layout, self.attention = heads, d // heads, layout, attention

    def split(self, x):  # (V, d) -> (V, Dh, H): the head index is the last axis
        V = x.shape[0]
        if self.layout == "interleaved":
            return x.view(V, self.dh, self.heads)
        return x.view(V, self.heads, self.dh).transpose(1, 2)

    def merge(self, o):  # (V, Dh, H) -> (V, d)
        V = o.shape[0]
        if self.layout == "interleaved":
            return o.reshape(V, -1)
        return o.transpose(1, 2).reshape(V, -1)

    def forward(self, x, g):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        s = (q.index_select(0, g.row) * k.index_select(0, g.col)).sum(1) * self.dh ** -0.5  # (nnz, H)
        if self.attention == "pyg":
            from torch_geometric.utils import softmax as pyg_softmax
            p = pyg_softmax(s, g.row, num_nodes=g.nodes)
        else:
            p = segment_softmax(s, g.row, g.nodes)
        o = torch.zeros_like(q).index_add_(0, g.row, p.unsqueeze(1) * v.index_select(0, g.col))
        return self.proj(self.merge(o))


class GatedMLP(nn.Module):
    """graph-physics' build_gated_mlp: its own RMSNorm, gelu(a(x)) * b(x), out."""

    def __init__(self, d, mult):
        super().__init__()
        self.norm = RMSNorm(d)
        self.a, self.b = nn.Linear(d, mult * d), nn.Linear(d, mult * d)
        self.out = nn.Linear(mult * d, d)

    def forward(self, x):
        x = self.norm(x)
        return self.out(F.gelu(self.a(x)) * self.b(x))


class TransformerBlock(nn.Module):
    def __init__(self, d, heads, mult, layout, attention):
        super().__init__()
        self.attn_norm = RMSNorm(d)
        self.attn = MaskedMHA(d, heads, layout, attention)
        self.mlp_norm = RMSNorm(d)
        self.mlp = GatedMLP(d, mult)

    def forward(self, h, g):
        h = h + self.attn(self.attn_norm(h), g)
        return h + self.mlp(self.mlp_norm(h))


class MeshTransformer(nn.Module):
    def __init__(self, cin, cout, d, heads, layers, mult=3, layout="interleaved", attention="index"):
        super().__init__()
        self.encoder = mlp([cin + NODE_TYPES, d, d, d, d])
        self.enc_norm = RMSNorm(d)
        self.blocks = nn.ModuleList(TransformerBlock(d, heads, mult, layout, attention) for _ in range(layers))
        self.decoder = mlp([d, d, d, d, cout])

    def forward(self, x, g):
        h = self.enc_norm(self.encoder(torch.cat([x, g.onehot], dim=1)))
        for b in self.blocks:
            h = b(h, g)
        return self.decoder(h)

    def surro_names(self):
        """surro's parameter name -> the parameters it covers, concatenated along dim 0."""
        p = "mesh_transformer"
        out = mlp_names(f"{p}.encoder", self.encoder)
        out[f"{p}.encoder.norm.scale"] = [self.enc_norm.scale]
        for l, b in enumerate(self.blocks):
            q = f"{p}.block{l}"
            out[f"{q}.attn_norm.scale"] = [b.attn_norm.scale]
            for s in ("q", "k", "v", "proj"):
                lin = getattr(b.attn, s)
                out[f"{q}.attn.{s}.weight"], out[f"{q}.attn.{s}.bias"] = [lin.weight], [lin.bias]
            out[f"{q}.mlp_norm.scale"] = [b.mlp_norm.scale]
            out[f"{q}.mlp.norm.scale"] = [b.mlp.norm.scale]
            out[f"{q}.mlp.in.weight"] = [b.mlp.a.weight, b.mlp.b.weight]
            out[f"{q}.mlp.in.bias"] = [b.mlp.a.bias, b.mlp.b.bias]
            out[f"{q}.mlp.out.weight"], out[f"{q}.mlp.out.bias"] = [b.mlp.out.weight], [b.mlp.out.bias]
        out.update(mlp_names(f"{p}.decoder", self.decoder))
        return out


class MeshGraphNet(nn.Module):
    def __init__(self, cin, cout, dims, hidden, blocks, hidden_layers=2):
        super().__init__()
        H = hidden
        w = lambda i, o: [i] + [H] * hidden_layers + [o]  # noqa: E731
        self.enc_node, self.enc_node_norm = mlp(w(cin + NODE_TYPES, H)), nn.LayerNorm(H)
        self.enc_edge, self.enc_edge_norm = mlp(w(dims + 1, H)), nn.LayerNorm(H)
        self.edge = nn.ModuleList(mlp(w(3 * H, H)) for _ in range(blocks))
        self.edge_norm = nn.ModuleList(nn.LayerNorm(H) for _ in range(blocks))
        self.node = nn.ModuleList(mlp(w(2 * H, H)) for _ in range(blocks))
        self.node_norm = nn.ModuleList(nn.LayerNorm(H) for _ in range(blocks))
        self.decoder = mlp(w(H, cout))

    def forward(self, x, g):
        s, r = g.senders, g.receivers
        d = g.pos.index_select(0, s) - g.pos.index_select(0, r)
        ef = torch.cat([d, d.norm(dim=1, keepdim=True)], dim=1).float()
        h = self.enc_node_norm(self.enc_node(torch.cat([x, g.onehot], dim=1)))
        e = self.enc_edge_norm(self.enc_edge(ef))
        for emlp, enorm, nmlp, nnorm in zip(self.edge, self.edge_norm, self.node, self.node_norm):
            m = enorm(emlp(torch.cat([h.index_select(0, s), h.index_select(0, r), e], dim=1)))
            a = torch.zeros_like(h).index_add_(0, r, m)
            h = h + nnorm(nmlp(torch.cat([h, a], dim=1)))
            e = e + m
        return self.decoder(h)

    def surro_names(self):
        p = "meshgraphnet"
        out = {}
        for part, seq, norm in (("node", self.enc_node, self.enc_node_norm), ("edge", self.enc_edge, self.enc_edge_norm)):
            out.update(mlp_names(f"{p}.encoder.{part}", seq))
            out[f"{p}.encoder.{part}.norm.weight"], out[f"{p}.encoder.{part}.norm.bias"] = [norm.weight], [norm.bias]
        for l in range(len(self.edge)):
            for part, seq, norm in (("edge", self.edge[l], self.edge_norm[l]), ("node", self.node[l], self.node_norm[l])):
                q = f"{p}.block{l}.{part}"
                out.update(mlp_names(q, seq))
                out[f"{q}.norm.weight"], out[f"{q}.norm.bias"] = [norm.weight], [norm.bias]
        out.update(mlp_names(f"{p}.decoder", self.decoder))
        return out


def build(meta, attention="index"):
    cin = meta["files"]["x.bin"]["shape"][1]
    cout = meta["files"]["target.bin"]["shape"][1]  # y.bin is absent where surro could not plan the model
    if meta["model"] == "mesh_transformer":
        return MeshTransformer(cin, cout, meta["width"], meta["heads"], meta["layers"], meta.get("gated_mult", 3),
                               meta.get("head_layout", "interleaved"), attention)
    if meta["model"] == "meshgraphnet":
        dims = meta["files"]["positions.bin"]["shape"][1]
        return MeshGraphNet(cin, cout, dims, meta["width"], meta["layers"], meta.get("hidden_layers", 2))
    raise SystemExit(f"mesh_models.py: unknown model {meta['model']!r}")


def check_mapping(model, slots):
    """Every table tensor maps to parameters of the same total shape, and every parameter is covered once."""
    names = model.surro_names()
    table = {s["name"]: s for s in slots}
    if set(names) != set(table):
        raise SystemExit(f"mesh_models.py: names differ: surro only {sorted(set(table) - set(names))[:5]}, "
                         f"peer only {sorted(set(names) - set(table))[:5]}")
    covered = [id(p) for ps in names.values() for p in ps]
    if len(covered) != len(set(covered)) or set(covered) != {id(p) for p in model.parameters()}:
        raise SystemExit("mesh_models.py: the name map does not cover every parameter exactly once")
    for name, ps in names.items():
        shape = list(ps[0].shape)
        shape[0] = sum(p.shape[0] for p in ps)
        if shape != list(table[name]["shape"]):
            raise SystemExit(f"mesh_models.py: {name}: peer shape {shape}, surro {table[name]['shape']}")


def load_params(model, slots, flat):
    """flat (params_size) float32 tensor laid out by surro's table -> the model's parameters."""
    names = model.surro_names()
    with torch.no_grad():
        for s in slots:
            t = flat[s["offset"]:s["offset"] + s["count"]].view(s["shape"])
            ps = names[s["name"]]
            for p, part in zip(ps, torch.split(t, [p.shape[0] for p in ps], dim=0)):
                p.copy_(part)


# Tensors whose exact gradient is zero: a key bias adds <q_i, b_k> to every score of row i, and the
# row's softmax is invariant to that shift. Both sides return rounding noise there, so their relative
# difference is meaningless; they are checked against the whole gradient's norm instead.
ZERO_GRAD_SUFFIXES = (".attn.k.bias",)


def grad_diffs(model, slots, flat_grads):
    """(max over tensors of ||g_peer - g_surro|| / ||g_surro||, that tensor's name, ||dG|| / ||G|| over
    the whole gradient, max over zero-gradient tensors of max(||g_peer||, ||g_surro||) / ||G||)."""
    names = model.surro_names()
    worst, worst_name, d2, g2, zero = 0.0, "", 0.0, 0.0, []
    for s in slots:
        ref = flat_grads[s["offset"]:s["offset"] + s["count"]].view(s["shape"]).double()
        got = torch.cat([p.grad for p in names[s["name"]]], dim=0).double()
        d2 += (got - ref).square().sum().item()
        g2 += ref.square().sum().item()
        if s["name"].endswith(ZERO_GRAD_SUFFIXES):
            zero.append(max(got.norm().item(), ref.norm().item()))
            continue
        rel = ((got - ref).norm() / ref.norm().clamp_min(1e-30)).item()
        if rel > worst:
            worst, worst_name = rel, s["name"]
    total = math.sqrt(g2)
    return worst, worst_name, math.sqrt(d2) / total, max(zero, default=0.0) / total


def timed(fn, warmup, steps, sync):
    for _ in range(warmup):
        fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    return (time.perf_counter() - t0) * 1e3 / steps


def read_surro_line(path):
    line = None
    with open(path) as f:
        for text in f:
            text = text.strip()
            if text.startswith("{"):
                obj = json.loads(text)
                if obj.get("impl") == "surro":
                    line = obj
    if line is None:
        raise SystemExit(f"mesh_models.py: {path}: no JSON line with \"impl\": \"surro\"")
    return line


def run(a):
    import numpy as np

    dev = torch.device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    meta, arr = mesh_dump.load_arrays(a.load, np)
    model = build(meta, a.attention).to(dev)
    check_mapping(model, meta["slots"])
    nparams = sum(p.numel() for p in model.parameters())
    if nparams != meta["params"]:
        raise SystemExit(f"mesh_models.py: {nparams} parameters, surro has {meta['params']}")
    load_params(model, meta["slots"], torch.as_tensor(arr["params"], device=dev))
    g = Graph(arr, dev)
    x = torch.as_tensor(arr["x"], device=dev)
    target = torch.as_tensor(arr["target"], device=dev)
    V = g.nodes
    line = {"impl": "torch", "model": meta["model"], "case": a.case or meta.get("case", ""), "attention": a.attention, "nodes": V, "edges": meta["edges"],
            "nnz": meta["nnz"], "batch": meta["batch"], "width": meta["width"], "layers": meta["layers"],
            "params": nparams, "matmul": "tf32" if a.tf32 else "fp32", "device": torch.cuda.get_device_name(dev)
            if dev.type == "cuda" else "cpu", "torch": torch.__version__, "steps": a.steps, "warmup": a.warmup}
    if meta["model"] == "mesh_transformer":
        line["heads"] = meta["heads"]
        line["k_hop"] = meta.get("k_hop", 1)

    # Agreement with surro: one forward, the MSE, one backward, from surro's initial parameters (skipped
    # when surro's model did not fit and its dump holds the inputs only: "agree" is then null).
    line["agree"] = None
    if "y" in arr:
        try:
            agreement(a, model, meta, arr, g, x, target, line)
        except RuntimeError as e:
            failed(e, line)
    if not a.no_time and line.get("status") != "oom":
        model.zero_grad(set_to_none=True)
        time_case(a, model, g, x, target, line)
    if a.surro:
        add_ratios(a.surro, line)
    print(json.dumps(line), flush=True)
    return 1 if line["agree"] is False else 0


def agreement(a, model, meta, arr, g, x, target, line):
    dev = x.device
    model.zero_grad(set_to_none=True)
    y = model(x, g)
    loss = F.mse_loss(y, target)
    loss.backward()
    ys = torch.as_tensor(arr["y"], device=dev)
    line["y_rel_diff"] = ((y.detach() - ys).abs().max() / ys.abs().max()).item()
    line["loss_rel_diff"] = abs(loss.item() - meta["loss"]) / abs(meta["loss"])
    (line["grad_rel_diff"], line["grad_worst"], line["grad_rel_diff_total"],
     line["grad_zero_rel"]) = grad_diffs(model, meta["slots"], torch.as_tensor(arr["grads"], device=dev))
    line["tol_y"], line["tol_grad"] = a.tol_y, a.tol_grad
    line["agree"] = bool(line["y_rel_diff"] <= a.tol_y and line["loss_rel_diff"] <= a.tol_y
                         and line["grad_rel_diff"] <= a.tol_grad and line["grad_zero_rel"] <= a.tol_grad)


def time_case(a, model, g, x, target, line):
    dev = x.device
    V = g.nodes
    cuda = dev.type == "cuda"
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def infer():
        with torch.no_grad():
            model(x, g)

    def train():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x, g), target)
        loss.backward()
        opt.step()
        if not a.async_loss:
            loss.item()

    try:
        if cuda:
            torch.cuda.reset_peak_memory_stats(dev)
        line["infer_ms"] = timed(infer, a.warmup, a.steps, sync)
        if cuda:
            line["peak_infer_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
            torch.cuda.reset_peak_memory_stats(dev)
        line["train_ms"] = timed(train, a.warmup, a.steps, sync)
        if cuda:
            peak = torch.cuda.max_memory_allocated(dev)
            line["peak_train_mib"] = peak / 2**20
            line["peak_train_bytes_per_node"] = peak / V
            line["peak_reserved_mib"] = torch.cuda.max_memory_reserved(dev) / 2**20
        line["status"] = "ok"
    except RuntimeError as e:
        failed(e, line)


def failed(e, line):
    """Records a run-time failure in the line: "oom" for torch.cuda.OutOfMemoryError (a RuntimeError)
    and for cuBLAS / cuDNN allocation failures near the memory limit, "error" otherwise."""
    text = str(e)
    oom = isinstance(e, getattr(torch.cuda, "OutOfMemoryError", ())) or any(
        s in text for s in ("out of memory", "ALLOC_FAILED", "CUBLAS_STATUS_NOT_INITIALIZED"))
    line["status"] = "oom" if oom else "error"
    line["error"] = (text.strip().splitlines() or [type(e).__name__])[0][:300]


def add_ratios(path, line):
    """Checks that surro's line is the same case and adds the surro / peer ratios."""
    s = read_surro_line(path)
    for k in ("model", "nodes", "edges", "nnz", "params"):
        if s.get(k) != line[k]:
            raise SystemExit(f"mesh_models.py: {path}: {k} = {s.get(k)}, this case has {line[k]}")
    for k in ("train", "infer"):
        if f"{k}_ms" in line and s.get(f"{k}_ms"):
            line[f"surro_over_peer_{k}"] = s[f"{k}_ms"] / line[f"{k}_ms"]
    if line.get("peak_train_mib") and s.get("resident_mib"):
        line["surro_over_peer_mem"] = s["resident_mib"] / line["peak_train_mib"]
    line["surro_status"] = s.get("status")


def selftest(a):
    """Sparse attention = dense masked attention; the name maps cover each model's parameters."""
    torch.manual_seed(0)
    dev = torch.device(a.device)
    V, d, H = 9, 12, 3
    dense_mask = torch.rand(V, V, device=dev) < 0.4
    dense_mask.fill_diagonal_(False)
    dense_mask[4] = False  # a row with no entries outputs zeros
    row, col = dense_mask.nonzero(as_tuple=True)

    class G:
        pass

    g = G()
    g.nodes, g.row, g.col = V, row, col
    problems = []
    for layout in ("interleaved", "blocked"):
        att = MaskedMHA(d, H, layout).to(dev).double()
        x = torch.randn(V, d, device=dev, dtype=torch.float64, requires_grad=True)
        y = att(x, g)
        (gx,) = torch.autograd.grad((y * y).sum(), x)
        q, k, v = att.split(att.q(x)), att.split(att.k(x)), att.split(att.v(x))  # (V, Dh, H)
        s = torch.einsum("ich,jch->hij", q, k) * att.dh ** -0.5
        s = s.masked_fill(~dense_mask, -math.inf)
        p = torch.nan_to_num(torch.softmax(s, dim=-1), nan=0.0)  # empty rows: all -inf -> nan -> 0
        o = torch.einsum("hij,jch->ich", p, v)
        y_dense = att.proj(att.merge(o))
        (gx_dense,) = torch.autograd.grad((y_dense * y_dense).sum(), x)
        # The key bias's gradient is zero (ZERO_GRAD_SUFFIXES): rounding only, relative to the weight's.
        gk, gw = torch.autograd.grad(
            (att(x, g) ** 2).sum(), (att.k.bias, att.k.weight))
        if not gk.norm().item() < 1e-12 * gw.norm().item():
            problems.append(f"attention {layout}: key bias gradient {gk.norm().item()} is not zero")
        for what, a_, b_ in (("y", y, y_dense), ("dx", gx, gx_dense)):
            err = ((a_ - b_).abs().max() / b_.abs().max()).item()
            if not err < 1e-12:  # float64, same math: rounding only
                problems.append(f"attention {layout} {what}: {err}")
    for model, slots in ((MeshTransformer(2, 2, 8, 2, 2), None), (MeshGraphNet(2, 2, 2, 8, 2), None)):
        names = model.surro_names()
        slots = []
        for n, ps in names.items():
            shape = list(ps[0].shape)
            shape[0] = sum(p.shape[0] for p in ps)
            slots.append({"name": n, "shape": shape})
        check_mapping(model, slots)
        if sum(p.numel() for p in model.parameters()) != sum(math.prod(s["shape"]) for s in slots):
            problems.append(f"{type(model).__name__}: counts differ")
    # Parameter counts against the model headers' formulas.
    d, L = 128, 15
    mt = sum(p.numel() for p in MeshTransformer(2, 2, d, 4, L).parameters())
    if mt != 6 * d * d + 21 * d + 2 + L * (13 * d * d + 14 * d):
        problems.append(f"mesh transformer count {mt}")
    mgn = sum(p.numel() for p in MeshGraphNet(2, 2, 2, 128, 15).parameters())
    if mgn != 2332930:
        problems.append(f"meshgraphnet count {mgn}: expected 2,332,930 (meshgraphnet.hpp)")
    print(json.dumps({"selftest": "mesh_models", "ok": not problems, "problems": problems}))
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--load", help="a bench_mesh_models --dump directory")
    ap.add_argument("--case", default="", help="the case's name, copied into the JSON line")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--surro", help="file with surro's JSON line for this case")
    ap.add_argument("--attention", choices=("index", "pyg"), default="index")
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--async-loss", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--tol-y", type=float, default=1e-4)
    ap.add_argument("--tol-grad", type=float, default=1e-3)
    ap.add_argument("--no-time", action="store_true", help="the agreement check only")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest(a)
    if not a.load:
        ap.error("--load DIR or --selftest is required")
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
