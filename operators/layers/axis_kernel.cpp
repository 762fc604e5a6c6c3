#include "operators/layers/axis_kernel.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "core/reduce.hpp"
#include "core/timer.hpp"
#include "operators/layers/instantiate.hpp"

#include <algorithm>
#include <climits>
#include <type_traits>

namespace surro::op {

index_t FactorizedCfg::points() const {
  index_t n = 1;
  for (int e : grid) n *= e;
  return n;
}

index_t FactorizedCfg::u_size() const {
  const index_t mnc = index_t(blocks) * points() * channels;
  return variant == FactorizedVariant::parallel ? mnc * dims() : mnc;
}

index_t FactorizedCfg::inter_size() const {
  return variant == FactorizedVariant::chained ? index_t(dims() - 1) * blocks * points() * channels : 0;
}

namespace axis_kernel_impl {

// Block m seen along axis a: P matrices (N_a, Q), Q = N_{a+1}.. C.
struct AxisView {
  index_t P = 1, na = 1, Q = 1;
};

AxisView axis_view(const FactorizedCfg& c, int axis) {
  SURRO_REQUIRE(axis >= 0 && axis < c.dims(),
                "axis_kernel: axis " << axis << ": expected 0 .. " << c.dims() - 1);
  AxisView v;
  for (int t = 0; t < axis; ++t) v.P *= c.grid[t];
  v.na = c.grid[axis];
  for (int t = axis + 1; t < c.dims(); ++t) v.Q *= c.grid[t];
  v.Q *= c.channels;
  return v;
}

// Groups the P partial products are cut into before they are added: on a device, one thread per
// output entry summing all P terms gives only mc N_a^2 threads (256 per block at N_a = 16), too few
// to load the GPU's memory system, so P is cut into G groups summed side by side (G mc N_a^2
// threads, about kGroupThreads), then the G group sums are added. Host spaces use one group (the
// plain loop). G depends on (P, mc N_a^2) only, fixed by the config, so the rounding is the same
// run after run.
inline constexpr index_t kGroupThreads = index_t(1) << 18;

template <class Exec>
index_t partial_groups(index_t P, index_t outputs, int forced) {
  if (forced > 0) return std::min<index_t>(forced, P);
  if (!is_device_exec_v<Exec> || P < 8) return 1;
  const index_t g = (kGroupThreads + outputs - 1) / outputs;
  return std::min(g, P / 4);  // at least 4 terms a group
}

// dK_m = sum_t dY_{m,t} X_{m,t}^T over T terms, each an (N_a x k) slab of the block (row stride Q,
// term t at t * stride):
//   P > 1: the P matrices (N_a, Q) of the block: T = P, stride N_a Q, k = Q;
//   P = 1: one matrix (N_a, Q) whose columns are cut into S slices (split-K): T = S, stride and k
//          Q / S. S = 1 is one product straight into dK. On devices S is the largest divisor of Q up
//          to 64 that leaves k >= 512: M products of N_a x N_a over k = Q (32 x 32 over 50,688 for
//          IFactFormer's first axis) give a GPU M thread blocks, which left it at 3% of its fp32
//          peak (bench/RESULTS.md, 2026-11-22). Host spaces keep S = 1; FactorizedCfg::split_k forces S.
struct KernelGradTerms {
  index_t T = 1, stride = 0, k = 0;
};

template <class Exec>
KernelGradTerms kernel_grad_terms(const FactorizedCfg& c, const AxisView& v) {
  if (v.P > 1) return {v.P, v.na * v.Q, v.Q};
  index_t cap = 1, min_k = 1;
  if (c.split_k > 0) {
    cap = c.split_k;
  } else if (is_device_exec_v<Exec>) {
    cap = 64;
    min_k = 512;
  }
  index_t S = 1;
  for (index_t t = std::min(cap, v.Q); t > 1; --t)
    if (v.Q % t == 0 && v.Q / t >= min_k) {
      S = t;
      break;
    }
  return {S, v.Q / S, v.Q / S};
}

// The partial products of dK (T > 1 terms) are computed for up to this many scalars at once: blocks
// are taken kPartialBudget / (T N_a^2) at a time (at least one). More blocks per call give a GPU
// more independent products in one launch; the bound keeps the workspace at 16 MiB of floats (32 of
// doubles) where one block's partials fit.
inline constexpr index_t kPartialBudget = index_t(1) << 22;

// How one axis' dK is computed: its terms, the blocks per call and the groups of their sum. The
// workspace is sized from it and every call follows it, the last (shorter) call included, so the
// group count is that of a full call: a count recomputed for fewer blocks could ask for more
// scalars than were planned.
struct KernelGradPlan {
  KernelGradTerms terms;
  index_t per_call = 1, groups = 1;
  index_t partial_size(index_t n2) const { return terms.T == 1 ? 0 : per_call * terms.T * n2; }
  index_t group_size(index_t n2) const { return terms.T == 1 || groups == 1 ? 0 : per_call * groups * n2; }
};

template <class Exec>
KernelGradPlan kernel_grad_plan(const FactorizedCfg& c, const AxisView& v) {
  KernelGradPlan plan;
  plan.terms = kernel_grad_terms<Exec>(c, v);
  const index_t T = plan.terms.T, n2 = v.na * v.na;
  plan.per_call = c.partial_blocks > 0
                      ? std::min<index_t>(c.partial_blocks, c.blocks)
                      : std::max<index_t>(1, std::min<index_t>(c.blocks, kPartialBudget / (T * n2)));
  plan.groups = partial_groups<Exec>(T, plan.per_call * n2, c.partial_groups);
  return plan;
}

// out(m, e) = sum_p partial(m, p, e), m < mc, e < n2 = N_a^2: group g of G sums p in
// [chunk_begin(P, G, g), ..) into group(m, g, e), then out(m, e) adds the G group sums in order
// (G = 1: out directly).
template <class Exec, class Real>
void sum_partials(const Exec& exec, index_t mc, index_t P, index_t n2, index_t G,
                  const Real* partial /* (mc, P, n2) */, Real* group /* (mc, G, n2) */,
                  Real* out /* (mc, n2) */) {
  profile::add_work("surro::op::axis_kernel::sum_partials", double(mc) * (P + 1) * n2 * sizeof(Real));
  Real* dst = G == 1 ? out : group;
  Kokkos::parallel_for(
      "surro::op::axis_kernel::sum_partials", Kokkos::RangePolicy<Exec>(exec, 0, mc * G * n2),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t m = i / (G * n2), r = i - m * G * n2, g = r / n2, e = r - g * n2;
        const index_t first = reduce::chunk_begin(P, G, g), last = reduce::chunk_begin(P, G, g + 1);
        const Real* src = partial + m * P * n2 + e;
        Real s = 0;
        for (index_t p = first; p < last; ++p) s += src[p * n2];
        dst[i] = s;
      });
  if (G == 1) return;
  Kokkos::parallel_for(
      "surro::op::axis_kernel::sum_groups", Kokkos::RangePolicy<Exec>(exec, 0, mc * n2),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t m = i / n2, e = i - m * n2;
        Real s = 0;
        for (index_t g = 0; g < G; ++g) s += group[(m * G + g) * n2 + e];
        out[i] = s;
      });
}

