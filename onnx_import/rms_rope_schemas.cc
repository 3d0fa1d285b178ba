#include "onnx_import/rms_rope_schemas.h"

#include <onnx/defs/shape_inference.h>

#include <cstdint>
#include <string>

#include "onnx_import/schema_builder.h"

namespace tandem::onnx_import {
namespace {

using onnx::AttributeProto;
using onnx::InferenceContext;
using onnx::OpSchema;
using onnx::TensorProto;
using onnx::TensorShapeProto;

constexpr int kOpset23 = 23;

bool is_float_type(int64_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::FLOAT16 || t == TensorProto::DOUBLE ||
         t == TensorProto::BFLOAT16;
}

int32_t elem_type(InferenceContext& ctx, size_t i) {
  const onnx::TypeProto* t = i < ctx.getNumInputs() ? ctx.getInputType(i) : nullptr;
  return t != nullptr && t->has_tensor_type() ? t->tensor_type().elem_type() : TensorProto::UNDEFINED;
}

// ---------------------------------------------------------------------------------------------------------
// RMSNormalization-23: Y = X / sqrt(mean(X^2 over axes axis..r-1) + epsilon) * scale, Y shaped as X.

void infer_rms_normalization(InferenceContext& ctx) {
  const int64_t stash = onnx::getAttribute(ctx, "stash_type", int64_t{TensorProto::FLOAT});
  if (!is_float_type(stash))
    fail_shape_inference("RMSNormalization: stash_type must be a floating-point type (1, 10, 11 or 16), got ", stash);
  // The schema gives scale (and Y) a type variable of their own, but the function body multiplies the
  // normalised X, cast back to X's type, by scale: one type (ONNX Runtime refuses two as well).
  const int32_t x_type = elem_type(ctx, 0), scale_type = elem_type(ctx, 1);
  if (x_type != TensorProto::UNDEFINED && scale_type != TensorProto::UNDEFINED && x_type != scale_type)
    fail_type_inference("RMSNormalization: scale has type ", TensorProto::DataType_Name(scale_type), " and X ",
                        TensorProto::DataType_Name(x_type), "; they must be one type");
  onnx::propagateShapeAndTypeFromFirstInput(ctx);
  if (!onnx::hasInputShape(ctx, 0)) return;
  const TensorShapeProto& x = onnx::getInputShape(ctx, 0);
  const int rank = x.dim_size();
  const int64_t axis = onnx::getAttribute(ctx, "axis", int64_t{-1});
  if (axis < -rank || axis >= rank)
    fail_shape_inference("RMSNormalization: axis ", axis, " is out of range for X of rank ", rank);
  if (!onnx::hasInputShape(ctx, 1)) return;
  // scale broadcasts unidirectionally to X: its dimensions, aligned to X's last ones, are X's or 1.
  const TensorShapeProto& scale = onnx::getInputShape(ctx, 1);
  const int scale_rank = scale.dim_size();
  if (scale_rank > rank)
    fail_shape_inference("RMSNormalization: scale has rank ", scale_rank, ", more than X's ", rank,
                         ": it must broadcast to X");
  for (int i = 0; i < scale_rank; ++i) {
    const auto& s = scale.dim(i);
    const auto& d = x.dim(rank - scale_rank + i);
    if (s.has_dim_value() && d.has_dim_value() && s.dim_value() != 1 && s.dim_value() != d.dim_value())
      fail_shape_inference("RMSNormalization: scale's dimension ", i, " is ", s.dim_value(), " where X has ",
                           d.dim_value(), ": scale must broadcast to X (each dimension X's or 1)");
  }
}

// ---------------------------------------------------------------------------------------------------------
// RotaryEmbedding-23. X [batch, num_heads, seq, head_size] or [batch, seq, hidden] with num_heads; caches
// [max_position, rotary_dim / 2] with position_ids [batch, seq], else [batch, seq, rotary_dim / 2].

void infer_rotary_embedding(InferenceContext& ctx) {
  const int64_t interleaved = onnx::getAttribute(ctx, "interleaved", int64_t{0});
  if (interleaved != 0 && interleaved != 1)
    fail_shape_inference("RotaryEmbedding: interleaved must be 0 or 1, got ", interleaved);
  const int64_t rotary_dim = onnx::getAttribute(ctx, "rotary_embedding_dim", int64_t{0});
  if (rotary_dim < 0 || rotary_dim % 2 != 0)
    fail_shape_inference("RotaryEmbedding: rotary_embedding_dim must be 0 (the whole head) or a positive even "
                         "number, got ", rotary_dim);
  const AttributeProto* heads_attr = ctx.getAttribute("num_heads");
  const int64_t num_heads = heads_attr != nullptr ? heads_attr->i() : 0;
  if (num_heads < 0) fail_shape_inference("RotaryEmbedding: num_heads must be positive, got ", num_heads);
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);

