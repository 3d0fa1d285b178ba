// Einsum with numpy's semantics: explicit ("ij,jk->ik") and implicit ("ij,jk": the labels seen once, in
// order, after the broadcast dimensions) outputs, repeated labels in a term (diagonals), '...' for broadcast
// dimensions, and size-1 dimensions broadcasting against their label's size. The equation is parsed once;
// each run sizes the labels from the operands, then either sums every product over the labels not in the
// output (any type, any equation), or, for two float32 operands that are a plain batched matrix product,
// permutes them into [batch, m, k] x [batch, k, n] and calls the oneDNN GEMM.
#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>

#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/sub_families.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

constexpr int kEllipsis = -1;  // a term's '...'

// A term: its letters in order, with kEllipsis where '...' stands.
using Term = std::vector<int>;

struct Equation {
  std::vector<Term> inputs;
  Term output;
  bool explicit_output = false;
};

Result<Term> parse_term(const std::string& s, const std::string& equation) {
  Term t;
  bool ellipsis = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (ellipsis || s.compare(i, 3, "...") != 0)
        return Status::error("equation '" + equation + "' has a stray '.' or a second '...' in '" + s + "'");
      ellipsis = true;
      t.push_back(kEllipsis);
      i += 2;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t.push_back(c);
    } else {
      return Status::error("equation '" + equation + "' has the character '" + std::string(1, c) +
                           "', which is not a letter, ',', '->' or '...'");
    }
  }
  return t;
}

Result<Equation> parse_equation(const std::string& text) {
  std::string eq;
  for (char c : text)
    if (c != ' ') eq += c;
  Equation e;
  const std::size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = lhs.find(',', start);
    TANDEM_ASSIGN_OR_RETURN(Term t, parse_term(lhs.substr(start, comma - start), text));
    e.inputs.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow != std::string::npos) {
    e.explicit_output = true;
    TANDEM_ASSIGN_OR_RETURN(e.output, parse_term(eq.substr(arrow + 2), text));
    std::map<int, int> seen;
    for (int l : e.output)
      if (++seen[l] > 1)
        return Status::error("equation '" + text + "' repeats '" +
                             (l == kEllipsis ? std::string("...") : std::string(1, static_cast<char>(l))) +
                             "' in its output");
    for (int l : e.output) {
      bool found = false;
      for (const Term& t : e.inputs) found = found || std::find(t.begin(), t.end(), l) != t.end();
      if (!found && l != kEllipsis)
        return Status::error("equation '" + text + "': output label '" + std::string(1, static_cast<char>(l)) +
                             "' is in no input");
    }
  } else {
    // Implicit: the broadcast dimensions (if any term has them), then the letters used once, sorted.
    std::map<int, int> uses;
    bool ellipsis = false;
    for (const Term& t : e.inputs)
      for (int l : t) l == kEllipsis ? void(ellipsis = true) : void(++uses[l]);
    if (ellipsis) e.output.push_back(kEllipsis);
    for (const auto& [l, n] : uses)
      if (n == 1) e.output.push_back(l);
  }
  return e;
}

// The equation resolved against the operands' shapes: every label (letters, then one per broadcast
// dimension) gets an index, a size, and per operand a stride (0 where the operand lacks it or broadcasts).
struct Plan {
  std::vector<int64_t> size;                  // by label index
  std::vector<std::vector<int64_t>> strides;  // [operand][label index]
  std::vector<std::size_t> out_labels;        // label indices of the output's dimensions
  std::vector<std::size_t> sum_labels;        // the other labels
  std::vector<bool> repeated;                 // per operand: a label occurs twice (a diagonal)
};

