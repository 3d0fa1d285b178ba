#include "runtime_cpu/kernels/rnn_fast_path.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "runtime_cpu/kernels/rnn_step_stop.h"

namespace tandem::cpu::rnn {
namespace {

// A thread joins the team only for this many multiply-adds per step or more: below it, the barrier per step
// costs what the thread saves (measured with `tandem bench` at batch 1 on the 2-core development machine:
// a second thread broke even at LSTM hidden 48, about 9k per step, and paid off above).
constexpr int64_t kMinMacsPerThread = 8 * 1024;

// The two directions of a bidirectional layer run at once, each on its share of the team, when one alone
// would leave threads idle, or when a step is this small (multiply-adds per direction): then the
// hand-over between the threads at each step costs more than each thread's halved share of the work. At
// batch 1 (LSTM hidden 64 to 256, 2 threads) at once was faster; at batch 64 with hidden 128, 8% slower.
constexpr int64_t kMaxMacsForConcurrentDirections = int64_t{1} << 20;

Isa best_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
  if (fma && __builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (fma) return Isa::kAvx2;
#endif
  return Isa::kScalar;
}

// Odd steps walk the blocks backwards, so a step starts on the panels the previous step used last: those
// still in L2 when all of R does not fit there (20% faster at LSTM hidden 256 on one core here).
int64_t block_at(int64_t step, int64_t first, int64_t count, int64_t i) {
  return (step & 1) != 0 ? first + count - 1 - i : first + i;
}

// Shares each step's blocks among a team. As in DeepCPU each thread owns a fixed range of blocks, so its
// panels stay in its own L2 from step to step; but instead of meeting at a barrier, a thread done with its
// range takes what is left of the others', and a step opens once every block of the one before is done.
// A team member the OS has not scheduled (a busy machine) then holds nobody up, except at the region's end:
// with two busy loops beside it on the 2-core development machine, OpenMP's barrier per step made some runs
// of an LSTM (hidden 64, 100 steps) 700 times slower than one thread; this queue waits for a late thread
// about once per run (4 ms there), still slower than one thread on such a machine.
class BlockQueue {
 public:
  // `phases` sub-steps per step (GRU without linear_before_reset: 2), each its own round of blocks here.
  BlockQueue(int64_t blocks, int64_t threads, int64_t phases)
      : blocks_(blocks), threads_(threads), phases_(phases), claimed_(static_cast<std::size_t>(threads)) {}

  // Calls work(round, block) for blocks of rounds [0, rounds) until none is left or `stop` says so before a
  // round's step; every thread of the team calls this with its own tid. A thread leaves only between
  // rounds, after the blocks it claimed, so no one waits for a block nobody will do.
  template <class Work>
  void run(int64_t tid, int64_t rounds, const StepStop* stop, const Work& work) {
    for (int64_t round = 0;;) {
      round = std::max(round, done_.v.load(std::memory_order_acquire) / blocks_);  // any done without us
      if (round >= rounds || (stop && stop->at(round / phases_))) return;
      wait_for(round * blocks_);
      int64_t block = 0;
      for (int64_t i = 0; i < threads_; ++i)  // own range first, then the others'
        while (claim((tid + i) % threads_, round, &block)) {
          work(round, block);
          done_.v.fetch_add(1, std::memory_order_release);
        }
      ++round;
    }
  }

 private:
  struct alignas(64) Counter {
    std::atomic<int64_t> v{0};
  };
  int64_t first(int64_t range) const { return blocks_ * range / threads_; }

  // Takes the next block of `range` in `round`, if any is left.
  bool claim(int64_t range, int64_t round, int64_t* block) {
    const int64_t lo = first(range), n = first(range + 1) - lo;
    std::atomic<int64_t>& claimed = claimed_[static_cast<std::size_t>(range)].v;
    int64_t t = claimed.load(std::memory_order_relaxed);
    do {
      if (t >= (round + 1) * n) return false;
    } while (!claimed.compare_exchange_weak(t, t + 1, std::memory_order_relaxed));
    *block = block_at(round / phases_, lo, n, t - round * n);
    return true;
  }

