#include "onnx_import/schema_registry.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>
#include <onnx/defs/tensor_proto_util.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "onnx_import/attention_schema.h"
#include "onnx_import/rms_rope_schemas.h"
#include "onnx_import/schema_builder.h"

namespace tandem::onnx_import {
namespace {

using onnx::AttributeProto;
using onnx::InferenceContext;
using onnx::OpSchema;
using onnx::TensorProto;
using onnx::TensorShapeProto;

constexpr int kOpset18 = 18, kOpset19 = 19, kOpset20 = 20, kOpset21 = 21, kOpset22 = 22, kOpset23 = 23,
              kOpset24 = 24, kOpset25 = 25, kOpset26 = 26;

// Every default-domain op added or changed in the opsets after libonnx 1.12's 17: onnx/defs/operator_sets.h
// (OpSet_Onnx_ver18 to _ver23) and docs/Changelog.md, "Version 18 (to 21) of the default ONNX operator set";
// for 24 to 26, ONNX 1.19's release notes, onnx/onnx pull request 7446 (the 2-bit types) and ONNX 1.21's
// new ops (onnxruntime pull request 27601 registers those two and no other op at 26).
struct OpsetChanges {
  int opset;
  std::vector<std::string_view> ops;
};
// clang-format off
const std::array<OpsetChanges, 9> kChanges = {{
    {kOpset18, {"BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "CenterCropPad", "Col2Im",
                "GroupNormalization", "LpPool", "Mish", "OptionalGetElement", "OptionalHasElement", "Pad", "ReduceL1",
                "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
                "ReduceSumSquare", "Resize", "ScatterElements", "ScatterND", "Split"}},
    // Most of 19's changes only add the float8 types (which tandem refuses at import), and saturate for them.
    {kOpset19, {"AveragePool", "Cast", "CastLike", "Constant", "DeformConv", "DequantizeLinear", "Equal",
                "Identity", "If", "Loop", "Pad", "QuantizeLinear", "Reshape", "Resize", "Scan", "Shape", "Size"}},
    {kOpset20, {"AffineGrid", "ConstantOfShape", "DFT", "Gelu", "GridSample", "ImageDecoder", "IsInf", "IsNaN",
                "ReduceMax", "ReduceMin", "RegexFullMatch", "StringConcat", "StringSplit"}},
    // 21: the 4-bit types (which tandem refuses at import), blocked quantization, GroupNormalization's
    // per-channel scale and bias.
    {kOpset21, {"Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten",
                "GroupNormalization", "Identity", "If", "Loop", "Pad", "QLinearMatMul", "QuantizeLinear", "Reshape",
                "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"}},
    // 22: bfloat16 added, nothing else (ONNX 1.17: "Update to support bfloat16").
    {kOpset22, {"Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "Bernoulli", "Conv",
                "ConvTranspose", "Cos", "Cosh", "DeformConv", "Det", "Dropout", "Elu", "EyeLike", "GRU",
                "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GridSample", "HardSigmoid", "HardSwish",
                "InstanceNormalization", "LSTM", "LpNormalization", "LpPool", "MaxPool", "MaxRoiPool", "MaxUnpool",
                "Mish", "Multinomial", "NegativeLogLikelihoodLoss", "RNN", "RandomNormal", "RandomNormalLike",
                "RandomUniform", "RandomUniformLike", "RoiAlign", "Round", "Selu", "Sin", "Sinh", "Softplus",
                "Softsign", "Tan", "ThresholdedRelu"}},
    // 23: Attention, RMSNormalization and RotaryEmbedding; the quantizers' scale gets a type of its own;
    // float4e2m1 (refused at import) for the rest.
    {kOpset23, {"Attention", "Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten",
                "Identity", "If", "Loop", "Pad", "QuantizeLinear", "RMSNormalization", "Reshape", "RotaryEmbedding",
                "Scan", "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"}},
    // 24: Swish and TensorScatter, Attention's nonpad_kv_seqlen, bfloat16 for TopK and SplitToSequence,
    // float8e8m0 (refused at import) and Cast's round_mode for it.
    {kOpset24, {"Attention", "Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten",
                "Identity", "If", "Loop", "Pad", "QuantizeLinear", "Reshape", "Scan", "Shape", "Size",
                "SplitToSequence", "Squeeze", "Swish", "TensorScatter", "TopK", "Transpose", "Unsqueeze"}},
    // 25: the 2-bit integer types (refused at import), nothing else.
    {kOpset25, {"Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten", "Identity", "If",
                "Loop", "Pad", "QuantizeLinear", "Reshape", "Scan", "Shape", "Size", "Squeeze", "Transpose",
                "Unsqueeze"}},
    // 26: two new ops.
    {kOpset26, {"BitCast", "CumProd"}},
}};
// clang-format on

// The newest opset in (libonnx's newest, opset] that added or changed `op_type`; 0 when none did.
int newest_change(std::string_view op_type, int opset, int library_max) {
  int newest = 0;
  for (const OpsetChanges& c : kChanges)
    if (c.opset > library_max && c.opset <= opset &&
        std::find(c.ops.begin(), c.ops.end(), op_type) != c.ops.end())
      newest = c.opset;
  return newest;
}

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// ---------------------------------------------------------------------------------------------------------
// Inference helpers

// What shape inference knows about an optional integer input such as `axes`, `split` or `pads`.
enum class InputState {
  kAbsent,    // not listed on the node
  kConstant,  // an initializer or a Constant node's output: values known
  kUnknown,   // computed at run time, or a value whose type is unknown (also how an empty name "" looks)
};

struct IntsInput {
  InputState state = InputState::kAbsent;
  std::vector<int64_t> values;
};

// Values of a constant int32/int64 input; nullopt for anything else (external data is not loaded here).
std::optional<std::vector<int64_t>> constant_ints(InferenceContext& ctx, size_t index) {
  const TensorProto* t = ctx.getInputData(index);
  if (t == nullptr || t->data_location() == TensorProto::EXTERNAL) return std::nullopt;
  if (t->data_type() == TensorProto::INT64) return onnx::ParseData<int64_t>(t);
  if (t->data_type() == TensorProto::INT32) {
    const auto v = onnx::ParseData<int32_t>(t);
    return std::vector<int64_t>(v.begin(), v.end());
  }
  return std::nullopt;
}

IntsInput read_ints_input(InferenceContext& ctx, size_t index) {
  if (index >= ctx.getNumInputs()) return {};
  if (auto values = constant_ints(ctx, index)) return {InputState::kConstant, std::move(*values)};
  return {InputState::kUnknown, {}};
}

int64_t normalize_axis(int64_t axis, int rank, const char* op) {
  if (axis < -rank || axis >= rank) {
    fail_shape_inference(op, ": axis ", axis, " is out of range for an input of rank ", rank);
  }
  return axis < 0 ? axis + rank : axis;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---------------------------------------------------------------------------------------------------------
// Reduce*-18: `axes` moved from an attribute to an optional input; `noop_with_empty_axes` added.

void infer_reduce(InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  const bool keepdims = onnx::getAttribute(ctx, "keepdims", int64_t{1}) != 0;
  const bool noop_when_empty = onnx::getAttribute(ctx, "noop_with_empty_axes", int64_t{0}) != 0;
  const IntsInput axes = read_ints_input(ctx, 1);
  // An empty constant `axes` means the same as no `axes`.
  const bool no_axes =
      axes.state == InputState::kAbsent || (axes.state == InputState::kConstant && axes.values.empty());

  if (no_axes && noop_when_empty) {  // identity
    if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
    return;
  }
  if (no_axes && !keepdims) {  // everything reduced away: a scalar, whatever the input rank
    onnx::getOutputShape(ctx, 0);
    return;
  }
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  const int rank = in.dim_size();

  if (axes.state == InputState::kUnknown) {
    // Which axes go is only known at run time: with keepdims the rank survives and size-1 dims stay 1.
    if (!keepdims) return;
    TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
    for (const auto& d : in.dim()) {
      auto* o = out->add_dim();
      if (d.has_dim_value() && d.dim_value() == 1) o->set_dim_value(1);
    }
    return;
  }

  std::vector<bool> reduced(rank, no_axes);
  for (int64_t a : axes.values) reduced[normalize_axis(a, rank, "Reduce")] = true;
  TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
  for (int i = 0; i < rank; ++i) {
    if (!reduced[i]) {
      *out->add_dim() = in.dim(i);  // unchanged, symbolic names included
    } else if (keepdims) {
      out->add_dim()->set_dim_value(1);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Split-18: attribute `num_outputs` added, exclusive with the `split` input.

// Output sizes along the split axis, when they can be known before run time.
std::optional<std::vector<int64_t>> split_sizes(const IntsInput& split, bool by_num_outputs,
                                                const TensorShapeProto::Dimension& dim, size_t n) {
  if (split.state == InputState::kConstant) {
    if (split.values.size() != n) {
      fail_shape_inference("Split: 'split' has ", split.values.size(), " values for ", n, " outputs");
    }
    int64_t total = 0;
    for (int64_t v : split.values) {
      if (v < 0) fail_shape_inference("Split: 'split' values must be >= 0, got ", v);
      total += v;
    }
    if (dim.has_dim_value() && dim.dim_value() != total) {
      fail_shape_inference("Split: 'split' sums to ", total, " but the axis has size ", dim.dim_value());
    }
    return split.values;
  }
  if ((split.state == InputState::kUnknown && !by_num_outputs) || !dim.has_dim_value() || n == 0) {
    return std::nullopt;
  }
  const int64_t total = dim.dim_value();
  const auto count = static_cast<int64_t>(n);
  if (by_num_outputs) {
    // Parts of ceil(total / n); the last part takes what is left and may be smaller (ONNX spec).
    const int64_t chunk = ceil_div(total, count);
    const int64_t last = total - chunk * (count - 1);
    if (last < 0) fail_shape_inference("Split: an axis of size ", total, " cannot make ", n, " outputs");
    std::vector<int64_t> sizes(n, chunk);
    sizes.back() = last;
    return sizes;
  }
  // Neither `split` nor `num_outputs` (the Split-13 way): equal parts, one per output.
  if (total % count != 0) {
    fail_shape_inference("Split: an axis of size ", total, " does not split evenly into ", n, " outputs");
  }
  return std::vector<int64_t>(n, total / count);
}

void infer_split(InferenceContext& ctx) {
  const size_t n = ctx.getNumOutputs();
  for (size_t i = 0; i < n; ++i) onnx::propagateElemTypeFromInputToOutput(ctx, 0, i);

  const AttributeProto* num_outputs = ctx.getAttribute("num_outputs");
  const IntsInput split = read_ints_input(ctx, 1);
  if (num_outputs != nullptr) {
    // A null type here is most likely an empty name, i.e. no `split`.
    if (split.state == InputState::kConstant ||
        (split.state == InputState::kUnknown && ctx.getInputType(1) != nullptr)) {
      fail_shape_inference("Split: the 'split' input and the 'num_outputs' attribute exclude each other");
    }
    if (num_outputs->i() < 1 || static_cast<size_t>(num_outputs->i()) != n) {
      fail_shape_inference("Split: num_outputs is ", num_outputs->i(), " but the node has ", n, " outputs");
    }
  }
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  const int64_t axis = normalize_axis(onnx::getAttribute(ctx, "axis", int64_t{0}), in.dim_size(), "Split");
  const auto sizes = split_sizes(split, num_outputs != nullptr, in.dim(static_cast<int>(axis)), n);

  for (size_t i = 0; i < n; ++i) {
    TensorShapeProto* out = onnx::getOutputShape(ctx, i);
    *out = in;
    auto* d = out->mutable_dim(static_cast<int>(axis));
    d->Clear();
    if (sizes) d->set_dim_value((*sizes)[i]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pad-18: optional input `axes` added; `pads` then holds begin/end pairs for those axes only. Pad-19: mode
// "wrap" added.

std::vector<int64_t> pad_axes(const IntsInput& axes, int rank) {
  std::vector<int64_t> out;
  if (axes.state == InputState::kAbsent) {
    for (int i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  std::vector<bool> seen(rank, false);
  for (int64_t a : axes.values) {
    const int64_t axis = normalize_axis(a, rank, "Pad");
    if (seen[axis]) fail_shape_inference("Pad: axis ", a, " is listed twice in 'axes'");
    seen[axis] = true;
    out.push_back(axis);
  }
  return out;
}

template <int kOpset>
void infer_pad(InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  const std::string mode = onnx::getAttribute(ctx, "mode", std::string("constant"));
  if (kOpset >= kOpset19 ? mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap"
                         : mode != "constant" && mode != "reflect" && mode != "edge") {
    fail_shape_inference("Pad: mode '", mode, "' is not one of constant, reflect, edge",
                         kOpset >= kOpset19 ? ", wrap (opset 19)" : " (opset 18)");
  }
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  const int rank = in.dim_size();
  const IntsInput pads = read_ints_input(ctx, 1);
  const IntsInput axes_in = read_ints_input(ctx, 3);
  TensorShapeProto* out = onnx::getOutputShape(ctx, 0);

  if (axes_in.state == InputState::kUnknown) {  // any axis may grow: only the rank is known
    for (int i = 0; i < rank; ++i) out->add_dim();
    return;
  }
  const std::vector<int64_t> axes = pad_axes(axes_in, rank);
  const bool pads_known = pads.state == InputState::kConstant;
  if (pads_known && pads.values.size() != 2 * axes.size()) {
    fail_shape_inference("Pad: 'pads' has ", pads.values.size(), " values for ", axes.size(), " axes");
  }
  *out = in;  // axes not listed keep their size (and symbolic name)
  for (size_t k = 0; k < axes.size(); ++k) {
    auto* d = out->mutable_dim(static_cast<int>(axes[k]));
    if (!pads_known) {
      d->Clear();
      continue;
    }
    const int64_t begin = pads.values[k];
    const int64_t end = pads.values[k + axes.size()];
    if (begin == 0 && end == 0) continue;
    if (!d->has_dim_value()) {
      d->Clear();
      continue;
    }
    // Checked: pads near int64's limits overflowed the sum (found by the fuzzer under UBSan).
    int64_t size = 0;
    if (__builtin_add_overflow(d->dim_value(), begin, &size) || __builtin_add_overflow(size, end, &size))
      fail_shape_inference("Pad: axis ", axes[k], " of size ", d->dim_value(), " padded by ", begin, " and ", end,
                           " would get a size beyond int64");
    if (size < 0) fail_shape_inference("Pad: axis ", axes[k], " would get negative size ", size);
    d->set_dim_value(size);
  }
}

// ---------------------------------------------------------------------------------------------------------
// LpPool-18: attributes `ceil_mode` and `dilations` added. AveragePool-19: `dilations` added.

constexpr char kLpPool[] = "LpPool", kAveragePool[] = "AveragePool";

struct PoolParams {
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string auto_pad;
  bool ceil_mode = false;
};

std::vector<int64_t> ints_attr(InferenceContext& ctx, const char* op, const char* name, size_t size, int64_t fill,
                               int64_t min_value) {
  std::vector<int64_t> v;
  if (!onnx::getRepeatedAttribute(ctx, name, v)) v.assign(size, fill);
  if (v.size() != size) fail_shape_inference(op, ": '", name, "' needs ", size, " values, has ", v.size());
  for (int64_t x : v) {
    if (x < min_value) fail_shape_inference(op, ": '", name, "' values must be >= ", min_value);
  }
  return v;
}

PoolParams read_pool_params(InferenceContext& ctx, const char* op, size_t spatial) {
  if (ctx.getAttribute("kernel_shape") == nullptr) fail_shape_inference(op, ": 'kernel_shape' is required");
  PoolParams p;
  p.kernel = ints_attr(ctx, op, "kernel_shape", spatial, 1, 1);
  p.strides = ints_attr(ctx, op, "strides", spatial, 1, 1);
  p.dilations = ints_attr(ctx, op, "dilations", spatial, 1, 1);
  p.pads = ints_attr(ctx, op, "pads", 2 * spatial, 0, 0);
  p.auto_pad = onnx::getAttribute(ctx, "auto_pad", std::string("NOTSET"));
  if (p.auto_pad != "NOTSET" && p.auto_pad != "SAME_UPPER" && p.auto_pad != "SAME_LOWER" &&
      p.auto_pad != "VALID") {
    fail_shape_inference(op, ": unknown auto_pad '", p.auto_pad, "'");
  }
  if (p.auto_pad != "NOTSET" && std::any_of(p.pads.begin(), p.pads.end(), [](int64_t x) { return x != 0; })) {
    fail_shape_inference(op, ": 'pads' cannot be used together with auto_pad ", p.auto_pad);
  }
  const int64_t ceil_mode = onnx::getAttribute(ctx, "ceil_mode", int64_t{0});
  if (ceil_mode != 0 && ceil_mode != 1) fail_shape_inference(op, ": ceil_mode must be 0 or 1");
  p.ceil_mode = ceil_mode == 1;
  return p;
}

int64_t pooled_size(int64_t in, const PoolParams& p, const char* op, size_t i) {
  const size_t spatial = p.kernel.size();
  const int64_t stride = p.strides[i];
  const int64_t kernel = (p.kernel[i] - 1) * p.dilations[i] + 1;
  if (p.auto_pad == "SAME_UPPER" || p.auto_pad == "SAME_LOWER") return ceil_div(in, stride);
  const bool valid = p.auto_pad == "VALID";
  const int64_t begin = valid ? 0 : p.pads[i];
  const int64_t span = in + begin + (valid ? 0 : p.pads[i + spatial]) - kernel;
  if (span < 0) fail_shape_inference(op, ": the kernel is larger than the padded input (", in, ")");
  if (valid || !p.ceil_mode) return span / stride + 1;
  int64_t out = ceil_div(span, stride) + 1;
  // A window that would start in the end padding is dropped (PyTorch, and ONNX's later pool specs).
  if ((out - 1) * stride >= in + begin) --out;
  return out;
}

// LpPool-18 and AveragePool-19 (whose `dilations` libonnx's older pool inference ignores).
template <const char* kOp>
void infer_pool(InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  if (in.dim_size() < 2) fail_shape_inference(kOp, ": the input needs rank >= 2, has ", in.dim_size());
  const size_t spatial = static_cast<size_t>(in.dim_size()) - 2;
  const PoolParams p = read_pool_params(ctx, kOp, spatial);

  TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
  *out->add_dim() = in.dim(0);  // N
  *out->add_dim() = in.dim(1);  // C
  for (size_t i = 0; i < spatial; ++i) {
    const auto& d = in.dim(static_cast<int>(i + 2));
    auto* o = out->add_dim();
    if (d.has_dim_value()) o->set_dim_value(pooled_size(d.dim_value(), p, kOp, i));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Ops new in opset 18, and the Scatter ops (18 adds reductions "max" and "min").

void infer_bitwise_binary(InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (onnx::hasNInputShapes(ctx, 2)) {
    onnx::bidirectionalBroadcastShapeInference(onnx::getInputShape(ctx, 0), onnx::getInputShape(ctx, 1),
                                               *onnx::getOutputShape(ctx, 0));
  }
}

template <int kOpset>
void infer_group_norm(InferenceContext& ctx) {
  onnx::propagateShapeAndTypeFromFirstInput(ctx);
  const AttributeProto* groups_attr = ctx.getAttribute("num_groups");
  if (groups_attr == nullptr) fail_shape_inference("GroupNormalization: 'num_groups' is required");
  const int64_t groups = groups_attr->i();
  if (groups < 1) fail_shape_inference("GroupNormalization: num_groups must be >= 1, got ", groups);
  if (onnx::hasInputShape(ctx, 0)) {
    const TensorShapeProto& x = onnx::getInputShape(ctx, 0);
    if (x.dim_size() < 2) fail_shape_inference("GroupNormalization: X needs rank >= 2 (N x C x ...)");
    if (x.dim(1).has_dim_value() && x.dim(1).dim_value() % groups != 0) {
      fail_shape_inference("GroupNormalization: ", x.dim(1).dim_value(), " channels do not split into ",
                           groups, " groups");
    }
  }
  // Opset 18 gives scale and bias one value per group, opset 21 one per channel.
  int64_t want = groups;  // -1: not known
  if (kOpset >= kOpset21) {
    want = -1;
    if (onnx::hasInputShape(ctx, 0) && onnx::getInputShape(ctx, 0).dim(1).has_dim_value())
      want = onnx::getInputShape(ctx, 0).dim(1).dim_value();
  }
  for (size_t i : {size_t{1}, size_t{2}}) {
    if (!onnx::hasInputShape(ctx, i)) continue;
    const TensorShapeProto& s = onnx::getInputShape(ctx, i);
    if (s.dim_size() != 1 || (want >= 0 && s.dim(0).has_dim_value() && s.dim(0).dim_value() != want)) {
      if (kOpset >= kOpset21) fail_shape_inference("GroupNormalization-21: scale and bias must have shape (C)");
      fail_shape_inference("GroupNormalization-18: scale and bias must have shape (num_groups) = (", groups, ")");
    }
  }
}

void check_scatter_reduction(InferenceContext& ctx, const char* op) {
  const std::string r = onnx::getAttribute(ctx, "reduction", std::string("none"));
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min") {
    fail_shape_inference(op, ": reduction '", r, "' is not one of none, add, mul, max, min");
  }
}

void infer_scatter_elements(InferenceContext& ctx) {
  check_scatter_reduction(ctx, "ScatterElements");
  onnx::propagateShapeAndTypeFromFirstInput(ctx);
  if (onnx::hasInputShape(ctx, 0)) {
    normalize_axis(onnx::getAttribute(ctx, "axis", int64_t{0}), onnx::getInputShape(ctx, 0).dim_size(),
                   "ScatterElements");
  }
}

void infer_scatter_nd(InferenceContext& ctx) {
  check_scatter_reduction(ctx, "ScatterND");
  onnx::propagateShapeAndTypeFromFirstInput(ctx);
}

// Resize-18: attributes `antialias`, `axes` and `keep_aspect_ratio_policy` added; roi, scales and sizes
// refer to `axes` when given. Shapes: resized axes are known from constant sizes (stretch) or constant scales
// over a known input dimension; the rest keep the input's.
void infer_resize(InferenceContext& ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  const int rank = in.dim_size();
  std::vector<int64_t> axes;
  if (const AttributeProto* a = ctx.getAttribute("axes")) {
    for (int64_t axis : a->ints()) axes.push_back(normalize_axis(axis, rank, "Resize"));
  } else {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
  *out = in;
  for (int64_t axis : axes) out->mutable_dim(static_cast<int>(axis))->Clear();
  const std::string policy = onnx::getAttribute(ctx, "keep_aspect_ratio_policy", std::string("stretch"));
  const IntsInput sizes = read_ints_input(ctx, 3);
  if (sizes.state == InputState::kConstant && !sizes.values.empty()) {
    if (sizes.values.size() != axes.size())
      fail_shape_inference("Resize: 'sizes' has ", sizes.values.size(), " values for ", axes.size(), " axes");
    if (policy == "stretch")
      for (size_t i = 0; i < axes.size(); ++i) out->mutable_dim(static_cast<int>(axes[i]))->set_dim_value(sizes.values[i]);
    return;
  }
  const TensorProto* scales = ctx.getNumInputs() > 2 ? ctx.getInputData(2) : nullptr;
  if (scales == nullptr || scales->data_type() != TensorProto::FLOAT || scales->data_location() == TensorProto::EXTERNAL)
    return;
  const std::vector<float> values = onnx::ParseData<float>(scales);
  if (values.empty()) return;
  if (values.size() != axes.size())
    fail_shape_inference("Resize: 'scales' has ", values.size(), " values for ", axes.size(), " axes");
  for (size_t i = 0; i < axes.size(); ++i) {
    // Scales must be positive (the spec); a huge one made a size past int64 (undefined; found by the fuzzer).
    if (!(values[i] > 0.0f) || !std::isfinite(values[i]))
      fail_shape_inference("Resize: scales must be positive and finite, got ", values[i], " for axis ", axes[i]);
    const auto& d = in.dim(static_cast<int>(axes[i]));
    if (!d.has_dim_value()) continue;
    const double size = std::floor(static_cast<double>(values[i]) * static_cast<double>(d.dim_value()));
    if (size > static_cast<double>(int64_t{1} << 62))
      fail_shape_inference("Resize: scale ", values[i], " on axis ", axes[i], " of size ", d.dim_value(),
                           " gives an output size beyond int64");
    out->mutable_dim(static_cast<int>(axes[i]))->set_dim_value(static_cast<int64_t>(size));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Schemas. Written out rather than copied from libonnx's older ones: libonnx 1.12's OpSchema::Finalize()
// adds to the input/output counts it already holds, so re-finalizing an adjusted copy breaks Verify().

OpSchema reduce_schema(const char* name, std::vector<std::string> types, int since = kOpset18) {
  OpSchema s = new_schema(name, since);
  s.SetDoc("Reduces `data` along `axes` (all axes when absent, unless noop_with_empty_axes).")
      .Attr("keepdims", "Keep reduced dimensions (as size 1) when 1.", AttributeProto::INT, int64_t{1})
      .Attr("noop_with_empty_axes", "With empty or absent axes: 1 means identity, 0 reduce all.",
            AttributeProto::INT, int64_t{0})
      .Input(0, "data", "An input tensor.", "T")
      .Input(1, "axes", "Axes to reduce, in [-r, r-1].", "tensor(int64)", OpSchema::Optional)
      .Output(0, "reduced", "Reduced output tensor.", "T")
      .TypeConstraint("T", std::move(types), "Numeric tensors.")
      .TypeAndShapeInferenceFunction(infer_reduce);
  return s;
}

std::vector<std::string> reduce_max_min_types() {
  auto types = OpSchema::numeric_types_for_math_reduction_with_bfloat();
  types.push_back("tensor(uint8)");
  types.push_back("tensor(int8)");
  return types;
}

OpSchema split_schema() {
  OpSchema s = new_schema("Split", kOpset18);
  s.SetDoc("Splits a tensor along `axis`, by the sizes in `split` or into `num_outputs` parts.")
      .Attr("axis", "Axis to split on, in [-r, r-1].", AttributeProto::INT, int64_t{0})
      .Attr("num_outputs", "Number of equal parts; the last one may be smaller.", AttributeProto::INT,
            /*required=*/false)
      .Input(0, "input", "The tensor to split.", "T")
      .Input(1, "split", "Length of each output.", "tensor(int64)", OpSchema::Optional)
      .Output(0, "outputs", "The parts.", "T", OpSchema::Variadic)
      .TypeConstraint("T", OpSchema::all_tensor_types_with_bfloat(), "All tensor types.")
      .TypeAndShapeInferenceFunction(infer_split);
  return s;
}

OpSchema pad_schema(int since) {
  OpSchema s = new_schema("Pad", since);
  s.SetDoc("Pads (or crops, with negative pads) `data` on `axes` (all axes when absent).")
      .Attr("mode", since >= kOpset19 ? "constant, reflect, edge or wrap." : "constant, reflect or edge.",
            AttributeProto::STRING, std::string("constant"))
      .Input(0, "data", "Input tensor.", "T")
      .Input(1, "pads", "[begin..., end...] for each padded axis.", "tensor(int64)")
      .Input(2, "constant_value", "Scalar used in constant mode.", "T", OpSchema::Optional)
      .Input(3, "axes", "Axes that `pads` apply to, in [-r, r-1].", "Tind", OpSchema::Optional)
      .Output(0, "output", "Tensor after padding.", "T")
      .TypeConstraint("T", OpSchema::all_tensor_types_with_bfloat(), "All tensor types.")
      .TypeConstraint("Tind", {"tensor(int32)", "tensor(int64)"}, "Integer axes.")
      .TypeAndShapeInferenceFunction(since >= kOpset19 ? infer_pad<kOpset19> : infer_pad<kOpset18>);
  return s;
}

OpSchema lp_pool_schema() {
  OpSchema s = new_schema("LpPool", kOpset18);
  s.SetDoc("Lp pooling over the spatial axes of an N x C x D1 x ... tensor.")
      .Attr("auto_pad", "NOTSET, SAME_UPPER, SAME_LOWER or VALID.", AttributeProto::STRING,
            std::string("NOTSET"))
      .Attr("ceil_mode", "1: ceil instead of floor for the output shape.", AttributeProto::INT, int64_t{0})
      .Attr("dilations", "Dilation along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Attr("kernel_shape", "Kernel size along each spatial axis.", AttributeProto::INTS)
      .Attr("p", "p of the Lp norm.", AttributeProto::INT, int64_t{2})
      .Attr("pads", "[begin..., end...] along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Attr("strides", "Stride along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Pooled tensor.", "T")
      .TypeConstraint("T", {"tensor(float16)", "tensor(float)", "tensor(double)"}, "Float tensors.")
      .TypeAndShapeInferenceFunction(infer_pool<kLpPool>);
  return s;
}

std::vector<std::string> integer_types() {
  return {"tensor(uint8)", "tensor(uint16)", "tensor(uint32)", "tensor(uint64)",
          "tensor(int8)",  "tensor(int16)",  "tensor(int32)",  "tensor(int64)"};
}

OpSchema bitwise_binary_schema(const char* name) {
  OpSchema s = new_schema(name, kOpset18);
  s.SetDoc("Elementwise bitwise operation with Numpy-style broadcasting.")
      .Input(0, "A", "First operand.", "T")
      .Input(1, "B", "Second operand.", "T")
      .Output(0, "C", "Result.", "T")
      .TypeConstraint("T", integer_types(), "Integer tensors.")
      .TypeAndShapeInferenceFunction(infer_bitwise_binary);
  return s;
}

OpSchema bitwise_not_schema() {
  OpSchema s = new_schema("BitwiseNot", kOpset18);
  s.SetDoc("Elementwise bitwise not.")
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Output tensor.", "T")
      .TypeConstraint("T", integer_types(), "Integer tensors.")
      .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
  return s;
}

OpSchema mish_schema() {
  OpSchema s = new_schema("Mish", kOpset18);
  s.SetDoc("mish(x) = x * tanh(softplus(x)), elementwise.")
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Output tensor.", "T")
      .TypeConstraint("T", {"tensor(float16)", "tensor(float)", "tensor(double)"}, "Float tensors.")
      .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
  return s;
}

OpSchema group_norm_schema(int since) {
  OpSchema s = new_schema("GroupNormalization", since);
  s.SetDoc(since >= kOpset21 ? "Group normalization; scale and bias hold one value per channel (opset 21)."
                             : "Group normalization; scale and bias hold one value per group (opset 18).")
      .Attr("epsilon", "Added to the variance.", AttributeProto::FLOAT, 1e-5f)
      .Attr("num_groups", "Number of channel groups; divides C.", AttributeProto::INT)
      .Input(0, "X", "N x C x D1 x ... input.", "T")
      .Input(1, "scale", since >= kOpset21 ? "Shape (C)." : "Shape (num_groups).", "T")
      .Input(2, "bias", since >= kOpset21 ? "Shape (C)." : "Shape (num_groups).", "T")
      .Output(0, "Y", "Same shape as X.", "T")
      .TypeConstraint("T", float_tensor_types(),
                      "Float tensors.")
      .TypeAndShapeInferenceFunction(since >= kOpset21 ? infer_group_norm<kOpset21> : infer_group_norm<kOpset18>);
  if (since >= kOpset21)
    s.Attr("stash_type", "The precision of the statistics (a TensorProto type).", AttributeProto::INT, int64_t{1});
  return s;
}

OpSchema scatter_elements_schema() {
  OpSchema s = new_schema("ScatterElements", kOpset18);
  s.SetDoc("Copy of `data` with `updates` written at `indices` along `axis`.")
      .Attr("axis", "Axis to scatter on, in [-r, r-1].", AttributeProto::INT, int64_t{0})
      .Attr("reduction", "none, add, mul, max or min.", AttributeProto::STRING, std::string("none"))
      .Input(0, "data", "Tensor of rank r >= 1.", "T")
      .Input(1, "indices", "Indices, same rank as data.", "Tind")
      .Input(2, "updates", "Same shape as indices.", "T")
      .Output(0, "output", "Same shape as data.", "T")
      .TypeConstraint("T", OpSchema::all_tensor_types_with_bfloat(), "All tensor types.")
      .TypeConstraint("Tind", {"tensor(int32)", "tensor(int64)"}, "Integer indices.")
      .TypeAndShapeInferenceFunction(infer_scatter_elements);
  return s;
}

OpSchema scatter_nd_schema() {
  OpSchema s = new_schema("ScatterND", kOpset18);
  s.SetDoc("Copy of `data` with slices replaced by `updates` at the index tuples in `indices`.")
      .Attr("reduction", "none, add, mul, max or min.", AttributeProto::STRING, std::string("none"))
      .Input(0, "data", "Tensor of rank r >= 1.", "T")
      .Input(1, "indices", "Tensor of rank q >= 1.", "tensor(int64)")
      .Input(2, "updates", "Tensor of rank q + r - indices.shape[-1] - 1.", "T")
      .Output(0, "output", "Same shape as data.", "T")
      .TypeConstraint("T", OpSchema::all_tensor_types_with_bfloat(), "All tensor types.")
      .TypeAndShapeInferenceFunction(infer_scatter_nd);
  return s;
}

OpSchema resize_schema(int since) {
  OpSchema s = new_schema("Resize", since);
  s.SetDoc("Resizes X by nearest, linear or cubic interpolation to `sizes` or by `scales` (over `axes`).")
      .Attr("antialias", "1: linear and cubic use an antialiasing filter when downscaling.", AttributeProto::INT,
            int64_t{0})
      .Attr("axes", "The axes roi, scales and sizes refer to (default: all).", AttributeProto::INTS, false)
      .Attr("coordinate_transformation_mode", "How output coordinates map to input coordinates.",
            AttributeProto::STRING, std::string("half_pixel"))
      .Attr("cubic_coeff_a", "The cubic kernel's coefficient a.", AttributeProto::FLOAT, -0.75f)
      .Attr("exclude_outside", "1: weights of samples outside the input are 0 (the rest renormalised).",
            AttributeProto::INT, int64_t{0})
      .Attr("extrapolation_value", "tf_crop_and_resize's value outside the input.", AttributeProto::FLOAT, 0.0f)
      .Attr("keep_aspect_ratio_policy", "stretch, not_larger or not_smaller (with sizes).", AttributeProto::STRING,
            std::string("stretch"))
      .Attr("mode", "nearest, linear or cubic.", AttributeProto::STRING, std::string("nearest"))
      .Attr("nearest_mode", "round_prefer_floor, round_prefer_ceil, floor or ceil.", AttributeProto::STRING,
            std::string("round_prefer_floor"))
      .Input(0, "X", "N-D tensor.", "T1")
      .Input(1, "roi", "Starts then ends, for tf_crop_and_resize.", "T2", OpSchema::Optional)
      .Input(2, "scales", "One scale per axis.", "tensor(float)", OpSchema::Optional)
      .Input(3, "sizes", "One output size per axis.", "tensor(int64)", OpSchema::Optional)
      .Output(0, "Y", "The resized tensor.", "T1")
      .TypeConstraint("T1", OpSchema::all_tensor_types_with_bfloat(), "All tensor types.")
      .TypeConstraint("T2", {"tensor(float16)", "tensor(float)", "tensor(double)"}, "roi's type.")
      .TypeAndShapeInferenceFunction(infer_resize);
  return s;
}

// OptionalHasElement-18 / OptionalGetElement-18: the input may also be a plain tensor or sequence (always
// holding a value), and HasElement's input may be left out (holding none).
std::vector<std::string> optional_or_plain_types() {
  std::vector<std::string> t = OpSchema::all_optional_types_with_bfloat();
  for (const auto* more : {&OpSchema::all_tensor_types_with_bfloat(), &OpSchema::all_tensor_sequence_types_with_bfloat()})
    t.insert(t.end(), more->begin(), more->end());
  return t;
}

OpSchema optional_has_element_schema() {
  OpSchema s = new_schema("OptionalHasElement", kOpset18);
  s.SetDoc("True when the input holds a value (a tensor or sequence always does; a missing input never).")
      .Input(0, "input", "An optional, tensor or sequence.", "O", OpSchema::Optional)
      .Output(0, "output", "A scalar bool.", "B")
      .TypeConstraint("O", optional_or_plain_types(), "Optionals, tensors and sequences.")
      .TypeConstraint("B", {"tensor(bool)"}, "bool")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        auto* t = ctx.getOutputType(0)->mutable_tensor_type();
        t->set_elem_type(TensorProto::BOOL);
        t->mutable_shape();  // a scalar
      });
  return s;
}

OpSchema optional_get_element_schema() {
  OpSchema s = new_schema("OptionalGetElement", kOpset18);
  s.SetDoc("The value an optional holds (an error when it holds none); a tensor or sequence passes through.")
      .Input(0, "input", "An optional, tensor or sequence.", "O")
      .Output(0, "output", "The value.", "V")
      .TypeConstraint("O", optional_or_plain_types(), "Optionals, tensors and sequences.")
      .TypeConstraint("V", [] {
        std::vector<std::string> v = OpSchema::all_tensor_types_with_bfloat();
        const auto& seq = OpSchema::all_tensor_sequence_types_with_bfloat();
        v.insert(v.end(), seq.begin(), seq.end());
        return v;
      }(), "Tensors and sequences.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        const onnx::TypeProto* in = ctx.getInputType(0);
        if (!in) return;
        const onnx::TypeProto& value = in->has_optional_type() ? in->optional_type().elem_type() : *in;
        if (value.value_case() != onnx::TypeProto::VALUE_NOT_SET) ctx.getOutputType(0)->CopyFrom(value);
      });
  return s;
}

std::vector<OpSchema> opset18_schemas() {
  const auto reduce_types = OpSchema::numeric_types_for_math_reduction_with_bfloat();
  std::vector<OpSchema> v;
  for (const char* name : {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMean",
                           "ReduceProd", "ReduceSumSquare"}) {
    v.push_back(reduce_schema(name, reduce_types));
  }
  v.push_back(reduce_schema("ReduceMax", reduce_max_min_types()));
  v.push_back(reduce_schema("ReduceMin", reduce_max_min_types()));
  v.push_back(split_schema());
  v.push_back(pad_schema(kOpset18));
  v.push_back(lp_pool_schema());
  for (const char* name : {"BitwiseAnd", "BitwiseOr", "BitwiseXor"}) v.push_back(bitwise_binary_schema(name));
  v.push_back(bitwise_not_schema());
  v.push_back(mish_schema());
  v.push_back(group_norm_schema(kOpset18));
  v.push_back(scatter_elements_schema());
  v.push_back(scatter_nd_schema());
  v.push_back(resize_schema(kOpset18));
  v.push_back(optional_has_element_schema());
  v.push_back(optional_get_element_schema());
  for (auto& s : v) s.Finalize();
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Opset 19

OpSchema average_pool_schema() {
  OpSchema s = new_schema("AveragePool", kOpset19);
  s.SetDoc("Average pooling over the spatial axes of an N x C x D1 x ... tensor; dilations since opset 19.")
      .Attr("auto_pad", "NOTSET, SAME_UPPER, SAME_LOWER or VALID.", AttributeProto::STRING,
            std::string("NOTSET"))
      .Attr("ceil_mode", "1: ceil instead of floor for the output shape.", AttributeProto::INT, int64_t{0})
      .Attr("count_include_pad", "1: padded positions count in the divisor.", AttributeProto::INT, int64_t{0})
      .Attr("dilations", "Dilation along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Attr("kernel_shape", "Kernel size along each spatial axis.", AttributeProto::INTS)
      .Attr("pads", "[begin..., end...] along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Attr("strides", "Stride along each spatial axis.", AttributeProto::INTS, /*required=*/false)
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Pooled tensor.", "T")
      .TypeConstraint("T", {"tensor(float16)", "tensor(float)", "tensor(double)"}, "Float tensors.")
      .TypeAndShapeInferenceFunction(infer_pool<kAveragePool>);
  return s;
}

// Equal-19: strings compare too.
OpSchema equal_schema() {
  OpSchema s = new_schema("Equal", kOpset19);
  s.SetDoc("Elementwise A == B with Numpy-style broadcasting.")
      .Input(0, "A", "First operand.", "T")
      .Input(1, "B", "Second operand.", "T")
      .Output(0, "C", "Result.", "T1")
      .TypeConstraint("T", [] {
        std::vector<std::string> t = integer_types();
        for (const char* more : {"tensor(bool)", "tensor(float16)", "tensor(float)", "tensor(double)",
                                 "tensor(bfloat16)", "tensor(string)"})
          t.push_back(more);
        return t;
      }(), "Comparable tensors.")
      .TypeConstraint("T1", {"tensor(bool)"}, "bool")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        ctx.getOutputType(0)->mutable_tensor_type()->set_elem_type(TensorProto::BOOL);
        if (onnx::hasNInputShapes(ctx, 2))
          onnx::bidirectionalBroadcastShapeInference(onnx::getInputShape(ctx, 0), onnx::getInputShape(ctx, 1),
                                                     *onnx::getOutputShape(ctx, 0));
      });
  return s;
}

// QuantizeLinear-19: x and y_scale may also be float16 or bfloat16 (one type, T1); y_zero_point's type
// (float8 too, which tandem refuses at import) is y's, uint8 when it is absent; `saturate` for float8.
// QuantizeLinear-21 adds 16-bit y (and 4-bit, refused), blocked quantization (`block_size`) and
// `output_dtype`, y's type when there is no zero point. QuantizeLinear-23 gives y_scale a type of its own
// (T2), which is the division's precision unless `precision` names another; 24 and 25 only add types
// tandem refuses (float8e8m0 scales, 2-bit y).
OpSchema quantize_linear_schema(int since) {
  const bool v21 = since >= kOpset21, v23 = since >= kOpset23;
  const std::vector<std::string> float_side = {"tensor(float)", "tensor(float16)", "tensor(bfloat16)",
                                               "tensor(int32)"};
  OpSchema s = new_schema("QuantizeLinear", since);
  s.SetDoc("y = saturate(round(x / y_scale) + y_zero_point), per tensor, per index along `axis` or per block.")
      .Attr("axis", "The axis of a 1-D (or blocked) y_scale.", AttributeProto::INT, int64_t{1})
      .Attr("saturate", "For float8 targets only (which tandem does not have): clamp to the type's range.",
            AttributeProto::INT, int64_t{1})
      .Input(0, "x", "The tensor to quantize.", "T1")
      .Input(1, "y_scale", "Scalar (per tensor), 1-D (per axis) or x's rank (blocked).", v23 ? "T2" : "T1")
      .Input(2, "y_zero_point", "As y_scale; its type is y's.", v23 ? "T3" : "T2", OpSchema::Optional)
      .Output(0, "y", "The quantized tensor, x's shape.", v23 ? "T3" : "T2")
      .TypeConstraint("T1", float_side, v23 ? "x's type." : "The float side.")
      .TypeConstraint(v23 ? "T3" : "T2",
                      v21 ? std::vector<std::string>{"tensor(int8)", "tensor(uint8)", "tensor(int16)", "tensor(uint16)"}
                          : std::vector<std::string>{"tensor(int8)", "tensor(uint8)"},
                      "The quantized side.")
      .TypeAndShapeInferenceFunction([since](InferenceContext& ctx) {
        const int64_t output_dtype = onnx::getAttribute(ctx, "output_dtype", int64_t{0});
        if (ctx.getNumInputs() > 2 && ctx.getInputType(2) != nullptr) {
          // Both given, they must agree (ONNX's own inference refuses the model, as the kernel would).
          const int32_t zp_type = ctx.getInputType(2)->tensor_type().elem_type();
          if (output_dtype != 0 && zp_type != TensorProto::UNDEFINED && output_dtype != zp_type)
            fail_type_inference("QuantizeLinear-", since, ": output_dtype ",
                                TensorProto::DataType_Name(static_cast<TensorProto::DataType>(output_dtype)),
                                " does not match y_zero_point's type ",
                                TensorProto::DataType_Name(static_cast<TensorProto::DataType>(zp_type)));
          onnx::propagateElemTypeFromInputToOutput(ctx, 2, 0);
        } else
          onnx::updateOutputElemType(ctx, 0, output_dtype != 0 ? static_cast<int32_t>(output_dtype) : TensorProto::UINT8);
        if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
      });
  if (v21) {
    s.Attr("block_size", "> 0: blocked quantization, this many indices along `axis` per scale.", AttributeProto::INT,
           int64_t{0});
    s.Attr("output_dtype", "y's type when y_zero_point is absent (0: uint8).", AttributeProto::INT, int64_t{0});
  }
  if (v23) {
    s.TypeConstraint("T2", float_side, "y_scale's type.");
    s.Attr("precision", "The type x / y_scale is computed in (0: y_scale's).", AttributeProto::INT, int64_t{0});
  }
  return s;
}

// DequantizeLinear-19: x_scale, and so y, may also be float16 or bfloat16 (T2). DequantizeLinear-21 adds
// 16-bit x (and 4-bit, refused) and blocked quantization. DequantizeLinear-23 adds `output_dtype` (T3), y's
// type where it is not the scale's; 24 and 25 only add types tandem refuses.
OpSchema dequantize_linear_schema(int since) {
  const bool v21 = since >= kOpset21, v23 = since >= kOpset23;
  const std::vector<std::string> float_side = {"tensor(float)", "tensor(float16)", "tensor(bfloat16)"};
  OpSchema s = new_schema("DequantizeLinear", since);
  s.SetDoc("y = (x - x_zero_point) * x_scale, per tensor, per index along `axis` or per block.")
      .Attr("axis", "The axis of a 1-D (or blocked) x_scale.", AttributeProto::INT, int64_t{1})
      .Input(0, "x", "The quantized tensor.", "T1")
      .Input(1, "x_scale", "Scalar (per tensor), 1-D (per axis) or x's rank (blocked).", "T2")
      .Input(2, "x_zero_point", "As x_scale, of x's type (0 for int32).", "T1", OpSchema::Optional)
      .Output(0, "y", v23 ? "The dequantized tensor, x's shape, of type output_dtype or else x_scale's."
                          : "The dequantized tensor, x's shape, of x_scale's type.",
              v23 ? "T3" : "T2")
      .TypeConstraint("T1",
                      v21 ? std::vector<std::string>{"tensor(int8)", "tensor(uint8)", "tensor(int16)", "tensor(uint16)",
                                                     "tensor(int32)"}
                          : std::vector<std::string>{"tensor(int8)", "tensor(uint8)", "tensor(int32)"},
                      "The quantized side.")
      .TypeConstraint("T2", float_side, "The float side.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        const int64_t output_dtype = onnx::getAttribute(ctx, "output_dtype", int64_t{0});
        if (output_dtype != 0)
          onnx::updateOutputElemType(ctx, 0, static_cast<int32_t>(output_dtype));
        else
          onnx::propagateElemTypeFromInputToOutput(ctx, 1, 0);
        if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
      });
  if (v21)
    s.Attr("block_size", "> 0: blocked quantization, this many indices along `axis` per scale.", AttributeProto::INT,
           int64_t{0});
  if (v23) {
    s.TypeConstraint("T3", float_side, "y's type.");
    s.Attr("output_dtype", "y's type (0: x_scale's).", AttributeProto::INT, int64_t{0});
  }
  return s;
}

// QLinearMatMul-21: the scales may also be float16 or bfloat16 (TS); libonnx's inference of QLinearMatMul-10.
OpSchema qlinear_matmul_schema(const OpSchema& older) {
  OpSchema s = new_schema("QLinearMatMul", kOpset21);
  s.SetDoc("Quantized matrix product: y = quantize(dequantize(a) x dequantize(b)), numpy's matmul shapes.")
      .Input(0, "a", "First operand.", "T1")
      .Input(1, "a_scale", "Scalar or per row.", "TS")
      .Input(2, "a_zero_point", "As a_scale.", "T1")
      .Input(3, "b", "Second operand.", "T2")
      .Input(4, "b_scale", "Scalar or per column.", "TS")
      .Input(5, "b_zero_point", "As b_scale.", "T2")
      .Input(6, "y_scale", "Scalar or per row.", "TS")
      .Input(7, "y_zero_point", "As y_scale.", "T3")
      .Output(0, "y", "The quantized product.", "T3")
      .TypeConstraint("TS", {"tensor(float)", "tensor(float16)", "tensor(bfloat16)"}, "Scales.")
      .TypeConstraint("T1", {"tensor(int8)", "tensor(uint8)"}, "a's type.")
      .TypeConstraint("T2", {"tensor(int8)", "tensor(uint8)"}, "b's type.")
      .TypeConstraint("T3", {"tensor(int8)", "tensor(uint8)"}, "y's type.")
      .TypeAndShapeInferenceFunction(older.GetTypeAndShapeInferenceFunction());
  return s;
}

std::vector<OpSchema> opset19_new_schemas() {
  std::vector<OpSchema> v;
  v.push_back(average_pool_schema());
  v.push_back(equal_schema());
  v.push_back(quantize_linear_schema(kOpset19));
  v.push_back(dequantize_linear_schema(kOpset19));
  v.push_back(pad_schema(kOpset19));
  v.push_back(resize_schema(kOpset19));  // adds coordinate_transformation_mode half_pixel_symmetric
  for (auto& s : v) s.Finalize();
  return v;
}

// Ops whose opset-19 change is only the float8 types (and `saturate`, which only a float8 cast reads):
// their older schema, as it is, at since-version 19 (same_at). Copies are not re-finalized (above).
constexpr std::array<std::string_view, 10> kSameAt19 = {"Cast", "CastLike", "Constant", "Identity", "If",
                                                        "Loop", "Reshape", "Scan", "Shape", "Size"};
OpSchema same_at(const OpSchema& older, int since) {
  OpSchema s = older;
  s.SinceVersion(since);
  if (s.Name() == "Cast" || s.Name() == "CastLike") {
    s.Attr("saturate", "For float8 targets only (which tandem does not have): clamp to the type's range.",
           AttributeProto::INT, int64_t{1});
    if (since >= kOpset24)
      s.Attr("round_mode", "For float8e8m0 targets only (which tandem does not have): up, down or nearest.",
             AttributeProto::STRING, std::string("up"));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Opset 20

// Gelu-20: new; approximate "none" (erf) or "tanh".
OpSchema gelu_schema() {
  OpSchema s = new_schema("Gelu", kOpset20);
  s.SetDoc("gelu(x) = x * Phi(x), exactly (approximate 'none') or by the tanh formula ('tanh'), elementwise.")
      .Attr("approximate", "none or tanh.", AttributeProto::STRING, std::string("none"))
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Output tensor.", "T")
      .TypeConstraint("T", float_tensor_types(),
                      "Float tensors.")
      .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
  return s;
}

// Swish-24: new; x * sigmoid(alpha * x).
OpSchema swish_schema() {
  OpSchema s = new_schema("Swish", kOpset24);
  s.SetDoc("swish(x) = x * sigmoid(alpha * x), elementwise.")
      .Attr("alpha", "Multiplies x inside the sigmoid.", AttributeProto::FLOAT, 1.0f)
      .Input(0, "X", "Input tensor.", "T")
      .Output(0, "Y", "Output tensor.", "T")
      .TypeConstraint("T", float_tensor_types(),
                      "Float tensors.")
      .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
  return s;
}

// DFT-20: `axis` is an input (default -2, where the attribute's default was 1), dft_length an input as
// before. Output: the input's shape with the axis dft_length long (onesided: dft_length / 2 + 1) and a last
// dimension of 2 (complex).
void infer_dft20(InferenceContext& ctx) {
  // As DFT-17's inference (libonnx's) and ONNX's DFT-20 one as released with opset 20: an inverse transform
  // has no one-sided form. (The kernel would otherwise return the first half of the inverse transform, which
  // is no spectrum ONNX defines.)
  if (onnx::getAttribute(ctx, "onesided", int64_t{0}) == 1 && onnx::getAttribute(ctx, "inverse", int64_t{0}) == 1)
    fail_shape_inference("DFT: onesided and inverse cannot both be 1");
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
  const int rank = in.dim_size();
  if (rank < 2) fail_shape_inference("DFT: the input needs rank >= 2, has ", rank);
  const bool onesided = onnx::getAttribute(ctx, "onesided", int64_t{0}) == 1;
  // As ONNX's own DFT-20 inference: a complex signal's spectrum has no symmetry to drop half of.
  if (onesided && in.dim(rank - 1).has_dim_value() && in.dim(rank - 1).dim_value() == 2)
    fail_shape_inference("DFT: onesided needs a real input ([..., 1]), got a complex one ([..., 2])");
  TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
  for (int i = 0; i < rank; ++i) out->add_dim();
  out->mutable_dim(rank - 1)->set_dim_value(2);
  int64_t axis = -2;
  if (ctx.getNumInputs() > 2 && ctx.getInputType(2) != nullptr) {
    const auto a = constant_ints(ctx, 2);
    if (!a) return;  // computed at run time: which dimension changes is not known
    if (a->size() != 1) fail_shape_inference("DFT: axis must be one value, has ", a->size());
    axis = (*a)[0];
  }
  if (axis < -rank || axis > rank - 2 || axis == -1)
    fail_shape_inference("DFT: axis ", axis, " is outside [", -rank, ", -2] and [0, ", rank - 2, "]");
  if (axis < 0) axis += rank;
  for (int i = 0; i < rank - 1; ++i)
    if (i != axis) *out->mutable_dim(i) = in.dim(i);
  std::optional<int64_t> length;
  if (in.dim(static_cast<int>(axis)).has_dim_value()) length = in.dim(static_cast<int>(axis)).dim_value();
  if (ctx.getNumInputs() > 1 && ctx.getInputType(1) != nullptr) {
    const auto l = constant_ints(ctx, 1);
    length = l && l->size() == 1 ? std::optional<int64_t>((*l)[0]) : std::nullopt;
    if (length && *length < 1) fail_shape_inference("DFT: dft_length must be >= 1, got ", *length);
  }
  if (!length) return;
  out->mutable_dim(static_cast<int>(axis))->set_dim_value(onesided ? *length / 2 + 1 : *length);
}

OpSchema dft_schema() {
  OpSchema s = new_schema("DFT", kOpset20);
  s.SetDoc("Discrete Fourier transform of a real ([..., 1]) or complex ([..., 2]) signal along `axis`.")
      .Attr("inverse", "1: the inverse transform.", AttributeProto::INT, int64_t{0})
      .Attr("onesided", "1: only the first dft_length / 2 + 1 bins.", AttributeProto::INT, int64_t{0})
      .Input(0, "input", "The signal, [..., 1] or [..., 2].", "T1")
      .Input(1, "dft_length", "Length of the transform (zero-padded or truncated).", "T2", OpSchema::Optional)
      .Input(2, "axis", "The axis (scalar), in [-r, -2] or [0, r - 2]; default -2.", "tensor(int64)",
             OpSchema::Optional)
      .Output(0, "output", "The complex spectrum, [..., 2].", "T1")
      .TypeConstraint("T1", float_tensor_types(),
                      "Float tensors.")
      .TypeConstraint("T2", {"tensor(int32)", "tensor(int64)"}, "Integer length.")
      .TypeAndShapeInferenceFunction(infer_dft20);
  return s;
}

// AffineGrid-20: new. theta [N, 2, 3] and size [N, C, H, W] give a grid [N, H, W, 2]; theta [N, 3, 4] and
// size [N, C, D, H, W] a grid [N, D, H, W, 3].
OpSchema affine_grid_schema() {
  OpSchema s = new_schema("AffineGrid", kOpset20);
  s.SetDoc("The sampling grid of a batch of affine transforms, for GridSample.")
      .Attr("align_corners", "1: -1 and 1 are the centres of the end pixels, else their outer edges.",
            AttributeProto::INT, int64_t{0})
      .Input(0, "theta", "[N, 2, 3] or [N, 3, 4] affine matrices.", "T1")
      .Input(1, "size", "[N, C, H, W] or [N, C, D, H, W].", "T2")
      .Output(0, "grid", "[N, H, W, 2] or [N, D, H, W, 3].", "T1")
      .TypeConstraint("T1", float_tensor_types(),
                      "Float tensors.")
      .TypeConstraint("T2", {"tensor(int64)"}, "int64")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        const auto size = constant_ints(ctx, 1);
        if (!size) return;
        if (size->size() != 4 && size->size() != 5)
          fail_shape_inference("AffineGrid: size must have 4 or 5 values, has ", size->size());
        TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
        out->add_dim()->set_dim_value((*size)[0]);
        for (std::size_t i = 2; i < size->size(); ++i) out->add_dim()->set_dim_value((*size)[i]);
        out->add_dim()->set_dim_value(static_cast<int64_t>(size->size()) - 2);
      });
  return s;
}

OpSchema string_concat_schema() {
  OpSchema s = new_schema("StringConcat", kOpset20);
  s.SetDoc("Elementwise X + Y of strings, with Numpy-style broadcasting.")
      .Input(0, "X", "Strings.", "T")
      .Input(1, "Y", "Strings.", "T")
      .Output(0, "Z", "Concatenations.", "T")
      .TypeConstraint("T", {"tensor(string)"}, "Strings.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (onnx::hasNInputShapes(ctx, 2))
          onnx::bidirectionalBroadcastShapeInference(onnx::getInputShape(ctx, 0), onnx::getInputShape(ctx, 1),
                                                     *onnx::getOutputShape(ctx, 0));
      });
  return s;
}

// StringSplit-20: new. Y holds each string's parts along a new last axis (as long as the most parts, the
// rest ""), Z how many parts each has.
OpSchema string_split_schema() {
  OpSchema s = new_schema("StringSplit", kOpset20);
  s.SetDoc("Splits each string at `delimiter` (at runs of whitespace when it is absent or empty).")
      .Attr("delimiter", "The separator; absent or empty: runs of whitespace.", AttributeProto::STRING, false)
      .Attr("maxsplit", "At most this many splits (the rest stays in the last part).", AttributeProto::INT, false)
      .Input(0, "X", "Strings.", "T1")
      .Output(0, "Y", "The parts, X's shape plus one axis.", "T2")
      .Output(1, "Z", "How many parts each string has, X's shape.", "T3")
      .TypeConstraint("T1", {"tensor(string)"}, "Strings.")
      .TypeConstraint("T2", {"tensor(string)"}, "Strings.")
      .TypeConstraint("T3", {"tensor(int64)"}, "int64")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        ctx.getOutputType(1)->mutable_tensor_type()->set_elem_type(TensorProto::INT64);
        if (!onnx::hasInputShape(ctx, 0)) return;
        const TensorShapeProto& in = onnx::getInputShape(ctx, 0);
        *onnx::getOutputShape(ctx, 1) = in;
        TensorShapeProto* y = onnx::getOutputShape(ctx, 0);
        *y = in;
        y->add_dim();
      });
  return s;
}

// GridSample-20: any number of spatial axes (X [N, C, D1, ...], grid [N, D1_out, ..., k]), modes renamed
// linear, nearest and cubic.
OpSchema grid_sample_schema() {
  OpSchema s = new_schema("GridSample", kOpset20);
  s.SetDoc("Samples X at the grid's normalised coordinates (one per spatial axis, innermost first).")
      .Attr("align_corners", "1: -1 and 1 are the centres of the end pixels, else their outer edges.",
            AttributeProto::INT, int64_t{0})
      .Attr("mode", "linear, nearest or cubic (N-linear, N-cubic over the spatial axes).", AttributeProto::STRING,
            std::string("linear"))
      .Attr("padding_mode", "zeros, border or reflection.", AttributeProto::STRING, std::string("zeros"))
      .Input(0, "X", "[N, C, D1, ..., Dr].", "T1")
      .Input(1, "grid", "[N, D1_out, ..., Dr_out, r].", "T2")
      .Output(0, "Y", "[N, C, D1_out, ..., Dr_out].", "T1")
      .TypeConstraint("T1", OpSchema::all_tensor_types(), "Any tensor.")
      .TypeConstraint("T2", {"tensor(float16)", "tensor(float)", "tensor(double)"}, "Float grid.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (!onnx::hasNInputShapes(ctx, 2)) return;
        const TensorShapeProto& x = onnx::getInputShape(ctx, 0);
        const TensorShapeProto& grid = onnx::getInputShape(ctx, 1);
        if (x.dim_size() < 3) fail_shape_inference("GridSample: X needs rank >= 3, has ", x.dim_size());
        if (grid.dim_size() != x.dim_size())
          fail_shape_inference("GridSample: grid has rank ", grid.dim_size(), ", X rank ", x.dim_size());
        const auto& last = grid.dim(grid.dim_size() - 1);
        if (last.has_dim_value() && last.dim_value() != x.dim_size() - 2)
          fail_shape_inference("GridSample: grid's last dimension is ", last.dim_value(), ", X has ",
                               x.dim_size() - 2, " spatial axes");
        TensorShapeProto* out = onnx::getOutputShape(ctx, 0);
        *out->add_dim() = x.dim(0);
        *out->add_dim() = x.dim(1);
        for (int i = 1; i < grid.dim_size() - 1; ++i) *out->add_dim() = grid.dim(i);
      });
  return s;
}

std::vector<std::string> reduce_max_min_types_20() {
  auto types = reduce_max_min_types();
  types.push_back("tensor(bool)");
  return types;
}

std::vector<OpSchema> opset20_new_schemas() {
  std::vector<OpSchema> v;
  v.push_back(gelu_schema());
  v.push_back(dft_schema());
  v.push_back(affine_grid_schema());
  v.push_back(string_concat_schema());
  v.push_back(string_split_schema());
  v.push_back(grid_sample_schema());
  v.push_back(reduce_schema("ReduceMax", reduce_max_min_types_20(), kOpset20));  // bool added
  v.push_back(reduce_schema("ReduceMin", reduce_max_min_types_20(), kOpset20));
  for (auto& s : v) s.Finalize();
  return v;
}

// Changed in 20 only by types tandem does not have (float8): IsNaN.
constexpr std::array<std::string_view, 1> kSameAt20 = {"IsNaN"};

// Changed in 20 by float8 and by types tandem has, so the older schema's type constraints would refuse valid
// models: IsInf-20 takes float16 and bfloat16 (IsInf-10 only float and double), ConstantOfShape-20 a
// bfloat16 `value`. Written out with the new types; ConstantOfShape keeps libonnx's inference, which reads
// the output type from `value` and the shape from the input.
OpSchema is_inf_20_schema() {
  OpSchema s = new_schema("IsInf", kOpset20);
  s.SetDoc("Maps infinity to true and other values to false, elementwise.")
      .Attr("detect_negative", "1: -inf maps to true.", AttributeProto::INT, int64_t{1})
      .Attr("detect_positive", "1: +inf maps to true.", AttributeProto::INT, int64_t{1})
      .Input(0, "X", "Input tensor.", "T1")
      .Output(0, "Y", "Output tensor.", "T2")
      .TypeConstraint("T1", float_tensor_types(),
                      "Float tensors.")
      .TypeConstraint("T2", {"tensor(bool)"}, "bool")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        onnx::updateOutputElemType(ctx, 0, TensorProto::BOOL);
        if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
      });
  s.Finalize();
  return s;
}

OpSchema constant_of_shape_20_schema(const OpSchema& older) {
  OpSchema s = new_schema("ConstantOfShape", kOpset20);
  s.SetDoc("A tensor of the shape `input` filled with `value` (default float32 0).")
      .Attr("value", "One-element tensor: the fill value and the output type.", AttributeProto::TENSOR,
            /*required=*/false)
      .Input(0, "input", "1-D shape of the output.", "T1")
      .Output(0, "output", "The filled tensor.", "T2")
      .TypeConstraint("T1", {"tensor(int64)"}, "int64")
      .TypeConstraint("T2", [] {
        std::vector<std::string> t = integer_types();
        for (const char* more : {"tensor(bool)", "tensor(float16)", "tensor(float)", "tensor(double)",
                                 "tensor(bfloat16)"})
          t.push_back(more);
        return t;
      }(), "Numbers and bool.")
      .TypeAndShapeInferenceFunction(older.GetTypeAndShapeInferenceFunction());
  s.Finalize();
  return s;
}

// Changed in 21 only by the 4-bit types (and float8 for those 19 did not touch), which tandem refuses.
constexpr std::array<std::string_view, 16> kSameAt21 = {
    "Cast",     "CastLike", "Constant", "ConstantOfShape", "Flatten", "Identity", "If",        "Loop",
    "Pad",      "Reshape",  "Scan",     "Shape",           "Size",    "Squeeze",  "Transpose", "Unsqueeze"};

// ---------------------------------------------------------------------------------------------------------
// Opsets 22 to 25

// Changed in 22 only by gaining bfloat16 (kChanges), and in 24 TopK and SplitToSequence the same way.
// DeformConv is among 22's but has no schema in tandem (refused by name).
constexpr std::array<std::string_view, 47> kBFloat16At22 = {
    "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "Bernoulli", "Conv", "ConvTranspose", "Cos",
    "Cosh", "Det", "Dropout", "Elu", "EyeLike", "GRU", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
    "GridSample", "HardSigmoid", "HardSwish", "InstanceNormalization", "LSTM", "LpNormalization", "LpPool",
    "MaxPool", "MaxRoiPool", "MaxUnpool", "Mish", "Multinomial", "NegativeLogLikelihoodLoss", "RNN",
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "RoiAlign", "Round", "Selu", "Sin",
    "Sinh", "Softplus", "Softsign", "Tan", "ThresholdedRelu"};
constexpr std::array<std::string_view, 2> kBFloat16At24 = {"SplitToSequence", "TopK"};

// `older` at since-version `since` with bfloat16 allowed wherever float16 is: rebuilt from its parts, since
// an OpSchema's type constraints cannot be changed in place. Its inference (and data propagation) stay.
OpSchema with_bfloat16(const OpSchema& older, int since) {
  OpSchema s;
  s.SetName(older.Name()).SetDomain(older.domain()).SinceVersion(since).SetLocation(older.file(), older.line());
  s.SetDoc(older.doc() ? older.doc() : "");
  for (const auto& [name, attr] : older.attributes()) s.Attr(attr);
  const auto add_params = [&](const std::vector<OpSchema::FormalParameter>& params, bool input) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      (input ? s.Input(static_cast<int>(i), p.GetName(), p.GetDescription(), p.GetTypeStr(), p.GetOption(),
                       p.GetIsHomogeneous(), p.GetMinArity(), p.GetDifferentiationCategory())
             : s.Output(static_cast<int>(i), p.GetName(), p.GetDescription(), p.GetTypeStr(), p.GetOption(),
                        p.GetIsHomogeneous(), p.GetMinArity(), p.GetDifferentiationCategory()));
    }
  };
  add_params(older.inputs(), true);
  add_params(older.outputs(), false);
  for (const auto& c : older.typeConstraintParams()) {
    std::vector<std::string> types = c.allowed_type_strs;
    const auto has = [&](const char* t) { return std::find(types.begin(), types.end(), t) != types.end(); };
    if (has("tensor(float16)") && !has("tensor(bfloat16)")) types.push_back("tensor(bfloat16)");
    if (has("seq(tensor(float16))") && !has("seq(tensor(bfloat16))")) types.push_back("seq(tensor(bfloat16))");
    s.TypeConstraint(c.type_param_str, types, c.description);
  }
  if (older.has_type_and_shape_inference_function())
    s.TypeAndShapeInferenceFunction(older.GetTypeAndShapeInferenceFunction());
  if (older.has_data_propagation_function()) s.PartialDataPropagationFunction(older.GetDataPropagationFunction());
  s.Finalize();
  return s;
}

// Changed in 23 only by float4e2m1, in 24 by float8e8m0 (and Cast's round_mode for it), in 25 by the 2-bit
// integers: types tandem refuses at import.
constexpr std::array<std::string_view, 16> kSameAt23 = {
    "Cast",     "CastLike", "Constant", "ConstantOfShape", "Flatten", "Identity", "If",        "Loop",
    "Pad",      "Reshape",  "Scan",     "Shape",           "Size",    "Squeeze",  "Transpose", "Unsqueeze"};
constexpr const std::array<std::string_view, 16>& kSameAt24 = kSameAt23;
constexpr const std::array<std::string_view, 16>& kSameAt25 = kSameAt23;

// CumProd-26: new, CumSum-14's inputs, attributes and types with products (the exclusive identity 1).
OpSchema cum_prod_schema() {
  OpSchema s = new_schema("CumProd", kOpset26);
  s.SetDoc("Cumulative product of x along `axis`, inclusive or exclusive, forward or in reverse.")
      .Attr("exclusive", "1: each output leaves out its own element (the first is 1).", AttributeProto::INT,
            int64_t{0})
      .Attr("reverse", "1: from the end of the axis backwards.", AttributeProto::INT, int64_t{0})
      .Input(0, "x", "The input.", "T")
      .Input(1, "axis", "A scalar in [-r, r - 1].", "T2")
      .Output(0, "y", "x's shape and type.", "T")
      .TypeConstraint("T", {"tensor(bfloat16)", "tensor(float16)", "tensor(float)", "tensor(double)", "tensor(int32)",
                            "tensor(int64)", "tensor(uint32)", "tensor(uint64)"},
                      "Numbers.")
      .TypeConstraint("T2", {"tensor(int32)", "tensor(int64)"}, "The axis.")
      .TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
  return s;
}

// BitCast-26: new. The same bits as the type `to` names, of the same width; the shape unchanged.
OpSchema bit_cast_schema() {
  std::vector<std::string> fixed_width;
  for (const char* t : {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                        "bfloat16", "float", "double", "complex64", "complex128"})
    fixed_width.push_back(std::string("tensor(") + t + ")");
  OpSchema s = new_schema("BitCast", kOpset26);
  s.SetDoc("Reinterprets the input's bits as the type `to`, which must have the same width.")
      .Attr("to", "The output's element type (a TensorProto data type).", AttributeProto::INT)
      .Input(0, "input", "Any tensor of fixed-width elements.", "T1")
      .Output(0, "output", "input's bits, of type `to`, input's shape.", "T2")
      .TypeConstraint("T1", fixed_width, "Fixed-width types.")
      .TypeConstraint("T2", fixed_width, "Fixed-width types.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        const int64_t to = onnx::getAttribute(ctx, "to", int64_t{0});
        const auto width = [](int64_t t) -> int {
          switch (t) {
            case TensorProto::BOOL: case TensorProto::INT8: case TensorProto::UINT8: return 8;
            case TensorProto::INT16: case TensorProto::UINT16: case TensorProto::FLOAT16: case TensorProto::BFLOAT16:
              return 16;
            case TensorProto::INT32: case TensorProto::UINT32: case TensorProto::FLOAT: return 32;
            case TensorProto::INT64: case TensorProto::UINT64: case TensorProto::DOUBLE: case TensorProto::COMPLEX64:
              return 64;
            case TensorProto::COMPLEX128: return 128;
            default: return 0;
          }
        };
        if (width(to) == 0) fail_type_inference("BitCast: 'to' ", to, " is not a fixed-width type");
        const onnx::TypeProto* in = ctx.getInputType(0);
        if (in && in->has_tensor_type() && in->tensor_type().elem_type() != TensorProto::UNDEFINED &&
            width(in->tensor_type().elem_type()) != width(to))
          fail_type_inference("BitCast: the input's elements are ", width(in->tensor_type().elem_type()),
                              " bits wide, 'to' names a type of ", width(to));
        onnx::updateOutputElemType(ctx, 0, static_cast<int32_t>(to));
        if (onnx::hasInputShape(ctx, 0)) onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
      });
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// libonnx's own inferences that crash on inputs they do not check (found by the fuzzer), each served from a
// copy of its schema whose inference runs a guard first: the guard refuses the input naming what is wrong,
// or returns false to leave the output's shape unknown, or true to go on to libonnx's inference.

using Guard = bool (*)(InferenceContext&);

// The shape of input i when its rank is known; nullptr otherwise.
const TensorShapeProto* known_shape(InferenceContext& ctx, size_t i) {
  const onnx::TypeProto* t = i < ctx.getNumInputs() ? ctx.getInputType(i) : nullptr;
  return t && t->has_tensor_type() && t->tensor_type().has_shape() ? &t->tensor_type().shape() : nullptr;
}

// MaxUnpool (9 and 11) takes the output's channels from dimension 1 of I unchecked: an I of unknown shape,
// or of rank below 2, beside an X of known shape read past the end of I's dimensions (SIGSEGV). Such an I
// leaves the output's shape unknown (its rank is the kernel's check at run time).
bool guard_max_unpool(InferenceContext& ctx) {
  const TensorShapeProto* indices = known_shape(ctx, 1);
  if (indices && indices->dim_size() < 2) fail_shape_inference("I must have rank 2 or more, got rank ", indices->dim_size());
  if (!indices && onnx::hasInputShape(ctx, 0) && ctx.getNumInputs() == 2) {
    onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
    return false;
  }
  return true;
}

// Conv, ConvInteger, QLinearConv (W is input 3) and ConvTranspose take the kernel's spatial sizes from W,
// when all are known, and index the per-dimension attributes and X's dimensions with them unchecked: a W of
// higher rank than X read past their ends (SIGSEGV for X [1, 1] and W [1, 1, 2]; garbage sizes from
// ConvTranspose's), a W of rank below 2 its own dimension 1 (ConvTranspose). ONNX wants X and W of one rank;
// where W's sizes are not all known, libonnx stops early and the kernel checks the ranks at run time.
template <size_t kW>
bool guard_conv_ranks(InferenceContext& ctx) {
  const TensorShapeProto* x = known_shape(ctx, 0);
  const TensorShapeProto* w = known_shape(ctx, kW);
  if (!x || !w || x->dim_size() == w->dim_size()) return true;
  bool sizes_known = true;
  for (int i = 2; i < w->dim_size(); ++i) sizes_known = sizes_known && w->dim(i).has_dim_value();
  if (sizes_known)
    fail_shape_inference("X has rank ", x->dim_size(), " but W has rank ", w->dim_size(), "; they must be equal");
  return true;
}

// STFT reads the signal's dimensions 0 and 1 unchecked: a signal of rank 0 or 1 crashed (SIGSEGV).
bool guard_stft(InferenceContext& ctx) {
  const TensorShapeProto* signal = known_shape(ctx, 0);
  if (signal && signal->dim_size() < 2)
    fail_shape_inference("signal must be [batch, length, 1 or 2], got rank ", signal->dim_size());
  return true;
}

// Guarded copies of libonnx's schemas, by op type and since-version.
std::map<std::pair<std::string, int>, OpSchema> guarded_schemas() {
  const std::pair<const char*, Guard> guards[] = {
      {"MaxUnpool", guard_max_unpool},          {"Conv", guard_conv_ranks<1>},
      {"ConvInteger", guard_conv_ranks<1>},     {"QLinearConv", guard_conv_ranks<3>},
      {"ConvTranspose", guard_conv_ranks<1>},   {"STFT", guard_stft},
  };
  std::map<std::pair<std::string, int>, OpSchema> out;
  auto* library = onnx::OpSchemaRegistry::Instance();
  for (const auto& [op, guard] : guards)
    for (int version = 1; version <= library_max_default_opset(); ++version) {
      const OpSchema* s = library->GetSchema(op, version, onnx::ONNX_DOMAIN);
      if (!s || out.count({s->Name(), s->SinceVersion()})) continue;
      OpSchema copy = *s;
      copy.TypeAndShapeInferenceFunction(
          [guard = guard, inner = s->GetTypeAndShapeInferenceFunction()](InferenceContext& ctx) {
            if (guard(ctx)) inner(ctx);
          });
      out.emplace(std::pair{s->Name(), s->SinceVersion()}, std::move(copy));
    }
  // Shape's and Size's data propagation read their input's type unchecked. libonnx goes on past a node
  // whose inference failed (it reports every error at the end), leaving that node's outputs untyped, so a
  // Shape of one crashed (SIGSEGV; e.g. DepthToSpace of a 1-D tensor, then Range of its output, then
  // Shape; found by fuzzing constant subgraphs). With no input type there is nothing to propagate.
  for (const char* op : {"Shape", "Size"})
    for (int version = 1; version <= library_max_default_opset(); ++version) {
      const OpSchema* s = library->GetSchema(op, version, onnx::ONNX_DOMAIN);
      if (!s || !s->has_data_propagation_function() || out.count({s->Name(), s->SinceVersion()})) continue;
      OpSchema copy = *s;
      copy.PartialDataPropagationFunction([inner = s->GetDataPropagationFunction()](onnx::DataPropagationContext& ctx) {
        if (ctx.getNumInputs() > 0 && ctx.getInputType(0)) inner(ctx);
      });
      out.emplace(std::pair{s->Name(), s->SinceVersion()}, std::move(copy));
    }
  // MeanVarianceNormalization has no inference of its own in libonnx 1.12, which then infers through its
  // function body, whose float32 epsilon it adds to X: a float64, float16 or bfloat16 X (all of which ONNX
  // gives the op) failed import as "(op_type:Add): B has inconsistent type tensor(float)". Y is X's type and
  // shape, as the spec says.
  for (int version = 1; version <= library_max_default_opset(); ++version) {
    const OpSchema* s = library->GetSchema("MeanVarianceNormalization", version, onnx::ONNX_DOMAIN);
    if (!s || s->has_type_and_shape_inference_function() || out.count({s->Name(), s->SinceVersion()})) continue;
    OpSchema copy = *s;
    copy.TypeAndShapeInferenceFunction(onnx::propagateShapeAndTypeFromFirstInput);
    out.emplace(std::pair{s->Name(), s->SinceVersion()}, std::move(copy));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

OpSchema finalized(OpSchema s) {
  s.Finalize();
  return s;
}

class Registry final : public onnx::ISchemaRegistry {
 public:
  Registry() : guarded_(guarded_schemas()) {
    for (auto& s : opset18_schemas()) add(std::move(s));
    for (auto& s : opset19_new_schemas()) add(std::move(s));
    for (std::string_view op : kSameAt19) add(same_at(*GetSchema(std::string(op), kOpset18, ""), kOpset19));
    for (auto& s : opset20_new_schemas()) add(std::move(s));
    for (std::string_view op : kSameAt20) add(same_at(*GetSchema(std::string(op), kOpset19, ""), kOpset20));
    add(is_inf_20_schema());
    add(constant_of_shape_20_schema(*GetSchema("ConstantOfShape", kOpset19, "")));
    add(finalized(group_norm_schema(kOpset21)));  // 21 builds on 20's schemas, so after them
    add(finalized(quantize_linear_schema(kOpset21)));
    add(finalized(dequantize_linear_schema(kOpset21)));
    add(finalized(qlinear_matmul_schema(*GetSchema("QLinearMatMul", kOpset20, ""))));
    for (std::string_view op : kSameAt21) add(same_at(*GetSchema(std::string(op), kOpset20, ""), kOpset21));
    for (std::string_view op : kBFloat16At22) add(with_bfloat16(*GetSchema(std::string(op), kOpset21, ""), kOpset22));
    for (std::string_view op : kSameAt23) add(same_at(*GetSchema(std::string(op), kOpset22, ""), kOpset23));
    for (int since : {kOpset23, kOpset24, kOpset25}) {
      add(finalized(quantize_linear_schema(since)));
      add(finalized(dequantize_linear_schema(since)));
    }
    for (std::string_view op : kSameAt24) add(same_at(*GetSchema(std::string(op), kOpset23, ""), kOpset24));
    for (std::string_view op : kBFloat16At24) add(with_bfloat16(*GetSchema(std::string(op), kOpset23, ""), kOpset24));
    for (std::string_view op : kSameAt25) add(same_at(*GetSchema(std::string(op), kOpset24, ""), kOpset25));
    add(finalized(cum_prod_schema()));
    add(finalized(bit_cast_schema()));
    add(finalized(attention_schema(kOpset23)));  // onnx_import/attention_schema.cc
    add(finalized(attention_schema(kOpset24)));
    add(finalized(tensor_scatter_schema()));
    // New in 23 (RMSNormalization, RotaryEmbedding) and 24 (Swish).
    add(rms_normalization_schema());
    add(rotary_embedding_schema());
    add(finalized(swish_schema()));
  }

  const OpSchema* GetSchema(const std::string& op_type, const int max_inclusive_version,
                            const std::string& domain) const override {
    auto* library = onnx::OpSchemaRegistry::Instance();
    if (!is_default_domain(domain)) return library->GetSchema(op_type, max_inclusive_version, domain);
    const int library_max = library_max_default_opset();
    int version = max_inclusive_version;
    if (version > library_max) {
      // Changed after libonnx's newest opset: tandem's own schema of that change, or none, since the older
      // one would be wrong.
      if (const int changed = newest_change(op_type, std::min(version, kMaxDefaultOpset), library_max))
        return find_own(op_type, changed);
      version = library_max;
    }
    const OpSchema* s = library->GetSchema(op_type, version, onnx::ONNX_DOMAIN);  // libonnx knows "" by name
    if (s) {
      const auto guarded = guarded_.find({s->Name(), s->SinceVersion()});
      if (guarded != guarded_.end()) return &guarded->second;
    }
    return s;
  }

  // tandem's schema of `op_type` as of opset `since` exactly; nullptr when it has none.
  const OpSchema* find_own(const std::string& op_type, int since) const {
    const auto it = own_.find({op_type, since});
    return it == own_.end() ? nullptr : &it->second;
  }

 private:
  void add(OpSchema s) {
    std::pair<std::string, int> key{s.Name(), s.SinceVersion()};
    own_.emplace(std::move(key), std::move(s));
  }

  std::map<std::pair<std::string, int>, OpSchema> guarded_;
  std::map<std::pair<std::string, int>, OpSchema> own_;
};

const Registry& registry() {
  static const Registry instance;
  return instance;
}

}  // namespace

const onnx::ISchemaRegistry& schema_registry() { return registry(); }

bool is_unknown_newer_version(const std::string& op_type, int opset) {
  const int library_max = library_max_default_opset();
  if (opset <= library_max) return false;
  if (opset > kMaxDefaultOpset) return true;
  const int changed = newest_change(op_type, opset, library_max);
  return changed != 0 && registry().find_own(op_type, changed) == nullptr;
}

int library_max_default_opset() {
  // Read once: the library's table only changes when a custom domain is added.
  static const int max_version =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at(onnx::ONNX_DOMAIN).second;
  return max_version;
}

}  // namespace tandem::onnx_import
