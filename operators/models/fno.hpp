#pragma once
// Fourier Neural Operator (Li et al., ICLR 2021; the legacy scripts' architecture) in 1D, 2D, 3D:
//
//   x (B, Cin, N...) -> append d grid channels -> lift: pointwise linear (Cin+d -> W)
//   -> [pad] -> L Fourier layers: z_l = SpectralConv(h_l) + Linear(h_l);  h_{l+1} = GELU(z_l),
//      no GELU after the last -> [crop] -> proj1: linear (W -> P), GELU -> proj2: linear (P -> Cout)
//
// A straight line of layer calls; backward runs them in exact reverse. Activation buffers are
// planned at construction for one (batch, grid): nothing is allocated in forward or backward.
// Parameters live in a ParamTable under "fno.*" names (see fno_register).
#include "core/config.hpp"
#include "core/types.hpp"
#include "operators/layers/gelu.hpp"
#include "operators/layers/grid_channels.hpp"
#include "operators/layers/pad.hpp"
#include "operators/layers/pointwise_linear.hpp"
#include "operators/layers/spectral_conv.hpp"
#include "operators/model.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace surro::op {

struct FnoCfg {
  int in_channels = 1;      // data channels (10 past frames for NS, 1 for a(x))
  int out_channels = 1;
  int width = 20;           // W
  std::vector<int> modes;   // (mx[, my[, mz]]); its length is the number of spatial dims d
  int layers = 4;           // L
  int projection = 128;     // P, hidden width of the projection MLP
  std::vector<int> padding; // zero padding after the end of each axis (empty: none; Darcy: 9, 9)
  gemm::Options gemm;       // matmul_precision (operators/model.hpp)
  int dims() const { return static_cast<int>(modes.size()); }
};

// Reads a "model" section of type "fno". Channels come from the data (in: T_in * C fields,
// out: C); the section gives the architecture. "preset" fills the paper's values, which any key
// overrides: ns2d (modes [8, 8], width 20), darcy2d (modes [12, 12], width 32, padding [9, 9]),
// burgers1d (modes [16], width 64). Without a preset, modes is required.
FnoCfg read_fno_section(config::Node& node, int in_channels, int out_channels);

// Registers every FNO parameter in `table` and returns nothing; names are
// fno.lift.{weight,bias}, fno.layer<l>.spectral.weight, fno.layer<l>.linear.{weight,bias},
// fno.proj1.{weight,bias}, fno.proj2.{weight,bias}.
void fno_register(ParamTable& table, const FnoCfg& cfg);
// Validates the config against a grid (modes within the padded grid, sizes positive).
void fno_validate(const FnoCfg& cfg, const std::vector<int>& grid);
// The count the FNO paper reports: our parameters plus the BatchNorm layers the reference 2D/3D
// scripts construct but never use (2 * width per Fourier layer). NS FNO-2D (modes 8, width 20,
// 12 input channels): 414,517.
std::size_t fno_reference_parameter_count(const FnoCfg& cfg, const ParamTable& table);

// The FNO as an Architecture (operators/model.hpp), type "fno".
class FnoArchitecture final : public Architecture {
 public:
  explicit FnoArchitecture(FnoCfg cfg) : m_cfg(std::move(cfg)) {}
  std::string type() const override { return "fno"; }
  void bind(const DataShape& shape) override;
  void register_params(ParamTable& table) const override { fno_register(table, m_cfg); }
  std::string summary(const ParamTable& table) const override;
  void init(const ExecSpace& exec, const ParamTable& table, float* params, std::uint64_t seed) const override;
  std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                const PlanShape& plan, bool training) const override;
  const FnoCfg& cfg() const { return m_cfg; }

 private:
  FnoCfg m_cfg;
};

template <class Exec, class Real>
class Fno final : public GridModel<Exec, Real> {
 public:
  // training = false plans no buffers for backward (inference: two ping-pong activations).
  Fno(const Exec& exec, const FnoCfg& cfg, const ParamTable& table, int batch, std::vector<int> grid,
      bool training);
  ~Fno();
  Fno(const Fno&) = delete;
  Fno& operator=(const Fno&) = delete;

  // Initializes every parameter as the reference: PyTorch's default for the linear layers and
  // scale * U[0,1) (scale = 1/(W*W)) for the spectral weights, from the counter RNG.
  void init(const Exec& exec, Real* params /* (table.size()) */, std::uint64_t seed) const;

  // x: (B, Cin, N...) -> y: (B, Cout, N...). Saves what backward needs when training.
  using GridModel<Exec, Real>::forward;
  using GridModel<Exec, Real>::backward;
  void forward(const Exec& exec, const Real* params, const Real* x, Real* y) override;
  // dy: (B, Cout, N...). Accumulates into grads (table.size()); dx (B, Cin, N...) overwritten,
  // may be null. Uses the activations of the last forward.
  void backward(const Exec& exec, const Real* params, const Real* dy, Real* grads, Real* dx) override;

  const FnoCfg& cfg() const { return m_cfg; }
  int batch() const { return m_batch; }
  const std::vector<int>& grid() const { return m_grid; }

 private:
  struct State;
  FnoCfg m_cfg;
  const ParamTable* m_table;
  int m_batch;
  std::vector<int> m_grid;
  bool m_training;
  std::unique_ptr<State> m_state;
  const Real* m_features = nullptr;  // the projection's input in the last forward (B, W, N)
};

// Fno instances of one (batch, grid) for code written against Model (tests in double, benchmarks).
template <class Exec, class Real>
ModelFactory<Exec, Real> fno_factory(const FnoCfg& cfg, const ParamTable& table, int batch, std::vector<int> grid) {
  return [cfg, &table, batch, grid](const Exec& exec, bool training) -> std::unique_ptr<Model<Exec, Real>> {
    return std::make_unique<Fno<Exec, Real>>(exec, cfg, table, batch, grid, training);
  };
}

}  // namespace surro::op
