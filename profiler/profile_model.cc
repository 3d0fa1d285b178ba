#include "profiler/profile_model.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>

#include "graph/rnn_time_split.h"
#include "graph/topo_order.h"
#include "profiler/link_fit.h"
#include "runtime/executor.h"

namespace tandem::profiler {

using partition::NodeDeviceProfile;
using partition::NodeProfile;
using partition::Profile;

namespace {

int64_t initializer_bytes(const Graph& g) {
  int64_t total = 0;
  for (const Value& v : g.values())
    if (v.kind == ValueKind::kInitializer && v.data) total += static_cast<int64_t>(v.data->bytes.size());
  for (std::size_t i = 0; i < g.num_nodes(); ++i)
    for (const Graph* body : g.node(static_cast<NodeId>(i)).subgraphs()) total += initializer_bytes(*body);
  return total;
}

Shape shape_from(const Tensor& t) {
  std::vector<Dim> dims;
  for (int64_t d : t.shape()) dims.push_back(Dim::known(d));
  return Shape(std::move(dims));
}

// Every value of the main graph after one run on `executor`'s device: constants, inputs and each node's
// outputs. `inputs` has one tensor per graph input (checked by the caller).
Result<std::vector<Tensor>> reference_run(const Graph& g, const GraphExecutor& executor, const Device& device,
                                          const std::vector<Tensor>& inputs) {
  device.bind_thread();
  std::vector<Tensor> values(g.num_values());
  for (std::size_t v = 0; v < g.num_values(); ++v)
    if (g.values()[v].data) values[v] = Tensor::from_constant(g.values()[v].data);
  const std::vector<const Tensor*> feeds = pointers_to(inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined()) values[static_cast<std::size_t>(g.inputs()[i])] = inputs[i];
  const NodeObserver keep = [&](const NodeEvent& e) {
    const Node& n = g.node(e.node);
    for (std::size_t k = 0; k < n.outputs.size(); ++k)
      if (n.outputs[k] != kNoValue) values[static_cast<std::size_t>(n.outputs[k])] = e.outputs[k];
  };
  TANDEM_RETURN_IF_ERROR(executor.run(feeds, {}, &keep).status());
  return values;
}

// Node `id` on `device`, on the values the reference run on `reference` (a host device) recorded, run as
// the plan executor runs it: constants are read in place; every other input is received onto the device
// (Device::receive) once, before timing, since a plan pays for copies on its links; outputs come from the
// device's allocator. A repetition is the kernel's run, the release of its outputs and the device's
// finish_run, so a device that only enqueues work (a GPU) is timed until that work is done (there, several
// runs queued back to back per wait, below).
Result<NodeDeviceProfile> measure_node(const Graph& g, NodeId id, const Device& device, const Device& reference,
                                       const std::vector<Tensor>& values, const TimingOptions& timing) {
  NodeDeviceProfile p;
  const Support support = device.supports(g, id);
  if (!support.ok) {
    p.supported = false;
    p.reason = support.reason;
    return p;
  }
  const Node& n = g.node(id);
  device.bind_thread();  // the device's own threads (the CPU's OpenMP team size), as the runtime runs it
  KernelInit init{g, id, [&device](const Graph& body) { return GraphExecutor::compile(body, device); }};
  TANDEM_ASSIGN_OR_RETURN(KernelPtr kernel, device.create_kernel(init));

  std::map<ValueId, Tensor> received;  // one receive per value, as in a run (a node may read a value twice)
  auto at = [&](ValueId v) -> Result<const Tensor*> {
    if (v == kNoValue) return nullptr;
    const Tensor& t = values[static_cast<std::size_t>(v)];
    if (!t.defined()) return nullptr;
    const Value& val = g.value(v);
    // Constants are read in place; the reference device's own values need no hand-over to itself.
    if (val.kind == ValueKind::kInitializer || (val.kind == ValueKind::kNodeOutput && &device == &reference))
      return &t;
    auto it = received.find(v);
    if (it == received.end()) {
      // A graph input comes from the caller (no device), anything else from the reference device.
      auto r = device.receive(t, val.kind == ValueKind::kGraphInput ? nullptr : &reference, nullptr);
      if (!r) return Status::error("node " + n.label(id) + ": receiving '" + val.name + "': " + r.status().message());
      it = received.emplace(v, std::move(r).value()).first;
    }
    return &it->second;
  };
  std::vector<const Tensor*> in, implicit;
  for (ValueId v : n.inputs) {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, at(v));
    in.push_back(t);
  }
  for (ValueId v : n.implicit_inputs) {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, at(v));
    implicit.push_back(t);
  }
  // The copies the receives enqueued land before the first timed repetition.
  if (Status s = device.finish_run(); !s.is_ok()) return Status::error("node " + n.label(id) + ": " + s.message());

