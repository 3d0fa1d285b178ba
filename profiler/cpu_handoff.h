// The cost of handing a tensor from one CPU device to another (two thread arenas in one process, the pair
// the parallel runtime uses when there is no GPU). Nothing is copied: the receiver is woken and reads the
// tensor the sender just wrote, so the cost is the wake-up plus pulling the bytes into the receiver's
// caches. Calibrated like a PCIe link, as alpha + bytes/beta ("cpu->cpu" in the profile).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "graph/status.h"

namespace tandem::profiler {

class CpuHandoff {
 public:
  CpuHandoff();  // starts the receiving thread
  ~CpuHandoff();
  CpuHandoff(const CpuHandoff&) = delete;
  CpuHandoff& operator=(const CpuHandoff&) = delete;

  // One hand-over of `bytes` (written by the calling thread first): microseconds from the signal until the
  // receiver has read every byte.
  Result<double> operator()(int64_t bytes);

 private:
  void receive_loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<unsigned char> buffer_;
  int64_t pending_bytes_ = -1;  // >= 0: a hand-over waits for the receiver
  double finished_us_ = -1;     // set by the receiver: steady-clock time when it had read everything
  uint64_t checksum_ = 0;       // what the receiver read, so the reads cannot be optimised away
  bool stop_ = false;
  std::thread receiver_;
};

}  // namespace tandem::profiler
