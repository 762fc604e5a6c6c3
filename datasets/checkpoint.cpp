#include "datasets/checkpoint.hpp"

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "datasets/hdf5.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace surro::data {

namespace {

std::vector<hsize_t> stored_dims(const ParamSlot& s) {
  std::vector<hsize_t> dims(s.shape.begin(), s.shape.end());
  if (s.kind == ParamKind::complex) dims.push_back(2);
  return dims;
}

// One float32 dataset per slot, from a host copy of the flat View.
void write_tensors(hid_t group, const ParamTable& table, const View1<float, HostMem>& flat) {
  for (const ParamSlot& s : table.slots())
    h5::write_float_dataset(group, s.name, stored_dims(s), flat.data() + s.offset, false);
}

// Validates `group` against the table (every slot present with its shape, nothing else) and
// reads the values into `flat` (host).
void read_tensors(hid_t group, const ParamTable& table, const View1<float, HostMem>& flat) {
  for (const ParamSlot& s : table.slots()) {
    const std::vector<hsize_t> want = stored_dims(s);
    if (!h5::is_dataset(group, s.name))
      h5::fail(ErrorKind::input, group, s.name,
               "missing tensor: the model expects float32 of shape " + h5::describe_dims(want));
    h5::Dataset d = h5::open_dataset(group, s.name);
    const std::vector<hsize_t> got = h5::dataset_dims(d);
    if (got != want)
      h5::fail(ErrorKind::input, group, s.name,
               "expected shape " + h5::describe_dims(want) + ", got " + h5::describe_dims(got) +
                   (s.kind == ParamKind::complex ? " (complex: trailing axis of 2)" : ""));
  }
  for (const std::string& name : h5::link_names(group))
    if (!table.has(name))
      h5::fail(ErrorKind::input, group, name, "unexpected tensor: the model has no parameter of that name");
  for (const ParamSlot& s : table.slots()) {
    const std::vector<float> values = h5::read_float_dataset(group, s.name, stored_dims(s));
    // A diverged run's NaN/Inf weights would roll out to NaN metrics with exit 0: refuse them here,
    // where every reader (rollout, eval, resume) passes.
    const auto bad = std::find_if(values.begin(), values.end(), [](float x) { return !std::isfinite(x); });
    if (bad != values.end())
      h5::fail(ErrorKind::input, group, s.name,
               "element " + std::to_string(bad - values.begin()) + " is " +
                   (std::isnan(*bad) ? "NaN" : "infinite") +
                   ": expected finite values (was the checkpoint written by a diverged run?)");
    std::copy(values.begin(), values.end(), flat.data() + s.offset);
  }
}

template <class Mem>
View1<float, HostMem> host_copy(const FlatParams<float, Mem>& p) {
  View1<float, HostMem> h(Kokkos::view_alloc(Kokkos::WithoutInitializing, "surro::data::checkpoint::stage"),
                          p.values().extent(0));
  Kokkos::deep_copy(h, p.values());
  return h;
}

}  // namespace

