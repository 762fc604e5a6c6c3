#pragma once
// Reference-element pieces shared by the kernels and tests: Lagrange P1/P2 basis functions on an
// affine triangle in barycentric form, and the quadrature rule.
//
// Basis (barycentric coordinates l0, l1, l2 of the cell's vertices 0, 1, 2):
//   P1: phi_i = l_i, i = 0, 1, 2
//   P2: phi_i = l_i (2 l_i - 1) at vertex i; phi_{3+s} = 4 l_s l_{s+1 mod 3} on side s (its midpoint)
// Physical gradients follow from grad l_i, constant on an affine cell:
//   grad phi_i = (4 l_i - 1) grad l_i,  grad phi_{3+s} = 4 (l_{s+1} grad l_s + l_s grad l_{s+1}).
//
// Quadrature: the 7-point degree-5 rule (Radon 1948; Strang & Fix table 4.1; Dunavant degree 5),
// exact for polynomials of degree <= 5: P2 mass (degree 4), P2 stiffness (2), the linearised
// convection term (P2 velocity . grad P2) P2 (degree 5) and P1 x P2 mixed terms are all integrated
// exactly on straight-sided cells. Weights are fractions of the cell area (they sum to 1).
#include <Kokkos_Core.hpp>

namespace surro::solvers::fem {

constexpr int kQuad = 7;

// Barycentric coordinates lam[3] and weight of quadrature point q in [0, 7).
KOKKOS_INLINE_FUNCTION void quadrature_point(int q, double lam[3], double& w) {
  // a1, a2 = (6 -+ sqrt 15) / 21; weights (155 -+ sqrt 15) / 1200; the centroid 9/40.
  constexpr double a1 = 0.101286507323456338800987361915, a2 = 0.470142064105115089770441209513;
  constexpr double w1 = 0.125939180544827152595683945500, w2 = 0.132394152788506180737649387833;
  if (q == 0) {
    lam[0] = lam[1] = lam[2] = 1.0 / 3.0;
    w = 9.0 / 40.0;
    return;
  }
  const bool first = q <= 3;
  const double a = first ? a1 : a2;
  const int k = (q - 1) % 3;  // the coordinate that differs
  lam[0] = lam[1] = lam[2] = a;
  lam[k] = 1.0 - 2.0 * a;
  w = first ? w1 : w2;
}

// Affine geometry of a cell from its vertex coordinates xy (3, 2): area and grad l_i (3, 2).
KOKKOS_INLINE_FUNCTION double cell_geometry(const double xy[3][2], double gl[3][2]) {
  const double j00 = xy[1][0] - xy[0][0], j01 = xy[2][0] - xy[0][0];  // J = [x1 - x0, x2 - x0]
  const double j10 = xy[1][1] - xy[0][1], j11 = xy[2][1] - xy[0][1];
  const double det = j00 * j11 - j01 * j10;
  // grad l1, grad l2 are the rows of J^-1.
  gl[1][0] = j11 / det;
  gl[1][1] = -j01 / det;
  gl[2][0] = -j10 / det;
  gl[2][1] = j00 / det;
  gl[0][0] = -gl[1][0] - gl[2][0];
  gl[0][1] = -gl[1][1] - gl[2][1];
  return 0.5 * det;
}

// Values phi (Nk) and physical gradients dphi (Nk, 2) at barycentric point lam; nk = 3 or 6.
KOKKOS_INLINE_FUNCTION void basis(int nk, const double lam[3], const double gl[3][2], double phi[6],
                                  double dphi[6][2]) {
  if (nk == 3) {
    for (int i = 0; i < 3; ++i) {
      phi[i] = lam[i];
      dphi[i][0] = gl[i][0];
      dphi[i][1] = gl[i][1];
    }
    return;
  }
  for (int i = 0; i < 3; ++i) {
    phi[i] = lam[i] * (2.0 * lam[i] - 1.0);
    dphi[i][0] = (4.0 * lam[i] - 1.0) * gl[i][0];
    dphi[i][1] = (4.0 * lam[i] - 1.0) * gl[i][1];
    const int j = (i + 1) % 3;
    phi[3 + i] = 4.0 * lam[i] * lam[j];
    dphi[3 + i][0] = 4.0 * (lam[j] * gl[i][0] + lam[i] * gl[j][0]);
    dphi[3 + i][1] = 4.0 * (lam[j] * gl[i][1] + lam[i] * gl[j][1]);
  }
}

}  // namespace surro::solvers::fem
