#!/usr/bin/env bash
# Regenerates the .msh fixtures of tests/mesh/test_mesh_io.cpp with Debian's gmsh program (4.8.4), a
# writer independent of surro's reader, then derives the broken copies with python3.
#   channel_v41.msh      ASCII MSH 4.1      channel_v41_bin.msh  binary MSH 4.1
#   channel_v22.msh      ASCII MSH 2.2      channel_quad.msh     quadrilaterals (unsupported)
#   channel_p2.msh       6-node triangles (unsupported)
#   box_v41.msh          the unit cube in tetrahedra, ASCII MSH 4.1
#   broken_truncated.msh      the ASCII 4.1 file cut in the middle of $Nodes
#   broken_truncated_bin.msh  the binary file cut in the middle
#   broken_garbled.msh        one node line of the ASCII 4.1 file replaced by text
#   broken_garbled_v22.msh    one node line of the 2.2 file replaced by text
#   broken_inverted.msh       an interior node moved across its neighbours (folded cells)
#   broken_duplicate.msh      an interior node moved onto another node's position
set -euo pipefail
cd "$(dirname "$0")"
gmsh -2 -format msh41 channel.geo -o channel_v41.msh >/dev/null
gmsh -2 -format msh41 -bin channel.geo -o channel_v41_bin.msh >/dev/null
gmsh -2 -format msh22 channel.geo -o channel_v22.msh >/dev/null
gmsh -2 -format msh41 channel_quad.geo -o channel_quad.msh >/dev/null
gmsh -2 -order 2 -format msh41 channel.geo -o channel_p2.msh >/dev/null
gmsh -3 -format msh41 box.geo -o box_v41.msh >/dev/null
python3 - <<'PY'
import re

def lines(path):
    with open(path) as f:
        return f.read().split("\n")

def save(path, ls):
    with open(path, "w") as f:
        f.write("\n".join(ls))

v41 = lines("channel_v41.msh")
start, end = v41.index("$Nodes"), v41.index("$EndNodes")
save("broken_truncated.msh", v41[: (start + end) // 2])

with open("channel_v41_bin.msh", "rb") as f:
    data = f.read()
with open("broken_truncated_bin.msh", "wb") as f:
    f.write(data[: len(data) // 2])

# MSH 4.1 $Nodes: per entity block "dim tag parametric n", n tags, then n coordinate lines. Collect
# (line index, tag, x, y) of the nodes of the surface block (dim 2): interior nodes.
def interior_nodes(ls):
    i = ls.index("$Nodes") + 2
    out = []
    while ls[i] != "$EndNodes":
        dim, _, _, n = map(int, ls[i].split())
        tags = [int(t) for t in ls[i + 1 : i + 1 + n]]
        for k in range(n):
            x, y, _ = map(float, ls[i + 1 + n + k].split())
            if dim == 2:
                out.append((i + 1 + n + k, tags[k], x, y))
        i += 1 + 2 * n
    return out

inner = interior_nodes(v41)
garbled = list(v41)
garbled[inner[0][0]] = "0.25 not-a-number 0"
save("broken_garbled.msh", garbled)

# The interior node nearest the domain's centre, moved by 0.3 in x: its triangles fold over others.
centre = min(inner, key=lambda n: (n[2] - 0.7) ** 2 + (n[3] - 0.25) ** 2)
inverted = list(v41)
inverted[centre[0]] = "%.16g %.16g 0" % (centre[2] - 0.3, centre[3])
save("broken_inverted.msh", inverted)

other = min((n for n in inner if n is not centre), key=lambda n: (n[2] - centre[2]) ** 2 + (n[3] - centre[3]) ** 2)
duplicate = list(v41)
duplicate[centre[0]] = v41[other[0]]
save("broken_duplicate.msh", duplicate)

v22 = lines("channel_v22.msh")
i = v22.index("$Nodes") + 2 + 150  # a node line in the middle of the section
assert re.match(r"^\d+ ", v22[i])
v22[i] = v22[i].split()[0] + " 0.5 garbage 0"
save("broken_garbled_v22.msh", v22)
PY
ls -la ./*.msh
