#pragma once
// axis_kernel: the factorized attention of FactFormer / IFactFormer (LowRankKernel and the
// application of its kernels along the axes), on M = B H independent blocks (sample, head).
//
// Kernel of axis a (LowRankKernel without softmax, diagonal term or dropout):
//   K_a(m) = scale q_a(m) k_a(m)^T          q_a, k_a (M, N_a, Dk)  ->  K_a (M, N_a, N_a)
// with scale = 1 (the reference uses 1/sqrt(Dk) only for kernel_multiplier > 4).
//
// Application along axis a of a head-major activation x (M, N0, N1[, N2], C), C = Dh:
//   (K_a *_a x)(m, .., i, ..) = sum_j K_a(m)(i, j) x(m, .., j, ..)     (identity on the other axes)
// With P = N0..N_{a-1} and Q = N_{a+1}.. C, block m is P matrices (N_a, Q): one GEMM call of M P
// products (gemm's outer count: blocks, then the P matrices of each), or on devices, where P > 1 and
// N_a is short, one kernel that reads x and writes y once (FactorizedCfg::direct_apply).
//
// The two ways of combining the axes (variant):
//   parallel (IFactFormer-m): U(m, a) = K_a *_a v for every axis a, U (M, d, N..., C): torch's
//             concatenation of the per-axis results on the channel axis, head by head;
//   chained  (IFactFormer-o, FactFormer): U = K_{d-1} *_{d-1} ( .. (K_0 *_0 v)), U (M, N..., C); the
//             d - 1 intermediates are saved for backward in a caller buffer `inter` ((d-1), M, N..., C).
// Backward: d v = sum_a K_a^T *_a dU_a (parallel) or the chain in reverse, and
//   dK_a(m) = sum_{p, q} dU_a(m, p, :, q) x_a(m, p, :, q)^T  (x_a: what K_a was applied to),
// through one GEMM call into the workspace's partial products of several blocks (as many as fit
// kPartialBudget in axis_kernel.cpp) and one sum over p for them; where P = 1, devices cut the sum
// over q into slices the same way (split-K).
#include "core/gemm.hpp"
#include "core/types.hpp"

#include <array>
#include <vector>

namespace surro::op {

enum class FactorizedVariant { parallel, chained };

struct FactorizedCfg {
  std::vector<int> grid;  // (N0, N1[, N2])
  int blocks = 0;         // M = B H
  int channels = 0;       // C = Dh, the width of v per head
  int kernel_dim = 0;     // Dk = Dh * kernel_multiplier, the width of q and k per head
  double scale = 1.0;
  FactorizedVariant variant = FactorizedVariant::parallel;
  // Groups the dK partial products are summed in (axis_kernel.cpp): 0 chooses (1 on host spaces,
  // about 2^18 / (mc N_a^2) on devices); a positive value forces min(value, P), so that host tests cover
  // the grouped sum the devices run.
  int partial_groups = 0;
  // Blocks whose dK partial products one GEMM call computes (axis_kernel.cpp): 0 chooses (as many as
  // fit 2^22 scalars, at least one); a positive value forces min(value, M), so that host tests cover
  // the calls of a few blocks each that large grids make.
  int partial_blocks = 0;
  // Axes with P = 1: dK's reduction over Q cut into S slices summed like the P > 1 partials
  // (split-K, axis_kernel.cpp): 0 chooses (1 on host spaces; on devices up to 64 slices of at least
  // 512); a positive value forces the largest divisor of Q up to it, so that host tests cover it.
  int split_k = 0;
  // How K_a is applied along an axis (axis_apply): 0 chooses (devices: the direct kernel where P > 1
  // and N_a <= 96, else the GEMM; host spaces: the GEMM), 1 the direct kernel wherever N_a <= 96 (so
  // that host tests cover it), -1 the GEMM always; either way only where op(K) fits team scratch.
  // axis_kernel.cpp gives the reason.
  int direct_apply = 0;
  int dims() const { return int(grid.size()); }
  index_t points() const;
  // Scalars of U: M d N C (parallel) or M N C (chained); of `inter`: (d - 1) M N C (chained) or 0.
  index_t u_size() const;
  index_t inter_size() const;
};

// One pointer per axis (d of the 3 used).
template <class Real>
using AxisPtrs = std::array<Real*, 3>;

// The GEMM handle and the backward's scratch: the partial products of dK and, for the chained
// variant, one (M, N, C) buffer for the chain's gradients. Built once per (config).
template <class Exec, class Real>
struct FactorizedWorkspace {
  FactorizedWorkspace(const Exec& exec, const FactorizedCfg& cfg);
  FactorizedCfg cfg;
  gemm::Gemm<Exec> gemm;
  // (mc, T, N_a, N_a), mc blocks per call and T terms (axis_kernel.cpp), the largest over the axes
  View1<Real, typename Exec::memory_space> partial;
  // (mc, G, N_a, N_a): the group sums of `partial` on device spaces (axis_kernel.cpp), else empty
  View1<Real, typename Exec::memory_space> group;
  View1<Real, typename Exec::memory_space> chain;  // (M, N, C), chained only
};

// K = scale q k^T for axis `axis`.
template <class Exec, class Real>
void lowrank_kernel_forward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                            const Real* q /* (M, N_a, Dk) */, const Real* k /* (M, N_a, Dk) */,
                            Real* kernel /* (M, N_a, N_a) */);

// dq = scale dK k, dk = scale dK^T q (overwritten; either may be null).
template <class Exec, class Real>
void lowrank_kernel_backward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                             const Real* q /* (M, N_a, Dk) */, const Real* k /* (M, N_a, Dk) */,
                             const Real* dkernel /* (M, N_a, N_a) */, Real* dq /* (M, N_a, Dk) */,
                             Real* dk /* (M, N_a, Dk) */);

// y = op(K) *_axis x (op: K or K^T), block m of x at x + m x_stride and of y at y + m y_stride
// (N C for a plain (M, N..., C) activation, d N C for one axis' slab of a parallel U).
// y = result + beta y; x and y must not overlap.
template <class Exec, class Real>
void axis_apply(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis, bool transpose,
                const Real* kernel /* (M, N_a, N_a) */, const Real* x, index_t x_stride, Real beta, Real* y,
                index_t y_stride);

// dK(m) = sum_{p,q} dy(m, p, :, q) x(m, p, :, q)^T (overwritten); strides as axis_apply.
template <class Exec, class Real>
void axis_apply_kernel_grad(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                            const Real* dy, index_t dy_stride, const Real* x, index_t x_stride,
                            Real* dkernel /* (M, N_a, N_a) */);

// U from v with the d kernels (variant above). inter: chained only (may be null for parallel).
template <class Exec, class Real>
void factorized_forward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws,
                        const AxisPtrs<const Real>& kernels /* (M, N_a, N_a) each */,
                        const Real* v /* (M, N..., C) */, Real* inter /* ((d-1), M, N..., C) saved */,
                        Real* u /* u_size() */);

// dv and every dK_a (overwritten) from dU.
template <class Exec, class Real>
void factorized_backward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws,
                         const AxisPtrs<const Real>& kernels, const Real* v /* (M, N..., C) */,
                         const Real* inter /* saved by forward */, const Real* du /* u_size() */,
                         const AxisPtrs<Real>& dkernels /* (M, N_a, N_a) each */,
                         Real* dv /* (M, N..., C) */);

}  // namespace surro::op
