#pragma once
// The two faces of every neural operator (FNO, IFactFormer, ...), so that training, unrolling,
// checkpoints and rollout are written once for all of them.
//
//   Model<Exec, Real>   one instance planned for a (batch, grid): its activation buffers, FFT plans
//                       and GEMM handles are allocated by the constructor, never in forward or
//                       backward. x: (B, Cin, N...) channel-first; y: (B, Cout, N...).
//   Architecture        the model type and its hyperparameters, independent of the batch: it
//                       registers the parameters, validates a grid, initializes, and builds
//                       Model instances. Built from the config's "model" section.
//
// Channel counts come from the data: a window model sees Cin = T_in * C and predicts Cout = C.
#include "core/config.hpp"
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/params.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace surro::op {

template <class Exec, class Real>
class Model {
 public:
  virtual ~Model() = default;
  // x: (B, Cin, N...) -> y: (B, Cout, N...). A training instance saves what backward needs.
  virtual void forward(const Exec& exec, const Real* params, const Real* x, Real* y) = 0;
  // dy: (B, Cout, N...). Accumulates into grads (table.size()); overwrites dx (B, Cin, N...) when
  // non-null. Uses the activations of the last forward.
  virtual void backward(const Exec& exec, const Real* params, const Real* dy, Real* grads, Real* dx) = 0;
};

// Makes a Model for one fixed (batch, grid); training = false plans no buffers for backward.
template <class Exec, class Real>
using ModelFactory = std::function<std::unique_ptr<Model<Exec, Real>>(const Exec& exec, bool training)>;

class Architecture {
 public:
  virtual ~Architecture() = default;
  virtual std::string type() const = 0;  // the config's "type" and the checkpoint's model_type
  virtual int in_channels() const = 0;
  virtual int out_channels() const = 0;
  virtual void set_channels(int in_channels, int out_channels) = 0;
  // Adds every parameter under "<type>.*" names (the checkpoint's names).
  virtual void register_params(ParamTable& table) const = 0;
  // Error(usage) naming the config key when the hyperparameters do not fit the grid (N...).
  virtual void validate(const std::vector<int>& grid) const = 0;
  // One line for logs: type, sizes, parameter count (and any count the paper uses).
  virtual std::string summary(const ParamTable& table) const = 0;
  // Initializes params (table.size(), on the device) from the counter RNG keyed on seed; the grid
  // (N...) is the one the model will see (some models size buffers or features from it).
  virtual void init(const ExecSpace& exec, const ParamTable& table, const std::vector<int>& grid,
                    float* params, std::uint64_t seed) const = 0;
  virtual std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                        int batch, const std::vector<int>& grid,
                                                        bool training) const = 0;
};

// Reads a "model" section {"type": <name>, ...}; channel counts start at 1/1 and are set from the
// data with set_channels. Error(usage) for an unknown type (listing the known ones) or a bad key.
std::shared_ptr<Architecture> read_architecture(config::Node& section);
// The model section's "matmul_precision": "fp32" (default: float32 GEMMs, as every test and
// benchmark peer) or "tf32" (cuBLAS may use TF32 tensor cores for float32 GEMMs, about 1e-3
// relative rounding; host backends ignore it). FFTs and everything else stay float32.
gemm::Options read_gemm_options(config::Node& section);
std::string gemm_options_name(const gemm::Options& options);

// The registered type names, for messages: "fno", "ifactformer".
std::vector<std::string> architecture_types();

// A factory for Model instances of `arch` at one (batch, grid); arch and table must outlive it.
inline ModelFactory<ExecSpace, float> model_factory(const Architecture& arch, const ParamTable& table,
                                                    int batch, std::vector<int> grid) {
  return [&arch, &table, batch, grid](const ExecSpace& exec, bool training) {
    return arch.make(exec, table, batch, grid, training);
  };
}

}  // namespace surro::op
