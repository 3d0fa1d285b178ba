#include "onnx_import/function_inliner.h"

#include <set>
#include <unordered_set>
#include <vector>

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include "onnx_import/limits.h"
#include "onnx_import/opsets.h"
#include "onnx_import/proto_walk.h"
#include "onnx_import/schema_registry.h"

// Why not libonnx 1.12's FunctionExpandHelper (onnx/defs/function.h): it is written for ONNX's own function
// ops. It looks the called op up in the global schema registry to fill in attribute defaults and dereferences
// the result, which for a model-local function is null: a call crashes (tried: segmentation fault), and it
// throws unless the function imports its own domain (torch's functions do not). Beyond that it maps formal
// inputs the call leaves out at the end to made-up internal names instead of "" (omitted), neither renames nor
// substitutes ref_attr_name inside If/Loop/Scan bodies in the function, keeps the body's node names (two call
// sites make duplicates), names intermediate values after the call node's address when it has no name (not
// deterministic, and never checked against the model's names) and does not expand calls nested in the body.
// FunctionProto in 1.12 has only attribute names (no `attribute_proto` defaults; those came with IR 9), so an
// attribute the caller leaves out is simply left out, as ONNX specifies.

namespace tandem::onnx_import {
namespace {

using onnx::AttributeProto;
using onnx::FunctionProto;
using onnx::GraphProto;
using onnx::NodeProto;
using Nodes = google::protobuf::RepeatedPtrField<NodeProto>;
using FunctionKey = std::pair<std::string, std::string>;  // (normalised domain, name)

std::string node_label(const NodeProto& n, int index) {
  std::string who = n.name().empty() ? "#" + std::to_string(index) : "'" + n.name() + "'";
  return who + " (" + n.op_type() + ")";
}

std::string function_label(const FunctionProto& f) {
  return "function '" + f.name() + "' of domain '" + display_domain(normalize_domain(f.domain())) + "'";
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out.empty() ? "none" : out;
}

// Names nothing in the model uses yet: `base` itself, else base_1, base_2, ...
class NamePool {
 public:
  void take(const std::string& name) {
    if (!name.empty()) used_.insert(name);
  }
  std::string fresh(const std::string& base) {
    if (used_.insert(base).second) return base;
    int64_t& k = next_[base];
    std::string name;
    do name = base + "_" + std::to_string(++k);
    while (!used_.insert(name).second);
    return name;
  }

 private:
  std::unordered_set<std::string> used_;
  std::unordered_map<std::string, int64_t> next_;
};

// A function body's names -> the names they get where it is inlined. A body nested in the function looks
// outward; the function's own scope has no parent, since a function sees nothing but its inputs.
struct Scope {
  std::unordered_map<std::string, std::string> names;
  const Scope* parent = nullptr;
  const std::string* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->names.find(name);
      if (it != s->names.end()) return &it->second;
    }
    return nullptr;
  }
};

struct Ctx;

// An attribute as a call site wrote it, and the context its graphs (if any) belong to: a graph given to a
// function refers to the caller's names, so it is instantiated in the caller's context wherever it lands.
struct BoundAttr {
  const AttributeProto* attr = nullptr;
  const Ctx* ctx = nullptr;
};

struct FunctionInfo {
  const FunctionProto* fn = nullptr;
  std::map<std::string, int64_t> opsets;  // normalised domain -> version, as the function imports them
  std::set<std::string> attributes;       // the attribute names it declares
};

// One call being expanded.
struct Instance {
  const FunctionInfo* info = nullptr;
  std::map<std::string, BoundAttr> attrs;  // what the call gives, by the function's attribute names
  std::string prefix;                      // of its values' and nodes' names
  std::string origin;                      // "from function 'F' of domain 'd'"
};

struct Ctx {
  const Instance* inst = nullptr;  // null: the model's own graphs, where nothing is renamed
  const Scope* scope = nullptr;    // set exactly when inst is
  const Ctx* caller = nullptr;     // the context of the call that made `inst`
  std::string where;               // message prefix locating the graph
  int depth = 0;                   // calls nested
};

