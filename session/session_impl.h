// What stands behind the public tandem::Session: the model, the device, and the compiled executor.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <tandem/tandem.h>

#include "partitioner/plan.h"
#include "runtime/executor.h"
#include "runtime/plan_executor.h"
#include "runtime_cpu/cpu_device.h"
#include "session/device_set.h"
#include "session/model_impl.h"

namespace tandem {

struct Session::Impl {
  Impl(Model m, const SessionOptions& o) : model(std::move(m)), options(o) {}

  Model model;
  SessionOptions options;
  // Without a plan: the CPU and the executor that runs every node on it (null when there is a plan).
  cpu::CpuDevice cpu;
  std::shared_ptr<const GraphExecutor> executor;
  // With a plan (SessionOptions::plan_path, or one the session made itself in "latency"/"memory" mode): the
  // plan, its devices (session/device_set.h: the CPU, and the GPU or a second CPU standing in for it) and
  // the executor that runs it, which alone holds the kernels (weights are packed once).
  std::optional<partition::Plan> plan;
  DeviceSet plan_devices;
  std::shared_ptr<const PlanExecutor> plan_executor;
  // The graph the plan is for: the model's, or a copy with its recurrent nodes split into the plan's time
  // chunks (the PlanExecutor refers to it, so it lives as long as the session).
  std::shared_ptr<Graph> plan_graph;

  // The model's main graph (its inputs and outputs are what `run` takes and returns, plan or not).
  const Graph& graph() const { return *model.impl().ir.graph; }

  // The runtime-level entry: one tensor per graph input (nullptr: not given), outputs in graph order.
  // Validates the inputs first. Messages are not yet prefixed with the model's name. `control`: the run's
  // deadline and cancel flag (runtime/run_control.h), nullptr for none.
  Result<std::vector<Tensor>> run(const std::vector<const Tensor*>& feeds, const RunControl* control = nullptr) const;
};

}  // namespace tandem
