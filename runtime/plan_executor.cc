#include "runtime/plan_executor.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "graph/memory_plan.h"
#include "runtime/constants_at_run.h"

namespace tandem {
namespace {

// Live activation storage of one device in one run: each buffer once, however many values alias it.
class MemoryTally {
 public:
  void charge(const void* storage, int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, added] = live_.try_emplace(storage, Entry{bytes, 0});
    ++it->second.refs;
    if (added) {
      current_ += bytes;
      peak_ = std::max(peak_, current_);
    }
  }
  void release(const void* storage) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(storage);
    if (it == live_.end() || --it->second.refs > 0) return;
    current_ -= it->second.bytes;
    live_.erase(it);
  }
  int64_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }

 private:
  struct Entry {
    int64_t bytes = 0;
    int refs = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<const void*, Entry> live_;
  int64_t current_ = 0, peak_ = 0;
};

}  // namespace

struct PlanExecutor::RunState {
  RunState(const PlanExecutor& ex, std::size_t num_devices)
      : owned(ex.graph_.num_values()),
        base(ex.graph_.num_values(), nullptr),
        received(ex.slots_.size()),
        received_charged(ex.slots_.size(), 0),
        slot_uses(ex.slots_.size()),
        uses(new std::atomic<int>[ex.graph_.num_values()]),
        done(new std::atomic<uint8_t>[ex.graph_.num_nodes()]),
        memory(new MemoryTally[num_devices]),
        stats(num_devices),
        arena(num_devices),
        arena_storage(new std::atomic<const void*>[num_devices]) {
    for (std::size_t d = 0; d < num_devices; ++d) arena_storage[d].store(nullptr, std::memory_order_relaxed);
    for (std::size_t v = 0; v < ex.uses_.size(); ++v) uses[v].store(ex.uses_[v], std::memory_order_relaxed);
    for (std::size_t n = 0; n < ex.graph_.num_nodes(); ++n) done[n].store(0, std::memory_order_relaxed);
    for (std::size_t s = 0; s < ex.slots_.size(); ++s) slot_uses[s] = ex.slots_[s].uses;
  }

  std::vector<Tensor> owned;              // by ValueId: node outputs, on their producer's device
  std::vector<const Tensor*> base;        // by ValueId: graph inputs (the caller's or the default)
  std::vector<Tensor> received;           // by slot; each touched by its receiving device's thread only
  std::vector<uint8_t> received_charged;  // by slot: the receiver holds a copy, tallied on its device
  std::vector<int> slot_uses;             // by slot: reads left on the receiving device
  std::unique_ptr<std::atomic<int>[]> uses;       // by ValueId: reads left before a node output is freed
  std::unique_ptr<std::atomic<uint8_t>[]> done;   // by NodeId, for nodes other devices wait on
  std::vector<const void*> caller_storage;        // inputs' buffers: the caller's, not the run's
  std::unique_ptr<MemoryTally[]> memory;          // by device
  std::vector<DeviceRunStats> stats;              // by device, each written by its device's thread
  std::shared_ptr<const MemoryPlan> plan;         // the static memory plan for these shapes, if made yet
  std::vector<Tensor> arena;                      // by device, with a plan; each set by its device's thread
  // By device: arena[d].storage(), published for the other devices' threads (which read no arena[d]).
  std::unique_ptr<std::atomic<const void*>[]> arena_storage;
  bool recording = false;                         // no plan yet: record what the run allocates
  std::vector<Recorded> recorded;                 // by ValueId, each written by its producer's thread

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> failed{false};
  Status error;     // the first failure, under mu
  int running = 0;  // device threads still working, under mu

  // Storage a device's tally counts: memory the run allocated (not constants, inputs or wrapped buffers).
  const void* tallied(const Tensor& t) const {
    if (!t.defined() || t.is_constant() || !t.storage()) return nullptr;
    for (const void* p : caller_storage)
      if (p == t.storage()) return nullptr;
    return t.storage();
  }
  void charge(std::size_t d, const Tensor& t) {
    if (const void* s = tallied(t)) memory[d].charge(s, static_cast<int64_t>(t.nbytes()));
  }
  void release(std::size_t d, const Tensor& t) {
    if (const void* s = tallied(t)) memory[d].release(s);
  }
  void fail(Status s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!failed.load(std::memory_order_relaxed)) error = std::move(s);
      failed.store(true, std::memory_order_release);
    }
    cv.notify_all();
  }
};

