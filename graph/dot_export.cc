#include "graph/dot_export.h"

#include <sstream>

namespace tandem {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string edge_label(const Value& v) {
  return escape(v.name) + "\\n" + std::string(dtype_name(v.dtype)) + " " + escape(v.shape.to_string());
}

class DotWriter {
 public:
  std::string write(const Graph& g) {
    out_ << "digraph tandem {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
         << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    emit_graph(g, "g");
    out_ << "}\n";
    return out_.str();
  }

 private:
  // `prefix` makes ids unique across nested graphs; `scope` resolves outer-scope names to dot ids.
  void emit_graph(const Graph& g, const std::string& prefix) {
    auto value_source = [&](ValueId v) -> std::string {
      const Value& val = g.value(v);
      if (val.kind == ValueKind::kNodeOutput && val.producer != kNoNode)
        return prefix + "_n" + std::to_string(val.producer);
      return prefix + "_v" + std::to_string(v);
    };
    for (ValueId v : g.inputs())
      out_ << "  " << prefix << "_v" << v << " [shape=ellipse, label=\"" << edge_label(g.value(v)) << "\"];\n";
    for (ValueId v : g.outer_refs())
      out_ << "  " << prefix << "_v" << v << " [shape=ellipse, style=dashed, label=\"outer: "
           << escape(g.value(v).name) << "\"];\n";
    for (std::size_t i = 0; i < g.num_nodes(); ++i) {
      const Node& n = g.node(static_cast<NodeId>(i));
      const std::string id = prefix + "_n" + std::to_string(i);
      out_ << "  " << id << " [label=\"" << escape(n.op_type) << (n.name.empty() ? "" : "\\n" + escape(n.name))
           << "\"];\n";
      for (ValueId v : n.inputs) {
        if (v == kNoValue || g.value(v).kind == ValueKind::kInitializer) continue;
        out_ << "  " << value_source(v) << " -> " << id << " [label=\"" << edge_label(g.value(v)) << "\"];\n";
      }
      for (ValueId v : n.implicit_inputs)
        out_ << "  " << value_source(v) << " -> " << id << " [style=dashed];\n";
      int k = 0;
      for (const Graph* sub : n.subgraphs()) {
        const std::string sub_prefix = id + "_s" + std::to_string(k++);
        out_ << "  subgraph cluster_" << sub_prefix << " {\n  label=\"" << escape(n.op_type) << " body "
             << escape(sub->name) << "\";\n  style=dashed;\n";
        emit_graph(*sub, sub_prefix);
        out_ << "  }\n";
      }
    }
    for (ValueId v : g.outputs()) {
      out_ << "  " << prefix << "_out" << v << " [shape=ellipse, label=\"" << edge_label(g.value(v)) << "\"];\n";
      out_ << "  " << value_source(v) << " -> " << prefix << "_out" << v << ";\n";
    }
  }

  std::ostringstream out_;
};

}  // namespace

std::string to_dot(const Graph& g) { return DotWriter().write(g); }

}  // namespace tandem
