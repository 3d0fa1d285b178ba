// Link calibration through the runtime's own hand-over path, for a device with memory of its own (a GPU):
// what a plan pays each time a tensor crosses, timed with the host's clock around the calls the plan
// executor makes. Host to device: Device::receive of a host tensor (for a GPU: a host copy into pinned
// staging, an asynchronous copy on its copy stream, ordered before its compute stream), then
// Device::finish_run. Device to host: Device::to_host of a tensor in its memory (an event, a staged
// download, waited for). Timing only the DMA between pinned buffers with device events (runtime_cuda's
// time_copy_us) leaves out the staging copy and the calls around it, so a plan's crossings would cost more
// than predicted.
#pragma once

#include "profiler/profile_model.h"
#include "runtime/device.h"

namespace tandem::profiler {

// "cpu->cuda": a host tensor of `bytes` received by `device`. The timer keeps one host buffer per size
// (filled before timing, so no page is first touched while timed). `device` must outlive the timer.
CopyTimer receive_timer(const Device& device);
// "cuda->cpu": a tensor of `bytes` in `device`'s memory (received untimed before each copy, and let go
// after it) copied to the host.
CopyTimer to_host_timer(const Device& device);

}  // namespace tandem::profiler