bool attribute_required(const onnx::OpSchema* schema, const std::string& name) {
  if (!schema) return false;
  auto it = schema->attributes().find(name);
  return it != schema->attributes().end() && it->second.required;
}

class Inliner {
 public:
  Inliner(onnx::ModelProto& m, const std::map<std::string, int64_t>& model_opsets, InlineSummary& summary)
      : m_(m), model_opsets_(model_opsets), proto_opsets_(model_opsets), summary_(summary) {}

  Status run() {
    TANDEM_RETURN_IF_ERROR(read_functions());
    summary_.functions = static_cast<int>(functions_.size());
    if (functions_.empty()) return Status::ok();
    reserve_names();
    Ctx root;
    TANDEM_RETURN_IF_ERROR(expand_graph(*m_.mutable_graph(), root));
    for (const auto& [domain, version] : added_imports_) {
      auto* imp = m_.add_opset_import();
      imp->set_domain(domain);
      imp->set_version(version);
    }
    m_.clear_functions();
    return Status::ok();
  }

 private:
  Status read_functions() {
    for (const auto& f : m_.functions()) {
      if (f.name().empty()) return Status::error("a model-local function has no name");
      const FunctionKey key{normalize_domain(f.domain()), f.name()};
      FunctionInfo info;
      info.fn = &f;
      for (const auto& imp : f.opset_import()) {
        const std::string d = normalize_domain(imp.domain());
        const std::string what = function_label(f) + " imports domain '" + display_domain(d) + "'";
        if (!info.opsets.emplace(d, imp.version()).second) return Status::error(what + " twice");
        if (imp.version() < 1)
          return Status::error(what + " at version " + std::to_string(imp.version()) + ", which does not exist");
        if (d.empty() && imp.version() > kMaxDefaultOpset)
          return Status::error(what + " at opset " + std::to_string(imp.version()) +
                               ", newer than tandem supports (up to " + std::to_string(kMaxDefaultOpset) + ")");
      }
      for (const auto& a : f.attribute()) info.attributes.insert(a);
      if (!functions_.emplace(key, std::move(info)).second)
        return Status::error("the model defines " + function_label(f) + " twice");
    }
    return Status::ok();
  }

  const FunctionInfo* function_called(const NodeProto& n) const {
    auto it = functions_.find({normalize_domain(n.domain()), n.op_type()});
    return it == functions_.end() ? nullptr : &it->second;
  }

  // Every name the model's own graphs use, so names made for inlined values and nodes never collide. A call
  // node's name is not kept: the call disappears and its name becomes the prefix of what replaces it.
  void reserve_names() {
    for_each_proto_graph(*m_.mutable_graph(), [&](GraphProto& g) {
      for (const auto& v : g.input()) values_.take(v.name());
      for (const auto& v : g.output()) values_.take(v.name());
      for (const auto& v : g.value_info()) values_.take(v.name());
      for (const auto& t : g.initializer()) values_.take(t.name());
      for (const auto& t : g.sparse_initializer()) values_.take(t.values().name());
      for (const auto& n : g.node()) {
        for (const auto& x : n.input()) values_.take(x);
        for (const auto& x : n.output()) values_.take(x);
        if (!function_called(n)) nodes_.take(n.name());
      }
    });
  }

  // A graph of the model's own (ctx.inst == null): its nodes move to a new list, calls replaced by bodies.
  Status expand_graph(GraphProto& g, const Ctx& ctx) {
    Nodes old;
    old.Swap(g.mutable_node());
    for (int i = 0; i < old.size(); ++i) TANDEM_RETURN_IF_ERROR(emit(*old.Mutable(i), i, ctx, *g.mutable_node()));
    return Status::ok();
  }

