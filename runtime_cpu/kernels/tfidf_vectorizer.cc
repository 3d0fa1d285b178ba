// TfIdfVectorizer (opset 9): for each row of an int32/int64 or string input ([C] or [N, C]), how often each n-gram of
// a pool occurs in it, written at the n-gram's output coordinate (ngram_indexes) as a count (TF), as its
// weight when it occurs at all (IDF), or as count times weight (TFIDF); the output is float [size] or
// [N, size] with size = max(ngram_indexes) + 1.
//
// An n-gram may be found with skips: with gap g (1 to max_skip_count + 1) its items sit at positions p,
// p + g, p + 2g, ... Every (start, gap) that matches counts once, so a bigram found with gaps 1 and 3 counts
// twice; a 1-gram has no gaps and counts once per position. Only n-grams whose length is in
// [min_gram_length, max_gram_length] are counted; the others still take their place in ngram_indexes.
//
// The pool is one flat list: ngram_counts[i] is where its (i+1)-grams start. The spec calls weights[i] the
// weight of the i-th n-gram, but ONNX's reference implementation and ONNX Runtime read it by output
// coordinate (Y[j] uses weights[j]), and so do the models converters write; the two agree whenever
// ngram_indexes is 0, 1, 2, ... Here weights go by output coordinate, as everywhere else they run.
//
// The pool becomes a trie when the kernel is made; a row is then one walk down the trie per (start, gap).
// A string pool (pool_strings, for string inputs) is numbered first: each distinct string gets an id, the
// trie holds ids, and a row's strings are looked up (one not in the pool gets -1, which no n-gram holds).
#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

enum class Weighting { kTF, kIDF, kTFIDF };

// The pool's counted n-grams as a trie: a path from the root spells an n-gram, and the node where it ends
// holds the n-gram's output coordinate.
struct NgramTrie {
  struct TrieNode {
    std::unordered_map<int64_t, int32_t> next;
    int64_t coordinate = -1;  // -1: no counted n-gram ends here (a prefix only)
    int64_t pool_at = -1;     // where that n-gram starts in the pool, for messages
  };
  std::vector<TrieNode> nodes = std::vector<TrieNode>(1);  // nodes[0] is the root

  // Adds `gram` ending at `coordinate`; false when the pool already holds it (its start in `first_at`).
  bool add(const int64_t* gram, int64_t n, int64_t coordinate, int64_t pool_at, int64_t& first_at) {
    std::size_t at = 0;
    for (int64_t i = 0; i < n; ++i) {
      auto [it, fresh] = nodes[at].next.emplace(gram[i], static_cast<int32_t>(nodes.size()));
      if (fresh) nodes.emplace_back();
      at = static_cast<std::size_t>(it->second);
    }
    if (nodes[at].coordinate >= 0) {
      first_at = nodes[at].pool_at;
      return false;
    }
    nodes[at].coordinate = coordinate;
    nodes[at].pool_at = pool_at;
    return true;
  }
};

struct TfIdfConfig {
  Weighting weighting = Weighting::kTF;
  int64_t min_length = 1, max_length = 1, max_skip = 0;
  int64_t output_size = 0;
  std::vector<float> weights;  // by output coordinate; empty: all ones
  NgramTrie trie;
  bool strings = false;                                 // the pool is pool_strings: X must be strings
  std::unordered_map<std::string, int64_t> string_ids;  // pool_strings' distinct strings, numbered
};

