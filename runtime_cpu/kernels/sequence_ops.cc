// ONNX's sequence ops: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt, SequenceErase,
// SequenceLength, ConcatFromSequence and SplitToSequence. A sequence is a Tensor of form kSequence holding
// host tensors (runtime/tensor.h); every op makes a new sequence (values are immutable), sharing the
// elements it keeps.
//
// A tensor put into a sequence is copied: it may live in a run's static memory plan, where its bytes are
// given to another value after its last reader, and the plan cannot see through a sequence to keep them.
#include <cstring>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/stack_slices.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

// Kernels whose inputs or outputs are sequences.
class SequenceKernel : public Kernel {
 public:
  bool takes_non_tensors() const override { return true; }
  bool takes_strings() const override { return true; }  // sequences hold tensors of any type, strings too
};

Result<const Tensor*> sequence_input(const KernelContext& ctx, std::size_t i) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error("input " + std::to_string(i) + " (a sequence) is missing");
  if (!t->is_sequence()) return ctx.error("input " + std::to_string(i) + " must be a sequence, got " + t->describe());
  return t;
}

Result<const Tensor*> tensor_input(const KernelContext& ctx, std::size_t i, const std::string& what) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error(what + " (input " + std::to_string(i) + ") is missing");
  if (!t->is_tensor()) return ctx.error(what + " must be a tensor, got " + t->describe());
  return t;
}

// A position (SequenceAt/Insert/Erase's input): one int32 or int64 element.
Result<int64_t> read_position(const KernelContext& ctx, std::size_t i) {
  TANDEM_ASSIGN_OR_RETURN(const Tensor* t, tensor_input(ctx, i, "the position"));
  if (t->numel() != 1 || t->rank() > 1 || (t->dtype() != DType::kInt64 && t->dtype() != DType::kInt32))
    return ctx.error("the position must be a scalar int32 or int64, got " + t->describe());
  return t->dtype() == DType::kInt64 ? t->data<int64_t>()[0] : int64_t{t->data<int32_t>()[0]};
}

// `pos` in [-n, n-1] (or [-n, n] when `end_ok`: SequenceInsert may append) made non-negative.
Result<std::size_t> normalize_position(const KernelContext& ctx, int64_t pos, std::size_t length, bool end_ok) {
  const auto n = static_cast<int64_t>(length);
  const int64_t hi = end_ok ? n : n - 1;
  if (pos < -n || pos > hi)
    return ctx.error("position " + std::to_string(pos) + " is outside [" + std::to_string(-n) + ", " +
                     std::to_string(hi) + "] for a sequence of " + std::to_string(length) + " tensors");
  return static_cast<std::size_t>(pos < 0 ? pos + n : pos);
}

// The element type a sequence output must have: the sequence input's, or the one the model declares.
Status check_element_type(const KernelContext& ctx, DType seq, const Tensor& t, const std::string& what) {
  if (seq != DType::kUndefined && t.dtype() != seq)
    return ctx.error(what + " is " + t.describe() + " but the sequence holds " + std::string(dtype_name(seq)) +
                     " tensors");
  return Status::ok();
}

class SequenceEmptyKernel final : public SequenceKernel {
 public:
  explicit SequenceEmptyKernel(DType dtype) : dtype_(dtype) {}
  Status run(KernelContext& ctx) const override {
    ctx.set_output(0, Tensor::sequence(dtype_, {}));
    return Status::ok();
  }

 private:
  DType dtype_;
};

Result<KernelPtr> make_sequence_empty(const KernelInit& init) {
  const int64_t code = attr_int(init.node(), "dtype", static_cast<int64_t>(DType::kFloat32));
  const std::optional<DType> dtype = dtype_from_onnx(static_cast<int32_t>(code));
  if (!dtype || (dtype_size(*dtype) == 0 && *dtype != DType::kString))
    return init.error("dtype " + std::to_string(code) + " is not an element type tandem holds");
  return KernelPtr(new SequenceEmptyKernel(*dtype));
}

class SequenceConstructKernel final : public SequenceKernel {
 public:
  Status run(KernelContext& ctx) const override {
    if (ctx.num_inputs() == 0) return ctx.error("needs at least one input");
    std::vector<Tensor> elements;
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* t, tensor_input(ctx, i, "input " + std::to_string(i)));
      TANDEM_RETURN_IF_ERROR(check_element_type(ctx, elements.empty() ? DType::kUndefined : elements[0].dtype(), *t,
                                                "input " + std::to_string(i)));
      elements.push_back(t->clone());
    }
    const DType dtype = elements[0].dtype();
    ctx.set_output(0, Tensor::sequence(dtype, std::move(elements)));
    return Status::ok();
  }
};

