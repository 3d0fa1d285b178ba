// Conv on the CudaDevice against the CPU device's Conv (built into cuda_device_test) (runtime_cpu/kernels/conv.cc), one node at a time
// through the executors, on random data: 1-D Silero-like shapes (one image, 1 to 64 channels, lengths 64 to
// 600, kernels 3 to 7, strides 1 and 2, pads, dilation 2, depthwise), small 2-D images (groups, strides,
// auto_pad, 1x1), one 3-D case, with and without bias; each run twice (the second reuses the cached
// blocks). Without a GPU (everywhere, CI included) the supports() tests run and the GPU tests skip, saying
// why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/executor.h"
#include "runtime/placement.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "runtime_cuda/cublas_context.h"
#include "runtime_cuda/cuda_device.h"
#include "runtime_cuda/cuda_probe.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using Shape = std::vector<int64_t>;
using test::add_float_initializer;
using test::add_input;
using test::add_node;
using test::add_output;
using test::make_model;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;

std::vector<test::DimSpec> dims_of(const Shape& s) { return std::vector<test::DimSpec>(s.begin(), s.end()); }

ModelIR import(const onnx::ModelProto& m) {
  auto ir = test::import_proto(m);
  if (!ir) throw std::runtime_error(ir.status().message());
  return std::move(ir).value();
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// One Conv node: X [batch, channels, spatial...] (a graph input), W and B initializers.
struct ConvCase {
  int64_t batch = 1, channels = 1, maps = 1, group = 1;
  Shape spatial, kernel;
  Shape strides, dilations, pads;  // empty: attribute absent
  std::string auto_pad;            // empty: attribute absent
  bool bias = true;
  bool kernel_shape_attr = false;  // also write kernel_shape (else inferred from W)
  uint32_t seed = 1;

  Shape x_shape() const {
    Shape s{batch, channels};
    s.insert(s.end(), spatial.begin(), spatial.end());
    return s;
  }
  Shape w_shape() const {
    Shape s{maps, channels / group};
    s.insert(s.end(), kernel.begin(), kernel.end());
    return s;
  }
  std::string describe() const {
    std::ostringstream o;
    o << "N=" << batch << " C=" << channels << " M=" << maps << " group=" << group << " in=" << shape_string(spatial)
      << " k=" << shape_string(kernel) << " strides=" << shape_string(strides) << " dilations=" << shape_string(dilations)
      << " pads=" << shape_string(pads) << " auto_pad=" << (auto_pad.empty() ? "-" : auto_pad) << " bias=" << bias;
    return o.str();
  }
  onnx::ModelProto model() const {
    onnx::ModelProto m = make_model(17);
    auto& g = *m.mutable_graph();
    add_input(g, "x", kFloat, dims_of(x_shape()));
    add_float_initializer(g, "w", w_shape(), random_floats(numel(w_shape()), seed * 7 + 1));
    std::vector<std::string> in = {"x", "w"};
    if (bias) {
      add_float_initializer(g, "b", {maps}, random_floats(maps, seed * 7 + 2));
      in.push_back("b");
    }
    auto* n = add_node(g, "Conv", in, {"y"}, "conv");
    if (group != 1) test::set_int(n, "group", group);
    if (!strides.empty()) test::set_ints(n, "strides", strides);
    if (!dilations.empty()) test::set_ints(n, "dilations", dilations);
    if (!pads.empty()) test::set_ints(n, "pads", pads);
    if (!auto_pad.empty()) test::set_string(n, "auto_pad", auto_pad);
    if (kernel_shape_attr) test::set_ints(n, "kernel_shape", kernel);
    add_output(g, "y");
    return m;
  }
};

// ---- supports(): no GPU needed ----------------------------------------------------------------------

// supports() of the one Conv node that `add` puts in a model whose input x ([1, 4, 32]; unranked when
// `unranked`, so shape inference leaves a deliberately inconsistent node alone) and initializers w
// ([8, 4, 3]), wd ([4, 1, 5]), w4 ([2, 1, 1, 1, 1, 1]) and b ([8]) exist, as do the graph inputs w_in and b_in.
Support conv_support(const std::function<void(onnx::GraphProto&)>& add, bool unranked = false) {
  onnx::ModelProto m = make_model(17);
  auto& g = *m.mutable_graph();
  auto* x = add_input(g, "x", kFloat, {1, 4, 32});
  if (unranked) x->mutable_type()->mutable_tensor_type()->clear_shape();
  add_input(g, "w_in", kFloat, {8, 4, 3});
  add_input(g, "b_in", kFloat, {8});
  add_float_initializer(g, "w", {8, 4, 3}, std::vector<float>(96, 0.5f));
  add_float_initializer(g, "wd", {4, 1, 5}, std::vector<float>(20, 0.5f));
  add_float_initializer(g, "w4", {2, 1, 1, 1, 1, 1}, std::vector<float>(2, 0.5f));
  add_float_initializer(g, "b", {8}, std::vector<float>(8, 0.1f));
  add(g);
  add_output(g, "y");
  auto ir = test::import_proto(m);
  if (!ir) return {false, "import failed: " + ir.status().message()};
  const Graph& graph = *ir->graph;
  for (std::size_t i = 0; i < graph.num_nodes(); ++i)
    if (graph.node(static_cast<NodeId>(i)).op_type == "Conv") {
      cuda::CudaDevice dev;  // no GPU needed: supports() only inspects the node
      return dev.supports(graph, static_cast<NodeId>(i));
    }
  return {false, "no Conv node"};
}

TEST(CudaConvNoGpu, SupportsConstantWeights) {
  Support s = conv_support([](onnx::GraphProto& g) { add_node(g, "Conv", {"x", "w", "b"}, {"y"}, "conv"); });
  EXPECT_TRUE(s.ok) << s.reason;
  s = conv_support([](onnx::GraphProto& g) {
    auto* n = add_node(g, "Conv", {"x", "wd"}, {"y"}, "depthwise");
    test::set_int(n, "group", 4);
    test::set_ints(n, "dilations", {2});
    test::set_string(n, "auto_pad", "SAME_UPPER");
  });
  EXPECT_TRUE(s.ok) << s.reason;
}

TEST(CudaConvNoGpu, RefusesComputedWeightsSayingWhy) {
  Support s = conv_support([](onnx::GraphProto& g) { add_node(g, "Conv", {"x", "w_in"}, {"y"}, "conv"); });
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("W ('w_in')"), std::string::npos) << s.reason;
  EXPECT_NE(s.reason.find("must be a constant"), std::string::npos) << s.reason;
  s = conv_support([](onnx::GraphProto& g) { add_node(g, "Conv", {"x", "w", "b_in"}, {"y"}, "conv"); });
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("B ('b_in')"), std::string::npos) << s.reason;
  EXPECT_NE(s.reason.find("must be a constant"), std::string::npos) << s.reason;
}

