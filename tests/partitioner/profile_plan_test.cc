// The Profile and Plan files: round trips, errors that name the field, and a model's Graph plus its Profile
// as a TaskGraph.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "graph/graph.h"
#include "partitioner/partitioner.h"
#include "partitioner/plan.h"
#include "partitioner/profile.h"
#include "partitioner/task_graph.h"

namespace tandem::partition {
namespace {

Profile sample_profile() {
  Profile p;
  p.machine = {"Xeon 8480", 16, "NVIDIA H100", "550.54"};
  p.model_hash = "sha256:abc";
  p.input_shapes = {{"batch", 1}, {"seq", 100}};
  NodeProfile lstm;
  lstm.index = 0;
  lstm.name = "lstm";
  lstm.op_type = "LSTM";
  lstm.devices["cpu"] = NodeDeviceProfile{true, "", 120.5, 130.25, 1 << 20, 4096, 512, false, false, 0};
  lstm.devices["cuda"] = NodeDeviceProfile{true, "", 40.125, 45, 1 << 21, 4096, 1 << 16, true, true, 1 << 25};
  lstm.devices["cpu"].call_us = 60.25;
  NodeProfile shape;
  shape.index = 1;
  shape.name = "shape";
  shape.devices["cpu"] = NodeDeviceProfile{true, "", 0.5, 0.75, 0, 16, 0, false, false, 0};
  shape.devices["cuda"] = NodeDeviceProfile{false, "Shape runs on the host", 0, 0, 0, 0, 0, false, false, 0};
  p.nodes = {lstm, shape};
  p.values = {{"h", 4096, "", true}, {"s", 16, "", true}};
  p.links["cpu->cuda"] = LinkProfile::of(8.5, 12000, 0.25);
  p.links["cuda->cpu"] = LinkProfile::of(9, 11000.5, 0.5);
  p.links["cpu->cuda"].max_residual_us = 0.75;
  p.links["cpu->cuda"].samples = {{4, 8.5}, {1 << 20, 96.25}};
  p.links["cuda->cpu"].estimated = true;
  p.links["cpu->cpu"] = LinkProfile::of(1.5, 50000, 0.125);
  p.notes = {"cuda costs estimated"};
  return p;
}

TEST(ProfileJson, RoundTripsEveryField) {
  const Profile p = sample_profile();
  const std::string text = profile_to_json(p);
  auto back = profile_from_json(text);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(profile_to_json(*back), text);
  EXPECT_EQ(back->machine.gpu_name, "NVIDIA H100");
  EXPECT_EQ(back->machine.threads, 16);
  EXPECT_EQ(back->input_shapes.at("seq"), 100);
  ASSERT_EQ(back->nodes.size(), 2u);
  const NodeDeviceProfile& cuda = back->nodes[0].devices.at("cuda");
  EXPECT_DOUBLE_EQ(cuda.median_us, 40.125);
  EXPECT_EQ(cuda.weight_bytes, 1 << 21);
  EXPECT_EQ(cuda.workspace_bytes, 1 << 16);
  EXPECT_TRUE(cuda.estimated);
  EXPECT_TRUE(cuda.workspace_held);
  EXPECT_FALSE(back->nodes[0].devices.at("cpu").workspace_held);
  EXPECT_EQ(cuda.shared_workspace_bytes, 1 << 25);
  EXPECT_EQ(back->nodes[0].devices.at("cpu").shared_workspace_bytes, 0);
  EXPECT_DOUBLE_EQ(back->nodes[0].devices.at("cpu").call_us, 60.25);
  EXPECT_DOUBLE_EQ(cuda.call_us, 0);  // not measured: left out of the file
  EXPECT_EQ(text.find("call_us"), text.rfind("call_us"));
  EXPECT_FALSE(back->nodes[1].devices.at("cuda").supported);
  EXPECT_EQ(back->nodes[1].devices.at("cuda").reason, "Shape runs on the host");
  EXPECT_DOUBLE_EQ(back->links.at("cuda->cpu").beta_bytes_per_us, 11000.5);
  EXPECT_TRUE(back->links.at("cuda->cpu").estimated);
  EXPECT_DOUBLE_EQ(back->links.at("cpu->cuda").max_residual_us, 0.75);
  ASSERT_EQ(back->links.at("cpu->cuda").samples.size(), 2u);
  EXPECT_EQ(back->links.at("cpu->cuda").samples[1].bytes, 1 << 20);
  EXPECT_DOUBLE_EQ(back->links.at("cpu->cuda").samples[1].us, 96.25);
  EXPECT_DOUBLE_EQ(back->links.at("cpu->cpu").alpha_us, 1.5);
  EXPECT_EQ(back->notes, std::vector<std::string>{"cuda costs estimated"});
  EXPECT_EQ(back->find_value("h")->bytes, 4096);
}

TEST(ProfileJson, FilesRoundTripAndMissingFilesAreNamed) {
  const std::string path = ::testing::TempDir() + "/tandem_profile_test.json";
  ASSERT_TRUE(save_profile(sample_profile(), path).is_ok());
  auto back = load_profile(path);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(profile_to_json(*back), profile_to_json(sample_profile()));
  std::remove(path.c_str());
  auto missing = load_profile(path);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message().rfind("cannot open profile file '" + path + "'", 0), 0u)
      << missing.status().message();
  std::ofstream(path) << "{\"schema_version\": 1, \"nodes\": [{\"index\": 0}]}";
  EXPECT_EQ(load_profile(path).status().message(), "profile '" + path + "': nodes[0]: missing field 'name'");
  std::remove(path.c_str());
}

// Replaces the text of `field` (a JSON key with its value, as written by profile_to_json) and parses.
std::string profile_error(const std::string& from, const std::string& to) {
  std::string text = profile_to_json(sample_profile());
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  auto p = profile_from_json(text);
  EXPECT_FALSE(p.is_ok()) << from << " -> " << to;
  return p.is_ok() ? "" : p.status().message();
}

TEST(ProfileJson, MalformedFilesAreErrorsNamingTheField) {
  EXPECT_EQ(profile_error("\"median_us\": 40.125", "\"median_us\": \"fast\""),
            "profile: nodes[0].devices.cuda.median_us: expected a number, got a string");
  EXPECT_EQ(profile_error("\"weight_bytes\": 2097152", "\"weight_bytes\": -5"),
            "profile: nodes[0].devices.cuda.weight_bytes: must be at least 0, got -5");
  EXPECT_EQ(profile_error("\"weight_bytes\": 2097152", "\"weight_bytes\": 1.5"),
            "profile: nodes[0].devices.cuda.weight_bytes: expected an integer, got a number with a fraction");
  EXPECT_EQ(profile_error("\"p90_us\": 45.0", "\"p90_us\": 1.0"),
            "profile: nodes[0].devices.cuda.p90_us: is below median_us (40.125000)");
  EXPECT_EQ(profile_error("\"cuda\": {\n          \"estimated\": true",
                          "\"tpu\": {\n          \"estimated\": true"),
            "profile: nodes[0].devices.tpu: unknown device (expected \"cpu\" or \"cuda\")");
  EXPECT_EQ(profile_error("\"call_us\": 60.25", "\"call_us\": -1.0"),
            "profile: nodes[0].devices.cpu.call_us: must be at least 0, got -1");
  EXPECT_EQ(profile_error("\"schema_version\": 2", "\"schema_version\": 9"),
            "profile: schema_version: 9 is newer than this build reads (2)");
  EXPECT_EQ(profile_error("\"schema\": \"tandem.profile\"", "\"schema\": \"tandem.plan\""),
            "profile: schema: this is a 'tandem.plan' file, not a profile ('tandem.profile')");
  EXPECT_EQ(profile_error("\"beta_bytes_per_us\": 12000.0", "\"beta_bytes_per_us\": 0"),
            "profile: links.cpu->cuda.beta_bytes_per_us: must be above 0");
  EXPECT_EQ(profile_error("\"index\": 1", "\"index\": 0"), "profile: nodes[1].index: 0 appears twice");
  EXPECT_EQ(profile_error("\"nodes\": [", "\"nodez\": ["), "profile: top level: missing field 'nodes'");
  EXPECT_EQ(profile_from_json("[1, 2]").status().message(),
            "profile: top level: expected an object, got an array");
  const std::string bad = profile_from_json("{\"nodes\": [}").status().message();
  EXPECT_EQ(bad.rfind("profile: not valid JSON: ", 0), 0u) << bad;
  // An unsupported entry needs no costs; a supported one does.
  auto ok = profile_from_json(R"({"schema_version": 1, "nodes": [{"index": 0, "name": "n",
                                  "devices": {"cuda": {"supported": false}}}]})");
  EXPECT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ(profile_from_json(R"({"schema_version": 1, "nodes": [{"index": 0, "name": "n",
                                  "devices": {"cpu": {"supported": true}}}]})")
                .status()
                .message(),
            "profile: nodes[0].devices.cpu: missing field 'median_us'");
}