  // Until `count` blocks are done: spins briefly (a step takes microseconds), then yields the core.
  void wait_for(int64_t count) {
    for (int spins = 0; done_.v.load(std::memory_order_acquire) < count; ++spins) {
      if (spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

  const int64_t blocks_, threads_, phases_;
  std::vector<Counter> claimed_;  // per range: its blocks claimed, over all rounds
  Counter done_;                  // blocks done, over all rounds
};

}  // namespace

const IsaKernels& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return avx512_kernels();
    case Isa::kAvx2: return avx2_kernels();
    case Isa::kScalar: break;
  }
  return scalar_kernels();
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kScalar: break;
  }
  return "scalar";
}

KernelChoice kernel_choice_from_env() {
  KernelChoice c;
  c.isa = best_isa();
  const char* env = std::getenv("TANDEM_RNN_KERNEL");
  const std::string v = env ? env : "";
  if (v.empty() || v == "auto") return c;
  if (v == "reference") {
    c.reference_only = true;
    return c;
  }
  const Isa caps[] = {Isa::kAvx512, Isa::kAvx2, Isa::kScalar};
  for (Isa cap : caps) {
    if (v == "fast" || v == std::string("fast-") + isa_name(cap)) {
      c.fast_always = true;
      c.isa = std::min(c.isa, cap);
      return c;
    }
  }
  static std::once_flag warned;
  std::call_once(warned, [&] {
    std::cerr << "tandem: TANDEM_RNN_KERNEL='" << v
              << "' is not one of auto, reference, fast, fast-avx512, fast-avx2, fast-scalar; using auto\n";
  });
  return c;
}

FastWeights pack_fast_weights(const RnnAttrs& a, Isa isa, int64_t hidden, const float* r, const float* peep,
                              const float* rbh) {
  FastWeights w;
  w.isa = isa;
  w.hidden = hidden;
  w.gates = a.gates;
  w.block = kernels_for(isa).block;
  w.blocks = (hidden + w.block - 1) / w.block;
  w.padded = w.blocks * w.block;
  const int64_t dirs = a.num_dirs, g = a.gates, h = hidden, u = w.block, p = w.padded;
  const int64_t per_dir = w.blocks * h * g * u;
  if (r) w.panels.assign(static_cast<std::size_t>(dirs * per_dir), 0.0f);
  for (int64_t d = 0; r && d < dirs; ++d) {
    const float* rd = r + d * g * h * h;  // row (gate, unit), column k
    float* out = w.panels.data() + d * per_dir;
    for (int64_t gate = 0; gate < g; ++gate)
      for (int64_t unit = 0; unit < h; ++unit) {
        const float* row = rd + (gate * h + unit) * h;
        float* col = out + (unit / u) * h * g * u + gate * u + unit % u;
        for (int64_t k = 0; k < h; ++k) col[k * g * u] = row[k];
      }
  }
  auto pad = [&](const float* src, int64_t parts, std::vector<float>& dst) {
    dst.assign(static_cast<std::size_t>(dirs * parts * p), 0.0f);
    for (int64_t i = 0; i < dirs * parts; ++i)
      std::memcpy(dst.data() + i * p, src + i * h, static_cast<std::size_t>(h) * sizeof(float));
  };
  if (peep) pad(peep, 3, w.peep);
  if (rbh) pad(rbh, 1, w.rbh);
  return w;
}

std::size_t fast_state_bytes(const RnnAttrs& a, const FastWeights& w, int64_t batch) {
  int64_t floats = 2 * batch * w.padded;  // H(t-1) and H(t)
  if (a.kind == CellKind::kLstm) floats += batch * w.padded;
  if (a.kind == CellKind::kGru && !a.linear_before_reset) floats += 2 * batch * w.padded;  // z, r (.) H(t-1)
  return static_cast<std::size_t>(floats) * sizeof(float);
}

namespace {

// One direction of one run: its state, its step arguments, its steps as rounds of blocks.
class Direction {
 public:
  Direction(const RnnAttrs& a, const FastWeights& w, const RunShape& s, int64_t d, bool reverse,
            const float* xw, const DirectionIO& io)
      : io_(io), shape_(s), blocks_(w.blocks), step_(kernels_for(w.isa).step) {
    const int64_t n = s.hidden, hp = w.padded, batch = s.batch, rows = batch * hp;
    const auto hsize = static_cast<std::size_t>(n) * sizeof(float);
    const bool lstm = a.kind == CellKind::kLstm;
    const bool gru_split = a.kind == CellKind::kGru && !a.linear_before_reset;
    state_.assign(fast_state_bytes(a, w, batch) / sizeof(float), 0.0f);
    StepArgs& args = args_;
    args.kind = a.kind;
    args.linear_before_reset = a.linear_before_reset;
    args.input_forget = a.input_forget;
    args.has_clip = a.has_clip;
    args.clip = a.clip;
    args.acts = a.acts.data() + d * static_cast<int64_t>(activations_per_direction(a.kind));
    args.hidden = n;
    args.padded = hp;
    args.batch = batch;
    args.gates = a.gates;
    args.panels = w.panels.data() + d * w.blocks * n * a.gates * w.block;
    args.peep = w.peep.empty() ? nullptr : w.peep.data() + d * 3 * hp;
    args.rbh = w.rbh.empty() ? nullptr : w.rbh.data() + d * hp;
    args.xw = xw;
    args.shape = &shape_;
    args.direction = d;
    args.reverse = reverse;
    args.lens = io.lens->data();
    float* next = state_.data();
    args.h[0] = next, next += rows;
    args.h[1] = next, next += rows;
    if (lstm) args.c = next, next += rows;
    if (gru_split) args.z = next, next += rows, args.rh = next, next += rows;
    args.y = io.y;
    for (int64_t b = 0; b < batch; ++b) {
      if (io.init_h) std::memcpy(args.h[0] + b * hp, io.init_h + s.state_offset(d, b), hsize);
      if (lstm && io.init_c) std::memcpy(args.c + b * hp, io.init_c + s.state_offset(d, b), hsize);
    }
    const std::vector<int64_t>& lens = *io.lens;
    steps_ = lens.empty() ? 0 : *std::max_element(lens.begin(), lens.end());
    phases_ = gru_split ? 2 : 1;
  }
  Direction(const Direction&) = delete;
  Direction& operator=(const Direction&) = delete;

