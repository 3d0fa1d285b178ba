#include "graph/tensor_data.h"

namespace tandem {

int64_t TensorData::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // dims were checked for overflow when the tensor was built
  return n;
}

}  // namespace tandem
