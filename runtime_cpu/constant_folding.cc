#include "runtime_cpu/constant_folding.h"

#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph/if_inlining.h"
#include "graph/topo_order.h"
#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"

namespace tandem::cpu {
namespace {

// Ops whose result is not a function of their inputs: each run must draw afresh.
bool draws_randomly(const Node& n) {
  static const std::set<std::string> random_ops = {"RandomUniform",     "RandomNormal", "RandomUniformLike",
                                                   "RandomNormalLike",  "Bernoulli",    "Multinomial",
                                                   "Dropout"};
  return random_ops.count(n.op_type) > 0;
}

// Bytes a constant holds (a string's characters included).
int64_t held_bytes(const TensorData& d) {
  int64_t bytes = static_cast<int64_t>(d.bytes.size());
  for (const std::string& s : d.strings) bytes += static_cast<int64_t>(sizeof(std::string) + s.size());
  return bytes;
}

// Bytes a value of static shape will hold; nullopt when its shape or type is not known or too large to say.
std::optional<int64_t> static_bytes(const Value& v) {
  if (v.form != ValueForm::kTensor || v.dtype == DType::kUndefined) return std::nullopt;
  const std::optional<int64_t> n = v.shape.num_elements();
  if (!n) return std::nullopt;
  const int64_t element = v.dtype == DType::kString ? static_cast<int64_t>(sizeof(std::string))
                                                    : static_cast<int64_t>(dtype_size(v.dtype));
  if (element > 0 && *n > INT64_MAX / element) return std::nullopt;
  return *n * element;
}

TensorDataPtr constant_of(const Tensor& t) {
  auto d = std::make_shared<TensorData>();
  d->dtype = t.dtype();
  d->dims = t.shape();
  if (t.dtype() == DType::kString) {
    const std::string* s = t.data<std::string>();
    d->strings.assign(s, s + t.numel());
  } else if (t.nbytes() > 0) {
    d->bytes.resize(t.nbytes());
    std::memcpy(d->bytes.data(), t.raw(), t.nbytes());
  }
  return d;
}

bool same_dims(const Shape& s, const std::vector<int64_t>& dims) {
  if (!s.has_rank() || s.dims().size() != dims.size()) return false;
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (!s.dims()[i].is_known() || s.dims()[i].value != dims[i]) return false;
  return true;
}

// Runs node `id` of `g` alone on the CPU, its inputs the constants `inputs` (nullptr for an omitted one),
// through the executor every run uses. Nothing when it cannot run, fails, or makes other than declared.
std::optional<std::vector<TensorDataPtr>> evaluate(const Graph& g, NodeId id,
                                                   const std::vector<TensorDataPtr>& inputs) {
  const Node& n = g.node(id);
  Graph one;
  one.name = g.name;
  Node copy;
  copy.name = n.name;
  copy.op_type = n.op_type;
  copy.domain = n.domain;
  copy.opset = n.opset;
  copy.attributes = n.attributes;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoValue) {
      copy.inputs.push_back(kNoValue);
      continue;
    }
    const Value& from = g.value(n.inputs[i]);
    ValueId v = one.find_value(from.name);  // a value may be read twice
    if (v == kNoValue) {
      v = one.add_value(from.name, ValueKind::kInitializer);
      Value& to = one.value(v);
      to.data = inputs[i];
      to.dtype = inputs[i]->dtype;
      std::vector<Dim> dims;
      for (int64_t d : inputs[i]->dims) dims.push_back(Dim::known(d));
      to.shape = Shape(std::move(dims));
      one.add_initializer(v);
    }
    copy.inputs.push_back(v);
  }
  for (ValueId out : n.outputs) {
    if (out == kNoValue) {
      copy.outputs.push_back(kNoValue);
      continue;
    }
    const Value& from = g.value(out);
    const ValueId v = one.add_value(from.name, ValueKind::kNodeOutput);
    one.value(v).dtype = from.dtype;
    one.value(v).shape = from.shape;
    one.add_output(v);
    copy.outputs.push_back(v);
  }
  one.add_node(std::move(copy));

