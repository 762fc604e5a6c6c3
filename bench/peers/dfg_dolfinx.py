"""DOLFINx peer for surro's finite-element Navier-Stokes solver: the DFG "flow around a cylinder"
benchmarks 2D-3 (U_m(t) = 1.5 sin(pi t / 8), t in [0, 8]) and 2D-1 (steady, U_m = 0.3), Schaefer &
Turek 1996, with the same discretization as surro: Taylor-Hood P2-P1 and the incremental pressure
correction scheme (IPCS)

  1. tentative velocity u*: rho (u* - u^n)/dt + rho (3/2 u^n - 1/2 u^{n-1}) . grad (u* + u^n)/2
     - div(mu grad (u* + u^n)/2) + grad p^n = 0 (Crank-Nicolson viscosity, Adams-Bashforth
     extrapolated advecting velocity; Dirichlet inflow, no-slip walls and cylinder, do-nothing
     outlet: the natural condition of the grad-form viscous term and the weak pressure term);
  2. pressure correction phi = p^{n+1} - p^n: (grad phi, grad q) = -rho/dt (div u*, q), phi = 0 on
     the outlet;
  3. velocity correction with the mass matrix: (rho u^{n+1}, v) = (rho u*, v) - dt (grad phi, v).

Written for DOLFINx 0.5.2 as Debian 12 ships it (python3-dolfinx): run with /usr/bin/python3,
single process, OMP_NUM_THREADS=1. Its dolfinx.io.gmshio.read_from_msh is broken (returns an
undefined name), so a .msh file is merged into a gmsh model and converted with model_to_mesh.

Usage:
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/peers/dfg_dolfinx.py --size 0.04 --size-obstacle 0.01 \
      --write-msh dfg.msh --dt 0.000625 --t-end 8 --csv dfg_2d3.csv
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/peers/dfg_dolfinx.py --msh dfg.msh --case 2d1 --dt 0.01 --t-end 20

Prints progress to stderr and one JSON line on stdout (see bench/README.md, "DFG peer").
"""
import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import gmsh  # noqa: E402
import ufl  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import dolfinx  # noqa: E402
from dolfinx import fem, geometry  # noqa: E402
from dolfinx.fem import petsc as fpetsc  # noqa: E402
from dolfinx.io import gmshio  # noqa: E402

