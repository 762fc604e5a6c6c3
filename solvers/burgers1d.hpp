#pragma once
// 1D viscous Burgers, u_t + (u^2/2)_x = nu u_xx, periodic on [0, 1): the FNO Burgers benchmark.
//
// Pseudo-spectral in double on surro::ExecSpace. All B samples of a batch advance together in one
// (B, N/2+1) spectrum; the FFTs go through one core/fft plan pair built per batch size.
//
// Discretization. Fourier modes m = 0..N/2, wavenumber k_m = 2 pi m. The state is the unscaled DFT
// v_m = sum_j u(x_j) e^{-2 pi i j m / N}, and  dv/dt = L v + Nl(v)  with L_m = -nu k_m^2 and
// Nl(v)_m = -i k_m DFT(u^2/2)_m. Dealiasing by the 2/3 rule: only |m| <= Mc = floor((N-1)/3) is
// kept (3 Mc < N, so the product of two band-limited fields aliases nothing into the band). The
// initial state is projected onto the band and the nonlinear term is masked to it, so the state
// stays band-limited and every quadratic product is exact.
//
// Time stepping: ETDRK4 (Cox & Matthews 2002) with the viscous term integrated exactly. We chose it
// over the integrating-factor RK4: IF-RK4 applies RK4 to w = e^{-Lt} v, whose right-hand side
// e^{-Lt} Nl(e^{Lt} w) carries the factors e^{+-L h} of the stiff modes into the explicit stages,
// so its error constants grow with the stiffness |L h| (and it does not keep the fixed points of
// the equation); ETDRK4 integrates the variation-of-constants formula with the linear part exact
// and only Nl interpolated, which Kassam & Trefethen (SIAM J. Sci. Comput. 26, 2005) found the
// most accurate of the fourth-order stiff schemes they compared, Burgers included. Its
// coefficients phi(hL) are computed once on the host, by a contour integral near z = 0 (where the
// closed forms cancel catastrophically) and by the closed forms elsewhere.
//
// Stability bound. The viscous part is exact; the nonlinear part is explicit. Linearizing about a
// state of amplitude U (u_t + U u_x = nu u_xx), mode m sees z = -nu k_m^2 h and w = -i k_m U h, and
// ETDRK4 multiplies it by R(z, w). The bound is the largest h with |R| <= 1 for every retained mode
// (see burgers_stability_bound). Viscous Burgers obeys a maximum principle, |u(t)|_inf <= |u0|_inf,
// so U = |u0|_inf is the right amplitude: the config check uses U = 6 standard deviations of the
// initial GRF, and run() re-checks with the actual max |u0| of each sample.
//
// Initial data: u0 ~ N(0, sigma^2 (-Delta + tau^2 I)^{-alpha}) on the periodic unit interval, the
// FNO paper's N(0, 625 (-Delta + 25 I)^{-2}) at the defaults (sigma = 25, tau = 5, alpha = 2).
// Karhunen-Loeve in the orthonormal basis e^{2 pi i m x}: the Fourier coefficient of mode
// 1 <= m <= Mc is sqrt(lambda_m) (xi_1 + i xi_2) / sqrt(2), lambda_m = sigma^2 (4 pi^2 m^2 + tau^2)^-alpha,
// so E |u_hat_m|^2 = lambda_m; the mean mode and the modes beyond the 2/3 band are zero. xi_1, xi_2
// are Philox normals with stream = sample index and index = m, so sample i depends only on (seed, i).
#include "core/types.hpp"
#include "solvers/solver.hpp"

#include <memory>

namespace surro::solvers {

struct BurgersSettings {
  double viscosity = 0.1;  // nu
  int grid = 8192;         // N: solver grid points, x_j = j / N
  // Nr: recorded points x_j = j / Nr; N % Nr == 0 (point subsampling). The config default is 1024
  // when it divides grid, else grid.
  int record_grid = 1024;
  double t_final = 1.0;
  // Largest internal step (see Burgers1D::step()). At the defaults 1e-3 puts the time error near
  // 1e-9 (measured against h = 1e-4 on GRF samples), 100x below the float32 rounding of the
  // stored u; the config default is min(1e-3, bound / 2) so other viscosities stay stable.
  double dt = 1e-3;
  int record_steps = 1;  // frames after t = 0: t_k = k t_final / record_steps, k = 0..record_steps
  double alpha = 2.0, tau = 5.0, sigma = 25.0;  // GRF covariance sigma^2 (-Delta + tau^2 I)^-alpha
};

// Reads and validates a "burgers_1d" section (defaults above); a dt above the stability bound for
// the grid is refused with the bound in the message.
BurgersSettings read_burgers_1d(config::Node& section);

// Largest step h for which ETDRK4 on the linearization u_t + U u_x = nu u_xx is stable
// (|R(z, w)| <= 1, see the header comment) for every mode 1 <= m <= floor((grid-1)/3), found by a
// geometric scan in h refined by bisection. Returns +infinity when every h up to `h_max` is stable.
double burgers_stability_bound(int grid, double viscosity, double amplitude, double h_max);

// Pointwise standard deviation of the initial GRF: sqrt(2 sum_{m=1}^{Mc} lambda_m).
double burgers_grf_std(const BurgersSettings& s);

class Burgers1D final : public Solver {
 public:
  // Validates `s` (Error of kind usage naming "burgers_1d.<key>"), computes the ETDRK4 coefficients.
  explicit Burgers1D(const BurgersSettings& s);
  ~Burgers1D() override;

  const data::DatasetSpec& spec() const override { return m_spec; }
  // Samples [first, first + count): GRF initial data, advanced to t_final; fields "u" (B, T, Nr)
  // as float; diagnostics "mean" (integral of u) and "energy" (integral of u^2/2) per frame.
  data::Block run(std::uint64_t seed, long long first, long long count, Diagnostics* diag) override;

  // The GRF initial data of samples [first, first + count): (B, N) on ExecSpace.
  View2<double> initial_condition(std::uint64_t seed, long long first, long long count);
  // Advances u0 (B, N) from t = 0 and returns the recorded frames (B, T, Nr) in double on
  // ExecSpace; `first` only names samples in errors. run() is initial_condition + simulate; tests
  // call simulate directly with their own initial data.
  View3<double> simulate(const View2<double>& u0, long long first, Diagnostics* diag);

  const BurgersSettings& settings() const { return m_settings; }
  // The internal step: the largest h <= dt that divides the record interval t_final/record_steps.
  double step() const { return m_step; }
  int steps_per_record() const { return m_steps_per_record; }
  int retained_modes() const { return m_modes; }  // Mc
  // Stability bound at the amplitude assumed by the config check (6 GRF standard deviations).
  double stability_bound() const { return m_bound; }

 private:
  struct Workspace;
  Workspace& workspace(index_t batch);

  BurgersSettings m_settings;
  data::DatasetSpec m_spec;
  double m_step = 0, m_bound = 0, m_amplitude = 0;
  int m_steps_per_record = 0, m_modes = 0;
  // Per-mode tables, computed on the host at construction, copied to the device at first use.
  std::vector<double> m_coef_host, m_grf_scale_host;
  mutable View2<double> m_coef;       // (6, N/2+1): e^{hL}, e^{hL/2}, Q, f1, f2, f3 per mode (h folded in)
  mutable View1<double> m_grf_scale;  // (N/2+1): N sqrt(lambda_m / 2) inside the band, 0 outside
  std::pair<View2<double>, View1<double>> device_tables() const;
  std::unique_ptr<Workspace> m_work;
};

std::unique_ptr<Solver> make_burgers_1d(config::Node& section);

}  // namespace surro::solvers