// The direct application y(m, p, i, q) = sum_j op(K_m)(i, j) x(m, p, j, q) + beta y(...).
//
// Why: as one GEMM call, the M P products of a P > 1 axis are tiny (16 x 96 x 16 and 33 x 1536 x
// 33 at IFactFormer-m's Re_tau 180 size) and go through pointer arrays; cuBLAS ran them at 41-45% of
// the copy bandwidth (bench/RESULTS.md, session 21), while the work is one read of x and one write
// of y. Here a team takes kDirectTile (p, q) columns of one block, stages op(K_m) in team scratch
// (rows padded with zeros to a multiple of 4, read 4 at a time), and each thread holds one column's
// N_a inputs in registers and writes its N_a outputs: consecutive threads on consecutive q, so
// every load and store of a warp is contiguous. NMAX (16, 32, 64 or 96, the smallest >= N_a) sizes
// the register column at compile time; the sum over j is in index order in groups of 4.
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)  // the device pass only
#define SURRO_UNROLL _Pragma("unroll")
#else
#define SURRO_UNROLL
#endif

template <class Real>
struct alignas(4 * sizeof(Real)) Quad {
  Real v[4];
};

inline constexpr int kDirectTile = 256;  // (p, q) columns of one block per team
inline constexpr index_t kDirectMax = 96;

