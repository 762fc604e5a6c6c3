// Probe: which fp32 cuBLASLt epilogues (RELU_AUX_BIAS forward, DRELU_BGRAD / DRELU backward,
// BGRADA/BGRADB on the weight-gradient product) have an algorithm for MeshGraphNet's shapes, how
// fast they are against plain cublasSgemm plus our separate passes, and what the ReLU bitmask's
// bit order is. Row-major semantics as core/gemm.hpp: X (rows, 128) row-major == column-major (128, rows).
// Standalone (no Kokkos). Build here: nvcc -O2 -arch=sm_90 -o lt_probe bench/gpu/lt_probe.cu -lcublasLt -lcublas
// and run the binary on the GPU machine (bench/RESULTS.md, 2026-12-07, session 17). The label of the
// BGRADA line asks a question: BGRADA sums the first column-major operand, x here, not g.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <vector>

#define CK(x)                                                                      \
  do {                                                                             \
    auto s_ = (x);                                                                 \
    if (int(s_) != 0) {                                                            \
      std::printf("FAIL %s:%d %s -> %d\n", __FILE__, __LINE__, #x, int(s_));      \
      std::exit(1);                                                                \
    }                                                                              \
  } while (0)

__global__ void fill(float* p, size_t n, unsigned seed) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) {
    unsigned h = unsigned(i) * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;
    p[i] = (h % 2001) / 1000.0f - 1.0f;
  }
}
__global__ void bias_relu(float* y, const float* b, size_t rows, int n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < rows * n) {
    float z = y[i] + b[i % n];
    y[i] = z > 0 ? z : 0;
  }
}
__global__ void relu_bwd(const float* a, float* g, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) g[i] = a[i] > 0 ? g[i] : 0;
}
__global__ void colsum(const float* g, float* out, size_t rows, int n) {  // naive, one thread per column
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j < n) {
    double s = 0;
    for (size_t r = 0; r < rows; ++r) s += g[r * n + j];
    out[j] = float(s);
  }
}

struct Lt {
  cublasLtHandle_t h;
  void* ws;
  size_t wsb = size_t(32) << 20;
};

// Row-major C (m, n) = A (m, k) op B; returns ms per call or -1 if no algorithm.
// opb_t: B given as (n, k) row-major and used transposed (forward y = x W^T), else (k, n).
float lt_run(Lt& lt, int m, int n, int k, const float* A, bool opa_t, const float* B, bool opb_t, float* C,
             cublasLtEpilogue_t epi, const void* bias, void* aux, int64_t auxld, int reps, const char* name) {
  cublasLtMatmulDesc_t op;
  CK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  // column-major C^T (n, m) = op(B)^T (n, k) * op(A)^T (k, m)
  cublasOperation_t ta = opb_t ? CUBLAS_OP_T : CUBLAS_OP_N, tb = opa_t ? CUBLAS_OP_T : CUBLAS_OP_N;
  CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
  if (bias) CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  if (aux) {
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof(aux)));
    CK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &auxld, sizeof(auxld)));
  }
  const int ldb = opb_t ? k : n, lda = opa_t ? m : k;
  cublasLtMatrixLayout_t la, lb, lc;
  CK(cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, opb_t ? k : n, opb_t ? n : k, ldb));
  CK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, opa_t ? m : k, opa_t ? k : m, lda));
  CK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, n, m, n));
  cublasLtMatmulPreference_t pref;
  CK(cublasLtMatmulPreferenceCreate(&pref));
  CK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &lt.wsb, sizeof(lt.wsb)));
  cublasLtMatmulHeuristicResult_t res{};
  int count = 0;
  cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt.h, op, la, lb, lc, lc, pref, 1, &res, &count);
  float ms = -1;
  if (st != CUBLAS_STATUS_SUCCESS || count == 0) {
    std::printf("%-44s m=%d n=%d k=%d: no algorithm (%s, count %d)\n", name, m, n, k, cublasGetStatusName(st),
                count);
  } else {
    float alpha = 1, beta = 0;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    CK(cublasLtMatmul(lt.h, op, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &res.algo, lt.ws, lt.wsb, 0));
    cudaEventRecord(e0);
    for (int r = 0; r < reps; ++r)
      CK(cublasLtMatmul(lt.h, op, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &res.algo, lt.ws, lt.wsb, 0));
    cudaEventRecord(e1);
    CK(cudaEventSynchronize(e1));
    cudaEventElapsedTime(&ms, e0, e1);
    ms /= reps;
    std::printf("%-44s m=%d n=%d k=%d: %.3f ms (ws %zu)\n", name, m, n, k, ms, size_t(res.workspaceSize));
  }
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(op);
  return ms;
}

