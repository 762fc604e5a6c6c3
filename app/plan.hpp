#pragma once
// Memory planning before launch (issue #13): the device memory a training config needs, broken
// down, the largest train.batch that fits a given memory, and a per-rank share. One mechanism with
// the up-front checks of app/resources.hpp (format_bytes, available_memory_bytes): parameter,
// gradient and moment sizes come from the models' ParamTable; activations, saved buffers and the
// FFT/GEMM workspaces the models allocate are *measured*, by building the model's training and
// inference instances (Architecture::make) for 1 and 2 samples and counting the Kokkos allocations
// (Kokkos::Tools callbacks), then extrapolating linearly in the batch: nothing restates a model's
// buffer sizes. Not counted: memory outside Kokkos (cuFFT/FFTW plan work areas, cuBLAS handles,
// the CUDA context) and, in unrolled/pushforward modes, the Unroller's per-step buffers.
#include "core/types.hpp"
#include "operators/graph_batch.hpp"
#include "operators/model.hpp"

#include <functional>
#include <string>
#include <vector>

namespace surro::app {

// Counts the bytes Kokkos allocates in ExecSpace's memory space while alive (one at a time: it
// owns the process-wide allocate/deallocate callbacks). current() may go negative when Views made
// before it are freed; peak() is the highest current() seen.
class AllocationMeter {
 public:
  AllocationMeter();
  ~AllocationMeter();
  AllocationMeter(const AllocationMeter&) = delete;
  AllocationMeter& operator=(const AllocationMeter&) = delete;
  double current() const;
  double peak() const;
};

// One line of the plan: bytes(b) = fixed + b * per_sample for a batch of b samples.
struct PlanItem {
  std::string name;
  double fixed = 0, per_sample = 0;
  double bytes(long long b) const { return fixed + double(b) * per_sample; }
};

struct MemoryPlan {
  std::string model_type;
  double parameter_count = 0;  // scalars in the flat parameter table (complex counted twice)
  long long batch = 1;         // train.batch
  std::vector<PlanItem> items;
  double total(long long b) const;
  double total() const { return total(batch); }
  // The largest b with total(b) <= memory; 0 when not even one sample fits.
  long long largest_batch(double memory) const;
};

// What the plan needs besides the bound architecture: the batch, the target channels (t_out * C),
// whether input noise is on, and for meshes the graph capacity of a batch of b meshes.
struct PlanInputs {
  long long batch = 1;
  int y_channels = 1;
  bool input_noise = false;
  std::function<op::GraphBatchCapacity(int)> capacity;  // meshes only
};

// arch: bound to the data. Builds (and frees) model instances on ExecSpace for 1 and 2 samples.
MemoryPlan plan_training_memory(const op::Architecture& arch, const PlanInputs& in);

// "80GiB", "1.5 GB", "512MiB", "1e9" -> bytes; Error(usage) naming `key` otherwise.
double parse_bytes(const std::string& key, const std::string& text);

struct PlanArgs {
  std::string memory;  // "" = available_memory_bytes(device)
  long long ranks = 1;
  bool json = false;
};
struct JobArgs;
// surro plan / surro train --dry-run: prints the plan of a training config (table or JSON).
void run_plan(const JobArgs& args, const PlanArgs& plan);

}  // namespace surro::app
