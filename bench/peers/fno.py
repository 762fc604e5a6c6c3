"""PyTorch peer for bench_fno: surro's FNO (operators/models/fno.hpp) written the way the FNO
reference scripts structure it, float32, in 1D, 2D and 3D.

  x (B, N..., Cin) channel-last, as the reference's data -> append d grid channels linspace(0, 1, N)
  -> lift nn.Linear(Cin + d, W) -> (B, W, N...) -> [F.pad on the right of each axis]
  -> L Fourier layers: z = SpectralConv(h) + Conv{d}d(W, W, 1)(h); h = GELU(z), none after the last
  -> [crop] -> (B, N..., W) -> nn.Linear(W, P), GELU -> nn.Linear(P, Cout)

SpectralConv keeps 2^(d-1) corner blocks of the rFFT (kx >= 0 / kx < 0 [, ky >= 0 / ky < 0], the
last axis's first m columns), one complex weight (Cin, Cout, m...) per block, contracted with
einsum, inverse irfftn. GELU is exact (erf). TF32 is off for matmuls and cuDNN: surro's float GEMMs
are full fp32.

One case per run: a training step (zero_grad, forward, relative L2 summed over the batch as FNO's
LpLoss, backward, torch.optim.Adam(lr 1e-3, weight_decay 1e-4)) or one inference forward under
no_grad. Prints one JSON line, the schema bench_fno prints. --compile wraps the forward (+ loss)
in torch.compile; the optimizer step stays eager. Memory (CUDA): resident_mib is mem_get_info's
used bytes at the end minus those at start-up (bench_fno's measure); peak_alloc_mib and
peak_reserved_mib are torch.cuda.max_memory_allocated / max_memory_reserved over the timed calls.

  python3 bench/peers/fno.py --case NAME --modes 8,8 --width 20 --grid 64,64 --batch 20 --in 10
      --out 1 --mode train|infer --device cuda|cpu [--pad 0,0,6] [--layers 4] [--projection 128]
      [--warmup 5] [--reps 10] [--iters 5] [--threads 1] [--compile] [--compile-timeout 600]
      [--load DIR]

--load DIR (written by bench_fno --dump DIR): takes surro's parameters and input, runs one forward
and reports the difference from surro's output (rel_diff_max = max|dy| / max|y|, rel_diff_l2 =
||dy|| / ||y||); in train mode also the gradient of the loss against surro's target, per tensor
(grad_rel_diff = max over tensors of ||dg|| / ||g||). Timing then runs on those weights and inputs.
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

# The FNO paper's counts (reference scripts, which also build 2 * width unused BatchNorm
# parameters per Fourier layer): NS FNO-2D and FNO-3D, modes 8, width 20, 10 input frames.
PAPER_COUNTS = {(2, (8, 8), 20, 10, 1): 414517, (3, (8, 8, 8), 20, 10, 1): 6558537}


class SpectralConv(nn.Module):
    def __init__(self, c_in, c_out, modes):
        super().__init__()
        self.c_out, self.modes = c_out, tuple(modes)
        scale = 1.0 / (c_in * c_out)
        blocks = 1 << (len(modes) - 1)
        self.weights = nn.ParameterList(
            [nn.Parameter(scale * torch.rand(c_in, c_out, *modes, dtype=torch.cfloat)) for _ in range(blocks)])
        # Index of each block into the half spectrum (B, C, N0, ..., N_last/2 + 1).
        self.blocks = []
        for blk in range(blocks):
            idx = [slice(None), slice(None)]
            for t, m in enumerate(self.modes):
                negative = t < len(self.modes) - 1 and (blk >> t) & 1
                idx.append(slice(-m, None) if negative else slice(0, m))
            self.blocks.append(tuple(idx))

    def forward(self, x):  # (B, Cin, N...) -> (B, Cout, N...)
        d = len(self.modes)
        axes = tuple(range(-d, 0))
        xf = torch.fft.rfftn(x, dim=axes)
        out = torch.zeros(x.shape[0], self.c_out, *xf.shape[2:], dtype=xf.dtype, device=x.device)
        for idx, w in zip(self.blocks, self.weights):
            out[idx] = torch.einsum("bi...,io...->bo...", xf[idx], w)
        return torch.fft.irfftn(out, s=x.shape[-d:], dim=axes)


class FNO(nn.Module):
    def __init__(self, grid, c_in, c_out, width, modes, layers=4, projection=128, pad=None):
        super().__init__()
        d = len(modes)
        self.d, self.grid_shape, self.layers = d, tuple(grid), layers
        self.pad = list(pad) if pad else [0] * d
        self.fc0 = nn.Linear(c_in + d, width)
        self.spectral = nn.ModuleList([SpectralConv(width, width, modes) for _ in range(layers)])
        conv = getattr(nn, "Conv%dd" % d)
        self.w = nn.ModuleList([conv(width, width, 1) for _ in range(layers)])
        self.fc1 = nn.Linear(width, projection)
        self.fc2 = nn.Linear(projection, c_out)
        axes = [torch.linspace(0, 1, n) for n in grid]
        coords = torch.meshgrid(*axes, indexing="ij") if d > 1 else (axes[0],)
        self.register_buffer("coords", torch.stack(coords, dim=-1)[None])  # (1, N..., d)

    def forward(self, x):  # (B, N..., Cin) -> (B, N..., Cout)
        d = self.d
        x = torch.cat((x, self.coords.expand(x.shape[0], *self.coords.shape[1:])), dim=-1)
        h = self.fc0(x).permute(0, d + 1, *range(1, d + 1))  # (B, W, N...)
        if any(self.pad):
            flat = []
            for p in reversed(self.pad):  # F.pad lists the last axis first
                flat += [0, p]
            h = F.pad(h, flat)
        for l in range(self.layers):
            z = self.spectral[l](h) + self.w[l](h)
            h = F.gelu(z) if l + 1 < self.layers else z
        if any(self.pad):
            h = h[(slice(None), slice(None)) + tuple(slice(0, n) for n in self.grid_shape)]
        h = h.permute(0, *range(2, d + 2), 1)  # (B, N..., W)
        return self.fc2(F.gelu(self.fc1(h)))


def parameter_count(model):
    """As the reference's count_params: complex tensors count 2 per element; buffers excluded."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


