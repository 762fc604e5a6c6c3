#pragma once
// Training checkpoints: one HDF5 file, written atomically (core/io.hpp: temporary, then rename),
// so a failed or killed write leaves the previous checkpoint as it was.
//
//   /                      attributes: format_version, model_type, surro_version, git_hash, step,
//                          epoch, seed, rng_counter (int64), config (the resolved config, JSON),
//                          best_valid_loss, epoch_loss_sum (double), epoch_samples, skipped_steps
//                          (int64): the training bookkeeping a resume continues exactly
//   /params/<name>         float32, one per ParamTable slot under its name, in its logical shape;
//                          complex tensors get a trailing axis of 2 (re, im)
//   /optimizer/{m,v}/<name> the Adam moments, laid out the same way (optional)
//   /normalizers/<name>    GaussianNormalizer::store groups (optional)
// Values round-trip bit-exactly (float32 on both sides).
#include "datasets/normalizer.hpp"
#include "core/params.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace surro::data {

inline constexpr int kCheckpointFormat = 1;

struct CheckpointInfo {
  std::string model_type;         // "fno", ...: a checkpoint loads only into the same model type
  long long step = 0;             // optimizer steps taken
  long long epoch = 0;            // epochs completed
  std::uint64_t seed = 0;         // run.seed
  std::uint64_t rng_counter = 0;  // next unused counter of the run's random streams
  std::string config_json;        // the fully resolved config
  // Training bookkeeping, exact (not re-read from the 6-digit history text): the best validation
  // loss so far (inf: none yet); the running sum of the training loss and the samples it covers in
  // the epoch a signal interrupted (0 at an epoch boundary); non-finite steps skipped so far.
  double best_valid_loss = std::numeric_limits<double>::infinity();
  double epoch_loss_sum = 0.0;
  long long epoch_samples = 0;
  long long skipped_steps = 0;
  // Written from core/build_info.hpp and the format constant; filled in by load_checkpoint.
  int format_version = kCheckpointFormat;
  std::string surro_version, git_hash;
};

// Writes params (and the moments m, v when both are non-null) and the normalizers. Mem may be a
// device space: values are staged through host copies. Errors: Error(runtime); the previous file
// at `path`, if any, is left untouched.
template <class Mem>
void write_checkpoint(const std::string& path, const CheckpointInfo& info,
                      const FlatParams<float, Mem>& params, const FlatParams<float, Mem>* m,
                      const FlatParams<float, Mem>* v,
                      const std::map<std::string, GaussianNormalizer>& normalizers);

// Reads a checkpoint into params (and m, v when non-null: the file must then hold /optimizer) and,
// when `normalizers` is non-null, every stored normalizer. The file must match params.table()
// exactly. Errors: Error(input) naming the file and the HDF5 path: unreadable file, newer format,
// model type differing from expected_model ("expected 'fno', got '...'"), a missing tensor, a
// tensor the table lacks, or a wrong shape ("expected shape (...), got (...)").
template <class Mem>
CheckpointInfo load_checkpoint(const std::string& path, const std::string& expected_model,
                               const FlatParams<float, Mem>& params, const FlatParams<float, Mem>* m,
                               const FlatParams<float, Mem>* v,
                               std::map<std::string, GaussianNormalizer>* normalizers);

// The root attributes of a checkpoint (no tensor is read, no model type expected): what a resume
// compares before any work. Errors as load_checkpoint.
CheckpointInfo read_checkpoint_info(const std::string& path);

// The normalizers stored in a checkpoint (empty when it has none). Errors as load_checkpoint.
std::map<std::string, GaussianNormalizer> load_checkpoint_normalizers(const std::string& path);

}  // namespace surro::data
