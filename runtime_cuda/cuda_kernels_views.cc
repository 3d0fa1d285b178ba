// Reshape, Squeeze, Unsqueeze, Flatten and Identity on the GPU: they only re-label a tensor, so the output
// shares the input's device memory (tensors are immutable) and nothing is enqueued.
#include <algorithm>

#include "runtime_cuda/cuda_kernel.h"

namespace tandem::cuda {
namespace {

enum class ViewOp { kReshape, kSqueeze, kUnsqueeze, kFlatten, kIdentity };

class ViewKernel final : public CudaKernel {
 public:
  ViewKernel(const CudaDevice& d, ViewOp op, std::vector<int64_t> ints, bool has_ints, int64_t attr)
      : CudaKernel(d), op_(op), ints_(std::move(ints)), has_ints_(has_ints), attr_(attr) {}

 private:
  Status compute(CudaRun& r) const override {
    const Tensor* x = r.input(0);
    if (!x) return r.ctx.error("input is missing");
    TANDEM_ASSIGN_OR_RETURN(std::vector<int64_t> shape, out_shape(r, *x));
    if (shape_numel(shape) != x->numel())
      return r.ctx.error("cannot view " + x->describe() + " as " + shape_string(shape));
    r.ctx.set_output(0, x->reshaped(std::move(shape)));
    return Status::ok();
  }

  Result<std::vector<int64_t>> out_shape(const CudaRun& r, const Tensor& x) const {
    const auto rank = static_cast<int64_t>(x.rank());
    switch (op_) {
      case ViewOp::kIdentity: return x.shape();
      case ViewOp::kReshape: {
        std::vector<int64_t> out = ints_;
        int infer = -1;
        int64_t known = 1;
        for (std::size_t i = 0; i < out.size(); ++i) {
          if (out[i] == 0 && !attr_) {  // attr_: allowzero
            if (i >= x.rank()) return r.ctx.error("shape copies dimension " + std::to_string(i) + " of " + x.describe());
            out[i] = x.dim(i);
          }
          if (out[i] == -1) {
            if (infer >= 0) return r.ctx.error("shape has more than one -1");
            infer = static_cast<int>(i);
            continue;
          }
          if (out[i] < 0) return r.ctx.error("shape has a negative dimension " + std::to_string(out[i]));
          known *= out[i];
        }
        if (infer >= 0) {
          if (known == 0 || x.numel() % known != 0)
            return r.ctx.error("cannot infer the -1 of " + shape_string(ints_) + " for " + x.describe());
          out[static_cast<std::size_t>(infer)] = x.numel() / known;
        }
        return out;
      }
      case ViewOp::kSqueeze: {
        std::vector<bool> drop(x.rank(), false);
        if (!has_ints_) {
          for (std::size_t i = 0; i < x.rank(); ++i) drop[i] = x.dim(i) == 1;
        } else {
          for (int64_t a : ints_) {
            auto ax = normalize_axis(a, rank);
            if (!ax) return r.ctx.error(ax.status().message());
            if (x.dim(static_cast<std::size_t>(*ax)) != 1)
              return r.ctx.error("cannot squeeze axis " + std::to_string(*ax) + " of " + x.describe());
            drop[static_cast<std::size_t>(*ax)] = true;
          }
        }
        std::vector<int64_t> out;
        for (std::size_t i = 0; i < x.rank(); ++i)
          if (!drop[i]) out.push_back(x.dim(i));
        return out;
      }
      case ViewOp::kUnsqueeze: {
        const auto out_rank = rank + static_cast<int64_t>(ints_.size());
        std::vector<bool> added(static_cast<std::size_t>(out_rank), false);
        for (int64_t a : ints_) {
          auto ax = normalize_axis(a, out_rank);
          if (!ax) return r.ctx.error(ax.status().message());
          if (added[static_cast<std::size_t>(*ax)]) return r.ctx.error("axis " + std::to_string(*ax) + " is repeated");
          added[static_cast<std::size_t>(*ax)] = true;
        }
        std::vector<int64_t> out;
        std::size_t next = 0;
        for (std::size_t i = 0; i < added.size(); ++i) out.push_back(added[i] ? 1 : x.dim(next++));
        return out;
      }
      case ViewOp::kFlatten: {
        int64_t axis = attr_ < 0 ? attr_ + rank : attr_;
        if (axis < 0 || axis > rank) return r.ctx.error("axis " + std::to_string(attr_) + " is out of range for " + x.describe());
        int64_t outer = 1;
        for (int64_t i = 0; i < axis; ++i) outer *= x.dim(static_cast<std::size_t>(i));
        return std::vector<int64_t>{outer, outer == 0 ? 0 : x.numel() / outer};
      }
    }
    return r.ctx.error("unknown view");
  }

  ViewOp op_;
  std::vector<int64_t> ints_;  // Reshape's shape, Squeeze/Unsqueeze's axes
  bool has_ints_;
  int64_t attr_;  // Reshape's allowzero, Flatten's axis
};

}  // namespace

Result<KernelPtr> make_view_kernel(const CudaDevice& device, const KernelInit& init) {
  const Node& n = init.node();
  const std::string& op = n.op_type;
  std::vector<int64_t> ints;
  bool has_ints = false;
  if (op == "Reshape") {
    TANDEM_ASSIGN_OR_RETURN(ints, constant_ints(init, 1));
    return prepared(std::make_unique<ViewKernel>(device, ViewOp::kReshape, std::move(ints), true,
                                                 n.attribute_int("allowzero", 0)),
                    init);
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
      TANDEM_ASSIGN_OR_RETURN(ints, constant_ints(init, 1));
      has_ints = true;
    } else if (const Attribute* a = n.attribute("axes")) {
      ints = a->ints;
      has_ints = true;
    }
    if (op == "Unsqueeze" && !has_ints) return init.error("Unsqueeze needs axes");
    return prepared(std::make_unique<ViewKernel>(device, op == "Squeeze" ? ViewOp::kSqueeze : ViewOp::kUnsqueeze,
                                                 std::move(ints), has_ints, 0),
                    init);
  }
  if (op == "Flatten")
    return prepared(std::make_unique<ViewKernel>(device, ViewOp::kFlatten, ints, false, n.attribute_int("axis", 1)), init);
  if (op == "Identity") return prepared(std::make_unique<ViewKernel>(device, ViewOp::kIdentity, ints, false, 0), init);
  return init.error("no CUDA kernel for op '" + op + "'");
}

}  // namespace tandem::cuda
