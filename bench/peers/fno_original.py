"""Runs the ORIGINAL fourier_2d_time.py (zongyi-li/fourier_neural_operator, fetched into
.device/fno_original by bench/gpu/fetch_fno_original.sh) as the peer of the learning-parity run
(bench/gpu/fno_parity.sh, issue 14). Upstream's file is read, patched in memory and executed as
__main__ with its own utilities3.py and Adam.py importable; nothing of it is rewritten. The model,
the loss (LpLoss, summed over the batch and the T steps), the data handling (MatReader, the
DataLoaders, batch 20, shuffle), the optimizer (its Adam, lr 1e-3, weight decay 1e-4), StepLR and
the training / test loops are upstream's. The patches, each applied exactly once or the run stops:

  1. torch.manual_seed(0); np.random.seed(0)  -> the run's --seed
  2. TRAIN_PATH, TEST_PATH                    -> our exported train.mat / test.mat (read unchanged)
  3. ntrain, ntest                            -> --ntrain, --ntest (upstream: 1000, 200)
  4. modes = 12                               -> --modes (8: the paper's NS setting; master has 12)
  5. epochs, scheduler_step, scheduler_gamma  -> --epochs, --step, --gamma
  6. T = 10                                   -> --t-out (40: 10 frames in, 40 out, nu = 1e-3);
     S = 64                                   -> --grid (64; upstream asserts it against the data)
  7. model = FNO2d(...).cuda()                -> .to(device), utilities3's device (cuda when there
                                                 is one: the same on the GPU; lets the CPU run it)
  8. for ep in range(epochs):                 -> range(<first epoch>, epochs): a resumed run starts
                                                 after the epochs its state file holds
  9. after the per-epoch print                -> one hook call: writes the epoch's CSV row from
                                                 upstream's own accumulators, saves the state file,
                                                 and breaks the loop when the deadline is near
width (20), batch_size (20), T_in (10), step (1), the learning rate and weight decay are checked to be
upstream's values, not changed.

The CSV row (bench/peers/fno_parity_table.py reads it), per epoch, with upstream's printed figures:
  train_step = train_l2_step / ntrain / T   mean over samples and steps of the per-step relative L2
  train_full = train_l2_full / ntrain       relative L2 of the whole T-step prediction (training)
  test_step  = test_l2_step / ntest / T
  test_full  = test_l2_full / ntest         the paper's test figure
  seconds    = t2 - t1                      upstream's epoch time (training and the test loop)

Resume: the state file (torch.save, written atomically after every epoch) holds the model, Adam
and StepLR states, the epoch count, and the torch (CPU and CUDA), numpy and python RNG states;
restoring the CPU generator gives the DataLoader the shuffles an uninterrupted run would draw. It
also records the run's settings and the data hash; a resume with other settings (more epochs
excepted) is refused. cuFFT and cuDNN are not bitwise deterministic, so a resumed run matches an
uninterrupted one statistically, not bit for bit.

  python3 bench/peers/fno_original.py --src .device/fno_original --train train.mat --test test.mat
      --seed 0 --epochs 50 --step 10 --gamma 0.5 [--ntrain 1000 --ntest 200 --modes 8 --t-out 40]
      --csv curves.csv --state original_s0.state.pt [--resume FILE] [--deadline UNIX_SECONDS]
      [--data-hash HEX] [--device-name NAME] [--patched-out FILE]
Exit status: 0 finished, 3 stopped at the deadline (state saved), 1 error.
"""
import argparse
import math
import os
import random
import re
import sys
import time

SIDE = "original"
CSV_HEADER = "side,seed,epoch,lr,train_step,train_full,test_step,test_full,seconds,data_sha256,device\n"


class PatchError(RuntimeError):
    pass


def set_constant(src, name, value, expect=None):
    """Replaces the module-level line `name = ...` (exactly one) by `name = value`."""
    pat = re.compile(r"^%s = (.*)$" % re.escape(name), re.M)
    found = pat.findall(src)
    if len(found) != 1:
        raise PatchError("fourier_2d_time.py: expected one line '%s = ...', found %d" % (name, len(found)))
    if expect is not None and found[0].strip() != expect:
        raise PatchError("fourier_2d_time.py: %s = %s, expected upstream's %s" % (name, found[0], expect))
    return pat.sub(lambda m: "%s = %s" % (name, value), src)


