// tandem's GPU LSTM and GRU on single-layer models, timed with CUDA events: the shapes of issue 7's
// comparison with PyTorch+cuDNN (torch_rnn_bench.py prints the table with ratios from this output).
// A plain main (no Google Benchmark: the GPU machine does not have it).
//
// Output, one line per configuration (whitespace-separated, a header line first):
//   cell input hidden seq batch graph_us direct_us persistent_us
// graph_us: median of a run with the per-step time loop replayed from a CUDA Graph; direct_us: launched one
// by one; persistent_us: the persistent kernel (kernels/rnn_persistent.h), "-" where it does not fit.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime_cuda/cublas_context.h"
#include "runtime_cuda/cuda_allocator.h"
#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/cuda_probe.h"
#include "runtime_cuda/cuda_rnn.h"
#include "runtime_cuda/cuda_stream.h"

namespace tc = tandem::cuda;

namespace {

struct Shape {
  int64_t input, hidden, seq;
};
constexpr Shape kShapes[] = {{64, 64, 100},   {256, 64, 100},  {1024, 64, 100}, {64, 256, 100},  {64, 1024, 100},
                             {1024, 1024, 100}, {256, 256, 1}, {256, 256, 10},  {256, 256, 100}};
constexpr int64_t kBatches[] = {1, 64};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "gpu_rnn_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T must(tandem::Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.status().message());
  return std::move(r).value();
}
void must(const tandem::Status& s, const char* what) {
  if (!s) die(std::string(what) + ": " + s.message());
}

std::vector<float> random_vector(std::size_t n, std::mt19937& gen, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

// Median microseconds of `reps` runs after `warmup` untimed ones.
double time_runs(const tc::CudaRnn& rnn, const tc::RnnRunIo& io, tc::CudaRnnWorkspace& ws,
                 const tc::CublasContext& blas, const tc::CudaStream& s, int warmup, int reps) {
  // `blas` enqueues on `s`.
  for (int i = 0; i < warmup; ++i) must(rnn.run(io, ws, blas), "warm-up run");
  must(s.synchronize(), "synchronize");
  auto start = must(tc::CudaEvent::create(), "event"), stop = must(tc::CudaEvent::create(), "event");
  std::vector<double> us;
  for (int i = 0; i < reps; ++i) {
    must(start.record(s.get()), "record");
    must(rnn.run(io, ws, blas), "run");
    must(stop.record(s.get()), "record");
    must(stop.synchronize(), "synchronize");
    us.push_back(1000.0 * must(stop.elapsed_ms_since(start), "elapsed time"));
  }
  std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(us.size() / 2), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  const tc::CudaProbe probe = tc::probe_cuda();
  if (probe.gpus.empty()) die("no CUDA GPU: " + probe.reason);
  std::fprintf(stderr, "gpu_rnn_bench: %s, %d repetitions per configuration\n", probe.gpus[0].name.c_str(), reps);

  tc::CudaAllocator allocator(0);
  tc::CudaStream stream = must(tc::CudaStream::create(0), "stream");
  const tc::CublasContext cublas = must(tc::CublasContext::create(allocator, 0, stream.get()), "cuBLAS");
  auto graph_ws = must(tc::CudaRnnWorkspace::create(allocator, true, tc::RnnPath::kStepwise), "workspace");
  auto direct_ws = must(tc::CudaRnnWorkspace::create(allocator, false, tc::RnnPath::kStepwise), "workspace");
  auto persistent_ws = must(tc::CudaRnnWorkspace::create(allocator, true, tc::RnnPath::kPersistent), "workspace");
  std::mt19937 gen(7);
  std::printf("cell input hidden seq batch graph_us direct_us persistent_us\n");
  for (tc::RnnCellKind kind : {tc::RnnCellKind::kLstm, tc::RnnCellKind::kGru}) {
    for (const Shape& s : kShapes) {
      tc::CudaRnnSpec spec;
      spec.kind = kind;
      spec.input_size = s.input;
      spec.hidden = s.hidden;
      spec.linear_before_reset = kind == tc::RnnCellKind::kGru;  // PyTorch's GRU, what cuDNN computes
      spec.activations = tc::default_rnn_activations(kind, 1);
      const auto gh = static_cast<std::size_t>(tc::gates_of(kind) * s.hidden);
      const float scale = 1.0f / std::sqrt(static_cast<float>(s.hidden));
      const std::vector<float> w = random_vector(gh * static_cast<std::size_t>(s.input), gen, scale);
      const std::vector<float> r = random_vector(gh * static_cast<std::size_t>(s.hidden), gen, scale);
      const std::vector<float> b = random_vector(2 * gh, gen, scale);
      auto rnn = must(tc::CudaRnn::create(spec, {w.data(), r.data(), b.data(), nullptr}, allocator), "CudaRnn");
      for (int64_t batch : kBatches) {
        const auto x_n = static_cast<std::size_t>(s.seq * batch * s.input);
        const auto y_n = static_cast<std::size_t>(s.seq * batch * s.hidden);
        const auto st_n = static_cast<std::size_t>(batch * s.hidden);
        const std::vector<float> x = random_vector(x_n, gen, 1.0f);
        auto dx = must(tc::DeviceBuffer::allocate(allocator, x_n * 4, tc::MemoryCategory::kActivations), "X");
        auto dy = must(tc::DeviceBuffer::allocate(allocator, y_n * 4, tc::MemoryCategory::kActivations), "Y");
        auto dh = must(tc::DeviceBuffer::allocate(allocator, st_n * 4, tc::MemoryCategory::kActivations), "Y_h");
        auto dc = must(tc::DeviceBuffer::allocate(allocator, st_n * 4, tc::MemoryCategory::kActivations), "Y_c");
        must(tandem::cuda::cuda_status(cudaMemcpy(dx.get(), x.data(), x_n * 4, cudaMemcpyHostToDevice), "cudaMemcpy X"),
             "upload");
        // A pageable cudaMemcpy may return before its DMA lands; the bench's stream does not wait for it.
        must(tandem::cuda::cuda_status(cudaDeviceSynchronize(), "cudaDeviceSynchronize"), "upload");
        tc::RnnRunIo io;
        io.seq = s.seq;
        io.batch = batch;
        io.x = dx.as<float>();
        io.y = dy.as<float>();
        io.y_h = dh.as<float>();
        io.y_c = kind == tc::RnnCellKind::kLstm ? dc.as<float>() : nullptr;
        const double graph_us = time_runs(*rnn, io, *graph_ws, cublas, stream, 3, reps);
        const double direct_us = time_runs(*rnn, io, *direct_ws, cublas, stream, 3, reps);
        std::string persistent = "-";
        if (must(rnn->persistent_layout(batch), "persistent layout").fits) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.1f", time_runs(*rnn, io, *persistent_ws, cublas, stream, 3, reps));
          persistent = buf;
        }
        std::printf("%s %lld %lld %lld %lld %.1f %.1f %s\n", kind == tc::RnnCellKind::kLstm ? "lstm" : "gru",
                    static_cast<long long>(s.input), static_cast<long long>(s.hidden), static_cast<long long>(s.seq),
                    static_cast<long long>(batch), graph_us, direct_us, persistent.c_str());
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
