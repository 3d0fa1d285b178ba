// Stopping a run early (runtime/run_control.h, RunOptions in the public API): a time limit and a cancel
// flag end a Loop that would run (nearly) forever, on one device and across two, and while a run waits for a
// place among the runs in flight; a limit a run stays within changes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <limits>
#include <stdexcept>
#include <thread>

#include <tandem/tandem.h>

#include "runtime/executor.h"
#include "runtime/plan_executor.h"
#include "runtime/run_control.h"
#include "runtime_cpu/cpu_device.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using onnx::TensorProto;
using namespace tandem::test;

// x [2] -> Identity 'first' -> Loop 'loop' (trip count M, condition go; the body adds 1 to s and passes the
// condition on unchanged) -> s_final; beside it, x -> Neg 'side' -> z. With go = true the loop runs M
// times; M = INT64_MAX is forever as far as any test can tell. `with_m` false leaves M out: a loop whose
// condition never turns false, which ONNX allows.
onnx::ModelProto counting_loop(bool with_m = true) {
  auto m = make_model();
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{2}});
  add_input(g, "M", TensorProto::INT64, {});
  add_input(g, "go", TensorProto::BOOL, {});
  add_node(g, "Identity", {"x"}, {"x1"}, "first");
  auto* n = add_node(g, "Loop", {with_m ? "M" : "", "go", "x1"}, {"s_final"}, "loop");
  auto* b = set_graph(n, "body");
  b->set_name("count");
  add_input(*b, "i", TensorProto::INT64, {});
  add_input(*b, "cond_in", TensorProto::BOOL, {});
  add_input(*b, "s", TensorProto::FLOAT, {int64_t{2}});
  add_float_initializer(*b, "one", {}, {1.0f});
  add_node(*b, "Identity", {"cond_in"}, {"cond_out"}, "keep_going");
  add_node(*b, "Add", {"s", "one"}, {"s_next"}, "plus_one");
  add_output(*b, "cond_out", TensorProto::BOOL);
  add_output(*b, "s_next", TensorProto::FLOAT);
  add_node(g, "Neg", {"x"}, {"z"}, "side");
  add_output(g, "s_final", TensorProto::FLOAT);
  add_output(g, "z", TensorProto::FLOAT);
  return m;
}

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

std::map<std::string, HostTensor> feeds(int64_t trips) {
  return {{"x", HostTensor::of<float>({2}, {0.5f, -2.0f})},
          {"M", HostTensor::of<int64_t>({}, {trips})},
          {"go", HostTensor::of<bool>({}, {true})}};
}

Session session_of(const onnx::ModelProto& m) {
  const std::string bytes = m.SerializeAsString();
  return Session(Model::load_from_bytes(bytes.data(), bytes.size(), "loop.onnx"));
}

