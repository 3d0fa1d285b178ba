// Values only host memory holds: sequences and optionals (host-side containers of tensors) and string
// tensors (std::string objects). A GPU runs no node that reads or makes one, which the CUDA device and the
// profiler's GPU estimate both ask here, so a plan from estimated costs puts them where they can run.
#pragma once

#include <optional>
#include <string>

#include "graph/graph.h"

namespace tandem {

// The first input or output of node `id` that lives on the host, with why ("'words' is a string tensor");
// nullopt when there is none.
std::optional<std::string> host_only_value(const Graph& g, NodeId id);

}  // namespace tandem