TEST(CudaConvNoGpu, RefusesBadAttributesAndShapesSayingWhy) {
  Support s = conv_support(
      [](onnx::GraphProto& g) { test::set_int(add_node(g, "Conv", {"x", "w"}, {"y"}, "conv"), "group", 3); }, true);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("group 3"), std::string::npos) << s.reason;
  s = conv_support(
      [](onnx::GraphProto& g) { test::set_ints(add_node(g, "Conv", {"x", "w"}, {"y"}, "conv"), "kernel_shape", {5}); },
      true);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("kernel_shape [5]"), std::string::npos) << s.reason;
  s = conv_support(
      [](onnx::GraphProto& g) { test::set_string(add_node(g, "Conv", {"x", "w"}, {"y"}, "conv"), "auto_pad", "SAME"); },
      true);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("auto_pad 'SAME'"), std::string::npos) << s.reason;
  s = conv_support([](onnx::GraphProto& g) { add_node(g, "Conv", {"x", "w4"}, {"y"}, "conv"); }, true);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.reason.find("rank 3 to 5"), std::string::npos) << s.reason;
}

// ---- on a GPU ------------------------------------------------------------------------------------------

class CudaConvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::CudaProbe probe = cuda::probe_cuda();
    if (probe.gpus.empty()) GTEST_SKIP() << "no CUDA GPU: " << probe.reason;
  }

  // Runs the case on the CPU device and on the CudaDevice (twice) and compares within 1e-4 relative to
  // 1 + |value|; checks the weights were uploaded once and no activation is left afterwards.
  void check(const ConvCase& c) {
    SCOPED_TRACE(c.describe());
    const ModelIR ir = import(c.model());
    const Graph& g = *ir.graph;
    Tensor x = Tensor::empty(DType::kFloat32, c.x_shape());
    const std::vector<float> xv = random_floats(x.numel(), c.seed * 7 + 3);
    std::copy(xv.begin(), xv.end(), x.data<float>());
    std::vector<const Tensor*> feeds = {&x};

    cpu::CpuDevice cpu;
    auto cpu_ex = GraphExecutor::compile(g, cpu);
    ASSERT_TRUE(cpu_ex) << cpu_ex.status().message();
    auto want = (*cpu_ex)->run(feeds);
    ASSERT_TRUE(want) << want.status().message();
    ASSERT_EQ(want->size(), 1u);

    cuda::CudaDevice gpu;
    ASSERT_TRUE(gpu.supports(g, 0).ok) << gpu.supports(g, 0).reason;
    auto placement = single_device_placement(g);
    ASSERT_TRUE(placement) << placement.status().message();
    {
      auto ex = PlanExecutor::compile(g, {&gpu}, *placement);
      ASSERT_TRUE(ex) << ex.status().message();
      const std::size_t weight_bytes = static_cast<std::size_t>(numel(c.w_shape()) + (c.bias ? c.maps : 0)) * 4;
      EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kWeights).current, weight_bytes);
      for (int rep = 0; rep < 2; ++rep) {
        auto got = (*ex)->run(feeds);
        ASSERT_TRUE(got) << got.status().message();
        ASSERT_EQ(got->size(), 1u);
        const Tensor& y = (*got)[0];
        const Tensor& w = (*want)[0];
        ASSERT_EQ(y.device(), DeviceKind::kCpu);
        ASSERT_EQ(y.shape(), w.shape()) << y.describe() << " vs " << w.describe();
        int bad = 0;
        for (int64_t i = 0; i < w.numel() && bad < 5; ++i) {
          const double gv = y.data<float>()[i], wv = w.data<float>()[i];
          if (!(std::abs(gv - wv) <= 1e-4 * (1.0 + std::abs(wv)))) {
            ADD_FAILURE() << "run " << rep << ", element " << i << ": GPU " << gv << ", CPU " << wv;
            ++bad;
          }
        }
      }
    }
    Status settled = gpu.release_pending();
    EXPECT_TRUE(settled) << settled.message();
    EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kActivations).current, 0u) << "activations left after the runs";
    // The im2col buffer went back after each run. This thread (the plan's only device runs on the caller)
    // keeps its cuBLAS workspace if the convolution used cuBLAS (the direct kernel does not), until it
    // releases the device.
    const std::size_t kept = gpu.memory().of(cuda::MemoryCategory::kWorkspace).current;
    EXPECT_TRUE(kept == 0 || kept == cuda::CublasContext::kWorkspaceBytes) << kept << " workspace bytes left";
    gpu.release_thread();
    EXPECT_EQ(gpu.memory().of(cuda::MemoryCategory::kWorkspace).current, 0u) << "workspace left after release";
  }
};