// A small model: x -> lstm (weights W) -> h -> relu -> y (output); x -> Shape -> s (int64) -> Gather (int64
// constant index) -> g (int64), read by relu too.
Graph sample_graph() {
  Graph g;
  auto value = [&](const char* name, ValueKind kind, DType dt, Shape shape) {
    const ValueId v = g.add_value(name, kind);
    g.value(v).dtype = dt;
    g.value(v).shape = std::move(shape);
    return v;
  };
  const ValueId x = value("x", ValueKind::kGraphInput, DType::kFloat32, Shape::of({1, 100, 64}));
  g.add_input(x);
  const ValueId w = value("W", ValueKind::kInitializer, DType::kFloat32, Shape::of({1, 256, 64}));
  g.add_initializer(w);
  const ValueId idx = value("idx", ValueKind::kInitializer, DType::kInt64, Shape::of({}));
  g.add_initializer(idx);
  const ValueId h = value("h", ValueKind::kNodeOutput, DType::kFloat32, Shape());  // size from the profile
  const ValueId s = value("s", ValueKind::kNodeOutput, DType::kInt64, Shape::of({3}));
  const ValueId gathered = value("g", ValueKind::kNodeOutput, DType::kInt64, Shape::of({}));
  const ValueId y = value("y", ValueKind::kNodeOutput, DType::kFloat32, Shape::of({1, 100, 64}));
  auto node = [&](const char* name, const char* op, std::vector<ValueId> in, std::vector<ValueId> out) {
    Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    g.add_node(std::move(n));
  };
  node("lstm", "LSTM", {x, w}, {h});
  node("shape", "Shape", {x}, {s});
  node("gather", "Gather", {s, idx}, {gathered});
  node("relu", "Relu", {h, gathered}, {y});
  g.add_output(y);
  return g;
}

