#include "onnx_import/graph_builder.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include "onnx_import/opsets.h"
#include "onnx_import/schema_registry.h"
#include "onnx_import/tensor_import.h"
#include "onnx_import/value_type.h"

namespace tandem::onnx_import {
namespace {

// The graph enclosing the one being built, and the node there whose attribute holds it. A name a nested
// graph cannot find locally is looked up here, outward.
struct Scope {
  Graph* graph = nullptr;
  Scope* parent = nullptr;
  std::vector<ValueId>* owner_implicit_inputs = nullptr;  // of the owning node, filled as names resolve
};

// Finds `name` in the scope chain, creating kOuterScope values in the intermediate graphs and recording
// implicit inputs on every owning node on the way, so each graph sees its dependency.
ValueId resolve_in_scope(const std::string& name, Scope* s) {
  if (!s) return kNoValue;
  ValueId v = s->graph->find_value(name);
  if (v == kNoValue) {
    ValueId up = resolve_in_scope(name, s->parent);
    if (up == kNoValue) return kNoValue;
    v = s->graph->add_value(name, ValueKind::kOuterScope);
    s->graph->add_outer_ref(v);
  }
  auto& implicit = *s->owner_implicit_inputs;
  if (std::find(implicit.begin(), implicit.end(), v) == implicit.end()) implicit.push_back(v);
  return v;
}

class Builder {
 public:
  Builder(const BuildSettings& settings) : s_(settings) {}

  Result<std::shared_ptr<Graph>> build(const onnx::GraphProto& gp, Scope* outer, int depth,
                                       const std::string& where) {
    auto g = std::make_shared<Graph>();
    g->name = gp.name();
    TANDEM_RETURN_IF_ERROR(declare_values(gp, *g, outer != nullptr, where));
    for (int i = 0; i < gp.node_size(); ++i)
      TANDEM_RETURN_IF_ERROR(add_node(gp.node(i), i, *g, outer, depth, where));
    TANDEM_RETURN_IF_ERROR(add_outputs(gp, *g, outer, where));
    TANDEM_RETURN_IF_ERROR(apply_value_info(gp, *g, where));
    return g;
  }