// Runs and returns the Error it throws (fails the test if it throws none).
Error run_error(const Session& s, const std::map<std::string, HostTensor>& in, const RunOptions& o) {
  try {
    s.run(in, o);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the run did not throw";
  return Error("none");
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(RunOptions, ATimeLimitEndsALoopThatWouldNotEnd) {
  for (bool with_m : {true, false}) {
    const Session s = session_of(counting_loop(with_m));
    RunOptions o;
    o.timeout = 30ms;
    const Error e = run_error(s, feeds(kForever), o);
    EXPECT_EQ(e.kind(), Error::Kind::kTimedOut) << e.what();
    // Where it stopped: before an iteration of the loop ("run stopped before node 'loop' (Loop): iteration
    // 12"), or before a node of its body ("node 'loop' (Loop): iteration 12: run stopped before node ...").
    EXPECT_EQ(std::string(e.what()).rfind("model 'loop.onnx': ", 0), 0u) << e.what();
    EXPECT_TRUE(contains(e.what(), "node 'loop' (Loop): iteration ")) << e.what();
    EXPECT_TRUE(contains(e.what(), "past its time limit of 30 ms")) << e.what();
  }
}

// A body of no nodes (its outputs are its inputs) has no node to check before: the loop checks before each
// iteration itself.
// The limit reads as a person would write it, never with an exponent ("1e+03 ms" for a second).
TEST(RunControl, TheMessageSaysTheLimitPlainly) {
  const std::pair<std::chrono::microseconds, const char*> cases[] = {
      {250us, "time limit of 0.25 ms ("}, {30ms, "time limit of 30 ms ("},  {1s, "time limit of 1 s ("},
      {1500ms, "time limit of 1.5 s ("},  {1h, "time limit of 3600 s ("}};
  for (const auto& [limit, text] : cases) {
    const RunControl control(limit, nullptr);
    const Status s = control.stop(RunControl::Stop::kDeadline, "node 'n' (Relu)");
    EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("e+"), std::string::npos) << s.message();
  }
}

TEST(RunOptions, ALoopWhoseBodyHasNoNodesStopsToo) {
  auto m = counting_loop(false);
  onnx::GraphProto* body = m.mutable_graph()->mutable_node(1)->mutable_attribute(0)->mutable_g();
  body->clear_node();
  body->clear_initializer();
  body->mutable_output(0)->set_name("cond_in");
  body->mutable_output(1)->set_name("s");
  const Session s = session_of(m);
  RunOptions o;
  o.timeout = 20ms;
  const Error e = run_error(s, feeds(kForever), o);
  EXPECT_EQ(e.kind(), Error::Kind::kTimedOut) << e.what();
  EXPECT_TRUE(contains(e.what(), "run stopped before node 'loop' (Loop): iteration ")) << e.what();
}

TEST(RunOptions, TheCancelFlagStopsARunFromAnotherThread) {
  const Session s = session_of(counting_loop(false));
  std::atomic<bool> cancel{false};
  RunOptions o;
  o.cancel = &cancel;
  auto run = std::async(std::launch::async, [&] { return run_error(s, feeds(kForever), o); });
  EXPECT_EQ(run.wait_for(50ms), std::future_status::timeout);  // still looping: nothing stopped it yet
  cancel.store(true);
  const Error e = run.get();
  EXPECT_EQ(e.kind(), Error::Kind::kCancelled) << e.what();
  EXPECT_TRUE(contains(e.what(), "run cancelled by the caller before node '")) << e.what();
  EXPECT_TRUE(contains(e.what(), "node 'loop' (Loop): iteration ")) << e.what();
}

TEST(RunOptions, AFlagAlreadySetStopsBeforeTheFirstNode) {
  const Session s = session_of(counting_loop());
  std::atomic<bool> cancel{true};
  RunOptions o;
  o.cancel = &cancel;
  const Error e = run_error(s, feeds(3), o);
  EXPECT_EQ(e.kind(), Error::Kind::kCancelled);
  EXPECT_TRUE(contains(e.what(), "run cancelled by the caller before node 'first' (Identity)")) << e.what();
}

TEST(RunOptions, ALimitTheRunStaysWithinChangesNothing) {
  const Session s = session_of(counting_loop());
  std::atomic<bool> cancel{false};
  RunOptions o;
  o.timeout = std::chrono::hours(1);
  o.cancel = &cancel;
  for (int64_t trips : {0, 1, 7}) {
    const auto plain = s.run(feeds(trips));
    const auto limited = s.run(feeds(trips), o);
    const float* got = limited.at("s_final").data<float>();
    EXPECT_EQ(got[0], 0.5f + static_cast<float>(trips));
    EXPECT_EQ(got[1], -2.0f + static_cast<float>(trips));
    EXPECT_EQ(std::memcmp(got, plain.at("s_final").data<float>(), 2 * sizeof(float)), 0);
    EXPECT_EQ(limited.at("z").data<float>()[1], 2.0f);
  }
}

TEST(RunOptions, TheSessionRunsOnAfterAStoppedRun) {
  const Session s = session_of(counting_loop());
  RunOptions o;
  o.timeout = 5ms;
  EXPECT_EQ(run_error(s, feeds(kForever), o).kind(), Error::Kind::kTimedOut);
  const auto out = s.run(feeds(4));
  EXPECT_EQ(out.at("s_final").data<float>()[0], 4.5f);
}

TEST(RunOptions, OtherFailuresAreOfKindFailedAndANegativeLimitIsRefused) {
  const Session s = session_of(counting_loop());
  auto bad = feeds(3);
  bad["x"] = HostTensor::of<float>({3}, {1, 2, 3});
  RunOptions o;
  o.timeout = std::chrono::hours(1);
  EXPECT_EQ(run_error(s, bad, o).kind(), Error::Kind::kFailed);
  o.timeout = -1ms;
  const Error e = run_error(s, feeds(3), o);
  EXPECT_EQ(e.kind(), Error::Kind::kFailed);
  EXPECT_TRUE(contains(e.what(), "RunOptions::timeout is negative (-1000 us)")) << e.what();
}

std::vector<Tensor> runtime_feeds(int64_t trips) {
  std::vector<Tensor> t;
  t.push_back(make_tensor<float>({2}, {0.5f, -2.0f}));
  t.push_back(make_tensor<int64_t>({}, {trips}));
  t.push_back(make_bool_tensor({}, {true}));
  return t;
}

// The plan executor with the loop on one CPU device and 'side' on another, fed a (nearly) endless loop.
struct TwoDevicePlan {
  ModelIR ir;
  cpu::CpuDevice a{1, "cpu0"}, b{1, "cpu1"};
  std::shared_ptr<const PlanExecutor> ex;
  std::vector<Tensor> in = runtime_feeds(kForever);
  std::vector<const Tensor*> ptrs{&in[0], &in[1], &in[2]};

  explicit TwoDevicePlan(PlanCompileOptions options = {}) {
    auto imported = import_proto(counting_loop());
    if (!imported) throw std::runtime_error(imported.status().message());
    ir = std::move(*imported);
    const Graph& g = *ir.graph;
    Placement p;
    p.device.assign(g.num_nodes(), 0);
    p.order.resize(2);
    for (std::size_t i = 0; i < g.num_nodes(); ++i) {
      const int d = g.node(static_cast<NodeId>(i)).name == "side" ? 1 : 0;
      p.device[i] = d;
      p.order[static_cast<std::size_t>(d)].push_back(static_cast<NodeId>(i));
    }
    auto compiled = PlanExecutor::compile(g, {&a, &b}, p, options);
    if (!compiled) throw std::runtime_error(compiled.status().message());
    ex = std::move(*compiled);
  }
  Result<std::vector<Tensor>> run(const RunControl* control, const NodeObserver* on_node = nullptr) const {
    PlanRunOptions o;
    o.control = control;
    o.on_node = on_node;
    return ex->run(ptrs, o);
  }
};

// The stop fails the run like a failing node, both device threads finish, and the executor runs on.
TEST(PlanExecutorRunControl, ATimeLimitStopsARunAcrossTwoDevices) {
  TwoDevicePlan plan;
  const RunControl control(20ms, nullptr);
  auto r = plan.run(&control);
  ASSERT_FALSE(r);
  EXPECT_EQ(control.stopped(), RunControl::Stop::kDeadline);
  EXPECT_TRUE(contains(r.status().message(), "node 'loop' (Loop): iteration ")) << r.status().message();
  plan.in[1] = make_tensor<int64_t>({}, {2});
  auto ok = plan.run(nullptr);
  ASSERT_TRUE(ok) << ok.status().message();
  EXPECT_EQ(values_of<float>((*ok)[0]), (std::vector<float>{2.5f, 0.0f}));
}

// With one run in flight allowed and that run looping, a second run with a time limit gives up waiting
// for its place, saying so; the first, cancelled, ends too.
TEST(PlanExecutorRunControl, ARunWaitingForAPlaceGivesUpAtItsTimeLimit) {
  PlanCompileOptions one_at_a_time;
  one_at_a_time.max_concurrent_runs = 1;
  const TwoDevicePlan plan(one_at_a_time);
  std::atomic<bool> cancel{false};
  std::promise<void> started;
  std::atomic<bool> signalled{false};
  const NodeObserver seen = [&](const NodeEvent&) {
    if (!signalled.exchange(true)) started.set_value();
  };
  const RunControl first_control(std::nullopt, &cancel);
  auto first = std::async(std::launch::async, [&] { return plan.run(&first_control, &seen); });
  started.get_future().wait();  // the first run holds the one place

  const RunControl second_control(20ms, nullptr);
  auto second = plan.run(&second_control);
  ASSERT_FALSE(second);
  EXPECT_EQ(second_control.stopped(), RunControl::Stop::kDeadline);
  EXPECT_TRUE(contains(second.status().message(), "waited for one of the 1 runs in flight to end"))
      << second.status().message();

  cancel.store(true);
  auto r = first.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(first_control.stopped(), RunControl::Stop::kCancelled);
}

// Nested bodies get the control too: an If whose branch holds the loop stops inside it.
// The copying kernels check the control inside a large copy (runtime_cpu/kernels/tensor_ops.h,
// copy_strided_stoppable; Pad's row walk), not only the executor between nodes: driven directly, with a
// cancel flag already set, an Expand, a Tile and a Pad of 20 MB stop at their first slice, naming the node
// and where; with the flag clear they make what they make without a control.
// The CPU's kernel for node `id` (no nested bodies), run once on `inputs` with a control whose cancel flag
// is set or clear: the kernel-level tests below drive kernels that check the control inside themselves.
struct FlaggedRun {
  Status status;
  Tensor out;
  RunControl::Stop stopped = RunControl::Stop::kNone;
};
FlaggedRun run_flagged(const Kernel& kernel, const Graph& graph, NodeId id, const std::vector<const Tensor*>& inputs,
                       bool cancelled) {
  std::atomic<bool> flag{cancelled};
  const RunControl control(std::nullopt, &flag);
  std::vector<Tensor> outs(1);
  KernelContext ctx(graph, id, inputs, {}, outs);
  ctx.set_control(&control);
  FlaggedRun r;
  r.status = run_kernel(kernel, ctx);
  r.out = outs[0];
  r.stopped = control.stopped();
  return r;
}

KernelPtr cpu_kernel(const Graph& graph, NodeId id) {
  static const cpu::CpuDevice cpu(1, "cpu");
  KernelInit init{graph, id, [](const Graph&) -> Result<std::shared_ptr<const GraphExecutor>> {
                    return Status::error("no bodies here");
                  }};
  auto kernel = cpu.create_kernel(init);
  EXPECT_TRUE(kernel.is_ok()) << kernel.status().message();
  return kernel.is_ok() ? std::move(kernel).value() : nullptr;
}

TEST(KernelRunControl, ExpandTileAndPadOfAModelSizedOutputStopInsideTheCopy) {
  constexpr int64_t kLong = 5'000'000;  // 20 MB of floats: more than one 16 MiB slice
  auto m = make_model(19, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{2}, int64_t{1}});
  add_int64_initializer(g, "shape", {2}, {2, kLong});
  add_int64_initializer(g, "repeats", {2}, {1, kLong});
  add_int64_initializer(g, "pads", {4}, {0, 0, 0, kLong - 1});
  add_node(g, "Expand", {"x", "shape"}, {"e"}, "expand");
  add_node(g, "Tile", {"x", "repeats"}, {"t"}, "tile");
  set_string(add_node(g, "Pad", {"x", "pads"}, {"p"}, "pad"), "mode", "edge");  // each row its one value
  add_output(g, "e", TensorProto::FLOAT);
  add_output(g, "t", TensorProto::FLOAT);
  add_output(g, "p", TensorProto::FLOAT);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& graph = *ir->graph;
  const Tensor x = make_tensor<float>({2, 1}, {1.5f, -2.0f});
  for (NodeId id = 0; id < static_cast<NodeId>(graph.num_nodes()); ++id) {
    const Node& n = graph.node(id);
    SCOPED_TRACE(n.name);
    const KernelPtr kernel = cpu_kernel(graph, id);
    ASSERT_NE(kernel, nullptr);
    const Tensor consts = Tensor::from_constant(graph.value(n.inputs[1]).data);
    const std::vector<const Tensor*> inputs = {&x, &consts};
    for (bool cancelled : {true, false}) {
      const FlaggedRun r = run_flagged(*kernel, graph, id, inputs, cancelled);
      if (cancelled) {
        ASSERT_FALSE(r.status.is_ok());
        EXPECT_EQ(r.status.message(), "run cancelled by the caller before node '" + n.name + "' (" + n.op_type +
                                          "): output element 0 of " + std::to_string(2 * kLong));
        EXPECT_EQ(r.stopped, RunControl::Stop::kCancelled);
      } else {
        ASSERT_TRUE(r.status.is_ok()) << r.status.message();
        ASSERT_EQ(r.out.shape(), (std::vector<int64_t>{2, kLong}));
        const float* y = r.out.data<float>();
        for (int64_t i : {int64_t{0}, kLong / 2, kLong - 1}) {  // first row 1.5, second -2, across slices
          EXPECT_EQ(y[i], 1.5f) << i;
          EXPECT_EQ(y[kLong + i], -2.0f) << i;
        }
      }
    }
  }
}