  const OutputAllocator* allocator = device.output_allocator();
  std::size_t workspace = 0;
  bool workspace_held = false;
  std::size_t shared_workspace = 0;
  // A device that only enqueues work (a GPU) runs a plan's nodes back to back on its stream and waits
  // once per run: a repetition there is kQueuedRunsPerRepetition runs of the node and one wait, per run,
  // rather than one run and a wait (5 to 15 us of synchronisation a plan does not pay per node, which a
  // view or a small kernel would be charged in full). A CPU kernel is done when it returns: one run.
  const int queued = device.kind() == DeviceKind::kCpu ? 1 : kQueuedRunsPerRepetition;
  const auto once = [&]() -> Result<double> {
    const auto t0 = std::chrono::steady_clock::now();
    Status s;
    int64_t out_bytes = 0;
    for (int q = 0; q < queued && s.is_ok(); ++q) {
      std::vector<Tensor> outs(n.outputs.size());
      KernelContext ctx(g, id, in, implicit, outs, allocator);
      s = run_kernel(*kernel, ctx);
      out_bytes = 0;
      for (const Tensor& t : outs)
        if (t.defined()) out_bytes += static_cast<int64_t>(t.nbytes());
      workspace = std::max(workspace, ctx.workspace_bytes());
      workspace_held = workspace_held || ctx.workspace_held();
      shared_workspace = std::max(shared_workspace, ctx.shared_workspace_bytes());
      // Released as a run releases a value after its last reader (device memory goes back once the
      // device's stream has passed this point).
      outs.clear();
    }
    // Then the device finishes what the kernel enqueued: timed.
    const Status finished = device.finish_run();
    const auto t1 = std::chrono::steady_clock::now();
    TANDEM_RETURN_IF_ERROR(s);
    if (!finished.is_ok())
      return Status::error("node " + n.label(id) + ": waiting for device '" + device.name() + "': " + finished.message());
    p.output_bytes = out_bytes;
    return std::chrono::duration<double, std::micro>(t1 - t0).count() / queued;
  };
  TANDEM_ASSIGN_OR_RETURN(Timing t, measure(once, timing));
  p.median_us = t.median_us;
  p.p90_us = t.p90_us;
  p.workspace_bytes = static_cast<int64_t>(workspace);
  p.workspace_held = workspace_held;
  p.shared_workspace_bytes = static_cast<int64_t>(shared_workspace);
  const int64_t own = kernel->own_weight_bytes();
  p.weight_bytes = own >= 0 ? own : constant_bytes(g, id);
  // The received inputs and the kernel (its weights) go; finish_run lets the device take their memory back.
  in.clear();
  implicit.clear();
  received.clear();
  kernel.reset();
  if (Status s = device.finish_run(); !s.is_ok()) return Status::error("node " + n.label(id) + ": " + s.message());
  return p;
}

// Each node's times inside whole runs of `g` on `device`: repetitions of the whole run until its median is
// stable, recording every node's duration in every run.
Result<std::vector<Timing>> in_run_timings(const Graph& g, const GraphExecutor& executor, const Device& device,
                                           const std::vector<Tensor>& inputs, const TimingOptions& timing) {
  device.bind_thread();
  const std::vector<const Tensor*> feeds = pointers_to(inputs);
  std::vector<std::vector<double>> samples(g.num_nodes());
  bool record = false;
  const NodeObserver observe = [&](const NodeEvent& e) {
    if (record)
      samples[static_cast<std::size_t>(e.node)].push_back(std::chrono::duration<double, std::micro>(e.end - e.start).count());
  };
  for (int i = 0; i < timing.warmup; ++i) TANDEM_RETURN_IF_ERROR(executor.run(feeds, {}, &observe).status());
  record = true;
  TimingOptions whole = timing;
  whole.warmup = 0;
  whole.budget_ms = timing.budget_ms * 5;  // a run holds many nodes: a larger budget for the whole
  const auto one_run = [&]() -> Result<double> {
    const auto t0 = std::chrono::steady_clock::now();
    TANDEM_RETURN_IF_ERROR(executor.run(feeds, {}, &observe).status());
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  };
  TANDEM_RETURN_IF_ERROR(measure(one_run, whole).status());
  std::vector<Timing> out(g.num_nodes());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].empty()) continue;
    std::sort(samples[i].begin(), samples[i].end());
    out[i].median_us = percentile(samples[i], 0.5);
    out[i].p90_us = percentile(samples[i], 0.9);
    out[i].reps = static_cast<int>(samples[i].size());
  }
  return out;
}

