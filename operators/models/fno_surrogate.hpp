#pragma once
// An FNO as a Surrogate (operators/surrogate.hpp): window of T_in frames of C fields in, the next
// frame out. The model's input channels are T_in * C, its outputs C. Inference models are planned
// per batch size on first use and reused across steps; no activations are kept for backward.
#include "operators/models/fno.hpp"
#include "operators/surrogate.hpp"

#include <map>
#include <memory>

namespace surro::op {

class FnoSurrogate final : public Surrogate {
 public:
  // params: (table.size()) on the device, laid out by `table`; both must outlive the surrogate.
  FnoSurrogate(const FnoCfg& cfg, const ParamTable& table, View1<float> params, std::vector<int> grid, int frames,
               int max_batch)
      : m_cfg(cfg), m_table(&table), m_params(std::move(params)), m_grid(std::move(grid)), m_frames(frames),
        m_max_batch(max_batch) {
    SURRO_REQUIRE(frames > 0 && cfg.in_channels == frames * cfg.out_channels,
                  "FnoSurrogate: model in_channels = " << cfg.in_channels << ": expected frames (" << frames
                                                       << ") x out_channels (" << cfg.out_channels << ")");
  }
  int in_frames() const override { return m_frames; }
  int channels() const override { return m_cfg.out_channels; }
  std::vector<int> grid() const override { return m_grid; }
  int max_batch() const override { return m_max_batch; }

  void predict(const ExecSpace& exec, int batch, const float* x, float* y) override {
    SURRO_REQUIRE(batch > 0 && batch <= m_max_batch,
                  "FnoSurrogate: batch " << batch << ": expected 1.." << m_max_batch);
    auto& model = m_models[batch];
    if (!model) model = std::make_unique<Fno<ExecSpace, float>>(exec, m_cfg, *m_table, batch, m_grid, false);
    model->forward(exec, m_params.data(), x, y);
  }

 private:
  FnoCfg m_cfg;
  const ParamTable* m_table;
  View1<float> m_params;
  std::vector<int> m_grid;
  int m_frames, m_max_batch;
  std::map<int, std::unique_ptr<Fno<ExecSpace, float>>> m_models;
};

}  // namespace surro::op
