// Taylor-Hood IPCS Navier-Stokes solver (see navier_stokes.hpp).
#include "solvers/fem/navier_stokes.hpp"

#include "core/constants.hpp"
#include "core/error.hpp"
#include "core/timer.hpp"
#include "solvers/fem/element.hpp"

#include <cmath>
#include <string>

namespace surro::solvers::fem {

namespace impl::fem_ns {


template <class V3>
KOKKOS_INLINE_FUNCTION double geometry(const V3& cell_xy, index_t c, double gl[3][2]) {
  double xy[3][2];
  for (int k = 0; k < 3; ++k) {
    xy[k][0] = cell_xy(c, k, 0);
    xy[k][1] = cell_xy(c, k, 1);
  }
  return cell_geometry(xy, gl);
}

// Value and gradient of a field with local dof values f (n) at a point with basis phi, dphi.
KOKKOS_INLINE_FUNCTION void evaluate(int n, const double f[6], const double phi[6], const double dphi[6][2],
                                     double& value, double grad[2]) {
  value = 0.0;
  grad[0] = grad[1] = 0.0;
  for (int i = 0; i < n; ++i) {
    value += f[i] * phi[i];
    grad[0] += f[i] * dphi[i][0];
    grad[1] += f[i] * dphi[i][1];
  }
}

}  // namespace impl::fem_ns

using namespace impl::fem_ns;

template <class Exec>
Ipcs<Exec>::Ipcs(const std::vector<const mesh::Mesh*>& meshes, const std::vector<double>& nu_host, double dt)
    : m_dt(dt) {
  SURRO_REQUIRE(dt > 0, "fem::Ipcs: dt = " << dt << ": expected a positive step");
  SURRO_REQUIRE(nu_host.size() == meshes.size(), "fem::Ipcs: " << nu_host.size() << " viscosities for "
                                                               << meshes.size()
                                                               << " meshes: expected one per mesh");
  for (std::size_t b = 0; b < nu_host.size(); ++b)
    SURRO_REQUIRE(nu_host[b] > 0, "fem::Ipcs: sample " << b << ": nu = " << nu_host[b] << ": expected > 0");
  for (const auto* m : meshes) {
    m_s2.push_back(make_space(*m, 2));
    m_s1.push_back(make_space(*m, 1));
  }
  std::vector<const Space*> s2, s1;
  for (std::size_t b = 0; b < meshes.size(); ++b) {
    s2.push_back(&m_s2[b]);
    s1.push_back(&m_s1[b]);
  }
  m_l2 = make_batch(meshes, s2);
  m_l1 = make_batch(meshes, s1);
  m_v = std::make_unique<System<Exec>>(m_l2, make_pattern(m_l2));
  m_p = std::make_unique<System<Exec>>(m_l1, make_pattern(m_l1));
  m_kv = std::make_unique<Krylov<Exec>>(*m_v);
  m_kp = std::make_unique<Krylov<Exec>>(*m_p);
  Exec exec;
  const index_t n2 = m_v->num_dofs, n1 = m_p->num_dofs, nc = m_v->num_cells;
  const int nb = m_v->batch;
  nu = to_view<double>(exec, nu_host, "surro::fem::ns::nu");
  rho = View1<double, Mem>("surro::fem::ns::rho", nb);
  Kokkos::deep_copy(rho, 1.0);
  factor = View1<double, Mem>("surro::fem::ns::factor", nb);
  vmask = View1<int, Mem>("surro::fem::ns::vmask", n2);
  pmask = View1<int, Mem>("surro::fem::ns::pmask", n1);
  obstacle = View1<int, Mem>("surro::fem::ns::obstacle", n2);
  vshape = View2<double, Mem>("surro::fem::ns::vshape", n2, 2);
  auto v2 = [&](const char* name) { return Vec(std::string("surro::fem::ns::") + name, n2); };
  auto v1 = [&](const char* name) { return Vec(std::string("surro::fem::ns::") + name, n1); };
  ux = v2("ux");
  uy = v2("uy");
  ux_old = v2("ux_old");
  uy_old = v2("uy_old");
  usx = v2("usx");
  usy = v2("usy");
  gx = v2("gx");
  gy = v2("gy");
  bx = v2("bx");
  by = v2("by");
  p = v1("p");
  phi = v1("phi");
  gp = v1("gp");
  bp = v1("bp");
  ones = v1("ones");
  Kokkos::deep_copy(ones, 1.0);
  a_mom = Vec("surro::fem::ns::a_mom", m_v->nnz);
  m_raw = Vec("surro::fem::ns::m_raw", m_v->nnz);
  m_bc = Vec("surro::fem::ns::m_bc", m_v->nnz);
  k_p = Vec("surro::fem::ns::k_p", m_p->nnz);
  em = View3<double, Mem>("surro::fem::ns::em", nc, 6, 6);
  evx = View2<double, Mem>("surro::fem::ns::evx", nc, 6);
  evy = View2<double, Mem>("surro::fem::ns::evy", nc, 6);
  evp = View2<double, Mem>("surro::fem::ns::evp", nc, 3);
  result = View2<double, Mem>("surro::fem::ns::result", nb, 3);
  obstacle_ptr = View1<index_t, Mem>("surro::fem::ns::obstacle_ptr", nb + 1);
  dt_device = dt;
  // Constant operators: P1 stiffness (pressure) and P2 mass (correction); constrained in the setters.
  View1<double, Mem> zero("surro::fem::ns::zero", nb), one("surro::fem::ns::one", nb);
  Kokkos::deep_copy(one, 1.0);
  View3<double, Mem> em1("surro::fem::ns::em1", nc, 3, 3);
  m_p->element_mass_stiffness(exec, zero, one, em1);
  m_p->assemble_matrix(exec, em1, k_p);
  m_v->element_mass_stiffness(exec, one, zero, em);
  m_v->assemble_matrix(exec, em, m_raw);
  Kokkos::deep_copy(exec, m_bc, m_raw);
  m_iterations.assign(4 * nb, 0);
  exec.fence();
}

template <class Exec>
void Ipcs<Exec>::set_velocity_dirichlet(const std::vector<int>& mask, const std::vector<double>& shape,
                                        std::function<double(int, double)> f) {
  Exec exec;
  const index_t n2 = m_v->num_dofs;
  SURRO_REQUIRE(static_cast<index_t>(mask.size()) == n2 && static_cast<index_t>(shape.size()) == 2 * n2,
                "fem::Ipcs: velocity Dirichlet mask/shape have "
                    << mask.size() << "/" << shape.size() << " entries: expected " << n2 << "/" << 2 * n2);
  Kokkos::deep_copy(vmask, to_view<int>(exec, mask, "mask"));
  const auto sh = to_view<double>(exec, shape, "shape");
  Kokkos::deep_copy(vshape, View2<double, Mem>(sh.data(), n2, 2));
  m_factor = std::move(f);
  // The correction's mass matrix, constrained once.
  Kokkos::deep_copy(exec, m_bc, m_raw);
  m_v->constrain(exec, vmask, m_bc);
  exec.fence();
}

template <class Exec>
void Ipcs<Exec>::set_pressure_dirichlet(const std::vector<int>& mask) {
  Exec exec;
  SURRO_REQUIRE(static_cast<index_t>(mask.size()) == m_p->num_dofs,
                "fem::Ipcs: pressure mask has " << mask.size() << " entries: expected " << m_p->num_dofs);
  Kokkos::deep_copy(pmask, to_view<int>(exec, mask, "pmask"));
  m_pressure_dirichlet = false;
  for (int v : mask) m_pressure_dirichlet = m_pressure_dirichlet || v != 0;
  m_p->constrain(exec, pmask, k_p);
  m_amg.reset();
  exec.fence();
}

template <class Exec>
void Ipcs<Exec>::set_initial(const std::vector<double>& u0, const std::vector<double>& p0, double t0) {
  Exec exec;
  const index_t n2 = m_v->num_dofs, n1 = m_p->num_dofs;
  SURRO_REQUIRE(static_cast<index_t>(u0.size()) == 2 * n2 && static_cast<index_t>(p0.size()) == n1,
                "fem::Ipcs: initial u/p have " << u0.size() << "/" << p0.size() << " values: expected "
                                               << 2 * n2 << "/" << n1);
  std::vector<double> x(n2), y(n2);
  for (index_t i = 0; i < n2; ++i) {
    x[i] = u0[2 * i];
    y[i] = u0[2 * i + 1];
  }
  Kokkos::deep_copy(ux, to_view<double>(exec, x, "ux0"));
  Kokkos::deep_copy(uy, to_view<double>(exec, y, "uy0"));
  Kokkos::deep_copy(p, to_view<double>(exec, p0, "p0"));
  Kokkos::deep_copy(phi, 0.0);
  m_time = t0;
  m_steps = 0;
  first_step = 1;
}

template <class Exec>
void Ipcs<Exec>::set_functionals(const std::vector<int>& ob, const std::vector<double>& rho_host,
                                 const std::vector<double>& probes) {
  Exec exec;
  const int nb = m_v->batch;
  SURRO_REQUIRE(static_cast<index_t>(ob.size()) == m_v->num_dofs && static_cast<int>(rho_host.size()) == nb &&
                    static_cast<int>(probes.size()) == 4 * nb,
                "fem::Ipcs: functionals: expected an (Nd2) obstacle mask, (B) densities, (B, 2, 2) probes");
  Kokkos::deep_copy(obstacle, to_view<int>(exec, ob, "obstacle"));
  Kokkos::deep_copy(rho, to_view<double>(exec, rho_host, "rho"));
  // Cells with an obstacle dof, per sample in cell order.
  std::vector<long long> cells, ptr{0};
  for (int b = 0; b < nb; ++b) {
    for (long long c = m_l2.cell_offset[b]; c < m_l2.cell_offset[b + 1]; ++c) {
      bool touch = false;
      for (int k = 0; k < 6; ++k) touch = touch || ob[m_l2.cell_dofs[6 * c + k]] != 0;
      if (touch) cells.push_back(c);
    }
    ptr.push_back(static_cast<long long>(cells.size()));
  }
  obstacle_cells = to_view<index_t>(exec, cells, "surro::fem::ns::obstacle_cells");
  Kokkos::deep_copy(obstacle_ptr, to_view<index_t>(exec, ptr, "ptr"));
  // Probe points: the containing cell and its barycentric coordinates.
  std::vector<int> pc(2 * nb);
  std::vector<double> pw(6 * nb);
  for (int b = 0; b < nb; ++b)
    for (int k = 0; k < 2; ++k) {
      const double px = probes[4 * b + 2 * k], py = probes[4 * b + 2 * k + 1];
      long long found = -1;
      double best = -1e300, lam[3] = {0, 0, 0};
      for (long long c = m_l1.cell_offset[b]; c < m_l1.cell_offset[b + 1]; ++c) {
        const double* q = &m_l1.cell_xy[6 * c];
        const double det = (q[2] - q[0]) * (q[5] - q[1]) - (q[4] - q[0]) * (q[3] - q[1]);
        const double l1 = ((px - q[0]) * (q[5] - q[1]) - (q[4] - q[0]) * (py - q[1])) / det;
        const double l2 = ((q[2] - q[0]) * (py - q[1]) - (px - q[0]) * (q[3] - q[1])) / det;
        const double l0 = 1.0 - l1 - l2, worst = std::min(l0, std::min(l1, l2));
        if (worst > best) {  // the cell that contains the point (or is nearest to containing it)
          best = worst;
          found = c;
          lam[0] = l0;
          lam[1] = l1;
          lam[2] = l2;
        }
      }
      SURRO_REQUIRE(best > -1e-9, "fem::Ipcs: sample "
                                      << b << ": probe point (" << px << ", " << py
                                      << ") lies outside the mesh: expected a point in the domain");
      pc[2 * b + k] = static_cast<int>(found);
      for (int i = 0; i < 3; ++i) pw[3 * (2 * b + k) + i] = lam[i];
    }
  probe_cell = to_view<int>(exec, pc, "surro::fem::ns::probe_cell");
  probe_weight = View2<double, Mem>("surro::fem::ns::probe_weight", 2 * nb, 3);
  const auto w = to_view<double>(exec, pw, "pw");
  Kokkos::deep_copy(probe_weight, View2<double, Mem>(w.data(), 2 * nb, 3));
  m_functionals = true;
  exec.fence();
}

// ---------------------------------------------------------------------------------------------
// Element kernels.

template <class Exec>
void Ipcs<Exec>::dirichlet_values(const Exec& exec, double t) {
  auto fh = Kokkos::create_mirror_view(factor);
  for (int b = 0; b < m_v->batch; ++b) fh(b) = m_factor ? m_factor(b, t) : 0.0;
  Kokkos::deep_copy(exec, factor, fh);
  const auto ds = m_v->dof_sample;
  const auto f = factor;
  const auto sh = vshape;
  const auto x = gx, y = gy;
  Kokkos::parallel_for(
      "surro::fem::ns::dirichlet_values", Kokkos::RangePolicy<Exec>(exec, 0, m_v->num_dofs),
      KOKKOS_LAMBDA(const index_t i) {
        x(i) = sh(i, 0) * f(ds(i));
        y(i) = sh(i, 1) * f(ds(i));
      });
  exec.fence();  // fh is read by the copy before it goes out of scope
}

// Element matrix (1/k) M + nu/2 K + 1/2 C(w) and right-hand sides of the tentative velocity.
template <class Exec>
void Ipcs<Exec>::momentum_elements(const Exec& exec) {
  const auto xyv = m_v->cell_xy;
  const auto cd2 = m_v->cell_dofs;
  const auto cd1 = m_p->cell_dofs;
  const auto cs = m_v->cell_sample;
  const auto nuv = nu;
  const auto Ux = ux, Uy = uy, Ox = ux_old, Oy = uy_old, P = p;
  const auto E = em;
  const auto Bx = evx, By = evy;
  const double k = dt_device;
  const double w_new = first_step ? 1.0 : 1.5, w_old = first_step ? 0.0 : -0.5;
  Kokkos::parallel_for(
      "surro::fem::ns::momentum_elements", Kokkos::RangePolicy<Exec>(exec, 0, m_v->num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double gl[3][2], lam[3], phi[6], dphi[6][2], phi1[6], dphi1[6][2], wq;
        const double area = geometry(xyv, c, gl);
        const double nuc = nuv(cs(c));
        double ux_l[6], uy_l[6], wx_l[6], wy_l[6], p_l[6] = {};
        for (int i = 0; i < 6; ++i) {
          const int d = cd2(c, i);
          ux_l[i] = Ux(d);
          uy_l[i] = Uy(d);
          wx_l[i] = w_new * Ux(d) + w_old * Ox(d);
          wy_l[i] = w_new * Uy(d) + w_old * Oy(d);
        }
        for (int i = 0; i < 3; ++i) p_l[i] = P(cd1(c, i));
        double a[6][6] = {}, rx[6] = {}, ry[6] = {};
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, wq);
          basis(6, lam, gl, phi, dphi);
          basis(3, lam, gl, phi1, dphi1);
          double vx, vy, wx, wy, pq, gx_[2], gy_[2], gw[2], gp_[2];
          evaluate(6, ux_l, phi, dphi, vx, gx_);
          evaluate(6, uy_l, phi, dphi, vy, gy_);
          evaluate(6, wx_l, phi, dphi, wx, gw);
          evaluate(6, wy_l, phi, dphi, wy, gw);
          evaluate(3, p_l, phi1, dphi1, pq, gp_);
          const double adv_x = wx * gx_[0] + wy * gx_[1], adv_y = wx * gy_[0] + wy * gy_[1];
          for (int i = 0; i < 6; ++i) {
            for (int j = 0; j < 6; ++j) {
              const double conv = (wx * dphi[j][0] + wy * dphi[j][1]) * phi[i];
              const double visc = dphi[i][0] * dphi[j][0] + dphi[i][1] * dphi[j][1];
              a[i][j] += wq * (phi[i] * phi[j] / k + 0.5 * nuc * visc + 0.5 * conv);
            }
            const double vis_x = gx_[0] * dphi[i][0] + gx_[1] * dphi[i][1];
            const double vis_y = gy_[0] * dphi[i][0] + gy_[1] * dphi[i][1];
            rx[i] += wq * ((vx / k - 0.5 * adv_x) * phi[i] - 0.5 * nuc * vis_x + pq * dphi[i][0]);
            ry[i] += wq * ((vy / k - 0.5 * adv_y) * phi[i] - 0.5 * nuc * vis_y + pq * dphi[i][1]);
          }
        }
        for (int i = 0; i < 6; ++i) {
          for (int j = 0; j < 6; ++j) E(c, i, j) = area * a[i][j];
          Bx(c, i) = area * rx[i];
          By(c, i) = area * ry[i];
        }
      });
}

