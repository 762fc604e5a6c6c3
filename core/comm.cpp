#include "core/comm.hpp"

#include "core/error.hpp"
#ifdef SURRO_NCCL
#include "core/comm_nccl.hpp"
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#ifdef SURRO_MPI
// The C API only (OpenMPI would otherwise pull in its deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace surro::comm {
namespace {

bool g_active = false;
int g_rank = 0, g_size = 1, g_local = 0, g_local_size = 1;

#ifdef SURRO_MPI
// A launcher (OpenMPI's mpirun, a PMI/PMIx server such as srun) leaves these in the environment.
bool launched() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name)) return true;
  return std::getenv("SLURM_NTASKS") && std::getenv("SLURM_PROCID") && std::getenv("SLURM_STEP_ID");
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) SURRO_THROW(ErrorKind::runtime, "MPI: " << what << " failed (error " << rc << ")");
}

// Sums values (n) over ranks into `values` on every rank, n < 2^31, moving about 2 n doubles per
// rank (as a ring all-reduce does) while fixing the order of the additions: rank q owns the slice
// [n q / N, n (q + 1) / N); an all-to-all hands every owner the N ranks' values of its slice
// (N, slice), which it adds rank 0 first, then rank 1, ...; an all-gather returns the sums.
void ordered_sum(double* values, std::size_t n) {
  const int size = g_size;
  const std::size_t ranks = static_cast<std::size_t>(size);
  std::vector<int> begin(ranks + 1), len(ranks);
  for (int q = 0; q <= size; ++q) begin[std::size_t(q)] = int(static_cast<long long>(n) * q / size);
  for (int q = 0; q < size; ++q) len[std::size_t(q)] = begin[std::size_t(q) + 1] - begin[std::size_t(q)];
  const int mine = len[std::size_t(g_rank)];
  std::vector<int> recv_count(ranks, mine), recv_at(ranks);
  for (int p = 0; p < size; ++p) recv_at[std::size_t(p)] = p * mine;
  std::vector<double> parts(ranks * std::size_t(mine));  // (N, slice)
  check(MPI_Alltoallv(values, len.data(), begin.data(), MPI_DOUBLE, parts.data(), recv_count.data(),
                      recv_at.data(), MPI_DOUBLE, MPI_COMM_WORLD),
        "MPI_Alltoallv");
  std::vector<double> slice(std::size_t(mine), 0.0);
  for (int p = 0; p < size; ++p)
    for (int i = 0; i < mine; ++i)
      slice[std::size_t(i)] += parts[std::size_t(p) * std::size_t(mine) + std::size_t(i)];
  check(MPI_Allgatherv(slice.data(), mine, MPI_DOUBLE, values, len.data(), begin.data(), MPI_DOUBLE,
                       MPI_COMM_WORLD),
        "MPI_Allgatherv");
}
#endif

}  // namespace

void initialize(int* argc, char*** argv) {
#ifdef SURRO_MPI
  if (g_active) return;
  if (launched()) {
    int started = 0;
    MPI_Initialized(&started);
    if (!started) check(MPI_Init(argc, argv), "MPI_Init");
    g_active = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm node;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    MPI_Comm_rank(node, &g_local);
    MPI_Comm_size(node, &g_local_size);
    MPI_Comm_free(&node);
    return;
  }
#else
  (void)argc;
  (void)argv;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name)) {
      g_local = std::atoi(v);
      break;
    }
#endif
  // Without MPI the launcher's announcement is all there is: each process runs the whole job
  // (launcher_size), but the processes still share this node's cores.
  if (const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) g_local_size = std::max(1, std::atoi(v));
}

void finalize() {
#ifdef SURRO_MPI
  if (!g_active) return;
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
  g_active = false;
#endif
}

void abort_all(int code) {
#ifdef SURRO_MPI
  if (g_active && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

bool built() {
#ifdef SURRO_MPI
  return true;
#else
  return false;
#endif
}

bool active() {
  return g_active;
}
int rank() {
  return g_rank;
}
int size() {
  return g_size;
}
int local_rank() {
  return g_local;
}
int local_size() {
  return g_local_size;
}

int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return 1;
}

bool nccl_built() {
#ifdef SURRO_NCCL
  return true;
#else
  return false;
#endif
}

std::string nccl_version() {
#ifdef SURRO_NCCL
  return nccl::version();
#else
  return "";
#endif
}

bool nccl_active() {
#ifdef SURRO_NCCL
  return nccl::running();
#else
  return false;
#endif
}

bool reducing() {
  return g_size > 1 || nccl_active();
}

void barrier() {
#ifdef SURRO_MPI
  if (g_size > 1) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void broadcast(void* data, std::size_t bytes, int root) {
#ifdef SURRO_MPI
  if (g_size == 1) return;
  auto* p = static_cast<char*>(data);
  const std::size_t chunk = std::size_t(1) << 30;  // MPI counts are int
  for (std::size_t off = 0; off < bytes; off += chunk)
    check(MPI_Bcast(p + off, static_cast<int>(std::min(chunk, bytes - off)), MPI_BYTE, root, MPI_COMM_WORLD),
          "MPI_Bcast");
#else
  (void)data;
  (void)bytes;
  (void)root;
#endif
}

void sum(double* values, std::size_t n) {
#ifdef SURRO_NCCL
  if (nccl::running()) {
    if (n > 0) nccl::sum_host(values, n);
    return;
  }
#endif
#ifdef SURRO_MPI
  if (g_size == 1 || n == 0) return;
  // Chunks below 2^31 values (MPI counts are int).
  const std::size_t chunk = std::size_t(1) << 30;
  for (std::size_t off = 0; off < n; off += chunk) ordered_sum(values + off, std::min(chunk, n - off));
#else
  (void)values;
  (void)n;
#endif
}

void sum(float* values, std::size_t n) {
  if (!reducing() || n == 0) return;
  std::vector<double> wide(values, values + n);
  sum(wide.data(), n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<float>(wide[i]);
}

double sum(double value) {
  sum(&value, 1);
  return value;
}

long long sum(long long value) {
  // Counts stay exact in double up to 2^53.
  double v = static_cast<double>(value);
  sum(&v, 1);
  return static_cast<long long>(v);
}

int max(int value) {
#ifdef SURRO_NCCL
  if (nccl::running()) return nccl::max_host(value);
#endif
#ifdef SURRO_MPI
  if (g_size == 1) return value;
  int out = value;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce(max)");
  return out;
#else
  return value;
#endif
}

}  // namespace surro::comm
