// fuzz_plan_model: a model that runs on one CPU device must run the same over two (tests/fuzz/README.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tandem/tandem.h>

#include "runtime/executor.h"
#include "runtime/plan_executor.h"
#include "runtime/run_control.h"
#include "runtime_cpu/cpu_device.h"
#include "session/input_validation.h"
#include "session/model_impl.h"
#include "tests/fuzz/fuzz_entry.h"
#include "tests/fuzz/fuzz_model_input.h"
#include "tests/support/bitwise_difference.h"
#include "tests/support/random_placement.h"

namespace tandem::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

// What the target reports: not a tandem::Error, so it is never taken for the answer to bad bytes.
struct PlanFinding : std::logic_error {
  using std::logic_error::logic_error;
};

// How the model's outputs may differ from one run to the next.
enum class Draws { kNone, kSeeded, kUnseeded };

// Ops that draw random numbers (runtime_cpu/kernels/random_ops.cc, training-mode Dropout), in `g` or its
// nested graphs. A seeded kernel draws the same sequence in every executor, but a different sample each
// call, so only the first runs compare; an unseeded one differs every time.
Draws draws_of(const Graph& g) {
  Draws worst = Draws::kNone;
  for (const Node& n : g.nodes()) {
    bool random = n.op_type == "RandomUniform" || n.op_type == "RandomNormal" || n.op_type == "RandomUniformLike" ||
                  n.op_type == "RandomNormalLike" || n.op_type == "Bernoulli" || n.op_type == "Multinomial";
    if (n.op_type == "Dropout")
      random = (n.inputs.size() > 2 && n.inputs[2] != kNoValue) ||
               (n.opset < 7 && n.attribute_int("is_test", 0) == 0);
    if (random) {
      const Draws d = n.attribute("seed") ? Draws::kSeeded : Draws::kUnseeded;
      if (d > worst) worst = d;
    }
    for (const Graph* sub : n.subgraphs()) {
      const Draws d = draws_of(*sub);
      if (d > worst) worst = d;
    }
  }
  return worst;
}

// FNV-1a: the placement is a function of the input's bytes, so a finding replays.
uint64_t hash_bytes(const uint8_t* data, std::size_t size) {
  uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

std::string describe(const Placement& p) {
  std::string s;
  for (std::size_t d = 0; d < p.order.size(); ++d) {
    s += "device " + std::to_string(d) + ": [";
    for (std::size_t k = 0; k < p.order[d].size(); ++k) s += (k ? "," : "") + std::to_string(p.order[d][k]);
    s += "] ";
  }
  return s;
}

struct PlanRun {
  Result<std::vector<Tensor>> outputs = Status::error("not run");
  PlanRunStats stats;
  bool deadline = false;  // stopped by its deadline: says nothing about the plan
  std::vector<int> node_events;  // by NodeId: how many times the node observer saw the node
};

PlanRun run_plan(const PlanExecutor& ex, std::span<const Tensor* const> feeds, Clock::duration limit) {
  PlanRun r;
  r.node_events.assign(ex.graph().num_nodes(), 0);
  std::mutex mu;
  const NodeObserver on_node = [&](const NodeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    ++r.node_events.at(static_cast<std::size_t>(e.node));
  };
  const RunControl control(limit, nullptr);
  PlanRunOptions options;
  options.stats = &r.stats;
  options.control = &control;
  options.on_node = &on_node;
  r.outputs = ex.run(feeds, options);
  r.deadline = control.stopped() != RunControl::Stop::kNone;
  return r;
}

}  // namespace

