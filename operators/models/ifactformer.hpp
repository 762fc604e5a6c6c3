#pragma once
// IFactFormer (Yang, Wang & Wang, arXiv 2412.18840; code IFM-HEAD, see the reference notes §2.2) in
// 2D and 3D, variants "parallel" (IFactFormer-m, the default) and "chained" (IFactFormer-o):
//
//   x (B, T C, N...) channel-first, frame-major (channel t C + c: field c at window step t)
//   lift:  field_lift (each field -> G = lift_channels, shared over the T frames), GELU,
//          linear (C G T -> D, no bias) reading channel-first, writing u0 (B, N, D) channel-last
//   pos:   u0 += Linear(D, D)(FourierFeatures(p; Bm)),  Bm (d, D/2) = randn * fourier_scale, frozen;
//          p (N, d) the grid coordinates linspace(0, L_a, N_a) per axis
//   L weight-shared iterations:  u <- u + block(u) / L
//   block: ubar = LayerNorm(u);  v = to_v(ubar) (B, H, N, Dh) head-major
//          per axis a: r_a = reducer_a(mean over the other axes of to_in(ubar)) (B, N_a, D)
//                      q_a, k_a = RoPE_a(to_q_a(r_a)), RoPE_a(to_k_a(r_a)) (B, H, N_a, Dk), Dk = Dh km
//                      K_a = q_a k_a^T (B, H, N_a, N_a)
//          U = parallel: [K_a *_a v]_a (B, H, d, N, Dh)   chained: K_{d-1} *_{d-1} .. K_0 *_0 v (B, H, N, Dh)
//          block = Linear(D, D)(GELU(Linear(H g Dh, D)(InstanceNorm(U))))   (g = d parallel, 1 chained)
//          reducer_a(s) = Linear(D, D)(GeGLU(Linear(D, 2D)(LayerNorm(Linear(D, D)(s)))))
//   head:  Linear(D, D/2, no bias), GELU, Linear(D/2, Cout) writing y (B, Cout, N...) channel-first
//
// Reducer order: to_in and the reducers' first linear have no bias, so they commute with the mean;
// we take the mean of ubar first and apply both to the (B, N_a, D) means (the same function, far fewer
// FLOPs; rounding differs). Memory: a training instance keeps, per iteration, only u_l, v_l and the
// pre-GELU output hidden z_l (B N (2D + H Dh)) plus the per-axis O(B N_a D) tensors; backward
// recomputes LayerNorm(u_l), U and its InstanceNorm (two GEMM passes cheaper than storing H g Dh
// channels per iteration). Inference plans one set of buffers whatever L.
#include "core/config.hpp"
#include "core/types.hpp"
#include "operators/layers/axis_kernel.hpp"
#include "operators/model.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace surro::op {

struct IFactFormerCfg {
  int in_channels = 1;   // T C (window frames times fields), from the data
  int out_channels = 1;  // C
  int dims = 2;          // d, spatial axes (2 or 3)
  int dim = 96;          // D
  int heads = 5;         // H
  int dim_head = 96;     // Dh
  int kernel_multiplier = 3;
  int n_layer = 10;  // L weight-shared iterations
  int lift_channels = 16;
  double fourier_scale = 8;
  std::vector<double> lengths;  // domain length per axis; empty: 1.0 each
  FactorizedVariant variant = FactorizedVariant::parallel;
  gemm::Options gemm;  // matmul_precision (operators/model.hpp)
  // Training: what backward reads of each iteration's attention output U (after its instance norm;
  // the chained variant's intermediates with it). `never` recomputes it from the kept kernels and v
  // (one factorized product and one instance norm per iteration: keeping them took 13% off the
  // Re_tau 180 step on an H100, bench/RESULTS.md 2026-12-07, session 21); `always` keeps all L of
  // them (L u_size more scalars); `auto` keeps them where they take at most kKeepUAutoScalars, or
  // at most a quarter of the GPU's free memory at planning time (64×65×32 at batch 2 keeps 3.9e9
  // fp32 scalars, 15.6 GB, where 62 GB are free). Both give the same bits.
  enum class KeepU { automatic, always, never };
  KeepU keep_u = KeepU::automatic;
  static constexpr long long kKeepUAutoScalars = 1LL << 31;  // 8 GiB of fp32

