"""PyTorch peer for `surro rollout` (benchmark case 5 of issue 6, bench/gpu/rollout.sh): the same
autoregressive rollout of a surro FNO checkpoint on one dataset trajectory, with the same outputs.

  load  the FNO weights from surro's checkpoint (HDF5 /params, the model from its stored config)
        into bench/peers/fno.py's FNO (imported, not copied; fno.load_surro maps surro's parameter
        names and layouts), the trajectory's first t_in frames and the next `steps` reference frames
        from <dataset>/data/<split>/ (files sorted, dot-files skipped, as surro's loader; --sample
        counts trajectories over the files, 0 = surro's --vtk-sample 0 with --samples 1)
  roll  `steps` predictions on the device, float32, TF32 off (on where the checkpoint's
        model.matmul_precision is tf32); each one appended to the window
        (channel-last (1, Nx, Ny, T_in * C), frame-major channels t * C + c as surro's window), the
        oldest frame dropped
  score per step, relative L2 and RMSE against the reference (sums in float64), and for a 2D scalar
        field the energy-spectrum error (operators/metrics.hpp: shells round(|k|), log10 ratio RMS
        over the resolved shells 1 .. min(Nx, Ny) / 2); over the rollout, the long-rollout
        statistics of prediction and reference (operators/statistics.hpp: per-axis mean, RMS and
        cross profiles, 1D energy spectra along each axis, by FFT where surro sums a direct DFT);
        all steps at once on the device
  write every --vtk-every-th step (numbered from 1) and the last as VTK XML ImageData (.vti: the
        point arrays <field>_pred, _ref, _error = pred - ref and the Float64 field array
        TimeValue; appended raw binary, zlib level 5 in 32 KiB blocks, UInt64 headers, x the fastest
        index, as vtkXMLImageDataWriter in mesh/vtk_writer.cpp), rewriting rollout.pvd after each
        file; the predicted trajectory (rollout.hdf5: /t0_fields/<field> (1, T, N...) float32,
        shuffle + deflate 4, and /dimensions; not the full Well layout; without h5py rollout.npy,
        or rollout.pt where numpy is missing too: the peer itself needs only torch);
        metrics.json / metrics.csv (surro's keys), spectrum.csv, statistics.csv / .json and
        statistics_spectra.csv (surro's formats). Every file is written to a temporary and renamed.

Normalizers: the checkpoint must have none (normalize.inputs/targets none, what bench/gpu/rollout.sh
trains with); one with /normalizers is refused.

Timing: import_s is the imports (torch included); load_s reading the checkpoint and data and building
the model; then one forward on the initial window, untimed but reported as warmup_s (cuFFT plans and
lazily loaded kernels: surro plans its FFTs when it builds the model, before its clock starts);
inprocess_s runs from there to the last file written (window and references to the device, the
steps, the metrics, the copy back, every file), steps_s its part up to the metrics. The wall time of
the whole process is measured by the caller (bench/gpu/rollout.sh) and added to the line there.

--surro DIR (a `surro rollout ... -o DIR` of the same checkpoint, trajectory and steps): after the
timing, reads DIR/rollout.hdf5 and DIR/metrics.json and reports the difference of the predicted
trajectories per step, max|d| / max|surro| (rel_diff_max) and ||d|| / ||surro|| (rel_diff_l2) at
step 1 and the last step, and rel_diff_max at a few steps between; "n/a" when there is no such file.

HDF5 goes through h5py when it imports, else through the h5dump binary (-H for types and shapes,
-b LE for raw data, -a for the config attribute; bench/gpu/stage.sh ships it). SURRO_PEER_H5=h5dump
forces that path. Prints one JSON line (impl torch-eager, case rollout).

  python3 bench/peers/rollout.py --checkpoint CKPT [--dataset DIR] [--split test] [--sample 0]
      --steps 200 --vtk-every 10 -o DIR --device cuda|cpu [--threads 1] [--surro DIR]
"""
import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import ctypes  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import zlib  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fno  # noqa: E402  (bench/peers/fno.py: the FNO and the map of surro's parameters)

# numpy is not needed (torch's wheels no longer pull it in); h5py brings it along.
h5py = None
if os.environ.get("SURRO_PEER_H5", "") != "h5dump":
    try:
        import h5py  # noqa: F811
        import numpy  # h5py's arrays
    except ImportError:
        h5py = None
T_IMPORTED = time.perf_counter()


class PeerError(Exception):
    """A refusal or a failed read: the message names the file, the HDF5 path and what was expected."""


