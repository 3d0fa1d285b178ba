#include "profiler/device_link.h"

#include <chrono>
#include <cstring>
#include <map>
#include <memory>

namespace tandem::profiler {
namespace {

// A host tensor of `bytes` bytes, written once (its pages mapped before any timing).
Tensor host_tensor(int64_t bytes) {
  Tensor t = Tensor::empty(DType::kUInt8, {bytes});
  if (bytes > 0) std::memset(t.raw(), 0x5a, static_cast<std::size_t>(bytes));
  return t;
}

double us_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

CopyTimer receive_timer(const Device& device) {
  auto buffers = std::make_shared<std::map<int64_t, Tensor>>();
  return [&device, buffers](int64_t bytes) -> Result<double> {
    if (bytes < 0) return Status::error("a copy of " + std::to_string(bytes) + " bytes");
    Tensor& host = (*buffers)[bytes];
    if (!host.defined()) host = host_tensor(bytes);
    device.bind_thread();
    const auto t0 = std::chrono::steady_clock::now();
    TANDEM_ASSIGN_OR_RETURN(Tensor received, device.receive(host, nullptr, nullptr));
    TANDEM_RETURN_IF_ERROR(device.finish_run());
    const double us = us_since(t0);
    if (received.nbytes() != static_cast<std::size_t>(bytes))
      return Status::error("device '" + device.name() + "' received " + std::to_string(received.nbytes()) +
                           " bytes of " + std::to_string(bytes));
    return us;
  };
}

CopyTimer to_host_timer(const Device& device) {
  auto buffers = std::make_shared<std::map<int64_t, Tensor>>();
  return [&device, buffers](int64_t bytes) -> Result<double> {
    if (bytes < 0) return Status::error("a copy of " + std::to_string(bytes) + " bytes");
    Tensor& host_src = (*buffers)[bytes];
    if (!host_src.defined()) host_src = host_tensor(bytes);
    device.bind_thread();
    // Put there untimed, each time: device memory is not kept between calls (nor past the profile).
    TANDEM_ASSIGN_OR_RETURN(Tensor src, device.receive(host_src, nullptr, nullptr));
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