Profile profile_for(const Graph& g) {
  Profile p;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    NodeProfile n;
    n.index = static_cast<int64_t>(i);
    n.name = g.node(static_cast<NodeId>(i)).name;
    n.devices["cpu"] = NodeDeviceProfile{true, "", 10.0 * static_cast<double>(i + 1), 0, 100, 0, 0, false, false, 0};
    if (n.name != "shape")
      n.devices["cuda"] = NodeDeviceProfile{true, "", 1.0 * static_cast<double>(i + 1), 0, 200, 0, 64, false, false, 0};
    p.nodes.push_back(n);
  }
  p.values = {{"h", 777, "", true}};
  p.links["cpu->cuda"] = LinkProfile::of(5, 1000, 0);
  p.links["cuda->cpu"] = LinkProfile::of(6, 2000, 0);
  return p;
}

TEST(BuildTaskGraph, TasksValuesSizesAndLinksComeFromTheGraphAndProfile) {
  const Graph g = sample_graph();
  auto tg = build_task_graph(g, profile_for(g));
  ASSERT_TRUE(tg.is_ok()) << tg.status().message();
  ASSERT_EQ(tg->num_tasks(), 4);
  const Task& lstm = tg->task(0);
  EXPECT_EQ(lstm.name, "lstm");
  EXPECT_EQ(lstm.node_index, 0);
  EXPECT_DOUBLE_EQ(lstm.on(Device::kCpu).time_us, 10);
  EXPECT_DOUBLE_EQ(lstm.on(Device::kGpu).time_us, 1);
  EXPECT_EQ(lstm.on(Device::kGpu).weight_bytes, 200);
  EXPECT_EQ(lstm.on(Device::kGpu).workspace_bytes, 64);
  const Task& shape = tg->task(1);
  EXPECT_FALSE(shape.supports(Device::kGpu));
  EXPECT_EQ(shape.on(Device::kGpu).reason, "not profiled on cuda");
  // Shape arithmetic, as ONNX Runtime sees it: Shape, and int64 nodes fed by it and constants.
  EXPECT_TRUE(shape.host_preferred);
  EXPECT_TRUE(tg->task(2).host_preferred);
  EXPECT_FALSE(tg->task(3).host_preferred);
  EXPECT_FALSE(lstm.host_preferred);
  // Values: x (input, 1*100*64*4 bytes, read by lstm and shape), h (777 from the profile), s (3 int64), g
  // (1 int64), y (graph output); the initializers are weights, not values.
  auto find = [&](const std::string& name) {
    for (int d = 0; d < tg->num_data(); ++d)
      if (tg->data(d).name == name) return d;
    return -1;
  };
  ASSERT_EQ(tg->num_data(), 5);
  EXPECT_EQ(find("W"), -1);
  const Data& x = tg->data(find("x"));
  EXPECT_EQ(x.producer, kHost);
  EXPECT_EQ(x.bytes, 1 * 100 * 64 * 4);
  EXPECT_EQ(x.consumers, (std::vector<int>{0, 1}));
  EXPECT_EQ(tg->data(find("h")).bytes, 777);
  EXPECT_EQ(tg->data(find("s")).bytes, 24);
  EXPECT_TRUE(tg->data(find("y")).graph_output);
  EXPECT_DOUBLE_EQ(tg->link(Device::kCpu).alpha_us, 5);
  EXPECT_DOUBLE_EQ(tg->link(Device::kGpu).beta_bytes_per_us, 2000);
  // And it partitions.
  auto plan = partition(*tg, {});
  ASSERT_TRUE(plan.is_ok()) << plan.status().message();
  EXPECT_EQ(plan->find_node("relu")->node_index, 3);
}