// -(div u*, q) / k on P1 test functions.
template <class Exec>
void Ipcs<Exec>::pressure_elements(const Exec& exec) {
  const auto xyv = m_v->cell_xy;
  const auto cd2 = m_v->cell_dofs;
  const auto Sx = usx, Sy = usy;
  const auto Bp = evp;
  const double k = dt_device;
  Kokkos::parallel_for(
      "surro::fem::ns::pressure_elements", Kokkos::RangePolicy<Exec>(exec, 0, m_v->num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double gl[3][2], lam[3], phi[6], dphi[6][2], wq;
        const double area = geometry(xyv, c, gl);
        double sx[6], sy[6];
        for (int i = 0; i < 6; ++i) {
          sx[i] = Sx(cd2(c, i));
          sy[i] = Sy(cd2(c, i));
        }
        double r[3] = {};
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, wq);
          basis(6, lam, gl, phi, dphi);
          double v, gxx[2], gyy[2];
          evaluate(6, sx, phi, dphi, v, gxx);
          evaluate(6, sy, phi, dphi, v, gyy);
          const double div = gxx[0] + gyy[1];
          for (int i = 0; i < 3; ++i) r[i] -= wq * div * lam[i] / k;
        }
        for (int i = 0; i < 3; ++i) Bp(c, i) = area * r[i];
      });
}

