// Elementwise float32 math over whole vectors, for the ops whose plain loops call the C library once per
// element (Exp, Log, Tanh, Sigmoid, Erf, Gelu, Softmax, LogSoftmax, Attention's softmax): 3 to 9 times ONNX Runtime's
// time before (docs/performance.md). Written once over a vector type (vector_math_impl.h) and compiled for
// AVX-512, AVX2 and portable C++ in the RNN fast path's per-instruction-set files, picked at run time.
// The plain loops stay as the reference twin: TANDEM_ELEMENTWISE_KERNEL=reference selects them.
#pragma once

#include <cstdint>

#include "runtime_cpu/kernels/rnn_fast_isa.h"

namespace tandem::cpu {

// y[i] = f(x[i]) for i < n (x and y may be the same).
using SpanFn = void (*)(const float* x, float* y, int64_t n);
// ONNX Softmax (log: LogSoftmax) of each of `rows` contiguous rows of n elements, x into y.
using SoftmaxRowsFn = void (*)(const float* x, float* y, int64_t rows, int64_t n, bool log);
// Attention's softmax of one row in place (onnx/onnx#8068: a row with every element -inf, or none, becomes
// zeros; a NaN makes it NaN; an element more than 87.3 below the max becomes 0).
using AttentionSoftmaxFn = void (*)(float* x, int64_t n);

struct VectorMath {
  SpanFn exp = nullptr;
  SpanFn log = nullptr;
  SpanFn tanh = nullptr;
  SpanFn sigmoid = nullptr;
  SpanFn erf = nullptr;
  SpanFn gelu_erf = nullptr;   // Gelu, approximate "none"
  SpanFn gelu_tanh = nullptr;  // Gelu, approximate "tanh"
  SoftmaxRowsFn softmax_rows = nullptr;
  AttentionSoftmaxFn attention_softmax_row = nullptr;
};

// Only for an instruction set the CPU has.
const VectorMath& vector_math_for(rnn::Isa isa);
namespace rnn {
// The tables of each instruction set (rnn_fast_avx512.cc, rnn_fast_avx2.cc, rnn_fast_scalar.cc).
const VectorMath& avx512_vector_math();
const VectorMath& avx2_vector_math();
const VectorMath& scalar_vector_math();
}  // namespace rnn
// For the best instruction set this CPU has (TANDEM_RNN_KERNEL's choice of one included); nullptr when
// TANDEM_ELEMENTWISE_KERNEL=reference asks for the plain loops.
const VectorMath* vector_math();

}  // namespace tandem::cpu