class TfIdfVectorizerKernel final : public Kernel {
 public:
  explicit TfIdfVectorizerKernel(TfIdfConfig c) : c_(std::move(c)) {}
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    if (c_.strings && x->dtype() != DType::kString)
      return ctx.error("X must be a string tensor (the pool is pool_strings), got " + x->describe());
    if (!c_.strings && x->dtype() != DType::kInt32 && x->dtype() != DType::kInt64)
      return ctx.error("X must be int32 or int64 (the pool is pool_int64s), got " + x->describe());
    if (x->rank() != 1 && x->rank() != 2) return ctx.error("X must be [C] or [N, C], got " + x->describe());
    const int64_t rows = x->rank() == 2 ? x->dim(0) : 1, cols = x->shape().back();
    std::vector<int64_t> shape = {c_.output_size};
    if (x->rank() == 2) shape.insert(shape.begin(), rows);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, DType::kFloat32));
    float* y = ctx.allocate_output(0, DType::kFloat32, shape).data<float>();
    if (rows == 0) return Status::ok();  // nothing to count, and the counts alone may be 2^40 long
    std::vector<int64_t> row(static_cast<std::size_t>(cols));
    std::vector<int64_t> freq(static_cast<std::size_t>(c_.output_size));
    ctx.note_workspace((row.size() + freq.size()) * sizeof(int64_t));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < cols; ++i) row[static_cast<std::size_t>(i)] = item(*x, r * cols + i);
      std::fill(freq.begin(), freq.end(), 0);
      count_row(row, freq);
      weigh(freq, y + r * c_.output_size);
    }
    return Status::ok();
  }

 private:
  int64_t item(const Tensor& x, int64_t i) const {
    if (x.dtype() == DType::kInt32) return x.data<int32_t>()[i];
    if (x.dtype() == DType::kInt64) return x.data<int64_t>()[i];
    const auto it = c_.string_ids.find(x.data<std::string>()[i]);
    return it == c_.string_ids.end() ? -1 : it->second;
  }

  void count_row(const std::vector<int64_t>& row, std::vector<int64_t>& freq) const {
    const auto cols = static_cast<int64_t>(row.size());
    // A gap past C - 1 cannot reach a second item, and 1-grams count at gap 1 only.
    const int64_t gaps = c_.max_length < 2 ? 1 : std::min(c_.max_skip, std::max<int64_t>(cols - 2, 0)) + 1;
    for (int64_t gap = 1; gap <= gaps; ++gap)
      for (int64_t start = 0; start < cols; ++start) {
        std::size_t node = 0;
        for (int64_t pos = start, length = 1; pos < cols && length <= c_.max_length; pos += gap, ++length) {
          const auto& next = c_.trie.nodes[node].next;
          const auto it = next.find(row[static_cast<std::size_t>(pos)]);
          if (it == next.end()) break;
          node = static_cast<std::size_t>(it->second);
          const int64_t coordinate = c_.trie.nodes[node].coordinate;
          if (coordinate >= 0 && (length > 1 || gap == 1)) ++freq[static_cast<std::size_t>(coordinate)];
        }
      }
  }

  void weigh(const std::vector<int64_t>& freq, float* out) const {
    for (std::size_t j = 0; j < freq.size(); ++j) {
      const float w = c_.weights.empty() ? 1.0f : c_.weights[j];
      switch (c_.weighting) {
        case Weighting::kTF: out[j] = static_cast<float>(freq[j]); break;
        case Weighting::kIDF: out[j] = freq[j] > 0 ? w : 0.0f; break;
        case Weighting::kTFIDF: out[j] = static_cast<float>(freq[j]) * w; break;
      }
    }
  }

  TfIdfConfig c_;
};

std::string str(int64_t v) { return std::to_string(v); }