void fuzz_plan_model(const uint8_t* data, std::size_t size) {
  std::optional<Model> model = load_fuzz_model(data, size);
  if (!model) return;
  const Graph& g = *model->impl().ir.graph;
  // Two sets of inputs of the same shapes, so that runs in the memory plan recorded with the first see other
  // values too (other data-dependent sizes, other branches); each with its single-device outputs, from one
  // thread, as fuzz_model's session runs (every device below has one thread too, so oneDNN splits its work
  // alike and the bits can match).
  const cpu::CpuDevice reference(1, "cpu");
  reference.bind_thread();
  auto single = GraphExecutor::compile(g, reference);
  if (!single) return;
  struct Inputs {
    std::vector<Tensor> tensors;
    std::vector<const Tensor*> feeds;
    Result<std::vector<Tensor>> want = Status::error("not run");
  };
  Inputs sets[2];
  Clock::duration slowest{};
  for (int k = 0; k < 2; ++k) {
    std::optional<std::vector<Tensor>> tensors = fuzz_inputs(g, k == 0 ? 1 : 1001);
    if (!tensors) return;
    Inputs& in = sets[k];
    in.tensors = std::move(*tensors);
    for (const Tensor& t : in.tensors) in.feeds.push_back(t.defined() ? &t : nullptr);
    if (!validate_inputs(g, in.feeds).is_ok()) return;
    const Clock::time_point start = Clock::now();
    const RunControl control(std::chrono::seconds(1), nullptr);
    in.want = (*single)->run(in.feeds, {}, nullptr, &control);
    if (control.stopped() != RunControl::Stop::kNone) return;  // too slow to say anything
    slowest = std::max(slowest, Clock::now() - start);
  }
  const Clock::duration limit = 4 * slowest + std::chrono::seconds(1);
  const Draws draws = draws_of(g);

  std::mt19937 rng(static_cast<std::mt19937::result_type>(hash_bytes(data, size)));
  const Placement placement = test::random_placement(g, 2, rng);
  // Mostly the session's options; now and then runs that allocate as they go (no memory plan), or one run
  // in flight at a time (the two at once wait for each other at admission).
  PlanCompileOptions compile_options;
  compile_options.static_memory = rng() % 8 != 0;
  compile_options.max_concurrent_runs = rng() % 4 == 0 ? 1 : 0;
  const cpu::CpuDevice first(1, "cpu0"), second(1, "cpu1");
  auto compiled = PlanExecutor::compile(g, {&first, &second}, placement, compile_options);
  if (!compiled)
    throw PlanFinding("the plan does not compile where one device does: " + compiled.status().message() + "; " +
                      describe(placement));
  const PlanExecutor& ex = **compiled;

  // Checks a run on input set `k` against the single-device run; false when its deadline stopped it.
  // `compare`: the outputs must have the same bits; `planned`: no output may miss the memory plan (the
  // sizes are those recorded).
  auto check = [&](const PlanRun& r, int k, const std::string& which, bool compare, bool planned) {
    if (r.deadline) return false;
    const Result<std::vector<Tensor>>& want = sets[k].want;
    const std::string where = " (" + which + ", input set " + std::to_string(k + 1) + "; " + describe(placement) +
                              (compile_options.static_memory ? "" : "; no static memory") +
                              (compile_options.max_concurrent_runs ? "; one run at a time" : "") + ")";
    if (!want.is_ok()) {
      if (r.outputs) throw PlanFinding("the plan succeeds where one device fails with: " + want.status().message() + where);
      return true;
    }
    if (!r.outputs)
      throw PlanFinding("the plan fails where one device succeeds: " + r.outputs.status().message() + where);
    if (compare) {
      const std::string d = test::bitwise_difference(*r.outputs, *want);
      if (!d.empty()) throw PlanFinding("the plan's " + d + where);
    }
    for (std::size_t n = 0; n < g.num_nodes(); ++n)
      if (r.node_events[n] != 1)
        throw PlanFinding("the node observer saw node " + g.node(static_cast<NodeId>(n)).label(static_cast<NodeId>(n)) +
                          " " + std::to_string(r.node_events[n]) + " times" + where);
    for (std::size_t d = 0; d < 2; ++d) {
      const DeviceRunStats& s = r.stats.devices.at(d);
      if (s.nodes != static_cast<int64_t>(placement.order[d].size()) || s.copied_bytes != 0 ||
          (planned && s.plan_misses != 0) || s.peak_bytes < s.arena_bytes)
        throw PlanFinding("device " + std::to_string(d) + " ran " + std::to_string(s.nodes) + " nodes, copied " +
                          std::to_string(s.copied_bytes) + " bytes, missed its plan " + std::to_string(s.plan_misses) +
                          " times, peak " + std::to_string(s.peak_bytes) + " bytes with an arena of " +
                          std::to_string(s.arena_bytes) + where);
    }
    return true;
  };
  // The first run records the sizes; the second runs in the static memory plan's arenas on other values;
  // two more at once share the executor (each with arenas of its own), one on each input set. A seeded
  // random kernel draws alike in the first two runs only (the single-device runs were its first calls).
  const bool seeded_alike = draws != Draws::kUnseeded;
  if (!check(run_plan(ex, sets[0].feeds, limit), 0, "run 1", seeded_alike, true)) return;
  if (!check(run_plan(ex, sets[1].feeds, limit), 1, "run 2", seeded_alike, false)) return;
  PlanRun a, b;
  std::thread other([&] { b = run_plan(ex, sets[1].feeds, limit); });
  a = run_plan(ex, sets[0].feeds, limit);
  other.join();
  check(a, 0, "run 3, beside run 4", draws == Draws::kNone, draws == Draws::kNone);
  check(b, 1, "run 4, beside run 3", draws == Draws::kNone, false);
  // TANDEM_FUZZ_PLAN_VERBOSE=1: a line per input that got this far, to see what a campaign reaches.
  static const bool verbose = std::getenv("TANDEM_FUZZ_PLAN_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "fuzz_plan_model: %zu nodes (%zu, %zu by device), single device %s/%s, draws %d\n",
                 g.num_nodes(), placement.order[0].size(), placement.order[1].size(),
                 sets[0].want.is_ok() ? "ok" : "failed", sets[1].want.is_ok() ? "ok" : "failed",
                 static_cast<int>(draws));
}

}  // namespace tandem::fuzz
