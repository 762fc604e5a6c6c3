"""PyTorch peer for bench_ifactformer: surro's IFactFormer (operators/models/ifactformer.hpp, the
reference's IFM-HEAD version, /work/shared/reference/models.md section 2.2) written the way the
reference code structures it, float32, in 2D and 3D, parallel (IFactFormer-m) or chained
(IFactFormer-o, --variant chained).

  x (b, t, N..., C) as the reference's data -> (b, C, t, N) -> lift: Conv2d(C, C G, 1, groups=C), GELU,
  Conv2d(C G, D, (t, 1), no bias) -> u (b, N..., D)
  u += Linear(D, D)([sin, cos](2 pi p B)),  p the grid linspace(0, L_a, N_a), B (d, D/2) frozen
  n_layer times, one set of weights:  u = u + block(u) / n_layer
  block: ub = LayerNorm(u); v = to_v(ub); w = to_in(ub)
         per axis a: r_a = PoolingReducer_a(w): Linear (no bias), mean over the other axes,
                     LayerNorm, Linear(D, 2D), GeGLU, Linear(D, D)
                     q, k = RoPE(to_q(r_a)), RoPE(to_k(r_a)) per head; K_a = q k^T (no softmax)
         parallel: [K_a applied along axis a to v]_a concatenated per head (h, axis, c);
         chained: K_{d-1}(..K_0(v)); InstanceNorm{2,3}d over the channels, Linear, GELU, Linear
  head: Conv1d(D, D/2, 1, no bias), GELU, Conv1d(D/2, C, 1) -> (b, N..., C)

The lift's G (lift channels per field) is surro's lift_channels; the reference ties it to
dim / 2 / in_dim (16 for its 3-field, dim-96 config). GELU is exact (erf). The Fourier-feature
phases and the rotary angles are float32 as in the reference; --phases64 computes them in float64
(surro does) and rounds the features and the cos/sin tables to float32, to separate that rounding from
any other difference in the agreement check. TF32 is off for matmuls and cuDNN.

One case per run: a training step (zero_grad, forward, relative L2 averaged over the batch as the
reference's LpLoss, backward, torch.optim.AdamW(lr 5e-4, weight_decay 0.01)) or one inference
forward under no_grad. Prints one JSON line, the schema bench_ifactformer prints. --compile wraps the
forward (+ loss) in torch.compile; the optimizer step stays eager. Memory (CUDA) as bench/peers/fno.py.

  python3 bench/peers/ifactformer.py --case NAME --grid 32,33,16 --batch 5 --in 3 --out 3
      --mode train|infer --device cuda|cpu [--dim 96] [--heads 5] [--dim-head 96] [--km 3]
      [--layers 10] [--lift 16] [--fourier-scale 8] [--lengths 12.566,2,4.189]
      [--variant parallel|chained] [--warmup 5] [--reps 10] [--iters 5] [--threads 1]
      [--compile] [--compile-timeout 600] [--phases64] [--load DIR]

--load DIR (written by bench_ifactformer --dump DIR): takes surro's parameters and input, runs one
forward and reports rel_diff_max (max|dy| / max|y|) and rel_diff_l2; in train mode also the gradient
of the loss against surro's target (grad_rel_diff = max over trained tensors of ||dg|| / ||g||, and
grad_worst, that tensor's name). Timing then runs on those weights and inputs.
"""
import argparse
import json
import math
import signal
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The reference's count (models.md 2.2, IFM-HEAD): Re_tau 180, 3 -> 3 fields, T_in 1, dim 96,
# 5 heads of 96, kernel multiplier 3, lift 16, 3D parallel (the frozen B counted).
RE180 = {"dims": 3, "in_ch": 3, "out_ch": 3, "dim": 96, "heads": 5, "dim_head": 96, "km": 3, "lift": 16,
         "variant": "parallel"}
RE180_COUNT = 1163331
AXES = "xyz"


def rope_freqs(coords, dk, phases64):
    """The rotary angles (n, Dk) of one axis: coord * 64 * 10000^(-2k/Dk), duplicated over the halves."""
    dtype = torch.float64 if phases64 else torch.float32
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dk, 2, device=coords.device, dtype=dtype) / dk))
    t = coords.to(dtype) * 64.0
    f = torch.einsum("i,j->ij", t, inv_freq)
    return torch.cat((f, f), dim=-1)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):  # x (b, h, n, Dk), cos/sin (n, Dk)
    return x * cos + rotate_half(x) * sin


