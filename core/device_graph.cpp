#include "core/device_graph.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <cstdlib>
#include <string>

namespace surro {

#ifdef KOKKOS_ENABLE_CUDA
namespace {
std::string cuda_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}
}  // namespace

void DeviceGraph::give_up(const std::string& why) {
  (void)cudaGetLastError();  // capture errors are not sticky: clear the last one
  m_state = State::direct;
  m_failure = why;
  SURRO_LOG_WARN("device graph: the work cannot be recorded (" << why << "); running it directly");
}

bool DeviceGraph::begin(cudaStream_t stream) {
  // Thread-local mode: only this thread's unsafe calls (a synchronous copy, a fence) invalidate
  // the recording; other host threads (HDF5, VTK writers) are not affected.
  const cudaError_t e = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (e == cudaSuccess) return true;
  give_up("cudaStreamBeginCapture: " + cuda_text(e));
  return false;
}

void DeviceGraph::abandon(cudaStream_t stream, const std::string& why) {
  cudaGraph_t graph = nullptr;
  (void)cudaStreamEndCapture(stream, &graph);  // leaves capture mode whatever went wrong
  if (graph) (void)cudaGraphDestroy(graph);
  give_up(why);
}

bool DeviceGraph::end(cudaStream_t stream) {
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamEndCapture(stream, &graph);
  if (e != cudaSuccess || !graph) {
    if (graph) (void)cudaGraphDestroy(graph);
    give_up("cudaStreamEndCapture: " + cuda_text(e));
    return false;
  }
  cudaGraphExec_t exec = nullptr;
  e = cudaGraphInstantiate(&exec, graph, 0);
  (void)cudaGraphDestroy(graph);
  if (e != cudaSuccess) {
    give_up("cudaGraphInstantiate: " + cuda_text(e));
    return false;
  }
  m_graph = exec;
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