template <class F>
float timeit(F f, int reps) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  f();
  cudaEventRecord(e0);
  for (int r = 0; r < reps; ++r) f();
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms;
  cudaEventElapsedTime(&ms, e0, e1);
  return ms / reps;
}

int main() {
  Lt lt;
  CK(cublasLtCreate(&lt.h));
  CK(cudaMalloc(&lt.ws, lt.wsb));
  cublasHandle_t hb;
  CK(cublasCreate(&hb));
  const int reps = 20;
  for (long rows : {597460L, 100146L}) {
    for (int cin : {384, 128}) {
      const int c = 128;
      std::printf("\n== rows %ld, Cin %d, Cout %d\n", rows, cin, c);
      float *x, *w, *b, *y, *y2, *g, *gx, *gx2, *dw, *db, *db2, *a;
      CK(cudaMalloc(&x, rows * cin * 4));
      CK(cudaMalloc(&w, size_t(c) * cin * 4));
      CK(cudaMalloc(&b, c * 4));
      CK(cudaMalloc(&y, rows * c * 4));
      CK(cudaMalloc(&y2, rows * c * 4));
      CK(cudaMalloc(&g, rows * c * 4));
      CK(cudaMalloc(&gx, rows * c * 4));
      CK(cudaMalloc(&gx2, rows * c * 4));
      CK(cudaMalloc(&dw, size_t(c) * cin * 4));
      CK(cudaMalloc(&db, cin * 4));
      CK(cudaMalloc(&db2, cin * 4));
      CK(cudaMalloc(&a, rows * c * 4));
      const int64_t auxld = 128 * ((c + 127) / 128);
      void* aux;
      CK(cudaMalloc(&aux, auxld / 8 * rows));
      auto blocks = [](size_t n) { return unsigned((n + 255) / 256); };
      fill<<<blocks(rows * cin), 256>>>(x, rows * cin, 1);
      fill<<<blocks(c * cin), 256>>>(w, c * cin, 2);
      fill<<<1, 256>>>(b, c, 3);
      fill<<<blocks(rows * c), 256>>>(g, rows * c, 4);
      const float one = 1, zero = 0;
      // --- forward: y = relu(x W^T + b)
      float t_plain = timeit([&] {
        cublasSgemm(hb, CUBLAS_OP_T, CUBLAS_OP_N, c, int(rows), cin, &one, w, cin, x, cin, &zero, y, c);
      }, reps);
      float t_pass = timeit([&] { bias_relu<<<blocks(rows * c), 256>>>(y, b, rows, c); }, reps);
      std::printf("%-44s %.3f ms + bias_relu pass %.3f ms\n", "fwd cublasSgemm", t_plain, t_pass);
      cublasSgemm(hb, CUBLAS_OP_T, CUBLAS_OP_N, c, int(rows), cin, &one, w, cin, x, cin, &zero, y, c);
      bias_relu<<<blocks(rows * c), 256>>>(y, b, rows, c);
      lt_run(lt, int(rows), c, cin, x, false, w, true, y2, CUBLASLT_EPILOGUE_RELU_BIAS, b, nullptr, 0, reps,
             "fwd Lt RELU_BIAS");
      lt_run(lt, int(rows), c, cin, x, false, w, true, y2, CUBLASLT_EPILOGUE_RELU_AUX_BIAS, b, aux, auxld, reps,
             "fwd Lt RELU_AUX_BIAS");
      {
        std::vector<float> hy(rows * c), hy2(rows * c);
        std::vector<uint32_t> hm(auxld / 32 * rows);
        cudaMemcpy(hy.data(), y, rows * c * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(hy2.data(), y2, rows * c * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(hm.data(), aux, auxld / 8 * rows, cudaMemcpyDeviceToHost);
        double err = 0;
        long bad_lsb = 0, bad_msb = 0;
        for (long r = 0; r < rows; ++r)
          for (int j = 0; j < c; ++j) {
            err = std::fmax(err, std::fabs(hy[r * c + j] - hy2[r * c + j]));
            const long bit = r * auxld + j;
            const uint32_t word = hm[bit / 32];
            const bool lsb = (word >> (bit % 32)) & 1u, msb = (word >> (31 - bit % 32)) & 1u;
            const bool pos = hy2[r * c + j] > 0;
            bad_lsb += lsb != pos;
            bad_msb += msb != pos;
          }
        std::printf("   RELU_AUX_BIAS: max |y - y_ref| %.3g; bitmask mismatches lsb-first %ld, msb-first %ld\n",
                    err, bad_lsb, bad_msb);
        cudaMemcpy(a, y2, rows * c * 4, cudaMemcpyDeviceToDevice);
      }
      if (cin != c) continue;  // backward through the previous layer's relu: Cin = hidden width
      // --- backward: gx = (g W) masked by a > 0; db = column sums of gx
      float tb_plain = timeit([&] {
        cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, cin, int(rows), c, &one, w, cin, g, c, &zero, gx, cin);
      }, reps);
      float tb_mask = timeit([&] { relu_bwd<<<blocks(rows * cin), 256>>>(a, gx, rows * cin); }, reps);
      std::printf("%-44s %.3f ms + relu_backward pass %.3f ms\n", "bwd dx cublasSgemm", tb_plain, tb_mask);
      cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, cin, int(rows), c, &one, w, cin, g, c, &zero, gx, cin);
      relu_bwd<<<blocks(rows * cin), 256>>>(a, gx, rows * cin);
      colsum<<<1, 128>>>(gx, db, rows, cin);
      lt_run(lt, int(rows), cin, c, g, false, w, false, gx2, CUBLASLT_EPILOGUE_DRELU, nullptr, aux, auxld, reps,
             "bwd dx Lt DRELU");
      lt_run(lt, int(rows), cin, c, g, false, w, false, gx2, CUBLASLT_EPILOGUE_DRELU_BGRAD, db2, aux, auxld,
             reps, "bwd dx Lt DRELU_BGRAD");
      {
        std::vector<float> h1(rows * cin), h2(rows * cin), d1(cin), d2(cin);
        cudaMemcpy(h1.data(), gx, rows * cin * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(h2.data(), gx2, rows * cin * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(d1.data(), db, cin * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(d2.data(), db2, cin * 4, cudaMemcpyDeviceToHost);
        double e = 0, s = 0, ed = 0, sd = 0;
        for (size_t i = 0; i < h1.size(); ++i) e = std::fmax(e, std::fabs(h1[i] - h2[i])), s = std::fmax(s, std::fabs(h1[i]));
        for (int j = 0; j < cin; ++j) ed = std::fmax(ed, std::fabs(d1[j] - d2[j])), sd = std::fmax(sd, std::fabs(d1[j]));
        std::printf("   DRELU_BGRAD: max |gx - ref| %.3g of %.3g; max |db - ref| %.3g of %.3g\n", e, s, ed, sd);
      }
      // --- weight gradient with the bias gradient from its operand: dW (Cout, Cin) = g^T x
      float tw_plain = timeit([&] {
        cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_T, cin, c, int(rows), &one, x, cin, g, c, &one, dw, cin);
      }, reps);
      std::printf("%-44s %.3f ms\n", "dW cublasSgemm (beta 1)", tw_plain);
      // row-major dW (c, cin) = g^T (c, rows) x (rows, cin): A = g transposed, B = x
      lt_run(lt, c, cin, int(rows), g, true, x, false, dw, CUBLASLT_EPILOGUE_BGRADA, db2, nullptr, 0, reps,
             "dW Lt BGRADA (bias grad from g?)");
      lt_run(lt, c, cin, int(rows), g, true, x, false, dw, CUBLASLT_EPILOGUE_BGRADB, db2, nullptr, 0, reps,
             "dW Lt BGRADB");
      {
        colsum<<<1, 128>>>(g, db, rows, c);
        std::vector<float> d1(c), d2(c);
        cudaMemcpy(d1.data(), db, c * 4, cudaMemcpyDeviceToHost);
        cudaMemcpy(d2.data(), db2, c * 4, cudaMemcpyDeviceToHost);
        double ed = 0, sd = 0;
        for (int j = 0; j < c; ++j) ed = std::fmax(ed, std::fabs(d1[j] - d2[j])), sd = std::fmax(sd, std::fabs(d1[j]));
        std::printf("   BGRADB: max |db - colsum(g)| %.3g of %.3g\n", ed, sd);
      }
      lt_run(lt, c, cin, int(rows), g, true, x, false, dw, CUBLASLT_EPILOGUE_DEFAULT, nullptr, nullptr, 0, reps,
             "dW Lt DEFAULT");
      cudaFree(x), cudaFree(w), cudaFree(b), cudaFree(y), cudaFree(y2), cudaFree(g), cudaFree(gx), cudaFree(gx2);
      cudaFree(dw), cudaFree(db), cudaFree(db2), cudaFree(a), cudaFree(aux);
    }
  }
  CK(cudaDeviceSynchronize());
  std::printf("\nprobe done\n");
}