class SequenceInsertKernel final : public SequenceKernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* seq, sequence_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, tensor_input(ctx, 1, "the tensor to insert"));
    TANDEM_RETURN_IF_ERROR(check_element_type(ctx, seq->dtype(), *t, "the tensor to insert"));
    std::vector<Tensor> elements = seq->elements();
    std::size_t at = elements.size();
    if (ctx.input(2)) {
      TANDEM_ASSIGN_OR_RETURN(const int64_t pos, read_position(ctx, 2));
      TANDEM_ASSIGN_OR_RETURN(at, normalize_position(ctx, pos, elements.size(), /*end_ok=*/true));
    }
    elements.insert(elements.begin() + static_cast<std::ptrdiff_t>(at), t->clone());
    // An empty sequence read from a file may not say its element type; the tensor does.
    const DType dtype = seq->dtype() == DType::kUndefined ? t->dtype() : seq->dtype();
    ctx.set_output(0, Tensor::sequence(dtype, std::move(elements)));
    return Status::ok();
  }
};

class SequenceAtKernel final : public SequenceKernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* seq, sequence_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const int64_t pos, read_position(ctx, 1));
    TANDEM_ASSIGN_OR_RETURN(const std::size_t at, normalize_position(ctx, pos, seq->elements().size(), false));
    ctx.set_output(0, seq->elements()[at]);
    return Status::ok();
  }
};

class SequenceEraseKernel final : public SequenceKernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* seq, sequence_input(ctx, 0));
    std::vector<Tensor> elements = seq->elements();
    if (elements.empty()) return ctx.error("cannot erase from an empty sequence");
    std::size_t at = elements.size() - 1;
    if (ctx.input(1)) {
      TANDEM_ASSIGN_OR_RETURN(const int64_t pos, read_position(ctx, 1));
      TANDEM_ASSIGN_OR_RETURN(at, normalize_position(ctx, pos, elements.size(), false));
    }
    elements.erase(elements.begin() + static_cast<std::ptrdiff_t>(at));
    ctx.set_output(0, Tensor::sequence(seq->dtype(), std::move(elements)));
    return Status::ok();
  }
};

class SequenceLengthKernel final : public SequenceKernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* seq, sequence_input(ctx, 0));
    Tensor& y = ctx.allocate_output(0, DType::kInt64, {});
    y.data<int64_t>()[0] = static_cast<int64_t>(seq->elements().size());
    return Status::ok();
  }
};

// new_axis = 0: Concat of the elements along `axis`; new_axis = 1: they are stacked along a new axis
// `axis` of the result (in [-r-1, r] for elements of rank r).
class ConcatFromSequenceKernel final : public SequenceKernel {
 public:
  ConcatFromSequenceKernel(int64_t axis, bool new_axis) : axis_(axis), new_axis_(new_axis) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* seq, sequence_input(ctx, 0));
    const std::vector<Tensor>& elements = seq->elements();
    if (elements.empty()) return ctx.error("the sequence is empty: there is nothing to concatenate");
    if (!new_axis_) {
      std::vector<const Tensor*> parts;
      for (const Tensor& e : elements) parts.push_back(&e);
      return concat_tensors(ctx, 0, parts, axis_, "element");
    }
    const auto rank = static_cast<int64_t>(elements[0].rank());
    auto axis = normalize_axis(axis_, rank + 1, "axis");
    if (!axis) return ctx.error(axis.status().message());
    return stack_slices(ctx, 0, elements, *axis, /*reverse=*/false, "the stacked elements");
  }

 private:
  int64_t axis_;
  bool new_axis_;
};

Result<KernelPtr> make_concat_from_sequence(const KernelInit& init) {
  const Node& n = init.node();
  if (!has_attr(n, "axis")) return init.error("attribute 'axis' is missing");
  const int64_t new_axis = attr_int(n, "new_axis", 0);
  if (new_axis != 0 && new_axis != 1) return init.error("new_axis must be 0 or 1, got " + std::to_string(new_axis));
  return KernelPtr(new ConcatFromSequenceKernel(attr_int(n, "axis", 0), new_axis == 1));
}

