#pragma once
// Planned parameter memory: every parameter tensor of a model is a named slice of one flat View.
// It lives in core because both the models (operators/) and the checkpoints (datasets/) use it;
// operators/params.hpp brings the names into surro::op.
// The same table lays out the gradients and the optimizer moments (identical offsets), and names
// the tensors in checkpoints. Built once, before training; nothing is allocated afterwards.
//
//   ParamTable t;
//   const auto w = t.add("fno.layer0.spectral.weight", {M, Cin, Cout}, ParamKind::complex);
//   const auto b = t.add("fno.lift.bias", {D});
//   FlatParams<float> p(t, "surro::fno::params");   // values (t.size())
//   p.complex_slice(w)  // Kokkos::complex<float>*, M * Cin * Cout elements
//
// Offsets are aligned to kAlign scalars (128-byte rows for float) so every slice starts aligned
// and complex slices start on an even offset. Complex tensors count 2 scalars per element.
#include "core/error.hpp"
#include "core/types.hpp"

#include <map>
#include <string>
#include <vector>

namespace surro {

enum class ParamKind { real, complex };

struct ParamSlot {
  std::string name;         // hierarchical: "fno.layer0.spectral.weight"
  std::vector<int> shape;   // logical shape in elements (complex elements for complex tensors)
  ParamKind kind = ParamKind::real;
  std::size_t offset = 0;   // in scalars, into the flat View
  std::size_t count = 0;    // scalars: product(shape), times 2 for complex
  std::size_t elements() const { return kind == ParamKind::complex ? count / 2 : count; }
  bool frozen = false;      // stored and checkpointed, never updated (IFactFormer's Fourier-feature B)
};

class ParamTable {
 public:
  static constexpr std::size_t kAlign = 32;

  // Registers a tensor; returns its index. Names must be unique.
  std::size_t add(const std::string& name, std::vector<int> shape, ParamKind kind = ParamKind::real) {
    SURRO_REQUIRE(m_trainable == kNone, "ParamTable: trainable parameter '"
                                            << name << "' added after a frozen one: frozen parameters come last");
    return add_slot(name, std::move(shape), kind, false);
  }
  // Registers a frozen tensor: a parameter that is checkpointed and counted but not trained. Frozen
  // tensors come after every trainable one, so the trainable ones are the prefix
  // [0, trainable_size()) that optimizers and gradient clipping cover.
  std::size_t add_frozen(const std::string& name, std::vector<int> shape, ParamKind kind = ParamKind::real) {
    if (m_trainable == kNone) m_trainable = m_size;
    return add_slot(name, std::move(shape), kind, true);
  }

  const std::vector<ParamSlot>& slots() const { return m_slots; }

  const ParamSlot& slot(std::size_t i) const { return m_slots.at(i); }
  const ParamSlot& slot(const std::string& name) const {
    auto it = m_index.find(name);
    SURRO_REQUIRE(it != m_index.end(), "ParamTable: no parameter named '" << name << "'");
    return m_slots[it->second];
  }
  bool has(const std::string& name) const { return m_index.count(name) > 0; }
  // Scalars in the flat View, padding included.
  std::size_t size() const { return m_size; }
  // Parameters as the reference implementations count them (complex = 2), padding excluded.
  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (const auto& s : m_slots) n += s.count;
    return n;
  }
  // Scalars of the trainable prefix (all of size() when nothing is frozen).
  std::size_t trainable_size() const { return m_trainable == kNone ? m_size : m_trainable; }

 private:
  static constexpr std::size_t kNone = ~std::size_t(0);
  std::size_t add_slot(const std::string& name, std::vector<int> shape, ParamKind kind, bool frozen) {
    SURRO_REQUIRE(m_index.find(name) == m_index.end(), "ParamTable: parameter '" << name << "' added twice");
    ParamSlot s;
    s.name = name;
    s.shape = std::move(shape);
    s.kind = kind;
    s.frozen = frozen;
    std::size_t n = 1;
    for (int e : s.shape) {
      SURRO_REQUIRE(e > 0, "ParamTable: parameter '" << name << "' has extent " << e << ": expected > 0");
      n *= static_cast<std::size_t>(e);
    }
    s.count = kind == ParamKind::complex ? 2 * n : n;
    s.offset = m_size;
    m_size += (s.count + kAlign - 1) / kAlign * kAlign;
    m_index[name] = m_slots.size();
    m_slots.push_back(s);
    return m_slots.size() - 1;
  }

  std::vector<ParamSlot> m_slots;
  std::map<std::string, std::size_t> m_index;
  std::size_t m_size = 0;
  std::size_t m_trainable = kNone;  // offset of the first frozen tensor
};

// One flat View laid out by a ParamTable: parameters, their gradients, or an optimizer moment.
template <class Real, class Mem = MemSpace>
class FlatParams {
 public:
  FlatParams() = default;
  FlatParams(const ParamTable& table, const std::string& label)
      : m_table(&table), m_values(label, table.size()) {}  // zero-initialized: padding stays 0

  const ParamTable& table() const { return *m_table; }
  const View1<Real, Mem>& values() const { return m_values; }  // (size)

  Real* real_slice(std::size_t slot) const {
    const ParamSlot& s = m_table->slot(slot);
    SURRO_REQUIRE(s.kind == ParamKind::real, "FlatParams: '" << s.name << "' is complex");
    return m_values.data() + s.offset;
  }
  Complex<Real>* complex_slice(std::size_t slot) const {
    const ParamSlot& s = m_table->slot(slot);
    SURRO_REQUIRE(s.kind == ParamKind::complex, "FlatParams: '" << s.name << "' is real");
    return reinterpret_cast<Complex<Real>*>(m_values.data() + s.offset);
  }

 private:
  const ParamTable* m_table = nullptr;
  View1<Real, Mem> m_values;
};

}  // namespace surro