TEST(BuildTaskGraph, AProfileOfAnotherModelIsRefusedNamingTheNode) {
  const Graph g = sample_graph();
  Profile p = profile_for(g);
  p.nodes[2].name = "gather_2";
  EXPECT_EQ(
      build_task_graph(g, p).status().message(),
      "profile: node #2 is 'gather_2' in the profile but 'gather' (Gather) in the model; was the profile "
      "taken of another model, or before tandem folded its constants? profile it again");
  p = profile_for(g);
  p.nodes.pop_back();
  EXPECT_EQ(build_task_graph(g, p).status().message(), "profile: no entry for node 'relu' (Relu) (#3)");
  p = profile_for(g);
  p.nodes[0].index = 9;
  EXPECT_NE(build_task_graph(g, p).status().message().find("node #9 ('lstm') is not in the model (4 nodes)"),
            std::string::npos);
  p = profile_for(g);
  p.links.erase("cuda->cpu");
  EXPECT_EQ(build_task_graph(g, p).status().message(),
            "profile: links.\"cuda->cpu\" is missing, and some nodes can run on cuda");
  p = profile_for(g);
  p.nodes[3].devices.erase("cpu");
  p.nodes[3].devices.erase("cuda");
  EXPECT_EQ(build_task_graph(g, p).status().message(),
            "node 'relu' (Relu) can run on no device: cpu: not profiled on cpu; cuda: not profiled on cuda");
}

TEST(BuildTaskGraph, AnIfNodeIsOneTaskThatReadsWhatItsBranchesCapture) {
  // x -> a -> v; If(cond) whose branches read v from the enclosing graph: v's readers include the If.
  Graph g;
  const ValueId x = g.add_value("x", ValueKind::kGraphInput);
  g.add_input(x);
  const ValueId cond = g.add_value("cond", ValueKind::kGraphInput);
  g.add_input(cond);
  const ValueId v = g.add_value("v", ValueKind::kNodeOutput);
  const ValueId y = g.add_value("y", ValueKind::kNodeOutput);
  Node a;
  a.name = "a";
  a.op_type = "Relu";
  a.inputs = {x};
  a.outputs = {v};
  g.add_node(a);
  Node branch;
  branch.name = "if";
  branch.op_type = "If";
  branch.inputs = {cond};
  branch.outputs = {y};
  branch.implicit_inputs = {v};
  g.add_node(branch);
  g.add_output(y);
  Profile p;
  for (int i = 0; i < 2; ++i) {
    NodeProfile n;
    n.index = i;
    n.name = g.node(i).name;
    n.devices["cpu"] = NodeDeviceProfile{true, "", 5, 5, 0, 0, 0, false, false, 0};
    p.nodes.push_back(n);
  }
  auto tg = build_task_graph(g, p);  // no cuda entries: no links needed
  ASSERT_TRUE(tg.is_ok()) << tg.status().message();
  ASSERT_EQ(tg->num_tasks(), 2);
  EXPECT_EQ(tg->predecessors(1), (std::vector<int>{0}));
  EXPECT_FALSE(tg->task(1).supports(Device::kGpu));
}

Plan sample_plan() {
  const Graph g = sample_graph();
  auto tg = build_task_graph(g, profile_for(g));
  EXPECT_TRUE(tg.is_ok());
  PartitionOptions o;
  o.objective = Objective::kMemory;
  o.slo_us = 1000;
  o.gpu_budget_bytes = 1 << 20;
  auto plan = partition(*tg, o);
  EXPECT_TRUE(plan.is_ok()) << plan.status().message();
  return *plan;
}

