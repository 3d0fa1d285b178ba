#include "onnx_import/attention_schema.h"

#include <onnx/defs/shape_inference.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "onnx_import/schema_builder.h"

namespace tandem::onnx_import {
namespace {

using onnx::AttributeProto;
using onnx::InferenceContext;
using onnx::OpSchema;
using onnx::TensorShapeProto;
using Dim = onnx::TensorShapeProto_Dimension;

constexpr int kOpset24 = 24;

Dim known(int64_t v) {
  Dim d;
  d.set_dim_value(v);
  return d;
}
std::optional<int64_t> value(const Dim& d) {
  return d.has_dim_value() ? std::optional<int64_t>(d.dim_value()) : std::nullopt;
}
// Fails when a and b are both known and differ: `what` names the size they must share.
void same(const Dim& a, const Dim& b, const std::string& what) {
  if (value(a) && value(b) && *value(a) != *value(b))
    fail_shape_inference("Attention: ", what, " differs: ", *value(a), " and ", *value(b));
}
Dim sum(const Dim& a, const Dim& b) { return value(a) && value(b) ? known(*value(a) + *value(b)) : Dim(); }
Dim product(const Dim& a, int64_t b) { return value(a) ? known(*value(a) * b) : Dim(); }
// a / b, which must be whole when a is known.
Dim quotient(const Dim& a, int64_t b, const char* what) {
  if (!value(a)) return Dim();
  if (*value(a) % b != 0) fail_shape_inference("Attention: ", what, " ", *value(a), " is not a multiple of ", b);
  return known(*value(a) / b);
}

const TensorShapeProto* shape_of(InferenceContext& ctx, size_t i) {
  const onnx::TypeProto* t = i < ctx.getNumInputs() ? ctx.getInputType(i) : nullptr;
  return t && t->has_tensor_type() && t->tensor_type().has_shape() ? &t->tensor_type().shape() : nullptr;
}
bool given(InferenceContext& ctx, size_t i) { return i < ctx.getNumInputs() && ctx.getInputType(i) != nullptr; }

void set_shape(InferenceContext& ctx, size_t output, const std::vector<Dim>& dims) {
  if (output >= ctx.getNumOutputs()) return;
  TensorShapeProto* out = onnx::getOutputShape(ctx, output);
  out->clear_dim();
  for (const Dim& d : dims) *out->add_dim() = d;
}

void check_attributes(InferenceContext& ctx) {
  const int64_t mode = onnx::getAttribute(ctx, "qk_matmul_output_mode", int64_t{0});
  if (mode < 0 || mode > 3) fail_shape_inference("Attention: qk_matmul_output_mode must be 0, 1, 2 or 3, got ", mode);
  const int64_t causal = onnx::getAttribute(ctx, "is_causal", int64_t{0});
  if (causal != 0 && causal != 1) fail_shape_inference("Attention: is_causal must be 0 or 1, got ", causal);
  if (const AttributeProto* s = ctx.getAttribute("scale"))
    if (!(s->f() > 0.0f) || !std::isfinite(s->f()))
      fail_shape_inference("Attention: scale must be a finite number above 0, got ", s->f());
  if (const AttributeProto* p = ctx.getAttribute("softmax_precision"))
    if (p->i() != 1 && p->i() != 10 && p->i() != 11 && p->i() != 16)
      fail_shape_inference("Attention: softmax_precision must be a floating-point type (1, 10, 11 or 16), got ",
                           p->i());
  for (const char* heads : {"q_num_heads", "kv_num_heads"})
    if (const AttributeProto* h = ctx.getAttribute(heads))
      if (h->i() < 1) fail_shape_inference("Attention: ", heads, " must be 1 or more, got ", h->i());
}

void infer_attention(InferenceContext& ctx, int opset) {
  check_attributes(ctx);
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (ctx.getNumOutputs() > 1) onnx::propagateElemTypeFromInputToOutput(ctx, 0, 1);
  if (ctx.getNumOutputs() > 2) onnx::propagateElemTypeFromInputToOutput(ctx, 2, 2);
  if (ctx.getNumOutputs() > 3) onnx::propagateElemTypeFromInputToOutput(ctx, 0, 3);
  const TensorShapeProto* q = shape_of(ctx, 0);
  const TensorShapeProto* k = shape_of(ctx, 1);
  const TensorShapeProto* v = shape_of(ctx, 2);
  if (!q || !k || !v) return;
  const int rank = q->dim_size();
  if ((rank != 3 && rank != 4) || k->dim_size() != rank || v->dim_size() != rank)
    fail_shape_inference("Attention: Q, K and V must all be 4-D or all 3-D, have ranks ", rank, ", ",
                         k->dim_size(), " and ", v->dim_size());
  const AttributeProto* q_attr = ctx.getAttribute("q_num_heads");
  const AttributeProto* kv_attr = ctx.getAttribute("kv_num_heads");
  const Dim batch = q->dim(0);
  same(batch, k->dim(0), "the batch size of Q and K");
  same(batch, v->dim(0), "the batch size of Q and V");
  Dim hq, hkv, s, l, d, dv;
  if (rank == 3) {
    if (!q_attr || !kv_attr) fail_shape_inference("Attention: 3-D Q, K and V need q_num_heads and kv_num_heads");
    hq = known(q_attr->i());
    hkv = known(kv_attr->i());
    s = q->dim(1);
    l = k->dim(1);
    same(l, v->dim(1), "the sequence length of K and V");
    d = quotient(q->dim(2), q_attr->i(), "Q's hidden size");
    same(k->dim(2), product(d, kv_attr->i()), "K's hidden size (kv_num_heads * head_size)");
    dv = quotient(v->dim(2), kv_attr->i(), "V's hidden size");
  } else {
    hq = q->dim(1);
    hkv = k->dim(1);
    s = q->dim(2);
    l = k->dim(2);
    d = q->dim(3);
    dv = v->dim(3);
    same(hkv, v->dim(1), "the heads of K and V");
    same(l, v->dim(2), "the sequence length of K and V");
    same(d, k->dim(3), "the head size of Q and K");
    if (q_attr) same(hq, known(q_attr->i()), "q_num_heads and Q's heads");
    if (kv_attr) same(hkv, known(kv_attr->i()), "kv_num_heads and K's heads");
  }
  if (value(hq) && value(hkv) && (*value(hkv) < 1 || *value(hq) % *value(hkv) != 0))
    fail_shape_inference("Attention: the ", *value(hq), " query heads are not a whole multiple of the ",
                         *value(hkv), " key/value heads");

  Dim past = known(0);
  if (given(ctx, 4) || given(ctx, 5)) {
    past = Dim();
    for (const size_t i : {size_t{4}, size_t{5}}) {
      const TensorShapeProto* p = shape_of(ctx, i);
      if (!p) continue;
      const char* name = i == 4 ? "past_key" : "past_value";
      if (p->dim_size() != 4) fail_shape_inference("Attention: ", name, " must be 4-D, has rank ", p->dim_size());
      same(batch, p->dim(0), std::string("the batch size of Q and ") + name);
      same(hkv, p->dim(1), std::string("the key/value heads and ") + name + "'s");
      same(i == 4 ? d : dv, p->dim(3), std::string("the head size of ") + (i == 4 ? "K" : "V") + " and " + name);
      if (value(p->dim(2))) {
        same(past, p->dim(2), "the past length of past_key and past_value");
        past = p->dim(2);
      }
    }
  }
  const Dim total = sum(past, l);

  if (const TensorShapeProto* m = shape_of(ctx, 3)) {
    if (m->dim_size() > 4) fail_shape_inference("Attention: attn_mask must have rank 4 or less, has ", m->dim_size());
    const Dim target[4] = {batch, hq, s, total};
    const int offset = 4 - m->dim_size();
    for (int i = 0; i < m->dim_size(); ++i) {
      const auto mv = value(m->dim(i));
      const auto tv = value(target[offset + i]);
      if (!mv || !tv) continue;
      const bool last = offset + i == 3;
      const bool fits = *mv == *tv || (*mv == 1 && (!last || opset < kOpset24)) || (last && opset >= kOpset24 && *mv < *tv);
      if (!fits)
        fail_shape_inference("Attention: attn_mask's dimension ", i, " (", *mv, ") does not broadcast to ", *tv,
                             last && opset >= kOpset24 ? " (the keys' axis may be shorter, not longer)" : "");
    }
  }

  if (rank == 3) {
    set_shape(ctx, 0, {batch, s, value(hq) && value(dv) ? known(*value(hq) * *value(dv)) : Dim()});
  } else {
    set_shape(ctx, 0, {batch, hq, s, dv});
  }
  set_shape(ctx, 1, {batch, hkv, total, d});
  set_shape(ctx, 2, {batch, hkv, total, dv});
  set_shape(ctx, 3, {batch, hq, s, total});
}

}  // namespace

OpSchema attention_schema(int since) {
  OpSchema s = new_schema("Attention", since);
  s.SetDoc("Scaled dot-product attention (multi-head, grouped-query, multi-query), with an optional mask, "
           "causal masking, a key/value cache and softcap.")
      .Attr("is_causal", "1: each query attends only to keys up to its own position.", AttributeProto::INT,
            int64_t{0})
      .Attr("kv_num_heads", "Key/value heads (3-D inputs).", AttributeProto::INT, false)
      .Attr("q_num_heads", "Query heads (3-D inputs).", AttributeProto::INT, false)
      .Attr("qk_matmul_output_mode",
            "What qk_matmul_output holds: 0 the scaled product, 1 after softcap, 2 after the mask, 3 after softmax.",
            AttributeProto::INT, int64_t{0})
      .Attr("scale", "Factor of Q·K^T; default 1/sqrt(head_size).", AttributeProto::FLOAT, false)
      .Attr("softcap", "> 0: scores become softcap * tanh(scores / softcap).", AttributeProto::FLOAT, 0.0f)
      .Attr("softmax_precision", "Floating-point type the softmax is computed in.", AttributeProto::INT,
            false)
      .Input(0, "Q", "[batch, q_heads, q_seq, head_size] or [batch, q_seq, q_heads * head_size].", "T1")
      .Input(1, "K", "[batch, kv_heads, kv_seq, head_size] or [batch, kv_seq, kv_heads * head_size].", "T1")
      .Input(2, "V", "[batch, kv_heads, kv_seq, v_head_size] or [batch, kv_seq, kv_heads * v_head_size].", "T2")
      .Input(3, "attn_mask", "Bool (true: attend) or float (added), broadcast to [batch, q_heads, q_seq, total_seq].",
             "U", OpSchema::Optional)
      .Input(4, "past_key", "[batch, kv_heads, past_seq, head_size].", "T1", OpSchema::Optional)
      .Input(5, "past_value", "[batch, kv_heads, past_seq, v_head_size].", "T2", OpSchema::Optional);
  if (since >= kOpset24)
    s.Input(6, "nonpad_kv_seqlen", "[batch]: how many keys of each batch row are valid.", "tensor(int64)",
            OpSchema::Optional);
  s.Output(0, "Y", "[batch, q_heads, q_seq, v_head_size] or [batch, q_seq, q_heads * v_head_size].", "T1")
      .Output(1, "present_key", "[batch, kv_heads, total_seq, head_size].", "T1", OpSchema::Optional)
      .Output(2, "present_value", "[batch, kv_heads, total_seq, v_head_size].", "T2", OpSchema::Optional)
      .Output(3, "qk_matmul_output", "[batch, q_heads, q_seq, total_seq].", "T1", OpSchema::Optional)
      .TypeConstraint("T1", float_tensor_types(), "Q and K.")
      .TypeConstraint("T2", float_tensor_types(), "V.")
      .TypeConstraint("U",
                      {"tensor(uint8)", "tensor(uint16)", "tensor(uint32)", "tensor(uint64)", "tensor(int8)",
                       "tensor(int16)", "tensor(int32)", "tensor(int64)", "tensor(bfloat16)", "tensor(float16)",
                       "tensor(float)", "tensor(double)", "tensor(bool)"},
                      "The mask: bool, or Q's type (the kernel refuses others).")
      .TypeAndShapeInferenceFunction([since](InferenceContext& ctx) { infer_attention(ctx, since); });
  return s;
}

OpSchema tensor_scatter_schema() {
  OpSchema s = new_schema("TensorScatter", kOpset24);
  s.SetDoc("A copy of past_cache with `update` written along `axis` at each batch row's write index.")
      .Attr("axis", "The sequence axis (not 0, the batch axis).", AttributeProto::INT, int64_t{-2})
      .Attr("mode", "linear (index + update length <= cache length) or circular (positions wrap around).",
            AttributeProto::STRING, std::string("linear"))
      .Input(0, "past_cache", "[batch, D1, ..., max_seq, ..., Dn].", "T")
      .Input(1, "update", "[batch, D1, ..., seq, ..., Dn], seq <= max_seq.", "T")
      .Input(2, "write_indices", "[batch]: where each batch row's update starts; zeros when absent.",
             "tensor(int64)", OpSchema::Optional)
      .Output(0, "present_cache", "past_cache's shape.", "T")
      .TypeConstraint("T", OpSchema::all_tensor_types(), "Any tensor.")
      .TypeAndShapeInferenceFunction([](InferenceContext& ctx) {
        const std::string mode = onnx::getAttribute(ctx, "mode", std::string("linear"));
        if (mode != "linear" && mode != "circular")
          fail_shape_inference("TensorScatter: mode must be linear or circular, got ", mode);
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        const TensorShapeProto* cache = shape_of(ctx, 0);
        if (!cache) return;
        const int rank = cache->dim_size();
        if (rank < 2) fail_shape_inference("TensorScatter: past_cache needs a batch and a sequence axis, has rank ", rank);
        int64_t axis = onnx::getAttribute(ctx, "axis", int64_t{-2});
        if (axis < -rank || axis >= rank)
          fail_shape_inference("TensorScatter: axis ", axis, " is out of range for rank ", rank);
        if (axis < 0) axis += rank;
        if (axis == 0) fail_shape_inference("TensorScatter: axis must not be the batch axis 0");
        if (const TensorShapeProto* update = shape_of(ctx, 1)) {
          if (update->dim_size() != rank)
            fail_shape_inference("TensorScatter: update has rank ", update->dim_size(), ", past_cache ", rank);
          for (int i = 0; i < rank; ++i) {
            const auto c = value(cache->dim(i)), u = value(update->dim(i));
            if (c && u && (i == axis ? *u > *c : *u != *c))
              fail_shape_inference("TensorScatter: update's dimension ", i, " (", *u, ") ",
                                   i == axis ? "is longer than past_cache's (" : "differs from past_cache's (", *c,
                                   ")");
          }
        }
        if (const TensorShapeProto* w = shape_of(ctx, 2)) {
          if (w->dim_size() != 1) fail_shape_inference("TensorScatter: write_indices must be 1-D, has rank ", w->dim_size());
          const auto b = value(cache->dim(0)), n = value(w->dim(0));
          if (b && n && *b != *n)
            fail_shape_inference("TensorScatter: write_indices has ", *n, " values for a batch of ", *b);
        }
        *onnx::getOutputShape(ctx, 0) = *cache;
      });
  return s;
}

}  // namespace tandem::onnx_import