  // The graphs held by attribute `a` of a node at `where`, made concrete in `ctx`.
  Status instantiate_graphs(AttributeProto& a, const Ctx& ctx, const std::string& where) {
    if (a.has_g()) TANDEM_RETURN_IF_ERROR(instantiate(*a.mutable_g(), ctx, where + "in " + a.name() + ": "));
    for (int k = 0; k < a.graphs_size(); ++k)
      TANDEM_RETURN_IF_ERROR(
          instantiate(*a.mutable_graphs(k), ctx, where + "in " + a.name() + "[" + std::to_string(k) + "]: "));
    return Status::ok();
  }

  // A graph nested in a node: in a function body, every name it defines gets a fresh one and the names it
  // reads from the function are renamed; either way, the calls in it are expanded.
  Status instantiate(GraphProto& g, const Ctx& outer, const std::string& where) {
    Ctx ctx = outer;
    ctx.where = where;
    if (!outer.inst) return expand_graph(g, ctx);
    Scope scope;
    scope.parent = outer.scope;
    const std::string& prefix = outer.inst->prefix;
    auto define = [&](const std::string& name) -> const std::string& {
      auto [it, fresh] = scope.names.emplace(name, std::string());
      if (fresh) it->second = name.empty() ? name : values_.fresh(prefix + "/" + name);
      return it->second;
    };
    for (auto& in : *g.mutable_input()) in.set_name(define(in.name()));
    for (auto& t : *g.mutable_initializer()) t.set_name(define(t.name()));
    for (auto& t : *g.mutable_sparse_initializer()) t.mutable_values()->set_name(define(t.values().name()));
    for (const auto& n : g.node())
      for (const auto& out : n.output()) define(out);  // renamed as each node is emitted
    for (auto& out : *g.mutable_output()) {
      const std::string* actual = scope.find(out.name());
      if (!actual)
        return Status::error(where + "graph output '" + out.name() +
                             "' is neither defined in the body nor visible to it from the function");
      out.set_name(*actual);
    }
    google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> infos;
    infos.Swap(g.mutable_value_info());
    for (auto& vi : infos)
      if (const std::string* actual = scope.find(vi.name())) {
        vi.set_name(*actual);
        g.add_value_info()->Swap(&vi);
      }
    ctx.scope = &scope;
    return expand_graph(g, ctx);
  }

  // The name `name` read at `where` gets in `ctx` ("" stays "": an omitted optional input).
  Result<std::string> actual_name(const std::string& name, const Ctx& ctx, const std::string& what) const {
    if (name.empty() || !ctx.inst) return name;
    const std::string* actual = ctx.scope->find(name);
    if (!actual) return Status::error(what + " '" + name + "' is neither an input of the function nor defined in it");
    return *actual;
  }

