#!/usr/bin/python3
"""Independent writer of MeshGraphNets-style TFRecord datasets for surro's [tfrecord] test.

Builds tf.train.Example messages with Google's Python protobuf (classes protoc generates from
datasets/proto/tf_example.proto into a temporary folder), frames them as TFRecord with a CRC32C
computed here bit by bit (not with surro's table), and writes, under OUT:

  good/       meta.json (dt = 0.02, field shapes with -1) and train.tfrecord: 3 trajectories of
              T = 5 steps on 30, 37 and 23 nodes; valid.tfrecord: no records
  nodt/       the same records; meta.json without dt and pressure's time axis given as -1
  badcrc/     train.tfrecord with one data byte of record 1 flipped
  badlen/     train.tfrecord with record 0's length CRC damaged
  truncated/  train.tfrecord cut inside record 1's data
  badnodes/   record 1's pressure has one node fewer than its mesh_pos
  badmeta/    meta.json declares velocity with 3 components
  badsize/    record 1's mesh_pos is 2 bytes short
  badtype/    meta.json declares pressure as int32
  notexample/ record 1 is framed correctly but is not a tf.train.Example
  offsets.json  byte offset of each record of good/train.tfrecord

With --splits first (make_tfrecord.py --splits OUT PROTOC PROTO_DIR), for the `surro import` test
(tests/app/import_test.sh), it writes instead:

  cylinder_flow/  meta.json as good/, train.tfrecord trajectories b = 0..4, valid.tfrecord b = 20, 21,
                  test.tfrecord b = 40, 41 (record r of a split is trajectory b = first + r)
  corrupt/        meta.json, train.tfrecord of b = 0..3 with one data byte of record 2 flipped
  expected.txt    lines "SPLIT RECORD K I C VALUE": velocity values of chosen points, VALUE the float32
                  value printed with %.9g (so it compares as text with h5dump -m %.9g)

Values are exact in float32, so the C++ test compares with ==:
  mesh_pos[i]      = (i / 8 + b, (i % 5) / 4)
  cells[j]         = (j, j + 1, j + 2)                 j < V - 2
  node_type[i]     = (0, 4, 5, 6)[i % 4]
  velocity[k,i,c]  = k + i / 64 + c / 2 + 10 b
  pressure[k,i]    = -(100 k + i) - 1000 b

Node counts cycle through NODES (trajectory b has NODES[b % 3] nodes).
Usage: make_tfrecord.py [--splits] OUT PROTOC PROTO_DIR. Exit status 3: google.protobuf is missing.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

try:
    import google.protobuf  # noqa: F401
except ImportError:
    sys.stderr.write("make_tfrecord.py: Python module google.protobuf not found for " + sys.executable +
                     ": install the Debian package python3-protobuf\n")
    sys.exit(3)

STEPS = 5
NODES = (30, 37, 23)
NODE_TYPES = (0, 4, 5, 6)


def crc32c(data):
    """CRC-32C, bit by bit: reflected Castagnoli polynomial, init and final xor all ones."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked(crc32c(length))) + data + struct.pack("<I", masked(crc32c(data)))


def trajectory(pb, b, drop_pressure_node=False, cut_mesh_pos=0):
    v = NODES[b % len(NODES)]
    pos = [x for i in range(v) for x in (i / 8 + b, (i % 5) / 4)]
    cells = [x for j in range(v - 2) for x in (j, j + 1, j + 2)]
    types = [NODE_TYPES[i % 4] for i in range(v)]
    vel = [k + i / 64 + c / 2 + 10 * b for k in range(STEPS) for i in range(v) for c in range(2)]
    vp = v - 1 if drop_pressure_node else v
    pres = [-(100 * k + i) - 1000 * b for k in range(STEPS) for i in range(vp)]
    raw = {
        "mesh_pos": struct.pack("<%df" % len(pos), *pos)[:len(pos) * 4 - cut_mesh_pos],
        "cells": struct.pack("<%di" % len(cells), *cells),
        "node_type": struct.pack("<%di" % len(types), *types),
        "velocity": struct.pack("<%df" % len(vel), *vel),
        "pressure": struct.pack("<%df" % len(pres), *pres),
    }
    ex = pb.Example()
    for name, data in raw.items():
        ex.features.feature[name].bytes_list.value.append(data)
    # A feature of another kind, which the reader must ignore.
    ex.features.feature["note"].int64_list.value.extend([7, 8])
    return ex.SerializeToString()


def meta(with_dt=True, velocity_components=2, pressure_dtype="float32"):
    m = {
        "simulator": "surro-test",
        "trajectory_length": STEPS,
        "field_names": ["cells", "mesh_pos", "node_type", "velocity", "pressure"],
        "features": {
            "cells": {"type": "static", "shape": [1, -1, 3], "dtype": "int32"},
            "mesh_pos": {"type": "static", "shape": [1, -1, 2], "dtype": "float32"},
            "node_type": {"type": "static", "shape": [1, -1, 1], "dtype": "int32"},
            "velocity": {"type": "dynamic", "shape": [STEPS, -1, velocity_components], "dtype": "float32"},
            "pressure": {"type": "dynamic", "shape": [-1 if not with_dt else STEPS, -1, 1],
                         "dtype": pressure_dtype},
        },
    }
    if with_dt:
        m["dt"] = 0.02
    return m


