#include "profiler/device_link.h"

#include <chrono>
#include <cstring>
#include <map>
#include <memory>

namespace tandem::profiler {
namespace {

// Host tensors of each size asked for, written once (their pages mapped before any timing).
class HostBuffers {
 public:
  Result<const Tensor*> of(int64_t bytes) {
    if (bytes < 0) return Status::error("a copy of " + std::to_string(bytes) + " bytes");
    Tensor& t = buffers_[bytes];
    if (!t.defined()) {
      t = Tensor::empty(DType::kUInt8, {bytes});
      if (bytes > 0) std::memset(t.raw(), 0x5a, static_cast<std::size_t>(bytes));
    }
    return &t;
  }

 private:
  std::map<int64_t, Tensor> buffers_;
};

double us_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

CopyTimer receive_timer(const Device& device) {
  auto buffers = std::make_shared<HostBuffers>();
  return [&device, buffers](int64_t bytes) -> Result<double> {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* host, buffers->of(bytes));
    device.bind_thread();
    const auto t0 = std::chrono::steady_clock::now();
    TANDEM_ASSIGN_OR_RETURN(Tensor received, device.receive(*host, nullptr, nullptr));
    TANDEM_RETURN_IF_ERROR(device.finish_run());
    const double us = us_since(t0);
    if (received.nbytes() != static_cast<std::size_t>(bytes))
      return Status::error("device '" + device.name() + "' received " + std::to_string(received.nbytes()) +
                           " bytes of " + std::to_string(bytes));
    return us;
  };
}

CopyTimer to_host_timer(const Device& device) {
  auto buffers = std::make_shared<HostBuffers>();
  return [&device, buffers](int64_t bytes) -> Result<double> {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* host_src, buffers->of(bytes));
    device.bind_thread();
    // Put there untimed, each time: device memory is not kept between calls (nor past the profile).
    TANDEM_ASSIGN_OR_RETURN(Tensor src, device.receive(*host_src, nullptr, nullptr));
    TANDEM_RETURN_IF_ERROR(device.finish_run());
    const auto t0 = std::chrono::steady_clock::now();
    TANDEM_ASSIGN_OR_RETURN(Tensor host, device.to_host(src));
    const double us = us_since(t0);
    if (host.nbytes() != static_cast<std::size_t>(bytes) || host.device() != DeviceKind::kCpu)
      return Status::error("device '" + device.name() + "' returned " + host.describe() + " for " +
                           std::to_string(bytes) + " bytes");
    return us;
  };
}

}  // namespace tandem::profiler