 private:
  // First pass: every name the graph defines, so nodes may appear in any order and nested graphs can see
  // all of the enclosing graph's values. Each name may be defined once; an initializer that repeats a
  // graph input's name is that input's default value.
  Status declare_values(const onnx::GraphProto& gp, Graph& g, bool nested, const std::string& where) {
    std::unordered_map<std::string, std::string> defined_by;
    auto define = [&](const std::string& name, const std::string& by) -> Status {
      if (name.empty()) return Status::error(where + by + " has an empty name");
      auto [it, fresh] = defined_by.emplace(name, by);
      if (!fresh)
        return Status::error(where + "value '" + name + "' is defined twice: by " + it->second + " and by " + by);
      return Status::ok();
    };

    for (const auto& in : gp.input()) {
      TANDEM_RETURN_IF_ERROR(define(in.name(), "graph input '" + in.name() + "'"));
      const std::string what = where + "graph input '" + in.name() + "'";
      TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(in.type(), what, nested ? TypeRule::kAny : TypeRule::kInput));
      ValueId v = g.add_value(in.name(), ValueKind::kGraphInput);
      g.value(v).form = t.form;
      g.value(v).dtype = t.dtype;
      g.value(v).shape = t.shape;
      g.add_input(v);
    }
    auto add_initializer = [&](const std::string& name, TensorDataPtr data) -> Status {
      ValueId v = g.find_value(name);
      if (v != kNoValue && g.value(v).kind == ValueKind::kGraphInput && !g.value(v).data) {
        const Value& in = g.value(v);
        if (in.dtype != DType::kUndefined && in.dtype != data->dtype)
          return Status::error(where + "initializer '" + name + "' is " + std::string(dtype_name(data->dtype)) +
                               " but the graph input of that name is " + std::string(dtype_name(in.dtype)));
      } else {
        TANDEM_RETURN_IF_ERROR(define(name, "initializer '" + name + "'"));
        v = g.add_value(name, ValueKind::kInitializer);
        g.add_initializer(v);
      }
      Value& val = g.value(v);
      val.dtype = data->dtype;
      if (val.kind == ValueKind::kInitializer || !val.shape.has_rank()) {
        std::vector<Dim> dims;
        for (int64_t d : data->dims) dims.push_back(Dim::known(d));
        val.shape = Shape(std::move(dims));
      }
      val.data = std::move(data);
      return Status::ok();
    };
    for (const auto& t : gp.initializer()) {
      if (t.name().empty()) return Status::error(where + "an initializer has an empty name");
      TANDEM_ASSIGN_OR_RETURN(TensorDataPtr data,
                              import_tensor(t, *s_.external, where + "initializer '" + t.name() + "'"));
      TANDEM_RETURN_IF_ERROR(add_initializer(t.name(), std::move(data)));
    }
    for (const auto& t : gp.sparse_initializer()) {
      const std::string& name = t.values().name();
      if (name.empty()) return Status::error(where + "a sparse initializer has an empty name");
      TANDEM_ASSIGN_OR_RETURN(TensorDataPtr data,
                              import_sparse_tensor(t, *s_.external, where + "sparse initializer '" + name + "'"));
      TANDEM_RETURN_IF_ERROR(add_initializer(name, std::move(data)));
    }
    for (int i = 0; i < gp.node_size(); ++i) {
      const auto& n = gp.node(i);
      for (const auto& out : n.output()) {
        if (out.empty()) continue;  // an omitted optional output
        TANDEM_RETURN_IF_ERROR(define(out, "output of node " + label(n, i)));
        g.add_value(out, ValueKind::kNodeOutput);
      }
    }
    return Status::ok();
  }

  static std::string label(const onnx::NodeProto& n, int index) {
    std::string who = n.name().empty() ? "#" + std::to_string(index) : "'" + n.name() + "'";
    return who + " (" + n.op_type() + ")";
  }

