// The Session's own pipeline when it is given no plan: profile the model (or reuse a saved profile of it),
// partition it, and return the plan to run; or decide that there is nothing to partition across.
#pragma once

#include <optional>
#include <string>

#include <tandem/tandem.h>

#include "graph/model_ir.h"
#include "graph/status.h"
#include "partitioner/plan.h"
#include "session/device_set.h"

namespace tandem {

struct AutoPlan {
  std::optional<partition::Plan> plan;  // empty: run on the CPU alone
  std::string message;                  // one line for stderr, when the user should know something
  DeviceSet devices;                    // with a plan: the devices it was measured on, to run it on
};

// `options.mode` is "latency" or "memory". The devices come from `options.devices` (session/device_set.h);
// with "auto" and no GPU there is nothing worth partitioning across (a stand-in only splits the CPU's
// threads), so the plan is left empty and the message says why. Profiles with random inputs of the
// model's declared shapes (its symbolic dimensions fixed by options.load.dims, else taken as 1).
Result<AutoPlan> make_auto_plan(const ModelIR& model, const SessionOptions& options);

}  // namespace tandem