def rel_l2(pred, target):
    """FNO's LpLoss.rel with size_average=False: sum over the batch of ||pred_b - target_b|| / ||target_b||."""
    b = pred.shape[0]
    diff = torch.linalg.vector_norm(pred.reshape(b, -1) - target.reshape(b, -1), dim=1)
    return (diff / torch.linalg.vector_norm(target.reshape(b, -1), dim=1)).sum()


def to_channel_last(a):  # (B, C, N...) -> (B, N..., C)
    return a.permute(0, *range(2, a.dim()), 1).contiguous()


def to_channel_first(a):  # (B, N..., C) -> (B, C, N...)
    return a.permute(0, a.dim() - 1, *range(1, a.dim() - 1)).contiguous()


def read_floats(path):
    """A raw float32 file (bench_fno --dump) as a 1D tensor; native byte order, as written."""
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


def load_surro(model, meta, flat):
    """Copies surro's flat parameter View (table.json slots) into the torch modules."""
    d = model.d
    with torch.no_grad():
        for s in meta["slots"]:
            name, shape = s["name"], s["shape"]
            raw = flat[s["offset"]:s["offset"] + s["count"]]
            parts = name.split(".")
            if parts[1] == "lift":
                target = {"weight": model.fc0.weight, "bias": model.fc0.bias}[parts[2]]
            elif parts[1] in ("proj1", "proj2"):
                mod = model.fc1 if parts[1] == "proj1" else model.fc2
                target = {"weight": mod.weight, "bias": mod.bias}[parts[2]]
            elif parts[1].startswith("layer") and parts[2] == "spectral":
                l = int(parts[1][5:])
                # (blocks, Mx[, My[, Mz]], Cin, Cout) complex -> per block (Cin, Cout, Mx[, My[, Mz]]).
                w = torch.view_as_complex(raw.reshape(*shape, 2))
                for blk, param in enumerate(model.spectral[l].weights):
                    param.copy_(torch.movedim(w[blk], (d, d + 1), (0, 1)))
                continue
            elif parts[1].startswith("layer") and parts[2] == "linear":
                conv = model.w[int(parts[1][5:])]
                target = {"weight": conv.weight, "bias": conv.bias}[parts[3]]
            else:
                raise SystemExit("fno.py: unknown parameter %s in table.json" % name)
            target.copy_(raw.reshape(target.shape))