Result<KernelPtr> make_tfidf_vectorizer(const KernelInit& init) {
  const Node& n = init.node();
  for (const char* required : {"mode", "min_gram_length", "max_gram_length", "max_skip_count", "ngram_counts",
                               "ngram_indexes"})
    if (!has_attr(n, required)) return init.error("attribute '" + std::string(required) + "' is required");
  TfIdfConfig c;
  c.strings = has_attr(n, "pool_strings");
  if (c.strings == has_attr(n, "pool_int64s"))
    return init.error(c.strings ? "pool_strings and pool_int64s are both given; the pool is one of them"
                                : "the pool is missing: give pool_strings (string inputs) or pool_int64s (integer ones)");
  const std::string pool_name = c.strings ? "pool_strings" : "pool_int64s";
  const std::string mode = attr_string(n, "mode", "");
  if (mode == "TF") c.weighting = Weighting::kTF;
  else if (mode == "IDF") c.weighting = Weighting::kIDF;
  else if (mode == "TFIDF") c.weighting = Weighting::kTFIDF;
  else return init.error("mode must be TF, IDF or TFIDF, got '" + mode + "'");
  c.min_length = attr_int(n, "min_gram_length", 0);
  c.max_length = attr_int(n, "max_gram_length", 0);
  c.max_skip = attr_int(n, "max_skip_count", 0);
  if (c.min_length < 1) return init.error("min_gram_length must be 1 or more, got " + str(c.min_length));
  if (c.max_length < c.min_length)
    return init.error("max_gram_length " + str(c.max_length) + " is below min_gram_length " + str(c.min_length));
  if (c.max_skip < 0) return init.error("max_skip_count must not be negative, got " + str(c.max_skip));

  std::vector<int64_t> pool;
  if (c.strings) {
    for (const std::string& item : attr_strings(n, "pool_strings"))
      pool.push_back(c.string_ids.emplace(item, static_cast<int64_t>(c.string_ids.size())).first->second);
  } else {
    pool = attr_ints(n, "pool_int64s");
  }
  const std::vector<int64_t> counts = attr_ints(n, "ngram_counts");
  const std::vector<int64_t> indexes = attr_ints(n, "ngram_indexes");
  const auto pool_size = static_cast<int64_t>(pool.size());
  if (counts.empty() || counts[0] != 0)
    return init.error("ngram_counts must start with 0 (where the 1-grams start in the pool), got " +
                      (counts.empty() ? std::string("none") : str(counts[0])));
  for (std::size_t i = 1; i < counts.size(); ++i)
    if (counts[i] < counts[i - 1] || counts[i] > pool_size)
      return init.error("ngram_counts must not decrease and must stay within the pool of " + str(pool_size) +
                        ", but entry " + str(static_cast<int64_t>(i)) + " is " + str(counts[i]) + " after " +
                        str(counts[i - 1]));
  if (indexes.empty()) return init.error("ngram_indexes is empty, so the output has no size");
  for (std::size_t i = 0; i < indexes.size(); ++i)
    if (indexes[i] < 0)
      return init.error("ngram_indexes[" + str(static_cast<int64_t>(i)) + "] is " + str(indexes[i]) +
                        "; output coordinates are not negative");
    else if (indexes[i] == std::numeric_limits<int64_t>::max())  // the output's size would be 2^63
      return init.error("ngram_indexes[" + str(static_cast<int64_t>(i)) + "] is " + str(indexes[i]) +
                        ", so the output would have 2^63 coordinates, beyond int64");
  c.output_size = *std::max_element(indexes.begin(), indexes.end()) + 1;

  // Walk the pool group by group: group g holds the (g+1)-grams, each taking the next entry of ngram_indexes.
  std::size_t ngram = 0;
  for (std::size_t g = 0; g < counts.size(); ++g) {
    const int64_t length = static_cast<int64_t>(g) + 1;
    const int64_t begin = counts[g], end = g + 1 < counts.size() ? counts[g + 1] : pool_size;
    if ((end - begin) % length != 0)
      return init.error("the " + str(length) + "-grams take " + pool_name + "[" + str(begin) + ":" + str(end) + "], " +
                        str(end - begin) + " items, which is not a multiple of " + str(length));
    for (int64_t at = begin; at < end; at += length, ++ngram) {
      if (ngram >= indexes.size())
        return init.error("the pool holds more n-grams than ngram_indexes has entries (" +
                          str(static_cast<int64_t>(indexes.size())) + ")");
      if (length < c.min_length || length > c.max_length) continue;
      int64_t first_at = -1;
      if (!c.trie.add(pool.data() + at, length, indexes[ngram], at, first_at))
        return init.error("the " + str(length) + "-gram at " + pool_name + "[" + str(at) + "] repeats the one at [" +
                          str(first_at) + "]");
    }
  }
  if (ngram != indexes.size())
    return init.error("ngram_indexes has " + str(static_cast<int64_t>(indexes.size())) + " entries but the pool " +
                      "holds " + str(static_cast<int64_t>(ngram)) + " n-grams");

  c.weights = attr_floats(n, "weights");
  if (!c.weights.empty()) {
    if (c.weights.size() != indexes.size())
      return init.error("weights has " + str(static_cast<int64_t>(c.weights.size())) +
                        " entries; it needs one per n-gram, " + str(static_cast<int64_t>(indexes.size())));
    if (c.output_size > static_cast<int64_t>(c.weights.size()))
      return init.error("weights go by output coordinate (as in ONNX Runtime), but coordinate " +
                        str(c.output_size - 1) + " has none (weights has " +
                        str(static_cast<int64_t>(c.weights.size())) + " entries)");
  }
  return KernelPtr(new TfIdfVectorizerKernel(std::move(c)));
}

}  // namespace

void register_tfidf_vectorizer_kernels(KernelRegistry& r) {
  r.add("TfIdfVectorizer", make_tfidf_vectorizer);
  r.take_strings("TfIdfVectorizer");
}

}  // namespace tandem::cpu