Result<std::shared_ptr<const PlanExecutor>> PlanExecutor::compile(const Graph& g, std::vector<const Device*> devices,
                                                                   Placement placement,
                                                                   PlanCompileOptions options) {
  if (devices.empty()) return Status::error("plan executor: no devices");
  std::vector<std::string> names;
  for (const Device* dev : devices) names.push_back(dev->name());
  TANDEM_RETURN_IF_ERROR(validate_placement(g, placement, names));
  placement.order.resize(devices.size());

  std::shared_ptr<PlanExecutor> ex(new PlanExecutor(g));
  ex->static_memory_ = options.static_memory;
  if (options.max_concurrent_runs < 0)
    return Status::error("plan executor: max_concurrent_runs must be 0 (no limit) or more, got " +
                         std::to_string(options.max_concurrent_runs));
  ex->max_concurrent_runs_ = options.max_concurrent_runs;
  ex->devices_ = std::move(devices);
  ex->placement_ = std::move(placement);
  const std::size_t num_devices = ex->devices_.size();

  ex->kernels_.resize(g.num_nodes());
  for (std::size_t d = 0; d < num_devices; ++d) {
    const Device& device = *ex->devices_[d];
    for (NodeId id : ex->placement_.order[d]) {
      const Support s = device.supports(g, id);
      if (!s.ok) return Status::error("node " + g.node(id).label(id) + " on device '" + device.name() + "': " + s.reason);
      KernelInit init{g, id, [&device](const Graph& body) { return GraphExecutor::compile(body, device); }};
      TANDEM_ASSIGN_OR_RETURN(ex->kernels_[static_cast<std::size_t>(id)], device.create_kernel(init));
    }
  }
  // Constants the kernels packed are held without their elements (runtime/constants_at_run.h).
  ex->constant_read_ = constants_read_at_run(g, ex->kernels_);
  ex->constants_ = constants_for_runs(g, ex->constant_read_);

  ex->producer_device_.assign(g.num_values(), -1);
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.values()[v];
    if (val.kind == ValueKind::kNodeOutput && val.producer != kNoNode)
      ex->producer_device_[v] = ex->placement_.device[static_cast<std::size_t>(val.producer)];
  }
  ex->uses_.assign(g.num_values(), 0);
  std::vector<std::vector<int>> slot_of(num_devices, std::vector<int>(g.num_values(), -1));
  std::vector<bool> notify(g.num_nodes(), false);

  // Where each read of a node on device d comes from; counts the reads that keep a value alive.
  auto source = [&](std::size_t d, ValueId v, Step& st) -> Result<Source> {
    if (v == kNoValue) return Source{};
    const auto vi = static_cast<std::size_t>(v);
    const Value& val = g.value(v);
    switch (val.kind) {
      case ValueKind::kInitializer: return Source{SourceKind::kConstant, v};
      case ValueKind::kOuterScope:
        return Status::error("node " + g.node(st.id).label(st.id) + ": reads outer value '" + val.name +
                             "', but the plan executor runs main graphs only");
      case ValueKind::kGraphInput:
      case ValueKind::kNodeOutput: break;
    }
    const int from = ex->producer_device_[vi];
    if (val.kind == ValueKind::kNodeOutput && from < 0)
      return Status::error("node " + g.node(st.id).label(st.id) + ": reads '" + val.name + "', which has no producer");
    if (from == static_cast<int>(d)) {
      ++ex->uses_[vi];
      return Source{SourceKind::kOwned, v};
    }
    int& slot = slot_of[d][vi];
    if (slot < 0) {
      slot = static_cast<int>(ex->slots_.size());
      ex->slots_.push_back(Slot{v, from, static_cast<int>(d), 0});
      if (from >= 0) ++ex->uses_[vi];  // the receiving device holds the producer's tensor until it is done
    }
    ++ex->slots_[static_cast<std::size_t>(slot)].uses;
    if (from >= 0) {
      if (std::find(st.waits.begin(), st.waits.end(), val.producer) == st.waits.end()) st.waits.push_back(val.producer);
      notify[static_cast<std::size_t>(val.producer)] = true;
    }
    return Source{SourceKind::kReceived, slot};
  };

  ex->steps_.resize(num_devices);
  for (std::size_t d = 0; d < num_devices; ++d)
    for (NodeId id : ex->placement_.order[d]) {
      Step st;
      st.id = id;
      for (ValueId v : g.node(id).inputs) {
        TANDEM_ASSIGN_OR_RETURN(Source s, source(d, v, st));
        st.inputs.push_back(s);
      }
      for (ValueId v : g.node(id).implicit_inputs) {
        TANDEM_ASSIGN_OR_RETURN(Source s, source(d, v, st));
        st.implicit_inputs.push_back(s);
      }
      ex->steps_[d].push_back(std::move(st));
    }
  for (auto& steps : ex->steps_)
    for (Step& st : steps) st.notify = notify[static_cast<std::size_t>(st.id)];
  for (ValueId v : g.outputs()) ex->uses_[static_cast<std::size_t>(v)] = -1;

  ex->pools_.resize(num_devices);
  for (std::size_t d = 1; d < num_devices; ++d)
    if (!ex->steps_[d].empty()) {
      const Device* dev = ex->devices_[d];
      ex->pools_[d] = std::make_unique<WorkerPool>([dev] { dev->release_thread(); });
    }
  return std::shared_ptr<const PlanExecutor>(std::move(ex));
}