// (u*, v) - k (grad phi, v) on P2 test functions, per component.
template <class Exec>
void Ipcs<Exec>::correction_elements(const Exec& exec) {
  const auto xyv = m_v->cell_xy;
  const auto cd2 = m_v->cell_dofs;
  const auto cd1 = m_p->cell_dofs;
  const auto Sx = usx, Sy = usy, F = phi;
  const auto Bx = evx, By = evy;
  const double k = dt_device;
  Kokkos::parallel_for(
      "surro::fem::ns::correction_elements", Kokkos::RangePolicy<Exec>(exec, 0, m_v->num_cells),
      KOKKOS_LAMBDA(const index_t c) {
        double gl[3][2], lam[3], phi2[6], dphi[6][2], wq;
        const double area = geometry(xyv, c, gl);
        double sx[6], sy[6];
        for (int i = 0; i < 6; ++i) {
          sx[i] = Sx(cd2(c, i));
          sy[i] = Sy(cd2(c, i));
        }
        // grad phi is constant on the cell (P1).
        double gphi[2] = {0.0, 0.0};
        for (int i = 0; i < 3; ++i) {
          const double fi = F(cd1(c, i));
          gphi[0] += fi * gl[i][0];
          gphi[1] += fi * gl[i][1];
        }
        double rx[6] = {}, ry[6] = {};
        for (int q = 0; q < kQuad; ++q) {
          quadrature_point(q, lam, wq);
          basis(6, lam, gl, phi2, dphi);
          double vx = 0, vy = 0;
          for (int i = 0; i < 6; ++i) {
            vx += sx[i] * phi2[i];
            vy += sy[i] * phi2[i];
          }
          for (int i = 0; i < 6; ++i) {
            rx[i] += wq * (vx - k * gphi[0]) * phi2[i];
            ry[i] += wq * (vy - k * gphi[1]) * phi2[i];
          }
        }
        for (int i = 0; i < 6; ++i) {
          Bx(c, i) = area * rx[i];
          By(c, i) = area * ry[i];
        }
      });
}