template <class Exec, class Real, int NMAX>
struct DirectApply {
  using Member = typename Kokkos::TeamPolicy<Exec>::member_type;
  const Real* kernel;  // (M, N_a, N_a)
  const Real* x;       // block m at m x_stride: (P, N_a, Q)
  Real* y;             // block m at m y_stride: (P, N_a, Q)
  index_t x_stride, y_stride, Q, columns /* P Q */, tiles /* per block */;
  int na, w /* ceil(N_a / 4) */;
  bool transpose;
  Real beta;

  static std::size_t scratch_bytes(int na) {
    return std::size_t(na) * ((na + 3) / 4) * sizeof(Quad<Real>) + alignof(Quad<Real>);
  }

  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const index_t m = team.league_rank() / tiles, tile = team.league_rank() - m * tiles;
    Quad<Real>* ks = static_cast<Quad<Real>*>(team.team_scratch(0).get_shmem_aligned(
        std::size_t(na) * w * sizeof(Quad<Real>), alignof(Quad<Real>)));
    const Real* K = kernel + m * na * na;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, na * w * 4), [&](const int e) {
      const int i = e / (4 * w), j = e - i * 4 * w;  // ks row i, column j: op(K)(i, j)
      ks[i * w + j / 4].v[j % 4] = j < na ? (transpose ? K[j * na + i] : K[i * na + j]) : Real(0);
    });
    team.team_barrier();
    const index_t first = tile * kDirectTile;
    const index_t count = columns - first < kDirectTile ? columns - first : index_t(kDirectTile);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, count), [&](const index_t r) {
      const index_t col = first + r, p = col / Q, q = col - p * Q;
      const Real* xs = x + m * x_stride + p * na * Q + q;
      Real* ys = y + m * y_stride + p * na * Q + q;
      Real xr[NMAX];
      SURRO_UNROLL
      for (int j = 0; j < NMAX; ++j) xr[j] = j < na ? xs[j * Q] : Real(0);
      for (int i = 0; i < na; ++i) {
        Real acc = 0;
        SURRO_UNROLL
        for (int g = 0; g < NMAX / 4; ++g)
          if (g < w) {
            const Quad<Real> k = ks[i * w + g];
            acc +=
                k.v[0] * xr[4 * g] + k.v[1] * xr[4 * g + 1] + k.v[2] * xr[4 * g + 2] + k.v[3] * xr[4 * g + 3];
          }
        Real* out = ys + i * Q;
        *out = beta == Real(0) ? acc : acc + beta * *out;
      }
    });
  }
};

#undef SURRO_UNROLL

template <class Exec, class Real, int NMAX>
void direct_apply_run(const Exec& exec, const DirectApply<Exec, Real, NMAX>& f, index_t M) {
  using Policy = Kokkos::TeamPolicy<Exec>;
  Policy policy = is_device_exec_v<Exec> ? Policy(exec, int(M * f.tiles), kDirectTile)
                                         : Policy(exec, int(M * f.tiles), Kokkos::AUTO);
  Kokkos::parallel_for(
      "surro::op::axis_kernel::direct_apply",
      policy.set_scratch_size(0, Kokkos::PerTeam(DirectApply<Exec, Real, NMAX>::scratch_bytes(f.na))), f);
}

// Whether axis_apply takes the direct kernel (FactorizedCfg::direct_apply): never where op(K) does
// not fit the space's team scratch (doubles with N_a above about 70 on CUDA's 48 KB).
template <class Exec, class Real>
bool use_direct_apply(const FactorizedCfg& c, const AxisView& v) {
  if (c.direct_apply < 0 || v.na > kDirectMax) return false;
  if (DirectApply<Exec, Real, 16>::scratch_bytes(int(v.na)) >
      std::size_t(Kokkos::TeamPolicy<Exec>::scratch_size_max(0)))
    return false;
  if (c.direct_apply > 0) return true;
  return is_device_exec_v<Exec> && v.P > 1;
}

