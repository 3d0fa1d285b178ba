// StringConcat and StringSplit (opset 20).
//
// StringConcat: Z = X + Y per element, broadcast as numbers are.
// StringSplit: each string split as Python's str.split does it (ONNX's reference implementation is
// numpy.char.split): at each `delimiter`, keeping the empty parts between neighbours; with no delimiter (or
// an empty one), at runs of whitespace, dropping it at both ends, so "" and "  " have no parts. `maxsplit`
// splits at most that many times from the left (what follows stays in the last part; in whitespace mode the
// space after the last split is kept); a negative one, or none, splits everywhere. Y holds the parts along
// a new last axis as long as the most parts any string has, padded with ""; Z each string's count.
// Whitespace is Python's (str.isspace): ASCII's space, \t, \n, \v, \f, \r and the separators \x1c to \x1f,
// and the Unicode spaces U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 in
// their UTF-8 forms (which cannot match inside another character: UTF-8 resynchronises at lead bytes).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/broadcast.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

Result<const Tensor*> string_input(const KernelContext& ctx, std::size_t i, const std::string& what) {
  TANDEM_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, i, what));
  if (t->dtype() != DType::kString) return ctx.error(what + " must be strings, got " + t->describe());
  return t;
}

class StringConcatKernel final : public Kernel {
 public:
  bool takes_strings() const override { return true; }
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, string_input(ctx, 0, "X"));
    TANDEM_ASSIGN_OR_RETURN(const Tensor* y, string_input(ctx, 1, "Y"));
    auto shape = broadcast_shapes({x->shape(), y->shape()});
    if (!shape) return ctx.error(shape.status().message());
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, *shape, DType::kString));
    Tensor& z = ctx.allocate_output(0, DType::kString, *shape);
    if (z.numel() == 0) return Status::ok();
    const std::vector<std::vector<int64_t>> strides = {broadcast_strides(x->shape(), *shape),
                                                       broadcast_strides(y->shape(), *shape)};
    const std::string* px = x->data<std::string>();
    const std::string* py = y->data<std::string>();
    std::string* pz = z.data<std::string>();
    for_each_broadcast_run(*shape, strides,
                           [&](int64_t o, const std::vector<int64_t>& off, int64_t n, const std::vector<int64_t>& in) {
                             for (int64_t i = 0; i < n; ++i)
                               pz[o + i] = px[off[0] + i * in[0]] + py[off[1] + i * in[1]];
                           });
    return Status::ok();
  }
};

// The length in bytes of the whitespace character at s[i], 0 when there is none.
std::size_t space_at(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xc2 && (b(1) == 0x85 || b(1) == 0xa0)) return 2;
  if (c == 0xe1 && b(1) == 0x9a && b(2) == 0x80) return 3;
  if (c == 0xe2 && b(1) == 0x80 && (b(2) <= 0x8a || b(2) == 0xa8 || b(2) == 0xa9 || b(2) == 0xaf) && b(2) >= 0x80)
    return 3;
  if (c == 0xe2 && b(1) == 0x81 && b(2) == 0x9f) return 3;
  if (c == 0xe3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

// Python's s.split(delimiter or None, maxsplit); maxsplit < 0: no limit.
std::vector<std::string_view> split(std::string_view s, const std::string& delimiter, int64_t maxsplit) {
  std::vector<std::string_view> parts;
  if (!delimiter.empty()) {
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const std::size_t at = s.find(delimiter, start);
      if (at == std::string_view::npos) break;
      parts.push_back(s.substr(start, at - start));
      start = at + delimiter.size();
    }
    parts.push_back(s.substr(start));
    return parts;
  }
  std::size_t i = 0;
  while (true) {
    for (std::size_t n; i < s.size() && (n = space_at(s, i)) > 0;) i += n;
    if (i == s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {  // the rest, trailing space kept
      parts.push_back(s.substr(i));
      break;
    }
    std::size_t j = i;
    while (j < s.size() && space_at(s, j) == 0) ++j;
    parts.push_back(s.substr(i, j - i));
    i = j;
  }
  return parts;
}

class StringSplitKernel final : public Kernel {
 public:
  StringSplitKernel(std::string delimiter, int64_t maxsplit) : delimiter_(std::move(delimiter)), maxsplit_(maxsplit) {}
  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, string_input(ctx, 0, "X"));
    const std::string* px = x->data<std::string>();
    const int64_t count = x->numel();
    std::vector<std::vector<std::string_view>> parts(static_cast<std::size_t>(count));
    int64_t widest = 0;
    for (int64_t i = 0; i < count; ++i) {
      parts[static_cast<std::size_t>(i)] = split(px[i], delimiter_, maxsplit_);
      widest = std::max<int64_t>(widest, static_cast<int64_t>(parts[static_cast<std::size_t>(i)].size()));
    }
    std::vector<int64_t> y_shape = x->shape();
    y_shape.push_back(widest);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, y_shape, DType::kString));
    std::string* py = ctx.allocate_output(0, DType::kString, y_shape).data<std::string>();
    int64_t* pz = ctx.allocate_output(1, DType::kInt64, x->shape()).data<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      const auto& p = parts[static_cast<std::size_t>(i)];
      pz[i] = static_cast<int64_t>(p.size());
      for (std::size_t k = 0; k < p.size(); ++k) py[i * widest + static_cast<int64_t>(k)] = std::string(p[k]);
    }
    return Status::ok();
  }

 private:
  std::string delimiter_;
  int64_t maxsplit_;
};

Result<KernelPtr> make_string_split(const KernelInit& init) {
  const Node& n = init.node();
  return KernelPtr(new StringSplitKernel(attr_string(n, "delimiter", ""), attr_int(n, "maxsplit", -1)));
}

}  // namespace

void register_string_concat_split_kernels(KernelRegistry& r) {
  r.add("StringConcat", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new StringConcatKernel()); });
  r.take_strings("StringConcat");
  r.add("StringSplit", make_string_split);
  r.take_strings("StringSplit");
}

}  // namespace tandem::cpu