  const CpuDevice cpu;
  if (!cpu.supports(one, 0).ok) return std::nullopt;
  Result<std::shared_ptr<const GraphExecutor>> exec = GraphExecutor::compile(one, cpu);
  if (!exec) return std::nullopt;
  Result<std::vector<Tensor>> outs = (*exec)->run({});
  if (!outs) return std::nullopt;
  std::vector<TensorDataPtr> made;
  for (std::size_t i = 0; i < outs->size(); ++i) {
    const Tensor& t = (*outs)[i];
    const Value& declared = one.value(one.outputs()[i]);
    if (!t.is_tensor() || t.device() != DeviceKind::kCpu || t.dtype() != declared.dtype ||
        !same_dims(declared.shape, t.shape()))
      return std::nullopt;
    made.push_back(constant_of(t));
  }
  return made;
}

class Folder {
 public:
  explicit Folder(const ConstantFoldingOptions& options) : options_(options) {}

  // Folds `g`, whose enclosing graphs (innermost last) are `enclosing`; an If whose condition is (or has
  // become) constant gives way to its branch, whose nodes may then fold further.
  void fold(Graph& g, std::vector<const Graph*>& enclosing) {
    do fold_nodes(g, enclosing);
    while (inline_constant_ifs(g, enclosing));
  }

  std::size_t count() const { return count_; }
  std::size_t ifs_inlined() const { return ifs_inlined_; }

 private:
  void fold_nodes(Graph& g, std::vector<const Graph*>& enclosing) {
    std::vector<bool> folded(g.num_nodes(), false);
    bool changed = false;
    for (std::size_t i = 0; i < g.num_nodes(); ++i) {
      const auto id = static_cast<NodeId>(i);
      // An If that will give way to one branch: the other is not worth folding (inline_constant_ifs folds
      // the bodies of one it cannot replace).
      if (!constant_condition(g, id, enclosing) && fold_bodies(g, id, enclosing)) changed = true;
      if (try_fold(g, id, enclosing)) folded[i] = changed = true;
    }
    if (!changed) return;
    // The folded nodes' outputs are initializers now: detach them so the removal keeps those values, then
    // drop every value nothing reads any more (the folded nodes' constant inputs among them).
    for (std::size_t i = 0; i < g.num_nodes(); ++i)
      if (folded[i]) g.node(static_cast<NodeId>(i)).outputs.clear();
    g.remove_nodes(folded);
    g.remove_unread_outer_refs();
  }

  // The branch If node `id` takes on every run: its condition is one constant bool. Anything else (a
  // computed condition; a constant of another type or size, which the If kernel names at run time) is
  // nullopt.
  static std::optional<bool> constant_condition(const Graph& g, NodeId id, const std::vector<const Graph*>& enclosing) {
    const Node& n = g.node(id);
    if (n.op_type != "If" || !n.domain.empty() || n.inputs.empty() || n.inputs[0] == kNoValue) return std::nullopt;
    const TensorDataPtr cond = constant(g, n.inputs[0], enclosing);
    if (!cond || cond->dtype != DType::kBool || cond->bytes.size() != 1) return std::nullopt;
    return cond->bytes[0] != std::byte{0};
  }

  // Replaces each If of `g` whose condition is a constant by the branch it takes (graph/if_inlining.h).
  // Whether any was.
  bool inline_constant_ifs(Graph& g, std::vector<const Graph*>& enclosing) {
    std::vector<bool> spliced(g.num_nodes(), false);
    bool any = false;
    const std::size_t before = g.num_nodes();  // splicing appends
    for (std::size_t i = 0; i < before; ++i) {
      const auto id = static_cast<NodeId>(i);
      const std::optional<bool> cond = constant_condition(g, id, enclosing);
      if (!cond) continue;
      if (!splice_if_branch(g, id, *cond).is_ok()) {
        fold_bodies(g, id, enclosing);  // the If stays: fold_nodes left its bodies to this pass
        continue;
      }
      spliced[i] = any = true;
      ++ifs_inlined_;
    }
    if (!any) return false;
    spliced.resize(g.num_nodes(), false);
    for (std::size_t i = 0; i < before; ++i)
      if (spliced[i]) g.node(static_cast<NodeId>(i)).outputs.clear();  // now written by the spliced nodes
    g.remove_nodes(spliced);
    Result<std::vector<NodeId>> order = topological_order(g);
    if (order) g.reorder_nodes(*order);  // a cycle cannot appear: the branch read only what the If did
    g.remove_unread_outer_refs();
    return true;
  }

