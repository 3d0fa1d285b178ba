#include "runtime_cpu/kernels/panel_product.h"

#include "runtime_cpu/kernels/rnn_fast_path.h"

namespace tandem::cpu {

PanelMatrix pack_panel_matrix(const float* a, int64_t rows, int64_t depth) {
  PanelMatrix p;
  const rnn::KernelChoice choice = rnn::kernel_choice_from_env();
  if (choice.reference_only) return p;
  p.isa = &rnn::kernels_for(choice.isa);
  p.rows = rows;
  p.depth = depth;
  const int64_t block = p.isa->block, blocks = (rows + block - 1) / block;
  p.panels.assign(static_cast<std::size_t>(blocks * depth * block), 0.0f);
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t k = 0; k < depth; ++k)
      p.panels[static_cast<std::size_t>((m / block * depth + k) * block + m % block)] = a[m * depth + k];
  return p;
}

}  // namespace tandem::cpu