def write(folder, name, content):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)


def load_pb(protoc, proto_dir):
    """The Example message classes, generated by protoc into a temporary folder."""
    gen = tempfile.mkdtemp(prefix="surro_tfrecord_pb2_")
    try:
        subprocess.run([protoc, "-I", proto_dir, "--python_out", gen, "tf_example.proto"], check=True)
        sys.path.insert(0, gen)
        import tf_example_pb2 as pb
    finally:
        shutil.rmtree(gen)
    return pb


SPLITS = {"train": range(0, 5), "valid": range(20, 22), "test": range(40, 42)}
# (split, record, k, i, c) whose velocity expected.txt states.
PROBES = (("train", 0, 0, 0, 0), ("train", 4, 3, 7, 1), ("valid", 1, 2, 20, 0), ("test", 0, 4, 22, 1))


def splits_main(out, pb):
    """The folders of the `surro import` test: three splits, and a damaged train split."""
    folder = os.path.join(out, "cylinder_flow")
    write(folder, "meta.json", json.dumps(meta()))
    for split, trajectories in SPLITS.items():
        write(folder, split + ".tfrecord", b"".join(frame(trajectory(pb, b)) for b in trajectories))
    framed = [frame(trajectory(pb, b)) for b in range(4)]
    bad = bytearray(b"".join(framed))
    bad[sum(len(f) for f in framed[:2]) + 12 + 100] ^= 0x10  # a data byte of record 2
    write(os.path.join(out, "corrupt"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "corrupt"), "train.tfrecord", bytes(bad))
    lines = []
    for split, r, k, i, c in PROBES:
        b = SPLITS[split][r]
        value = struct.unpack("<f", struct.pack("<f", k + i / 64 + c / 2 + 10 * b))[0]
        lines.append("%s %d %d %d %d %.9g\n" % (split, r, k, i, c, value))
    write(out, "expected.txt", "".join(lines))


def main():
    args = sys.argv[1:]
    splits_mode = args[:1] == ["--splits"]
    out, protoc, proto_dir = args[1:4] if splits_mode else args[0:3]
    assert crc32c(b"123456789") == 0xE3069283, "the script's own CRC32C is wrong"
    pb = load_pb(protoc, proto_dir)
    if splits_mode:
        splits_main(out, pb)
        return
    records = [trajectory(pb, b) for b in range(len(NODES))]
    framed = [frame(r) for r in records]
    offsets = [sum(len(f) for f in framed[:b]) for b in range(len(framed))]
    good = b"".join(framed)
    write(os.path.join(out, "good"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "good"), "train.tfrecord", good)
    write(os.path.join(out, "good"), "valid.tfrecord", b"")
    write(os.path.join(out, "nodt"), "meta.json", json.dumps(meta(with_dt=False)))
    write(os.path.join(out, "nodt"), "train.tfrecord", good)

    bad = bytearray(good)
    bad[offsets[1] + 12 + 100] ^= 0x10  # a data byte of record 1
    write(os.path.join(out, "badcrc"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "badcrc"), "train.tfrecord", bytes(bad))
    bad = bytearray(good)
    bad[8] ^= 0x01  # record 0's length CRC
    write(os.path.join(out, "badlen"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "badlen"), "train.tfrecord", bytes(bad))
    write(os.path.join(out, "truncated"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "truncated"), "train.tfrecord", good[:offsets[1] + 12 + 50])
    write(os.path.join(out, "badnodes"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "badnodes"), "train.tfrecord",
          framed[0] + frame(trajectory(pb, 1, drop_pressure_node=True)))
    write(os.path.join(out, "badsize"), "meta.json", json.dumps(meta()))
    write(os.path.join(out, "badsize"), "train.tfrecord",
          framed[0] + frame(trajectory(pb, 1, cut_mesh_pos=2)))
    write(os.path.join(out, "badmeta"), "meta.json", json.dumps(meta(velocity_components=3)))
    write(os.path.join(out, "badmeta"), "train.tfrecord", good)
    write(os.path.join(out, "badtype"), "meta.json", json.dumps(meta(pressure_dtype="int32")))
    write(os.path.join(out, "badtype"), "train.tfrecord", good)
    write(os.path.join(out, "notexample"), "meta.json", json.dumps(meta()))
    # Field 1 (features), length-delimited, claiming 100 bytes of which 2 follow.
    write(os.path.join(out, "notexample"), "train.tfrecord", framed[0] + frame(b"\x0a\x64\x0a\x00"))
    write(out, "offsets.json", json.dumps({"offsets": offsets, "size": len(good)}))


if __name__ == "__main__":
    main()