Result<Plan> resolve(const KernelContext& ctx, const Equation& eq, const std::vector<const Tensor*>& ops) {
  if (eq.inputs.size() != ops.size())
    return ctx.error("the equation has " + std::to_string(eq.inputs.size()) + " input terms for " +
                     std::to_string(ops.size()) + " inputs");
  // Broadcast dimensions: as many as the most any term's '...' covers.
  std::vector<int64_t> covered(ops.size(), 0);
  int64_t ellipsis_rank = 0;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const Term& t = eq.inputs[k];
    const bool has = std::find(t.begin(), t.end(), kEllipsis) != t.end();
    const auto letters = static_cast<int64_t>(t.size()) - (has ? 1 : 0);
    const auto rank = static_cast<int64_t>(ops[k]->rank());
    if (rank < letters || (!has && rank != letters))
      return ctx.error("input " + std::to_string(k) + " " + ops[k]->describe() + " does not fit its term with " +
                       std::to_string(letters) + " label(s)" + (has ? " and '...'" : ""));
    covered[k] = rank - letters;
    ellipsis_rank = std::max(ellipsis_rank, covered[k]);
  }
  if (eq.explicit_output && ellipsis_rank > 0 &&
      std::find(eq.output.begin(), eq.output.end(), kEllipsis) == eq.output.end())
    return ctx.error("the inputs have broadcast dimensions ('...') but the output does not say where they go");
  std::map<int, std::size_t> index;  // letter -> label index
  for (const Term& t : eq.inputs)
    for (int l : t)
      if (l != kEllipsis) index.emplace(l, 0);
  std::size_t n = 0;
  for (auto& [l, i] : index) i = n++;
  const std::size_t first_ellipsis = n;
  n += static_cast<std::size_t>(ellipsis_rank);
  Plan p;
  p.size.assign(n, 1);
  std::vector<bool> sized(n, false);
  p.strides.assign(ops.size(), std::vector<int64_t>(n, 0));
  p.repeated.assign(ops.size(), false);
  // Dimension d of operand k gets label index labels[k][d].
  std::vector<std::vector<std::size_t>> labels(ops.size());
  for (std::size_t k = 0; k < ops.size(); ++k) {
    for (int l : eq.inputs[k]) {
      if (l != kEllipsis) {
        labels[k].push_back(index[l]);
        continue;
      }
      for (int64_t e = 0; e < covered[k]; ++e)
        labels[k].push_back(first_ellipsis + static_cast<std::size_t>(ellipsis_rank - covered[k] + e));
    }
    for (std::size_t d = 0; d < labels[k].size(); ++d) {
      const std::size_t L = labels[k][d];
      const int64_t dim = ops[k]->dim(d);
      if (dim != 1) {
        if (sized[L] && p.size[L] != 1 && p.size[L] != dim)
          return ctx.error("input " + std::to_string(k) + " " + ops[k]->describe() + ": dimension " +
                           std::to_string(d) + " of size " + std::to_string(dim) + " does not match its label's size " +
                           std::to_string(p.size[L]));
        p.size[L] = dim;
      }
      sized[L] = true;
    }
  }
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const std::vector<int64_t> st = row_major_strides(ops[k]->shape());
    std::vector<int> uses(n, 0);
    for (std::size_t d = 0; d < labels[k].size(); ++d) {
      const std::size_t L = labels[k][d];
      // A repeated label of one operand must have one size there: diagonals are square.
      if (uses[L]++ > 0) {
        p.repeated[k] = true;
        for (std::size_t e = 0; e < d; ++e)
          if (labels[k][e] == L && ops[k]->dim(e) != ops[k]->dim(d))
            return ctx.error("input " + std::to_string(k) + " " + ops[k]->describe() + " repeats a label over dimensions " +
                             std::to_string(e) + " and " + std::to_string(d) + " of different sizes");
      }
      if (ops[k]->dim(d) != 1 || p.size[L] == 1) p.strides[k][L] += st[d];
    }
  }
  std::vector<bool> in_out(n, false);
  for (int l : eq.output) {
    if (l != kEllipsis) {
      p.out_labels.push_back(index[l]);
      in_out[index[l]] = true;
      continue;
    }
    for (int64_t e = 0; e < ellipsis_rank; ++e) {
      p.out_labels.push_back(first_ellipsis + static_cast<std::size_t>(e));
      in_out[first_ellipsis + static_cast<std::size_t>(e)] = true;
    }
  }
  for (std::size_t L = 0; L < n; ++L)
    if (!in_out[L]) p.sum_labels.push_back(L);
  return p;
}

