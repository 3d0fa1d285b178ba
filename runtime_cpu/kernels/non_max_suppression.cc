// NonMaxSuppression: per batch and class, boxes by descending score (the lower index first among equal
// scores), each kept unless its IoU with a box already kept for that class exceeds iou_threshold, until
// max_output_boxes_per_class are kept. Output rows [batch, class, box] in that order: batch, then class,
// then selection order, as ONNX's reference (a port of ONNX Runtime's) gives them.
//
// Details follow that reference: with score_threshold given only scores strictly above it are candidates;
// corners may come in either order (flipped boxes); boxes that do not overlap, or have no area, never
// suppress; the IoU is in float. max_output_boxes_per_class absent, empty or below 1 selects nothing. A NaN
// score ranks below every number (the reference leaves its place undefined) and fails any threshold.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

struct Corners {
  float x_min, x_max, y_min, y_max;
};

Corners corners_of(const float* b, bool center_point_box) {
  if (center_point_box) {  // [x_center, y_center, width, height]
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[0] - hw, b[0] + hw, b[1] - hh, b[1] + hh};
  }
  // [y1, x1, y2, x2], either corner first.
  return {std::min(b[1], b[3]), std::max(b[1], b[3]), std::min(b[0], b[2]), std::max(b[0], b[2])};
}

bool suppresses(const Corners& a, const Corners& b, float iou_threshold) {
  const float ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  if (ix_max <= ix_min) return false;
  const float iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (iy_max <= iy_min) return false;
  const float inter = (ix_max - ix_min) * (iy_max - iy_min);
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float uni = area_a + area_b - inter;
  if (!(inter > 0) || !(area_a > 0) || !(area_b > 0) || !(uni > 0)) return false;
  return inter / uni > iou_threshold;
}

// The single value of an optional scalar input ([] or [1]); `present` false when omitted or empty.
template <typename T>
Result<T> scalar_input(const KernelContext& ctx, std::size_t i, const char* name, DType dtype, T fallback,
                       bool& present) {
  present = false;
  const Tensor* t = ctx.input(i);
  if (!t || t->numel() == 0) return fallback;
  if (t->dtype() != dtype || t->numel() != 1 || t->rank() > 1)
    return ctx.error(std::string(name) + " must be one " + std::string(dtype_name(dtype)) + " ([] or [1]), got " +
                     t->describe());
  present = true;
  return t->data<T>()[0];
}

class NonMaxSuppressionKernel final : public Kernel {
 public:
  explicit NonMaxSuppressionKernel(bool center_point_box) : center_point_box_(center_point_box) {}

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* boxes, ew::required_input(ctx, 0));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* scores, ew::required_input(ctx, 1));
    if (boxes->dtype() != DType::kFloat32 || boxes->rank() != 3 || boxes->dim(2) != 4)
      return ctx.error("boxes must be float32 [num_batches, spatial_dimension, 4], got " + boxes->describe());
    if (scores->dtype() != DType::kFloat32 || scores->rank() != 3 || scores->dim(0) != boxes->dim(0) ||
        scores->dim(2) != boxes->dim(1))
      return ctx.error("scores must be float32 [num_batches, num_classes, spatial_dimension] matching boxes " +
                       boxes->describe() + ", got " + scores->describe());
    bool has_max = false, has_iou = false, has_score = false;
    TANDEM_ASSIGN_OR_RETURN(const int64_t max_out,
                            scalar_input<int64_t>(ctx, 2, "max_output_boxes_per_class", DType::kInt64, 0, has_max));
    TANDEM_ASSIGN_OR_RETURN(const float iou, scalar_input<float>(ctx, 3, "iou_threshold", DType::kFloat32, 0, has_iou));
    TANDEM_ASSIGN_OR_RETURN(const float score_min,
                            scalar_input<float>(ctx, 4, "score_threshold", DType::kFloat32, 0, has_score));
    if (!(iou >= 0 && iou <= 1)) return ctx.error("iou_threshold must be in [0, 1], got " + std::to_string(iou));

    const int64_t batches = boxes->dim(0), n = boxes->dim(1), classes = scores->dim(1);
    std::vector<int64_t> rows;  // batch, class, box triples
    std::vector<int64_t> order;
    std::vector<Corners> kept;
    // No boxes select nothing: without n > 0 here, scores [1, 2^40, 0] walked 2^40 empty classes (hours).
    for (int64_t b = 0; b < batches && max_out > 0 && n > 0; ++b) {
      const float* bx = boxes->data<float>() + b * n * 4;
      for (int64_t c = 0; c < classes; ++c) {
        const float* s = scores->data<float>() + (b * classes + c) * n;
        order.clear();
        for (int64_t i = 0; i < n; ++i)
          if (!has_score || s[i] > score_min) order.push_back(i);
        std::sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
          const bool ni = std::isnan(s[i]), nj = std::isnan(s[j]);
          if (ni != nj) return nj;
          if (!ni && s[i] != s[j]) return s[i] > s[j];
          return i < j;
        });
        kept.clear();
        for (std::size_t k = 0; k < order.size() && static_cast<int64_t>(kept.size()) < max_out; ++k) {
          const Corners box = corners_of(bx + order[k] * 4, center_point_box_);
          const bool suppressed =
              std::any_of(kept.begin(), kept.end(), [&](const Corners& o) { return suppresses(box, o, iou); });
          if (suppressed) continue;
          kept.push_back(box);
          rows.insert(rows.end(), {b, c, order[k]});
        }
      }
    }
    const int64_t selected = static_cast<int64_t>(rows.size() / 3);
    int64_t* y = ctx.allocate_output(0, DType::kInt64, {selected, 3}).data<int64_t>();
    std::copy(rows.begin(), rows.end(), y);
    return Status::ok();
  }

 private:
  bool center_point_box_;
};

Result<KernelPtr> make_non_max_suppression(const KernelInit& init) {
  const int64_t cpb = attr_int(init.node(), "center_point_box", 0);
  if (cpb != 0 && cpb != 1) return init.error("center_point_box must be 0 or 1, got " + std::to_string(cpb));
  return KernelPtr(new NonMaxSuppressionKernel(cpb == 1));
}

}  // namespace

void register_non_max_suppression_kernels(KernelRegistry& r) {
  r.add("NonMaxSuppression", make_non_max_suppression);
}

}  // namespace tandem::cpu
