#include "graph/memory_plan.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

namespace tandem {
namespace {

constexpr int kNever = std::numeric_limits<int>::max();

int64_t round_up(int64_t x, int64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

// Whose storage an item uses.
struct Storage {
  enum Kind { kUnplanned, kProduced, kReceived } kind = kUnplanned;
  int device = -1;  // the device holding it
  int item = -1;    // kProduced: the root item; kReceived: the item copied
  bool operator<(const Storage& o) const {
    return std::tie(kind, device, item) < std::tie(o.kind, o.device, o.item);
  }
};

class Planner {
 public:
  explicit Planner(const MemoryPlanInput& in) : in_(in) {
    pos_.assign(in.device.size(), -1);
    for (const auto& order : in.order)
      for (std::size_t k = 0; k < order.size(); ++k) pos_[static_cast<std::size_t>(order[k])] = static_cast<int>(k);
    storage_.resize(in.items.size());
    state_.assign(in.items.size(), 0);
  }

  std::vector<DeviceMemoryPlan> run() {
    const std::size_t num_devices = in_.order.size();
    std::vector<DeviceMemoryPlan> plans(num_devices);
    for (auto& p : plans) {
      p.produced_offset.assign(in_.items.size(), -1);
      p.received_offset.assign(in_.items.size(), -1);
    }
    // Lifetime of each planned storage, keyed by what it is.
    struct Group {
      int first = kNever, last = -1;
      bool to_end = false, dropped = false;
    };
    std::map<Storage, Group> groups;
    auto touch = [&](const Storage& s, int step) {
      Group& g = groups[s];
      g.first = std::min(g.first, step);
      g.last = std::max(g.last, step);
      return &g;
    };

    for (std::size_t x = 0; x < in_.items.size(); ++x) {
      const auto& item = in_.items[x];
      const Storage s = storage(static_cast<int>(x));
      if (s.kind == Storage::kProduced && static_cast<int>(x) == s.item)
        touch(s, pos_[static_cast<std::size_t>(item.producer)]);
      if (item.graph_output && s.kind != Storage::kUnplanned) {
        Group& g = groups[s];
        if (space(s.device) == 0) g.dropped = true;  // the caller takes it
        else g.to_end = true;                         // copied to the host when the run ends
      }
      for (int t : item.readers) {
        const int e = in_.device[static_cast<std::size_t>(t)];
        const int step = pos_[static_cast<std::size_t>(t)];
        if (space(e) != item_space(static_cast<int>(x)) && space(e) != 0) {
          // Read through a copy on e, a buffer of e's. From step 0: a GPU's copy engine runs ahead of its
          // compute stream, so a copy must not land in bytes that an earlier buffer's readers, still
          // queued, may read. (The host's copies are made by the producer's device, to_host: not planned.)
          const Storage copy{Storage::kReceived, e, static_cast<int>(x)};
          touch(copy, 0);
          touch(copy, step);
        }
        if (s.kind == Storage::kUnplanned) continue;
        if (e == s.device) {
          touch(s, step);
        } else {
          // Another device reads the buffer, in place or to copy it, before its step `step` ends: the
          // bytes are free for reuse only from the first step at which this device has waited for
          // something that device did at or after that step.
          const int k = happens_before(e, step, s.device);
          Group& g = groups[s];
          if (k == kNever) g.to_end = true;
          else g.last = std::max(g.last, k - 1);
        }
      }
    }

    for (auto& [s, g] : groups) {
      if (g.dropped || s.kind == Storage::kUnplanned || g.first == kNever) continue;
      DeviceMemoryPlan& p = plans[static_cast<std::size_t>(s.device)];
      const int end = static_cast<int>(in_.order[static_cast<std::size_t>(s.device)].size()) - 1;
      PlannedBuffer b;
      b.item = s.item;
      b.received = s.kind == Storage::kReceived;
      b.bytes = in_.items[static_cast<std::size_t>(s.item)].bytes;
      b.first = g.first;
      b.last = g.to_end ? end : std::max(g.first, g.last);
      p.buffers.push_back(b);
    }
    for (auto& p : plans) {
      p.arena_bytes = assign_offsets(p.buffers, in_.alignment);
      for (const PlannedBuffer& b : p.buffers)
        (b.received ? p.received_offset : p.produced_offset)[static_cast<std::size_t>(b.item)] = b.offset;
    }
    return plans;
  }

 private:
  int space(int device) const {
    return device >= 0 && static_cast<std::size_t>(device) < in_.memory_space.size()
               ? in_.memory_space[static_cast<std::size_t>(device)]
               : 0;
  }
  int device_of_task(int t) const { return t < 0 ? -1 : in_.device[static_cast<std::size_t>(t)]; }
  // Where an item's bytes are: its producer's memory space; graph inputs are in host memory.
  int item_space(int x) const {
    const int p = in_.items[static_cast<std::size_t>(x)].producer;
    return p < 0 ? 0 : space(device_of_task(p));
  }

  Storage storage(int x) {
    const auto xi = static_cast<std::size_t>(x);
    if (state_[xi] == 2) return storage_[xi];
    if (state_[xi] == 1) return Storage{};  // a cycle of views: malformed, plan nothing for it
    state_[xi] = 1;
    const auto& item = in_.items[xi];
    Storage s;
    const int d = device_of_task(item.producer);
    if (item.unplanned || d < 0) {
      s = Storage{};  // not allocated for this item, or the caller's
    } else if (item.view_of < 0) {
      s = Storage{Storage::kProduced, d, x};
    } else if (item_space(item.view_of) != space(d)) {
      // A view of the copy its producer's device received.
      s = space(d) == 0 ? Storage{} : Storage{Storage::kReceived, d, item.view_of};
    } else {
      s = storage(item.view_of);
    }
    storage_[xi] = s;
    state_[xi] = 2;
    return s;
  }

  // The first step of device `to` that comes after step `step` of device `from` is over: the first step
  // of `to` that waits for an item produced by a task of `from` at or after `step`. kNever if none.
  int happens_before(int from, int step, int to) {
    const auto key = std::make_pair(from, to);
    auto it = sync_.find(key);
    if (it == sync_.end()) {
      const auto& from_order = in_.order[static_cast<std::size_t>(from)];
      std::vector<int> first_wait(from_order.size() + 1, kNever);
      const auto& to_order = in_.order[static_cast<std::size_t>(to)];
      // A task of `to` waits for the producers on `from` of what it reads.
      std::vector<std::vector<int>> reads(in_.device.size());
      for (std::size_t x = 0; x < in_.items.size(); ++x) {
        const int p = in_.items[x].producer;
        if (p < 0 || device_of_task(p) != from) continue;
        for (int t : in_.items[x].readers)
          if (device_of_task(t) == to) reads[static_cast<std::size_t>(t)].push_back(p);
      }
      for (std::size_t k = 0; k < to_order.size(); ++k)
        for (int p : reads[static_cast<std::size_t>(to_order[k])]) {
          int& w = first_wait[static_cast<std::size_t>(pos_[static_cast<std::size_t>(p)])];
          w = std::min(w, static_cast<int>(k));
        }
      for (std::size_t q = from_order.size(); q-- > 0;) first_wait[q] = std::min(first_wait[q], first_wait[q + 1]);
      it = sync_.emplace(key, std::move(first_wait)).first;
    }
    return it->second[static_cast<std::size_t>(step)];
  }

  const MemoryPlanInput& in_;
  std::vector<int> pos_;
  std::vector<Storage> storage_;
  std::vector<uint8_t> state_;  // 0 not computed, 1 in progress, 2 done
  std::map<std::pair<int, int>, std::vector<int>> sync_;
};

}  // namespace

int64_t assign_offsets(std::vector<PlannedBuffer>& buffers, int64_t alignment) {
  std::vector<std::size_t> by_size(buffers.size());
  for (std::size_t i = 0; i < by_size.size(); ++i) by_size[i] = i;
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });
  std::vector<std::size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) ranges of placed buffers live at once
  int64_t arena = 0;
  for (std::size_t i : by_size) {
    PlannedBuffer& b = buffers[i];
    const int64_t need = round_up(b.bytes, alignment);
    busy.clear();
    for (std::size_t j : placed) {
      const PlannedBuffer& o = buffers[j];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(o.offset, o.offset + round_up(o.bytes, alignment));
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (begin - offset >= need) break;  // the gap before this range fits
      offset = std::max(offset, end);
    }
    b.offset = offset;
    arena = std::max(arena, offset + need);
    placed.push_back(i);
  }
  return arena;
}

std::vector<DeviceMemoryPlan> plan_memory(const MemoryPlanInput& in) { return Planner(in).run(); }

}  // namespace tandem
