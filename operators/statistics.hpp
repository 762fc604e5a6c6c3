#pragma once
// Long-rollout statistics of a set of C fields on a grid (N0[, N1[, N2]]), accumulated over samples
// and steps, for comparing a surrogate's rollout with the reference (turbulence statistics):
//
//   <.>_a(i)       the average over samples, steps and every axis but a, at index i of axis a
//   mean_c(a, i)   = <f_c>_a(i)                             per-axis mean profile
//   rms_c(a, i)    = sqrt(<f_c^2>_a(i) - mean_c(a, i)^2)    RMS fluctuation profile
//   cross_cd(a, i) = <f_c f_d>_a(i) - mean_c mean_d, c < d  e.g. the Reynolds shear stress <u'v'>
//                                                           profile along the wall-normal axis y
//
// Fluctuations are about the profile of the same axis (u' = u - <u>_y for a channel's y
// profile), the convention of wall-bounded turbulence. Raw moments are summed in double on the
// device; nothing is allocated in add().
//
// One-dimensional energy spectra along every axis, summed over the fields (E = sum_c, e.g. twice
// the kinetic energy for velocity fields) and averaged over samples, steps and the lines along
// that axis:
//   E_a(k) = w_k sum_c < |f_hat_c(k)|^2 >,   f_hat(k) = 1/N_a sum_j f(j) e^{-2 pi i j k / N_a},
// k = 0 .. N_a / 2, w_k = 1 at k = 0 and k = N_a / 2 (N_a even), 2 otherwise, so
// sum_k E_a(k) = sum_c <f_c^2> (Parseval). A direct DFT per line (O(N N_a) per field): the grids
// here are small, and non-periodic axes (a channel's y) are transformed as they are.
#include "core/types.hpp"

#include <string>
#include <vector>

namespace surro::op {

struct AxisProfiles {
  int channels = 0;
  std::vector<int> grid;
  long long steps = 0;
  // Indexed [axis][c][i] and [axis][pair][i]; pairs (c, d), c < d, in order (0,1), (0,2), (1,2)...
  std::vector<std::vector<std::vector<double>>> mean, rms, cross;
  std::vector<std::vector<double>> spectrum;  // [axis][k], k = 0 .. N_a / 2
};

template <class Exec>
class ProfileStats {
 public:
  // batch K samples per add, C fields, grid (N0[, N1[, N2]]).
  ProfileStats(int batch, int channels, std::vector<int> grid);
  // frames: (K, C, N...) on Exec. Adds one step of every sample.
  void add(const Exec& exec, const float* frames);

  // Copies the sums to the host and forms the profiles (fences).
  AxisProfiles profiles(const Exec& exec) const;

  int moments() const { return m_moments; }

 private:
  int m_batch, m_channels, m_moments;  // moments: C means, C squares, C (C - 1) / 2 products
  std::vector<int> m_grid;
  int m_slots = 0;  // sum of the axis extents: one profile slot per (axis, index)
  long long m_steps = 0;
  View2<double, typename Exec::memory_space> m_sums;  // (moments, slots)
  int m_spec_slots = 0;                               // sum over axes of N_a / 2 + 1
  View1<double, typename Exec::memory_space> m_spec;  // (spec_slots) sums of |f_hat|^2
  // (2, sum_a N_a): cos and sin of 2 pi m / N_a for m < N_a, axis a's entries after the earlier
  // axes'; the spectra kernel reads its phases here.
  View2<double, typename Exec::memory_space> m_twiddle;
};

// CSV, one row per (quantity, axis, index, field): quantity,axis,index,field,pred,ref with
// quantity mean | rms | cross (field "c*d" names the pair), written atomically. JSON: for each
// quantity, axis and field, the relative L2 difference of the two profiles: ||pred - ref|| divided
// by ||ref rms|| for mean profiles (the fluctuation scale: mean profiles of periodic flows are near
// zero) and by ||ref|| for rms and cross profiles (norm 0: absolute).
// Also writes <csv_path without .csv>_spectra.csv: axis,k,pred,ref, and adds to the JSON the
// log-spectrum error per axis (metrics.hpp spectrum_log_error over k = 1 .. N_a / 2).
void write_profiles(const std::string& csv_path, const std::string& json_path,
                    const std::vector<std::string>& fields, const AxisProfiles& pred,
                    const AxisProfiles& ref);

}  // namespace surro::op
