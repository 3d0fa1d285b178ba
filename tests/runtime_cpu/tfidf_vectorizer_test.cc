// TfIdfVectorizer: small cases worked out by hand (the spec's skip example among them), random rows and
// pools against a brute-force reference that lists every skip-gram of a row and looks it up in the pool,
// and an error for each inconsistent attribute.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>

#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

struct Spec {
  std::string mode = "TF";
  int64_t min = 1, max = 2, skip = 0;
  I64 counts, indexes, pool;
  F32 weights;
};

// One TfIdfVectorizer on x with the spec's attributes (weights only when there are some); an unranked x
// leaves the shape checks to the kernel.
SingleOp tfidf(const Spec& s, const Tensor& x, bool unranked = false) {
  SingleOp op(9, "TfIdfVectorizer");
  if (unranked)
    op.unranked(x);
  else
    op.in(x);
  op.attr("mode", s.mode).attr("min_gram_length", s.min).attr("max_gram_length", s.max)
      .attr("max_skip_count", s.skip).attr("ngram_counts", s.counts).attr("ngram_indexes", s.indexes)
      .attr("pool_int64s", s.pool);
  if (!s.weights.empty()) op.attr("weights", s.weights);
  return op;
}

Tensor run_tfidf(const Spec& s, const Tensor& x) { return tfidf(s, x).out({DType::kFloat32}); }

// The brute force: every skip-gram of the row (each start, each gap 1 to skip + 1, each length in
// [min, max]; a 1-gram once per position, since it has no gap) compared with every n-gram of the pool,
// the matches counted at their coordinates, then weighed by coordinate.
std::vector<double> reference(const Spec& s, const I64& x, int64_t rows, int64_t cols) {
  struct Gram {
    I64 items;
    int64_t coordinate;
  };
  std::vector<Gram> grams;
  for (std::size_t g = 0, i = 0; g < s.counts.size(); ++g) {
    const auto length = static_cast<int64_t>(g + 1);
    const int64_t end = g + 1 < s.counts.size() ? s.counts[g + 1] : static_cast<int64_t>(s.pool.size());
    for (int64_t at = s.counts[g]; at < end; at += length, ++i)
      grams.push_back({I64(s.pool.begin() + at, s.pool.begin() + at + length), s.indexes[i]});
  }
  const int64_t size = *std::max_element(s.indexes.begin(), s.indexes.end()) + 1;
  std::vector<double> y;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> freq(static_cast<std::size_t>(size));
    for (int64_t length = s.min; length <= s.max; ++length)
      for (int64_t gap = 1; gap <= (length == 1 ? 1 : s.skip + 1); ++gap)
        for (int64_t start = 0; start + (length - 1) * gap < cols; ++start) {
          I64 skip_gram;
          for (int64_t k = 0; k < length; ++k) skip_gram.push_back(x[static_cast<std::size_t>(r * cols + start + k * gap)]);
          for (const Gram& g : grams)
            if (g.items == skip_gram) freq[static_cast<std::size_t>(g.coordinate)] += 1;
        }
    for (std::size_t j = 0; j < freq.size(); ++j) {
      const double w = s.weights.empty() ? 1.0 : s.weights[j];
      y.push_back(s.mode == "TF" ? freq[j] : s.mode == "IDF" ? (freq[j] > 0 ? w : 0.0) : freq[j] * w);
    }
  }
  return y;
}

// --- by hand ------------------------------------------------------------------------------------------

// The spec's example extended: in 94 17 36 12 28 94 12, the unigrams 94 and 12 occur twice each; the
// bigram (94, 12) at gap 3 (positions 0, 3) and gap 1 (5, 6); (17, 28) at gap 3 only (1, 4).
const I64 kRow = {94, 17, 36, 12, 28, 94, 12};
Spec by_hand() {
  Spec s;
  s.skip = 2;
  s.counts = {0, 2};
  s.indexes = {0, 1, 2, 3};
  s.pool = {94, 12, 94, 12, 17, 28};
  return s;
}

TEST(TfIdfVectorizer, CountsSkipGramsByHand) {
  const Tensor x = i64({7}, kRow);
  Spec s = by_hand();
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 2, 1});
  s.skip = 1;  // gaps 1 and 2: (94, 12) only at gap 1, (17, 28) not at all
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 1, 0});
  s.skip = 0;
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 1, 0});
  s = by_hand();
  s.min = 2;  // unigrams are in the pool but not counted
  expect_f32(run_tfidf(s, x), {4}, {0, 0, 2, 1});
  s = by_hand();
  s.max = 1;  // bigrams not counted, whatever the skips
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 0, 0});
  s = by_hand();
  s.indexes = {3, 0, 1, 2};  // the n-grams' coordinates permuted: the counts move with them
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 1, 2});
  s.indexes = {5, 0, 1, 1};  // a gap in the coordinates stays 0; two n-grams at one coordinate add up
  expect_f32(run_tfidf(s, x), {6}, {2, 3, 0, 0, 0, 2});
}

