#include "tools/version_text.h"

#ifdef TANDEM_WITH_CUDA
#include "runtime_cuda/cuda_probe.h"
#endif

namespace tandem::cli {

std::string version_text() {
  std::string s = "tandem " TANDEM_VERSION "\n";
#ifdef TANDEM_WITH_CUDA
  s += "CUDA: built for sm_90\n";
  const cuda::CudaProbe p = cuda::probe_cuda();
  if (p.gpus.empty()) s += "GPU: none (" + p.reason + ")";
  for (const auto& g : p.gpus)
    s += "GPU " + std::to_string(g.index) + ": " + g.name + ", sm_" + std::to_string(g.compute_major) +
         std::to_string(g.compute_minor) + ", " + std::to_string(g.total_memory >> 20) + " MiB\n";
#else
  s += "CUDA: not built (configure with -DTANDEM_CUDA=ON and a CUDA toolkit)";
#endif
  return s;
}

}  // namespace tandem::cli