// b -= (per-sample mean of b): the compatibility condition of the pure Neumann problem.
template <class Exec>
void Ipcs<Exec>::subtract_mean(const Exec& exec, const Vec& b) {
  m_kp->dot(exec, b, ones, 6);
  const auto sc = m_kp->sc;
  const auto off = m_p->dof_offset;
  const auto ds = m_p->dof_sample;
  Kokkos::parallel_for(
      "surro::fem::ns::subtract_mean", Kokkos::RangePolicy<Exec>(exec, 0, m_p->num_dofs),
      KOKKOS_LAMBDA(const index_t i) {
        const int s = ds(i);
        b(i) -= sc(s, 6) / static_cast<double>(off(s + 1) - off(s));
      });
}

template <class Exec>
void Ipcs<Exec>::step(const Exec& exec) {
  ScopedRegion region("surro::fem::ns::step");
  const double t_new = m_time + m_dt;
  const int nb = m_v->batch;
  dirichlet_values(exec, t_new);
  // 1. Tentative velocity.
  momentum_elements(exec);
  m_v->assemble_matrix(exec, em, a_mom);
  m_v->assemble_vector(exec, evx, bx);
  m_v->assemble_vector(exec, evy, by);
  m_v->lift(exec, a_mom, vmask, gx, bx);
  m_v->lift(exec, a_mom, vmask, gy, by);
  m_v->constrain(exec, vmask, a_mom);
  Kokkos::deep_copy(exec, usx, ux);
  Kokkos::deep_copy(exec, usy, uy);
  const KrylovReport rx = m_kv->bicgstab(exec, a_mom, bx, usx, tolerance, max_iterations);
  rx.require_converged("tentative velocity x (BiCGStab) at t = " + std::to_string(t_new), tolerance);
  const KrylovReport ry = m_kv->bicgstab(exec, a_mom, by, usy, tolerance, max_iterations);
  ry.require_converged("tentative velocity y (BiCGStab) at t = " + std::to_string(t_new), tolerance);
  // 2. Pressure increment.
  pressure_elements(exec);
  m_p->assemble_vector(exec, evp, bp);
  if (m_pressure_dirichlet)
    m_p->lift(exec, k_p, pmask, gp, bp);  // gp = 0: phi = 0 on the outflow
  else
    subtract_mean(exec, bp);
  if (pressure_amg && !m_amg) m_amg = std::make_unique<Amg<Exec>>(exec, *m_p, k_p);
  m_kp->set_amg(pressure_amg ? m_amg.get() : nullptr);
  const KrylovReport rp = m_kp->cg(exec, k_p, bp, phi, tolerance, max_iterations);
  rp.require_converged("pressure correction (CG) at t = " + std::to_string(t_new), tolerance);
  // 3. Velocity correction, into ux/uy after saving u^n.
  correction_elements(exec);
  m_v->assemble_vector(exec, evx, bx);
  m_v->assemble_vector(exec, evy, by);
  m_v->lift(exec, m_raw, vmask, gx, bx);
  m_v->lift(exec, m_raw, vmask, gy, by);
  Kokkos::deep_copy(exec, ux_old, ux);
  Kokkos::deep_copy(exec, uy_old, uy);
  Kokkos::deep_copy(exec, ux, usx);  // initial guess
  Kokkos::deep_copy(exec, uy, usy);
  const KrylovReport cx = m_kv->cg(exec, m_bc, bx, ux, tolerance, max_iterations);
  cx.require_converged("velocity correction x (CG) at t = " + std::to_string(t_new), tolerance);
  const KrylovReport cy = m_kv->cg(exec, m_bc, by, uy, tolerance, max_iterations);
  cy.require_converged("velocity correction y (CG) at t = " + std::to_string(t_new), tolerance);
  // 4. Pressure update.
  const auto P = p, F = phi;
  Kokkos::parallel_for(
      "surro::fem::ns::pressure_update", Kokkos::RangePolicy<Exec>(exec, 0, m_p->num_dofs),
      KOKKOS_LAMBDA(const index_t i) { P(i) += F(i); });
  for (int b = 0; b < nb; ++b) {
    m_iterations[4 * b + 0] = rx.iterations[b];
    m_iterations[4 * b + 1] = ry.iterations[b];
    m_iterations[4 * b + 2] = rp.iterations[b];
    m_iterations[4 * b + 3] = std::max(cx.iterations[b], cy.iterations[b]);
  }
  m_time = t_new;
  ++m_steps;
  first_step = 0;
}

