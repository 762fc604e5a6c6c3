#!/usr/bin/env python3
"""Checks a report.html written by `surro report`, with the standard library only.

  check_report.py REPORT.html [--metrics metrics.json] [--min-images N]
  check_report.py --reference-change METRICS.json FIELD STEP1.vti STEP2.vti
  check_report.py --write-png FILE.png [DESCRIPTION]     a small PNG written here (struct + zlib)
  check_report.py --embedded REPORT.html FILE.png [CAPTION_TEXT]

Passes (exit 0) when the page is self-contained (no http(s) URL, every src/href a data: URI or an
in-page anchor, no <link>/<iframe>/<object>), every <img> is a PNG whose chunks have valid CRCs and
whose image data inflates to exactly the rows its header promises, each starting with a valid
filter byte (a full decode short of unfiltering), and every number tagged data-key="path" reads
as metrics.json's value at that path printed with %.6g, with every per-step value shown.
Prints one line per failure.
--write-png writes an 8x4 RGB PNG with an optional tEXt Description (an independent writer for the
report's ParaView image); --embedded passes when one <img> of the report decodes to exactly the bytes
of FILE.png and its <figcaption> contains CAPTION_TEXT.
"""
import argparse
import base64
import html.parser
import json
import math
import re
import struct
import sys
import zlib


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.refs, self.tags, self.numbers = [], [], [], []
        self._key, self._text = None, ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(a.get("src", ""))
        for name in ("src", "href", "data", "poster", "srcset"):
            if name in a and tag != "img":
                self.refs.append((tag, name, a[name]))
        if "data-key" in a:
            self._key, self._text = a["data-key"], ""

    def handle_data(self, data):
        if self._key is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._key is not None and tag == "td":
            self.numbers.append((self._key, self._text.strip()))
            self._key = None


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def check_png(data):
    """Returns "" for a decodable PNG, else what is wrong."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "no PNG signature"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        if pos + 8 > len(data):
            return "truncated chunk header"
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            return "truncated %s chunk" % kind
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return "bad CRC in %s" % kind
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        return "no IHDR"
    width, height, depth, colour, _, _, interlace = header
    if width == 0 or height == 0 or colour not in CHANNELS or interlace != 0:
        return "unexpected header %r" % (header,)
    row = 1 + (width * CHANNELS[colour] * depth + 7) // 8
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        return "image data does not inflate: %s" % e
    if len(raw) != row * height:
        return "%d bytes of image data, expected %d for %dx%d" % (len(raw), row * height, width, height)
    if any(raw[r * row] > 4 for r in range(height)):
        return "a row has an invalid filter byte"
    return ""


def vti_array(path, name):
    """Point array `name` of a .vti written by VTK's XML writer (appended raw data, UInt64 headers,
    optionally zlib-compressed blocks), as a list of floats (Float32 or Float64)."""
    raw = open(path, "rb").read()
    head = raw[:raw.index(b"<AppendedData")].decode()
    m = re.search(r'<DataArray type="(Float32|Float64)" Name="%s"[^>]*offset="(\d+)"' % re.escape(name), head)
    if not m:
        raise ValueError("%s: no array %s" % (path, name))
    fmt, offset = ("f", 4) if m.group(1) == "Float32" else ("d", 8), int(m.group(2))
    data = raw[raw.index(b"_", raw.index(b"<AppendedData")) + 1 + offset:]
    if 'compressor="vtkZLibDataCompressor"' in head:
        nblocks = struct.unpack("<Q", data[:8])[0]
        sizes = struct.unpack("<%dQ" % (3 + nblocks), data[:8 * (3 + nblocks)])[3:]
        pos, payload = 8 * (3 + nblocks), b""
        for size in sizes:
            payload += zlib.decompress(data[pos:pos + size])
            pos += size
    else:
        n = struct.unpack("<Q", data[:8])[0]
        payload = data[8:8 + n]
    return list(struct.unpack("<%d%s" % (len(payload) // fmt[1], fmt[0]), payload))


def check_reference_change(metrics_path, field, first, second):
    """metrics.json per_step.reference_change_rms[0] of a one-sample rollout started one frame later
    than the one that wrote `first` (step 1) and `second` (step 2) is the RMS of their references'
    difference: the same frames, read back from VTK's files."""
    a, b = vti_array(first, field + "_ref"), vti_array(second, field + "_ref")
    want = math.sqrt(sum((y - x) ** 2 for x, y in zip(a, b)) / len(a))
    got = json.load(open(metrics_path))["per_step"]["reference_change_rms"][0]
    # Both sum the same float32 values in double: they agree to round-off of the sums.
    if abs(got - want) > 1e-9 * want:
        print("FAIL: reference_change_rms[0] = %r, expected %r from %s and %s" % (got, want, first, second))
        return 1
    print("reference_change_rms[0] = %.9g, as from the VTK files" % got)
    return 0