TEST(PlanJson, RoundTripsEveryField) {
  const Plan p = sample_plan();
  const std::string text = plan_to_json(p);
  auto back = plan_from_json(text);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(plan_to_json(*back), text);
  EXPECT_EQ(back->objective, Objective::kMemory);
  EXPECT_EQ(back->slo_us, 1000);
  EXPECT_EQ(back->gpu_budget_bytes, 1 << 20);
  EXPECT_EQ(back->algorithm, p.algorithm);
  EXPECT_EQ(back->predicted_latency_us, p.predicted_latency_us);
  EXPECT_EQ(back->predicted_peak_gpu_bytes, p.predicted_peak_gpu_bytes);
  ASSERT_EQ(back->nodes.size(), p.nodes.size());
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    EXPECT_EQ(back->nodes[i].name, p.nodes[i].name);
    EXPECT_EQ(back->nodes[i].device, p.nodes[i].device);
    EXPECT_EQ(back->nodes[i].order, p.nodes[i].order);
    EXPECT_EQ(back->nodes[i].start_us, p.nodes[i].start_us);  // doubles survive the text exactly
    EXPECT_EQ(back->nodes[i].reason, p.nodes[i].reason);
  }
  EXPECT_EQ(back->copies.size(), p.copies.size());
  EXPECT_EQ(back->notes, p.notes);

  const std::string path = ::testing::TempDir() + "/tandem_plan_test.json";
  ASSERT_TRUE(save_plan(p, path).is_ok());
  auto loaded = load_plan(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(plan_to_json(*loaded), text);
  std::remove(path.c_str());
}

std::string plan_error(const std::string& from, const std::string& to) {
  std::string text = plan_to_json(sample_plan());
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  auto p = plan_from_json(text);
  EXPECT_FALSE(p.is_ok()) << from << " -> " << to;
  return p.is_ok() ? "" : p.status().message();
}

TEST(PlanJson, MalformedFilesAreErrorsNamingTheField) {
  EXPECT_EQ(plan_error("\"device\": \"cpu\"", "\"device\": \"tpu\""),
            "plan: nodes[0].device: unknown device 'tpu' (expected \"cpu\" or \"cuda\")");
  EXPECT_EQ(plan_error("\"objective\": \"memory\"", "\"objective\": \"speed\""),
            "plan: objective: unknown objective 'speed' (expected \"latency\" or \"memory\")");
  EXPECT_EQ(plan_error("\"lane\": 0", "\"lane\": 3"), "plan: nodes[0].lane: 3 but cpu has 1 lane(s)");
  EXPECT_EQ(plan_error("\"order\": 0", "\"order\": 1"),
            "plan: nodes[2].order: 1 appears twice (orders must be 0..3, each once)");
  EXPECT_EQ(plan_error("\"slo_us\": 1000.0", "\"slo_us\": \"soon\""),
            "plan: slo_us: expected a number, got a string");
  EXPECT_EQ(plan_error("\"name\": \"lstm\"", "\"name\": \"relu\""),
            "plan: nodes[3].name: 'relu' appears twice");
  EXPECT_EQ(plan_from_json("{\"schema_version\": 1}").status().message(),
            "plan: top level: missing field 'objective'");
  EXPECT_EQ(plan_from_json(profile_to_json(sample_profile())).status().message(),
            "plan: schema: this is a 'tandem.profile' file, not a plan ('tandem.plan')");
}

TEST(PlanJson, AnEditedPlanIsCheckedAgainstTheGraphBeforeItIsReplayed) {
  const Graph g = sample_graph();
  auto tg = build_task_graph(g, profile_for(g));
  ASSERT_TRUE(tg.is_ok());
  Plan p = sample_plan();
  auto a = assignment_from_plan(*tg, p);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  // Re-evaluating gives the plan's own numbers.
  CostModel cm(*tg);
  EXPECT_EQ(cm.score(*a).latency_us, p.predicted_latency_us);
  EXPECT_EQ(cm.score(*a).peak_gpu_bytes, p.predicted_peak_gpu_bytes);
  p.nodes[1].device = Device::kGpu;  // shape has no GPU kernel
  EXPECT_EQ(assignment_from_plan(*tg, p).status().message(),
            "plan: node 'shape' (Shape) is on cuda, which cannot run it: not profiled on cuda");
  p = sample_plan();
  p.nodes[1].name = "nope";
  EXPECT_NE(assignment_from_plan(*tg, p).status().message().find("plan: node 'nope' is not in the model"),
            std::string::npos);
  p = sample_plan();
  p.nodes.pop_back();
  EXPECT_EQ(assignment_from_plan(*tg, p).status().message(), "plan: node 'relu' (Relu) has no device");
}

}  // namespace
}  // namespace tandem::partition
