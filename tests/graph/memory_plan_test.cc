// The static memory plan: offsets never let two buffers that are live at once share bytes, buffers whose
// lives do not overlap do share, and lifetimes follow views, other devices' reads (through what each
// device waits for), copies into another memory space and graph outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "graph/memory_plan.h"

namespace tandem {
namespace {

// A schedule written by hand: tasks per device in order; items with producer and readers.
struct Schedule {
  MemoryPlanInput in;
  explicit Schedule(std::vector<std::vector<int>> order, std::vector<int> spaces = {}) {
    int tasks = 0;
    for (const auto& o : order) tasks += static_cast<int>(o.size());
    in.device.assign(static_cast<std::size_t>(tasks), -1);
    for (std::size_t d = 0; d < order.size(); ++d)
      for (int t : order[d]) in.device[static_cast<std::size_t>(t)] = static_cast<int>(d);
    in.order = std::move(order);
    in.memory_space = spaces.empty() ? std::vector<int>(in.order.size(), 0) : std::move(spaces);
    in.alignment = 1;
  }
  int item(int64_t bytes, int producer, std::vector<int> readers, int view_of = -1) {
    MemoryPlanInput::Item it;
    it.bytes = bytes;
    it.producer = producer;
    it.readers = std::move(readers);
    it.view_of = view_of;
    in.items.push_back(it);
    return static_cast<int>(in.items.size()) - 1;
  }
  const PlannedBuffer* buffer(const DeviceMemoryPlan& p, int item, bool received = false) const {
    for (const PlannedBuffer& b : p.buffers)
      if (b.item == item && b.received == received) return &b;
    return nullptr;
  }
};

// No two buffers live at the same step share a byte.
void expect_disjoint(const std::vector<PlannedBuffer>& bs, int64_t arena) {
  for (std::size_t i = 0; i < bs.size(); ++i) {
    EXPECT_LE(bs[i].offset + bs[i].bytes, arena);
    for (std::size_t j = i + 1; j < bs.size(); ++j) {
      const bool same_time = bs[i].first <= bs[j].last && bs[j].first <= bs[i].last;
      const bool same_bytes = bs[i].offset < bs[j].offset + bs[j].bytes && bs[j].offset < bs[i].offset + bs[i].bytes;
      EXPECT_FALSE(same_time && same_bytes && bs[i].bytes > 0 && bs[j].bytes > 0)
          << "buffers " << i << " and " << j << " overlap";
    }
  }
}

TEST(AssignOffsets, RandomBuffersNeverOverlapAndTheArenaIsTight) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int steps = 1 + static_cast<int>(rng() % 30);
    std::vector<PlannedBuffer> bs(1 + rng() % 40);
    for (auto& b : bs) {
      b.first = static_cast<int>(rng() % static_cast<unsigned>(steps));
      b.last = b.first + static_cast<int>(rng() % 5);
      b.bytes = static_cast<int64_t>(rng() % 5000);
    }
    const int64_t alignment = trial % 2 ? 256 : 1;
    const int64_t arena = assign_offsets(bs, alignment);
    expect_disjoint(bs, arena);
    int64_t live_max = 0;  // no layout can use less than the largest sum of sizes live at one step
    for (int s = 0; s < steps + 5; ++s) {
      int64_t live = 0;
      for (const auto& b : bs)
        if (b.first <= s && s <= b.last) live += (b.bytes + alignment - 1) / alignment * alignment;
      live_max = std::max(live_max, live);
    }
    EXPECT_GE(arena, live_max);
    for (const auto& b : bs) EXPECT_EQ(b.offset % alignment, 0);
  }
}

TEST(AssignOffsets, BuffersWhoseLivesDoNotOverlapShareBytes) {
  std::vector<PlannedBuffer> bs(3);
  bs[0] = PlannedBuffer{0, false, 100, 0, 1, -1};
  bs[1] = PlannedBuffer{1, false, 100, 1, 2, -1};
  bs[2] = PlannedBuffer{2, false, 100, 2, 3, -1};
  EXPECT_EQ(assign_offsets(bs, 1), 200);
  EXPECT_EQ(bs[0].offset, bs[2].offset);
  EXPECT_NE(bs[0].offset, bs[1].offset);
}

TEST(MemoryPlan, AChainReusesBytesAndHandsTheOutputToTheCaller) {
  // t0 -> a -> t1 -> b -> t2 -> c (graph output) on one host device.
  Schedule s({{0, 1, 2}});
  const int a = s.item(1000, 0, {1});
  const int b = s.item(1000, 1, {2});
  const int c = s.item(1000, 2, {});
  s.in.items[static_cast<std::size_t>(c)].graph_output = true;
  const auto plans = plan_memory(s.in);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].arena_bytes, 2000);  // a [0,1] and b [1,2] overlap at step 1
  EXPECT_GE(plans[0].produced_offset[static_cast<std::size_t>(a)], 0);
  EXPECT_GE(plans[0].produced_offset[static_cast<std::size_t>(b)], 0);
  EXPECT_EQ(plans[0].produced_offset[static_cast<std::size_t>(c)], -1);  // the caller's: not in the arena
}

TEST(MemoryPlan, AViewKeepsItsRootAlive) {
  // t0 -> a; t1: v = view of a; t2 reads b (made by t1 too), t3 reads v; then t4 makes d.
  Schedule s({{0, 1, 2, 3, 4}});
  const int a = s.item(800, 0, {1});
  const int v = s.item(800, 1, {3}, a);
  const int d = s.item(800, 4, {});
  const auto plans = plan_memory(s.in);
  const PlannedBuffer* root = s.buffer(plans[0], a);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->first, 0);
  EXPECT_EQ(root->last, 3);  // t3 reads the view
  EXPECT_EQ(s.buffer(plans[0], v), nullptr);  // a view has no bytes of its own
  const PlannedBuffer* late = s.buffer(plans[0], d);
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->offset, root->offset);  // made after the view's last reader: reuses the bytes
  EXPECT_EQ(plans[0].arena_bytes, 800);
}