template <class Exec>
std::vector<double> Ipcs<Exec>::velocity() const {
  const std::vector<double> x = to_vector(ux), y = to_vector(uy);
  std::vector<double> out(2 * x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    out[2 * i] = x[i];
    out[2 * i + 1] = y[i];
  }
  return out;
}

template <class Exec>
std::vector<double> Ipcs<Exec>::pressure() const {
  return to_vector(p);
}

template <class Exec>
std::vector<double> Ipcs<Exec>::functionals(const Exec& exec) const {
  SURRO_REQUIRE(m_functionals && m_steps > 0,
                "fem::Ipcs: functionals(): expected set_functionals() and at least one step");
  const auto xyv = m_v->cell_xy;
  const auto cd2 = m_v->cell_dofs;
  const auto cd1 = m_p->cell_dofs;
  const auto cells = obstacle_cells;
  const auto ptr = obstacle_ptr;
  const auto ob = obstacle;
  const auto nuv = nu, rhov = rho;
  const auto Ux = ux, Uy = uy, Ox = ux_old, Oy = uy_old, P = p;
  const auto pc = probe_cell;
  const auto pw = probe_weight;
  const auto out = result;
  const double k = dt_device;
  Kokkos::parallel_for(
      "surro::fem::ns::functionals", Kokkos::RangePolicy<Exec>(exec, 0, m_v->batch),
      KOKKOS_LAMBDA(const index_t b) {
        double fx = 0.0, fy = 0.0;
        for (index_t n = ptr(b); n < ptr(b + 1); ++n) {
          const index_t c = cells(n);
          double gl[3][2], lam[3], phi[6], dphi[6][2], phi1[6], dphi1[6][2], wq;
          const double area = geometry(xyv, c, gl);
          double ux_l[6], uy_l[6], dx_l[6], dy_l[6], v_l[6], p_l[6] = {};
          for (int i = 0; i < 6; ++i) {
            const int d = cd2(c, i);
            ux_l[i] = Ux(d);
            uy_l[i] = Uy(d);
            dx_l[i] = (Ux(d) - Ox(d)) / k;
            dy_l[i] = (Uy(d) - Oy(d)) / k;
            v_l[i] = ob(d) ? 1.0 : 0.0;
          }
          for (int i = 0; i < 3; ++i) p_l[i] = P(cd1(c, i));
          const double nuc = nuv(b);
          double sx = 0.0, sy = 0.0;
          for (int q = 0; q < kQuad; ++q) {
            quadrature_point(q, lam, wq);
            basis(6, lam, gl, phi, dphi);
            basis(3, lam, gl, phi1, dphi1);
            double vx, vy, tx, ty, pq, v, gxx[2], gyy[2], gv[2], g0[2];
            evaluate(6, ux_l, phi, dphi, vx, gxx);
            evaluate(6, uy_l, phi, dphi, vy, gyy);
            evaluate(6, dx_l, phi, dphi, tx, g0);
            evaluate(6, dy_l, phi, dphi, ty, g0);
            evaluate(6, v_l, phi, dphi, v, gv);
            evaluate(3, p_l, phi1, dphi1, pq, g0);
            // Test function e_x v: residual of the x-momentum; e_y v: of the y-momentum.
            sx += wq * ((tx + vx * gxx[0] + vy * gxx[1]) * v + nuc * (gxx[0] * gv[0] + gxx[1] * gv[1]) -
                        pq * gv[0]);
            sy += wq * ((ty + vx * gyy[0] + vy * gyy[1]) * v + nuc * (gyy[0] * gv[0] + gyy[1] * gv[1]) -
                        pq * gv[1]);
          }
          fx += area * sx;
          fy += area * sy;
        }
        double pp[2];
        for (int k2 = 0; k2 < 2; ++k2) {
          const index_t c = pc(2 * b + k2);
          pp[k2] = 0.0;
          for (int i = 0; i < 3; ++i) pp[k2] += pw(2 * b + k2, i) * P(cd1(c, i));
        }
        out(b, 0) = -rhov(b) * fx;
        out(b, 1) = -rhov(b) * fy;
        out(b, 2) = rhov(b) * (pp[0] - pp[1]);
      });
  return to_vector(result);
}

