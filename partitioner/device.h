// The two kinds of device the partitioner places work on, and the names Profile and Plan files use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tandem::partition {

enum class Device : uint8_t { kCpu = 0, kGpu = 1 };
inline constexpr int kNumDevices = 2;
inline constexpr std::array<Device, kNumDevices> kDevices{Device::kCpu, Device::kGpu};

constexpr int index(Device d) { return static_cast<int>(d); }
constexpr Device other(Device d) { return d == Device::kCpu ? Device::kGpu : Device::kCpu; }

// "cpu" and "cuda": the keys of Profile files and the values of Plan files.
constexpr std::string_view device_name(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

// "cpu" or "cuda" ("gpu" is accepted as a synonym for users typing pins); nullopt otherwise.
constexpr std::optional<Device> parse_device(std::string_view s) {
  if (s == "cpu") return Device::kCpu;
  if (s == "cuda" || s == "gpu") return Device::kGpu;
  return std::nullopt;
}

// A set of devices as a bit mask (bit i = device i), for what a task may use after support and pins.
using DeviceMask = uint8_t;
constexpr DeviceMask mask_of(Device d) { return static_cast<DeviceMask>(1u << index(d)); }
constexpr bool has(DeviceMask m, Device d) { return (m & mask_of(d)) != 0; }
inline constexpr DeviceMask kBothDevices = 3;

}  // namespace tandem::partition