  // Folds the bodies of node `id`; keeps only the implicit inputs they still read. Whether anything changed.
  bool fold_bodies(Graph& g, NodeId id, std::vector<const Graph*>& enclosing) {
    Node& n = g.node(id);
    std::vector<Graph*> bodies;
    for (auto& [name, a] : n.attributes) {
      if (a.g) bodies.push_back(a.g.get());
      for (auto& body : a.graphs) bodies.push_back(body.get());
    }
    if (bodies.empty()) return false;
    const std::size_t before = count_;
    enclosing.push_back(&g);
    for (Graph* body : bodies) fold(*body, enclosing);
    enclosing.pop_back();
    std::set<std::string> read;
    for (const Graph* body : bodies)
      for (ValueId v : body->outer_refs()) read.insert(body->value(v).name);
    const std::size_t implicit = n.implicit_inputs.size();
    std::erase_if(n.implicit_inputs, [&](ValueId v) { return !read.count(g.value(v).name); });
    return count_ != before || n.implicit_inputs.size() != implicit;
  }

  // The constant value `v` of `g` stands for, or nullptr when it is computed or fed at run time.
  static TensorDataPtr constant(const Graph& g, ValueId v, const std::vector<const Graph*>& enclosing) {
    const Value& val = g.value(v);
    if (val.kind == ValueKind::kInitializer) return val.data;
    if (val.kind != ValueKind::kOuterScope) return nullptr;  // an input's default can be overridden
    for (auto it = enclosing.rbegin(); it != enclosing.rend(); ++it) {
      const ValueId outer = (*it)->find_value(val.name);
      if (outer == kNoValue) continue;
      const Value& o = (*it)->value(outer);
      if (o.kind == ValueKind::kInitializer) return o.data;
      if (o.kind != ValueKind::kOuterScope) return nullptr;
    }
    return nullptr;
  }

  bool try_fold(Graph& g, NodeId id, const std::vector<const Graph*>& enclosing) {
    const Node& n = g.node(id);
    if (!n.domain.empty() || draws_randomly(n) || !n.subgraphs().empty() || !n.implicit_inputs.empty())
      return false;
    std::vector<TensorDataPtr> inputs;
    int64_t in_bytes = 0;
    for (ValueId v : n.inputs) {
      if (v == kNoValue) {
        inputs.push_back(nullptr);
        continue;
      }
      TensorDataPtr data = constant(g, v, enclosing);
      if (!data || g.value(v).form != ValueForm::kTensor) return false;
      in_bytes += held_bytes(*data);
      inputs.push_back(std::move(data));
    }
    int64_t out_bytes = 0;
    bool any_output = false;
    for (ValueId v : n.outputs) {
      if (v == kNoValue) continue;
      const std::optional<int64_t> bytes = static_bytes(g.value(v));
      if (!bytes || g.is_graph_output(v)) return false;  // a graph output stays what a node makes
      out_bytes += *bytes;
      any_output = true;
    }
    if (!any_output || out_bytes > in_bytes + options_.max_growth_bytes) return false;

    std::optional<std::vector<TensorDataPtr>> made = evaluate(g, id, inputs);
    if (!made) return false;
    std::size_t k = 0;
    for (ValueId v : std::vector<ValueId>(n.outputs)) {
      if (v == kNoValue) continue;
      Value& out = g.value(v);
      out.kind = ValueKind::kInitializer;
      out.data = (*made)[k++];
      out.producer = kNoNode;
      out.producer_output = -1;
      g.add_initializer(v);
    }
    ++count_;
    return true;
  }

  ConstantFoldingOptions options_;
  std::size_t count_ = 0, ifs_inlined_ = 0;
};

}  // namespace

ConstantFoldingReport fold_constants(Graph& g, const ConstantFoldingOptions& options) {
  Folder folder(options);
  std::vector<const Graph*> enclosing;
  folder.fold(g, enclosing);
  return {folder.count(), folder.ifs_inlined()};
}

}  // namespace tandem::cpu