// Without `split`: parts of 1 along `axis`, squeezed unless keepdims. A scalar split: parts of that size,
// the last one smaller when the axis does not divide. A 1-D split: the part sizes, adding up to the axis.
class SplitToSequenceKernel final : public SequenceKernel {
 public:
  SplitToSequenceKernel(int64_t axis, bool keepdims) : axis_(axis), keepdims_(keepdims) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, tensor_input(ctx, 0, "the input"));
    TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, "the input"));
    auto axis = normalize_axis(axis_, static_cast<int64_t>(x->rank()), "axis");
    if (!axis) return ctx.error(axis.status().message());
    const auto a = static_cast<std::size_t>(*axis);
    const int64_t dim = x->dim(a);
    std::vector<int64_t> sizes;
    bool squeeze = false;
    if (const Tensor* split = ctx.input(1)) {
      if (!split->is_tensor() || (split->dtype() != DType::kInt64 && split->dtype() != DType::kInt32) ||
          split->rank() > 1)
        return ctx.error("split must be an int32 or int64 scalar or 1-D tensor, got " + split->describe());
      TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> given, read_ints(ctx, split->reshaped({split->numel()}), "split"));
      if (split->rank() == 0) {
        const int64_t chunk = given[0];
        if (chunk <= 0) return ctx.error("split " + std::to_string(chunk) + " must be positive");
        for (int64_t done = 0; done < dim; done += chunk) sizes.push_back(std::min(chunk, dim - done));
      } else {
        int64_t total = 0;
        for (std::size_t k = 0; k < given.size(); ++k) {
          const int64_t s = given[k];
          if (s < 0) return ctx.error("split has a negative size " + std::to_string(s));
          if (s > dim - total)  // checked before adding: huge sizes summed past int64 (undefined behaviour)
            return ctx.error("split adds up to more than the size " + std::to_string(dim) + " of axis " +
                             std::to_string(a) + " by entry " + std::to_string(k) + " (" + std::to_string(s) + ")");
          total += s;
        }
        if (total != dim)
          return ctx.error("split adds up to " + std::to_string(total) + ", but axis " + std::to_string(a) +
                           " has size " + std::to_string(dim));
        sizes = std::move(given);
      }
    } else {
      sizes.assign(static_cast<std::size_t>(dim), 1);
      squeeze = !keepdims_;
    }

    int64_t outer = 1, inner = static_cast<int64_t>(element_stride(x->dtype()));
    for (std::size_t d = 0; d < a; ++d) outer *= x->dim(d);
    for (std::size_t d = a + 1; d < x->rank(); ++d) inner *= x->dim(d);
    const auto row = static_cast<std::size_t>(dim * inner);
    std::vector<Tensor> parts;
    parts.reserve(sizes.size());
    std::size_t column = 0;
    for (int64_t size : sizes) {
      std::vector<int64_t> shape = x->shape();
      shape[a] = size;
      Tensor part = Tensor::empty(x->dtype(), shape);
      const auto block = static_cast<std::size_t>(size * inner);
      copy_blocks(x->dtype(), static_cast<const std::byte*>(x->raw()) + column, row,
                  static_cast<std::byte*>(part.raw()), block, outer, block);
      column += block;
      if (squeeze) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
      parts.push_back(part.reshaped(std::move(shape)));
    }
    ctx.set_output(0, Tensor::sequence(x->dtype(), std::move(parts)));
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

template <typename K>
Result<KernelPtr> make_plain(const KernelInit&) {
  return KernelPtr(new K());
}

}  // namespace

void register_sequence_kernels(KernelRegistry& r) {
  r.add("SequenceEmpty", make_sequence_empty);
  r.add("SequenceConstruct", make_plain<SequenceConstructKernel>);
  r.add("SequenceInsert", make_plain<SequenceInsertKernel>);
  r.add("SequenceAt", make_plain<SequenceAtKernel>);
  r.add("SequenceErase", make_plain<SequenceEraseKernel>);
  r.add("SequenceLength", make_plain<SequenceLengthKernel>);
  r.add("ConcatFromSequence", make_concat_from_sequence);
  r.add("SplitToSequence", [](const KernelInit& init) -> Result<KernelPtr> {
    return KernelPtr(new SplitToSequenceKernel(attr_int(init.node(), "axis", 0), attr_int(init.node(), "keepdims", 1) != 0));
  });
  for (const char* op : {"SequenceEmpty", "SequenceConstruct", "SequenceInsert", "SequenceAt", "SequenceErase",
                         "SequenceLength", "ConcatFromSequence", "SplitToSequence"})
    r.take_strings(op);
}

}  // namespace tandem::cpu