  // Node `n` (a working copy this may consume) of a graph in `ctx`, appended to `out` as it is, renamed, or
  // replaced by the body of the function it calls.
  Status emit(NodeProto& n, int index, const Ctx& ctx, Nodes& out) {
    const std::string where = ctx.where + "node " + node_label(n, index) + ": ";
    if (const FunctionInfo* f = function_called(n)) return expand_call(n, *f, where, ctx, out);
    NodeProto* node = out.Add();
    node->Swap(&n);
    if (!ctx.inst) {
      for (auto& a : *node->mutable_attribute()) TANDEM_RETURN_IF_ERROR(instantiate_graphs(a, ctx, where));
      return Status::ok();
    }

    const Instance& inst = *ctx.inst;
    const FunctionProto& fn = *inst.info->fn;
    const std::string domain = normalize_domain(node->domain());
    if (!is_supported_domain(domain))
      return Status::error(where + "calls '" + node->op_type() + "' of domain '" + display_domain(domain) +
                           "', which is neither a model-local function nor an op of a domain tandem knows");
    int64_t version = 0;
    if (auto it = inst.info->opsets.find(domain); it != inst.info->opsets.end()) version = it->second;
    else if (auto mit = model_opsets_.find(domain); mit != model_opsets_.end()) version = mit->second;
    else
      return Status::error(where + "uses domain '" + display_domain(domain) + "', which neither " +
                           function_label(fn) + " nor the model imports");
    TANDEM_RETURN_IF_ERROR(check_opset_agrees(*node, domain, version, where));
    const onnx::OpSchema* schema = schema_registry().GetSchema(node->op_type(), static_cast<int>(version), domain);

    for (int k = 0; k < node->input_size(); ++k) {
      TANDEM_ASSIGN_OR_RETURN(std::string name,
                              actual_name(node->input(k), ctx, where + "input " + std::to_string(k)));
      node->set_input(k, name);
    }
    for (int k = 0; k < node->output_size(); ++k) {
      if (node->output(k).empty()) continue;
      const std::string* actual = ctx.scope->find(node->output(k));  // every output was given a name up front
      if (!actual) return Status::error(where + "output '" + node->output(k) + "' has no name where inlined");
      node->set_output(k, *actual);
    }
    node->set_name(nodes_.fresh(inst.prefix + "/" + (node->name().empty() ? node->op_type() : node->name())));

    google::protobuf::RepeatedPtrField<AttributeProto> attrs;
    attrs.Swap(node->mutable_attribute());
    for (auto& a : attrs) {
      if (a.ref_attr_name().empty()) {
        AttributeProto* c = node->add_attribute();
        c->Swap(&a);
        TANDEM_RETURN_IF_ERROR(instantiate_graphs(*c, ctx, where));
        continue;
      }
      const std::string& ref = a.ref_attr_name();
      const std::string what = where + "attribute '" + a.name() + "' refers to '" + ref + "'";
      if (!inst.info->attributes.count(ref))
        return Status::error(what + ", which " + function_label(fn) + " does not declare (it declares " +
                             join(fn.attribute()) + ")");
      auto bound = inst.attrs.find(ref);
      if (bound == inst.attrs.end()) {
        // ONNX: an attribute that refers to one the call leaves out is itself left out (the op's default).
        if (attribute_required(schema, a.name()))
          return Status::error(what + ", which the call does not give, and " + node->op_type() + " requires it");
        continue;
      }
      AttributeProto* c = node->add_attribute();
      *c = *bound->second.attr;
      c->set_name(a.name());
      TANDEM_RETURN_IF_ERROR(instantiate_graphs(*c, *bound->second.ctx, where));
    }
    return record(node, version, inst);
  }

  Status record(const NodeProto* node, int64_t version, const Instance& inst) {
    if (static_cast<int64_t>(summary_.nodes.size()) >= kMaxInlinedNodes)
      return Status::error("expanding the model-local functions makes more than " +
                           std::to_string(kMaxInlinedNodes) + " nodes");
    summary_.nodes.emplace(node, InlinedNode{version, inst.origin});
    return Status::ok();
  }

  // libonnx's checker and shape inference see one version per domain, the model's, so an inlined node is
  // checked and inferred at the model's version. ONNX (onnx.proto, FunctionProto.opset_import) requires the
  // schema an op resolves to at the function's version to be the one it resolves to at the model's; where
  // it is, that is exact, and the IR still records the function's version. A domain only the function
  // imports is added to the model proto's imports (first function's version).
  Status check_opset_agrees(const NodeProto& node, const std::string& domain, int64_t version,
                            const std::string& where) {
    auto [it, added] = proto_opsets_.emplace(domain, version);
    if (added) {
      added_imports_.emplace_back(domain, version);
      return Status::ok();
    }
    const int64_t model_version = it->second;
    if (model_version == version) return Status::ok();
    const auto& reg = schema_registry();
    const onnx::OpSchema* at_function = reg.GetSchema(node.op_type(), static_cast<int>(version), domain);
    const onnx::OpSchema* at_model = reg.GetSchema(node.op_type(), static_cast<int>(model_version), domain);
    if (!at_function && !at_model) return Status::ok();  // an unknown op: the builder names it
    if (at_function && at_model && at_function->since_version() == at_model->since_version()) return Status::ok();
    auto since = [](const onnx::OpSchema* s) {
      return s ? "the definition from opset " + std::to_string(s->since_version()) : std::string("no definition");
    };
    return Status::error(where + "uses '" + node.op_type() + "' at opset " + std::to_string(version) + " of domain '" +
                         display_domain(domain) + "' as its function imports it (" + since(at_function) +
                         "), but the model imports opset " + std::to_string(model_version) + " (" +
                         since(at_model) + "); ONNX requires a function's opsets to give every op it uses the "
                         "same definition as the model's");
  }