template <class Mem>
void write_checkpoint(const std::string& path, const CheckpointInfo& info,
                      const FlatParams<float, Mem>& params, const FlatParams<float, Mem>* m,
                      const FlatParams<float, Mem>* v,
                      const std::map<std::string, GaussianNormalizer>& normalizers) {
  SURRO_REQUIRE((m == nullptr) == (v == nullptr),
                path << ": checkpoint: pass both optimizer moments or neither");
  const ParamTable& table = params.table();
  const View1<float, HostMem> hp = host_copy(params);
  // A diverged model never replaces a good checkpoint: non-finite weights are refused before the
  // temporary is even created, so the previous file stays as it was.
  for (const ParamSlot& s : table.slots())
    for (std::size_t i = 0; i < s.count; ++i)
      if (!std::isfinite(hp(s.offset + i)))
        SURRO_THROW(ErrorKind::runtime, path << ": /params/" << s.name << ": element " << i << " is "
                                             << (std::isnan(hp(s.offset + i)) ? "NaN" : "infinite")
                                             << ": refusing to write a non-finite checkpoint (the previous "
                                             << "file, if any, is kept)");
  View1<float, HostMem> hm, hv;
  if (m) {
    SURRO_REQUIRE(&m->table() == &table && &v->table() == &table,
                  path << ": checkpoint: the optimizer moments use a different parameter table");
    hm = host_copy(*m);
    hv = host_copy(*v);
  }
  io::write_atomic(path, [&](const std::string& tmp) {
    h5::File f = h5::create_file(tmp);
    h5::write_int64_attr(f, "format_version", kCheckpointFormat);
    h5::write_string_attr(f, "model_type", info.model_type);
    h5::write_string_attr(f, "surro_version", kVersion);
    h5::write_string_attr(f, "git_hash", kGitHash);
    h5::write_int64_attr(f, "step", info.step);
    h5::write_int64_attr(f, "epoch", info.epoch);
    h5::write_int64_attr(f, "seed", static_cast<std::int64_t>(info.seed));
    h5::write_int64_attr(f, "rng_counter", static_cast<std::int64_t>(info.rng_counter));
    h5::write_string_attr(f, "config", info.config_json);
    h5::write_double_attr(f, "best_valid_loss", info.best_valid_loss);
    h5::write_double_attr(f, "epoch_loss_sum", info.epoch_loss_sum);
    h5::write_int64_attr(f, "epoch_samples", info.epoch_samples);
    h5::write_int64_attr(f, "skipped_steps", info.skipped_steps);
    {
      h5::Group g = h5::create_group(f, "params");
      write_tensors(g, table, hp);
    }
    if (m) {
      h5::Group opt = h5::create_group(f, "optimizer");
      h5::Group gm = h5::create_group(opt, "m");
      write_tensors(gm, table, hm);
      h5::Group gv = h5::create_group(opt, "v");
      write_tensors(gv, table, hv);
    }
    {
      h5::Group norms = h5::create_group(f, "normalizers");
      for (const auto& kv : normalizers) {
        h5::Group g = h5::create_group(norms, kv.first);
        kv.second.store(g);
      }
    }
    h5::close_file(f);
  });
}

namespace {
std::map<std::string, GaussianNormalizer> read_normalizers(hid_t file) {
  std::map<std::string, GaussianNormalizer> norms;
  if (!h5::has_link(file, "normalizers")) return norms;
  h5::Group g = h5::open_group(file, "normalizers");
  for (const std::string& name : h5::link_names(g)) {
    h5::Group n = h5::open_group(g, name);
    norms[name] = GaussianNormalizer::load(n);
  }
  return norms;
}
}  // namespace

namespace {

// The root attributes. The bookkeeping attributes added later (best_valid_loss, epoch_loss_sum,
// epoch_samples, skipped_steps) keep their defaults when an older checkpoint lacks them.
CheckpointInfo read_info(hid_t f) {
  CheckpointInfo info;
  info.format_version = static_cast<int>(h5::read_int_attr(f, "format_version"));
  if (info.format_version < 1 || info.format_version > kCheckpointFormat)
    h5::fail(ErrorKind::input, f, "",
             "format_version: expected 1.." + std::to_string(kCheckpointFormat) + ", got " +
                 std::to_string(info.format_version) + " (written by a newer surro?)");
  info.model_type = h5::read_string_attr(f, "model_type");
  info.surro_version = h5::read_string_attr(f, "surro_version");
  info.git_hash = h5::read_string_attr(f, "git_hash");
  info.step = h5::read_int_attr(f, "step");
  info.epoch = h5::read_int_attr(f, "epoch");
  info.seed = static_cast<std::uint64_t>(h5::read_int_attr(f, "seed"));
  info.rng_counter = static_cast<std::uint64_t>(h5::read_int_attr(f, "rng_counter"));
  info.config_json = h5::read_string_attr(f, "config");
  if (h5::has_attr(f, "best_valid_loss")) info.best_valid_loss = h5::read_double_attr(f, "best_valid_loss");
  if (h5::has_attr(f, "epoch_loss_sum")) info.epoch_loss_sum = h5::read_double_attr(f, "epoch_loss_sum");
  if (h5::has_attr(f, "epoch_samples")) info.epoch_samples = h5::read_int_attr(f, "epoch_samples");
  if (h5::has_attr(f, "skipped_steps")) info.skipped_steps = h5::read_int_attr(f, "skipped_steps");
  return info;
}

}  // namespace