# ---------------------------------------------------------------------------------------------
# HDF5 reading: h5py, or the h5dump binary.

# h5dump -b LE writes little-endian whatever the stored order; tensors here are host (little-endian) order.
H5DUMP_TYPES = {"H5T_IEEE_F32LE": torch.float32, "H5T_IEEE_F64LE": torch.float64, "H5T_STD_I64LE": torch.int64,
                "H5T_STD_I32LE": torch.int32, "H5T_IEEE_F32BE": torch.float32, "H5T_IEEE_F64BE": torch.float64}


def h5dump(*args):
    exe = shutil.which("h5dump")
    if exe is None:
        raise PeerError("neither h5py nor the h5dump binary is available: install one (python3-h5py or hdf5-tools)")
    r = subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise PeerError("h5dump %s: %s" % (" ".join(args), (r.stderr or r.stdout).decode(errors="replace").strip()))
    return r.stdout.decode(errors="replace")


class H5File:
    """Read-only access to one HDF5 file: datasets as host tensors, group members, string attributes."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise PeerError("%s: no such file" % path)
        self.path = path
        self.f = h5py.File(path, "r") if h5py is not None else None
        self._listing = None

    def close(self):
        if self.f is not None:
            self.f.close()

    def members(self, group):
        """Names of the datasets and groups directly under `group` ("/params")."""
        if self.f is not None:
            return sorted(self.f[group].keys()) if group in self.f else None
        if self._listing is None:
            self._listing = re.findall(r"^\s*(?:group|dataset)\s+(\S+)\s*$", h5dump("-n", self.path), re.M)
        if group not in self._listing:
            return None
        prefix = group.rstrip("/") + "/"
        return sorted(p[len(prefix):] for p in self._listing if p.startswith(prefix) and "/" not in p[len(prefix):])

    def read(self, names):
        """The datasets `names` (absolute paths), each as a tensor of its stored type and shape."""
        if self.f is not None:
            out = []
            for n in names:
                if n not in self.f:
                    raise PeerError("%s: %s: no such dataset" % (self.path, n))
                a = self.f[n][()]
                out.append(torch.from_numpy(numpy.array(a, dtype=a.dtype.newbyteorder("="))))  # native order
            return out
        sel = [a for n in names for a in ("-d", n)]
        header = h5dump("-H", *sel, self.path)
        blocks = re.findall(r'DATASET "([^"]+)" \{\s*DATATYPE\s+(\S+)\s*DATASPACE\s+(SCALAR|SIMPLE \{ \( ([^)]*) \))',
                            header)
        if [b[0] for b in blocks] != list(names):
            raise PeerError("%s: h5dump -H listed %s, expected %s" % (self.path, [b[0] for b in blocks], names))
        specs = []
        for name, dtype, space, dims in blocks:
            if dtype not in H5DUMP_TYPES:
                raise PeerError("%s: %s: type %s, expected float32/float64/int32/int64" % (self.path, name, dtype))
            shape = () if space == "SCALAR" else tuple(int(d) for d in dims.split(","))
            specs.append((H5DUMP_TYPES[dtype], shape))
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "data.bin")
            h5dump("-b", "LE", "-o", raw, *sel, self.path)
            with open(raw, "rb") as f:
                buf = bytearray(f.read())
        out, pos = [], 0
        for (dtype, shape), name in zip(specs, names):
            count = math.prod(shape)
            n = count * torch.empty(0, dtype=dtype).element_size()
            if pos + n > len(buf):
                raise PeerError("%s: %s: h5dump -b gave %d bytes, expected at least %d" % (
                    self.path, name, len(buf), pos + n))
            out.append(torch.frombuffer(buf, dtype=dtype, count=count, offset=pos).reshape(shape).clone()
                       if count else torch.empty(shape, dtype=dtype))
            pos += n
        return out

    def attr_str(self, name):
        """A string attribute of the root group."""
        if self.f is not None:
            if name not in self.f.attrs:
                raise PeerError("%s: /@%s: no such attribute" % (self.path, name))
            v = self.f.attrs[name]
            return v.decode() if isinstance(v, bytes) else str(v)
        text = h5dump("-a", "/" + name, "-w", "0", self.path)
        m = re.search(r'^\s*\(0\): "(.*)"\s*$', text, re.M)
        if m is None:
            raise PeerError("%s: /@%s: h5dump -a printed no string value" % (self.path, name))
        return m.group(1)


# ---------------------------------------------------------------------------------------------
# Inputs: the checkpoint, the trajectory.

def load_checkpoint(path):
    """(config dict, parameter arrays by name) of a surro FNO checkpoint without normalizers."""
    f = H5File(path)
    try:
        try:
            config = json.loads(f.attr_str("config"))
        except ValueError as e:
            raise PeerError("%s: /@config: not valid JSON (%s)" % (path, e))
        norms = f.members("/normalizers") or []
        if norms:
            raise PeerError("%s: /normalizers holds %s: expected none (train with normalize.inputs and "
                            "normalize.targets none; this peer applies no normalizers)" % (path, ", ".join(norms)))
        names = f.members("/params")
        if not names:
            raise PeerError("%s: /params: missing or empty, expected the model's tensors" % path)
        arrays = f.read(["/params/" + n for n in names])
    finally:
        f.close()
    return config, dict(zip(names, arrays))


def split_files(dataset, split):
    folder = os.path.join(dataset, "data", split)
    files = sorted(p for p in glob.glob(os.path.join(folder, "*"))
                   if os.path.isfile(p) and not os.path.basename(p).startswith(".")
                   and os.path.splitext(p)[1] in (".hdf5", ".h5"))
    if not files:
        raise PeerError("%s: no *.hdf5 files" % folder)
    return files


def load_trajectory(dataset, split, sample, fields):
    """Trajectory `sample` of the split: frames (T, C, N...) float32, times (T) float64, coords per axis."""
    remaining = sample
    for path in split_files(dataset, split):
        f = H5File(path)
        try:
            dims = [d for d in f.members("/dimensions") or [] if d != "time"]
            # The spatial axes in the file's order (x, y[, z]): /dimensions/@spatial_dims would say so;
            # surro writes x, y, z, which sort the same.
            arrays = f.read(["/t0_fields/" + name for name in fields] + ["/dimensions/time"] +
                            ["/dimensions/" + d for d in dims])
        finally:
            f.close()
        data, times, coords = arrays[:len(fields)], arrays[len(fields)], arrays[len(fields) + 1:]
        b = data[0].shape[0]
        if remaining < b:
            frames = torch.stack([d[remaining] for d in data], dim=1).float().contiguous()  # (T, C, N...)
            if frames.dim() - 2 != len(coords):
                raise PeerError("%s: /t0_fields/%s has %d spatial axes, /dimensions %d" % (
                    path, fields[0], frames.dim() - 2, len(coords)))
            return frames, times.float().double(), coords
        remaining -= b
    raise PeerError("%s/data/%s: --sample %d: the split has only %d trajectories" % (
        dataset, split, sample, sample - remaining))


def build_model(config, params, grid, where):
    """fno.FNO with surro's weights; raises PeerError when the checkpoint is not such an FNO."""
    model_cfg, data_cfg = config.get("model", {}), config.get("data", {})
    if model_cfg.get("type") != "fno":
        raise PeerError("%s: /@config: model.type is %r, expected 'fno'" % (where, model_cfg.get("type")))
    if data_cfg.get("kind") != "window":
        raise PeerError("%s: /@config: data.kind is %r, expected 'window'" % (where, data_cfg.get("kind")))
    C, t_in = len(data_cfg["fields"]), int(data_cfg["t_in"])
    modes, pad = list(model_cfg["modes"]), list(model_cfg.get("padding") or [])
    model = fno.FNO(grid, t_in * C, C, int(model_cfg["width"]), modes, int(model_cfg["layers"]),
                    int(model_cfg["projection"]), pad or None)
    # fno.load_surro reads a flat View and its table (bench_fno --dump's table.json); the checkpoint
    # stores the same tensors one by one, complex ones with a trailing axis of 2 (re, im).
    slots, chunks, offset = [], [], 0
    for name, a in params.items():
        shape = list(a.shape[:-1]) if ".spectral." in name else list(a.shape)
        if ".spectral." in name and a.shape[-1:] != (2,):
            raise PeerError("%s: /params/%s: shape %s, expected a trailing axis of 2 (complex)" % (
                where, name, a.shape))
        slots.append({"name": name, "shape": shape, "offset": offset, "count": a.numel()})
        chunks.append(a.float().reshape(-1))
        offset += a.numel()
    expected = 4 + 3 * int(model_cfg["layers"]) + 2
    if len(slots) != expected or fno.parameter_count(model) != offset:
        raise PeerError("%s: /params: %d tensors of %d values, expected %d tensors of %d (the config's FNO)" % (
            where, len(slots), offset, expected, fno.parameter_count(model)))
    fno.load_surro(model, {"slots": slots}, torch.cat(chunks))
    return model, t_in, C


