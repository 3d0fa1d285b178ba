// The static memory plan: where each activation buffer of a run lives inside one block (an arena) per
// device, so a device's activation memory is known before the run and equal to what the run uses.
//
// Written by hand (no library plans arenas over a multi-device schedule) and shared by the partitioner,
// which predicts a plan's GPU memory with it, and the runtime, which runs with it: the prediction and the
// run come from one function over the same schedule, so they agree by construction when the sizes do.
//
// Input: a schedule (each task on one device, each device's tasks in the order it runs them) and the data
// items between tasks, with their sizes and which item's storage another shares (a view: Reshape,
// Identity). Each device runs its list on its own thread; it waits only for items produced on other
// devices. Per device, in its own step numbers:
//  - A buffer is an item a task of the device produces, together with every view of it; it lives from its
//    producer's step to its last reader's step. A reader on another device e is over before this
//    device's step k when some task of e at or after that reader produces an item this device reads at a
//    step <= k (this device waited for it there); when no such step exists, the buffer lives to the end.
//  - A device reads an item of another memory space through a copy (Device::receive): on a device that
//    is not the host, the copy is a buffer of the receiving device, live from step 0 (a GPU's copy engine
//    runs ahead of its compute stream, so a copy may land before earlier steps' kernels have run) to its
//    last reader's step; views of the copy belong to it. The host's copies of GPU tensors are made by
//    the GPU device (to_host) and not planned. Devices of one memory space (two CPUs) share the
//    producer's buffer instead.
//  - Graph outputs: in host memory (space 0) they are handed to the caller, so they and the buffers they
//    view are not planned (allocated as the run goes); in another space (a GPU) they stay to the end of
//    the run and are copied to the host then.
//  - Items flagged `unplanned` (storage the run does not allocate for them: constants, or kernels that
//    make their outputs without the allocator) are not planned; nor are views of them.
// Then buffers whose lifetimes overlap get disjoint byte ranges: greedy by size, largest first, each at
// the lowest aligned offset that fits (the approach of TensorFlow Lite's arena planner); the arena is the
// highest end. Buffers on one device whose lifetimes do not overlap may share bytes.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem {

struct MemoryPlanInput {
  struct Item {
    int64_t bytes = 0;
    int producer = -1;          // task; -1: the caller's (a graph input, in host memory)
    std::vector<int> readers;   // tasks that read it, each once (nested bodies' reads count for their node)
    int view_of = -1;           // item whose storage this one shares (an input of its producer), or -1
    bool graph_output = false;
    bool unplanned = false;
  };
  std::vector<int> device;                // by task
  std::vector<std::vector<int>> order;    // by device: its tasks in the order it runs them
  std::vector<int> memory_space;          // by device: 0 for host memory; equal spaces share buffers
  std::vector<Item> items;
  int64_t alignment = 256;                // offsets are multiples of it (CUDA's allocation alignment)
};

struct PlannedBuffer {
  int item = -1;          // the produced item (the root of its views), or the item received
  bool received = false;  // a copy of another memory space's item
  int64_t bytes = 0;
  int first = 0, last = 0;  // steps of the device, inclusive
  int64_t offset = 0;
};

struct DeviceMemoryPlan {
  std::vector<PlannedBuffer> buffers;
  int64_t arena_bytes = 0;
  // By item: the offset of the item's own buffer on this device (a produced root), or -1.
  std::vector<int64_t> produced_offset;
  // By item: the offset of this device's copy of a received item, or -1.
  std::vector<int64_t> received_offset;
};

// One plan per device. Items and tasks must be consistent (ids in range, each task on one device and in
// its order once); the callers build the input from a checked graph and placement.
std::vector<DeviceMemoryPlan> plan_memory(const MemoryPlanInput& in);

// The byte ranges for `buffers` (bytes, first, last set): fills each offset and returns the arena size.
int64_t assign_offsets(std::vector<PlannedBuffer>& buffers, int64_t alignment);

}  // namespace tandem