// AffineGrid writes its grid in its own loop and checks the control every 16 MiB of it (OutputProgress):
// a 40 MB grid stops at its first element with the flag set, and is whole with it clear.
TEST(KernelRunControl, AModelSizedAffineGridStopsInsideItsLoop) {
  constexpr int64_t kLong = 5'000'000;  // a grid [1, 1, kLong, 2]: 40 MB of floats
  auto m = make_model(20, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "theta", TensorProto::FLOAT, {int64_t{1}, int64_t{2}, int64_t{3}});
  add_int64_initializer(g, "size", {4}, {1, 1, 1, kLong});
  add_node(g, "AffineGrid", {"theta", "size"}, {"grid"}, "affine");
  add_output(g, "grid", TensorProto::FLOAT);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& graph = *ir->graph;
  const KernelPtr kernel = cpu_kernel(graph, 0);
  ASSERT_NE(kernel, nullptr);
  const Tensor theta = make_tensor<float>({1, 2, 3}, {1, 0, 0, 0, 1, 0});  // the identity
  const Tensor size = Tensor::from_constant(graph.value(graph.node(0).inputs[1]).data);
  const std::vector<const Tensor*> inputs = {&theta, &size};
  for (bool cancelled : {true, false}) {
    const FlaggedRun r = run_flagged(*kernel, graph, 0, inputs, cancelled);
    if (cancelled) {
      ASSERT_FALSE(r.status.is_ok());
      EXPECT_EQ(r.status.message(),
                "run cancelled by the caller before node 'affine' (AffineGrid): output element 0 of " +
                    std::to_string(2 * kLong));
    } else {
      ASSERT_TRUE(r.status.is_ok()) << r.status.message();
      const float* grid = r.out.data<float>();
      // The identity's grid: x runs from -1 + 1/L to 1 - 1/L along W, y is 0 (one row).
      EXPECT_FLOAT_EQ(grid[0], -1.0f + 1.0f / kLong);
      EXPECT_FLOAT_EQ(grid[2 * (kLong - 1)], 1.0f - 1.0f / kLong);
      EXPECT_EQ(grid[2 * (kLong / 2) + 1], 0.0f);
    }
  }
}