// The general case: out[o] = sum over the summed labels of the product of every operand's element.
template <typename T>
void contract(const Plan& p, const std::vector<const Tensor*>& ops, Tensor& y) {
  using C = compute_t<T>;
  // Floats accumulate in double, integers in uint64_t (wrapping like the element type once narrowed).
  using Acc = std::conditional_t<std::is_floating_point_v<C>, double, uint64_t>;
  const std::size_t nops = ops.size();
  std::vector<const T*> base(nops);
  for (std::size_t k = 0; k < nops; ++k) base[k] = ops[k]->data<T>();
  const std::size_t no = p.out_labels.size(), ns = p.sum_labels.size();
  int64_t inner = 1;
  for (std::size_t L : p.sum_labels) inner *= p.size[L];
  std::vector<int64_t> out_off(nops, 0), sum_off(nops), opos(no, 0), spos(ns);
  T* dst = y.data<T>();
  for (int64_t o = 0; o < y.numel(); ++o) {
    Acc acc = 0;
    std::fill(spos.begin(), spos.end(), 0);
    sum_off = out_off;
    for (int64_t s = 0; s < inner; ++s) {
      Acc prod = 1;
      for (std::size_t k = 0; k < nops; ++k) {
        const C v = ElementTraits<T>::load(base[k][sum_off[k]]);
        if constexpr (std::is_floating_point_v<C>)
          prod *= static_cast<double>(v);
        else
          prod *= static_cast<uint64_t>(static_cast<int64_t>(v));
      }
      acc += prod;
      for (std::size_t j = ns; j-- > 0;) {
        const std::size_t L = p.sum_labels[j];
        for (std::size_t k = 0; k < nops; ++k) sum_off[k] += p.strides[k][L];
        if (++spos[j] < p.size[L]) break;
        for (std::size_t k = 0; k < nops; ++k) sum_off[k] -= p.strides[k][L] * p.size[L];
        spos[j] = 0;
      }
    }
    if constexpr (std::is_floating_point_v<C>)
      dst[o] = ElementTraits<T>::store(static_cast<C>(acc));
    else
      dst[o] = static_cast<T>(acc);
    for (std::size_t j = no; j-- > 0;) {
      const std::size_t L = p.out_labels[j];
      for (std::size_t k = 0; k < nops; ++k) out_off[k] += p.strides[k][L];
      if (++opos[j] < p.size[L]) break;
      for (std::size_t k = 0; k < nops; ++k) out_off[k] -= p.strides[k][L] * p.size[L];
      opos[j] = 0;
    }
  }
}

// Copies operand `t` (its strides by label in `strides`) into a contiguous buffer ordered by `order`.
std::vector<float> gather_float(const Tensor& t, const std::vector<int64_t>& strides, const std::vector<int64_t>& size,
                                const std::vector<std::size_t>& order) {
  std::vector<int64_t> shape, steps;
  int64_t n = 1;
  for (std::size_t L : order) shape.push_back(size[L]), steps.push_back(strides[L]), n *= size[L];
  std::vector<float> out(static_cast<std::size_t>(n));
  if (n > 0) copy_strided(DType::kFloat32, t.raw(), 0, shape, steps, out.data());
  return out;
}

