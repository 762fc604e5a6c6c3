#pragma once
// DeviceGraph: one fixed sequence of device work (Kokkos kernels, cuBLAS and cuFFT calls on one
// CUDA execution space instance) recorded once as a CUDA graph and then replayed as a single launch.
// For repeated calls whose launches bound the time rather than their kernels: a forward of ~50
// kernels of a few microseconds each spends most of its time between kernels, on the host's launch
// path and on the device's launch latency; a replayed graph pays one launch.
//
// The caller's contract, since a replay repeats the recorded call exactly:
//   - every call reads and writes the same addresses with the same sizes and scalar arguments
//     (planned buffers, the same batch); `reset()` when that changes;
//   - the work does not wait on the host while it is recorded (no fence, no reduction into a host
//     value, no allocation, no synchronous copy);
//   - the work is device work only: a recording that copies from host memory is refused (its replays
//     would read that memory as it is at the replay). Kokkos launches a kernel whose functor takes
//     512 bytes or more that way (see device_graph.cpp): keep recorded functors smaller;
//   - host-side state the work keeps (caches of pointer arrays, plans) is built by the first call,
//     which runs directly.
// Calls: the first runs the work directly (it warms Kokkos' per-kernel setup and the libraries'
// caches, none of which can be recorded); the second records it and launches the recording; later
// ones launch it. Where recording fails (an operation CUDA cannot record; CUDA's own error text in
// `failure()`), that call and every later one run the work directly: a slower call, never a wrong
// one. Other execution spaces, and runs under the fenced profiler (core/profile.hpp, which fences
// every kernel), always run the work directly. SURRO_DEVICE_GRAPH=off in the environment turns the
// recording off everywhere (to rule it out when looking for a fault), =on turns it on where a user
// constructed the graph off by default (the rollout and the NS solver, until a GPU run has tested
// them: see their sources).
#include "core/profile.hpp"

#include <Kokkos_Core.hpp>

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace surro {

class DeviceGraph {
 public:
  // fresh: the next call runs directly; warm: the next call records; recorded: calls replay;
  // direct: every call runs directly (recording failed or is not turned on; failure() says which).
  enum class State { fresh, warm, recorded, direct };

  // by_default: whether to record when the environment does not say (SURRO_DEVICE_GRAPH=on or off).
  explicit DeviceGraph(bool by_default = true) : m_by_default(by_default) {}
  ~DeviceGraph() { release(); }
  DeviceGraph(const DeviceGraph&) = delete;
  DeviceGraph& operator=(const DeviceGraph&) = delete;

  // Runs `work()` (the device work to record) on `exec` as described above.
  template <class Exec, class Work>
  void run(const Exec& exec, Work&& work) {
#ifdef KOKKOS_ENABLE_CUDA
    if constexpr (std::is_same_v<Exec, Kokkos::Cuda>) {
      if (m_state == State::direct || profile::enabled()) return work();
      if (m_state == State::fresh) {
        work();
        m_state = State::warm;
        if (!enabled(m_by_default)) {
          m_state = State::direct;
          m_failure = m_by_default ? "turned off by SURRO_DEVICE_GRAPH=off"
                                   : "off unless SURRO_DEVICE_GRAPH=on (this user's default)";
        }
        return;
      }
      if (m_state == State::warm) record(exec, std::forward<Work>(work));
      if (m_state == State::recorded) launch(exec.cuda_stream());
      return;
    }
#endif
    (void)exec;
    work();
  }

  // Forgets the recording (buffers moved, batch changed): the next call runs directly again.
  void reset() {
    release();
    m_state = State::fresh;
    m_failure.clear();
  }
  State state() const {
    return m_state;
  }
  const std::string& failure() const {
    return m_failure;
  }

 private:
#ifdef KOKKOS_ENABLE_CUDA
  // Records work() on `stream`; the state becomes `recorded`, or `direct` with the work run
  // directly (nothing recorded has run then). An exception that is not about the recording (the
  // work's own error) comes back from the direct run.
  template <class Work>
  void record(const Kokkos::Cuda& exec, Work&& work) {
    if (!begin(exec)) return work();
    try {
      work();
    } catch (const std::exception& e) {
      abandon(exec, e.what());
      work();
      return;
    }
    if (!end(exec)) work();
  }
  bool begin(const Kokkos::Cuda& exec);  // false: failed, nothing is being recorded (m_failure says why)
  bool end(const Kokkos::Cuda& exec);    // false: failed or refused (m_failure says why)
  void abandon(const Kokkos::Cuda& exec, const std::string& why);  // ends a failed recording
  void give_up(const std::string& why);  // every later call direct; why kept and logged once
  void launch(cudaStream_t stream);
#endif
  void release();
  // SURRO_DEVICE_GRAPH=on: true, =off: false, otherwise by_default.
  static bool enabled(bool by_default);

  bool m_by_default = true;
  State m_state = State::fresh;
  std::string m_failure;
  void* m_graph = nullptr;  // cudaGraphExec_t
};

}  // namespace surro
