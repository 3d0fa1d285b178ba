// Scan: runs its body once per slice of its scan inputs, carrying state values from one iteration to the
// next and stacking the body's scan outputs.
//
// Opset 9 and later. Inputs: N initial states, then M scan inputs (num_scan_inputs). Iteration t reads
// slice t (or L-1-t, for scan_input_directions 1) of each scan input along its scan_input_axes axis, that
// axis removed; the body returns the N next states and K scan-output slices, stacked along
// scan_output_axes (in reverse for scan_output_directions 1). Outputs: the final states, then the K
// stacked scan outputs.
// Opset 8 has a batch axis first on every input and output, scans axis 1 (`directions` per scan input),
// and an optional first input sequence_lens: batch entry b runs sequence_lens[b] iterations, and its scan
// outputs past them are zero (ONNX leaves them undefined).
#include <algorithm>
#include <cstring>
#include <utility>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/stack_slices.h"
#include "runtime_cpu/kernels/subgraph_body.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

struct ScanAttrs {
  std::size_t states = 0, scan_inputs = 0, scan_outputs = 0;
  std::vector<int64_t> input_axes, input_directions;    // per scan input (axes may be negative until run)
  std::vector<int64_t> output_axes, output_directions;  // per scan output
};

// Slice `index` of `x` along `axis`, the axis removed.
Tensor slice_along(const Tensor& x, int64_t axis, int64_t index) {
  std::vector<int64_t> shape = x.shape(), strides = row_major_strides(x.shape());
  const int64_t offset = index * strides[static_cast<std::size_t>(axis)];
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  if (axis == 0 && x.has_byte_elements())
    return x.view(static_cast<std::size_t>(offset) * dtype_size(x.dtype()), x.dtype(), shape);
  Tensor out = Tensor::empty(x.dtype(), shape);
  copy_strided(x.dtype(), x.raw(), offset, shape, strides, out.raw());
  return out;
}

// The iterations over scan inputs `xs` (scan axes `axes`, non-negative, each with `length` slices or more):
// the final states and, per scan output, the slices each iteration made.
struct ScanResult {
  std::vector<Tensor> states;
  std::vector<std::vector<Tensor>> scanned;
};

class ScanKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  ScanKernel(SubgraphBody body, ScanAttrs a, bool batched) : body_(std::move(body)), a_(std::move(a)), batched_(batched) {}

  Status run(KernelContext& ctx) const override { return batched_ ? run_batched(ctx) : run_unbatched(ctx); }

 private:
  Result<ScanResult> iterate(const KernelContext& ctx, std::vector<Tensor> states, const std::vector<Tensor>& xs,
                             const std::vector<int64_t>& axes, int64_t length) const {
    const std::vector<const Tensor*> outer = body_.outer(ctx);
    ScanResult r;
    r.scanned.resize(a_.scan_outputs);
    std::vector<Tensor> slices(a_.scan_inputs);
    std::vector<const Tensor*> feeds(a_.states + a_.scan_inputs);
    for (int64_t t = 0; t < length; ++t) {
      TANDEM_RETURN_IF_ERROR(check_iteration(ctx, "iteration", t));
      for (std::size_t j = 0; j < a_.scan_inputs; ++j) {
        slices[j] = slice_along(xs[j], axes[j], a_.input_directions[j] == 1 ? length - 1 - t : t);
        feeds[a_.states + j] = &slices[j];
      }
      for (std::size_t k = 0; k < a_.states; ++k) feeds[k] = &states[k];
      auto outs = body_.run(ctx, feeds, outer);
      if (!outs) return ctx.error("iteration " + std::to_string(t) + ": " + outs.status().message());
      if (outs->size() != a_.states + a_.scan_outputs)
        return ctx.error("the body returned " + std::to_string(outs->size()) + " values, expected " +
                         std::to_string(a_.states + a_.scan_outputs));
      for (std::size_t k = 0; k < a_.states; ++k) states[k] = std::move((*outs)[k]);
      for (std::size_t k = 0; k < a_.scan_outputs; ++k) r.scanned[k].push_back(std::move((*outs)[a_.states + k]));
    }
    r.states = std::move(states);
    return r;
  }

  // The inputs from `first` on: N states, then M scan inputs (movable host tensors).
  Result<std::pair<std::vector<Tensor>, std::vector<Tensor>>> inputs_from(const KernelContext& ctx,
                                                                         std::size_t first) const {
    std::vector<Tensor> states(a_.states), xs(a_.scan_inputs);
    for (std::size_t k = 0; k < a_.states; ++k) {
      const Tensor* v = ctx.input(first + k);
      if (!v) return ctx.error("initial state " + std::to_string(k) + " is missing");
      states[k] = *v;
    }
    for (std::size_t j = 0; j < a_.scan_inputs; ++j) {
      const std::string what = "scan input " + std::to_string(j);
      TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, first + a_.states + j, what));
      TANDEM_RETURN_IF_ERROR(check_movable(ctx, *x, what));
      xs[j] = *x;
    }
    return std::make_pair(std::move(states), std::move(xs));
  }

  Status run_unbatched(KernelContext& ctx) const {
    TANDEM_ASSIGN_OR_RETURN(auto in, inputs_from(ctx, 0));
    auto& [states, xs] = in;
    // The scan axes made non-negative, and the one sequence length the scan inputs must share.
    std::vector<int64_t> axes(a_.scan_inputs);
    int64_t length = -1;
    for (std::size_t j = 0; j < a_.scan_inputs; ++j) {
      const std::string what = "scan input " + std::to_string(j);
      auto axis = normalize_axis(a_.input_axes[j], static_cast<int64_t>(xs[j].rank()), what + "'s scan axis");
      if (!axis) return ctx.error(axis.status().message());
      axes[j] = *axis;
      const int64_t len = xs[j].dim(static_cast<std::size_t>(axes[j]));
      if (length >= 0 && len != length)
        return ctx.error(what + " " + xs[j].describe() + " has " + std::to_string(len) + " slices along axis " +
                         std::to_string(axes[j]) + ", scan input 0 has " + std::to_string(length));
      length = len;
    }
    TANDEM_ASSIGN_OR_RETURN(ScanResult r, iterate(ctx, std::move(states), xs, axes, length));

    for (std::size_t k = 0; k < a_.states && k < ctx.num_outputs(); ++k) ctx.set_output(k, std::move(r.states[k]));
    for (std::size_t k = 0; k < a_.scan_outputs && a_.states + k < ctx.num_outputs(); ++k) {
      const std::size_t out = a_.states + k;
      if (!ctx.wants_output(out)) continue;
      const std::string what = "scan output " + std::to_string(k);
      // The axis is one of the stacked result's: rank of a slice + 1.
      const Value& declared = body_.graph->value(body_.graph->outputs()[out]);
      const int64_t slice_rank = !r.scanned[k].empty()       ? static_cast<int64_t>(r.scanned[k].front().rank())
                                 : declared.shape.has_rank() ? static_cast<int64_t>(declared.shape.rank())
                                                             : 0;
      auto axis = normalize_axis(a_.output_axes[k], slice_rank + 1, what + "'s axis");
      if (!axis) return ctx.error(axis.status().message());
      if (r.scanned[k].empty()) {
        TANDEM_ASSIGN_OR_RETURN(Tensor empty, empty_stack(ctx, *body_.graph, out, *axis, what));
        ctx.set_output(out, std::move(empty));
        continue;
      }
      TANDEM_RETURN_IF_ERROR(stack_slices(ctx, out, r.scanned[k], *axis, a_.output_directions[k] == 1, what));
    }
    return Status::ok();
  }

  // Scan-8: each batch entry scanned on its own over its sequence length, the results stacked over the batch.
  Status run_batched(KernelContext& ctx) const {
    TANDEM_ASSIGN_OR_RETURN(auto in, inputs_from(ctx, 1));
    auto& [states, xs] = in;
    int64_t batch = -1, max_len = -1;
    auto agree = [&](const Tensor& t, const std::string& what, int64_t& dim, std::size_t axis, const char* name) -> Status {
      if (t.rank() <= axis) return ctx.error(what + " " + t.describe() + " has no " + name + " axis " + std::to_string(axis));
      if (dim >= 0 && t.dim(axis) != dim)
        return ctx.error(what + " " + t.describe() + " has " + name + " " + std::to_string(t.dim(axis)) + ", not " +
                         std::to_string(dim) + " as the inputs before it");
      dim = t.dim(axis);
      return Status::ok();
    };
    for (std::size_t k = 0; k < a_.states; ++k)
      TANDEM_RETURN_IF_ERROR(agree(states[k], "initial state " + std::to_string(k), batch, 0, "batch"));
    for (std::size_t j = 0; j < a_.scan_inputs; ++j) {
      TANDEM_RETURN_IF_ERROR(agree(xs[j], "scan input " + std::to_string(j), batch, 0, "batch"));
      TANDEM_RETURN_IF_ERROR(agree(xs[j], "scan input " + std::to_string(j), max_len, 1, "sequence length"));
    }
    std::vector<int64_t> lens(static_cast<std::size_t>(batch), max_len);
    if (const Tensor* sl = ctx.input(0)) {
      if (sl->dtype() != DType::kInt64 || sl->rank() != 1 || sl->dim(0) != batch)
        return ctx.error("sequence_lens must be int64 [" + std::to_string(batch) + "], got " + sl->describe());
      for (int64_t b = 0; b < batch; ++b) {
        const int64_t len = sl->data<int64_t>()[b];
        if (len < 0 || len > max_len)
          return ctx.error("sequence_lens[" + std::to_string(b) + "] is " + std::to_string(len) + ", outside 0.." +
                           std::to_string(max_len));
        lens[static_cast<std::size_t>(b)] = len;
      }
    }

    std::vector<std::vector<Tensor>> final_states(a_.states), padded(a_.scan_outputs);
    const std::vector<int64_t> axes(a_.scan_inputs, 0);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Tensor> s(a_.states), x(a_.scan_inputs);
      for (std::size_t k = 0; k < a_.states; ++k) s[k] = slice_along(states[k], 0, b);
      for (std::size_t j = 0; j < a_.scan_inputs; ++j) x[j] = slice_along(xs[j], 0, b);
      auto r = iterate(ctx, std::move(s), x, axes, lens[static_cast<std::size_t>(b)]);
      if (!r) return ctx.error("batch entry " + std::to_string(b) + ": " + r.status().message());
      for (std::size_t k = 0; k < a_.states; ++k) final_states[k].push_back(std::move(r->states[k]));
      for (std::size_t k = 0; k < a_.scan_outputs; ++k) {
        // [max_len, slice shape], zero past this entry's length.
        const std::vector<Tensor>& slices = r->scanned[k];
        if (slices.empty()) {
          padded[k].emplace_back();  // filled in below, once some entry has shown the slice shape
          continue;
        }
        std::vector<int64_t> shape = slices.front().shape();
        shape.insert(shape.begin(), max_len);
        TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, slices.front().dtype()));
        Tensor p = Tensor::zeros(slices.front().dtype(), shape);
        for (std::size_t t = 0; t < slices.size(); ++t) {
          if (slices[t].shape() != slices.front().shape() || slices[t].dtype() != slices.front().dtype())
            return ctx.error("scan output " + std::to_string(k) + ": batch entry " + std::to_string(b) + " iteration " +
                             std::to_string(t) + " made " + slices[t].describe() + ", iteration 0 made " +
                             slices.front().describe());
          std::memcpy(static_cast<std::byte*>(p.raw()) + t * slices[t].nbytes(), slices[t].raw(), slices[t].nbytes());
        }
        padded[k].push_back(std::move(p));
      }
    }
    for (std::size_t k = 0; k < a_.states && k < ctx.num_outputs(); ++k) {
      if (!ctx.wants_output(k)) continue;
      if (final_states[k].empty()) {
        ctx.set_output(k, states[k]);  // batch 0: the (empty) initial state
        continue;
      }
      TANDEM_RETURN_IF_ERROR(stack_slices(ctx, k, final_states[k], 0, false, "final state " + std::to_string(k)));
    }
    for (std::size_t k = 0; k < a_.scan_outputs && a_.states + k < ctx.num_outputs(); ++k) {
      const std::size_t out = a_.states + k;
      if (!ctx.wants_output(out)) continue;
      const std::string what = "scan output " + std::to_string(k);
      const Tensor* shown = nullptr;
      for (const Tensor& p : padded[k]) shown = p.defined() && !shown ? &p : shown;
      if (!shown) {
        // No entry ran an iteration: [batch, max_len] + the declared slice shape, zeros.
        TANDEM_ASSIGN_OR_RETURN(Tensor slice_stack, empty_stack(ctx, *body_.graph, out, 0, what));
        std::vector<int64_t> shape = slice_stack.shape();
        if (shape.size() == 1 && batch > 0 && max_len > 0 && !body_.graph->value(body_.graph->outputs()[out]).shape.has_rank())
          return ctx.error(what + ": no iteration ran, and the body does not declare the slice shape");
        shape[0] = max_len;
        shape.insert(shape.begin(), batch);
        ctx.set_output(out, Tensor::zeros(slice_stack.dtype(), shape));
        continue;
      }
      for (Tensor& p : padded[k])
        if (!p.defined()) p = Tensor::zeros(shown->dtype(), shown->shape());
      TANDEM_RETURN_IF_ERROR(stack_slices(ctx, out, padded[k], 0, false, what));
    }
    return Status::ok();
  }

  SubgraphBody body_;
  ScanAttrs a_;
  bool batched_;
};