// The per-call cost of each recurrent node on `device` (NodeDeviceProfile::call_us): the model split into
// kCallChunks time chunks (graph/rnn_time_split.h, what the partitioner's time chunks run) and timed inside
// whole runs like the model itself. A node's chunks together take its own time plus one call's fixed cost
// per chunk after the first, so call_us = (sum of its chunks' medians - its median) / (chunks - 1). What
// a chunk pays again is measured, not assumed: streaming the weights in anew (another layer's chunk ran in
// between), the input projection's GEMM call on a few rows, the kernel's setup. Returns how many nodes got one.
constexpr int kCallChunks = 8;

Result<int> measure_call_costs(const Graph& g, const Device& device, const std::string& key,
                               const std::vector<Tensor>& inputs, const TimingOptions& timing, Profile& p) {
  Graph split = g;
  const TimeSplitReport report = split_rnns_in_time(split, kCallChunks);
  if (report.split.empty()) return 0;
  TANDEM_ASSIGN_OR_RETURN(auto executor, GraphExecutor::compile(split, device));
  TANDEM_ASSIGN_OR_RETURN(std::vector<Timing> t, in_run_timings(split, *executor, device, inputs, timing));
  std::map<std::string, NodeId> by_name;
  for (std::size_t i = 0; i < split.num_nodes(); ++i) by_name[split.node(static_cast<NodeId>(i)).name] = static_cast<NodeId>(i);
  int measured = 0;
  for (NodeProfile& np : p.nodes) {
    if (std::find(report.split.begin(), report.split.end(), np.name) == report.split.end()) continue;
    auto whole = np.devices.find(key);
    if (whole == np.devices.end() || !whole->second.supported) continue;
    double sum = 0;
    int chunks = 0;
    for (int k = 0; k < kCallChunks; ++k) {
      auto it = by_name.find(np.name + "/chunk" + std::to_string(k));
      if (it == by_name.end() || split.node(it->second).op_type != np.op_type) break;
      const Timing& ct = t[static_cast<std::size_t>(it->second)];
      if (ct.reps == 0) break;
      sum += ct.median_us;
      ++chunks;
    }
    if (chunks < 2) continue;
    const double t_whole = whole->second.median_us;
    whole->second.call_us = std::clamp((sum - t_whole) / (chunks - 1), 0.0, t_whole);
    ++measured;
  }
  return measured;
}

NodeFacts facts_of(const Graph& g, NodeId id, const std::vector<Tensor>& values, const std::vector<Shape>& shapes,
                   int64_t workspace) {
  const Node& n = g.node(id);
  NodeFacts f;
  f.run_shapes = shapes;
  for (ValueId v : n.inputs)
    if (v != kNoValue && !g.value(v).data && values[static_cast<std::size_t>(v)].defined())
      f.input_bytes += static_cast<int64_t>(values[static_cast<std::size_t>(v)].nbytes());
  for (ValueId v : n.outputs)
    if (v != kNoValue && values[static_cast<std::size_t>(v)].defined())
      f.output_bytes += static_cast<int64_t>(values[static_cast<std::size_t>(v)].nbytes());
  f.weight_bytes = constant_bytes(g, id);
  f.workspace_bytes = workspace;
  return f;
}

}  // namespace

int64_t constant_bytes(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  int64_t total = 0;
  auto add = [&](ValueId v) {
    if (v == kNoValue) return;
    const Value& val = g.value(v);
    if (val.kind == ValueKind::kInitializer && val.data) total += static_cast<int64_t>(val.data->bytes.size());
  };
  for (ValueId v : n.inputs) add(v);
  for (ValueId v : n.implicit_inputs) add(v);
  for (const Graph* body : n.subgraphs()) total += initializer_bytes(*body);
  return total;
}

