#pragma once
// A model seen through Gaussian normalizers fitted on the training split, so that callers (trainer,
// unroller, rollout) work in physical units and the loss is taken on de-normalized fields (the
// FNO Darcy script and IFactFormer both do this):
//
//   y = decode_y( inner( encode_x(x) ) )
//
// x (B, Cin, N...) is normalized as (B * Cin / Cx, Cx, N...): a window of T_in frames of Cx fields
// is T_in samples of the field normalizer, so one normalizer serves every frame. y (B, Cout, N...)
// is decoded with Cout = Cy. Either side may be absent. Backward chains the two linear maps:
// dy_inner = dy * scale_y, dx = dx_inner / scale_x. Buffers are planned at construction.
#include "datasets/normalizer.hpp"
#include "operators/model.hpp"

#include <memory>
#include <optional>

namespace surro::op {

struct ModelNormalizers {
  std::optional<data::NormalizerView<float>> x, y;  // inputs (Cx fields), targets (Cy fields)
  bool empty() const { return !x && !y; }
};

class NormalizedModel final : public Model<ExecSpace, float> {
 public:
  NormalizedModel(const ExecSpace& exec, std::unique_ptr<Model<ExecSpace, float>> inner,
                  std::shared_ptr<const ModelNormalizers> norms, int batch, int in_channels, int out_channels,
                  index_t points, bool training)
      : m_inner(std::move(inner)),
        m_norms(std::move(norms)),
        m_batch(batch),
        m_in(in_channels),
        m_out(out_channels) {
    const ModelNormalizers& n = *m_norms;
    if (n.x) {
      SURRO_REQUIRE(n.x->channels > 0 && in_channels % n.x->channels == 0 && n.x->points == points,
                    "normalized model: input normalizer of " << n.x->channels << " channels x " << n.x->points
                                                             << " points does not divide the model input ("
                                                             << in_channels << " channels x " << points
                                                             << ")");
      const std::size_t size = std::size_t(batch) * in_channels * points;
      m_xn = make_scratch<View1<float>>(exec, "surro::normalized_model::x", size);
      if (training) m_dxn = make_scratch<View1<float>>(exec, "surro::normalized_model::dx", size);
    }
    if (n.y) {
      SURRO_REQUIRE(n.y->channels == out_channels && n.y->points == points,
                    "normalized model: target normalizer of "
                        << n.y->channels << " channels x " << n.y->points
                        << " points does not match the model output (" << out_channels << " channels x "
                        << points << ")");
      if (training)
        m_dy = make_scratch<View1<float>>(exec, "surro::normalized_model::dy",
                                          std::size_t(batch) * out_channels * points);
    }
  }

  void forward(const ExecSpace& exec, const float* params, const float* x, float* y) override {
    const ModelNormalizers& n = *m_norms;
    const float* in = x;
    if (n.x) {
      data::normalizer_encode(exec, *n.x, index_t(m_batch) * (m_in / n.x->channels), x, m_xn.data());
      in = m_xn.data();
    }
    m_inner->forward(exec, params, in, y);
    if (n.y) data::normalizer_decode(exec, *n.y, m_batch, y, y);
  }

  void backward(const ExecSpace& exec, const float* params, const float* dy, float* grads,
                float* dx) override {
    const ModelNormalizers& n = *m_norms;
    const float* d_inner = dy;
    if (n.y) {
      data::normalizer_decode_backward(exec, *n.y, m_batch, dy, m_dy.data());
      d_inner = m_dy.data();
    }
    float* dx_inner = dx && n.x ? m_dxn.data() : dx;
    m_inner->backward(exec, params, d_inner, grads, dx_inner);
    if (dx && n.x)
      data::normalizer_encode_backward(exec, *n.x, index_t(m_batch) * (m_in / n.x->channels), dx_inner, dx);
  }

 private:
  std::unique_ptr<Model<ExecSpace, float>> m_inner;
  std::shared_ptr<const ModelNormalizers> m_norms;
  int m_batch, m_in, m_out;
  View1<float> m_xn, m_dxn, m_dy;  // (B, Cin, N...), (B, Cin, N...), (B, Cout, N...)
};

// Wraps a factory's models in NormalizedModel; a null or empty `norms` returns `inner` unchanged.
inline ModelFactory<ExecSpace, float> normalized_factory(ModelFactory<ExecSpace, float> inner,
                                                         std::shared_ptr<const ModelNormalizers> norms,
                                                         int batch, int in_channels, int out_channels,
                                                         index_t points) {
  if (!norms || norms->empty()) return inner;
  return [inner = std::move(inner), norms, batch, in_channels, out_channels, points](const ExecSpace& exec,
                                                                                     bool training) {
    return std::unique_ptr<Model<ExecSpace, float>>(std::make_unique<NormalizedModel>(
        exec, inner(exec, training), norms, batch, in_channels, out_channels, points, training));
  };
}

}  // namespace surro::op