template <class Exec, class Real>
void direct_apply(const Exec& exec, const AxisView& v, index_t M, bool transpose, const Real* kernel,
                  const Real* x, index_t x_stride, Real beta, Real* y, index_t y_stride) {
  const index_t columns = v.P * v.Q;
  const index_t tiles = (columns + kDirectTile - 1) / kDirectTile;
  SURRO_REQUIRE(M * tiles <= index_t(INT_MAX),
                "axis_kernel: " << M * tiles << " teams of the direct application exceed 32 bits");
  profile::add_work("surro::op::axis_kernel::direct_apply",
                    double(M) * columns * v.na * sizeof(Real) * (beta == Real(0) ? 2 : 3));
  const int na = int(v.na), w = (na + 3) / 4;
  auto run = [&](auto nmax) {
    constexpr int N = decltype(nmax)::value;
    direct_apply_run(exec,
                     DirectApply<Exec, Real, N>{kernel, x, y, x_stride, y_stride, v.Q, columns, tiles, na, w,
                                                transpose, beta},
                     M);
  };
  if (na <= 16)
    run(std::integral_constant<int, 16>{});
  else if (na <= 32)
    run(std::integral_constant<int, 32>{});
  else if (na <= 64)
    run(std::integral_constant<int, 64>{});
  else
    run(std::integral_constant<int, 96>{});
}

}  // namespace axis_kernel_impl

template <class Exec, class Real>
FactorizedWorkspace<Exec, Real>::FactorizedWorkspace(const Exec& exec, const FactorizedCfg& c)
    : cfg(c), gemm(exec) {
  using namespace axis_kernel_impl;
  SURRO_REQUIRE(c.dims() >= 1 && c.dims() <= 3, "axis_kernel: " << c.dims() << " axes: expected 1, 2 or 3");
  SURRO_REQUIRE(c.blocks > 0 && c.channels > 0 && c.kernel_dim > 0,
                "axis_kernel: blocks " << c.blocks << ", channels " << c.channels << ", kernel_dim "
                                       << c.kernel_dim << ": expected positive");
  for (int a = 0; a < c.dims(); ++a)
    SURRO_REQUIRE(c.grid[a] > 0, "axis_kernel: grid[" << a << "] = " << c.grid[a] << ": expected positive");
  SURRO_REQUIRE(c.points() * c.channels <= index_t(INT_MAX),
                "axis_kernel: " << c.points() << " points x " << c.channels
                                << " channels exceed the GEMM's 32-bit extents");
  index_t need = 0, need_groups = 0;
  for (int a = 0; a < c.dims(); ++a) {
    const AxisView v = axis_view(c, a);
    const KernelGradPlan plan = kernel_grad_plan<Exec>(c, v);
    need = std::max(need, plan.partial_size(v.na * v.na));
    need_groups = std::max(need_groups, plan.group_size(v.na * v.na));
  }
  using mem = typename Exec::memory_space;
  if (need > 0) partial = make_scratch<View1<Real, mem>>(exec, "surro::op::axis_kernel::partial", need);
  if (need_groups > 0)
    group = make_scratch<View1<Real, mem>>(exec, "surro::op::axis_kernel::group", need_groups);
  if (c.variant == FactorizedVariant::chained && c.dims() > 1)
    chain = make_scratch<View1<Real, mem>>(exec, "surro::op::axis_kernel::chain",
                                           index_t(c.blocks) * c.points() * c.channels);
}

template <class Exec, class Real>
void lowrank_kernel_forward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                            const Real* q, const Real* k, Real* kernel) {
  using namespace axis_kernel_impl;
  ScopedRegion region("surro::op::lowrank_kernel::forward");
  const index_t n = axis_view(ws.cfg, axis).na, dk = ws.cfg.kernel_dim;
  // K_m (n x n) = scale q_m (n x Dk) k_m^T
  ws.gemm(exec,
          gemm::make_shape(gemm::Op::none, gemm::Op::trans, n, n, dk, dk, dk, n, n * dk, n * dk, n * n,
                           ws.cfg.blocks),
          Real(ws.cfg.scale), q, k, Real(0), kernel);
}

