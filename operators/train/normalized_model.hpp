#pragma once
// A model seen through Gaussian normalizers fitted on the training split, and optionally predicting
// the change from the window's last frame, so that callers (trainer, unroller, rollout) work in
// physical units and the loss is taken on de-normalized fields (the FNO Darcy script and IFactFormer
// normalize this way; MeshGraphNets and graph-physics predict a normalized change):
//
//   state targets   y = decode_y( inner( encode_x(x) ) )
//   delta targets   y = last(x) + decode_y( inner( encode_x(x) ) )      decode_y fitted on the change
//
// Layout (operators/batch.hpp): x (rows, Cin, P), y (rows, Cout, P) with Cin = T_in * Cout for
// windows; last(x) is the tail Cout * P values of each row (the newest frame), for grids and meshes
// alike. x is normalized as (rows * Cin / Cx, Cx, P): a window of T_in frames of Cx fields is T_in
// samples of the field normalizer, so one normalizer serves every frame. y is decoded with Cy = Cout.
// Either normalizer may be absent. Backward chains the linear maps: dy_inner = dy * scale_y,
// dx = dx_inner / scale_x (+ dy into the last frame's slots for delta targets). Buffers are planned
// at construction for `rows` rows.
#include "datasets/normalizer.hpp"
#include "operators/model.hpp"

#include <memory>
#include <optional>

namespace surro::op {

struct ModelNormalizers {
  std::optional<data::NormalizerView<float>> x, y;  // inputs (Cx fields), targets (Cy fields)
  std::optional<data::NormalizerView<float>> edges;  // the inner model's edge features (Model::set_edge_normalizer)
  bool delta = false;  // the inner model predicts last(x) - y (y normalized by the change's statistics)
  bool empty() const { return !x && !y && !edges && !delta; }
};

namespace normalized_impl {
// y (rows, Cout, P) += the last Cout * P values of each row of x (rows, Cin, P). Also the backward
// into dx's last-frame slots (dx += dy there).
void add_last_frame(const ExecSpace& exec, index_t rows, index_t in_row, index_t out_row, const float* x,
                    float* y);
void add_into_last_frame(const ExecSpace& exec, index_t rows, index_t in_row, index_t out_row, const float* dy,
                         float* dx);
}  // namespace normalized_impl

class NormalizedModel final : public Model<ExecSpace, float> {
 public:
  // rows: the planned row capacity (PlanShape::rows); points: P per row.
  NormalizedModel(const ExecSpace& exec, std::unique_ptr<Model<ExecSpace, float>> inner,
                  std::shared_ptr<const ModelNormalizers> norms, index_t rows, int in_channels, int out_channels,
                  index_t points, bool training)
      : m_inner(std::move(inner)),
        m_norms(std::move(norms)),
        m_rows(rows),
        m_in(in_channels),
        m_out(out_channels),
        m_points(points) {
    const ModelNormalizers& n = *m_norms;
    if (n.edges) m_inner->set_edge_normalizer(n.edges->mean.data(), n.edges->scale.data(), n.edges->channels);
    SURRO_REQUIRE(!n.delta || in_channels % out_channels == 0,
                  "normalized model: delta targets need whole frames in the window, got "
                      << in_channels << " input and " << out_channels << " output channels");
    if (n.x) {
      SURRO_REQUIRE(n.x->channels > 0 && in_channels % n.x->channels == 0 && n.x->points == points,
                    "normalized model: input normalizer of " << n.x->channels << " channels x " << n.x->points
                                                             << " points does not divide the model input ("
                                                             << in_channels << " channels x " << points
                                                             << ")");
      const std::size_t size = std::size_t(rows) * in_channels * points;
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
        m_dy =
            make_scratch<View1<float>>(exec, "surro::normalized_model::dy", std::size_t(rows) * out_channels * points);
    }
  }

  void forward(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* params, const float* x,
               float* y) override {
    const ModelNormalizers& n = *m_norms;
    const index_t rows = checked_rows(batch);
    const float* in = x;
    if (n.x) {
      data::normalizer_encode(exec, *n.x, rows * (m_in / n.x->channels), x, m_xn.data());
      in = m_xn.data();
    }
    m_inner->forward(exec, batch, params, in, y);
    if (n.y) data::normalizer_decode(exec, *n.y, rows, y, y);
    if (n.delta) normalized_impl::add_last_frame(exec, rows, index_t(m_in) * m_points, index_t(m_out) * m_points, x, y);
  }

  void backward(const ExecSpace& exec, const Batch<ExecSpace>& batch, const float* params, const float* dy,
                float* grads, float* dx) override {
    const ModelNormalizers& n = *m_norms;
    const index_t rows = checked_rows(batch);
    const float* d_inner = dy;
    if (n.y) {
      data::normalizer_decode_backward(exec, *n.y, rows, dy, m_dy.data());
      d_inner = m_dy.data();
    }
    float* dx_inner = dx && n.x ? m_dxn.data() : dx;
    m_inner->backward(exec, batch, params, d_inner, grads, dx_inner);
    if (dx && n.x) data::normalizer_encode_backward(exec, *n.x, rows * (m_in / n.x->channels), dx_inner, dx);
    if (dx && n.delta)
      normalized_impl::add_into_last_frame(exec, rows, index_t(m_in) * m_points, index_t(m_out) * m_points, dy, dx);
  }

 private:
  index_t checked_rows(const Batch<ExecSpace>& batch) const {
    const index_t rows = batch.rows();
    SURRO_REQUIRE(rows <= m_rows, "normalized model: a batch of " << rows << " rows exceeds the planned " << m_rows);
    return rows;
  }
  std::unique_ptr<Model<ExecSpace, float>> m_inner;
  std::shared_ptr<const ModelNormalizers> m_norms;
  index_t m_rows;
  int m_in, m_out;
  index_t m_points;
  View1<float> m_xn, m_dxn, m_dy;  // (rows, Cin, P), (rows, Cin, P), (rows, Cout, P)
};

// Wraps a factory's models in NormalizedModel; a null or empty `norms` returns `inner` unchanged.
inline ModelFactory<ExecSpace, float> normalized_factory(ModelFactory<ExecSpace, float> inner,
                                                         std::shared_ptr<const ModelNormalizers> norms,
                                                         index_t rows, int in_channels, int out_channels,
                                                         index_t points) {
  if (!norms || norms->empty()) return inner;
  return [inner = std::move(inner), norms, rows, in_channels, out_channels, points](const ExecSpace& exec,
                                                                                    bool training) {
    return std::unique_ptr<Model<ExecSpace, float>>(std::make_unique<NormalizedModel>(
        exec, inner(exec, training), norms, rows, in_channels, out_channels, points, training));
  };
}

// The factory every caller uses for a bound architecture: models planned for `plan`, wrapped in
// the normalizers (and delta targets) when there are any.
inline ModelFactory<ExecSpace, float> planned_factory(const Architecture& arch, const ParamTable& table,
                                                      const PlanShape& plan,
                                                      std::shared_ptr<const ModelNormalizers> norms) {
  const DataShape& s = arch.shape();
  return normalized_factory(model_factory(arch, table, plan), std::move(norms), plan.rows(s.on_mesh()),
                            s.in_channels, s.out_channels, s.points());
}

}  // namespace surro::op
