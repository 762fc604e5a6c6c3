#include "solvers/cylinder_forces.hpp"

#include "core/error.hpp"
#include "core/timer.hpp"
#include "core/types.hpp"
#include "solvers/cylinder_flow.hpp"
#include "solvers/fem/element.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

// Input errors (the mesh or dataset is wrong): Error(input) when cond holds.
#define SURRO_CYL_INPUT_ERROR_IF(cond, stream_expr)                \
  do {                                                             \
    if (cond) SURRO_THROW(::surro::ErrorKind::input, stream_expr); \
  } while (false)

namespace surro::solvers {

namespace impl::cylinder_forces {

// One thread per frame t: F(t) = (fx, fy) over the cells touching the obstacle, in cell order (a
// fixed-order sum). Host memory: the data arrive on the host (datasets, rollout output).
struct FrameForces {
  const double* xy;       // (Nc_o, 3, 2) vertex coordinates of the obstacle cells
  const int* vert;        // (Nc_o, 3) their vertices
  const double* w;        // (Nc_o, 3) w at their vertices (1 on the obstacle, else 0)
  const float* velocity;  // (T, V, 2)
  const float* pressure;  // (T, V)
  const double* times;    // (T)
  long long cells, points;
  int frames;
  double rho, nu;
  double* out;  // (T, 2)
  KOKKOS_INLINE_FUNCTION void operator()(const index_t t) const {
    // du/dt from frames lo, hi: central inside, one-sided at the ends, 0 for one frame.
    const index_t lo = t > 0 ? t - 1 : t, hi = t + 1 < frames ? t + 1 : t;
    const double inv_dt = hi > lo ? 1.0 / (times[hi] - times[lo]) : 0.0;
    const float* u = velocity + t * points * 2;
    const float* u0 = velocity + lo * points * 2;
    const float* u1 = velocity + hi * points * 2;
    const float* p = pressure + t * points;
    double fx = 0.0, fy = 0.0;
    for (long long c = 0; c < cells; ++c) {
      double x[3][2], gl[3][2], ul[3][2], al[3][2], pl[3], wl[3];
      for (int k = 0; k < 3; ++k) {
        const index_t v = vert[3 * c + k];
        x[k][0] = xy[6 * c + 2 * k];
        x[k][1] = xy[6 * c + 2 * k + 1];
        for (int d = 0; d < 2; ++d) {
          ul[k][d] = u[2 * v + d];
          al[k][d] = (static_cast<double>(u1[2 * v + d]) - static_cast<double>(u0[2 * v + d])) * inv_dt;
        }
        pl[k] = p[v];
        wl[k] = w[3 * c + k];
      }
      const double area = surro::solvers::fem::cell_geometry(x, gl);
      // P1: gradients are constant on the cell. gu[d][j] = d u_d / d x_j.
      double gu[2][2] = {{0, 0}, {0, 0}}, gw[2] = {0, 0}, pm = 0.0;
      for (int k = 0; k < 3; ++k) {
        for (int j = 0; j < 2; ++j) {
          gu[0][j] += ul[k][0] * gl[k][j];
          gu[1][j] += ul[k][1] * gl[k][j];
          gw[j] += wl[k] * gl[k][j];
        }
        pm += pl[k] / 3.0;
      }
      // (du/dt + u . grad u) w: degree 2, integrated by the 7-point rule (exact).
      double sx = 0.0, sy = 0.0;
      for (int q = 0; q < surro::solvers::fem::kQuad; ++q) {
        double lam[3], wq;
        surro::solvers::fem::quadrature_point(q, lam, wq);
        double uq[2] = {0, 0}, aq[2] = {0, 0}, wv = 0.0;
        for (int k = 0; k < 3; ++k) {
          for (int d = 0; d < 2; ++d) {
            uq[d] += lam[k] * ul[k][d];
            aq[d] += lam[k] * al[k][d];
          }
          wv += lam[k] * wl[k];
        }
        sx += wq * (aq[0] + uq[0] * gu[0][0] + uq[1] * gu[0][1]) * wv;
        sy += wq * (aq[1] + uq[0] * gu[1][0] + uq[1] * gu[1][1]) * wv;
      }
      // Viscous and pressure terms: constant and linear integrands (mean of p times the area).
      fx += area * (-rho * (sx + nu * (gu[0][0] * gw[0] + gu[0][1] * gw[1])) + pm * gw[0]);
      fy += area * (-rho * (sy + nu * (gu[1][0] * gw[0] + gu[1][1] * gw[1])) + pm * gw[1]);
    }
    out[2 * t] = fx;
    out[2 * t + 1] = fy;
  }
};

}  // namespace impl::cylinder_forces

CylinderParams cylinder_params(const std::map<std::string, std::vector<double>>& sp, long long index,
                               const std::string& source) {
  auto get = [&](const char* name) {
    const auto it = sp.find(name);
    SURRO_CYL_INPUT_ERROR_IF(it == sp.end(), source << ": sample parameter '" << name
                                                    << "' is missing: expected viscosity, density, "
                                                    << "u_max and radius (a CylinderFlow dataset)");
    SURRO_CYL_INPUT_ERROR_IF(index < 0 || index >= static_cast<long long>(it->second.size()),
                             source << ": sample parameter '" << name << "' has " << it->second.size()
                                    << " values: expected one for sample " << index);
    return it->second[static_cast<std::size_t>(index)];
  };
  CylinderParams p;
  p.viscosity = get("viscosity");
  p.density = get("density");
  p.u_max = get("u_max");
  p.radius = get("radius");
  return p;
}

std::vector<int> cylinder_obstacle_nodes(const mesh::Mesh& m) {
  SURRO_CYL_INPUT_ERROR_IF(m.dim != 2, "cylinder_forces: mesh dim = " << m.dim << ": expected 2");
  const long long nv = m.num_points();
  SURRO_CYL_INPUT_ERROR_IF(static_cast<long long>(m.node_type.size()) != nv,
                           "cylinder_forces: mesh.node_type has " << m.node_type.size()
                                                                  << " entries: expected V = " << nv
                                                                  << " (WALL nodes mark the cylinder)");
  double y0 = std::numeric_limits<double>::infinity(), y1 = -y0;
  for (long long v = 0; v < nv; ++v) {
    y0 = std::min(y0, m.points[2 * v + 1]);
    y1 = std::max(y1, m.points[2 * v + 1]);
  }
  const double tol = 1e-9 * (y1 - y0);
  std::vector<int> nodes;
  for (long long v = 0; v < nv; ++v) {
    const double y = m.points[2 * v + 1];
    if (m.node_type[v] == mesh::wall && y - y0 > tol && y1 - y > tol) nodes.push_back(static_cast<int>(v));
  }
  SURRO_CYL_INPUT_ERROR_IF(
      nodes.size() < 3,
      "cylinder_forces: " << nodes.size()
                          << " WALL nodes off the channel walls y = min y, max y: expected the "
                             "cylinder's (at least 3)");
  return nodes;
}

namespace {

void check_inputs(const mesh::Mesh& m, const std::vector<double>& times, const float* velocity,
                  const float* pressure, const CylinderParams& p) {
  SURRO_REQUIRE(!times.empty() && velocity != nullptr && pressure != nullptr,
                "cylinder_forces: expected at least one frame and non-null velocity and pressure");
  for (std::size_t t = 1; t < times.size(); ++t)
    SURRO_REQUIRE(times[t] > times[t - 1], "cylinder_forces: times[" << t << "] = " << times[t]
                                                                     << ": expected > times[" << t - 1
                                                                     << "] = " << times[t - 1]);
  SURRO_REQUIRE(p.viscosity > 0 && p.density > 0 && p.u_max > 0 && p.radius > 0,
                "cylinder_forces: viscosity = " << p.viscosity << ", density = " << p.density
                                                << ", u_max = " << p.u_max << ", radius = " << p.radius
                                                << ": expected all > 0");
  SURRO_CYL_INPUT_ERROR_IF(m.nodes_per_cell() != 3 || m.cells.empty(),
                           "cylinder_forces: expected a triangle mesh");
}

}  // namespace

CylinderForces cylinder_forces(const mesh::Mesh& m, const std::vector<double>& times, const float* velocity,
                               const float* pressure, const CylinderParams& params) {
  ScopedRegion region("surro::solvers::cylinder_forces");
  const std::vector<int> obstacle = cylinder_obstacle_nodes(m);
  check_inputs(m, times, velocity, pressure, params);
  const long long nv = m.num_points(), nc = m.num_cells();
  std::vector<char> on(static_cast<std::size_t>(nv), 0);
  for (int v : obstacle) on[v] = 1;
  // The cells touching the obstacle (w = 0 on every other cell), in cell order.
  std::vector<double> xy, w;
  std::vector<int> vert;
  for (long long c = 0; c < nc; ++c) {
    const int* cv = &m.cells[3 * c];
    if (!on[cv[0]] && !on[cv[1]] && !on[cv[2]]) continue;
    for (int k = 0; k < 3; ++k) {
      SURRO_CYL_INPUT_ERROR_IF(cv[k] < 0 || cv[k] >= nv, "cylinder_forces: cell "
                                                             << c << " has vertex " << cv[k]
                                                             << ": expected 0 .. " << nv - 1);
      xy.push_back(m.points[2 * cv[k]]);
      xy.push_back(m.points[2 * cv[k] + 1]);
      vert.push_back(cv[k]);
      w.push_back(on[cv[k]] ? 1.0 : 0.0);
    }
  }
  const int nt = static_cast<int>(times.size());
  std::vector<double> out(2 * static_cast<std::size_t>(nt));
  Kokkos::parallel_for(
      "surro::solvers::cylinder_forces", Kokkos::RangePolicy<HostExec>(HostExec(), 0, nt),
      impl::cylinder_forces::FrameForces{xy.data(), vert.data(), w.data(), velocity, pressure, times.data(),
                                         static_cast<long long>(vert.size() / 3), nv, nt, params.density,
                                         params.viscosity, out.data()});
  HostExec().fence();

  CylinderForces f;
  f.times = times;
  const double ubar = 2.0 * params.u_max / 3.0, d = 2.0 * params.radius;
  const double scale = 2.0 / (params.density * ubar * ubar * d);
  double lmin = std::numeric_limits<double>::infinity(), lmax = -lmin;
  f.drag_max = -std::numeric_limits<double>::infinity();
  for (int t = 0; t < nt; ++t) {
    f.force_x.push_back(out[2 * t]);
    f.force_y.push_back(out[2 * t + 1]);
    f.drag.push_back(scale * out[2 * t]);
    f.lift.push_back(scale * out[2 * t + 1]);
    f.drag_max = std::max(f.drag_max, f.drag.back());
    f.drag_mean += f.drag.back() / nt;
    f.lift_mean += f.lift.back() / nt;
    lmin = std::min(lmin, f.lift.back());
    lmax = std::max(lmax, f.lift.back());
  }
  f.lift_amplitude = 0.5 * (lmax - lmin);
  f.strouhal = strouhal_number(f.times, f.lift, d, ubar);
  return f;
}

}  // namespace surro::solvers