TEST(TfIdfVectorizer, WeighsByOutputCoordinate) {
  const Tensor x = i64({7}, kRow);
  Spec s = by_hand();
  s.weights = {0.5f, 1, 2, 4};
  s.mode = "IDF";
  expect_f32(run_tfidf(s, x), {4}, {0.5f, 1, 2, 4});
  s.mode = "TFIDF";
  expect_f32(run_tfidf(s, x), {4}, {1, 2, 4, 4});
  s.skip = 0;  // (17, 28) not found: IDF leaves its weight out
  s.mode = "IDF";
  expect_f32(run_tfidf(s, x), {4}, {0.5f, 1, 2, 0});
  s.weights.clear();  // no weights: IDF says found (1) or not, TFIDF is TF
  expect_f32(run_tfidf(s, x), {4}, {1, 1, 1, 0});
  s.mode = "TFIDF";
  expect_f32(run_tfidf(s, x), {4}, {2, 2, 1, 0});
  // Weights follow the coordinate, not the n-gram's place in the pool (as ONNX Runtime reads them):
  // (94, 12) is n-gram 2 at coordinate 0 and takes weights[0].
  s = by_hand();
  s.mode = "TFIDF";
  s.indexes = {2, 3, 0, 1};
  s.weights = {10, 100, 1000, 10000};
  expect_f32(run_tfidf(s, x), {4}, {20, 100, 2000, 20000});
}

TEST(TfIdfVectorizer, RowsAndInt32) {
  // Two rows of int32, bigrams only (ngram_counts [0, 0]: no unigrams in the pool), no skips: 1 2 1 2 1
  // holds (1, 2) and (2, 1) twice each, 2 2 1 1 2 each once.
  Spec s;
  s.min = 2;
  s.counts = {0, 0};
  s.indexes = {0, 1};
  s.pool = {1, 2, 2, 1};
  expect_f32(tfidf(s, i32({2, 5}, {1, 2, 1, 2, 1, 2, 2, 1, 1, 2})).out({DType::kFloat32}), {2, 2}, {2, 2, 1, 1});
  // An empty row, and no rows at all.
  expect_f32(run_tfidf(s, i64({0}, {})), {2}, {0, 0});
  expect_f32(run_tfidf(s, i64({0, 4}, {})), {0, 2}, {});
  // No rows and an output of 2^40 coordinates: empty, with no counts made for the absent rows (8 TiB).
  // X unranked, so that shape inference leaves the output's size to the kernel.
  s.indexes = {0, (int64_t{1} << 40) - 1};
  expect_f32(tfidf(s, i64({0, 4}, {}), true).out({DType::kFloat32}), {0, int64_t{1} << 40}, {});
}

// --- against the brute force ----------------------------------------------------------------------------

TEST(TfIdfVectorizer, MatchesBruteForceOnRandomRowsAndPools) {
  std::mt19937 rng(2024);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const char* modes[] = {"TF", "IDF", "TFIDF"};
  int64_t nonzero = 0, total = 0;
  for (int trial = 0; trial < 120; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int64_t alphabet = uniform(2, 5);  // few symbols, so n-grams recur
    Spec s;
    s.mode = modes[trial % 3];
    const int64_t groups = uniform(1, 4);
    for (int64_t g = 0; g < groups; ++g) {
      s.counts.push_back(static_cast<int64_t>(s.pool.size()));
      std::set<I64> seen;
      const int64_t wanted = uniform(0, 5);
      for (int64_t i = 0; i < wanted; ++i) {
        I64 gram;
        for (int64_t k = 0; k <= g; ++k) gram.push_back(uniform(0, alphabet - 1));
        if (seen.insert(gram).second) s.pool.insert(s.pool.end(), gram.begin(), gram.end());
      }
    }
    int64_t ngrams = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t end = g + 1 < groups ? s.counts[static_cast<std::size_t>(g + 1)] : static_cast<int64_t>(s.pool.size());
      ngrams += (end - s.counts[static_cast<std::size_t>(g)]) / (g + 1);
    }
    if (ngrams == 0) continue;
    for (int64_t i = 0; i < ngrams; ++i) s.indexes.push_back(i);
    std::shuffle(s.indexes.begin(), s.indexes.end(), rng);
    if (trial % 2) {  // weights (one per coordinate 0..n-1, so the coordinates stay a permutation)
      for (int64_t i = 0; i < ngrams; ++i) s.weights.push_back(static_cast<float>(uniform(1, 40)) / 8);
    } else if (trial % 4 == 0) {  // spread out: coordinates with gaps, and two n-grams sharing one
      for (int64_t& j : s.indexes) j = j * 2 + 1;
      s.indexes[0] = s.indexes.back();
    }
    s.min = uniform(1, 3);
    s.max = s.min + uniform(0, 2);
    s.skip = uniform(0, 4);
    const int64_t rows = uniform(1, 3), cols = uniform(0, 14);
    I64 x(static_cast<std::size_t>(rows * cols));
    for (int64_t& v : x) v = uniform(0, alphabet - 1);
    const bool batched = trial % 3 != 0;
    const Tensor input = batched ? i64({rows, cols}, x) : i64({cols}, I64(x.begin(), x.begin() + cols));
    const std::vector<double> want = reference(s, x, batched ? rows : 1, cols);
    const int64_t size = *std::max_element(s.indexes.begin(), s.indexes.end()) + 1;
    const Tensor got = run_tfidf(s, input);
    expect_near(got, batched ? I64{rows, size} : I64{size}, want, 0, 0);
    total += static_cast<int64_t>(want.size());
    nonzero += std::count_if(want.begin(), want.end(), [](double v) { return v != 0; });
  }
  EXPECT_GT(nonzero, total / 10) << "the random cases should find n-grams";
}