  // A node from a model-local function resolves at the function's opset (`inlined`), others at the model's.
  Status check_op(const onnx::NodeProto& n, const std::string& node_where, const InlinedNode* inlined,
                  int64_t& opset) {
    if (n.op_type().empty()) return Status::error(node_where + "has no op_type");
    const std::string domain = normalize_domain(n.domain());
    if (inlined) {
      opset = inlined->opset;
    } else {
      auto it = s_.opsets->find(domain);
      if (it == s_.opsets->end())
        return Status::error(node_where + "uses domain '" + display_domain(domain) +
                             "', which the model does not import in opset_import");
      opset = it->second;
    }
    const std::string op_desc = "op '" + n.op_type() + "' of domain '" + display_domain(domain) + "' at opset " +
                                std::to_string(opset);
    if (!is_supported_domain(domain))
      return Status::error(node_where + "uses " + op_desc + ": tandem does not know domain '" +
                           display_domain(domain) + "'");
    if (const std::string why = unsupported_op_reason(domain, n.op_type(), opset); !why.empty())
      return Status::error(node_where + "uses " + op_desc + ": " + why);
    if (domain.empty() && is_unknown_newer_version(n.op_type(), static_cast<int>(opset)))
      return Status::error(node_where + "uses " + op_desc + ", which tandem does not support: the op was " +
                           (schema_registry().GetSchema(n.op_type(), library_max_default_opset(), "")
                                ? "changed"
                                : "added") +
                           " after opset " + std::to_string(library_max_default_opset()) +
                           " and tandem has no definition of that version");
    const onnx::OpSchema* schema = schema_registry().GetSchema(n.op_type(), static_cast<int>(opset), n.domain());
    if (!schema) return Status::error(node_where + "uses " + op_desc + ", which ONNX does not define");
    if (schema->Deprecated())
      return Status::error(node_where + "uses " + op_desc + ", which is deprecated at that opset");
    // Verify says only "Mismatched attribute type"; this names both types.
    for (const auto& a : n.attribute()) {
      const auto spec = schema->attributes().find(a.name());
      if (spec == schema->attributes().end() || !a.ref_attr_name().empty() || a.type() == spec->second.type)
        continue;
      const std::string has = a.type() == onnx::AttributeProto::UNDEFINED
                                  ? "has no type"
                                  : "has type " + onnx::AttributeProto::AttributeType_Name(a.type());
      return Status::error(node_where + "attribute '" + a.name() + "' " + has + ", but " + op_desc + " expects " +
                           onnx::AttributeProto::AttributeType_Name(spec->second.type));
    }
    try {
      schema->Verify(n);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      return Status::error(node_where + "is not a valid " + op_desc + ": " + msg);
    }
    // libonnx's Scan inference sizes vectors by num_scan_inputs unchecked: a negative or too large count
    // ended in a bare "vector::_M_fill_insert" that named neither the node nor the attribute.
    if (domain.empty() && n.op_type() == "Scan") {
      const int64_t inputs = n.input_size() - (opset < 9 ? 1 : 0);  // opset 8's first input is sequence_lens
      for (const auto& a : n.attribute())
        if (a.name() == "num_scan_inputs" && (a.i() < 1 || a.i() > inputs))
          return Status::error(node_where + "attribute 'num_scan_inputs' is " + std::to_string(a.i()) +
                               ", outside [1, " + std::to_string(inputs) + "] (the node's " +
                               (opset < 9 ? "inputs after sequence_lens)" : "inputs)"));
    }
    // Nor does its convolution and pooling inference check strides: a stride of 0 divided by zero in
    // libonnx (SIGFPE), a negative one made nonsense shapes. Every ONNX op with strides or dilations
    // wants them positive.
    if (domain.empty())
      for (const auto& a : n.attribute())
        if ((a.name() == "strides" || a.name() == "dilations") && a.type() == onnx::AttributeProto::INTS)
          for (int64_t v : a.ints())
            if (v < 1)
              return Status::error(node_where + "attribute '" + a.name() + "' has an entry " + std::to_string(v) +
                                   "; each must be 1 or more");
    // Nor do the inferences of the ops with a type attribute (Cast's 'to', EyeLike's, the random ops' and
    // SequenceEmpty's 'dtype', the windows' 'output_datatype', the quantizers' 'output_dtype' and
    // 'precision') all check it: 0, or any value for SequenceEmpty and the windows, failed later as a bare
    // "Invalid tensor data type 0." that named no node. ('output_dtype' and 'precision' take 0 for "not
    // given".) The types newer ONNX defines and libonnx 1.12 does not (float8, 4-bit, 2-bit) are named as such.
    if (domain.empty())
      for (const auto& a : n.attribute()) {
        const bool zero_allowed = a.name() == "output_dtype" || a.name() == "precision";
        if ((a.name() != "dtype" && a.name() != "to" && a.name() != "output_datatype" && !zero_allowed) ||
            a.type() != onnx::AttributeProto::INT || (zero_allowed && a.i() == 0))
          continue;
        if (a.i() > onnx::TensorProto::UNDEFINED && a.i() <= std::numeric_limits<int>::max() &&
            onnx::TensorProto_DataType_IsValid(static_cast<int>(a.i())))
          continue;
        const std::string name = a.i() >= 0 && a.i() <= std::numeric_limits<int32_t>::max()
                                     ? onnx_type_name(static_cast<int32_t>(a.i()))
                                     : "unknown type";
        if (name.rfind("unknown", 0) != 0 && name.rfind("undefined", 0) != 0)
          return Status::error(node_where + "attribute '" + a.name() + "' is " + name +
                               ", a type tandem does not support");
        return Status::error(node_where + "attribute '" + a.name() + "' is " + std::to_string(a.i()) +
                             ", which is not an ONNX tensor data type");
      }
    return Status::ok();
  }

