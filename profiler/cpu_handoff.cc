#include "profiler/cpu_handoff.h"

#include <chrono>
#include <cstring>

namespace tandem::profiler {

namespace {

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

CpuHandoff::CpuHandoff() : receiver_([this] { receive_loop(); }) {}

CpuHandoff::~CpuHandoff() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  receiver_.join();
}

void CpuHandoff::receive_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || pending_bytes_ >= 0; });
    if (stop_) return;
    // Read one word per cache line: what a consumer kernel streaming the tensor would pull over.
    uint64_t sum = checksum_;
    const auto n = static_cast<std::size_t>(pending_bytes_);
    for (std::size_t i = 0; i < n; i += 64) sum += buffer_[i];
    if (n > 0) sum += buffer_[n - 1];
    checksum_ = sum;
    finished_us_ = now_us();
    pending_bytes_ = -1;
    cv_.notify_all();
  }
}

Result<double> CpuHandoff::operator()(int64_t bytes) {
  if (bytes < 0) return Status::error("hand-over of a negative byte count");
  std::unique_lock<std::mutex> lock(mu_);
  if (buffer_.size() < static_cast<std::size_t>(bytes)) buffer_.resize(static_cast<std::size_t>(bytes));
  // The sender produces the tensor: its bytes are hot in the sender's caches, as after a kernel.
  std::memset(buffer_.data(), static_cast<int>(checksum_ & 0x7f), static_cast<std::size_t>(bytes));
  finished_us_ = -1;
  const double start = now_us();
  pending_bytes_ = bytes;
  cv_.notify_all();
  cv_.wait(lock, [&] { return pending_bytes_ < 0; });
  return finished_us_ - start;
}

}  // namespace tandem::profiler