TEST(MemoryPlan, AViewOfAGraphOutputIsNotPlannedOnTheHost) {
  Schedule s({{0, 1}});
  const int a = s.item(64, 0, {1});
  const int v = s.item(64, 1, {}, a);
  s.in.items[static_cast<std::size_t>(v)].graph_output = true;
  const auto plans = plan_memory(s.in);
  EXPECT_EQ(plans[0].produced_offset[static_cast<std::size_t>(a)], -1);
  EXPECT_EQ(plans[0].arena_bytes, 0);
}

TEST(MemoryPlan, AnotherDevicesReadEndsWhereThisDeviceWaitedForIt) {
  // Device 0: t0 makes x (device 1's t1 reads it); t2 reads z, which t1 makes; t3 makes y.
  // x is free from t2's step on (device 0 waited there for t1, which read x): y reuses its bytes.
  Schedule s({{0, 2, 3}, {1}});
  const int x = s.item(500, 0, {1});
  s.item(4, 1, {2});
  const int y = s.item(500, 3, {});
  const auto plans = plan_memory(s.in);
  const PlannedBuffer* bx = s.buffer(plans[0], x);
  const PlannedBuffer* by = s.buffer(plans[0], y);
  ASSERT_TRUE(bx && by);
  EXPECT_EQ(bx->last, 0);  // the wait is at step 1 (t2): x is needed through step 0
  EXPECT_EQ(bx->offset, by->offset);
}

TEST(MemoryPlan, AnotherDevicesReadWithNoWaitAfterItLastsToTheEnd) {
  // Device 1 reads x, but device 0 never waits for anything device 1 does afterwards.
  Schedule s({{0, 2, 3}, {1}});
  const int x = s.item(500, 0, {1});
  const int y = s.item(500, 3, {});
  const auto plans = plan_memory(s.in);
  const PlannedBuffer* bx = s.buffer(plans[0], x);
  const PlannedBuffer* by = s.buffer(plans[0], y);
  ASSERT_TRUE(bx && by);
  EXPECT_EQ(bx->last, 2);
  EXPECT_NE(bx->offset, by->offset);
  EXPECT_EQ(plans[0].arena_bytes, 1000);
}

TEST(MemoryPlan, AnotherMemorySpaceReadsThroughACopyOfItsOwn) {
  // Device 1 is a GPU (space 1). Host t0 makes x; GPU t1 reads x (a copy on the GPU) and makes g, a graph
  // output, which stays in GPU memory to the end; GPU t2 makes w, read by nobody.
  Schedule s({{0}, {1, 2}}, {0, 1});
  const int x = s.item(300, 0, {1});
  const int g = s.item(200, 1, {});
  s.in.items[static_cast<std::size_t>(g)].graph_output = true;
  const int w = s.item(100, 2, {});
  // A graph input the GPU reads: copied too.
  const int in = s.item(50, -1, {2});
  const auto plans = plan_memory(s.in);
  const PlannedBuffer* copy = s.buffer(plans[1], x, /*received=*/true);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->first, 0);
  EXPECT_EQ(copy->last, 0);
  EXPECT_EQ(plans[1].received_offset[static_cast<std::size_t>(x)], copy->offset);
  const PlannedBuffer* input_copy = s.buffer(plans[1], in, true);
  ASSERT_NE(input_copy, nullptr);
  EXPECT_EQ(input_copy->first, 0);  // copies land from the start: the copy engine runs ahead
  EXPECT_EQ(input_copy->last, 1);
  const PlannedBuffer* out = s.buffer(plans[1], g);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->last, 1);  // to the end of the GPU's list
  ASSERT_NE(s.buffer(plans[1], w), nullptr);
  expect_disjoint(plans[1].buffers, plans[1].arena_bytes);
  EXPECT_EQ(plans[1].arena_bytes, 300 + 200 + 50);  // step 0 holds both copies and g; w reuses bytes
  // On the host, x lives until the GPU's read: no later host step waits for the GPU, so to the end.
  const PlannedBuffer* bx = s.buffer(plans[0], x);
  ASSERT_NE(bx, nullptr);
  EXPECT_EQ(bx->last, 0);
}

TEST(MemoryPlan, AViewMadeOnTheGpuOfAHostValueViewsTheGpusCopy) {
  Schedule s({{0}, {1, 2}}, {0, 1});
  const int x = s.item(400, 0, {1});
  s.item(400, 1, {2}, x);  // a Reshape on the GPU of the received x
  const auto plans = plan_memory(s.in);
  const PlannedBuffer* copy = s.buffer(plans[1], x, true);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->last, 1);  // t2 reads the view
  EXPECT_EQ(plans[1].arena_bytes, 400);
}

TEST(MemoryPlan, UnplannedItemsAndTheirViewsGetNoBytes) {
  Schedule s({{0, 1}});
  const int a = s.item(100, 0, {1});
  s.in.items[static_cast<std::size_t>(a)].unplanned = true;
  s.item(100, 1, {}, a);
  const auto plans = plan_memory(s.in);
  EXPECT_TRUE(plans[0].buffers.empty());
  EXPECT_EQ(plans[0].arena_bytes, 0);
}

}  // namespace
}  // namespace tandem