CheckpointInfo read_checkpoint_info(const std::string& path) {
  h5::File f = h5::open_file(path);
  return read_info(f);
}

std::map<std::string, GaussianNormalizer> load_checkpoint_normalizers(const std::string& path) {
  h5::File f = h5::open_file(path);
  return read_normalizers(f);
}

template <class Mem>
CheckpointInfo load_checkpoint(const std::string& path, const std::string& expected_model,
                               const FlatParams<float, Mem>& params, const FlatParams<float, Mem>* m,
                               const FlatParams<float, Mem>* v,
                               std::map<std::string, GaussianNormalizer>* normalizers) {
  SURRO_REQUIRE((m == nullptr) == (v == nullptr),
                path << ": checkpoint: pass both optimizer moments or neither");
  h5::File f = h5::open_file(path);
  CheckpointInfo info = read_info(f);
  if (info.model_type != expected_model)
    h5::fail(ErrorKind::input, f, "",
             "model_type: expected '" + expected_model + "', got '" + info.model_type + "'");

  const ParamTable& table = params.table();
  // Everything is read and validated into host staging first: a bad file changes nothing.
  View1<float, HostMem> hp("surro::data::checkpoint::params", table.size()), hm, hv;
  {
    h5::Group g = h5::open_group(f, "params");
    read_tensors(g, table, hp);
  }
  if (m) {
    h5::Group opt = h5::open_group(f, "optimizer");
    hm = View1<float, HostMem>("surro::data::checkpoint::m", table.size());
    hv = View1<float, HostMem>("surro::data::checkpoint::v", table.size());
    h5::Group gm = h5::open_group(opt, "m");
    read_tensors(gm, table, hm);
    h5::Group gv = h5::open_group(opt, "v");
    read_tensors(gv, table, hv);
  }
  std::map<std::string, GaussianNormalizer> norms;
  if (normalizers) norms = read_normalizers(f);
  SURRO_REQUIRE(params.values().extent(0) == table.size(),
                path << ": checkpoint: params do not span the table");
  Kokkos::deep_copy(params.values(), hp);
  if (m) {
    Kokkos::deep_copy(m->values(), hm);
    Kokkos::deep_copy(v->values(), hv);
  }
  if (normalizers) *normalizers = std::move(norms);
  return info;
}

#define SURRO_INSTANTIATE_CHECKPOINT(Mem)                                                                   \
  template void write_checkpoint<Mem>(const std::string&, const CheckpointInfo&,                            \
                                      const FlatParams<float, Mem>&, const FlatParams<float, Mem>*,         \
                                      const FlatParams<float, Mem>*,                                        \
                                      const std::map<std::string, GaussianNormalizer>&);                    \
  template CheckpointInfo load_checkpoint<Mem>(                                                             \
      const std::string&, const std::string&, const FlatParams<float, Mem>&, const FlatParams<float, Mem>*, \
      const FlatParams<float, Mem>*, std::map<std::string, GaussianNormalizer>*);

SURRO_INSTANTIATE_CHECKPOINT(MemSpace)
#ifdef KOKKOS_ENABLE_CUDA
SURRO_INSTANTIATE_CHECKPOINT(HostMem)
#endif

}  // namespace surro::data