Result<std::vector<Tensor>> PlanExecutor::run(std::span<const Tensor* const> inputs,
                                              const PlanRunOptions& options) const {
  const Graph& g = graph_;
  if (inputs.size() != g.inputs().size())
    return Status::error("graph '" + g.name + "' takes " + std::to_string(g.inputs().size()) + " inputs, got " +
                         std::to_string(inputs.size()));
  // Admission: wait for a place among the runs in flight (until the run's deadline at most); given back
  // when this call returns, however.
  struct Admission {
    const PlanExecutor& ex;
    bool admitted = false;
    Admission(const PlanExecutor& e, const RunControl* control) : ex(e) {
      if (ex.max_concurrent_runs_ <= 0) return;
      std::unique_lock<std::mutex> lock(ex.admit_mu_);
      const auto has_place = [this] { return ex.in_flight_ < ex.max_concurrent_runs_; };
      if (control) {
        if (!control->wait(lock, ex.admit_cv_, has_place)) return;
      } else {
        ex.admit_cv_.wait(lock, has_place);
      }
      ++ex.in_flight_;
      admitted = true;
    }
    ~Admission() {
      if (!admitted) return;
      {
        std::lock_guard<std::mutex> lock(ex.admit_mu_);
        --ex.in_flight_;
      }
      ex.admit_cv_.notify_one();
    }
  } admission(*this, options.control);
  if (max_concurrent_runs_ > 0 && !admission.admitted) {
    // Only the deadline ends that wait (so there is a control), and check() says so.
    Status s = options.control->check("its first node: it waited for one of the " +
                                      std::to_string(max_concurrent_runs_) + " runs in flight to end");
    return s.is_ok() ? Status::error("internal error: a run was not admitted before its deadline") : s;
  }
  const std::size_t num_devices = devices_.size();
  RunState rs(*this, num_devices);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto v = static_cast<std::size_t>(g.inputs()[i]);
    if (inputs[i]) rs.base[v] = inputs[i];
    else if (constants_[v].defined()) rs.base[v] = &constants_[v];
    else return Status::error("graph input '" + g.value(g.inputs()[i]).name + "' was not given");
    if (rs.base[v]->storage()) rs.caller_storage.push_back(rs.base[v]->storage());
  }
  ShapeKey key;
  if (static_memory_) {
    key = shape_key(inputs);
    {
      std::lock_guard<std::mutex> lock(plans_mu_);
      if (auto it = plans_.find(key); it != plans_.end()) rs.plan = it->second;
    }
    if (!rs.plan) {
      rs.recording = true;
      rs.recorded.resize(g.num_values());
      for (ValueId v : g.inputs()) {
        const Tensor& t = *rs.base[static_cast<std::size_t>(v)];
        rs.recorded[static_cast<std::size_t>(v)].bytes = static_cast<int64_t>(t.nbytes());
        rs.recorded[static_cast<std::size_t>(v)].tensor = t.has_byte_elements();
      }
    }
  }

  {
    std::lock_guard<std::mutex> lock(rs.mu);
    for (std::size_t d = 1; d < num_devices; ++d) rs.running += steps_[d].empty() ? 0 : 1;
  }
  for (std::size_t d = 1; d < num_devices; ++d) {
    if (steps_[d].empty()) continue;
    pools_[d]->submit([this, &rs, d, &options] { run_device(rs, d, options); },
                      [&rs] {
                        // Once the worker is idle again (a run right after this one reuses it, with its
                        // per-thread device state). Notify under the lock: once the caller sees running
                        // == 0 it destroys `rs`, cv included.
                        std::lock_guard<std::mutex> lock(rs.mu);
                        --rs.running;
                        rs.cv.notify_all();
                      });
  }
  if (!steps_[0].empty()) run_device(rs, 0, options);
  {
    // Every device thread must be done with `rs` (it lives on this stack) before returning, error or not.
    std::unique_lock<std::mutex> lock(rs.mu);
    rs.cv.wait(lock, [&rs] { return rs.running == 0; });
    if (rs.failed.load(std::memory_order_relaxed)) return rs.error;
  }

  std::vector<Tensor> result;
  result.reserve(g.outputs().size());
  for (ValueId v : g.outputs()) {
    const auto vi = static_cast<std::size_t>(v);
    const Tensor* t = rs.owned[vi].defined() ? &rs.owned[vi] : rs.base[vi] ? rs.base[vi]
                      : constants_[vi].defined()                           ? &constants_[vi]
                                                                           : nullptr;
    if (!t) return Status::error("graph output '" + g.value(v).name + "' was not computed");
    const int producer = producer_device_[vi];
    if (t->device() == DeviceKind::kCpu &&
        (producer < 0 || devices_[static_cast<std::size_t>(producer)]->memory_space() == 0)) {
      result.push_back(*t);
      continue;
    }
    // Outputs left in a device's memory come back to the host: the caller reads them there.
    auto host = devices_[static_cast<std::size_t>(producer)]->to_host(*t);
    if (!host) return Status::error("graph output '" + g.value(v).name + "': " + host.status().message());
    result.push_back(std::move(host).value());
  }
  if (rs.recording) {
    auto plan = make_memory_plan(rs.recorded);
    std::lock_guard<std::mutex> lock(plans_mu_);
    if (plans_.size() < 64) plans_.emplace(key, std::move(plan));  // bounded: shapes a server sees are few
  }
  if (options.stats) {
    options.stats->devices = rs.stats;
    for (std::size_t d = 0; d < num_devices; ++d) {
      options.stats->devices[d].peak_bytes = rs.memory[d].peak();
      options.stats->devices[d].arena_bytes = rs.plan ? rs.plan->arena_bytes[d] : 0;
    }
  }
  return result;
}