class GeGLU(nn.Module):
    def forward(self, x):
        a, g = x.chunk(2, dim=-1)
        return F.gelu(a) * g


class PoolingReducer(nn.Module):
    """Linear (no bias), mean over every spatial axis but the first, then LayerNorm and the GeGLU MLP."""

    def __init__(self, dim):
        super().__init__()
        self.to_in = nn.Linear(dim, dim, bias=False)
        self.norm = nn.LayerNorm(dim)
        self.mlp1 = nn.Linear(dim, 2 * dim)
        self.act = GeGLU()
        self.mlp2 = nn.Linear(dim, dim)

    def forward(self, x):  # (b, n_axis, other axes..., D) -> (b, n_axis, D)
        x = self.to_in(x)
        x = x.mean(dim=tuple(range(2, x.dim() - 1)))
        return self.mlp2(self.act(self.mlp1(self.norm(x))))


class LowRankKernel(nn.Module):
    """K = RoPE(q) RoPE(k)^T * scale per head, (b, h, n, n); no softmax, no diagonal term."""

    def __init__(self, dim, kernel_dim, heads, scale):
        super().__init__()
        self.heads, self.scale = heads, scale
        self.to_q = nn.Linear(dim, kernel_dim * heads, bias=False)
        self.to_k = nn.Linear(dim, kernel_dim * heads, bias=False)

    def forward(self, r, cos, sin):  # r (b, n, D)
        b, n, _ = r.shape
        q = self.to_q(r).reshape(b, n, self.heads, -1).transpose(1, 2)
        k = self.to_k(r).reshape(b, n, self.heads, -1).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        return torch.einsum("bhid,bhjd->bhij", q, k) * self.scale


class FABlock(nn.Module):
    def __init__(self, d, dim, heads, dim_head, km, variant):
        super().__init__()
        self.d, self.heads, self.variant = d, heads, variant
        self.norm = nn.LayerNorm(dim)
        self.to_v = nn.Linear(dim, heads * dim_head, bias=False)
        self.to_in = nn.Linear(dim, dim, bias=False)
        self.reducers = nn.ModuleList([PoolingReducer(dim) for _ in range(d)])
        scale = 1.0 / math.sqrt(dim_head * km) if km > 4 else 1.0
        self.kernels = nn.ModuleList([LowRankKernel(dim, dim_head * km, heads, scale) for _ in range(d)])
        g = d if variant == "parallel" else 1
        inorm = nn.InstanceNorm3d if d == 3 else nn.InstanceNorm2d
        self.inorm = inorm(g * heads * dim_head)
        self.to_out1 = nn.Linear(g * heads * dim_head, dim, bias=False)
        self.to_out2 = nn.Linear(dim, dim, bias=False)
        # einsum strings applying K_a along spatial axis a of (b, h, N..., c)
        sp = "ijk"[:d]
        self.apply_eq = []
        for a in range(d):
            src = sp.replace(sp[a], "z")
            self.apply_eq.append("bh%sz,bh%sc->bh%sc" % (sp[a], src, sp))

    def forward(self, u, rope):  # u (b, N..., D); rope: per axis (cos, sin)
        d = self.d
        ub = self.norm(u)
        v = self.to_v(ub)
        w = self.to_in(ub)
        K = []
        for a in range(d):
            wa = torch.movedim(w, 1 + a, 1)  # the reference's Rearrange: axis a first
            K.append(self.kernels[a](self.reducers[a](wa), *rope[a]))
        b, c = v.shape[0], v.shape[-1] // self.heads
        vh = v.reshape(*v.shape[:-1], self.heads, c).movedim(-2, 1)  # (b, h, N..., c)
        if self.variant == "parallel":
            U = torch.cat([torch.einsum(self.apply_eq[a], K[a], vh) for a in range(d)], dim=-1)
        else:
            U = vh
            for a in range(d):
                U = torch.einsum(self.apply_eq[a], K[a], U)
        # (b, h, N..., g c) -> (b, (h g c), N...) channel-first for InstanceNorm, then channel-last
        U = U.movedim(-1, 2).flatten(1, 2)
        U = self.inorm(U).movedim(1, -1)
        return self.to_out2(F.gelu(self.to_out1(U)))


