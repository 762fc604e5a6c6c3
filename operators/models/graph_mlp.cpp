#include "operators/models/graph_mlp.hpp"

#include "core/error.hpp"
#include "core/profile.hpp"
#include "operators/layers/column_sums.hpp"
#include "operators/layers/instantiate.hpp"
#include "operators/layers/linear.hpp"
#include "operators/layers/param_init.hpp"

#include <cmath>

#include <algorithm>

namespace surro::op {

namespace graph_mlp_impl {

std::string linear_name(const std::string& prefix, std::size_t i) {
  return prefix + ".linear" + std::to_string(i);
}

// g *= [a > 0]: the gradient through relu, from the saved post-activation a.
template <class Exec, class Real>
void relu_backward(const Exec& exec, index_t n, const Real* a, Real* g) {
  profile::add_work("surro::graph_mlp::relu_backward",
                    3.0 * double(n) * sizeof(Real));  // a, g read; g written
  Kokkos::parallel_for(
      "surro::graph_mlp::relu_backward", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { g[i] = a[i] > Real(0) ? g[i] : Real(0); });
}

}  // namespace graph_mlp_impl

template <class Exec, class Real>
void graph_model_init(const Exec& exec, const ParamTable& table, const std::string& prefix, Real* params,
                      std::uint64_t seed) {
  auto ends = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  const auto& slots = table.slots();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const ParamSlot& s = slots[i];
    if (s.name.compare(0, prefix.size(), prefix) != 0) continue;
    Real* out = params + s.offset;
    const index_t n = index_t(s.count);
    if (ends(s.name, ".scale") || ends(s.name, "norm.weight")) {
      init_constant(exec, n, 1.0, out);
    } else if (ends(s.name, "norm.bias")) {
      init_constant(exec, n, 0.0, out);
    } else if (ends(s.name, ".weight")) {
      SURRO_REQUIRE(s.shape.size() == 2,
                    "graph_model_init: '" << s.name << "': expected a (Cout, Cin) weight");
      init_uniform(exec, n, 1.0 / std::sqrt(double(s.shape[1])), seed, i, out);
    } else if (ends(s.name, ".bias")) {
      const std::string w = s.name.substr(0, s.name.size() - 5) + ".weight";
      init_uniform(exec, n, 1.0 / std::sqrt(double(table.slot(w).shape[1])), seed, i, out);
    } else {
      SURRO_THROW(ErrorKind::runtime, "graph_model_init: no initialization for '" << s.name << "'");
    }
  }
}

void relu_mlp_register(ParamTable& table, const std::string& prefix, const std::vector<int>& widths) {
  SURRO_REQUIRE(widths.size() >= 2, prefix << ": an MLP needs at least two widths");
  for (std::size_t i = 0; i + 1 < widths.size(); ++i)
    linear_register(table, graph_mlp_impl::linear_name(prefix, i), {widths[i], widths[i + 1], true});
}

template <class Exec, class Real>
std::size_t ReluMlp<Exec, Real>::scratch_scalars(const std::vector<int>& widths, index_t cap) {
  int widest = 0;  // of the hidden widths w_1 .. w_{n-1}
  for (std::size_t i = 1; i + 1 < widths.size(); ++i) widest = std::max(widest, widths[i]);
  return 2 * std::size_t(cap) * std::size_t(widest);
}

template <class Exec, class Real>
std::size_t ReluMlp<Exec, Real>::partial_scalars(const std::vector<int>& widths, index_t cap) {
  return column_sum_scratch(cap, *std::max_element(widths.begin() + 1, widths.end()));
}

