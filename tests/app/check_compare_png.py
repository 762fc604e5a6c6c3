# Checks a PNG saved by a rollout's compare.py (app/paraview_script.hpp): run with pvpython, which
# brings VTK's PNG reader and numpy.
#   pvpython check_compare_png.py IMAGE.png WIDTH HEIGHT FOLDER FIELD LO HI
# The image has the requested size and three panels (prediction | reference | error). In each panel
# the data is drawn: at least 10 % of its pixels differ clearly from the background (the image's most
# frequent colour); the title and scalar bar alone cover about 4 % at 1800x600. In the prediction
# and reference panels at least 5 % of the pixels are strongly coloured (max - min of R, G, B >= 60,
# which the grey background, white text and an uncoloured white surface never reach): the data is
# coloured by a colour map. LO HI, the shared range compare.py printed, is the min and max of
# FIELD_pred and FIELD_ref (magnitudes for vectors) over every step file in FOLDER, read here with
# VTK's own XML readers (not through the .pvd and paraview.simple as compare.py does); float32 values
# printed with 9 digits must match to a relative 1e-7.
# Exit 0 when all hold, 1 with a message naming the failed check.
import glob
import sys

import numpy as np
from paraview.vtk.util.numpy_support import vtk_to_numpy
from paraview.vtk.vtkIOImage import vtkPNGReader
from paraview.vtk.vtkIOXML import vtkXMLImageDataReader, vtkXMLUnstructuredGridReader

path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
folder, field, printed = sys.argv[4], sys.argv[5], (float(sys.argv[6]), float(sys.argv[7]))
reader = vtkPNGReader()
reader.SetFileName(path)
reader.Update()
image = reader.GetOutput()
w, h, _ = image.GetDimensions()
if (w, h) != (width, height):
    sys.exit("%s: %dx%d pixels, expected %dx%d" % (path, w, h, width, height))
pixels = vtk_to_numpy(image.GetPointData().GetScalars())[:, :3].astype(int).reshape(h, w, 3)  # (H, W, 3)

colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
background = colours[np.argmax(counts)]
failures = []
for i, name in enumerate(["prediction", "reference", "error"]):
    panel = pixels[:, i * w // 3 : (i + 1) * w // 3]  # (H, W/3, 3)
    drawn = np.mean(np.abs(panel - background).sum(axis=2) > 40)
    saturated = np.mean(panel.max(axis=2) - panel.min(axis=2) >= 60)
    print("%s: %s panel: %.1f %% drawn, %.1f %% strongly coloured" % (path, name, 100 * drawn, 100 * saturated))
    if drawn < 0.10:
        failures.append("%s panel: %.1f %% of pixels differ from the background, expected >= 10 %%" % (name, 100 * drawn))
    if name != "error" and saturated < 0.05:
        failures.append("%s panel: %.1f %% strongly coloured pixels, expected >= 5 %%" % (name, 100 * saturated))
lo, hi = np.inf, -np.inf
files = sorted(glob.glob(folder + "/*_[0-9][0-9][0-9][0-9][0-9][0-9].vt[iu]"))
for name in files:
    step = vtkXMLImageDataReader() if name.endswith(".vti") else vtkXMLUnstructuredGridReader()
    step.SetFileName(name)
    step.Update()
    for suffix in ("_pred", "_ref"):
        values = vtk_to_numpy(step.GetOutput().GetPointData().GetArray(field + suffix)).astype(float)
        values = np.linalg.norm(values, axis=1) if values.ndim == 2 else values  # (N,)
        lo, hi = min(lo, values.min()), max(hi, values.max())
print("%s: range of %s over %d files %.9g %.9g, compare.py printed %.9g %.9g" % (folder, field, len(files), lo, hi, *printed))
if not files or not np.allclose(printed, (lo, hi), rtol=1e-7, atol=1e-30):
    failures.append("shared range %s, expected %s over %d step files" % (printed, (lo, hi), len(files)))
if failures:
    sys.exit(path + ": " + "; ".join(failures))