void PlanExecutor::run_device(RunState& rs, std::size_t d, const PlanRunOptions& options) const {
  try {
    devices_[d]->bind_thread();
    Status arena_ok;
    if (rs.plan && rs.plan->arena_bytes[d] > 0) {
      // On the device's own thread: a GPU allocates on the thread's stream.
      const int64_t bytes = rs.plan->arena_bytes[d];
      const OutputAllocator* a = devices_[d]->output_allocator();
      Result<Tensor> r = a ? a->allocate(DType::kUInt8, {bytes}) : Result<Tensor>(Tensor::empty(DType::kUInt8, {bytes}));
      if (r) {
        rs.arena[d] = std::move(r).value();
        rs.arena_storage[d].store(rs.arena[d].storage(), std::memory_order_release);
        rs.charge(d, rs.arena[d]);
      } else {
        arena_ok = Status::error("device '" + devices_[d]->name() + "': the run's memory arena (" +
                                 std::to_string(bytes) + " bytes): " + r.status().message());
      }
    }
    if (arena_ok.is_ok()) run_steps(rs, d, options);
    else rs.fail(std::move(arena_ok));
    // Whether or not the list ran to the end: work the device queued must be done before run() returns.
    if (Status s = devices_[d]->finish_run(); !s.is_ok())
      rs.fail(Status::error("device '" + devices_[d]->name() + "': " + s.message()));
  } catch (const std::exception& e) {
    rs.fail(Status::error("device '" + devices_[d]->name() + "': " + e.what()));
  }
}