template <class Exec, class Real>
ReluMlp<Exec, Real>::ReluMlp(const gemm::Gemm<Exec>& gemm, const ParamTable& table, const std::string& prefix,
                             std::vector<int> widths, index_t cap, bool training, Real* scratch,
                             Real* partial)
    : m_gemm(gemm), m_widths(std::move(widths)), m_cap(cap), m_training(training) {
  const std::size_t n = m_widths.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = graph_mlp_impl::linear_name(prefix, i);
    m_w.push_back(table.slot(name + ".weight").offset);
    m_b.push_back(table.slot(name + ".bias").offset);
  }
  const std::size_t half = scratch_scalars(m_widths, cap) / 2;
  if (!scratch && half > 0) {
    m_owned.emplace_back(prefix + ".scratch", 2 * half);
    scratch = m_owned.back().data();
  }
  m_act.assign(n, nullptr);
  for (std::size_t i = 1; i < n; ++i) {
    if (training) {
      m_owned.emplace_back(prefix + ".act", std::size_t(cap) * m_widths[i]);
      m_act[i] = m_owned.back().data();
    } else {  // layer i reads a_i and writes a_{i+1}: alternate halves
      m_act[i] = scratch + ((i - 1) % 2) * half;
    }
  }
  if (half > 0) {
    m_g0 = scratch;
    m_g1 = scratch + half;
  }
  if (training && !partial) {
    m_owned.emplace_back(prefix + ".column_sums", partial_scalars(m_widths, cap));
    partial = m_owned.back().data();
  }
  if (training) m_partial = partial;
}

template <class Exec, class Real>
std::size_t ReluMlp<Exec, Real>::planned_scalars() const {
  std::size_t s = 0;
  for (const auto& a : m_owned) s += a.size();
  return s;
}

template <class Exec, class Real>
void ReluMlp<Exec, Real>::run_layers(const Exec& exec, const Real* params, index_t rows, std::size_t first,
                                     const Real* x, Real* y) {
  SURRO_REQUIRE(rows <= m_cap, "relu_mlp: " << rows << " rows exceed the planned " << m_cap);
  const std::size_t n = layers();
  const Real* in = x;
  for (std::size_t i = first; i < n; ++i) {
    const LinearCfg lc{m_widths[i], m_widths[i + 1], true};
    const LinearWorkspace<Exec> ws(m_gemm, lc, LinearShape{1, rows, 1, 1});
    Real* out = i + 1 < n ? m_act[i + 1] : y;
    linear_forward(exec, ws, params + m_w[i], params + m_b[i], in, out,
                   i + 1 < n ? Activation::relu : Activation::none);
    in = out;
  }
}

template <class Exec, class Real>
void ReluMlp<Exec, Real>::forward(const Exec& exec, const Real* params, index_t rows, const Real* x,
                                  Real* y) {
  run_layers(exec, params, rows, 0, x, y);
}

template <class Exec, class Real>
void ReluMlp<Exec, Real>::forward_rest(const Exec& exec, const Real* params, index_t rows, Real* y) {
  if (layers() > 1) run_layers(exec, params, rows, 1, m_act[1], y);
}

template <class Exec, class Real>
const Real* ReluMlp<Exec, Real>::backward_rest(const Exec& exec, const Real* params, index_t rows,
                                               const Real* dy, Real* grads) {
  SURRO_REQUIRE(m_training, "relu_mlp: backward on an instance planned for inference");
  const std::size_t n = layers();
  const Real* g = dy;
  Real* bufs[2] = {m_g0, m_g1};
  for (std::size_t k = 0; k + 1 < n; ++k) {
    const std::size_t i = n - 1 - k;  // i >= 1: its input a_i is saved
    const LinearCfg lc{m_widths[i], m_widths[i + 1], true};
    const LinearWorkspace<Exec> ws(m_gemm, lc, LinearShape{1, rows, 1, 1});
    Real* gin = bufs[k % 2];
    linear_backward(exec, ws, params + m_w[i], static_cast<const Real*>(m_act[i]), g, grads + m_w[i],
                    grads + m_b[i], gin, m_partial);
    graph_mlp_impl::relu_backward(exec, rows * m_widths[i], static_cast<const Real*>(m_act[i]), gin);
    g = gin;
  }
  return g;
}

template <class Exec, class Real>
void ReluMlp<Exec, Real>::backward(const Exec& exec, const Real* params, index_t rows, const Real* x,
                                   const Real* dy, Real* grads, Real* dx) {
  const Real* g = backward_rest(exec, params, rows, dy, grads);
  const LinearCfg lc{m_widths[0], m_widths[1], true};
  const LinearWorkspace<Exec> ws(m_gemm, lc, LinearShape{1, rows, 1, 1});
  linear_backward(exec, ws, params + m_w[0], x, g, grads + m_w[0], grads + m_b[0], dx, m_partial);
}

