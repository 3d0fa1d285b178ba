#include "runtime_cpu/kernels/vector_math.h"

#include <cstdlib>
#include <string>

#include "runtime_cpu/kernels/rnn_fast_path.h"

namespace tandem::cpu {

const VectorMath& vector_math_for(rnn::Isa isa) {
  switch (isa) {
    case rnn::Isa::kAvx512: return rnn::avx512_vector_math();
    case rnn::Isa::kAvx2: return rnn::avx2_vector_math();
    case rnn::Isa::kScalar: break;
  }
  return rnn::scalar_vector_math();
}

const VectorMath* vector_math() {
  const char* env = std::getenv("TANDEM_ELEMENTWISE_KERNEL");
  if (env && std::string(env) == "reference") return nullptr;
  return &vector_math_for(rnn::kernel_choice_from_env().isa);
}

}  // namespace tandem::cpu