# ---------------------------------------------------------------------------------------------
# Outputs, each written to a temporary in the same folder and renamed.

def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path) or ".", ".%s.tmp%d" % (os.path.basename(path), os.getpid()))
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.replace(tmp, path)


def vtk_block(raw):
    """vtkZLibDataCompressor's appended form: UInt64 header (blocks, block size, size of a partial last
    block or 0, compressed sizes), then the zlib streams (level 5, VTK's default) of 32 KiB blocks."""
    bs = 32768
    blocks = [zlib.compress(raw[i:i + bs], 5) for i in range(0, len(raw), bs)] or [zlib.compress(b"", 5)]
    header = struct.pack("<%dQ" % (3 + len(blocks)), len(blocks), bs, len(raw) % bs, *[len(b) for b in blocks])
    return header + b"".join(blocks)


def g11(v):
    return "%.11g" % v


def tensor_bytes(t):
    """The raw bytes of a host tensor, in memory order (little-endian on the machines here)."""
    t = t.contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def write_vti(path, time_value, origin, spacing, dims, arrays):
    """One step as vtkXMLImageDataWriter writes it (mesh/vtk_writer.cpp). arrays: (name, (N...) float32
    host tensor with x the slowest index, surro's layout); VTK's point order has x fastest."""
    d3 = list(dims) + [1] * (3 - len(dims))
    o3 = list(origin) + [0.0] * (3 - len(origin))
    s3 = list(spacing) + [1.0] * (3 - len(spacing))
    extent = "0 %d 0 %d 0 %d" % (d3[0] - 1, d3[1] - 1, d3[2] - 1)
    payload, offset = [], 0
    blob = vtk_block(struct.pack("<d", time_value))
    lines = ['<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64" '
             'compressor="vtkZLibDataCompressor">',
             '  <ImageData WholeExtent="%s" Origin="%s" Spacing="%s" Direction="1 0 0 0 1 0 0 0 1">' % (
                 extent, " ".join(g11(v) for v in o3), " ".join(g11(v) for v in s3)),
             "    <FieldData>",
             '      <DataArray type="Float64" Name="TimeValue" NumberOfTuples="1" format="appended" '
             'RangeMin="%s" RangeMax="%s" offset="%d"/>' % (g11(time_value), g11(time_value), offset),
             "    </FieldData>",
             '    <Piece Extent="%s">' % extent,
             '      <PointData Scalars="%s">' % arrays[0][0]]
    payload.append(blob)
    offset += len(blob)
    for name, a in arrays:
        blob = vtk_block(tensor_bytes(a.permute(*reversed(range(a.dim()))).float()))
        lines.append('        <DataArray type="Float32" Name="%s" format="appended" RangeMin="%s" RangeMax="%s" '
                     'offset="%d"/>' % (name, g11(float(a.min())), g11(float(a.max())), offset))
        payload.append(blob)
        offset += len(blob)
    lines += ["      </PointData>", "      <CellData>", "      </CellData>", "    </Piece>", "  </ImageData>",
              '  <AppendedData encoding="raw">', "   _"]
    write_atomic(path, ("\n".join(lines)).encode() + b"".join(payload) + b"\n  </AppendedData>\n</VTKFile>\n")