def write_png(path, description=None):
    """An 8x4 RGB gradient, one IDAT, written with struct and zlib only."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + bytes(v for x in range(8) for v in (32 * x, 64 * y, 128)) for y in range(4))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 4, 8, 2, 0, 0, 0))
    if description is not None:
        data += chunk(b"tEXt", b"Description\0" + description.encode("latin-1"))
    data += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)
    return 0


class Figures(html.parser.HTMLParser):
    """(img src, figcaption text) of every <figure>."""

    def __init__(self):
        super().__init__()
        self.figures, self._src, self._caption = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self._src = dict(attrs).get("src", "")
        elif tag == "figcaption":
            self._caption = ""

    def handle_data(self, data):
        if self._caption is not None:
            self._caption += data

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self.figures.append((self._src, self._caption))
            self._caption = None


def check_embedded(report, png, caption=""):
    """One figure's image is exactly the bytes of `png` and its caption contains `caption`."""
    want = open(png, "rb").read()
    page = Figures()
    page.feed(open(report, encoding="utf-8").read())
    prefix = "data:image/png;base64,"
    for src, text in page.figures:
        if src and src.startswith(prefix) and base64.b64decode(src[len(prefix):]) == want:
            if caption not in text:
                print("FAIL: %s: the figure of %s has the caption %r, expected it to contain %r" % (report, png, text, caption))
                return 1
            print("%s: embeds %s (%d bytes) with the caption %r" % (report, png, len(want), text))
            return 0
    print("FAIL: %s: no figure decodes to the %d bytes of %s (%d figures)" % (report, len(want), png, len(page.figures)))
    return 1


def lookup(doc, key):
    """metrics.json value at a path like 'rel_l2_mean' or 'per_step.rmse[3]'."""
    value = doc
    for part in key.split("."):
        m = re.fullmatch(r"([^\[]+)(?:\[(\d+)\])?", part)
        value = value[m.group(1)]
        if m.group(2) is not None:
            value = value[int(m.group(2))]
    return value


def main():
    ap = argparse.ArgumentParser()
    if len(sys.argv) == 6 and sys.argv[1] == "--reference-change":
        return check_reference_change(*sys.argv[2:])
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--write-png":
        return write_png(*sys.argv[2:])
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--embedded":
        return check_embedded(*sys.argv[2:])
    ap.add_argument("report")
    ap.add_argument("--metrics")
    ap.add_argument("--min-images", type=int, default=1)
    args = ap.parse_args()
    text = open(args.report, encoding="utf-8").read()
    page = Page()
    page.feed(text)
    failures = []
    if re.search(r"https?://", text):
        failures.append("the page names an http(s) URL")
    for tag in ("link", "iframe", "object", "embed"):
        if tag in page.tags:
            failures.append("the page has a <%s> element" % tag)
    for tag, name, value in page.refs:
        if not (value.startswith("data:") or value.startswith("#")):
            failures.append("<%s %s=%r> refers to another file" % (tag, name, value[:60]))
    if len(page.images) < args.min_images:
        failures.append("%d images, expected at least %d" % (len(page.images), args.min_images))
    for i, src in enumerate(page.images):
        prefix = "data:image/png;base64,"
        if not src.startswith(prefix):
            failures.append("image %d: src is not a PNG data: URI (%r)" % (i, src[:40]))
            continue
        try:
            data = base64.b64decode(src[len(prefix):], validate=True)
        except ValueError as e:
            failures.append("image %d: bad base64: %s" % (i, e))
            continue
        why = check_png(data)
        if why:
            failures.append("image %d: %s" % (i, why))
    if args.metrics:
        metrics = json.load(open(args.metrics))
        shown = dict(page.numbers)
        for key, value in page.numbers:
            try:
                want = "%.6g" % lookup(metrics, key)
            except (KeyError, IndexError, TypeError):
                failures.append("%s is shown (%s) but not in %s" % (key, value, args.metrics))
                continue
            if value != want:
                failures.append("%s: the page shows %s, metrics.json has %s" % (key, value, want))
        for key in ("rel_l2_mean", "rmse", "steps", "samples"):
            if key in metrics and key not in shown:
                failures.append("%s of metrics.json is not shown" % key)
        for name, values in metrics.get("per_step", {}).items():
            missing = [t for t in range(len(values)) if "per_step.%s[%d]" % (name, t) not in shown]
            if missing:
                failures.append("per_step.%s: steps %s not shown" % (name, missing[:5]))
    for f in failures:
        print("FAIL: %s: %s" % (args.report, f))
    if not failures:
        print("%s: %d images decode, %d numbers match" % (args.report, len(page.images), len(page.numbers)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