template <class Exec, class Real>
void lowrank_kernel_backward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                             const Real* q, const Real* k, const Real* dkernel, Real* dq, Real* dk) {
  using namespace axis_kernel_impl;
  ScopedRegion region("surro::op::lowrank_kernel::backward");
  const index_t n = axis_view(ws.cfg, axis).na, d = ws.cfg.kernel_dim;
  const Real s = Real(ws.cfg.scale);
  if (dq)  // dq_m (n x Dk) = scale dK_m k_m
    ws.gemm(exec,
            gemm::make_shape(gemm::Op::none, gemm::Op::none, n, d, n, n, d, d, n * n, n * d, n * d,
                             ws.cfg.blocks),
            s, dkernel, k, Real(0), dq);
  if (dk)  // dk_m (n x Dk) = scale dK_m^T q_m
    ws.gemm(exec,
            gemm::make_shape(gemm::Op::trans, gemm::Op::none, n, d, n, n, d, d, n * n, n * d, n * d,
                             ws.cfg.blocks),
            s, dkernel, q, Real(0), dk);
}

template <class Exec, class Real>
void axis_apply(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis, bool transpose,
                const Real* kernel, const Real* x, index_t x_stride, Real beta, Real* y, index_t y_stride) {
  using namespace axis_kernel_impl;
  const AxisView v = axis_view(ws.cfg, axis);
  const index_t M = ws.cfg.blocks, na = v.na, Q = v.Q, P = v.P, mat = na * Q;
  if (use_direct_apply<Exec, Real>(ws.cfg, v)) {
    direct_apply(exec, v, M, transpose, kernel, x, x_stride, beta, y, y_stride);
    return;
  }
  const gemm::Op op = transpose ? gemm::Op::trans : gemm::Op::none;
  // Y_{m,p} (N_a x Q) = op(K_m) X_{m,p}; X_{m,p} at x + m x_stride + p N_a Q: P products per block
  // (the block's K for all of them), M blocks, one call.
  const gemm::Shape one = gemm::make_shape(op, gemm::Op::none, na, Q, na, na, Q, Q, 0, mat, mat, P);
  ws.gemm(exec, gemm::with_outer(one, M, na * na, x_stride, y_stride), Real(1), kernel, x, beta, y);
}

template <class Exec, class Real>
void axis_apply_kernel_grad(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws, int axis,
                            const Real* dy, index_t dy_stride, const Real* x, index_t x_stride,
                            Real* dkernel) {
  using namespace axis_kernel_impl;
  const AxisView v = axis_view(ws.cfg, axis);
  const index_t M = ws.cfg.blocks, na = v.na, Q = v.Q, n2 = na * na;
  const KernelGradPlan plan = kernel_grad_plan<Exec>(ws.cfg, v);
  const KernelGradTerms& t = plan.terms;
  if (t.T == 1) {  // dK_m (N_a x N_a) = dY_m X_m^T
    ws.gemm(
        exec,
        gemm::make_shape(gemm::Op::none, gemm::Op::trans, na, na, Q, Q, Q, na, dy_stride, x_stride, n2, M),
        Real(1), dy, x, Real(0), dkernel);
    return;
  }
  // The T products dY_{m,t} X_{m,t}^T of mc blocks side by side in one call, then their sums over t.
  const index_t per_call = plan.per_call;
  const gemm::Shape one =
      gemm::make_shape(gemm::Op::none, gemm::Op::trans, na, na, t.k, Q, Q, na, t.stride, t.stride, n2, t.T);
  for (index_t m0 = 0; m0 < M; m0 += per_call) {
    const index_t mc = std::min(per_call, M - m0);
    ws.gemm(exec, gemm::with_outer(one, mc, dy_stride, x_stride, t.T * n2), Real(1), dy + m0 * dy_stride,
            x + m0 * x_stride, Real(0), ws.partial.data());
    sum_partials(exec, mc, t.T, n2, plan.groups, ws.partial.data(), ws.group.data(), dkernel + m0 * n2);
  }
}

