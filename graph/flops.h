// Estimated arithmetic per node for the ops that dominate RNN models: MatMul, Gemm, Conv, LSTM, GRU, RNN, and
// the quantized products MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv (a multiply-add of integers
// counts like one of floats), and Attention (its two products).
// A multiply-add counts as 2 FLOPs; only the matrix work is counted (bias adds included, elementwise gate
// math of the RNN cells not). The profiler's analytic GPU estimate and `tandem info` use these numbers.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>

#include "graph/graph.h"

namespace tandem {

struct FlopCount {
  double flops = 0;
  // Symbolic dimensions that were taken as 1: the count scales with each of them.
  std::set<std::string> per_symbol;
};

bool is_flop_counted_op(const Node& n);

// nullopt when the op is not one of the counted ones or a needed dimension is unknown (not even symbolic).
// `run_shapes`, by ValueId, are shapes seen at run time (the profiler's); where one has a rank it is used
// instead of the inferred shape.
std::optional<FlopCount> estimate_flops(const Graph& g, const Node& n, std::span<const Shape> run_shapes = {});

}  // namespace tandem