# DFG geometry (reference/mesh-models.md section 5)
L, H_CH, CX, CY, R = 2.2, 0.41, 0.2, 0.2, 0.05
D = 2 * R
BOUNDARY_GROUPS = ("inlet", "outlet", "walls", "cylinder")
REFERENCE = {
    "2d3": {"max_cd": 2.950921575, "t_max_cd": 3.93625, "max_cl": 0.47795, "t_max_cl": 5.693125,
            "dp_final": -0.1116},
    "2d1": {"cd": 5.57953523384, "cl": 0.010618948146, "dp": 0.11752016697},
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--msh", help="Gmsh .msh: triangles; groups inlet/outlet/walls/cylinder (curves), fluid")
    src.add_argument("--size", type=float, help="build the DFG mesh: element size far from the cylinder")
    ap.add_argument("--size-obstacle", type=float, help="element size on the cylinder (with --size)")
    ap.add_argument("--dist-min", type=float, default=0.05,
                    help="size field: distance from the cylinder up to which the size is --size-obstacle")
    ap.add_argument("--dist-max", type=float, default=0.4,
                    help="size field: distance from the cylinder from which the size is --size")
    ap.add_argument("--write-msh", help="write the built mesh here (for surro to read the identical mesh)")
    ap.add_argument("--msh-version", default="4.1", choices=("4.1", "2.2"), help="format of --write-msh")
    ap.add_argument("--case", default="2d3", choices=("2d3", "2d1"))
    ap.add_argument("--dt", type=float, default=1.0 / 1600)
    ap.add_argument("--t-end", type=float, help="final time (default 8 for 2d3, 20 for 2d1)")
    ap.add_argument("--csv", help="write t, c_D, c_L, dp per step here")
    ap.add_argument("--warmup", type=int, default=5, help="steps left out of seconds_per_step")
    ap.add_argument("--steady-tol", type=float, default=1e-4,
                    help="2d1: converged when max|u^{n+1} - u^n| / (dt max|u^{n+1}|) falls below this")
    ap.add_argument("--ksp-rtol", type=float, default=1e-8, help="relative tolerance of all three solves")
    ap.add_argument("--pressure-pc", default="hypre", choices=("hypre", "gamg", "jacobi"),
                    help="preconditioner of the pressure Poisson CG (hypre = BoomerAMG)")
    a = ap.parse_args()
    if a.size is not None and a.size_obstacle is None:
        ap.error("--size needs --size-obstacle")
    if a.t_end is None:
        a.t_end = 8.0 if a.case == "2d3" else 20.0
    return a


def build_dfg_model(h, h0, dist_min, dist_max):
    """DFG channel minus the cylinder in the current gmsh model (OpenCASCADE kernel), with physical
    groups inlet/outlet/walls/cylinder (tags 1..4) and fluid (tag 5), meshed with linear triangles."""
    occ = gmsh.model.occ
    rect = occ.addRectangle(0, 0, 0, L, H_CH)
    disk = occ.addDisk(CX, CY, 0, R, R)
    fluid, _ = occ.cut([(2, rect)], [(2, disk)])
    occ.synchronize()
    groups = {name: [] for name in BOUNDARY_GROUPS}
    for dim, tag in gmsh.model.getBoundary(fluid, oriented=False):
        x, y, _ = occ.getCenterOfMass(dim, tag)
        if abs(x) < 1e-8:
            groups["inlet"].append(tag)
        elif abs(x - L) < 1e-8:
            groups["outlet"].append(tag)
        elif abs(y) < 1e-8 or abs(y - H_CH) < 1e-8:
            groups["walls"].append(tag)
        else:
            groups["cylinder"].append(tag)
    for i, name in enumerate(BOUNDARY_GROUPS):
        if not groups[name]:
            raise RuntimeError(f"DFG geometry: no boundary curve found for group {name}")
        gmsh.model.addPhysicalGroup(1, groups[name], i + 1)
        gmsh.model.setPhysicalName(1, i + 1, name)
    gmsh.model.addPhysicalGroup(2, [t for _, t in fluid], 5)
    gmsh.model.setPhysicalName(2, 5, "fluid")
    # size h0 within dist_min of the cylinder, growing linearly to h at dist_max
    fd = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(fd, "CurvesList", groups["cylinder"])
    gmsh.model.mesh.field.setNumber(fd, "NumPointsPerCurve", 200)
    ft = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(ft, "InField", fd)
    gmsh.model.mesh.field.setNumber(ft, "SizeMin", h0)
    gmsh.model.mesh.field.setNumber(ft, "SizeMax", h)
    gmsh.model.mesh.field.setNumber(ft, "DistMin", dist_min)
    gmsh.model.mesh.field.setNumber(ft, "DistMax", dist_max)
    gmsh.model.mesh.field.setAsBackgroundMesh(ft)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay
    gmsh.model.mesh.generate(2)


def load_mesh(args):
    """(mesh, facet_tags, {group name: tag}). The gmsh model lives only inside this function."""
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        if args.msh:
            gmsh.merge(args.msh)
        else:
            gmsh.model.add("dfg")
            build_dfg_model(args.size, args.size_obstacle, args.dist_min, args.dist_max)
            if args.write_msh:
                gmsh.option.setNumber("Mesh.MshFileVersion", float(args.msh_version))
                gmsh.write(args.write_msh)
        names = {gmsh.model.getPhysicalName(d, t): t for d, t in gmsh.model.getPhysicalGroups()}
        for name in BOUNDARY_GROUPS + ("fluid",):
            if name not in names:
                raise RuntimeError(f"{args.msh or 'built mesh'}: physical group '{name}' missing; "
                                   f"groups found: {sorted(names)}")
        mesh, _, ft = gmshio.model_to_mesh(gmsh.model, MPI.COMM_SELF, 0, gdim=2)
    finally:
        gmsh.finalize()
    return mesh, ft, names


class Inflow:
    """Parabolic inflow u = (4 U_m(t) y (H - y) / H^2, 0)."""

    def __init__(self, case):
        self.case, self.t = case, 0.0

    def um(self, t):
        if t is None:
            return 1.0
        return 1.5 * math.sin(math.pi * t / 8.0) if self.case == "2d3" else 0.3

    def __call__(self, x):
        v = np.zeros((2, x.shape[1]), dtype=PETSc.ScalarType)
        v[0] = 4.0 * self.um(self.t) * x[1] * (H_CH - x[1]) / H_CH**2
        return v


def make_ksp(A, ksp_type, pc_type, rtol, hypre=False):
    ksp = PETSc.KSP().create(MPI.COMM_SELF)
    ksp.setOperators(A)
    ksp.setType(ksp_type)
    ksp.getPC().setType(pc_type)
    if hypre:
        ksp.getPC().setHYPREType("boomeramg")
    ksp.setTolerances(rtol=rtol, atol=1e-14, max_it=2000)
    return ksp


class Ipcs:
    """Forms compiled once; A2, A3 assembled once; A1 (convection) reassembled every step."""

    def __init__(self, mesh, ft, names, args):
        self.args = args
        v_el = ufl.VectorElement("Lagrange", mesh.ufl_cell(), 2)
        p_el = ufl.FiniteElement("Lagrange", mesh.ufl_cell(), 1)
        V, Q = fem.FunctionSpace(mesh, v_el), fem.FunctionSpace(mesh, p_el)
        self.V, self.Q = V, Q
        fdim = mesh.topology.dim - 1
        self.inflow = Inflow(args.case)
        # the inflow profile is fixed in space: interpolate it once for U_m = 1, scale per step
        self.u_in = fem.Function(V)
        self.inflow.t = None
        self.u_in.interpolate(self.inflow)
        self.profile = self.u_in.x.array.copy()
        zero = np.zeros(2, dtype=PETSc.ScalarType)

        def dofs(space, name):
            return fem.locate_dofs_topological(space, fdim, ft.find(names[name]))

        self.bcu = [fem.dirichletbc(self.u_in, dofs(V, "inlet")),
                    fem.dirichletbc(zero, dofs(V, "walls"), V),
                    fem.dirichletbc(zero, dofs(V, "cylinder"), V)]
        self.bcp = [fem.dirichletbc(PETSc.ScalarType(0), dofs(Q, "outlet"), Q)]

        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        p, q = ufl.TrialFunction(Q), ufl.TestFunction(Q)
        self.u_, self.u_s, self.u_n, self.u_n1 = (fem.Function(V) for _ in range(4))
        self.p_, self.phi = fem.Function(Q), fem.Function(Q)
        k = fem.Constant(mesh, PETSc.ScalarType(args.dt))
        mu = fem.Constant(mesh, PETSc.ScalarType(1e-3))  # rho nu, rho = 1
        rho = fem.Constant(mesh, PETSc.ScalarType(1.0))
        u_ab = 1.5 * self.u_n - 0.5 * self.u_n1
        u_cn = 0.5 * (u + self.u_n)
        F1 = (rho / k * ufl.dot(u - self.u_n, v) * ufl.dx
              + rho * ufl.inner(ufl.dot(u_ab, ufl.nabla_grad(u_cn)), v) * ufl.dx
              + mu * ufl.inner(ufl.grad(u_cn), ufl.grad(v)) * ufl.dx
              - ufl.dot(self.p_, ufl.div(v)) * ufl.dx)
        self.a1, self.L1 = fem.form(ufl.lhs(F1)), fem.form(ufl.rhs(F1))
        self.A1 = fpetsc.create_matrix(self.a1)
        self.b1 = fpetsc.create_vector(self.L1)
        self.a2 = fem.form(ufl.dot(ufl.grad(p), ufl.grad(q)) * ufl.dx)
        self.L2 = fem.form(-rho / k * ufl.div(self.u_s) * q * ufl.dx)
        self.A2 = fpetsc.assemble_matrix(self.a2, bcs=self.bcp)
        self.A2.assemble()
        self.b2 = fpetsc.create_vector(self.L2)
        self.a3 = fem.form(rho * ufl.dot(u, v) * ufl.dx)
        self.L3 = fem.form(rho * ufl.dot(self.u_s, v) * ufl.dx - k * ufl.dot(ufl.nabla_grad(self.phi), v) * ufl.dx)
        self.A3 = fpetsc.assemble_matrix(self.a3)
        self.A3.assemble()
        self.b3 = fpetsc.create_vector(self.L3)

        rtol = args.ksp_rtol
        self.ksp1 = make_ksp(self.A1, "bcgs", "jacobi", rtol)
        pc2 = args.pressure_pc
        self.ksp2 = make_ksp(self.A2, "cg", pc2, rtol, hypre=(pc2 == "hypre"))
        self.ksp3 = make_ksp(self.A3, "cg", "sor", rtol)
        self.solver_desc = {"tentative_velocity": "bcgs+jacobi", "pressure": f"cg+{pc2}" +
                            ("(boomeramg)" if pc2 == "hypre" else ""), "correction": "cg+sor",
                            "rtol": rtol}
        self.iters = {"ksp1": 0, "ksp2": 0, "ksp3": 0}

        # Force on the cylinder (tutorial form): n points out of the cylinder into the fluid,
        # t = (n_y, -n_x); F_D = int (mu d(u.t)/dn n_y - p n_x), F_L = -int (mu d(u.t)/dn n_x + p n_y).
        n = -ufl.FacetNormal(mesh)
        ds_c = ufl.Measure("ds", domain=mesh, subdomain_data=ft, subdomain_id=names["cylinder"])
        u_t = ufl.inner(ufl.as_vector((n[1], -n[0])), self.u_)
        ubar = 1.0 if args.case == "2d3" else 0.2
        scale = 2.0 / (1.0 * ubar**2 * D)
        self.drag = fem.form(scale * (mu * ufl.inner(ufl.grad(u_t), n) * n[1] - self.p_ * n[0]) * ds_c)
        self.lift = fem.form(-scale * (mu * ufl.inner(ufl.grad(u_t), n) * n[0] + self.p_ * n[1]) * ds_c)
        self._locate_dp_points(mesh)

    def _locate_dp_points(self, mesh):
        pts = np.array([[CX - R, CY, 0.0], [CX + R, CY, 0.0]])
        tree = geometry.BoundingBoxTree(mesh, mesh.topology.dim)
        cand = geometry.compute_collisions(tree, pts)
        coll = geometry.compute_colliding_cells(mesh, cand, pts)
        self.dp_cells = []
        for i in range(2):
            links = coll.links(i)
            if len(links) == 0:
                raise RuntimeError(f"dp point {pts[i, :2]} not found in the mesh")
            self.dp_cells.append(links[0])
        self.dp_points = pts

    def step(self, t, timing):
        """Advance from t - dt to t. timing: dict of accumulated seconds per phase."""
        cb, pb = time.perf_counter(), time.process_time()
        self.u_in.x.array[:] = self.inflow.um(t) * self.profile
        c0 = time.perf_counter()
        # 1. tentative velocity
        self.A1.zeroEntries()
        fpetsc.assemble_matrix(self.A1, self.a1, bcs=self.bcu)
        self.A1.assemble()
        c0b = time.perf_counter()
        with self.b1.localForm() as loc:
            loc.set(0)
        fpetsc.assemble_vector(self.b1, self.L1)
        fpetsc.apply_lifting(self.b1, [self.a1], [self.bcu])
        self.b1.ghostUpdate(addv=PETSc.InsertMode.ADD_VALUES, mode=PETSc.ScatterMode.REVERSE)
        fpetsc.set_bc(self.b1, self.bcu)
        c1 = time.perf_counter()
        self.ksp1.solve(self.b1, self.u_s.vector)
        self.u_s.x.scatter_forward()
        c2 = time.perf_counter()
        # 2. pressure correction
        with self.b2.localForm() as loc:
            loc.set(0)
        fpetsc.assemble_vector(self.b2, self.L2)
        fpetsc.apply_lifting(self.b2, [self.a2], [self.bcp])
        self.b2.ghostUpdate(addv=PETSc.InsertMode.ADD_VALUES, mode=PETSc.ScatterMode.REVERSE)
        fpetsc.set_bc(self.b2, self.bcp)
        c3 = time.perf_counter()
        self.ksp2.solve(self.b2, self.phi.vector)
        self.phi.x.scatter_forward()
        self.p_.vector.axpy(1.0, self.phi.vector)
        self.p_.x.scatter_forward()
        c4 = time.perf_counter()
        # 3. velocity correction
        with self.b3.localForm() as loc:
            loc.set(0)
        fpetsc.assemble_vector(self.b3, self.L3)
        self.b3.ghostUpdate(addv=PETSc.InsertMode.ADD_VALUES, mode=PETSc.ScatterMode.REVERSE)
        c5 = time.perf_counter()
        self.ksp3.solve(self.b3, self.u_.vector)
        self.u_.x.scatter_forward()
        c6 = time.perf_counter()
        for name, ksp in (("ksp1", self.ksp1), ("ksp2", self.ksp2), ("ksp3", self.ksp3)):
            if ksp.getConvergedReason() <= 0:
                raise RuntimeError(f"t={t}: {name} did not converge (reason {ksp.getConvergedReason()})")
            self.iters[name] += ksp.getIterationNumber()
        for key, dt_ in (("assemble_momentum_matrix", c0b - c0), ("assemble_momentum_rhs", c1 - c0b), ("solve_momentum", c2 - c1),
                         ("assemble_pressure_rhs", c3 - c2), ("solve_pressure", c4 - c3),
                         ("assemble_correction_rhs", c5 - c4), ("solve_correction", c6 - c5)):
            timing[key] = timing.get(key, 0.0) + dt_
        timing["inflow_update"] = timing.get("inflow_update", 0.0) + c0 - cb
        return c6 - cb, time.process_time() - pb

    def shift(self):
        """u^{n-1} <- u^n, u^n <- u^{n+1}; returns max |u^{n+1} - u^n| and max |u^{n+1}|."""
        diff = np.max(np.abs(self.u_.x.array - self.u_n.x.array))
        self.u_n1.x.array[:] = self.u_n.x.array
        self.u_n.x.array[:] = self.u_.x.array
        return diff, np.max(np.abs(self.u_.x.array))

    def diagnostics(self):
        cd = fem.assemble_scalar(self.drag)
        cl = fem.assemble_scalar(self.lift)
        p0 = self.p_.eval(self.dp_points[0], [self.dp_cells[0]])[0]
        p1 = self.p_.eval(self.dp_points[1], [self.dp_cells[1]])[0]
        return float(cd), float(cl), float(p0 - p1)


def main():
    args = parse_args()
    t_setup = time.perf_counter()
    mesh, ft, names = load_mesh(args)
    ns = Ipcs(mesh, ft, names, args)
    setup_s = time.perf_counter() - t_setup
    cells = mesh.topology.index_map(mesh.topology.dim).size_local
    dofs_u = ns.V.dofmap.index_map.size_local * ns.V.dofmap.index_map_bs
    dofs_p = ns.Q.dofmap.index_map.size_local
    steps = int(round(args.t_end / args.dt))
    print(f"dfg_dolfinx: dolfinx {dolfinx.__version__}, case {args.case}, {cells} cells, dofs u {dofs_u} "
          f"p {dofs_p}, dt {args.dt}, {steps} steps, setup {setup_s:.2f} s", file=sys.stderr)

    rows, step_s, step_cpu, timing, diag_s = [], [], [], {}, 0.0
    converged_at, residual = None, float("nan")
    wall0 = time.perf_counter()
    for i in range(1, steps + 1):
        t = i * args.dt
        wall_s, cpu_s = ns.step(t, timing)
        step_s.append(wall_s)
        step_cpu.append(cpu_s)
        c0 = time.perf_counter()
        rows.append((t,) + ns.diagnostics())
        diag_s += time.perf_counter() - c0
        diff, umax = ns.shift()
        residual = diff / (args.dt * max(umax, 1e-300))
        if not np.isfinite(rows[-1][1]) or umax > 1e3:
            raise RuntimeError(f"t={t}: blew up (c_D={rows[-1][1]}, max|u|={umax})")
        if i % max(1, steps // 20) == 0 or i == steps:
            el = time.perf_counter() - wall0
            print(f"  t={t:.5f} c_D={rows[-1][1]:.6f} c_L={rows[-1][2]:.6f} dp={rows[-1][3]:.6f} "
                  f"du/dt={residual:.3e} {el:.1f} s", file=sys.stderr)
        if args.case == "2d1" and residual < args.steady_tol:
            converged_at = t
            break
    wall = time.perf_counter() - wall0

    if args.csv:
        with open(args.csv + ".tmp", "w") as f:
            f.write("t,c_D,c_L,dp\n")
            for r in rows:
                f.write(f"{r[0]:.9g},{r[1]:.12g},{r[2]:.12g},{r[3]:.12g}\n")
        os.replace(args.csv + ".tmp", args.csv)

    arr = np.array(rows)
    first = args.warmup if len(step_s) > args.warmup else 0
    timed, timed_cpu = step_s[first:], step_cpu[first:]
    n_done = len(rows)
    out = {"peer": "dolfinx", "version": dolfinx.__version__, "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
           "case": args.case, "mesh": args.msh or f"size {args.size} obstacle {args.size_obstacle}",
           "dofs_u": int(dofs_u), "dofs_p": int(dofs_p), "cells": int(cells), "dt": args.dt,
           "steps": n_done, "t_final": float(arr[-1, 0]),
           "seconds_per_step": float(np.median(timed)), "seconds_per_step_mean": float(np.mean(timed)),
           "cpu_seconds_per_step": float(np.median(timed_cpu)),
           "warmup_steps_excluded": first,
           "setup_seconds": setup_s, "loop_seconds": wall,
           "assembly_and_solve_breakdown": {k: v / n_done for k, v in timing.items()},
           "diagnostics_seconds_per_step": diag_s / n_done,
           "krylov_iterations_per_step": {k: v / n_done for k, v in ns.iters.items()},
           "solvers": ns.solver_desc, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
           "mpi_processes": MPI.COMM_WORLD.size}
    icd, icl = int(np.argmax(arr[:, 1])), int(np.argmax(arr[:, 2]))
    out.update({"max_cd": float(arr[icd, 1]), "t_max_cd": float(arr[icd, 0]),
                "max_cl": float(arr[icl, 2]), "t_max_cl": float(arr[icl, 0]), "dp_final": float(arr[-1, 3])})
    if args.case == "2d3":
        ref = REFERENCE["2d3"]
        out["rel_err"] = {k: abs(out[k] - ref[k]) / abs(ref[k]) for k in ("max_cd", "max_cl", "dp_final")}
        out["reference"] = ref
    else:
        ref = REFERENCE["2d1"]
        out.update({"cd_final": float(arr[-1, 1]), "cl_final": float(arr[-1, 2]),
                    "converged_at": converged_at, "steady_residual": residual, "steady_tol": args.steady_tol})
        out["rel_err"] = {"cd": abs(arr[-1, 1] - ref["cd"]) / ref["cd"],
                          "cl": abs(arr[-1, 2] - ref["cl"]) / ref["cl"],
                          "dp": abs(arr[-1, 3] - ref["dp"]) / ref["dp"]}
        out["reference"] = ref
    print(json.dumps(out))


if __name__ == "__main__":
    main()
