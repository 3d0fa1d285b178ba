// A model as imported (the IR of a whole model): the main Graph plus what the file said about itself.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace tandem {

struct OpsetImport {
  std::string domain;  // "" is the default ONNX domain
  int64_t version = 0;
};

struct ModelIR {
  std::string source;  // file path, or a caller-given label for bytes; messages name the model by it
  std::string sha256;  // of the model file's bytes (hex): profiles and plans name the model by it
  int64_t ir_version = 0;
  std::string producer_name, producer_version;
  std::vector<OpsetImport> opsets;
  std::map<std::string, std::string> metadata;
  std::shared_ptr<Graph> graph;
  // How the model was validated, and anything a user should know about the import (e.g. "ONNX checker
  // skipped: ..."). `tandem info` prints these.
  std::vector<std::string> notes;
  bool checker_ran = false;
  bool shapes_inferred = false;
};

}  // namespace tandem