template class Ipcs<ExecSpace>;
#ifdef KOKKOS_ENABLE_CUDA
template class Ipcs<HostExec>;
#endif

// ---------------------------------------------------------------------------------------------

double channel_inflow(const ChannelSample& s, double t) {
  if (s.ramp) return s.u_max * std::sin(kPi * t / 8.0);
  if (t >= s.ramp_time) return s.u_max;
  const double r = std::sin(0.5 * kPi * t / s.ramp_time);  // smooth start from rest: C1 at both ends
  return s.u_max * r * r;
}

ChannelResult solve_channel_flow(const std::vector<const mesh::Mesh*>& meshes,
                                 const std::vector<ChannelSample>& samples, const ChannelRun& run) {
  ScopedRegion region("surro::fem::solve_channel_flow");
  const int nb = static_cast<int>(meshes.size());
  SURRO_REQUIRE(
      static_cast<int>(samples.size()) == nb,
      "fem::solve_channel_flow: " << samples.size() << " samples for " << nb << " meshes: expected one each");
  SURRO_REQUIRE(
      run.dt > 0 && run.steps >= 0 && run.first_record >= 0 && run.first_record <= run.steps &&
          run.record_every >= 1,
      "fem::solve_channel_flow: expected dt > 0, steps >= 0, 0 <= first_record <= steps, record_every "
      ">= 1; got dt = "
          << run.dt << ", steps = " << run.steps << ", first_record = " << run.first_record
          << ", record_every = " << run.record_every);
  std::vector<double> nu, rho;
  for (std::size_t b = 0; b < samples.size(); ++b) {
    const ChannelSample& s = samples[b];
    SURRO_REQUIRE(s.nu > 0 && s.rho > 0 && s.u_max > 0,
                  "fem::solve_channel_flow: sample " << b << ": nu = " << s.nu << ", rho = " << s.rho
                                                     << ", u_max = " << s.u_max << ": expected all > 0");
    nu.push_back(s.nu);
    rho.push_back(s.rho);
  }
  ExecSpace exec;
  Ipcs<ExecSpace> ns(meshes, nu, run.dt);
  ns.tolerance = run.tolerance;
  ns.max_iterations = run.max_iterations;
  ns.pressure_amg = run.pressure_amg;
  const BatchLayout& l2 = ns.velocity_layout();
  const BatchLayout& l1 = ns.pressure_layout();
  std::vector<int> vmask, pmask, ob;
  std::vector<double> shape;
  for (int b = 0; b < nb; ++b) {
    const mesh::Mesh& m = *meshes[b];
    const Space s2 = make_space(m, 2), s1 = make_space(m, 1);
    const int inlet = tag_of(m, "inlet"), outlet = tag_of(m, "outlet");
    const int walls = tag_of(m, "walls"), cyl = tag_of(m, "cylinder");
    std::vector<int> vm(s2.num_dofs, 0), pm(s1.num_dofs, 0), om(s2.num_dofs, 0);
    std::vector<double> sh(2 * s2.num_dofs, 0.0);
    for (int d : facet_dofs(m, s2, {walls, cyl})) vm[d] = 1;
    for (int d : facet_dofs(m, s2, {cyl})) om[d] = 1;
    for (int d : facet_dofs(m, s2, {inlet})) {
      vm[d] = 1;
      const double y = s2.dof_coords[2 * d + 1], h = samples[b].height;
      // A corner dof shared with a wall keeps 0 (the profile vanishes there anyway).
      sh[2 * d] = 4.0 * y * (h - y) / (h * h);
    }
    for (int d : facet_dofs(m, s2, {walls, cyl})) sh[2 * d] = 0.0;
    for (int d : facet_dofs(m, s1, {outlet})) pm[d] = 1;
    vmask.insert(vmask.end(), vm.begin(), vm.end());
    ob.insert(ob.end(), om.begin(), om.end());
    shape.insert(shape.end(), sh.begin(), sh.end());
    pmask.insert(pmask.end(), pm.begin(), pm.end());
  }
  ns.set_velocity_dirichlet(vmask, shape,
                            [samples](int b, double t) { return channel_inflow(samples[b], t); });
  ns.set_pressure_dirichlet(pmask);
  ns.set_initial(std::vector<double>(2 * l2.num_dofs(), 0.0), std::vector<double>(l1.num_dofs(), 0.0), 0.0);
  std::vector<double> probes;
  for (const ChannelSample& s : samples) probes.insert(probes.end(), s.probes.begin(), s.probes.end());
  ns.set_functionals(ob, rho, probes);

  ChannelResult out;
  out.velocity.resize(nb);
  out.pressure.resize(nb);
  out.drag.resize(nb);
  out.lift.resize(nb);
  out.delta_p.resize(nb);
  out.pressure_iterations.resize(nb);
  auto record = [&]() {
    out.times.push_back(ns.time());
    const std::vector<double> u = ns.velocity(), p = ns.pressure();
    for (int b = 0; b < nb; ++b) {
      const long long v = meshes[b]->num_points();
      for (long long i = 0; i < v; ++i) {
        out.velocity[b].push_back(static_cast<float>(u[2 * (l2.dof_offset[b] + i)]));
        out.velocity[b].push_back(static_cast<float>(u[2 * (l2.dof_offset[b] + i) + 1]));
        out.pressure[b].push_back(static_cast<float>(samples[b].rho * p[l1.dof_offset[b] + i]));
      }
    }
  };
  if (run.first_record == 0) record();
  const long long steps = run.steps;
  for (long long n = 1; n <= steps; ++n) {
    ns.step(exec);
    const std::vector<double> f = ns.functionals(exec);
    out.step_times.push_back(ns.time());
    for (int b = 0; b < nb; ++b) {
      const double ubar = 2.0 * samples[b].u_max / 3.0;
      const double scale = 2.0 / (samples[b].rho * ubar * ubar * samples[b].diameter);
      out.drag[b].push_back(scale * f[3 * b]);
      out.lift[b].push_back(scale * f[3 * b + 1]);
      out.delta_p[b].push_back(f[3 * b + 2]);
      out.pressure_iterations[b].push_back(ns.last_iterations()[4 * b + 2]);
    }
    if (n >= run.first_record && (n - run.first_record) % run.record_every == 0) record();
  }
  return out;
}

}  // namespace surro::solvers::fem
