#pragma once
// Any trained model (operators/model.hpp) as a Surrogate (operators/surrogate.hpp): a window of
// T_in frames of C fields in, the next frame out; the model's input channels are T_in * C, its
// outputs C. Inference models are made per batch size on first use and reused across steps; no
// activations are kept for backward.
#include "operators/model.hpp"
#include "operators/surrogate.hpp"

#include <functional>
#include <map>
#include <memory>

namespace surro::op {

class ModelSurrogate final : public Surrogate {
 public:
  // Makes an inference model for one batch size (the caller decides wrapping, e.g. normalizers).
  using Maker = std::function<std::unique_ptr<Model<ExecSpace, float>>(const ExecSpace& exec, int batch)>;

  // params: (table.size()) on the device; it must outlive the surrogate.
  ModelSurrogate(Maker maker, const float* params, int in_channels, int channels, std::vector<int> grid,
                 int max_batch)
      : m_maker(std::move(maker)),
        m_params(params),
        m_channels(channels),
        m_grid(std::move(grid)),
        m_max_batch(max_batch) {
    SURRO_REQUIRE(channels > 0 && in_channels % channels == 0,
                  "ModelSurrogate: model in_channels = " << in_channels << ": expected a multiple of its "
                                                         << channels << " output channels (whole frames)");
    m_frames = in_channels / channels;
  }
  int in_frames() const override { return m_frames; }
  int channels() const override { return m_channels; }
  std::vector<int> grid() const override { return m_grid; }
  int max_batch() const override { return m_max_batch; }

  void predict(const ExecSpace& exec, int batch, const float* x, float* y) override {
    SURRO_REQUIRE(batch > 0 && batch <= m_max_batch,
                  "ModelSurrogate: batch " << batch << ": expected 1.." << m_max_batch);
    auto& model = m_models[batch];
    if (!model) model = m_maker(exec, batch);
    model->forward(exec, m_params, x, y);
  }

 private:
  Maker m_maker;
  const float* m_params;
  int m_channels, m_frames = 1;
  std::vector<int> m_grid;
  int m_max_batch;
  std::map<int, std::unique_ptr<Model<ExecSpace, float>>> m_models;
};

}  // namespace surro::op