  Result<Attribute> import_attribute(const onnx::AttributeProto& a, Graph& g, Scope* outer, Node& node, int depth,
                                     const std::string& node_where) {
    const std::string what = node_where + "attribute '" + a.name() + "'";
    if (!a.ref_attr_name().empty())
      return Status::error(what + " refers to a function attribute outside any function");
    Attribute out;
    using A = onnx::AttributeProto;
    auto sub_where = [&](const std::string& suffix) { return node_where + "in " + a.name() + suffix + ": "; };
    switch (a.type()) {
      case A::FLOAT: out.kind = Attribute::Kind::kFloat; out.f = a.f(); break;
      case A::INT: out.kind = Attribute::Kind::kInt; out.i = a.i(); break;
      case A::STRING: out.kind = Attribute::Kind::kString; out.s = a.s(); break;
      case A::FLOATS: out.kind = Attribute::Kind::kFloats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
      case A::INTS: out.kind = Attribute::Kind::kInts; out.ints.assign(a.ints().begin(), a.ints().end()); break;
      case A::STRINGS: out.kind = Attribute::Kind::kStrings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
      case A::TENSOR: {
        out.kind = Attribute::Kind::kTensor;
        TANDEM_ASSIGN_OR_RETURN(out.t, import_tensor(a.t(), *s_.external, what));
        break;
      }
      case A::SPARSE_TENSOR: {
        out.kind = Attribute::Kind::kTensor;
        TANDEM_ASSIGN_OR_RETURN(out.t, import_sparse_tensor(a.sparse_tensor(), *s_.external, what));
        break;
      }
      case A::TENSORS: {
        out.kind = Attribute::Kind::kTensors;
        for (int k = 0; k < a.tensors_size(); ++k) {
          TANDEM_ASSIGN_OR_RETURN(TensorDataPtr t, import_tensor(a.tensors(k), *s_.external, what));
          out.tensors.push_back(std::move(t));
        }
        break;
      }
      case A::GRAPH: {
        out.kind = Attribute::Kind::kGraph;
        Scope scope{&g, outer, &node.implicit_inputs};
        TANDEM_ASSIGN_OR_RETURN(out.g, build_nested(a.g(), &scope, depth, node_where, sub_where("")));
        break;
      }
      case A::GRAPHS: {
        out.kind = Attribute::Kind::kGraphs;
        for (int k = 0; k < a.graphs_size(); ++k) {
          Scope scope{&g, outer, &node.implicit_inputs};
          TANDEM_ASSIGN_OR_RETURN(auto sub, build_nested(a.graphs(k), &scope, depth, node_where,
                                                         sub_where("[" + std::to_string(k) + "]")));
          out.graphs.push_back(std::move(sub));
        }
        break;
      }
      case A::TYPE_PROTO: {
        out.kind = Attribute::Kind::kType;
        TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(a.tp(), what, TypeRule::kInput));
        out.type_form = t.form;
        out.type_dtype = t.dtype;
        break;
      }
      case A::UNDEFINED: return Status::error(what + " has no type");
      default:
        return Status::error(what + " has attribute type " + A::AttributeType_Name(a.type()) +
                             ", which tandem does not support");
    }
    return out;
  }

  Result<std::shared_ptr<Graph>> build_nested(const onnx::GraphProto& gp, Scope* scope, int depth,
                                              const std::string& node_where, const std::string& sub_where) {
    if (depth + 1 > s_.max_depth)
      return Status::error(node_where + "nests subgraphs more than " + std::to_string(s_.max_depth) +
                           " levels deep");
    return build(gp, scope, depth + 1, sub_where);
  }

