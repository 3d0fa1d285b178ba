// The IR every stage of the pipeline works on: a Graph of Nodes connected by Values.
//
// Values and nodes live in vectors and refer to each other by index (ValueId, NodeId): cheap to copy, easy
// to serialise into a Profile or a Plan, and stable while a pass only reads. A nested graph (the body of
// If/Loop/Scan) is a Graph of its own; a name it reads from an enclosing graph is a Value of kind
// kOuterScope there, and the node that owns the body lists the enclosing graph's Value among its
// `implicit_inputs`, so ordering and liveness in the enclosing graph see the dependency.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/attribute.h"
#include "graph/dtype.h"
#include "graph/shape.h"
#include "graph/tensor_data.h"
#include "graph/value_form.h"

namespace tandem {

using ValueId = int32_t;
using NodeId = int32_t;
inline constexpr ValueId kNoValue = -1;  // an omitted optional input or output
inline constexpr NodeId kNoNode = -1;

enum class ValueKind {
  kGraphInput,   // fed by the caller (may carry a default in `data`: an overridable initializer)
  kInitializer,  // constant weight, `data` set
  kNodeOutput,   // produced by `producer`
  kOuterScope,   // read by a nested graph from an enclosing one
};

struct Value {
  std::string name;
  ValueKind kind = ValueKind::kNodeOutput;
  ValueForm form = ValueForm::kTensor;
  DType dtype = DType::kUndefined;
  Shape shape;                  // unknown rank until declared or inferred
  TensorDataPtr data;           // initializer contents, or a graph input's default
  NodeId producer = kNoNode;    // for kNodeOutput
  int producer_output = -1;     // which output of the producer
  std::vector<NodeId> consumers;  // one entry per use, explicit or implicit, in node order
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" is the default ONNX domain
  int opset = 0;       // the version of `domain` the model imports
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::vector<ValueId> implicit_inputs;  // enclosing-graph values read by this node's subgraphs
  std::map<std::string, Attribute> attributes;

  const Attribute* attribute(const std::string& attr_name) const;
  int64_t attribute_int(const std::string& attr_name, int64_t fallback) const;
  float attribute_float(const std::string& attr_name, float fallback) const;
  std::string attribute_string(const std::string& attr_name, const std::string& fallback) const;
  // Nested graphs held by graph and graphs attributes, in attribute-name order.
  std::vector<const Graph*> subgraphs() const;
  // "'name' (Op)" or "#12 (Op)" for an unnamed node: how messages refer to a node.
  std::string label(NodeId id) const;
};

class Graph {
 public:
  std::string name;

  // --- building -------------------------------------------------------------------------------------
  // Adds a value; the name must be new in this graph (check with find_value first).
  ValueId add_value(std::string value_name, ValueKind kind);
  // Appends a node and records it as producer of its outputs and consumer of its inputs.
  NodeId add_node(Node node);
  void add_input(ValueId v) { inputs_.push_back(v); }
  void add_output(ValueId v) { outputs_.push_back(v); }
  void add_initializer(ValueId v) { initializers_.push_back(v); }
  void add_outer_ref(ValueId v) { outer_refs_.push_back(v); }

  // --- reading --------------------------------------------------------------------------------------
  ValueId find_value(const std::string& value_name) const;
  const Value& value(ValueId id) const { return values_[static_cast<std::size_t>(id)]; }
  Value& value(ValueId id) { return values_[static_cast<std::size_t>(id)]; }
  const Node& node(NodeId id) const { return nodes_[static_cast<std::size_t>(id)]; }
  Node& node(NodeId id) { return nodes_[static_cast<std::size_t>(id)]; }
  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::size_t num_values() const { return values_.size(); }
  std::size_t num_nodes() const { return nodes_.size(); }

  // Graph inputs as declared, overridable initializers included (their Value has `data`).
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  const std::vector<ValueId>& initializers() const { return initializers_; }
  const std::vector<ValueId>& outer_refs() const { return outer_refs_; }
  bool is_graph_output(ValueId v) const;

  // Nodes of this graph and of every nested graph.
  std::size_t num_nodes_recursive() const;

  // --- editing --------------------------------------------------------------------------------------
  // Puts the nodes in `order` (a permutation of all node ids, e.g. a topological order) and renumbers them.
  void reorder_nodes(const std::vector<NodeId>& order);
  // Removes the nodes whose flag is set, then every value nothing refers to any more (graph inputs and
  // outputs stay), and renumbers what is left. Invalidates ids held outside.
  void remove_nodes(const std::vector<bool>& remove);
  // Drops the outer references of a nested graph that none of its nodes reads any more (and that it does
  // not pass out as an output), e.g. after constant folding computed their readers.
  void remove_unread_outer_refs();

 private:
  void rebuild_uses();

  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_, outputs_, initializers_, outer_refs_;
  std::unordered_map<std::string, ValueId> by_name_;
};

}  // namespace tandem
