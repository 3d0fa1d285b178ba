#include "tools/info_command.h"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <tandem/tandem.h>

#include "graph/dot_export.h"
#include "graph/flops.h"
#include "graph/walk.h"
#include "session/capabilities.h"
#include "session/model_impl.h"
#include "tools/cli_common.h"

namespace tandem::cli {
namespace {

using nlohmann::json;

struct InfoArgs {
  std::string model;
  std::vector<std::string> dims;
  bool as_json = false;
  std::string dot_file;
};

json shape_json(const TensorSpec& t) {
  if (!t.has_rank) return nullptr;
  json dims = json::array();
  for (std::size_t i = 0; i < t.dims.size(); ++i) {
    if (t.dims[i] >= 0) dims.push_back(t.dims[i]);
    else dims.push_back(t.dim_names[i]);
  }
  return dims;
}

json tensors_json(const std::vector<TensorSpec>& specs) {
  json out = json::array();
  for (const TensorSpec& t : specs) {
    json j = {{"name", t.name}, {"dtype", t.dtype}, {"shape", shape_json(t)}};
    if (t.form != "tensor") j["form"] = t.form;  // dtype and shape are then the elements'
    if (t.has_default) j["has_default"] = true;
    out.push_back(j);
  }
  return out;
}

// Everything `info` reports, as one JSON document; the text view is rendered from it.
json build_report(const Model& model) {
  const ModelIR& ir = model.impl().ir;
  const GraphSummary& s = model.impl().summary;
  json r;
  r["model"] = model.source();
  r["ir_version"] = ir.ir_version;
  r["producer"] = {{"name", ir.producer_name}, {"version", ir.producer_version}};
  r["opsets"] = json::array();
  for (const auto& [domain, version] : model.opsets()) r["opsets"].push_back({{"domain", domain}, {"version", version}});
  r["onnx_checker"] = ir.checker_ran ? "passed" : "skipped";
  r["notes"] = ir.notes;
  r["inputs"] = tensors_json(model.inputs());
  r["outputs"] = tensors_json(model.outputs());
  // As stored; "folded": how many of them are computed once at load (runtime_cpu/constant_folding.h), so
  // the FLOPs and the runnability below are of the nodes that run; "inlined_ifs": If nodes that load
  // replaced by the branch their constant condition takes.
  r["nodes"] = {{"total", s.nodes},         {"nested", s.nested_nodes},
                {"nested_graphs", s.nested_graphs}, {"max_depth", s.max_depth},
                {"folded", model.impl().folded_nodes}, {"inlined_ifs", model.impl().inlined_ifs}};
  r["op_counts"] = s.op_counts;
  r["parameters"] = {{"count", s.parameter_count}, {"bytes", s.parameter_bytes},
                     {"tensors", s.initializer_count}};

  json per_node = json::array();
  double total = 0;
  std::set<std::string> symbols;
  int64_t unknown = 0;
  for_each_node(*ir.graph, [&](const NodeSite& site) {
    const Node& n = site.graph.node(site.id);
    if (!is_flop_counted_op(n)) return;
    json j = {{"node", n.name}, {"op", n.op_type}, {"graph", site.where}};
    if (auto f = estimate_flops(site.graph, n)) {
      j["flops"] = f->flops;
      j["per_symbol"] = f->per_symbol;
      total += f->flops;
      symbols.insert(f->per_symbol.begin(), f->per_symbol.end());
    } else {
      j["flops"] = nullptr;
      ++unknown;
    }
    per_node.push_back(j);
  });
  r["flops"] = {{"total", total}, {"per_symbol", symbols}, {"nodes_with_unknown_shapes", unknown},
                {"nodes", per_node}};

  json unrunnable = json::array();
  std::map<std::string, int64_t> unrunnable_ops;
  for (const UnrunnableNode& u : unrunnable_nodes(*ir.graph)) {
    unrunnable.push_back({{"node", u.label}, {"op", u.op}, {"graph", u.where}, {"reason", u.reason}});
    ++unrunnable_ops[u.op];
  }
  r["cannot_run"] = {{"count", unrunnable.size()}, {"ops", unrunnable_ops}, {"nodes", unrunnable}};
  return r;
}

std::string shape_text(const json& shape) {
  if (shape.is_null()) return "?";
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i].is_string() ? shape[i].get<std::string>() : std::to_string(shape[i].get<int64_t>());
  }
  return s + "]";
}

// What a non-tensor value holds, after its elements' type and shape.
std::string form_text(const json& t) {
  if (!t.contains("form")) return "";
  const std::string form = t["form"].get<std::string>();
  if (form == "sequence") return "  (a sequence of such tensors)";
  if (form == "optional tensor") return "  (an optional: such a tensor, or none)";
  return "  (an optional: a sequence of such tensors, or none)";
}

void print_tensors(std::ostream& out, const char* title, const json& tensors) {
  out << title << "\n";
  std::size_t w = 4;
  for (const auto& t : tensors) w = std::max(w, t["name"].get<std::string>().size());
  for (const auto& t : tensors) {
    out << "  " << std::left << std::setw(static_cast<int>(w)) << t["name"].get<std::string>() << "  "
        << std::setw(8) << t["dtype"].get<std::string>() << " " << shape_text(t["shape"])
        << form_text(t)
        << (t.contains("has_default") ? "  (optional: has a default)" : "") << "\n";
  }
}

std::string symbols_text(const json& symbols) {
  std::string s;
  for (const auto& sym : symbols) s += (s.empty() ? "" : " × ") + sym.get<std::string>();
  return s;
}