// --- errors ---------------------------------------------------------------------------------------------

TEST(TfIdfVectorizer, RefusesInconsistentAttributes) {
  const Tensor x = i64({7}, kRow);
  auto refused = [&](const Spec& s, const std::string& part) { expect_error(tfidf(s, x).run({DType::kFloat32}), part); };
  Spec s = by_hand();
  s.mode = "BM25";
  refused(s, "node 'n' (TfIdfVectorizer): mode must be TF, IDF or TFIDF, got 'BM25'");
  s = by_hand();
  s.min = 0;
  refused(s, "min_gram_length must be 1 or more, got 0");
  s = by_hand();
  s.min = 3;
  refused(s, "max_gram_length 2 is below min_gram_length 3");
  s = by_hand();
  s.skip = -1;
  refused(s, "max_skip_count must not be negative, got -1");
  s = by_hand();
  s.counts = {1, 2};
  refused(s, "ngram_counts must start with 0 (where the 1-grams start in the pool), got 1");
  s = by_hand();
  s.counts = {0, 4, 2};
  refused(s, "ngram_counts must not decrease and must stay within the pool of 6, but entry 2 is 2 after 4");
  s.counts = {0, 7};
  refused(s, "but entry 1 is 7 after 0");
  s = by_hand();
  s.pool.push_back(5);
  refused(s, "the 2-grams take pool_int64s[2:7], 5 items, which is not a multiple of 2");
  s = by_hand();
  s.indexes = {0, 1, 2};
  refused(s, "the pool holds more n-grams than ngram_indexes has entries (3)");
  s.indexes = {0, 1, 2, 3, 4};
  refused(s, "ngram_indexes has 5 entries but the pool holds 4 n-grams");
  s.indexes = {0, -1, 2, 3};  // ONNX's shape inference refuses it first (the kernel checks again)
  refused(s, "node 'n' (TfIdfVectorizer): shape inference: ngram_indexes must be non-empty with no negative values");
  // The output's size, the largest coordinate + 1, would overflow. (Shape inference, with X's shape, refuses
  // the wrapped size first; X unranked leaves it to the kernel.)
  s.indexes = {0, 1, 2, std::numeric_limits<int64_t>::max()};
  expect_error(tfidf(s, x, true).run({DType::kFloat32}),
               "ngram_indexes[3] is 9223372036854775807, so the output would have 2^63 coordinates, beyond int64");
  s = by_hand();
  s.pool = {94, 12, 17, 28, 17, 28};
  refused(s, "the 2-gram at pool_int64s[4] repeats the one at [2]");
  s = by_hand();
  s.weights = {1, 2, 3};
  refused(s, "weights has 3 entries; it needs one per n-gram, 4");
  s.weights = {1, 2, 3, 4};
  s.indexes = {0, 1, 2, 4};
  refused(s, "weights go by output coordinate (as in ONNX Runtime), but coordinate 4 has none");
}

TEST(TfIdfVectorizer, RefusesBadInputs) {
  // String pools are covered in string_ops_test.
  Spec s = by_hand();
  expect_error(tfidf(s, i64({1, 2, 7}, I64(14, 1)), true).run({DType::kFloat32}), "X must be [C] or [N, C], got int64 [1,2,7]");
  expect_error(tfidf(s, i64({}, {1}), true).run({DType::kFloat32}), "X must be [C] or [N, C], got int64 []");
}

}  // namespace
}  // namespace tandem