  int frames() const { return in_channels / out_channels; }        // T
  int kernel_dim() const { return dim_head * kernel_multiplier; }  // Dk
  // LowRankKernel's scaling: 1/sqrt(Dk) for kernel_multiplier > 4, else 1.
  double kernel_scale() const;
  double length(int axis) const { return lengths.empty() ? 1.0 : lengths[axis]; }
  int u_groups() const { return variant == FactorizedVariant::parallel ? heads * dims : heads; }
  // Whether a training plan of `kept_scalars` = L (u_size + inter_size) keeps U (keep_u above), on a
  // device with room for `free_scalars` more (0: unknown, a host space).
  bool keeps_u(long long kept_scalars, long long free_scalars = 0) const {
    return keep_u == KeepU::always || (keep_u == KeepU::automatic && (kept_scalars <= kKeepUAutoScalars ||
                                                                      kept_scalars <= free_scalars / 4));
  }
};

// Reads a "model" section of type "ifactformer": dim, heads, dim_head, kernel_multiplier, n_layer,
// lift_channels, fourier_scale, lengths, variant ("parallel" | "chained"), dims (default: the
// length of lengths, else 2), matmul_precision, keep_u ("auto" | "always" | "never"). Channels come
// from the data.
IFactFormerCfg read_ifactformer_section(config::Node& node, int in_channels, int out_channels);

// keep_u's names: "auto", "always", "never" (the config's and bench_ifactformer's); the parse
// throws Error(usage) naming `what` and the valid names.
const char* keep_u_name(IFactFormerCfg::KeepU k);
IFactFormerCfg::KeepU parse_keep_u(const std::string& name, const std::string& what);

// Registers every parameter under "ifactformer.*" (the frozen Fourier matrix last).
void ifactformer_register(ParamTable& table, const IFactFormerCfg& cfg);
// Error(usage) naming the key when the config does not fit the channels or the grid (N...).
void ifactformer_validate(const IFactFormerCfg& cfg, const std::vector<int>& grid);
// PyTorch's defaults as the reference: Linear U(+-1/sqrt(fan_in)), LayerNorm 1/0, the kernels' q and
// k Xavier-uniform with gain 0.02, Bm = randn * fourier_scale; one Philox stream per tensor (its slot).
template <class Exec, class Real>
void ifactformer_init(const Exec& exec, const IFactFormerCfg& cfg, const ParamTable& table,
                      Real* params /* (table.size()) */, std::uint64_t seed);

// The model as an Architecture (operators/model.hpp), type "ifactformer".
class IFactFormerArchitecture final : public Architecture {
 public:
  explicit IFactFormerArchitecture(IFactFormerCfg cfg) : m_cfg(std::move(cfg)) {}
  std::string type() const override { return "ifactformer"; }
  void bind(const DataShape& shape) override;
  void register_params(ParamTable& table) const override { ifactformer_register(table, m_cfg); }
  std::string summary(const ParamTable& table) const override;
  void init(const ExecSpace& exec, const ParamTable& table, float* params, std::uint64_t seed) const override;
  std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                const PlanShape& plan, bool training) const override;
  const IFactFormerCfg& cfg() const { return m_cfg; }

 private:
  IFactFormerCfg m_cfg;
};

template <class Exec, class Real>
class IFactFormer final : public GridModel<Exec, Real> {
 public:
  // Plans every buffer for (batch, grid); training = false plans inference buffers only.
  IFactFormer(const Exec& exec, const IFactFormerCfg& cfg, const ParamTable& table, int batch,
              std::vector<int> grid, bool training);
  ~IFactFormer();
  IFactFormer(const IFactFormer&) = delete;
  IFactFormer& operator=(const IFactFormer&) = delete;

  // x: (B, T C, N...) -> y: (B, C, N...). Saves what backward needs when training.
  using GridModel<Exec, Real>::forward;
  using GridModel<Exec, Real>::backward;
  void forward(const Exec& exec, const Real* params, const Real* x, Real* y) override;
  // dy: (B, C, N...). Accumulates into grads (table.size(); the frozen Bm gets none); dx
  // (B, T C, N...) overwritten, may be null. Uses the activations of the last forward.
  void backward(const Exec& exec, const Real* params, const Real* dy, Real* grads, Real* dx) override;

  const IFactFormerCfg& cfg() const { return m_cfg; }
  int batch() const { return m_batch; }
  const std::vector<int>& grid() const { return m_grid; }
  // Scalars of every buffer this instance planned (activations, scratch, workspaces).
  std::size_t planned_scalars() const;
  // Whether this instance keeps each iteration's U for backward (keep_u as resolved at planning:
  // `auto` becomes one of the two; always false for inference).
  bool keeps_u() const;

 private:
  struct State;
  IFactFormerCfg m_cfg;
  int m_batch;
  std::vector<int> m_grid;
  bool m_training;
  std::unique_ptr<State> m_state;
};

}  // namespace surro::op
