// StringNormalizer (opset 10): drops the stopwords from a string tensor of shape [C] or [1, C], then changes
// the case of what is left (case_change_action LOWER, UPPER or NONE). With is_case_sensitive 0 a string is
// a stopword when it equals one ignoring case. When every string is dropped the output is one empty string,
// [1] or [1, 1], as ONNX Runtime gives it.
//
// Strings are UTF-8; case follows the Unicode mapping of the node's locale (attribute `locale`, default
// en_US) code point by code point, through the C++ locale's wide ctype facet. The named locale is used when
// this machine has it; otherwise English and the C locale fall back to C.UTF-8, whose Unicode case tables
// are the same, and any other language is refused (its rules may differ: Turkish dotted i), rather than
// mapped in a way the model did not ask for.
#include <locale>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "graph/utf8.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

enum class CaseChange { kNone, kLower, kUpper };

std::optional<std::locale> find_locale(const std::string& name) {
  for (const std::string& candidate : {name, name + ".UTF-8", name + ".utf8"}) {
    try {
      return std::locale(candidate);
    } catch (const std::runtime_error&) {
    }
  }
  return std::nullopt;
}

class StringNormalizerKernel final : public Kernel {
 public:
  StringNormalizerKernel(CaseChange change, bool case_sensitive, std::vector<std::string> stopwords, std::locale locale)
      : change_(change),
        case_sensitive_(case_sensitive),
        locale_(std::move(locale)),
        ctype_(std::use_facet<std::ctype<wchar_t>>(locale_)) {
    for (const std::string& w : stopwords) stopwords_.insert(case_sensitive_ ? w : fold(w).value_or(w));
  }

  bool takes_strings() const override { return true; }

  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, "X"));
    if (x->dtype() != DType::kString) return ctx.error("X must be a string tensor, got " + x->describe());
    const bool two_dims = x->rank() == 2;
    if (!(x->rank() == 1 || (two_dims && x->dim(0) == 1)))
      return ctx.error("X must be [C] or [1, C], got " + x->describe());
    const std::string* in = x->data<std::string>();
    std::vector<std::string> kept;
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      if (!stopwords_.empty()) {
        if (case_sensitive_) {
          if (stopwords_.count(in[i])) continue;
        } else {
          const std::optional<std::string> key = fold(in[i]);
          if (!key) return not_utf8(ctx, i);
          if (stopwords_.count(*key)) continue;
        }
      }
      std::optional<std::string> out = change_case(in[i], change_);
      if (!out) return not_utf8(ctx, i);
      kept.push_back(std::move(*out));
    }
    if (kept.empty()) kept.emplace_back();  // all dropped: one empty string
    const auto count = static_cast<int64_t>(kept.size());
    Tensor& y =
        ctx.allocate_output(0, DType::kString, two_dims ? std::vector<int64_t>{1, count} : std::vector<int64_t>{count});
    std::move(kept.begin(), kept.end(), y.data<std::string>());
    return Status::ok();
  }

 private:
  Status not_utf8(const KernelContext& ctx, int64_t i) const {
    return ctx.error("X element " + std::to_string(i) +
                     " is not valid UTF-8, so its case cannot be changed or compared");
  }
  // The string with its case changed; nullopt when it is not UTF-8. NONE leaves the bytes as they are.
  std::optional<std::string> change_case(const std::string& s, CaseChange change) const {
    if (change == CaseChange::kNone) return s;
    std::optional<std::u32string> points = decode_utf8(s);
    if (!points) return std::nullopt;
    for (char32_t& c : *points) {
      const auto w = static_cast<wchar_t>(c);  // wchar_t is 32 bits on Linux
      c = static_cast<char32_t>(change == CaseChange::kLower ? ctype_.tolower(w) : ctype_.toupper(w));
    }
    return encode_utf8(*points);
  }
  std::optional<std::string> fold(const std::string& s) const { return change_case(s, CaseChange::kLower); }

  CaseChange change_;
  bool case_sensitive_;
  std::locale locale_;
  const std::ctype<wchar_t>& ctype_;
  std::unordered_set<std::string> stopwords_;  // lower-cased when not case sensitive
};

Result<KernelPtr> make_string_normalizer(const KernelInit& init) {
  const Node& n = init.node();
  const std::string action = attr_string(n, "case_change_action", "NONE");
  CaseChange change;
  if (action == "NONE") {
    change = CaseChange::kNone;
  } else if (action == "LOWER") {
    change = CaseChange::kLower;
  } else if (action == "UPPER") {
    change = CaseChange::kUpper;
  } else {
    return init.error("case_change_action must be LOWER, UPPER or NONE, got '" + action + "'");
  }
  const int64_t sensitive = attr_int(n, "is_case_sensitive", 0);
  if (sensitive != 0 && sensitive != 1)
    return init.error("is_case_sensitive must be 0 or 1, got " + std::to_string(sensitive));
  const std::string name = attr_string(n, "locale", "en_US");
  std::optional<std::locale> locale = find_locale(name);
  const std::string language = name.substr(0, name.find_first_of("_.@"));
  if (!locale && (language == "en" || language == "C" || language == "POSIX" || name.empty()))
    locale = find_locale("C.UTF-8");
  if (!locale)
    return init.error("locale '" + name + "' is not installed on this machine (`locale -a` lists those that are), " +
                      "and its case rules may differ from English ones");
  std::vector<std::string> stopwords = attr_strings(n, "stopwords");
  auto kernel = std::make_unique<StringNormalizerKernel>(change, sensitive == 1, stopwords, std::move(*locale));
  return KernelPtr(std::move(kernel));
}

}  // namespace

void register_string_normalizer_kernels(KernelRegistry& r) {
  r.add("StringNormalizer", make_string_normalizer);
  r.take_strings("StringNormalizer");
}

}  // namespace tandem::cpu
