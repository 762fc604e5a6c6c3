#pragma once
// The two faces of every neural operator (FNO, IFactFormer, the mesh transformer, MeshGraphNet), so
// that training, unrolling, checkpoints and rollout are written once for all of them.
//
//   Model<Exec, Real>   one instance planned for a PlanShape (operators/batch.hpp): a batch size
//                       on grids, a GraphBatch capacity on meshes. Its activation buffers, FFT plans
//                       and GEMM handles are allocated by the constructor, never in forward or
//                       backward. x: (rows, Cin, P), y: (rows, Cout, P) in the layout of batch.hpp:
//                       (B, C, N...) on grids, (V, C) on meshes.
//   Architecture        the model type and its hyperparameters, bound ONCE to the data's shape
//                       (bind: channels, grid or mesh): it registers the parameters, initializes,
//                       and builds Model instances. Built from the config's "model" section.
//
// Channel counts come from the data: a window model sees Cin = T_in * C and predicts Cout = C.
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/types.hpp"
#include "operators/batch.hpp"
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
  // x: (rows, Cin, P) -> y: (rows, Cout, P), rows = batch.rows(). A training instance saves what
  // backward needs.
  virtual void forward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* x,
                       Real* y) = 0;
  // dy: (rows, Cout, P). Accumulates into grads (table.size()); overwrites dx (rows, Cin, P) when
  // non-null. Uses the activations of the last forward, on the same batch.
  virtual void backward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* dy,
                        Real* grads, Real* dx) = 0;
  // Statistics for the features a model derives per edge (Architecture::edge_features()): they
  // become (f - mean) / scale. mean, scale: (channels) device pointers that outlive the model.
  // Models without edge features refuse (the config's normalize.edges names the mistake earlier).
  virtual void set_edge_normalizer(const Real* mean, const Real* scale, int channels) {
    (void)mean, (void)scale;
    SURRO_THROW(ErrorKind::usage, "normalize.edges: this model derives no edge features, got an edge "
                                  "normalizer of " << channels << " channels");
  }
};

// A model planned for exactly `batch` samples of one grid (FNO, IFactFormer: FFT plans and GEMM
// shapes are batch-sized). It implements the Batch interface by checking the batch and calling
// the plain (B, C, N...) forms, which tests and benchmarks call directly.
template <class Exec, class Real>
class GridModel : public Model<Exec, Real> {
 public:
  explicit GridModel(int batch) : m_planned(batch) {}
  virtual void forward(const Exec& exec, const Real* params, const Real* x, Real* y) = 0;
  virtual void backward(const Exec& exec, const Real* params, const Real* dy, Real* grads, Real* dx) = 0;
  void forward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* x,
               Real* y) override {
    check(batch);
    forward(exec, params, x, y);
  }
  void backward(const Exec& exec, const Batch<Exec>& batch, const Real* params, const Real* dy, Real* grads,
                Real* dx) override {
    check(batch);
    backward(exec, params, dy, grads, dx);
  }

 private:
  void check(const Batch<Exec>& batch) const {
    SURRO_REQUIRE(!batch.on_mesh() && batch.samples == m_planned,
                  "grid model planned for " << m_planned << " samples got a batch of " << batch.samples
                                            << (batch.on_mesh() ? " meshes" : " samples"));
  }
  int m_planned;
};

// Makes a Model for one PlanShape; training = false plans no buffers for backward.
template <class Exec, class Real>
using ModelFactory = std::function<std::unique_ptr<Model<Exec, Real>>(const Exec& exec, bool training)>;

class Architecture {
 public:
  virtual ~Architecture() = default;
  virtual std::string type() const = 0;  // the config's "type" and the checkpoint's model_type
  // Binds the hyperparameters to the data, once: channels and grid, or mesh dims. Error(usage)
  // naming the config key when they do not fit, or when the model does not take this kind of data
  // (grid models on meshes and the reverse). Binding again to a different shape is an error.
  virtual void bind(const DataShape& shape) = 0;
  bool bound() const { return m_bound; }
  const DataShape& shape() const { return m_shape; }
  int in_channels() const { return m_shape.in_channels; }
  int out_channels() const { return m_shape.out_channels; }
  // The attention mask a graph batch must be built with (attention_masks.hpp; the default, mesh
  // adjacency, for the models that use no mask).
  virtual MaskSpec graph_mask() const { return MaskSpec{}; }
  // The number of features the model derives per edge from the positions (MeshGraphNet: dx and
  // |dx|, dims + 1), which normalize.edges standardizes; 0 for models that derive none. After bind.
  virtual int edge_features() const { return 0; }
  // Adds every parameter under "<type>.*" names (the checkpoint's names). After bind.
  virtual void register_params(ParamTable& table) const = 0;
  // One line for logs: type, sizes, parameter count (and any count the paper uses).
  virtual std::string summary(const ParamTable& table) const = 0;
  // Initializes params (table.size(), on the device) from the counter RNG keyed on seed.
  virtual void init(const ExecSpace& exec, const ParamTable& table, float* params,
                    std::uint64_t seed) const = 0;
  virtual std::unique_ptr<Model<ExecSpace, float>> make(const ExecSpace& exec, const ParamTable& table,
                                                        const PlanShape& plan, bool training) const = 0;

 protected:
  // For bind(): records the shape, refusing a second, different one.
  void record_shape(const DataShape& shape);
  void require_bound(const char* what) const;

 private:
  DataShape m_shape;
  bool m_bound = false;
};

// Reads a "model" section {"type": <name>, ...}; bind it to the data before use. Error(usage) for
// an unknown type (listing the known ones) or a bad key.
std::shared_ptr<Architecture> read_architecture(config::Node& section);
// The model section's "matmul_precision": "fp32" (default: float32 GEMMs, as every test and
// benchmark peer) or "tf32" (cuBLAS may use TF32 tensor cores for float32 GEMMs, about 1e-3
// relative rounding; host backends ignore it). FFTs and everything else stay float32.
gemm::Options read_gemm_options(config::Node& section);
std::string gemm_options_name(const gemm::Options& options);

// The registered type names, for messages: "fno", "ifactformer", "mesh_transformer", "meshgraphnet".
std::vector<std::string> architecture_types();

// A factory for Model instances of `arch` at one PlanShape; arch and table must outlive it.
inline ModelFactory<ExecSpace, float> model_factory(const Architecture& arch, const ParamTable& table,
                                                    const PlanShape& plan) {
  return [&arch, &table, plan](const ExecSpace& exec, bool training) {
    return arch.make(exec, table, plan, training);
  };
}

}  // namespace surro::op
