"""PyTorch peer for bench_ns2d: the same scheme (pseudo-spectral vorticity form, 2/3 dealiasing,
Crank-Nicolson on viscosity, explicit Euler advection and forcing; or IF-RK4), float64, batched.

Times steps with CUDA events (or a host clock on CPU) after warm-up; prints the same key=value line
as bench_ns2d. Usage: python3 ns2d_peer.py GRID BATCH SCHEME DEVICE [STEPS] [--compile] [--threads N]
(--threads: torch.set_num_threads on the CPU; default torch's own choice)
"""
import math
import sys
import time

import torch


def make_operators(n, device):
    k = torch.fft.fftfreq(n, d=1.0 / n, device=device, dtype=torch.float64)  # 0..n/2-1, -n/2..-1
    kx = k[:, None].expand(n, n // 2 + 1)
    ky = torch.arange(n // 2 + 1, device=device, dtype=torch.float64)[None, :].expand(n, n // 2 + 1)
    lap = 4 * math.pi**2 * (kx**2 + ky**2)
    lap_psi = lap.clone()
    lap_psi[0, 0] = 1.0
    kmax = 2.0 / 3.0 * (n // 2)
    dealias = ((kx.abs() <= kmax) & (ky <= kmax)).to(torch.float64)
    return kx, ky, lap, lap_psi, dealias


def main():
    n, batch, scheme, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    steps = int(sys.argv[5]) if len(sys.argv) > 5 and not sys.argv[5].startswith("--") else 100
    compile_it = "--compile" in sys.argv
    if "--threads" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    nu, dt = 1e-3, 1e-4
    kx, ky, lap, lap_psi, dealias = make_operators(n, device)
    x = torch.arange(n, device=device, dtype=torch.float64) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    f_hat = torch.fft.rfft2(0.1 * (torch.sin(2 * math.pi * (X + Y)) + torch.cos(2 * math.pi * (X + Y))))
    gen = torch.Generator(device=device).manual_seed(7)
    w_hat = torch.fft.rfft2(torch.randn(batch, n, n, device=device, dtype=torch.float64, generator=gen))
    w_hat[:, 0, 0] = 0
    ikx, iky = 2j * math.pi * kx, 2j * math.pi * ky

    def rhs(w_h):
        psi = w_h / lap_psi
        fields = torch.fft.irfft2(torch.stack((iky * psi, -ikx * psi, ikx * w_h, iky * w_h)), s=(n, n))
        adv = fields[0] * fields[2] + fields[1] * fields[3]
        return f_hat - dealias * torch.fft.rfft2(adv)

    e2 = torch.exp(-0.5 * nu * lap * dt)
    e = e2 * e2

    def step_cn(w_h):
        a = 0.5 * dt * nu * lap
        return ((1 - a) * w_h + dt * rhs(w_h)) / (1 + a)

    def step_ifrk4(w_h):
        k1 = rhs(w_h)
        k2 = rhs(e2 * (w_h + 0.5 * dt * k1))
        k3 = rhs(e2 * w_h + 0.5 * dt * k2)
        k4 = rhs(e * w_h + dt * e2 * k3)
        return e * w_h + dt / 6 * (e * k1 + 2 * e2 * (k2 + k3) + k4)

    step = step_cn if scheme == "crank_nicolson" else step_ifrk4
    if compile_it:
        step = torch.compile(step)
    for _ in range(10):
        w_hat = step(w_hat)
    if device == "cuda":
        torch.cuda.synchronize()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(steps):
            w_hat = step(w_hat)
        stop.record()
        torch.cuda.synchronize()
        per_step = start.elapsed_time(stop) / 1e3 / steps
    else:
        t0 = time.perf_counter()
        for _ in range(steps):
            w_hat = step(w_hat)
        per_step = (time.perf_counter() - t0) / steps
    assert torch.isfinite(w_hat).all()
    name = "torch" + ("-compile" if compile_it else "") + ("-cpu%d" % torch.get_num_threads() if device == "cpu" else "")
    print(f"impl={name} space={device} grid={n} batch={batch} scheme={scheme} step_ms={per_step * 1e3:.4f} "
          f"points_steps_per_s={n * n * batch / per_step:.4e}")


if __name__ == "__main__":
    main()