def check_constant(src, name, expect):
    set_constant(src, name, expect, expect)


def replace_once(src, old, new, what):
    n = src.count(old)
    if n != 1:
        raise PatchError("fourier_2d_time.py: patch '%s': expected the text once, found it %d times: %r" %
                         (what, n, old))
    return src.replace(old, new)


def patch(src, a):
    """The run-time patches of the module docstring, in its order."""
    src = replace_once(src, "torch.manual_seed(0)\nnp.random.seed(0)\n",
                       "torch.manual_seed(%d)\nnp.random.seed(%d)\n" % (a.seed, a.seed), "1 seeds")
    src = set_constant(src, "TRAIN_PATH", repr(os.path.abspath(a.train)))
    src = set_constant(src, "TEST_PATH", repr(os.path.abspath(a.test)))
    src = set_constant(src, "ntrain", str(a.ntrain), "1000")
    src = set_constant(src, "ntest", str(a.ntest), "200")
    src = set_constant(src, "modes", str(a.modes), "12")
    src = set_constant(src, "epochs", str(a.epochs), "500")
    src = set_constant(src, "scheduler_step", str(a.step), "100")
    src = set_constant(src, "scheduler_gamma", repr(a.gamma), "0.5")
    src = set_constant(src, "T", str(a.t_out), "10")
    src = set_constant(src, "S", str(a.grid), "64")
    for name, value in (("width", "20"), ("batch_size", "20"), ("T_in", "10"), ("step", "1"),
                        ("learning_rate", "0.001"), ("sub", "1")):
        check_constant(src, name, value)
    replace_once(src, "weight_decay=1e-4)", "weight_decay=1e-4)", "check weight decay")
    src = replace_once(src, "model = FNO2d(modes, modes, width).cuda()\n",
                       "model = FNO2d(modes, modes, width).to(device)\n", "7 device")
    src = replace_once(src, "for ep in range(epochs):\n",
                       "for ep in range(_parity.first_epoch(model, optimizer, scheduler), epochs):\n",
                       "8 resume")
    src = replace_once(src, "          test_l2_full / ntest)\n",
                       "          test_l2_full / ntest)\n"
                       "    if _parity.end_epoch(ep, t2 - t1, train_l2_step, train_l2_full, test_l2_step, "
                       "test_l2_full, model, optimizer, scheduler):\n"
                       "        break\n", "9 epoch hook")
    return src