  // What X's shape says: -1 where not known.
  int64_t batch = -1, seq = -1, head_size = -1;
  const auto value = [](const TensorShapeProto::Dimension& d) { return d.has_dim_value() ? d.dim_value() : -1; };
  if (onnx::hasInputShape(ctx, 0)) {
    const TensorShapeProto& x = onnx::getInputShape(ctx, 0);
    if (x.dim_size() != 3 && x.dim_size() != 4)
      fail_shape_inference("RotaryEmbedding: X must be 4-D [batch, num_heads, seq, head_size] or 3-D "
                           "[batch, seq, hidden], got rank ", x.dim_size());
    batch = value(x.dim(0));
    if (x.dim_size() == 4) {
      seq = value(x.dim(2));
      head_size = value(x.dim(3));
    } else {
      if (num_heads == 0)
        fail_shape_inference("RotaryEmbedding: a 3-D X needs the num_heads attribute (positive)");
      seq = value(x.dim(1));
      const int64_t hidden = value(x.dim(2));
      if (hidden >= 0 && hidden % num_heads != 0)
        fail_shape_inference("RotaryEmbedding: X's hidden size ", hidden, " does not split into num_heads ",
                             num_heads, " heads");
      if (hidden >= 0) head_size = hidden / num_heads;
    }
    onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
  }
  if (head_size >= 0 && rotary_dim > head_size)
    fail_shape_inference("RotaryEmbedding: rotary_embedding_dim ", rotary_dim, " is larger than the head size ",
                         head_size);
  if (head_size >= 0 && rotary_dim == 0 && head_size % 2 != 0)
    fail_shape_inference("RotaryEmbedding: the head size ", head_size, " is odd: a full rotation needs pairs");
  const int64_t half = rotary_dim > 0 ? rotary_dim / 2 : (head_size >= 0 ? head_size / 2 : -1);

  // position_ids: known given (a type), known absent (no fourth input), or unknown (an untyped value).
  const bool positions_known = ctx.getNumInputs() <= 3 || ctx.getInputType(3) != nullptr;
  const bool positions = ctx.getNumInputs() > 3 && ctx.getInputType(3) != nullptr;
  if (positions && onnx::hasInputShape(ctx, 3)) {
    const TensorShapeProto& p = onnx::getInputShape(ctx, 3);
    if (p.dim_size() != 2 || (batch >= 0 && value(p.dim(0)) >= 0 && value(p.dim(0)) != batch) ||
        (seq >= 0 && value(p.dim(1)) >= 0 && value(p.dim(1)) != seq))
      fail_shape_inference("RotaryEmbedding: position_ids must be [batch, seq], X's first two token axes");
  }
  if (!positions_known) return;
  const int want_rank = positions ? 2 : 3;
  for (size_t i : {size_t{1}, size_t{2}}) {
    if (!onnx::hasInputShape(ctx, i)) continue;
    const TensorShapeProto& c = onnx::getInputShape(ctx, i);
    const char* name = i == 1 ? "cos_cache" : "sin_cache";
    if (c.dim_size() != want_rank)
      fail_shape_inference("RotaryEmbedding: ", name, " must be ",
                           positions ? "2-D [max_position, rotary_dim / 2] with position_ids"
                                     : "3-D [batch, seq, rotary_dim / 2] without position_ids",
                           ", got rank ", c.dim_size());
    const int64_t last = value(c.dim(want_rank - 1));
    if (half >= 0 && last >= 0 && last != half)
      fail_shape_inference("RotaryEmbedding: ", name, "'s last dimension is ", last, " where rotary_dim / 2 is ",
                           half);
    if (!positions && ((batch >= 0 && value(c.dim(0)) >= 0 && value(c.dim(0)) != batch) ||
                       (seq >= 0 && value(c.dim(1)) >= 0 && value(c.dim(1)) != seq)))
      fail_shape_inference("RotaryEmbedding: ", name, " must be [batch, seq, rotary_dim / 2] without position_ids, "
                           "X's batch and sequence first");
  }
}

}  // namespace

OpSchema rms_normalization_schema() {
  OpSchema s = new_schema("RMSNormalization", kOpset23);
  s.SetDoc("Y = X / sqrt(mean(X^2 over the axes from axis on) + epsilon) * scale.")
      .Attr("axis", "The first normalised axis, in [-r, r).", AttributeProto::INT, int64_t{-1})
      .Attr("epsilon", "Added to the mean square.", AttributeProto::FLOAT, 1e-5f)
      .Attr("stash_type", "The precision of the computation (a floating-point TensorProto type).", AttributeProto::INT,
            int64_t{TensorProto::FLOAT})
      .Input(0, "X", "The tensor to normalise.", "T")
      .Input(1, "scale", "Broadcasts unidirectionally to X.", "V")
      .Output(0, "Y", "Same shape as X.", "V")
      .TypeConstraint("T", float_tensor_types(),
                      "Float tensors.")
      .TypeConstraint("V", float_tensor_types(),
                      "Float tensors.")
      .TypeAndShapeInferenceFunction(infer_rms_normalization);
  s.Finalize();
  return s;
}

OpSchema rotary_embedding_schema() {
  OpSchema s = new_schema("RotaryEmbedding", kOpset23);
  s.SetDoc("Rotary positional embedding of X's heads by cos_cache and sin_cache rows (by token, or by position_ids).")
      .Attr("interleaved", "1: rotate pairs (2k, 2k+1); 0: pairs (k, k + rotary_dim / 2).", AttributeProto::INT,
            int64_t{0})
      .Attr("rotary_embedding_dim", "How many leading elements of a head rotate; 0: all.", AttributeProto::INT,
            int64_t{0})
      .Attr("num_heads", "Number of heads; required for a 3-D X.", AttributeProto::INT, false)
      .Input(0, "X", "[batch, num_heads, seq, head_size] or [batch, seq, hidden].", "T")
      .Input(1, "cos_cache", "[max_position, rotary_dim / 2] with position_ids, else [batch, seq, rotary_dim / 2].",
             "T")
      .Input(2, "sin_cache", "Shaped as cos_cache.", "T")
      .Input(3, "position_ids", "[batch, seq] rows of the caches.", "M", OpSchema::Optional)
      .Output(0, "Y", "Same shape as X.", "T")
      .TypeConstraint("T", {"tensor(float)", "tensor(float16)", "tensor(bfloat16)"}, "Float tensors.")
      .TypeConstraint("M", {"tensor(int64)"}, "Position indices.")
      .TypeAndShapeInferenceFunction(infer_rotary_embedding);
  s.Finalize();
  return s;
}

}  // namespace tandem::onnx_import
