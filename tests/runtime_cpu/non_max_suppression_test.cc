// NonMaxSuppression: hand-worked cases for the rules (ties, thresholds, flipped corners, the centre format,
// absent limits) and random batches against a direct greedy reference written with IoU in double over
// (x1, y1, x2, y2) boxes and a stable sort; and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

Result<std::vector<Tensor>> nms(const Tensor& boxes, const Tensor& scores, int64_t max_out, float iou,
                                 float score = -1e30f, int64_t center = 0) {
  SingleOp op(11, "NonMaxSuppression");
  op.in(boxes).in(scores).in(i64({1}, {max_out})).in(f32({1}, {iou}));
  if (score > -1e30f) op.in(f32({1}, {score}));
  op.attr("center_point_box", center);
  return op.run({DType::kInt64});
}

I64 rows(const Result<std::vector<Tensor>>& r) {
  EXPECT_TRUE(r) << r.status().message();
  if (!r) return {};
  EXPECT_EQ((*r)[0].rank(), 2u);
  EXPECT_EQ((*r)[0].dim(1), 3);
  return values_of<int64_t>((*r)[0]);
}

TEST(NonMaxSuppression, Rules) {
  // Box 0 and 1 overlap with IoU 0.9/1.1 = 0.82; box 2 is apart; box 1 scores highest.
  const Tensor boxes = f32({1, 3, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 5, 1, 6});
  const Tensor scores = f32({1, 1, 3}, {0.8f, 0.9f, 0.3f});
  EXPECT_EQ(rows(nms(boxes, scores, 10, 0.5f)), (I64{0, 0, 1, 0, 0, 2}));
  EXPECT_EQ(rows(nms(boxes, scores, 10, 0.85f)), (I64{0, 0, 1, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(rows(nms(boxes, scores, 1, 0.85f)), (I64{0, 0, 1}));
  // score_threshold is strict: 0.3 is not above 0.3.
  EXPECT_EQ(rows(nms(boxes, scores, 10, 0.85f, 0.3f)), (I64{0, 0, 1, 0, 0, 0}));
  // Limits of 0 or below select nothing.
  EXPECT_EQ(rows(nms(boxes, scores, 0, 0.5f)), I64{});
  EXPECT_EQ(rows(nms(boxes, scores, -3, 0.5f)), I64{});
  // Flipped corners are the same boxes.
  const Tensor flipped = f32({1, 3, 4}, {1, 1, 0, 0, 1, 1.1f, 0, 0.1f, 1, 6, 0, 5});
  EXPECT_EQ(rows(nms(flipped, scores, 10, 0.5f)), (I64{0, 0, 1, 0, 0, 2}));
  // The same boxes as centres and sizes.
  const Tensor centred = f32({1, 3, 4}, {0.5f, 0.5f, 1, 1, 0.6f, 0.5f, 1, 1, 5.5f, 0.5f, 1, 1});
  EXPECT_EQ(rows(nms(centred, scores, 10, 0.5f, -1e31f, 1)), (I64{0, 0, 1, 0, 0, 2}));
  // Equal scores: the lower index first; identical boxes suppress each other (IoU 1).
  const Tensor same = f32({1, 3, 4}, {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1});
  EXPECT_EQ(rows(nms(same, f32({1, 1, 3}, {0.5f, 0.7f, 0.7f}), 10, 0.5f)), (I64{0, 0, 1}));
  // A box without area never suppresses.
  const Tensor flat = f32({1, 2, 4}, {0, 0, 1, 1, 0, 0, 0, 1});
  EXPECT_EQ(rows(nms(flat, f32({1, 1, 2}, {0.9f, 0.8f}), 10, 0.0f)), (I64{0, 0, 0, 0, 0, 1}));
  // Without max_output_boxes_per_class nothing is selected.
  EXPECT_EQ(rows(SingleOp(11, "NonMaxSuppression").in(boxes).in(scores).run({DType::kInt64})), I64{});
}

// Greedy NMS as the spec describes it, written independently of the kernel.
I64 reference(const F32& boxes, const F32& scores, int64_t batches, int64_t classes, int64_t n, int64_t max_out,
              double iou_thr, bool use_score, double score_thr) {
  I64 out;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t c = 0; c < classes; ++c) {
      std::vector<std::pair<double, int64_t>> cand;
      for (int64_t i = 0; i < n; ++i) {
        const double s = scores[static_cast<std::size_t>((b * classes + c) * n + i)];
        if (!use_score || s > score_thr) cand.push_back({s, i});
      }
      std::stable_sort(cand.begin(), cand.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
      std::vector<int64_t> kept;
      const auto box = [&](int64_t i, int k) { return static_cast<double>(boxes[static_cast<std::size_t>((b * n + i) * 4 + k)]); };
      for (const auto& [s, i] : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool ok = true;
        for (int64_t j : kept) {
          const double ay1 = std::min(box(i, 0), box(i, 2)), ay2 = std::max(box(i, 0), box(i, 2));
          const double ax1 = std::min(box(i, 1), box(i, 3)), ax2 = std::max(box(i, 1), box(i, 3));
          const double by1 = std::min(box(j, 0), box(j, 2)), by2 = std::max(box(j, 0), box(j, 2));
          const double bx1 = std::min(box(j, 1), box(j, 3)), bx2 = std::max(box(j, 1), box(j, 3));
          const double w = std::max(0.0, std::min(ax2, bx2) - std::max(ax1, bx1));
          const double h = std::max(0.0, std::min(ay2, by2) - std::max(ay1, by1));
          const double inter = w * h, uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
          if (inter > 0 && inter / uni > iou_thr) ok = false;
        }
        if (!ok) continue;
        kept.push_back(i);
        out.insert(out.end(), {b, c, i});
      }
    }
  return out;
}

TEST(NonMaxSuppression, RandomAgainstGreedyReference) {
  std::mt19937 gen(17);
  std::uniform_real_distribution<float> pos(0, 10), size(0.5f, 4), score(0, 1);
  for (const I64& dims : {I64{1, 1, 8}, I64{2, 3, 20}, I64{3, 2, 50}})
    for (float iou : {0.0f, 0.3f, 0.6f})
      for (int64_t max_out : {int64_t{1}, int64_t{4}, int64_t{100}})
        for (bool use_score : {false, true}) {
          const int64_t batches = dims[0], classes = dims[1], n = dims[2];
          F32 boxes, scores(static_cast<std::size_t>(batches * classes * n));
          for (int64_t i = 0; i < batches * n; ++i) {
            const float y = pos(gen), x = pos(gen), h = size(gen), w = size(gen);
            // Corners in random order, as flipped boxes may come.
            if (gen() % 2)
              boxes.insert(boxes.end(), {y, x, y + h, x + w});
            else
              boxes.insert(boxes.end(), {y + h, x + w, y, x});
          }
          for (auto& s : scores) s = score(gen);
          SingleOp op(10, "NonMaxSuppression");
          op.in(f32({batches, n, 4}, boxes)).in(f32({batches, classes, n}, scores)).in(i64({1}, {max_out}))
              .in(f32({1}, {iou}));
          if (use_score) op.in(f32({1}, {0.4f}));
          SCOPED_TRACE(::testing::Message() << "n " << n << " iou " << iou << " max " << max_out << " score " << use_score);
          const I64 got = rows(op.run({DType::kInt64}));
          EXPECT_EQ(got, reference(boxes, scores, batches, classes, n, max_out, iou, use_score, 0.4f));
          EXPECT_FALSE(got.empty());
        }
}

// Scores [1, 2^40, 0] with no boxes (a zero-size tensor may have such a dimension) walked 2^40 empty classes
// for hours (found by the fuzzer); no boxes select nothing, at once.
TEST(NonMaxSuppression, NoBoxesAmongHugelyManyClassesSelectsNothing) {
  const Tensor scores = Tensor::empty(DType::kFloat32, {1, int64_t{1} << 40, 0});
  const auto r = nms(Tensor::empty(DType::kFloat32, {1, 0, 4}), scores, 5, 0.5f);
  EXPECT_EQ(rows(r), I64{});
  if (r) {
    EXPECT_EQ((*r)[0].shape(), (I64{0, 3}));
  }
}

TEST(NonMaxSuppression, Errors) {
  const Tensor boxes = f32({1, 2, 4}, {0, 0, 1, 1, 0, 0, 1, 1});
  expect_error(nms(boxes, f32({1, 1, 2}, {0.5f, 0.4f}), 1, 1.5f), "iou_threshold must be in [0, 1], got 1.5");
  expect_error(nms(boxes, f32({1, 1, 2}, {0.5f, 0.4f}), 1, 0.5f, -1e31f, 2), "center_point_box must be 0 or 1, got 2");
  expect_error(nms(f32({1, 2, 3}, {0, 0, 1, 1, 0, 0}), f32({1, 1, 2}, {0.5f, 0.4f}), 1, 0.5f),
               "boxes must be float32 [num_batches, spatial_dimension, 4]");
  expect_error(nms(boxes, f32({1, 1, 3}, {0.5f, 0.4f, 0.1f}), 1, 0.5f), "scores must be float32 [num_batches, num_classes");
  expect_error(SingleOp(11, "NonMaxSuppression").in(boxes).in(f32({1, 1, 2}, {0.5f, 0.4f})).in(i64({2}, {1, 2}))
                   .run({DType::kInt64}),
               "max_output_boxes_per_class must be one int64");
}

}  // namespace
}  // namespace tandem