  // Replaces call `n` (at `where`, in `ctx`) by the body of function `f`, appended to `out`.
  Status expand_call(NodeProto& n, const FunctionInfo& f, const std::string& where, const Ctx& ctx, Nodes& out) {
    const FunctionProto& fn = *f.fn;
    for (const Ctx* c = &ctx; c; c = c->caller)
      if (c->inst && c->inst->info == &f) {
        std::string chain = fn.name();
        for (const Ctx* d = &ctx; d; d = d->caller)
          if (d->inst) {
            chain = d->inst->info->fn->name() + " -> " + chain;
            if (d->inst->info == &f) break;
          }
        return Status::error(where + "calls " + function_label(fn) + " recursively (" + chain + ")");
      }
    if (ctx.depth + 1 > kMaxFunctionNesting)
      return Status::error(where + "nests function calls more than " + std::to_string(kMaxFunctionNesting) +
                           " levels deep");
    if (n.input_size() > fn.input_size())
      return Status::error(where + "gives " + std::to_string(n.input_size()) + " inputs, but " + function_label(fn) +
                           " declares " + std::to_string(fn.input_size()) + " (" + join(fn.input()) + ")");
    if (n.output_size() > fn.output_size())
      return Status::error(where + "asks for " + std::to_string(n.output_size()) + " outputs, but " +
                           function_label(fn) + " declares " + std::to_string(fn.output_size()) + " (" +
                           join(fn.output()) + ")");

    Instance inst;
    inst.info = &f;
    inst.origin = "from " + function_label(fn);
    const std::string base = n.name().empty() ? fn.name() : n.name();
    inst.prefix = nodes_.fresh(ctx.inst ? ctx.inst->prefix + "/" + base : base);

    for (const auto& a : n.attribute()) {
      const std::string what = where + "attribute '" + a.name() + "'";
      if (a.name().empty()) return Status::error(where + "has an attribute with an empty name");
      if (!f.attributes.count(a.name()))
        return Status::error(what + " is not declared by " + function_label(fn) + " (it declares " +
                             join(fn.attribute()) + ")");
      if (inst.attrs.count(a.name())) return Status::error(where + "has attribute '" + a.name() + "' twice");
      if (a.ref_attr_name().empty()) {
        inst.attrs.emplace(a.name(), BoundAttr{&a, &ctx});
        continue;
      }
      if (!ctx.inst) return Status::error(what + " refers to a function attribute outside any function");
      const FunctionInfo& outer = *ctx.inst->info;
      if (!outer.attributes.count(a.ref_attr_name()))
        return Status::error(what + " refers to '" + a.ref_attr_name() + "', which " + function_label(*outer.fn) +
                             " does not declare (it declares " + join(outer.fn->attribute()) + ")");
      auto bound = ctx.inst->attrs.find(a.ref_attr_name());
      if (bound != ctx.inst->attrs.end()) inst.attrs.emplace(a.name(), bound->second);  // else left out too
    }

    // The body's names: formal inputs -> the call's (omitted: ""), formal outputs -> the call's (or fresh
    // names where the call leaves them out: they may still be read inside), everything else fresh.
    Scope scope;
    std::set<std::string> inputs;
    for (int i = 0; i < fn.input_size(); ++i) {
      const std::string& formal = fn.input(i);
      if (formal.empty()) return Status::error(where + function_label(fn) + " has an input with an empty name");
      std::string actual;
      if (i < n.input_size()) {
        TANDEM_ASSIGN_OR_RETURN(actual, actual_name(n.input(i), ctx, where + "input " + std::to_string(i)));
      }
      if (!scope.names.emplace(formal, actual).second)
        return Status::error(where + function_label(fn) + " declares input '" + formal + "' twice");
      inputs.insert(formal);
    }
    std::set<std::string> defined;
    for (int i = 0; i < fn.node_size(); ++i)
      for (const auto& o : fn.node(i).output()) {
        if (o.empty()) continue;
        const std::string what = where + function_label(fn) + ": node " + node_label(fn.node(i), i);
        if (inputs.count(o)) return Status::error(what + " redefines the function's input '" + o + "'");
        if (!defined.insert(o).second) return Status::error(what + " defines '" + o + "', defined before");
      }
    std::vector<std::pair<std::string, std::string>> passthrough;  // (actual input, actual output)
    std::set<std::string> outputs;
    for (int j = 0; j < fn.output_size(); ++j) {
      const std::string& formal = fn.output(j);
      if (!outputs.insert(formal).second)
        return Status::error(where + function_label(fn) + " declares output '" + formal + "' twice");
      std::string actual;
      if (j < n.output_size()) {
        TANDEM_ASSIGN_OR_RETURN(actual, actual_name(n.output(j), ctx, where + "output " + std::to_string(j)));
      }
      if (inputs.count(formal)) {  // the function returns an input as it is
        if (actual.empty()) continue;
        if (scope.names.at(formal).empty())
          return Status::error(where + function_label(fn) + " returns its input '" + formal +
                               "' as output " + std::to_string(j) + ", which the call omits");
        passthrough.emplace_back(scope.names.at(formal), actual);
        continue;
      }
      if (!defined.count(formal))
        return Status::error(where + function_label(fn) + ": output '" + formal + "' is produced by none of its nodes");
      scope.names.emplace(formal, actual.empty() ? values_.fresh(inst.prefix + "/" + formal) : actual);
    }
    for (const std::string& name : defined)
      if (!scope.names.count(name)) scope.names.emplace(name, values_.fresh(inst.prefix + "/" + name));

    Ctx child;
    child.inst = &inst;
    child.scope = &scope;
    child.caller = &ctx;
    child.where = where + "in " + function_label(fn) + ": ";
    child.depth = ctx.depth + 1;
    ++summary_.calls;
    for (int i = 0; i < fn.node_size(); ++i) {
      NodeProto copy = fn.node(i);
      TANDEM_RETURN_IF_ERROR(emit(copy, i, child, out));
    }
    for (const auto& [from, to] : passthrough) {
      NodeProto* id = out.Add();
      id->set_op_type("Identity");
      id->set_name(nodes_.fresh(inst.prefix + "/Identity"));
      id->add_input(from);
      id->add_output(to);
      auto it = model_opsets_.find("");
      const int64_t version = it != model_opsets_.end() ? it->second
                              : f.opsets.count("")     ? f.opsets.at("")
                                                       : 13;
      TANDEM_RETURN_IF_ERROR(check_opset_agrees(*id, "", version, child.where));
      TANDEM_RETURN_IF_ERROR(record(id, version, inst));
    }
    return Status::ok();
  }

  onnx::ModelProto& m_;
  const std::map<std::string, int64_t>& model_opsets_;
  std::map<std::string, int64_t> proto_opsets_;  // the model's, plus what functions add
  std::vector<std::pair<std::string, int64_t>> added_imports_;
  InlineSummary& summary_;
  std::map<FunctionKey, FunctionInfo> functions_;
  NamePool values_, nodes_;
};

}  // namespace

Result<InlineSummary> inline_local_functions(onnx::ModelProto& m, const std::map<std::string, int64_t>& model_opsets) {
  InlineSummary summary;
  TANDEM_RETURN_IF_ERROR(Inliner(m, model_opsets, summary).run());
  return summary;
}

}  // namespace tandem::onnx_import