namespace graph_ops {

template <class Exec, class Real>
void add(const Exec& exec, index_t n, const Real* a, const Real* b, Real* out) {
  profile::add_work("surro::graph_ops::add", 3.0 * double(n) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::graph_ops::add", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { out[i] = a[i] + b[i]; });
}

template <class Exec, class Real>
void add_into(const Exec& exec, index_t n, const Real* a, Real* out) {
  profile::add_work("surro::graph_ops::add_into", 3.0 * double(n) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::graph_ops::add_into", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const index_t i) { out[i] += a[i]; });
}

template <class Exec, class Real>
void concat(const Exec& exec, index_t rows, int ca, const Real* a, int cb, const Real* b, Real* y) {
  const int c = ca + cb;
  profile::add_work("surro::graph_ops::concat", 2.0 * double(rows) * c * sizeof(Real));
  Kokkos::parallel_for(
      "surro::graph_ops::concat", Kokkos::RangePolicy<Exec>(exec, 0, rows * c),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t r = i / c;
        const int k = int(i % c);
        y[i] = k < ca ? a[r * ca + k] : b[r * cb + (k - ca)];
      });
}

template <class Exec, class Real>
void concat_one_hot(const Exec& exec, index_t rows, int ca, const Real* x, const int* node_type, Real* y) {
  const int c = ca + 9;
  profile::add_work("surro::graph_ops::concat_one_hot", double(rows) * (ca + c) * sizeof(Real) + 4.0 * rows);
  Kokkos::parallel_for(
      "surro::graph_ops::concat_one_hot", Kokkos::RangePolicy<Exec>(exec, 0, rows * c),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t r = i / c;
        const int k = int(i % c);
        y[i] = k < ca ? x[r * ca + k] : (node_type[r] == k - ca ? Real(1) : Real(0));
      });
}

template <class Exec, class Real>
void split(const Exec& exec, index_t rows, int ca, int cb, const Real* dy, Real* da, bool accumulate,
           Real* db) {
  const int c = ca + cb;
  // dy read; da and db written (da also read when accumulating), each only where asked for.
  profile::add_work("surro::graph_ops::split",
                    double(rows) * (c + (da ? (accumulate ? 2 : 1) * ca : 0) + (db ? cb : 0)) * sizeof(Real));
  Kokkos::parallel_for(
      "surro::graph_ops::split", Kokkos::RangePolicy<Exec>(exec, 0, rows * c),
      KOKKOS_LAMBDA(const index_t i) {
        const index_t r = i / c;
        const int k = int(i % c);
        if (k < ca) {
          if (da) da[r * ca + k] = accumulate ? da[r * ca + k] + dy[i] : dy[i];
        } else if (db) {
          db[r * cb + (k - ca)] = dy[i];
        }
      });
}

}  // namespace graph_ops

#define SURRO_X(Exec, Real)                                                                               \
  template void graph_model_init<Exec, Real>(const Exec&, const ParamTable&, const std::string&, Real*,   \
                                             std::uint64_t);                                              \
  template class ReluMlp<Exec, Real>;                                                                     \
  template void graph_ops::add<Exec, Real>(const Exec&, index_t, const Real*, const Real*, Real*);        \
  template void graph_ops::add_into<Exec, Real>(const Exec&, index_t, const Real*, Real*);                \
  template void graph_ops::concat<Exec, Real>(const Exec&, index_t, int, const Real*, int, const Real*,   \
                                              Real*);                                                     \
  template void graph_ops::concat_one_hot<Exec, Real>(const Exec&, index_t, int, const Real*, const int*, \
                                                      Real*);                                             \
  template void graph_ops::split<Exec, Real>(const Exec&, index_t, int, int, const Real*, Real*, bool, Real*);
SURRO_OP_INSTANTIATE(SURRO_X)
#undef SURRO_X

}  // namespace surro::op