void PlanExecutor::run_steps(RunState& rs, std::size_t d, const PlanRunOptions& options) const {
  {
    for (const Step& st : steps_[d]) {
      if (rs.failed.load(std::memory_order_acquire)) return;
      // Wait for producers on other devices; the lock-free check covers the common case of done ones.
      const auto ready = [&] {
        for (NodeId p : st.waits)
          if (!rs.done[static_cast<std::size_t>(p)].load(std::memory_order_acquire)) return false;
        return true;
      };
      if (!ready()) {
        std::unique_lock<std::mutex> lock(rs.mu);
        rs.cv.wait(lock, [&] { return rs.failed.load(std::memory_order_relaxed) || ready(); });
        if (rs.failed.load(std::memory_order_relaxed)) return;
      }
      // After the wait for other devices' producers, which may have taken long.
      if (options.control && options.control->active())
        if (Status s = options.control->check(node_where(graph_, st.id)); !s.is_ok()) return rs.fail(std::move(s));
      Status s = run_step(rs, d, st, options);
      if (!s.is_ok()) return rs.fail(std::move(s));
    }
  }
}

Status PlanExecutor::run_step(RunState& rs, std::size_t d, const Step& st, const PlanRunOptions& options) const {
  const Graph& g = graph_;
  const Node& n = g.node(st.id);
  std::vector<const Tensor*> in_ptrs, implicit_ptrs;
  in_ptrs.reserve(st.inputs.size());
  implicit_ptrs.reserve(st.implicit_inputs.size());
  for (const Source& src : st.inputs) {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, resolve(rs, d, src, options));
    in_ptrs.push_back(t);
  }
  for (const Source& src : st.implicit_inputs) {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* t, resolve(rs, d, src, options));
    implicit_ptrs.push_back(t);
  }

  std::vector<Tensor> outs(n.outputs.size());
  KernelContext ctx(g, st.id, in_ptrs, implicit_ptrs, outs, devices_[d]->output_allocator());
  ctx.set_control(options.control);
  PlannedOutputs planned;
  if (rs.plan && rs.arena[d].defined()) {
    const auto id = static_cast<std::size_t>(st.id);
    planned = PlannedOutputs{&rs.arena[d], rs.plan->offset[id], rs.plan->bytes[id]};
    ctx.set_planned_outputs(&planned);
  }
  Status s;
  const auto start = options.on_node ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  s = run_kernel(*kernels_[static_cast<std::size_t>(st.id)], ctx);
  TANDEM_RETURN_IF_ERROR(s);
  TANDEM_RETURN_IF_ERROR(check_outputs(rs, d, st, in_ptrs, implicit_ptrs, outs, ctx));
  if (options.on_node)
    (*options.on_node)(NodeEvent{st.id, start, std::chrono::steady_clock::now(), outs, in_ptrs, implicit_ptrs});
  ++rs.stats[d].nodes;

  for (std::size_t k = 0; k < n.outputs.size(); ++k) {
    if (n.outputs[k] == kNoValue) continue;
    if (!outs[k].defined()) return ctx.error("internal error: output " + std::to_string(k) + " was not produced");
    const auto v = static_cast<std::size_t>(n.outputs[k]);
    rs.owned[v] = std::move(outs[k]);
    rs.charge(d, rs.owned[v]);
  }
  // Free what this node was the last to read before waking its readers, so memory a device holds does
  // not depend on how fast the other devices wake up.
  for (ValueId v : n.outputs)
    if (v != kNoValue && uses_[static_cast<std::size_t>(v)] == 0) drop_value(rs, v);  // nothing reads it
  for (const Source& src : st.inputs) release_use(rs, d, src);
  for (const Source& src : st.implicit_inputs) release_use(rs, d, src);
  if (st.notify) {
    {
      std::lock_guard<std::mutex> lock(rs.mu);
      rs.done[static_cast<std::size_t>(st.id)].store(1, std::memory_order_release);
    }
    rs.cv.notify_all();
  }
  return Status::ok();
}