class Parity:
    """The hooks the patched script calls (patches 8 and 9)."""

    def __init__(self, a):
        self.a = a
        self.settings = {k: getattr(a, k) for k in ("seed", "step", "gamma", "ntrain", "ntest", "modes", "t_out",
                                                       "grid")}
        self.settings["data_hash"] = a.data_hash
        self.stopped = False
        self.finished = False

    def first_epoch(self, model, optimizer, scheduler):
        import numpy as np
        import torch
        if not self.a.resume:
            return 0
        st = torch.load(self.a.resume, map_location="cpu", weights_only=False)
        if st["settings"] != self.settings:
            diff = {k: (st["settings"].get(k), v) for k, v in self.settings.items() if st["settings"].get(k) != v}
            raise SystemExit("fno_original.py: %s: saved with other settings (saved, now): %s; start without "
                             "--resume" % (self.a.resume, diff))
        if st["epoch_done"] > self.a.epochs:
            raise SystemExit("fno_original.py: %s: already %d epochs, more than --epochs %d" %
                             (self.a.resume, st["epoch_done"], self.a.epochs))
        model.load_state_dict(st["model"])
        optimizer.load_state_dict(st["optimizer"])
        scheduler.load_state_dict(st["scheduler"])
        torch.set_rng_state(st["torch_rng"])
        if torch.cuda.is_available() and st["cuda_rng"] is not None:
            torch.cuda.set_rng_state_all(st["cuda_rng"])
        np.random.set_state(st["numpy_rng"])
        random.setstate(st["python_rng"])
        print("fno_original.py: resumed from %s after epoch %d" % (self.a.resume, st["epoch_done"]), flush=True)
        if st["epoch_done"] == self.a.epochs:
            self.finished = True
        return st["epoch_done"]

    def save(self, epoch_done, model, optimizer, scheduler):
        import numpy as np
        import torch
        st = {"epoch_done": epoch_done, "settings": self.settings, "model": model.state_dict(),
              "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
              "torch_rng": torch.get_rng_state(),
              "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
              "numpy_rng": np.random.get_state(), "python_rng": random.getstate()}
        tmp = self.a.state + ".tmp"
        torch.save(st, tmp)
        os.replace(tmp, self.a.state)

    def end_epoch(self, ep, seconds, train_step, train_full, test_step, test_full, model, optimizer, scheduler):
        a = self.a
        steps = a.t_out  # T / step with step = 1
        lr = a.lr * a.gamma ** (ep // a.step)  # the rate StepLR gave this epoch
        row = [SIDE, a.seed, ep + 1, "%.6g" % lr, "%.6g" % (train_step / a.ntrain / steps),
               "%.6g" % (train_full / a.ntrain), "%.6g" % (test_step / a.ntest / steps),
               "%.6g" % (test_full / a.ntest), "%.3f" % seconds, a.data_hash, a.device_name]
        new = not os.path.exists(a.csv)
        with open(a.csv, "a") as f:
            if new:
                f.write(CSV_HEADER)
            f.write(",".join(str(v) for v in row) + "\n")
        self.save(ep + 1, model, optimizer, scheduler)
        if ep + 1 >= a.epochs:
            self.finished = True
            return False
        # Stop when the next epoch (10% slower than this one, plus 10 s) would pass the deadline.
        if a.deadline and time.time() + 1.1 * seconds + 10.0 > a.deadline:
            self.stopped = True
            print("fno_original.py: deadline: stopping after epoch %d of %d; state in %s" % (ep + 1, a.epochs, a.state),
                  flush=True)
            return True
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--src", required=True, help="folder with upstream's fourier_2d_time.py, utilities3.py, Adam.py")
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--step", type=int, required=True)
    p.add_argument("--gamma", type=float, required=True)
    p.add_argument("--ntrain", type=int, default=1000)
    p.add_argument("--ntest", type=int, default=200)
    p.add_argument("--modes", type=int, default=8)
    p.add_argument("--t-out", type=int, default=40)
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--csv", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--resume", default="")
    p.add_argument("--deadline", type=float, default=0.0)
    p.add_argument("--data-hash", default="")
    p.add_argument("--device-name", default="")
    p.add_argument("--patched-out", default="", help="also write the patched script here (to read it)")
    p.add_argument("--patch-only", action="store_true", help="patch, compile and stop (no torch needed)")
    a = p.parse_args()
    a.lr = 1e-3
    if a.ntrain % 20 or a.ntest % 20:
        sys.exit("fno_original.py: --ntrain and --ntest must be multiples of upstream's batch_size 20 "
                 "(its loss reshapes every batch to 20 rows)")
    path = os.path.join(a.src, "fourier_2d_time.py")
    with open(path) as f:
        src = f.read()
    try:
        patched = patch(src, a)
    except PatchError as e:
        sys.exit("fno_original.py: %s: %s" % (path, e))
    code = compile(patched, path, "exec")
    if a.patched_out:
        with open(a.patched_out, "w") as f:
            f.write(patched)
    if a.patch_only:
        print("fno_original.py: %s patched and compiled" % path)
        return 0
    os.environ.setdefault("MPLBACKEND", "Agg")  # upstream imports matplotlib.pyplot
    sys.path.insert(0, os.path.abspath(a.src))  # its `from utilities3 import *`, `from Adam import Adam`
    import torch
    print("fno_original.py: torch %s, cuda %s, cudnn.allow_tf32 %s, matmul.allow_tf32 %s (upstream's defaults, "
          "unchanged)" % (torch.__version__, torch.cuda.is_available(), torch.backends.cudnn.allow_tf32,
                          torch.backends.cuda.matmul.allow_tf32), flush=True)
    hooks = Parity(a)
    scope = {"__name__": "__main__", "__file__": path, "_parity": hooks}
    exec(code, scope)
    if hooks.stopped:
        return 3
    if not hooks.finished:
        sys.exit("fno_original.py: the training loop ended without reaching epoch %d" % a.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