  int64_t blocks() const { return blocks_; }
  int64_t phases() const { return phases_; }
  int64_t rounds() const { return steps_ * phases_; }
  void work(int64_t round, int64_t block) const {
    step_(args_, round / phases_, static_cast<int>(round % phases_), block, block + 1);
  }

  // Every step on the calling thread, without OpenMP.
  void run_alone() const {
    for (int64_t round = 0; round < rounds(); ++round) {
      if (stop() && stop()->at(round / phases_)) return;
      for (int64_t i = 0; i < blocks_; ++i) work(round, block_at(round / phases_, 0, blocks_, i));
    }
  }
  const StepStop* stop() const { return io_.stop; }

  // Y_h and Y_c: rows keep the state of their last valid step (the initial state for length 0).
  void finish() const {
    const int64_t hp = args_.padded, d = args_.direction;
    const auto hsize = static_cast<std::size_t>(shape_.hidden) * sizeof(float);
    const float* h_final = args_.h[steps_ & 1];
    for (int64_t b = 0; b < shape_.batch; ++b) {
      if (io_.y_h) std::memcpy(io_.y_h + shape_.state_offset(d, b), h_final + b * hp, hsize);
      if (io_.y_c) std::memcpy(io_.y_c + shape_.state_offset(d, b), args_.c + b * hp, hsize);
    }
  }

 private:
  const DirectionIO& io_;
  const RunShape shape_;
  const int64_t blocks_;
  const StepFn step_;
  std::vector<float> state_;
  StepArgs args_;
  int64_t steps_ = 0, phases_ = 1;
};

}  // namespace

FastTeams plan_fast_teams(const RnnAttrs& a, const FastWeights& w, int64_t batch, bool every_thread) {
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t team = std::min(threads, w.blocks);
  const int64_t macs = batch * a.gates * w.hidden * w.hidden;
  if (!every_thread) team = std::min(team, std::max<int64_t>(1, macs / kMinMacsPerThread));
  FastTeams t;
  t.per_direction = std::max<int64_t>(1, team);
  if (a.num_dirs == 2 && threads >= 2 && (team < threads || macs < kMaxMacsForConcurrentDirections)) {
    t.concurrent = true;
    t.forward = std::min(team, (threads + 1) / 2);
    t.backward = std::min(team, threads - t.forward);
  }
  return t;
}

Status run_fast_direction(const RnnAttrs& a, const FastWeights& w, const RunShape& s, int64_t d, bool reverse,
                          const float* xw, const DirectionIO& io, int64_t team) {
  const Direction dir(a, w, s, d, reverse, xw, io);
  if (team <= 1) {
    dir.run_alone();
  } else {  // one parallel region for the whole sequence
    BlockQueue queue(dir.blocks(), team, dir.phases());
    auto work = [&](int64_t round, int64_t block) { dir.work(round, block); };
#pragma omp parallel num_threads(static_cast<int>(team))
    queue.run(omp_get_thread_num(), dir.rounds(), dir.stop(), work);
  }
  if (io.stop && io.stop->stopped()) return io.stop->status();
  dir.finish();
  return Status::ok();
}

Status run_fast_bidirectional(const RnnAttrs& a, const FastWeights& w, const RunShape& s,
                              const float* const xw[2], const DirectionIO& io, const FastTeams& teams) {
  // Separate state per direction; direction 1 is the backward one (rnn.cc's `reverse || d == 1`).
  const Direction fw(a, w, s, 0, a.reverse, xw[0], io), bw(a, w, s, 1, true, xw[1], io);
  const Direction* dirs[2] = {&fw, &bw};
  const int64_t team[2] = {std::max<int64_t>(1, teams.forward), std::max<int64_t>(1, teams.backward)};
  BlockQueue fq(fw.blocks(), team[0], fw.phases()), bq(bw.blocks(), team[1], bw.phases());
  BlockQueue* queues[2] = {&fq, &bq};
  // Threads [0, team[0]) own the forward direction, the rest the backward one. A thread done with its own
  // joins the other's queue, which takes any thread's help for the blocks left: a thread the OS has not
  // scheduled then delays its direction only until the other thread is free.
#pragma omp parallel num_threads(static_cast<int>(team[0] + team[1]))
  {
    const int64_t tid = omp_get_thread_num();
    const int mine = tid < team[0] ? 0 : 1, other = 1 - mine;
    const int64_t own_tid = mine == 0 ? tid : tid - team[0];
    for (int which : {mine, other}) {
      const Direction& dir = *dirs[which];
      auto work = [&](int64_t round, int64_t block) { dir.work(round, block); };
      queues[which]->run(which == mine ? own_tid : own_tid % team[which], dir.rounds(), io.stop, work);
    }
  }
  if (io.stop && io.stop->stopped()) return io.stop->status();
  fw.finish();
  bw.finish();
  return Status::ok();
}

}  // namespace tandem::cpu::rnn