TEST_F(CudaConvTest, OneDimensionalSileroLikeMatchesCpu) {
  uint32_t seed = 1;
  for (int64_t channels : {1, 16, 64})
    for (int64_t length : {64, 257, 600})
      for (int64_t k : {3, 5, 7}) {
        ConvCase c;
        c.channels = channels;
        c.spatial = {length};
        c.kernel = {k};
        c.seed = seed++;
        const int variant = static_cast<int>(seed % 4);
        // Dense (im2col, and the direct kernel for C=1), and depthwise (group = C, the direct kernel).
        c.group = variant % 2 == 0 ? channels : 1;
        c.maps = c.group == channels ? channels : (channels == 1 ? 8 : channels / 2);
        c.strides = {variant >= 2 ? 2 : 1};
        if (variant == 1 || variant == 2) c.dilations = {2};
        c.pads = {k / 2, (k - 1) / 2 + (variant == 3 ? 1 : 0)};
        c.bias = variant != 3;
        c.kernel_shape_attr = variant == 0;
        check(c);
      }
}

TEST_F(CudaConvTest, DepthwiseWithMultiplierAndAutoPadMatchesCpu) {
  uint32_t seed = 100;
  for (const char* pad : {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"})
    for (int64_t stride : {1, 2}) {
      ConvCase c;
      c.channels = 16;
      c.maps = 32;  // two filters per channel
      c.group = 16;
      c.spatial = {101};
      c.kernel = {4};
      c.strides = {stride};
      c.dilations = {2};
      c.auto_pad = pad;
      c.seed = seed++;
      check(c);
    }
}

TEST_F(CudaConvTest, TwoDimensionalImagesMatchCpu) {
  uint32_t seed = 200;
  struct S {
    int64_t batch, channels, maps, group, h, w, kh, kw;
    Shape strides, dilations, pads;
    const char* auto_pad;
    bool bias;
  };
  const std::vector<S> cases = {
      {1, 3, 8, 1, 16, 16, 3, 3, {}, {}, {1, 1, 1, 1}, "", true},
      {2, 3, 8, 1, 17, 13, 3, 3, {2, 2}, {}, {1, 0, 1, 2}, "", false},
      {3, 8, 8, 2, 12, 12, 3, 3, {1, 1}, {2, 2}, {2, 2, 2, 2}, "", true},   // groups, batch over images
      {1, 8, 12, 4, 10, 9, 5, 3, {2, 1}, {1, 2}, {}, "SAME_UPPER", true},   // batch over groups
      {2, 6, 6, 6, 15, 15, 3, 3, {2, 2}, {}, {}, "SAME_LOWER", false},      // depthwise
      {2, 5, 7, 1, 9, 11, 2, 4, {1, 3}, {}, {}, "VALID", true},
      {2, 16, 24, 1, 7, 7, 1, 1, {}, {}, {}, "", true},                      // 1x1: X read in place
      {3, 16, 24, 2, 7, 5, 1, 1, {}, {}, {}, "", false},                     // 1x1 grouped, in place
      {1, 4, 6, 1, 9, 9, 1, 1, {2, 2}, {}, {}, "", true},                    // 1x1 strided: im2col
      {1, 32, 16, 1, 28, 28, 3, 3, {1, 1}, {}, {1, 1, 1, 1}, "", true},
  };
  for (const S& s : cases) {
    ConvCase c;
    c.batch = s.batch, c.channels = s.channels, c.maps = s.maps, c.group = s.group;
    c.spatial = {s.h, s.w};
    c.kernel = {s.kh, s.kw};
    c.strides = s.strides, c.dilations = s.dilations, c.pads = s.pads;
    c.auto_pad = s.auto_pad;
    c.bias = s.bias;
    c.seed = seed++;
    check(c);
  }
}

TEST_F(CudaConvTest, ThreeDimensionalMatchesCpu) {
  ConvCase c;
  c.batch = 2, c.channels = 4, c.maps = 6, c.group = 2;
  c.spatial = {5, 6, 7};
  c.kernel = {3, 2, 3};
  c.strides = {1, 2, 1};
  c.dilations = {1, 1, 2};
  c.pads = {1, 0, 2, 1, 1, 2};
  c.seed = 300;
  check(c);
  c.auto_pad = "SAME_UPPER";
  c.pads = {};
  c.bias = false;
  c.seed = 301;
  check(c);
}

}  // namespace
}  // namespace tandem
