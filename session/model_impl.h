// What stands behind the public tandem::Model: the imported model IR and the interface derived from it.
#pragma once

#include <tandem/tandem.h>

#include "graph/model_ir.h"
#include "graph/summary.h"

namespace tandem {

struct Model::Impl {
  ModelIR ir;
  GraphSummary summary;             // of the model as stored, before constant folding
  std::size_t folded_nodes = 0;     // nodes computed once at load (runtime_cpu/constant_folding.h)
  std::size_t inlined_ifs = 0;      // If nodes replaced at load by the branch their constant condition takes
  std::vector<TensorSpec> inputs, outputs;
  // Set by a Session that held the only reference to this model, once it freed the model's copy of the
  // weights its kernels packed (session/packed_weight_release.h): nothing else can see the model while
  // it is set, and no Session is made from it afterwards.
  mutable bool weights_released = false;
};

}  // namespace tandem
