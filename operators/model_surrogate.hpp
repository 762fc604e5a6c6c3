#pragma once
// Any trained model (operators/model.hpp) as a Surrogate (operators/surrogate.hpp): a window of
// T_in frames of C fields in, the next frame out; the model's input channels are T_in * C, its
// outputs C. Grids: inference models are made per batch size on first use and reused across steps.
// Meshes: one inference model, planned for the capacity the maker was given, serves every batch.
// No activations are kept for backward.
#include "operators/model.hpp"
#include "operators/surrogate.hpp"

#include <functional>
#include <map>
#include <memory>

namespace surro::op {

class ModelSurrogate final : public Surrogate {
 public:
  // Makes an inference model for one batch size (grids) or for the planned capacity (meshes: batch
  // is 0); the caller decides wrapping, e.g. normalizers.
  using Maker = std::function<std::unique_ptr<Model<ExecSpace, float>>(const ExecSpace& exec, int batch)>;

  // Grids. params: (table.size()) on the device; it must outlive the surrogate.
  ModelSurrogate(Maker maker, const float* params, int in_channels, int channels, std::vector<int> grid,
                 int max_batch)
      : ModelSurrogate(std::move(maker), params, in_channels, channels, max_batch, max_batch) {
    m_grid = std::move(grid);
  }
  // Meshes: up to max_meshes meshes of max_rows nodes in all.
  ModelSurrogate(Maker maker, const float* params, int in_channels, int channels, int max_meshes,
                 index_t max_rows)
      : m_maker(std::move(maker)),
        m_params(params),
        m_channels(channels),
        m_max_batch(max_meshes),
        m_max_rows(max_rows) {
    SURRO_REQUIRE(channels > 0 && in_channels % channels == 0,
                  "ModelSurrogate: model in_channels = " << in_channels << ": expected a multiple of its "
                                                         << channels << " output channels (whole frames)");
    m_frames = in_channels / channels;
  }
  int in_frames() const override { return m_frames; }
  int channels() const override { return m_channels; }
  std::vector<int> grid() const override { return m_grid; }
  int max_batch() const override { return m_max_batch; }
  index_t max_rows() const override { return m_max_rows; }

  void predict(const ExecSpace& exec, int batch, const float* x, float* y) override {
    predict(exec, grid_batch<ExecSpace>(batch), x, y);
  }
  void predict(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* x, float* y) override {
    SURRO_REQUIRE(batch.samples > 0 && batch.samples <= m_max_batch && batch.rows() <= m_max_rows,
                  "ModelSurrogate: a batch of " << batch.samples << " samples, " << batch.rows()
                                                << " rows: expected 1.." << m_max_batch << " samples and at most "
                                                << m_max_rows << " rows");
    const int key = batch.on_mesh() ? 0 : batch.samples;
    auto& model = m_models[key];
    if (!model) model = m_maker(exec, key);
    model->forward(exec, batch, m_params, x, y);
  }

 private:
  Maker m_maker;
  const float* m_params;
  int m_channels, m_frames = 1;
  std::vector<int> m_grid;
  int m_max_batch;
  index_t m_max_rows;
  std::map<int, std::unique_ptr<Model<ExecSpace, float>>> m_models;
};

}  // namespace surro::op