def write_pvd(path, entries):
    body = "".join('    <DataSet timestep="%.17g" group="" part="0" file="%s"/>\n' % e for e in entries)
    write_atomic(path, '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
                       "  <Collection>\n" + body + "  </Collection>\n</VTKFile>\n")


def write_trajectory(out, fields, pred, times, coords):
    """pred (T, C, N...) host tensor as rollout.hdf5 (h5py), else as rollout.npy (numpy) or rollout.pt
    (torch.save), each (1, T, C, N...); returns the file name."""
    if h5py is None:
        try:
            import numpy
        except ImportError:
            numpy = None
        name = "rollout.npy" if numpy is not None else "rollout.pt"
        tmp = os.path.join(out, ".%s.tmp%d" % (name, os.getpid()))
        with open(tmp, "wb") as f:
            if numpy is not None:
                numpy.save(f, pred[None].numpy())
            else:
                torch.save(pred[None], f)
        os.replace(tmp, os.path.join(out, name))
        return name
    path = os.path.join(out, "rollout.hdf5")
    tmp = os.path.join(out, ".rollout.hdf5.tmp%d" % os.getpid())
    points = math.prod(pred.shape[2:])
    t_chunk = max(1, min(pred.shape[0], (1 << 20) // (4 * points)))  # about 1 MiB per chunk, as surro
    with h5py.File(tmp, "w") as f:
        dims = f.create_group("dimensions")
        dims.create_dataset("time", data=times.float().numpy())
        for name, c in zip("xyz", coords):
            dims.create_dataset(name, data=c.numpy())
        group = f.create_group("t0_fields")
        for c, name in enumerate(fields):
            group.create_dataset(name, data=pred[None, :, c].numpy(), chunks=(1, t_chunk) + tuple(pred.shape[2:]),
                                 shuffle=True, compression="gzip", compression_opts=4)
    os.replace(tmp, path)
    return os.path.basename(path)


# ---------------------------------------------------------------------------------------------
# Metrics, operators/metrics.hpp's definitions.

def spectra(fields):
    """Isotropic energy spectra (S, K) float64 of S 2D periodic fields (S, Nx, Ny) float32: |f_hat|^2 with
    f_hat = rfft2(f, norm forward), summed over shells round(|(kx, ky)|); a stored coefficient counts twice
    when it stands for its conjugate too (0 < ky < Ny / 2)."""
    s, nx, ny = fields.shape
    hat = torch.fft.rfft2(fields, norm="forward")  # (S, Nx, Ny/2 + 1) complex64
    dev = fields.device
    kx = torch.fft.fftfreq(nx, 1.0 / nx, device=dev, dtype=torch.float64)
    ky = torch.arange(ny // 2 + 1, device=dev, dtype=torch.float64)
    shell = torch.floor(torch.sqrt(kx[:, None] ** 2 + ky[None, :] ** 2) + 0.5).long().reshape(-1)
    w = torch.full((ny // 2 + 1,), 2.0, device=dev, dtype=torch.float64)
    w[0] = 1.0
    if ny % 2 == 0:
        w[ny // 2] = 1.0
    k = int(math.floor(math.sqrt((nx // 2) ** 2 + (ny // 2) ** 2) + 0.5)) + 1
    e = (hat.real.double() ** 2 + hat.imag.double() ** 2) * w  # (S, Nx, Ny/2 + 1)
    out = torch.zeros(s, k, device=dev, dtype=torch.float64)
    return out.index_add_(1, shell, e.reshape(s, -1))


def spectrum_log_error(e_pred, e_ref, kmax):
    """RMS over the resolved shells 1 .. min(kmax, K - 1) of log10(E_pred / E_ref); e_pred, e_ref: lists (K)."""
    last = min(kmax, len(e_ref) - 1)
    total = math.fsum(e_ref)
    resolved, floor = 1e-10 * (total if total > 0 else 1.0), 1e-30 * (total if total > 0 else 1.0)
    d = [math.log10(max(e_pred[k], floor)) - math.log10(e_ref[k]) for k in range(1, last + 1) if e_ref[k] >= resolved]
    return math.sqrt(sum(v * v for v in d) / len(d)) if d else 0.0


def profile_statistics(x):
    """Long-rollout statistics (operators/statistics.hpp) of x (T, C, N...) on the device, averaged over
    the steps: per axis a, the mean, RMS and (c < d) cross profiles over the other axes, and the 1D energy
    spectrum E_a(k) = w_k sum_c <|f_hat_c(k)|^2> (f_hat with 1 / N_a, w_k = 1 at k = 0 and N_a / 2 for even
    N_a, else 2), all in float64. Returns host lists indexed [axis][field or pair][i] and [axis][k]."""
    x = x.double()
    C, d = x.shape[1], x.dim() - 2
    out = {"mean": [], "rms": [], "cross": [], "spectrum": []}
    for a in range(d):
        others = [0] + [2 + b for b in range(d) if b != a]
        mean = x.mean(dim=others)  # (C, N_a)
        sq = (x * x).mean(dim=others)
        out["mean"].append(mean.cpu().tolist())
        out["rms"].append(torch.sqrt(torch.clamp(sq - mean * mean, min=0.0)).cpu().tolist())
        field_others = [0] + [1 + b for b in range(d) if b != a]  # the same axes of one field (T, N...)
        out["cross"].append([((x[:, c] * x[:, e]).mean(dim=field_others) - mean[c] * mean[e]).cpu().tolist()
                             for c in range(C) for e in range(c + 1, C)])
        n = x.shape[2 + a]
        hat = torch.fft.rfft(x, dim=2 + a, norm="forward")
        e = (hat.real ** 2 + hat.imag ** 2).sum(dim=1)  # (T, N..., N_a/2 + 1 at axis a) summed over fields
        e = e.mean(dim=field_others)  # (N_a / 2 + 1)
        w = torch.full_like(e, 2.0)
        w[0] = 1.0
        if n % 2 == 0:
            w[n // 2] = 1.0
        out["spectrum"].append((e * w).cpu().tolist())
    return out


def write_statistics(out, fields, steps, pred, ref):
    """statistics.csv / .json and statistics_spectra.csv as operators/statistics.cpp's write_profiles."""
    pairs = ["%s*%s" % (fields[c], fields[e]) for c in range(len(fields)) for e in range(c + 1, len(fields))]
    rows, report = ["quantity,axis,index,field,pred,ref"], {"steps": steps}

    def emit(quantity, names, scale):
        q = {}
        for a in range(len(pred[quantity])):
            for k, name in enumerate(names):
                P, R, S = pred[quantity][a][k], ref[quantity][a][k], scale[a][k]
                rows.extend("%s,%d,%d,%s,%.9g,%.9g" % (quantity, a, i, name, P[i], R[i]) for i in range(len(P)))
                diff2 = sum((p - r) ** 2 for p, r in zip(P, R))
                ref2 = sum(v * v for v in S)
                q.setdefault("axis%d" % a, {})[name] = math.sqrt(diff2 / ref2) if ref2 > 0 else math.sqrt(diff2)
        report[quantity + "_rel_l2"] = q

    emit("mean", fields, ref["rms"])  # mean profiles against the fluctuation scale, as surro
    emit("rms", fields, ref["rms"])
    if pairs:
        emit("cross", pairs, ref["cross"])
    spec_rows, sj = ["axis,k,pred,ref"], {}
    for a, (P, R) in enumerate(zip(pred["spectrum"], ref["spectrum"])):
        spec_rows.extend("%d,%d,%.9g,%.9g" % (a, k, P[k], R[k]) for k in range(len(P)))
        sj["axis%d" % a] = spectrum_log_error(P, R, len(R) - 1)
    report["spectrum_log_error_decades"] = sj
    write_atomic(os.path.join(out, "statistics_spectra.csv"), "\n".join(spec_rows) + "\n")
    write_atomic(os.path.join(out, "statistics.csv"), "\n".join(rows) + "\n")
    write_atomic(os.path.join(out, "statistics.json"), json.dumps(report, indent=2) + "\n")


def write_metrics(out, steps, frame_size, err2, ref2, spec_err):
    """err2, ref2: lists (T) of sums of squares; spec_err: list (T) or None. Returns the relative L2 per step."""
    rel = [math.sqrt(e) / math.sqrt(r) for e, r in zip(err2, ref2)]
    rmse = [math.sqrt(e / frame_size) for e in err2]
    rel_traj = math.sqrt(math.fsum(err2)) / math.sqrt(math.fsum(ref2))
    report = {"samples": 1, "steps": steps, "frame_size": frame_size, "rel_l2_mean": rel_traj,
              "rmse": math.sqrt(math.fsum(err2) / (steps * frame_size))}
    if spec_err is not None:
        report["spectrum_error_mean"] = math.fsum(spec_err) / len(spec_err)
    report["per_step"] = {"rel_l2": rel, "rmse": rmse}
    if spec_err is not None:
        report["per_step"]["spectrum_error"] = list(spec_err)
    report["per_sample"] = {"rel_l2_trajectory": [rel_traj], "rel_l2": [rel], "rmse": [rmse]}
    write_atomic(os.path.join(out, "metrics.json"), json.dumps(report, indent=2) + "\n")
    rows = ["step,rel_l2_mean,rmse" + (",spectrum_error_mean" if spec_err is not None else "")]
    for t in range(steps):
        rows.append("%d,%.17g,%.17g" % (t, rel[t], rmse[t]) + (",%.17g" % spec_err[t] if spec_err is not None else ""))
    write_atomic(os.path.join(out, "metrics.csv"), "\n".join(rows) + "\n")
    return rel


# ---------------------------------------------------------------------------------------------

def compare_with_surro(line, surro_dir, fields, pred, steps):
    """Difference from surro's predicted trajectory (rollout.hdf5 of `surro rollout -o surro_dir`)."""
    path = os.path.join(surro_dir, "rollout.hdf5")
    if not os.path.isfile(path):
        line["agreement"] = "n/a: no %s" % path
        return
    f = H5File(path)
    try:
        theirs = torch.stack(f.read(["/t0_fields/" + n for n in fields]), dim=2)[0].double()  # (T, C, N...)
    finally:
        f.close()
    if theirs.shape[0] < steps or theirs.shape[1:] != pred.shape[1:]:
        line["agreement"] = "n/a: %s holds %s, expected (1, >= %d, %s)" % (
            path, tuple(theirs.shape), steps, tuple(pred.shape[1:]))
        return
    theirs = theirs[:steps]
    flat_d, flat_s = (pred.double() - theirs).reshape(steps, -1), theirs.reshape(steps, -1)
    rel_max = (flat_d.abs().max(dim=1).values / flat_s.abs().max(dim=1).values).tolist()
    rel_l2 = (flat_d.norm(dim=1) / flat_s.norm(dim=1)).tolist()
    line["agreement"] = "ok"
    line["rel_diff_max_step1"], line["rel_diff_max_last"] = rel_max[0], rel_max[-1]
    line["rel_diff_l2_step1"], line["rel_diff_l2_last"] = rel_l2[0], rel_l2[-1]
    line["rel_diff_max_at"] = {str(s): rel_max[s - 1] for s in (1, 2, 5, 10, 20, 50, 100, 150, 200, steps)
                               if s <= steps}
    metrics = os.path.join(surro_dir, "metrics.json")
    if os.path.isfile(metrics):
        with open(metrics) as f:
            surro_rel = json.load(f)["per_step"]["rel_l2"]
        line["surro_rel_l2_step1"], line["surro_rel_l2_last"] = surro_rel[0], surro_rel[steps - 1]


def run(a, line):
    t_load = time.perf_counter()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if not cuda:
        torch.set_num_threads(a.threads)
    config, params = load_checkpoint(a.checkpoint)
    # TF32 as the checkpoint's model asks (model.matmul_precision where surro has it; fp32 by default).
    line["matmul"] = config.get("model", {}).get("matmul_precision", "fp32")
    torch.backends.cuda.matmul.allow_tf32 = line["matmul"] == "tf32"
    torch.backends.cudnn.allow_tf32 = False
    data_cfg = config.get("data", {})
    fields = list(data_cfg.get("fields", []))
    dataset = a.dataset or data_cfg.get("dataset", "")
    frames, times_all, coords = load_trajectory(dataset, a.split, a.sample, fields)  # (T, C, N...)
    grid = list(frames.shape[2:])
    if sys.byteorder != "little":
        raise PeerError("a big-endian host: the VTK files would need byte swapping")
    model, t_in, C = build_model(config, params, grid, a.checkpoint)
    available = frames.shape[0] - t_in
    steps = a.steps or available
    if steps > available or steps < 1:
        raise PeerError("--steps %d: only %d reference frames follow the window (frames 0..%d)" % (
            steps, available, t_in - 1))
    model = model.to(dev).eval()
    line.update({"grid": grid, "t_in": t_in, "channels": C, "steps": steps,
                 "modes": list(config["model"]["modes"]), "width": config["model"]["width"],
                 "params": fno.parameter_count(model), "space": dev.type,
                 "device": torch.cuda.get_device_name(dev) if cuda else "cpu",
                 "threads": 1 if cuda else torch.get_num_threads(), "torch": torch.__version__,
                 "h5": "h5py" if h5py is not None else "h5dump"})
    window_host = frames[:t_in].movedim(1, -1).movedim(0, -2)  # (T_in, C, N...) -> (N..., T_in, C)
    window_host = window_host.reshape(1, *grid, t_in * C).contiguous()  # (1, N..., T_in * C): channel t * C + c
    ref_host = frames[t_in:t_in + steps].contiguous()  # (steps, C, N...)
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    sync()
    line["load_s"] = time.perf_counter() - t_load

    # One untimed forward: cuFFT plans and lazily loaded kernels (surro plans when it builds the model).
    t0 = time.perf_counter()
    with torch.inference_mode():
        model(window_host.to(dev))
    sync()
    line["warmup_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with torch.inference_mode():
        window = window_host.to(dev)
        ref = ref_host.to(dev)
        pred = torch.empty(steps, 1, *grid, C, device=dev)  # (steps, 1, N..., C)
        for step in range(steps):
            y = model(window)  # (1, N..., C)
            pred[step] = y
            window = torch.cat((window[..., C:], y), dim=-1)
        pred_cf = pred[:, 0].movedim(-1, 1)  # (steps, C, N...)
        d = (pred_cf - ref).reshape(steps, -1).double()
        err2 = (d * d).sum(dim=1)
        ref2 = (ref.reshape(steps, -1).double() ** 2).sum(dim=1)
        spec = None
        if len(grid) == 2 and C == 1:
            spec = (spectra(pred_cf[:, 0]), spectra(ref[:, 0]))
        stats = (profile_statistics(pred_cf), profile_statistics(ref))
        pred_host = pred_cf.cpu()  # (steps, C, N...)
        err2, ref2 = err2.cpu().tolist(), ref2.cpu().tolist()
        spec = (spec[0].cpu().tolist(), spec[1].cpu().tolist()) if spec is not None else None  # (steps, K) each
    line["steps_s"] = time.perf_counter() - t0

    os.makedirs(a.output, exist_ok=True)
    spec_err = None
    if spec is not None:
        kmax = min(grid) // 2
        spec_err = [spectrum_log_error(spec[0][t], spec[1][t], kmax) for t in range(steps)]
        mean_p, mean_r = (torch.tensor(e, dtype=torch.float64).mean(dim=0).tolist() for e in spec)
        rows = ["k,energy_pred,energy_ref"] + ["%d,%.9g,%.9g" % (k, p, r) for k, (p, r) in
                                                enumerate(zip(mean_p, mean_r))]
        write_atomic(os.path.join(a.output, "spectrum.csv"), "\n".join(rows) + "\n")
    rel = write_metrics(a.output, steps, C * math.prod(grid), err2, ref2, spec_err)
    write_statistics(a.output, fields, steps, *stats)
    times = times_all[t_in:t_in + steps]
    origin = [float(c[0]) if len(c) else 0.0 for c in coords]
    spacing = [float(c[1]) - float(c[0]) if len(c) > 1 else 1.0 for c in coords]
    entries = []
    for step in range(steps):
        if (step + 1) % a.vtk_every and step != steps - 1:
            continue
        arrays = []
        for c, name in enumerate(fields):
            arrays += [(name + "_pred", pred_host[step, c]), (name + "_ref", ref_host[step, c]),
                       (name + "_error", pred_host[step, c] - ref_host[step, c])]
        fname = "rollout_%06d.vti" % len(entries)
        write_vti(os.path.join(a.output, fname), float(times[step]), origin, spacing, grid, arrays)
        entries.append((float(times[step]), fname))
        write_pvd(os.path.join(a.output, "rollout.pvd"), entries)
    line["trajectory_file"] = write_trajectory(a.output, fields, pred_host, times, coords)
    line["inprocess_s"] = time.perf_counter() - t0
    line.update({"vtk_files": len(entries), "rel_l2_step1": float(rel[0]), "rel_l2_last": float(rel[-1]),
                 "step1_pred_sum": pred_host[0].double().sum().item(),
                 "last_pred_sum": pred_host[-1].double().sum().item()})
    if a.surro:
        compare_with_surro(line, a.surro, fields, pred_host, steps)
    else:
        line["agreement"] = "n/a: no --surro"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True, help="surro train's checkpoint (.h5)")
    ap.add_argument("--dataset", default="", help="dataset folder (default: the checkpoint's data.dataset)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--sample", type=int, default=0, help="trajectory of the split")
    ap.add_argument("--steps", type=int, default=0, help="0 = every reference frame after the window")
    ap.add_argument("--vtk-every", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--surro", default="", help="surro rollout's output folder, for the agreement check")
    ap.add_argument("--case", default="rollout")
    a = ap.parse_args()
    line = {"impl": "torch-eager", "case": a.case, "steps": a.steps, "vtk_every": a.vtk_every,
            "import_s": T_IMPORTED - T_START}

    def finish(status, **extra):
        line.update(extra)
        line["status"] = status
        print(json.dumps(line), flush=True)
        return 0 if status == "ok" else 1

    if a.vtk_every < 1:
        return finish("error", reason="--vtk-every %d: expected a positive integer" % a.vtk_every)
    try:
        run(a, line)
    except PeerError as e:
        return finish("error", reason=str(e))
    except Exception as e:  # out of memory, a library failure: one line that says so
        return finish("error", torch=torch.__version__, reason="%s: %s" % (type(e).__name__, str(e)[:300]))
    return finish("ok")


if __name__ == "__main__":
    sys.exit(main())