// Resize checks the control in its own loops too (each interpolation pass, and the nearest gather): with
// the flag set a linear and a nearest resize stop at their first element; with it clear they give what a
// run without a control gives.
TEST(KernelRunControl, ResizeStopsInsideItsPasses) {
  auto m = make_model(19, 9);
  auto& g = *m.mutable_graph();
  add_input(g, "x", TensorProto::FLOAT, {int64_t{1}, int64_t{1}, int64_t{2}, int64_t{2}});
  add_int64_initializer(g, "sizes", {4}, {1, 1, 1500, 1500});
  set_string(add_node(g, "Resize", {"x", "", "", "sizes"}, {"lin"}, "linear"), "mode", "linear");
  set_string(add_node(g, "Resize", {"x", "", "", "sizes"}, {"near"}, "nearest"), "mode", "nearest");
  add_output(g, "lin", TensorProto::FLOAT);
  add_output(g, "near", TensorProto::FLOAT);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir.is_ok()) << ir.status().message();
  const Graph& graph = *ir->graph;
  const Tensor x = make_tensor<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor sizes = Tensor::from_constant(graph.value(graph.node(0).inputs[3]).data);
  const std::vector<const Tensor*> inputs = {&x, nullptr, nullptr, &sizes};
  for (NodeId id = 0; id < 2; ++id) {
    SCOPED_TRACE(graph.node(id).name);
    const KernelPtr kernel = cpu_kernel(graph, id);
    ASSERT_NE(kernel, nullptr);
    std::vector<Tensor> plain(1);
    {
      KernelContext ctx(graph, id, inputs, {}, plain);
      ASSERT_TRUE(run_kernel(*kernel, ctx).is_ok());
    }
    for (bool cancelled : {true, false}) {
      const FlaggedRun r = run_flagged(*kernel, graph, id, inputs, cancelled);
      if (cancelled) {
        ASSERT_FALSE(r.status.is_ok());
        // The linear resize stops in its first pass, over axis 3 ([1, 1, 2, 1500]: 3000 elements, not the
        // output's 2250000); the nearest one in its gather of the output.
        const std::string where = id == 0 ? "pass over axis 3: element 0 of 3000" : "output element 0 of 2250000";
        EXPECT_NE(r.status.message().find("run cancelled by the caller before node '" + graph.node(id).name +
                                          "' (Resize): " + where),
                  std::string::npos)
            << r.status.message();
      } else {
        ASSERT_TRUE(r.status.is_ok()) << r.status.message();
        ASSERT_EQ(r.out.nbytes(), plain[0].nbytes());
        EXPECT_EQ(std::memcmp(r.out.raw(), plain[0].raw(), plain[0].nbytes()), 0);
      }
    }
  }
}