// Two float32 operands without diagonals, broadcasting or labels summed within one operand: a batched GEMM.
// Returns false (having done nothing) when the equation is not of that form.
Result<bool> try_gemm(KernelContext& ctx, const Plan& p, const std::vector<const Tensor*>& ops, Tensor& y) {
  if (ops.size() != 2 || ops[0]->dtype() != DType::kFloat32 || p.repeated[0] || p.repeated[1]) return false;
  std::vector<std::size_t> batch, m, n, k;
  std::vector<bool> in_out(p.size.size(), false);
  for (std::size_t L : p.out_labels) in_out[L] = true;
  for (std::size_t L = 0; L < p.size.size(); ++L) {
    const bool a = p.strides[0][L] != 0, b = p.strides[1][L] != 0;
    if (p.size[L] == 1) continue;  // size 1: belongs anywhere
    if (!a && !b) return false;    // broadcast
    if (a && b) (in_out[L] ? batch : k).push_back(L);
    else if (!in_out[L]) return false;  // summed within one operand
    else (a ? m : n).push_back(L);
  }
  int64_t B = 1, M = 1, N = 1, K = 1;
  for (std::size_t L : batch) B *= p.size[L];
  for (std::size_t L : m) M *= p.size[L];
  for (std::size_t L : n) N *= p.size[L];
  for (std::size_t L : k) K *= p.size[L];
  std::vector<std::size_t> a_order = batch, b_order = batch, c_order = batch;
  a_order.insert(a_order.end(), m.begin(), m.end());
  a_order.insert(a_order.end(), k.begin(), k.end());
  b_order.insert(b_order.end(), k.begin(), k.end());
  b_order.insert(b_order.end(), n.begin(), n.end());
  c_order.insert(c_order.end(), m.begin(), m.end());
  c_order.insert(c_order.end(), n.begin(), n.end());
  if (y.numel() == 0) return true;
  const std::vector<float> a = gather_float(*ops[0], p.strides[0], p.size, a_order);
  const std::vector<float> b = gather_float(*ops[1], p.strides[1], p.size, b_order);
  std::vector<float> c(static_cast<std::size_t>(B * M * N));
  ctx.note_workspace((a.size() + b.size() + c.size()) * sizeof(float));
  for (int64_t i = 0; i < B; ++i) {
    Status s = sgemm(false, false, M, N, K, 1.0f, a.data() + i * M * K, std::max<int64_t>(K, 1),
                     b.data() + i * K * N, std::max<int64_t>(N, 1), 0.0f, c.data() + i * M * N, std::max<int64_t>(N, 1));
    if (!s.is_ok()) return ctx.error(s.message());
  }
  // c is ordered (batch, m, n); the output wants p.out_labels' order: read c through its strides.
  std::vector<int64_t> c_shape, c_strides(p.size.size(), 0);
  for (std::size_t L : c_order) c_shape.push_back(p.size[L]);
  const std::vector<int64_t> st = row_major_strides(c_shape);
  for (std::size_t i = 0; i < c_order.size(); ++i) c_strides[c_order[i]] = st[i];
  std::vector<int64_t> shape, steps;
  for (std::size_t L : p.out_labels) shape.push_back(p.size[L]), steps.push_back(c_strides[L]);
  if (y.numel() > 0) copy_strided(DType::kFloat32, c.data(), 0, shape, steps, y.raw());
  return true;
}

class EinsumKernel final : public Kernel {
 public:
  explicit EinsumKernel(Equation eq) : eq_(std::move(eq)) {}

  Status run(KernelContext& ctx) const override {
    std::vector<const Tensor*> ops;
    for (std::size_t k = 0; k < ctx.num_inputs(); ++k) {
      TANDEM_ASSIGN_OR_RETURN(const Tensor* t, required_input(ctx, k, "Inputs"));
      TANDEM_RETURN_IF_ERROR(check_movable(ctx, *t, "input " + std::to_string(k)));
      if (!ops.empty() && t->dtype() != ops[0]->dtype())
        return ctx.error("input " + std::to_string(k) + " is " + t->describe() + " but input 0 is " +
                         ops[0]->describe());
      ops.push_back(t);
    }
    if (ops.empty()) return ctx.error("needs at least one input");
    TANDEM_ASSIGN_OR_RETURN(Plan p, resolve(ctx, eq_, ops));
    std::vector<int64_t> shape;
    for (std::size_t L : p.out_labels) shape.push_back(p.size[L]);
    TANDEM_RETURN_IF_ERROR(check_output_size(ctx, shape, ops[0]->dtype()));
    Tensor& y = ctx.allocate_output(0, ops[0]->dtype(), shape);
    TANDEM_ASSIGN_OR_RETURN(bool done, try_gemm(ctx, p, ops, y));
    if (done) return Status::ok();
    const bool known = dispatch(ops[0]->dtype(), NumericTypes{}, [&](auto tag) {
      contract<typename decltype(tag)::type>(p, ops, y);
    });
    if (!known)
      return ctx.error("type " + std::string(dtype_name(ops[0]->dtype())) + " is not supported (" +
                       type_names(NumericTypes{}) + " are)");
    return Status::ok();
  }

 private:
  Equation eq_;
};

Result<KernelPtr> make_einsum(const KernelInit& init) {
  prepare_sgemm();
  const Node& n = init.node();
  if (!has_attr(n, "equation")) return init.error("attribute 'equation' is required");
  auto eq = parse_equation(attr_string(n, "equation", ""));
  if (!eq) return init.error(eq.status().message());
  return KernelPtr(new EinsumKernel(std::move(*eq)));
}

}  // namespace

void register_einsum_kernels(KernelRegistry& r) { r.add("Einsum", make_einsum); }

}  // namespace tandem::cpu