  Status add_node(const onnx::NodeProto& n, int index, Graph& g, Scope* outer, int depth, const std::string& where) {
    const InlinedNode* inlined = nullptr;
    if (s_.inlined)
      if (auto it = s_.inlined->find(&n); it != s_.inlined->end()) inlined = &it->second;
    const std::string node_where =
        where + "node " + label(n, index) + (inlined ? " " + inlined->origin : std::string()) + ": ";
    Node node;
    node.name = n.name();
    node.op_type = n.op_type();
    node.domain = normalize_domain(n.domain());
    int64_t opset = 0;
    TANDEM_RETURN_IF_ERROR(check_op(n, node_where, inlined, opset));
    node.opset = static_cast<int>(opset);

    for (int k = 0; k < n.input_size(); ++k) {
      const std::string& name = n.input(k);
      if (name.empty()) {
        node.inputs.push_back(kNoValue);
        continue;
      }
      ValueId v = g.find_value(name);
      if (v == kNoValue && outer) {
        // A name from an enclosing graph: a local stand-in, plus the dependency on every owner on the way.
        if (resolve_in_scope(name, outer) != kNoValue) {
          v = g.add_value(name, ValueKind::kOuterScope);
          g.add_outer_ref(v);
        }
      }
      if (v == kNoValue)
        return Status::error(node_where + "input " + std::to_string(k) + " '" + name +
                             "' is not produced by any node, graph input or initializer");
      node.inputs.push_back(v);
    }
    for (const auto& out : n.output()) node.outputs.push_back(out.empty() ? kNoValue : g.find_value(out));
    for (const auto& a : n.attribute()) {
      if (a.name().empty()) return Status::error(node_where + "has an attribute with an empty name");
      if (node.attributes.count(a.name()))
        return Status::error(node_where + "has attribute '" + a.name() + "' twice");
      TANDEM_ASSIGN_OR_RETURN(Attribute attr, import_attribute(a, g, outer, node, depth, node_where));
      node.attributes.emplace(a.name(), std::move(attr));
    }
    g.add_node(std::move(node));
    return Status::ok();
  }

  Status add_outputs(const onnx::GraphProto& gp, Graph& g, Scope* outer, const std::string& where) {
    if (gp.output_size() == 0) return Status::error(where + "graph '" + gp.name() + "' has no outputs");
    for (const auto& out : gp.output()) {
      const std::string what = where + "graph output '" + out.name() + "'";
      if (out.name().empty()) return Status::error(where + "a graph output has an empty name");
      ValueId v = g.find_value(out.name());
      if (v == kNoValue && outer && resolve_in_scope(out.name(), outer) != kNoValue) {
        v = g.add_value(out.name(), ValueKind::kOuterScope);
        g.add_outer_ref(v);
      }
      if (v == kNoValue) return Status::error(what + " is not produced by any node, graph input or initializer");
      if (g.is_graph_output(v)) return Status::error(what + " is listed twice");
      TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(out.type(), what, outer ? TypeRule::kAny : TypeRule::kOutput));
      merge_type(g.value(v), t);
      g.add_output(v);
    }
    return Status::ok();
  }

  Status apply_value_info(const onnx::GraphProto& gp, Graph& g, const std::string& where) {
    for (const auto& vi : gp.value_info()) {
      ValueId v = g.find_value(vi.name());
      if (v == kNoValue) continue;  // annotations of values nothing uses are harmless
      TANDEM_ASSIGN_OR_RETURN(ValueType t, import_value_type(vi.type(), where + "value_info '" + vi.name() + "'", TypeRule::kAny));
      merge_type(g.value(v), t);
    }
    return Status::ok();
  }

  // Declared types only add information: a known dtype or shape is not replaced by an unknown one.
  static void merge_type(Value& v, const ValueType& t) {
    if (t.form != ValueForm::kTensor) v.form = t.form;
    if (t.dtype != DType::kUndefined && v.dtype == DType::kUndefined) v.dtype = t.dtype;
    if (t.shape.has_rank() && !v.shape.has_rank()) v.shape = t.shape;
  }

  const BuildSettings& s_;
};

}  // namespace

Result<std::shared_ptr<Graph>> build_graph(const onnx::GraphProto& gp, const BuildSettings& settings) {
  return Builder(settings).build(gp, nullptr, 0, "");
}

}  // namespace tandem::onnx_import