template <class Exec, class Real>
void factorized_forward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws,
                        const AxisPtrs<const Real>& kernels, const Real* v, Real* inter, Real* u) {
  ScopedRegion region("surro::op::factorized::forward");
  const FactorizedCfg& c = ws.cfg;
  const int d = c.dims();
  const index_t nc = c.points() * c.channels;
  if (c.variant == FactorizedVariant::parallel) {
    for (int a = 0; a < d; ++a)
      axis_apply(exec, ws, a, false, kernels[a], v, nc, Real(0), u + a * nc, d * nc);
    return;
  }
  SURRO_REQUIRE(d == 1 || inter, "factorized_forward: the chained variant needs the intermediates buffer");
  const Real* src = v;
  for (int a = 0; a < d; ++a) {
    Real* dst = a == d - 1 ? u : inter + index_t(a) * c.blocks * nc;
    axis_apply(exec, ws, a, false, kernels[a], src, nc, Real(0), dst, nc);
    src = dst;
  }
}

template <class Exec, class Real>
void factorized_backward(const Exec& exec, const FactorizedWorkspace<Exec, Real>& ws,
                         const AxisPtrs<const Real>& kernels, const Real* v, const Real* inter,
                         const Real* du, const AxisPtrs<Real>& dkernels, Real* dv) {
  ScopedRegion region("surro::op::factorized::backward");
  const FactorizedCfg& c = ws.cfg;
  const int d = c.dims();
  const index_t nc = c.points() * c.channels;
  SURRO_REQUIRE(dv, "factorized_backward: dv is required");
  if (c.variant == FactorizedVariant::parallel) {
    for (int a = 0; a < d; ++a) {
      axis_apply_kernel_grad(exec, ws, a, du + a * nc, d * nc, v, nc, dkernels[a]);
      axis_apply(exec, ws, a, true, kernels[a], du + a * nc, d * nc, a == 0 ? Real(0) : Real(1), dv, nc);
    }
    return;
  }
  // g_a = d(input of axis a's step): g_{d-1} from dU, down to g_0 = dv. The chain alternates
  // between dv and the workspace buffer so that g_0 lands in dv.
  const Real* g = du;
  for (int a = d - 1; a >= 0; --a) {
    const Real* x = a == 0 ? v : inter + index_t(a - 1) * c.blocks * nc;
    axis_apply_kernel_grad(exec, ws, a, g, nc, x, nc, dkernels[a]);
    Real* dst = a % 2 == 0 ? dv : ws.chain.data();
    axis_apply(exec, ws, a, true, kernels[a], g, nc, Real(0), dst, nc);
    g = dst;
  }
}

#if SURRO_OP_DEVICE_BUILD
#define SURRO_WS(Real)                                 \
  template struct FactorizedWorkspace<HostExec, Real>; \
  template struct FactorizedWorkspace<ExecSpace, Real>;
#else
#define SURRO_WS(Real) template struct FactorizedWorkspace<HostExec, Real>;
#endif
SURRO_WS(float)
SURRO_WS(double)
#undef SURRO_WS

#define SURRO_X(Exec, Real)                                                                                  \
  template void lowrank_kernel_forward<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&, int, \
                                                   const Real*, const Real*, Real*);                         \
  template void lowrank_kernel_backward<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&,     \
                                                    int, const Real*, const Real*, const Real*, Real*,       \
                                                    Real*);                                                  \
  template void axis_apply<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&, int, bool,       \
                                       const Real*, const Real*, index_t, Real, Real*, index_t);             \
  template void axis_apply_kernel_grad<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&, int, \
                                                   const Real*, index_t, const Real*, index_t, Real*);       \
  template void factorized_forward<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&,          \
                                               const AxisPtrs<const Real>&, const Real*, Real*, Real*);      \
  template void factorized_backward<Exec, Real>(const Exec&, const FactorizedWorkspace<Exec, Real>&,         \
                                                const AxisPtrs<const Real>&, const Real*, const Real*,       \
                                                const Real*, const AxisPtrs<Real>&, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