namespace {

// Device::receive for any value: a sequence's elements are received one by one (the memory plan has no
// slot for them), an empty optional is passed on as it is.
Result<Tensor> receive_value(const Device& device, const Tensor& t, const Device* from, const Tensor* into) {
  if (t.is_none()) return t;
  if (!t.is_sequence()) return device.receive(t, from, into);
  std::vector<Tensor> elements;
  bool same = true;
  for (const Tensor& e : t.elements()) {
    TANDEM_ASSIGN_OR_RETURN(Tensor got, device.receive(e, from, nullptr));
    same = same && got.raw() == e.raw() && got.storage() == e.storage();
    elements.push_back(std::move(got));
  }
  return same ? t : Tensor::sequence(t.dtype(), std::move(elements));
}

}  // namespace

Result<const Tensor*> PlanExecutor::resolve(RunState& rs, std::size_t d, const Source& src,
                                            const PlanRunOptions& options) const {
  switch (src.kind) {
    case SourceKind::kNone: return nullptr;
    case SourceKind::kConstant: return &constants_[static_cast<std::size_t>(src.index)];
    case SourceKind::kOwned: return &rs.owned[static_cast<std::size_t>(src.index)];
    case SourceKind::kReceived: break;
  }
  const auto slot_index = static_cast<std::size_t>(src.index);
  Tensor& got = rs.received[slot_index];
  if (got.defined()) return &got;
  const Slot& slot = slots_[slot_index];
  const auto v = static_cast<std::size_t>(slot.value);
  const Tensor& from = slot.from >= 0 ? rs.owned[v] : *rs.base[v];
  const Device* from_device = slot.from >= 0 ? devices_[static_cast<std::size_t>(slot.from)] : nullptr;
  // The plan's slot for a copy, when this device copies what it receives (another memory space).
  Tensor into;
  if (rs.plan && rs.arena[d].defined() && from.has_byte_elements() && rs.plan->received_offset[slot_index] >= 0 &&
      static_cast<int64_t>(from.nbytes()) == rs.plan->received_bytes[slot_index])
    into = rs.arena[d].view(static_cast<std::size_t>(rs.plan->received_offset[slot_index]), from.dtype(), from.shape());
  const auto start = std::chrono::steady_clock::now();
  auto r = receive_value(*devices_[d], from, from_device, into.defined() ? &into : nullptr);
  if (!r) return Status::error("value '" + graph_.value(slot.value).name + "': " + r.status().message());
  got = std::move(r).value();
  const bool shared = got.storage() == from.storage() && got.raw() == from.raw() &&
                      got.elements().data() == from.elements().data();
  DeviceRunStats& st = rs.stats[d];
  ++st.received;
  if (!shared) {
    st.copied_bytes += static_cast<int64_t>(got.nbytes());
    rs.received_charged[slot_index] = 1;
    rs.charge(d, got);
  }
  if (options.on_copy)
    (*options.on_copy)(CopyEvent{slot.value, slot.from, static_cast<int>(d), start, std::chrono::steady_clock::now(),
                                 got.nbytes(), shared});
  return &got;
}

void PlanExecutor::release_use(RunState& rs, std::size_t d, const Source& src) const {
  if (src.kind == SourceKind::kOwned) return drop_value(rs, src.index);
  if (src.kind != SourceKind::kReceived) return;
  const auto slot_index = static_cast<std::size_t>(src.index);
  if (--rs.slot_uses[slot_index] > 0) return;
  if (rs.received_charged[slot_index]) rs.release(d, rs.received[slot_index]);
  rs.received[slot_index] = Tensor();
  const Slot& slot = slots_[slot_index];
  if (slot.from >= 0) drop_value(rs, slot.value);
}