// An attribute list of `count` entries (all `fallback` when absent), each 0 or 1 for directions.
Result<std::vector<int64_t>> per_scan(const KernelInit& init, const std::string& name, std::size_t count,
                                      bool direction) {
  const Node& n = init.node();
  std::vector<int64_t> v = attr_ints(n, name, std::vector<int64_t>(count, 0));
  if (v.size() != count)
    return init.error(name + " lists " + std::to_string(v.size()) + " values for " + std::to_string(count));
  if (direction)
    for (int64_t d : v)
      if (d != 0 && d != 1) return init.error(name + " must hold 0 (forward) or 1 (reverse), got " + std::to_string(d));
  return v;
}

Result<KernelPtr> make_scan(const KernelInit& init) {
  const Node& n = init.node();
  const bool batched = n.opset < 9;  // Scan-8: sequence_lens first, a batch axis on everything
  const std::size_t first = batched ? 1 : 0;
  if (!has_attr(n, "num_scan_inputs")) return init.error("attribute num_scan_inputs is missing");
  const int64_t m = attr_int(n, "num_scan_inputs", 0);
  const auto given = static_cast<int64_t>(n.inputs.size() - std::min(n.inputs.size(), first));
  if (m < 1 || m > given)
    return init.error("num_scan_inputs is " + std::to_string(m) + ", with " + std::to_string(given) +
                      " states and scan inputs (it must be 1 to that number)");
  TANDEM_ASSIGN_OR_RETURN(SubgraphBody body, compile_subgraph_body(init, "body"));
  ScanAttrs a;
  a.scan_inputs = static_cast<std::size_t>(m);
  a.states = static_cast<std::size_t>(given) - a.scan_inputs;
  const Graph& g = *body.graph;
  if (g.inputs().size() != a.states + a.scan_inputs)
    return init.error("the body takes " + std::to_string(g.inputs().size()) + " inputs; the node gives " +
                      std::to_string(a.states) + " states and " + std::to_string(a.scan_inputs) + " scan inputs");
  if (g.outputs().size() < a.states)
    return init.error("the body returns " + std::to_string(g.outputs().size()) + " values, fewer than the " +
                      std::to_string(a.states) + " states");
  a.scan_outputs = g.outputs().size() - a.states;
  if (n.outputs.size() > a.states + a.scan_outputs)
    return init.error("has " + std::to_string(n.outputs.size()) + " outputs; its body makes " +
                      std::to_string(a.states) + " states and " + std::to_string(a.scan_outputs) + " scan outputs");
  if (batched) {
    TANDEM_ASSIGN_OR_RETURN(a.input_directions, per_scan(init, "directions", a.scan_inputs, true));
    a.input_axes.assign(a.scan_inputs, 0);
    a.output_axes.assign(a.scan_outputs, 0);
    a.output_directions.assign(a.scan_outputs, 0);
  } else {
    TANDEM_ASSIGN_OR_RETURN(a.input_axes, per_scan(init, "scan_input_axes", a.scan_inputs, false));
    TANDEM_ASSIGN_OR_RETURN(a.input_directions, per_scan(init, "scan_input_directions", a.scan_inputs, true));
    TANDEM_ASSIGN_OR_RETURN(a.output_axes, per_scan(init, "scan_output_axes", a.scan_outputs, false));
    TANDEM_ASSIGN_OR_RETURN(a.output_directions, per_scan(init, "scan_output_directions", a.scan_outputs, true));
  }
  return KernelPtr(new ScanKernel(std::move(body), std::move(a), batched));
}

}  // namespace

void register_scan_kernels(KernelRegistry& r) {
  r.add("Scan", make_scan);
  r.take_strings("Scan");
}

}  // namespace tandem::cpu
