// Unit cube meshed with tetrahedra, for read_msh in 3D (tests/mesh/test_mesh_io.cpp).
SetFactory("Built-in");
lc = 0.34;
Point(1) = {0, 0, 0, lc};
Point(2) = {1, 0, 0, lc};
Point(3) = {1, 1, 0, lc};
Point(4) = {0, 1, 0, lc};
Line(1) = {1, 2};
Line(2) = {2, 3};
Line(3) = {3, 4};
Line(4) = {4, 1};
Curve Loop(1) = {1, 2, 3, 4};
Plane Surface(1) = {1};
out[] = Extrude {0, 0, 1} { Surface{1}; };
// out[0] top, out[1] volume, out[2..5] the sides from lines 1..4 (y = 0, x = 1, y = 1, x = 0).
Physical Surface("inlet", 1) = {out[5]};
Physical Surface("outlet", 2) = {out[3]};
Physical Surface("walls", 3) = {1, out[0], out[2], out[4]};
Physical Volume("fluid", 4) = {out[1]};