// One read of node output `v` is over; the last one frees it (graph outputs stay).
void PlanExecutor::drop_value(RunState& rs, ValueId v) const {
  const auto vi = static_cast<std::size_t>(v);
  if (uses_[vi] < 0) return;
  if (uses_[vi] > 0 && rs.uses[vi].fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  rs.release(static_cast<std::size_t>(producer_device_[vi]), rs.owned[vi]);
  rs.owned[vi] = Tensor();
}

}  // namespace tandem

namespace tandem {

// The types and shapes of the inputs a run sees: `inputs` as given to run(), defaults filled in.
PlanExecutor::ShapeKey PlanExecutor::shape_key(std::span<const Tensor* const> inputs) const {
  ShapeKey key;
  key.reserve(graph_.inputs().size() * 5);
  for (std::size_t i = 0; i < graph_.inputs().size(); ++i) {
    const auto v = static_cast<std::size_t>(graph_.inputs()[i]);
    const Tensor* t = i < inputs.size() && inputs[i] ? inputs[i] : constants_[v].defined() ? &constants_[v] : nullptr;
    key.push_back(static_cast<int64_t>(t ? t->dtype() : DType::kUndefined));
    key.push_back(t ? static_cast<int64_t>(t->shape().size()) : -1);
    if (t) key.insert(key.end(), t->shape().begin(), t->shape().end());
    if (!t || t->is_tensor()) continue;
    // A sequence's element shapes (an empty optional: a count of -1), so that a plan is reused only where
    // what the sequence holds has the same shapes.
    key.push_back(t->is_none() ? -1 : static_cast<int64_t>(t->elements().size()));
    for (const Tensor& e : t->elements()) {
      key.push_back(static_cast<int64_t>(e.rank()));
      key.insert(key.end(), e.shape().begin(), e.shape().end());
    }
  }
  return key;
}

std::vector<int64_t> PlanExecutor::planned_arena_bytes(std::span<const Tensor* const> inputs) const {
  const ShapeKey key = shape_key(inputs);
  std::lock_guard<std::mutex> lock(plans_mu_);
  auto it = plans_.find(key);
  return it == plans_.end() ? std::vector<int64_t>{} : it->second->arena_bytes;
}

// Records what the kernel made (first run with these shapes), or, in a planned run, makes sure no output
// views the run's arenas where the plan did not expect it: such a view would outlive the bytes the plan
// gave its storage (a data-dependent kernel that viewed an input in the recorded run but not now, say).
Status PlanExecutor::check_outputs(RunState& rs, std::size_t d, const Step& st, std::span<const Tensor* const> ins,
                                   std::span<const Tensor* const> implicit_ins, std::vector<Tensor>& outs,
                                   const KernelContext& ctx) const {
  const Node& n = graph_.node(st.id);
  rs.stats[d].plan_misses += ctx.planned_misses();
  // The input value whose tensor has storage `s`, or kNoValue.
  auto input_with_storage = [&](const void* s) {
    for (std::size_t j = 0; j < ins.size(); ++j)
      if (ins[j] && ins[j]->storage() == s) return n.inputs[j];
    for (std::size_t j = 0; j < implicit_ins.size(); ++j)
      if (implicit_ins[j] && implicit_ins[j]->storage() == s) return n.implicit_inputs[j];
    return kNoValue;
  };
  for (std::size_t k = 0; k < n.outputs.size() && k < outs.size(); ++k) {
    const ValueId v = n.outputs[k];
    if (v == kNoValue || !outs[k].defined()) continue;
    const void* storage = outs[k].storage();
    if (rs.recording) {
      Recorded& r = rs.recorded[static_cast<std::size_t>(v)];
      r.bytes = static_cast<int64_t>(outs[k].nbytes());
      r.tensor = outs[k].has_byte_elements();
      r.allocated = ctx.allocated(k);
      r.view_of = !r.allocated && storage ? input_with_storage(storage) : kNoValue;
      continue;
    }
    if (!rs.plan || ctx.allocated(k) || !storage) continue;
    bool in_arena = false;
    for (std::size_t e = 0; e < devices_.size(); ++e)
      in_arena = in_arena || rs.arena_storage[e].load(std::memory_order_acquire) == storage;
    if (!in_arena) continue;
    // Planned buffers share their arena's storage, so a view is told by its bytes: within the input's.
    const ValueId expected = rs.plan->view_of[static_cast<std::size_t>(v)];
    const Tensor* viewed = nullptr;
    for (std::size_t j = 0; j < ins.size(); ++j)
      if (ins[j] && n.inputs[j] == expected) viewed = ins[j];
    for (std::size_t j = 0; j < implicit_ins.size(); ++j)
      if (implicit_ins[j] && n.implicit_inputs[j] == expected) viewed = implicit_ins[j];
    const auto* begin = static_cast<const std::byte*>(outs[k].raw());
    if (viewed && viewed->storage() == storage && begin >= static_cast<const std::byte*>(viewed->raw()) &&
        begin + outs[k].nbytes() <= static_cast<const std::byte*>(viewed->raw()) + viewed->nbytes())
      continue;
    ++rs.stats[d].plan_misses;
    if (outs[k].device() != DeviceKind::kCpu)
      return Status::error("node " + n.label(st.id) + ": output " + std::to_string(k) +
                           " views memory the run's memory plan gave to another value");
    outs[k] = outs[k].clone();
  }
  return Status::ok();
}

std::shared_ptr<const PlanExecutor::MemoryPlan> PlanExecutor::make_memory_plan(
    const std::vector<Recorded>& recorded) const {
  const Graph& g = graph_;
  const std::size_t num_devices = devices_.size();
  MemoryPlanInput in;
  in.device = placement_.device;
  for (const auto& order : placement_.order) in.order.emplace_back(order.begin(), order.end());
  for (const Device* dev : devices_) in.memory_space.push_back(dev->memory_space());
  in.items.resize(g.num_values());
  for (std::size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.values()[v];
    auto& item = in.items[v];
    item.bytes = recorded[v].bytes;
    if (val.kind == ValueKind::kNodeOutput) {
      item.producer = val.producer;
      item.view_of = recorded[v].view_of;
      item.unplanned = !recorded[v].allocated && item.view_of == kNoValue;
    } else {
      item.unplanned = val.kind != ValueKind::kGraphInput;
    }
    item.unplanned = item.unplanned || !recorded[v].tensor;
  }
  for (ValueId v : g.outputs()) in.items[static_cast<std::size_t>(v)].graph_output = true;
  for (std::size_t d = 0; d < num_devices; ++d)
    for (const Step& st : steps_[d])
      for (const auto* sources : {&st.inputs, &st.implicit_inputs})
        for (const Source& src : *sources) {
          const ValueId v = src.kind == SourceKind::kOwned      ? src.index
                            : src.kind == SourceKind::kReceived ? slots_[static_cast<std::size_t>(src.index)].value
                                                                : kNoValue;
          if (v == kNoValue) continue;
          auto& readers = in.items[static_cast<std::size_t>(v)].readers;
          if (readers.empty() || readers.back() != st.id) readers.push_back(st.id);
        }

  const std::vector<DeviceMemoryPlan> plans = plan_memory(in);
  auto plan = std::make_shared<MemoryPlan>();
  for (const auto& p : plans) plan->arena_bytes.push_back(p.arena_bytes);
  plan->offset.resize(g.num_nodes());
  plan->bytes.resize(g.num_nodes());
  for (std::size_t id = 0; id < g.num_nodes(); ++id) {
    const auto& outputs = g.nodes()[id].outputs;
    const auto& p = plans[static_cast<std::size_t>(placement_.device[id])];
    for (ValueId v : outputs) {
      const auto vi = static_cast<std::size_t>(v);
      plan->offset[id].push_back(v == kNoValue ? -1 : p.produced_offset[vi]);
      plan->bytes[id].push_back(v == kNoValue ? 0 : in.items[vi].bytes);
    }
  }
  for (const Slot& slot : slots_) {
    const auto vi = static_cast<std::size_t>(slot.value);
    plan->received_offset.push_back(plans[static_cast<std::size_t>(slot.to)].received_offset[vi]);
    plan->received_bytes.push_back(in.items[vi].bytes);
  }
  for (const Recorded& r : recorded) plan->view_of.push_back(r.view_of);
  return plan;
}

}  // namespace tandem
