#include "core/device_graph.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace surro {

#ifdef KOKKOS_ENABLE_CUDA
namespace {
std::string cuda_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// Kokkos (4.x on CUDA) launches a kernel whose functor with its policy takes 512 bytes or more
// through constant memory: it waits on the host for a per-device event, copies the functor into
// one pinned host buffer, copies that buffer to the device's constant memory on the stream, launches,
// and records the event. Recorded, that copy would read the host buffer at each replay, when it
// holds whatever functor Kokkos launched last; and the event, recorded inside a capture, makes the
// next such launch's host wait fail (cudaErrorCapturedEvent) until it is recorded outside one.
// end() refuses recordings that copy from host memory, and restore_kokkos_event() records the event
// again after a refused or abandoned recording, so that the direct calls that follow can launch.

// A description of the first node of `graph` that copies from host memory; empty where none does.
std::string host_source_copy(cudaGraph_t graph) {
  std::size_t n = 0;
  cudaError_t e = cudaGraphGetNodes(graph, nullptr, &n);
  std::vector<cudaGraphNode_t> nodes(n);
  if (e == cudaSuccess && n > 0) e = cudaGraphGetNodes(graph, nodes.data(), &n);
  if (e != cudaSuccess) return "cudaGraphGetNodes: " + cuda_text(e);
  for (std::size_t i = 0; i < n; ++i) {
    cudaGraphNodeType type{};
    if (cudaGraphNodeGetType(nodes[i], &type) != cudaSuccess || type != cudaGraphNodeTypeMemcpy) continue;
    cudaMemcpy3DParms p{};
    e = cudaGraphMemcpyNodeGetParams(nodes[i], &p);
    if (e != cudaSuccess) return "cudaGraphMemcpyNodeGetParams: " + cuda_text(e);
    if (p.srcArray || !p.srcPtr.ptr) continue;  // from a CUDA array: device memory
    cudaPointerAttributes a{};
    e = cudaPointerGetAttributes(&a, p.srcPtr.ptr);
    const bool host = e != cudaSuccess || a.type == cudaMemoryTypeHost ||
                      a.type == cudaMemoryTypeUnregistered || p.kind == cudaMemcpyHostToDevice ||
                      p.kind == cudaMemcpyHostToHost;
    if (host) {
      std::ostringstream out;
      out << "node " << i << " of " << n << " copies " << p.extent.width << " bytes from host address "
          << p.srcPtr.ptr;
      return out.str();
    }
  }
  return {};
}

// Records Kokkos' constant-memory event of `exec`'s device on its stream, outside any capture, after
// the device has finished all earlier work (the constant buffer may be in use by another stream's
// kernel, which the lost recording of the event stood for).
void restore_kokkos_event(const Kokkos::Cuda& exec) {
#if KOKKOS_VERSION >= 40300
  const int device = exec.cuda_device();
  std::lock_guard<std::mutex> lock(Kokkos::Impl::CudaInternal::constantMemMutexPerDevice[device]);
  const auto& events = Kokkos::Impl::CudaInternal::constantMemReusablePerDevice;
  const auto it = events.find(device);
  cudaEvent_t event = it == events.end() ? nullptr : it->second;
#elif KOKKOS_VERSION >= 40000
  cudaEvent_t event = Kokkos::Impl::CudaInternal::constantMemReusable;
#else
  cudaEvent_t event = nullptr;  // older Kokkos: not known; its CUDA builds are not supported here
#endif
  if (!event) return;
  (void)cudaDeviceSynchronize();
  (void)cudaEventRecord(event, exec.cuda_stream());
  (void)cudaGetLastError();
}
}  // namespace

void DeviceGraph::give_up(const std::string& why) {
  (void)cudaGetLastError();  // capture errors are not sticky: clear the last one
  m_state = State::direct;
  m_failure = why;
  SURRO_LOG_WARN("device graph: the work cannot be recorded (" << why << "); running it directly");
}

bool DeviceGraph::begin(const Kokkos::Cuda& exec) {
  // Thread-local mode: only this thread's unsafe calls (a synchronous copy, a fence) invalidate
  // the recording; other host threads (HDF5, VTK writers) are not affected.
  const cudaError_t e = cudaStreamBeginCapture(exec.cuda_stream(), cudaStreamCaptureModeThreadLocal);
  if (e == cudaSuccess) return true;
  give_up("cudaStreamBeginCapture: " + cuda_text(e));
  return false;
}

void DeviceGraph::abandon(const Kokkos::Cuda& exec, const std::string& why) {
  cudaGraph_t graph = nullptr;
  (void)cudaStreamEndCapture(exec.cuda_stream(), &graph);  // leaves capture mode whatever went wrong
  if (graph) (void)cudaGraphDestroy(graph);
  restore_kokkos_event(exec);  // the error may be a constant-memory launch's failed wait
  give_up(why);
}

bool DeviceGraph::end(const Kokkos::Cuda& exec) {
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamEndCapture(exec.cuda_stream(), &graph);
  if (e != cudaSuccess || !graph) {
    if (graph) (void)cudaGraphDestroy(graph);
    restore_kokkos_event(exec);
    give_up("cudaStreamEndCapture: " + cuda_text(e));
    return false;
  }
  const std::string host_copy = host_source_copy(graph);
  if (!host_copy.empty()) {
    (void)cudaGraphDestroy(graph);
    restore_kokkos_event(exec);
    give_up("the recording copies from host memory, which a replay would read as it is then (" + host_copy +
            "; Kokkos launches a kernel whose functor takes 512 bytes or more this way)");
    return false;
  }
  cudaGraphExec_t instance = nullptr;
  e = cudaGraphInstantiate(&instance, graph, 0);
  (void)cudaGraphDestroy(graph);
  if (e != cudaSuccess) {
    give_up("cudaGraphInstantiate: " + cuda_text(e));
    return false;
  }
  m_graph = instance;
  m_state = State::recorded;
  return true;
}

void DeviceGraph::launch(cudaStream_t stream) {
  const cudaError_t e = cudaGraphLaunch(static_cast<cudaGraphExec_t>(m_graph), stream);
  if (e != cudaSuccess)
    SURRO_THROW(ErrorKind::runtime, "device graph: cudaGraphLaunch failed (" << cuda_text(e) << ")");
}
#endif

bool DeviceGraph::enabled(bool by_default) {
  const char* v = std::getenv("SURRO_DEVICE_GRAPH");
  if (v && std::string(v) == "off") return false;
  if (v && std::string(v) == "on") return true;
  return by_default;
}

void DeviceGraph::release() {
#ifdef KOKKOS_ENABLE_CUDA
  if (m_graph) (void)cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(m_graph));
#endif
  m_graph = nullptr;
}

}  // namespace surro