TEST(GraphExecutorRunControl, TheControlReachesNestedBodies) {
  auto m = counting_loop(false);
  auto& g = *m.mutable_graph();
  // Wrap: 'wrapper' If(go) whose then-branch is the loop (reading x1 from outside), else x1.
  onnx::NodeProto loop = g.node(1);
  g.mutable_node()->DeleteSubrange(1, 1);
  auto* n = add_node(g, "If", {"go"}, {"s_final"}, "wrapper");
  auto* then_g = set_graph(n, "then_branch");
  then_g->set_name("then_body");
  loop.set_output(0, "s_loop");
  *then_g->add_node() = loop;
  add_output(*then_g, "s_loop", TensorProto::FLOAT);
  auto* else_g = set_graph(n, "else_branch");
  else_g->set_name("else_body");
  add_node(*else_g, "Identity", {"x1"}, {"s_else"});
  add_output(*else_g, "s_else", TensorProto::FLOAT);
  auto ir = import_proto(m);
  ASSERT_TRUE(ir) << ir.status().message();
  static const cpu::CpuDevice device(1, "cpu");
  auto ex = GraphExecutor::compile(*ir->graph, device);
  ASSERT_TRUE(ex) << ex.status().message();
  std::vector<Tensor> in = runtime_feeds(kForever);
  const std::vector<const Tensor*> ptrs = {&in[0], &in[1], &in[2]};
  const RunControl control(20ms, nullptr);
  auto r = (*ex)->run(ptrs, {}, nullptr, &control);
  ASSERT_FALSE(r);
  EXPECT_EQ(control.stopped(), RunControl::Stop::kDeadline);
  EXPECT_TRUE(contains(r.status().message(), "node 'wrapper' (If): ")) << r.status().message();
  EXPECT_TRUE(contains(r.status().message(), "node 'loop' (Loop): iteration ")) << r.status().message();
}

}  // namespace
}  // namespace tandem