def surro_grads(model, meta, flat):
    """surro's flat gradient, per torch parameter, in torch's shapes (the map load_surro uses)."""
    shadow = FNO(meta["grid"], meta["in_ch"], meta["out_ch"], meta["width"], meta["modes"], meta["layers"],
                 meta["projection"], meta["pad"])
    load_surro(shadow, meta, flat)
    return dict(shadow.named_parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", required=True)
    ap.add_argument("--mode", choices=("train", "infer"), required=True)
    ap.add_argument("--modes", required=True)
    ap.add_argument("--grid", required=True)
    ap.add_argument("--width", type=int, default=20)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--in", dest="in_ch", type=int, default=1)
    ap.add_argument("--out", dest="out_ch", type=int, default=1)
    ap.add_argument("--pad", default="")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--projection", type=int, default=128)
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
    ap.add_argument("--compile-timeout", type=float, default=600.0,
                    help="seconds allowed for compilation and warm-up; past it the case reports status timeout")
    ap.add_argument("--load", default="", help="folder written by bench_fno --dump")
    a = ap.parse_args()

    ints = lambda s: [int(v) for v in s.split(",")] if s else []
    modes, grid, pad = ints(a.modes), ints(a.grid), ints(a.pad)
    d = len(modes)
    line = {"impl": "torch-compile" if a.compile else "torch-eager", "case": a.case, "mode": a.mode, "dims": d,
            "modes": modes, "width": a.width, "layers": a.layers, "projection": a.projection, "pad": pad,
            "grid": grid, "batch": a.batch, "in_ch": a.in_ch, "out_ch": a.out_ch}

    def finish(status, **extra):
        line.update(extra)
        line["status"] = status
        print(json.dumps(line), flush=True)
        return 0 if status in ("ok", "skipped", "timeout") else 1

    try:
        return run(a, line, finish, modes, grid, pad)
    except Exception as e:  # out of memory, a compiler failure: one line that says so
        return finish("error", torch=torch.__version__, reason="%s: %s" % (type(e).__name__, str(e)[:300]))


def run(a, line, finish, modes, grid, pad):
    d = len(modes)
    padded = [n + (pad[t] if pad else 0) for t, n in enumerate(grid)]
    for t, (m, n) in enumerate(zip(modes, padded)):  # surro's limits (operators/layers/spectral_conv.hpp)
        if len(grid) != d or m > (n // 2 + 1 if t == d - 1 else n // 2):
            return finish("error", reason="modes %s do not fit the grid %s" % (modes, padded))
    if a.compile and not hasattr(torch, "compile"):
        return finish("skipped", torch=torch.__version__, reason="torch %s has no torch.compile" % torch.__version__)

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    torch.backends.cuda.matmul.allow_tf32 = a.matmul == "tf32"
    torch.backends.cudnn.allow_tf32 = False  # no convolutions: FFTs and matmuls only
    line["matmul"] = a.matmul
    if cuda:
        free0, _ = torch.cuda.mem_get_info(dev)  # creates the context: the baseline, as bench_fno's
    else:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    model = FNO(grid, a.in_ch, a.out_ch, a.width, modes, a.layers, a.projection, pad)
    params = parameter_count(model)
    line["params"] = params
    line["params_paper"] = params + (2 * a.width * a.layers if d >= 2 else 0)
    paper = PAPER_COUNTS.get((d, tuple(modes), a.width, a.in_ch, a.out_ch))
    if paper is not None and a.layers == 4 and a.projection == 128 and line["params_paper"] != paper:
        return finish("error", reason="parameter count %d, the paper's is %d" % (line["params_paper"], paper))

    meta = None
    if a.load:
        with open(a.load + "/table.json") as f:
            meta = json.load(f)
        for key in ("modes", "width", "layers", "projection", "pad", "grid", "batch", "in_ch", "out_ch", "mode"):
            if meta[key] != line[key]:
                return finish("error", reason="--load %s: %s is %r there, %r here" % (a.load, key, meta[key], line[key]))
        if meta["params"] != params:
            return finish("error", reason="parameter count %d, surro's is %d" % (params, meta["params"]))
        flat = read_floats(a.load + "/params.bin")
        load_surro(model, meta, flat)
        read = lambda name: read_floats(a.load + "/" + name)
        x = to_channel_last(read("input.bin").reshape(a.batch, a.in_ch, *grid)).to(dev)
        surro_y = read("output.bin").reshape(a.batch, a.out_ch, *grid).double()  # stays on the host
        target = to_channel_last(read("target.bin").reshape(a.batch, a.out_ch, *grid)) if a.mode == "train" else None
    else:
        gen = torch.Generator().manual_seed(a.seed + 1)
        x = 2 * torch.rand(a.batch, *grid, a.in_ch, generator=gen) - 1
        target = 2 * torch.rand(a.batch, *grid, a.out_ch, generator=gen) - 1 if a.mode == "train" else None
    x = x.to(dev)
    target = target.to(dev) if target is not None else None
    model = model.to(dev)

    forward = model
    loss_of = lambda inp, tgt: rel_l2(model(inp), tgt)
    if a.compile:
        forward = torch.compile(model, mode=a.compile_mode)
        loss_of = torch.compile(loss_of, mode=a.compile_mode)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4) if a.mode == "train" else None

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

    # The compiler may wrap the TimeoutError in its own exception: any failure after the alarm is
    # the timeout. compile_s: from the first compiled call (the agreement check when loading) to the
    # end of the first warm-up call.
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(math.ceil(a.compile_timeout))) if a.compile else 0)
    first = time.perf_counter()
    try:
        if meta is not None:
            # Agreement first, from the loaded weights, before any update.
            with torch.no_grad():
                diff = to_channel_first(forward(x).cpu()).double() - surro_y
            line["rel_diff_max"] = (diff.abs().max() / surro_y.abs().max()).item()
            line["rel_diff_l2"] = (diff.norm() / surro_y.norm()).item()
            if a.mode == "train":
                loss_of(x, target).backward()
                theirs = surro_grads(model, meta, read_floats(a.load + "/grads.bin"))
                worst = 0.0
                for name, p in model.named_parameters():
                    g, s = p.grad.detach().cpu().to(torch.complex128 if p.is_complex() else torch.float64), theirs[name]
                    s = s.detach().to(g.dtype)
                    worst = max(worst, ((g - s).abs().norm() / s.abs().norm()).item())
                line["grad_rel_diff"] = worst
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
        # The peak over the timed calls: tensors alive now (parameters, moments, inputs) count, the
        # agreement check's and the compiler's transients do not, as surro's post-warm-up figure.
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
