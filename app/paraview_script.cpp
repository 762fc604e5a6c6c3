// The ParaView comparison script (app/paraview_script.hpp): a fixed Python text with the series'
// name, its field names and its folder filled in as Python string literals.
#include "app/paraview_script.hpp"

#include "core/error.hpp"
#include "core/io.hpp"

#include <filesystem>
#include <utility>

namespace surro::app {
namespace {

// The script, with @PVD@ (the .pvd's file name), @FIELDS@ (a Python list of strings) and @DIR@
// (the folder) to fill in. Tested with Debian 12's ParaView 5.11 by tests/app/paraview_test.sh.
const char* const kTemplate =
    R"PY(# ParaView view of a surro rollout: prediction, reference and error side by side at the last step.
# Written by `surro rollout` beside @PVD@. Open it with
#   paraview --script=compare.py                the ParaView GUI (or Python Shell > Run Script)
#   pvpython compare.py --png                   a picture of the three views, compare.png beside this
#                                               script (no display: xvfb-run -a pvpython ...; Debian's
#                                               build needs X); `surro report` embeds it in report.html
# Options: --field NAME (one of FIELDS), --png [FILE], --size WIDTHxHEIGHT.
# The three cameras are linked; prediction and reference share one colour range, the range of both
# over every step of the series; the error's range is symmetric about 0 (its magnitude for vectors).
import argparse
import math
import os
import struct
import sys
import zlib

from paraview.simple import *

PVD = "@PVD@"  # the series, in this script's folder
FIELDS = @FIELDS@  # each has the point arrays <field>_pred, <field>_ref, <field>_error
WRITTEN_IN = "@DIR@"  # this script's folder when written: used where __file__ is not set

parser = argparse.ArgumentParser(description="prediction, reference and error of a surro rollout")
parser.add_argument("--field", default=FIELDS[0], choices=FIELDS, help="the field to show")
parser.add_argument("--png", nargs="?", const="",
                    help="save the three views as one PNG image (default name: compare.png beside this script)")
parser.add_argument("--size", default="1800x600", help="PNG size in pixels, WIDTHxHEIGHT")
args, _ = parser.parse_known_args(getattr(sys, "argv", [])[1:])

try:
    folder = os.path.dirname(os.path.abspath(__file__))
except NameError:  # the GUI's Python shell may run the script without __file__
    folder = WRITTEN_IN
reader = PVDReader(FileName=os.path.join(folder, PVD))
reader.UpdatePipelineInformation()
try:
    times = [float(t) for t in reader.TimestepValues]
except TypeError:  # a series of one step gives a number
    times = [float(reader.TimestepValues)]
parts = [("pred", "prediction"), ("ref", "reference"), ("error", "error")]
arrays = [args.field + "_" + suffix for suffix, _ in parts]
for name in arrays:
    if name not in reader.PointData.keys():
        raise SystemExit("%s: no point array %s (it has %s)" % (PVD, name, ", ".join(reader.PointData.keys())))
vector = reader.PointData[arrays[0]].GetNumberOfComponents() > 1
component = -1 if vector else 0  # -1: the magnitude


def series_range(names):
    """(min, max) of the named arrays (their magnitude for vectors) over every step of the series."""
    lo, hi = math.inf, -math.inf
    for t in times:
        reader.UpdatePipeline(t)
        for name in names:
            r = reader.PointData[name].GetRange(component)
            lo, hi = min(lo, r[0]), max(hi, r[1])
    return lo, hi


shared = series_range(arrays[:2])  # prediction and reference: one range
err_lo, err_hi = series_range(arrays[2:])
error = (0.0, err_hi) if vector else (-max(abs(err_lo), abs(err_hi)), max(abs(err_lo), abs(err_hi)))
ranges = [shared, shared, error]

# One layout split into three equal columns.
layout = CreateLayout("surro: " + args.field)
layout.SplitHorizontal(0, 1.0 / 3.0)  # cells 1 | 2
layout.SplitHorizontal(2, 0.5)  # cell 2 -> 5 | 6
views = []
for cell, name, (lo, hi), (_, title) in zip([1, 5, 6], arrays, ranges, parts):
    view = CreateView("RenderView")
    layout.AssignView(cell, view)
    display = Show(reader, view)
    ColorBy(display, ("POINTS", name, "Magnitude") if vector else ("POINTS", name))
    lut = GetColorTransferFunction(name)
    # Diverging colours for a signed error, sequential ones for values and error magnitudes.
    preset = "Viridis (matplotlib)" if title != "error" else "Inferno (matplotlib)" if vector else "Cool to Warm"
    lut.ApplyPreset(preset, True)
    lut.AutomaticRescaleRangeMode = "Never"  # keep the shared range when the time changes
    hi = hi if hi > lo else lo + 1e-30  # a constant field still gets a valid range
    lut.RescaleTransferFunction(lo, hi)
    GetOpacityTransferFunction(name).RescaleTransferFunction(lo, hi)
    display.SetScalarBarVisibility(view, True)
    bar = GetScalarBar(lut, view)
    bar.Orientation = "Horizontal"
    bar.WindowLocation = "Lower Center"
    view.OrientationAxesVisibility = 0
    label = Text(Text="%s: %s" % (title, args.field))
    Show(label, view)
    views.append(view)

# Flat data (2D grids and meshes, z = 0) get 2D interaction; the cameras follow the first view.
bounds = reader.GetDataInformation().GetBounds()
for view in views:
    view.InteractionMode = "2D" if bounds[4] == bounds[5] else "3D"
for i, view in enumerate(views[1:]):
    AddCameraLink(views[0], view, "surro_camera_%d" % (i + 1))
ResetCamera(views[0])

# The last step of the series.
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
scene.AnimationTime = times[-1]
for view in views:
    view.ViewTime = times[-1]
    Render(view)
SetActiveView(views[0])



def describe_png(path, text):
    """Adds a tEXt chunk Description (Latin-1) after the IHDR chunk of the PNG `path`: the caption
    surro report shows. Written to a temporary file, then renamed over `path`."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise SystemExit("%s: not the PNG SaveScreenshot should have written" % path)
    body = b"tEXt" + b"Description\0" + text.encode("latin-1", "replace")
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(path + ".tmp", "wb") as f:
        f.write(data[:33] + chunk + data[33:])  # signature (8) + IHDR (4 + 4 + 13 + 4)
    os.replace(path + ".tmp", path)


if args.png is not None:
    png = os.path.abspath(args.png) if args.png else os.path.join(folder, "compare.png")
    width, height = (int(v) for v in args.size.split("x"))
    SaveScreenshot(png, layout, ImageResolution=[width, height])
    describe_png(png, "%s at t = %.6g, the last of %d steps of %s: prediction | reference | error; "
                 "prediction and reference coloured over [%.6g, %.6g], error over [%.6g, %.6g]"
                 % (args.field, times[-1], len(times), PVD, shared[0], shared[1], error[0], error[1]))
    print("wrote %s (%s at t = %g)" % (png, args.field, times[-1]))
print("%s: prediction and reference range %.9g %.9g over %d steps" % (args.field, shared[0], shared[1], len(times)))
)PY";

// `text` as the inside of a double-quoted Python string literal: backslash and quote escaped.
// `what` names the value for the error on a control character (a newline would end the literal).
std::string python_quoted(const std::string& text, const std::string& what) {
  std::string out;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      SURRO_THROW(ErrorKind::input,
                  "ParaView script: " << what << " '" << text << "': expected no control characters");
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

// `text` with each @KEY@ of `values` replaced in one pass, so a value is never scanned again.
std::string fill(const std::string& text, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [key, value] : values)
      if (text.compare(i, key.size(), key) == 0) {
        out += value;
        i += key.size();
        replaced = true;
        break;
      }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace

std::string paraview_compare_script(const std::string& pvd_path, const std::vector<std::string>& fields) {
  namespace fs = std::filesystem;
  if (fields.empty())
    SURRO_THROW(ErrorKind::usage, "ParaView script for " << pvd_path << ": expected at least one field name");
  const fs::path pvd(pvd_path);
  std::string list = "[";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty())
      SURRO_THROW(ErrorKind::input,
                  "ParaView script for " << pvd_path << ": field " << i << " has an empty name");
    list += (i ? ", \"" : "\"") + python_quoted(fields[i], "field name") + "\"";
  }
  list += "]";
  return fill(kTemplate, {{"@PVD@", python_quoted(pvd.filename().string(), "series file name")},
                          {"@FIELDS@", list},
                          {"@DIR@", python_quoted(fs::absolute(pvd).parent_path().string(), "folder")}});
}

std::string write_paraview_compare(const std::string& pvd_path, const std::vector<std::string>& fields) {
  const std::string path = (std::filesystem::path(pvd_path).parent_path() / kParaviewScriptName).string();
  io::write_text_atomic(path, paraview_compare_script(pvd_path, fields));
  return path;
}

}  // namespace surro::app