Result<Profile> profile_model(const ProfileRequest& r) {
  if (!r.model || !r.model->graph) return Status::error("profiler: no model given");
  if (r.devices.empty()) return Status::error("profiler: no device to measure on");
  const Graph& g = *r.model->graph;
  for (const MeasuredDevice& d : r.devices) {
    if (d.key != "cpu" && d.key != "cuda")
      return Status::error("profiler: unknown device key '" + d.key + "' (expected cpu or cuda)");
    if (d.key == "cuda" && r.estimate_gpu)
      return Status::error("profiler: 'cuda' is both measured and estimated; choose one");
  }
  if (r.devices.front().device->kind() != DeviceKind::kCpu)
    return Status::error("profiler: the first device ('" + r.devices.front().key +
                         "') runs the reference run, so it must be the CPU");
  if (r.inputs.size() != g.inputs().size())
    return Status::error("profiler: the model takes " + std::to_string(g.inputs().size()) + " inputs, got " +
                         std::to_string(r.inputs.size()));
  auto report = [&](const std::string& stage, int done, int total, const std::string& item) {
    if (r.on_progress) r.on_progress(Progress{stage, done, total, item});
  };

  Profile p;
  p.machine = r.machine;
  p.model_hash = r.model->sha256;
  p.input_shapes = r.dims;
  for (std::size_t i = 0; i < g.inputs().size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    if (!r.inputs[i].defined() || !v.shape.has_rank() || v.shape.rank() != r.inputs[i].rank()) continue;
    for (std::size_t k = 0; k < v.shape.rank(); ++k)
      if (v.shape[k].is_symbolic()) p.input_shapes[v.shape[k].symbol] = r.inputs[i].dim(k);
  }

  report("reference run", 0, 1, "");
  // One executor per measured device that runs the whole graph, compiled once: the reference run and the
  // in-run timings share it.
  std::vector<std::shared_ptr<const GraphExecutor>> executors(r.devices.size());
  auto executor_for = [&](std::size_t d) -> Result<std::shared_ptr<const GraphExecutor>> {
    if (!executors[d]) {
      TANDEM_ASSIGN_OR_RETURN(executors[d], GraphExecutor::compile(g, *r.devices[d].device));
    }
    return executors[d];
  };
  auto front = executor_for(0);
  auto values = front ? reference_run(g, **front, *r.devices.front().device, r.inputs)
                      : Result<std::vector<Tensor>>(front.status());
  if (!values) return Status::error("profiler: reference run on " + r.devices.front().key + ": " +
                                    values.status().message());
  report("reference run", 1, 1, "");
  std::vector<Shape> shapes(values->size());
  for (std::size_t v = 0; v < values->size(); ++v)
    if ((*values)[v].defined()) shapes[v] = shape_from((*values)[v]);

  TANDEM_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order(g));
  const int total = static_cast<int>(order.size() * r.devices.size());
  int done = 0;
  p.nodes.resize(g.num_nodes());
  for (NodeId id : order) {
    const Node& n = g.node(id);
    NodeProfile& np = p.nodes[static_cast<std::size_t>(id)];
    np.index = id;
    np.name = n.name;
    np.op_type = n.op_type;
    for (const MeasuredDevice& d : r.devices) {
      report("nodes", done, total, d.key + " " + n.label(id));
      auto m = measure_node(g, id, *d.device, *r.devices.front().device, *values, r.timing);
      if (!m) return Status::error("profiler: on " + d.key + ": " + m.status().message());
      np.devices[d.key] = *m;
      report("nodes", ++done, total, d.key + " " + n.label(id));
    }
    if (r.estimate_gpu) {
      const auto& first = np.devices[r.devices.front().key];
      np.devices["cuda"] =
          estimate_gpu_node(g, id, facts_of(g, id, *values, shapes, first.workspace_bytes), *r.estimate_gpu);
    }
  }

  for (std::size_t di = 0; di < r.devices.size() && r.time_in_runs; ++di) {
    const MeasuredDevice& d = r.devices[di];
    if (d.device->kind() != DeviceKind::kCpu) {
      // A run on one device alone reports when each kernel was enqueued, not when its work was done: the
      // per-node times (each repetition waited for) stand.
      p.notes.push_back(d.key + ": node times measured node by node, each repetition waiting for the device");
      continue;
    }
    bool runs_all = true;
    for (const NodeProfile& np : p.nodes) runs_all = runs_all && np.devices.at(d.key).supported;
    if (!runs_all) continue;
    report("whole runs", 0, 1, d.key);
    auto ex = executor_for(di);
    auto t = ex ? in_run_timings(g, **ex, *d.device, r.inputs, r.timing) : Result<std::vector<Timing>>(ex.status());
    if (!t) return Status::error("profiler: whole runs on " + d.key + ": " + t.status().message());
    for (NodeProfile& np : p.nodes) {
      const Timing& nt = (*t)[static_cast<std::size_t>(np.index)];
      if (nt.reps == 0) continue;
      np.devices.at(d.key).median_us = nt.median_us;
      np.devices.at(d.key).p90_us = std::max(nt.p90_us, nt.median_us);
    }
    p.notes.push_back(d.key + ": node times measured inside whole runs of the model");
    auto calls = measure_call_costs(g, *d.device, d.key, r.inputs, r.timing, p);
    if (!calls) return Status::error("profiler: whole runs in time chunks on " + d.key + ": " + calls.status().message());
    if (*calls > 0)
      p.notes.push_back(d.key + ": per-call costs of " + std::to_string(*calls) + " recurrent node" +
                        (*calls == 1 ? "" : "s") + " measured inside whole runs of the model split into " +
                        std::to_string(kCallChunks) + " time chunks");
    report("whole runs", 1, 1, d.key);
  }

  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.values()[v];
    if ((val.kind != ValueKind::kNodeOutput && val.kind != ValueKind::kGraphInput) || !(*values)[v].defined())
      continue;
    const Tensor& t = (*values)[v];
    partition::ValueProfile vp{val.name, static_cast<int64_t>(t.nbytes()), "", true};
    if (val.kind == ValueKind::kNodeOutput) {
      // A view shares an input's storage (the runtime's memory plan follows it); a constant was not
      // allocated by the run.
      const Node& producer = g.node(val.producer);
      for (const auto* ids : {&producer.inputs, &producer.implicit_inputs})
        for (ValueId in : *ids)
          if (vp.view_of.empty() && in != kNoValue && t.storage() && (*values)[static_cast<std::size_t>(in)].storage() == t.storage())
            vp.view_of = g.value(in).name;
      vp.allocated = vp.view_of.empty() && t.storage() && !t.is_constant();
    }
    p.values.push_back(std::move(vp));
  }

  const std::vector<int64_t> sizes = r.link_sizes.empty() ? calibration_sizes() : r.link_sizes;
  for (const auto& link : r.links) {
    const std::string& key = link.first;  // not a structured binding: clang 14 cannot capture one
    auto fit = calibrate_link(link.second, sizes, r.link_timing, [&](int k, int count) {
      report("link " + key, k, count, std::to_string(sizes[static_cast<std::size_t>(k - 1)]) + " B");
    });
    if (!fit) return Status::error("profiler: calibrating " + key + ": " + fit.status().message());
    p.links[key] = std::move(fit).value();
  }
  if (r.estimate_gpu) {
    for (const char* key : {"cpu->cuda", "cuda->cpu"})
      if (!p.links.count(key)) p.links[key] = estimate_gpu_link(*r.estimate_gpu);
    p.notes.push_back("cuda costs and the cpu<->cuda link are estimated (no GPU measured) for " +
                      describe_gpu_spec(*r.estimate_gpu));
  }
  p.notes.push_back("timing: " + std::to_string(r.timing.warmup) + " warm-up, " +
                    std::to_string(r.timing.min_reps) + ".." + std::to_string(r.timing.max_reps) +
                    " repetitions per node until the median is stable within " +
                    std::to_string(static_cast<int>(r.timing.stable_tolerance * 100)) + "% or " +
                    std::to_string(static_cast<int>(r.timing.budget_ms)) + " ms");
  // This thread runs no more of these devices' kernels: give back what it holds on them (a GPU thread's
  // cuBLAS workspace), so that a plan run afterwards, on threads of its own, holds what the plan predicts.
  for (const MeasuredDevice& d : r.devices) d.device->release_thread();
  return p;
}

}  // namespace tandem::profiler