void print_report(std::ostream& out, const json& r) {
  std::string opsets;
  for (const auto& o : r["opsets"])
    opsets += (opsets.empty() ? "" : ", ") + o["domain"].get<std::string>() + " " + std::to_string(o["version"].get<int64_t>());
  out << "model       " << r["model"].get<std::string>() << "\n"
      << "format      ONNX IR " << r["ir_version"] << ", opset " << opsets;
  if (!r["producer"]["name"].get<std::string>().empty())
    out << ", made by " << r["producer"]["name"].get<std::string>() << " " << r["producer"]["version"].get<std::string>();
  out << "\nvalidation  ONNX checker " << r["onnx_checker"].get<std::string>() << "; shapes inferred\n";
  for (const auto& note : r["notes"]) out << "note        " << note.get<std::string>() << "\n";
  out << "\n";
  print_tensors(out, "inputs", r["inputs"]);
  print_tensors(out, "outputs", r["outputs"]);

  const json& nodes = r["nodes"];
  out << "\nnodes       " << with_thousands(nodes["total"]) << " (" << with_thousands(nodes["nested"])
      << " of them in " << nodes["nested_graphs"] << " nested bodies, nesting depth " << nodes["max_depth"]
      << ")";
  if (nodes["folded"].get<int64_t>() > 0)
    out << "; " << with_thousands(nodes["folded"]) << " of them computed once at load (inputs all constant)";
  if (nodes["inlined_ifs"].get<int64_t>() > 0)
    out << "; " << with_thousands(nodes["inlined_ifs"]) << " If node" << (nodes["inlined_ifs"] == 1 ? "" : "s")
        << " replaced by the branch a constant condition takes";
  out << "\n";
  out << "parameters  " << with_thousands(r["parameters"]["count"]) << " ("
      << human_bytes(r["parameters"]["bytes"]) << " in " << r["parameters"]["tensors"]
      << " initializers and Constant values)\n";

  // Op histogram, most frequent first.
  std::vector<std::pair<int64_t, std::string>> ops;
  for (const auto& [op, count] : r["op_counts"].items()) ops.emplace_back(count.get<int64_t>(), op);
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  out << "\nops (nested bodies included)\n ";
  int col = 1;
  for (const auto& [count, op] : ops) {
    std::string item = " " + op + " " + std::to_string(count);
    if (col + item.size() > 100) {
      out << "\n ";
      col = 1;
    }
    out << item;
    col += static_cast<int>(item.size());
  }
  out << "\n";

  const json& flops = r["flops"];
  if (!flops["nodes"].empty()) {
    out << "\ncompute (GEMM work; a multiply-add is 2 FLOPs; symbolic dimensions taken as 1)\n";
    std::size_t w = 4;
    for (const auto& n : flops["nodes"]) w = std::max(w, n["node"].get<std::string>().size());
    for (const auto& n : flops["nodes"]) {
      out << "  " << std::left << std::setw(static_cast<int>(w)) << n["node"].get<std::string>() << "  "
          << std::setw(6) << n["op"].get<std::string>() << " " << std::right << std::setw(14)
          << (n["flops"].is_null() ? std::string("?") : human_flops(n["flops"].get<double>()));
      if (n.contains("per_symbol") && !n["per_symbol"].empty()) out << "  × " << symbols_text(n["per_symbol"]);
      if (n["graph"] != "main") out << "  in " << n["graph"].get<std::string>();
      out << "\n";
    }
    out << "  total " << human_flops(flops["total"].get<double>());
    if (!flops["per_symbol"].empty()) out << " (scales with " << symbols_text(flops["per_symbol"]) << ")";
    if (flops["nodes_with_unknown_shapes"].get<int64_t>() > 0)
      out << ", plus " << flops["nodes_with_unknown_shapes"]
          << " node(s) marked ? whose shapes depend on input sizes (fix them with --dim NAME=VALUE)";
    out << "\n";
  }

  const json& cannot = r["cannot_run"];
  out << "\ncannot run  ";
  if (cannot["count"].get<int64_t>() == 0) {
    out << "none: every node has a kernel\n";
  } else {
    out << with_thousands(cannot["count"]) << " of " << with_thousands(nodes["total"]) << " nodes:\n";
    for (const auto& n : cannot["nodes"]) {
      out << "  " << n["node"].get<std::string>() << ": " << n["reason"].get<std::string>();
      if (n["graph"] != "main") out << "  in " << n["graph"].get<std::string>();
      out << "\n";
    }
  }
}

int run_info(const InfoArgs& args) {
  LoadOptions options;
  options.dims = parse_dims(args.dims);
  Model model = Model::load(args.model, options);
  const json report = build_report(model);
  if (!args.dot_file.empty()) {
    std::ofstream dot(args.dot_file);
    dot << to_dot(*model.impl().ir.graph);
    if (!dot) throw Error("cannot write '" + args.dot_file + "'");
  }
  if (args.as_json) std::cout << report.dump(2) << "\n";
  else print_report(std::cout, report);
  return kExitOk;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: inputs, outputs, ops, parameters, FLOPs");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--dim", args->dims, "Fix a symbolic input dimension, NAME=VALUE (repeatable)");
  cmd->add_flag("--json", args->as_json, "Print the report as JSON");
  cmd->add_option("--dot", args->dot_file, "Also write the graph in Graphviz format to FILE");
  cmd->callback([args, &exit_code] { exit_code = run_info(*args); });
}

}  // namespace tandem::cli
