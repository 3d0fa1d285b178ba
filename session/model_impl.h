// What stands behind the public tandem::Model: the imported model IR and the interface derived from it.
#pragma once

#include <tandem/tandem.h>

#include "graph/model_ir.h"
#include "graph/summary.h"

namespace tandem {

struct Model::Impl {
  ModelIR ir;
  GraphSummary summary;
  std::vector<TensorSpec> inputs, outputs;
};

}  // namespace tandem