class IFactFormer(nn.Module):
    def __init__(self, grid, c_in, c_out, dim, heads, dim_head, km, n_layer, lift, fourier_scale, lengths,
                 variant, phases64=False):
        super().__init__()
        d = len(grid)
        assert c_in % c_out == 0
        self.d, self.grid, self.C, self.T, self.n_layer = d, tuple(grid), c_out, c_in // c_out, n_layer
        self.phases64 = phases64
        C, T = self.C, self.T
        self.lift_field = nn.Conv2d(C, C * lift, 1, groups=C)
        self.lift_linear = nn.Conv2d(C * lift, dim, (T, 1), bias=False)
        self.pos_B = nn.Parameter(torch.randn(d, dim // 2) * fourier_scale, requires_grad=False)
        self.pos_linear = nn.Linear(dim, dim)
        self.block = FABlock(d, dim, heads, dim_head, km, variant)
        self.head1 = nn.Conv1d(dim, dim // 2, 1, bias=False)
        self.head2 = nn.Conv1d(dim // 2, C, 1)
        axes = [torch.linspace(0, lengths[a], n, dtype=torch.float64) for a, n in enumerate(grid)]
        for a in range(d):
            self.register_buffer("axis%d" % a, axes[a].float() if not phases64 else axes[a])
        pos = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, d)
        self.register_buffer("pos", pos if phases64 else pos.float())  # (N, d)
        self.kernel_dim = dim_head * km

    def fourier_features(self):
        B = self.pos_B.double() if self.phases64 else self.pos_B
        x = 2 * math.pi * (self.pos @ B)
        return torch.cat([torch.sin(x), torch.cos(x)], dim=-1).to(self.pos_linear.weight.dtype)

    def forward(self, x):  # (b, t, N..., C) -> (b, N..., C)
        b = x.shape[0]
        u = x.reshape(b, self.T, -1, self.C).permute(0, 3, 1, 2)  # (b, C, t, N)
        u = self.lift_linear(F.gelu(self.lift_field(u)))  # (b, D, 1, N)
        u = u.reshape(b, -1, *self.grid).movedim(1, -1)  # (b, N..., D)
        u = u + self.pos_linear(self.fourier_features()).reshape(*self.grid, -1)
        rope = []
        for a in range(self.d):
            f = rope_freqs(getattr(self, "axis%d" % a), self.kernel_dim, self.phases64)
            dtype = self.pos_linear.weight.dtype
            rope.append((f.cos().to(dtype), f.sin().to(dtype)))
        for _ in range(self.n_layer):
            u = u + self.block(u, rope) / self.n_layer
        y = self.head2(F.gelu(self.head1(u.reshape(b, -1, u.shape[-1]).transpose(1, 2))))  # (b, C, N)
        return y.transpose(1, 2).reshape(b, *self.grid, self.C)


def surro_name(tname):
    """The surro parameter name of a torch parameter name."""
    fixed = {"lift_field": "lift.field", "lift_linear": "lift.linear", "pos_B": "pos.fourier.B",
             "pos_linear": "pos.linear", "head1": "head.linear1", "head2": "head.linear2",
             "block.norm": "block.norm", "block.to_v": "block.to_v", "block.to_in": "block.to_in",
             "block.to_out1": "block.to_out1", "block.to_out2": "block.to_out2"}
    parts = tname.split(".")
    if parts[0] == "block" and parts[1] in ("reducers", "kernels"):
        kind = "reducer" if parts[1] == "reducers" else "kernel"
        return "ifactformer.block.%s_%s.%s" % (kind, AXES[int(parts[2])], ".".join(parts[3:]))
    for prefix, target in fixed.items():
        if tname.startswith(prefix + ".") or tname == prefix:
            rest = tname[len(prefix):]
            return "ifactformer." + target + (rest if rest else "")
    raise KeyError(tname)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())  # the frozen B counted, as the reference's count


def rel_l2(pred, target):
    """The reference's LpLoss.rel, averaged over the batch: mean_b ||pred_b - target_b|| / ||target_b||."""
    b = pred.shape[0]
    diff = torch.linalg.vector_norm(pred.reshape(b, -1) - target.reshape(b, -1), dim=1)
    return (diff / torch.linalg.vector_norm(target.reshape(b, -1), dim=1)).mean()


def read_floats(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


def by_surro_name(model, meta, flat):
    """surro's flat View (table.json slots) as {torch name: tensor in the torch parameter's shape}."""
    slots = {s["name"]: s for s in meta["slots"]}
    out = {}
    for tname, p in model.named_parameters():
        s = slots.pop(surro_name(tname))
        if s["count"] != p.numel():
            raise SystemExit("ifactformer.py: %s has %d values in surro, %d here" % (tname, s["count"], p.numel()))
        out[tname] = flat[s["offset"]:s["offset"] + s["count"]].reshape(p.shape)
    if slots:
        raise SystemExit("ifactformer.py: surro parameters without a torch peer: %s" % sorted(slots))
    return out


def load_surro(model, meta, flat):
    with torch.no_grad():
        for tname, t in by_surro_name(model, meta, flat).items():
            dict(model.named_parameters())[tname].copy_(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True)
    ap.add_argument("--mode", choices=("train", "infer"), required=True)
    ap.add_argument("--grid", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--in", dest="in_ch", type=int, default=1)
    ap.add_argument("--out", dest="out_ch", type=int, default=1)
    ap.add_argument("--dim", type=int, default=96)
    ap.add_argument("--heads", type=int, default=5)
    ap.add_argument("--dim-head", type=int, default=96)
    ap.add_argument("--km", type=int, default=3)
    ap.add_argument("--layers", type=int, default=10, help="n_layer, the weight-shared iterations")
    ap.add_argument("--lift", type=int, default=16)
    ap.add_argument("--fourier-scale", type=float, default=8.0)
    ap.add_argument("--lengths", default="")
    ap.add_argument("--variant", choices=("parallel", "chained"), default="parallel")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--matmul", choices=("fp32", "tf32"), default="fp32",
                    help="tf32: float32 matmuls may use TF32 tensor cores (as surro's matmul_precision)")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--compile-mode", default="default")
    ap.add_argument("--compile-timeout", type=float, default=600.0)
    ap.add_argument("--phases64", action="store_true", help="Fourier phases and rotary angles in float64")
    ap.add_argument("--load", default="", help="folder written by bench_ifactformer --dump")
    a = ap.parse_args()

    grid = [int(v) for v in a.grid.split(",")]
    lengths = [float(v) for v in a.lengths.split(",")] if a.lengths else [1.0] * len(grid)
    line = {"impl": "torch-compile" if a.compile else "torch-eager", "model": "ifactformer", "case": a.case,
            "mode": a.mode, "dims": len(grid), "variant": a.variant, "dim": a.dim, "heads": a.heads,
            "dim_head": a.dim_head, "km": a.km, "layers": a.layers, "lift": a.lift,
            "fourier_scale": a.fourier_scale, "lengths": lengths, "grid": grid, "batch": a.batch,
            "in_ch": a.in_ch, "out_ch": a.out_ch}
    if a.phases64:
        line["phases64"] = True

    def finish(status, **extra):
        line.update(extra)
        line["status"] = status
        print(json.dumps(line), flush=True)
        return 0 if status in ("ok", "skipped", "timeout") else 1

    try:
        return run(a, line, finish, grid, lengths)
    except Exception as e:  # out of memory, a compiler failure: one line that says so
        return finish("error", torch=torch.__version__, reason="%s: %s" % (type(e).__name__, str(e)[:300]))


def run(a, line, finish, grid, lengths):
    d = len(grid)
    if d not in (2, 3) or len(lengths) != d or a.in_ch % a.out_ch or a.dim % 2 or (a.dim_head * a.km) % 2:
        return finish("error", reason="unsupported configuration")
    if a.compile and not hasattr(torch, "compile"):
        return finish("skipped", torch=torch.__version__, reason="torch %s has no torch.compile" % torch.__version__)

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    torch.backends.cuda.matmul.allow_tf32 = a.matmul == "tf32"
    torch.backends.cudnn.allow_tf32 = False  # no convolutions: FFTs and matmuls only
    line["matmul"] = a.matmul
    if cuda:
        free0, _ = torch.cuda.mem_get_info(dev)
    else:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    model = IFactFormer(grid, a.in_ch, a.out_ch, a.dim, a.heads, a.dim_head, a.km, a.layers, a.lift,
                        a.fourier_scale, lengths, a.variant, a.phases64)
    params = parameter_count(model)
    line["params"] = params
    if all(line[k] == v for k, v in RE180.items()) and a.in_ch // a.out_ch == 1 and params != RE180_COUNT:
        return finish("error", reason="parameter count %d, the reference's is %d" % (params, RE180_COUNT))

    C, T = a.out_ch, a.in_ch // a.out_ch
    meta = None
    if a.load:
        with open(a.load + "/table.json") as f:
            meta = json.load(f)
        for key in ("variant", "dim", "heads", "dim_head", "km", "layers", "lift", "fourier_scale", "grid",
                    "batch", "in_ch", "out_ch", "mode"):
            if meta[key] != line[key]:
                return finish("error", reason="--load %s: %s is %r there, %r here" % (a.load, key, meta[key], line[key]))
        if any(abs(x - y) > 1e-12 * max(1.0, abs(x)) for x, y in zip(meta["lengths"], lengths)):
            return finish("error", reason="--load: lengths %r there, %r here" % (meta["lengths"], lengths))
        if meta["params"] != params:
            return finish("error", reason="parameter count %d, surro's is %d" % (params, meta["params"]))
        load_surro(model, meta, read_floats(a.load + "/params.bin"))
        read = lambda name: read_floats(a.load + "/" + name)
        # surro's x (B, T C, N...) frame-major -> the reference's (b, t, N..., C)
        x = read("input.bin").reshape(a.batch, T, C, *grid).movedim(2, -1).contiguous()
        surro_y = read("output.bin").reshape(a.batch, C, *grid).double()
        target = read("target.bin").reshape(a.batch, C, *grid).movedim(1, -1).contiguous() \
            if a.mode == "train" else None
    else:
        gen = torch.Generator().manual_seed(a.seed + 1)
        x = 2 * torch.rand(a.batch, T, *grid, C, generator=gen) - 1
        target = 2 * torch.rand(a.batch, *grid, C, generator=gen) - 1 if a.mode == "train" else None
    x = x.to(dev)
    target = target.to(dev) if target is not None else None
    model = model.to(dev)

    forward = model
    loss_of = lambda inp, tgt: rel_l2(model(inp), tgt)
    if a.compile:
        forward = torch.compile(model, mode=a.compile_mode)
        loss_of = torch.compile(loss_of, mode=a.compile_mode)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trained, lr=5e-4, weight_decay=0.01) if a.mode == "train" else None

    def call():
        if opt is None:
            with torch.no_grad():
                forward(x)
        else:
            opt.zero_grad(set_to_none=True)
            loss_of(x, target).backward()
            opt.step()

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    fired = []

    def on_alarm(signum, frame):
        fired.append(True)
        raise TimeoutError()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(math.ceil(a.compile_timeout))) if a.compile else 0)
    first = time.perf_counter()
    try:
        if meta is not None:
            with torch.no_grad():
                diff = forward(x).cpu().movedim(-1, 1).double() - surro_y
            line["rel_diff_max"] = (diff.abs().max() / surro_y.abs().max()).item()
            line["rel_diff_l2"] = (diff.norm() / surro_y.norm()).item()
            if a.mode == "train":
                loss_of(x, target).backward()
                theirs = by_surro_name(model, meta, read_floats(a.load + "/grads.bin"))
                worst, worst_name = 0.0, None
                for name, p in model.named_parameters():
                    if not p.requires_grad:
                        continue
                    g, s = p.grad.detach().cpu().double(), theirs[name].double()
                    r = ((g - s).norm() / s.norm()).item()
                    if r >= worst:
                        worst, worst_name = r, surro_name(name)
                line["grad_rel_diff"] = worst
                line["grad_worst"] = worst_name
                model.zero_grad(set_to_none=True)
        for _ in range(max(1, a.warmup)):
            call()
            if a.compile and line.get("compile_s") is None:
                sync()
                line["compile_s"] = round(time.perf_counter() - first, 2)
        sync()
    except Exception:
        if not fired:
            raise
        return finish("timeout", torch=torch.__version__, reason="compilation and warm-up past %g s" % a.compile_timeout)
    finally:
        signal.alarm(0)

    times = []
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
        t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(a.reps):
        if cuda:
            t0.record()
            for _ in range(a.iters):
                call()
            t1.record()
            t1.synchronize()
            times.append(t0.elapsed_time(t1) / a.iters)
        else:
            s = time.perf_counter()
            for _ in range(a.iters):
                call()
            times.append((time.perf_counter() - s) * 1e3 / a.iters)

    line.update({"space": dev.type, "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
                 "threads": 1 if cuda else torch.get_num_threads(), "torch": torch.__version__,
                 "warmup": a.warmup, "reps": a.reps, "iters": a.iters, "ms": statistics.median(times),
                 "ms_min": min(times), "ms_max": max(times)})
    if cuda:
        free1, _ = torch.cuda.mem_get_info(dev)
        mib = float(1 << 20)
        line.update({"resident_mib": (free0 - free1) / mib,
                     "peak_alloc_mib": torch.cuda.max_memory_allocated(dev) / mib,
                     "peak_reserved_mib": torch.cuda.max_memory_reserved(dev) / mib})
    else:
        line.update({"resident_mib": None, "peak_alloc_mib": None, "peak_reserved_mib": None})
    return finish("ok")


if __name__ == "__main__":
    sys.exit(main())
