// tandem: an inference engine for RNN models that runs a CPU and a GPU at the same time.
//
// The public C++ API. Everything here reports failure by throwing tandem::Error, whose message names the
// model, the node and the reason. Objects are immutable after construction and safe to share between
// threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tandem {

// The one exception type of the public API.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A graph input or output as the model declares it (after shape inference).
struct TensorSpec {
  std::string name;
  std::string dtype;  // "float32", "int64", ...
  // One entry per dimension: a number, or -1 when it is symbolic or unknown (`dim_names` then says which).
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;  // the symbol ("batch"), "?" when unknown, "" when a number
  bool has_rank = true;                // false: even the rank is unknown
  bool has_default = false;            // an input backed by an initializer: feeding it is optional
};

struct LoadOptions {
  // Values for symbolic input dimensions ("batch" -> 1), fixed before shape inference.
  std::map<std::string, int64_t> dims;
};

// An imported and validated ONNX model.
class Model {
 public:
  static Model load(const std::string& path, const LoadOptions& options = {});
  // `name` is how messages refer to the model. External data cannot be resolved without a folder.
  static Model load_from_bytes(const void* data, std::size_t size, const std::string& name = "<bytes>",
                               const LoadOptions& options = {});

  const std::string& source() const;
  int64_t ir_version() const;
  std::vector<std::pair<std::string, int64_t>> opsets() const;  // (domain, version); "ai.onnx" for default
  const std::vector<TensorSpec>& inputs() const;   // those the caller may feed, in declared order
  const std::vector<TensorSpec>& outputs() const;
  int64_t num_nodes() const;        // nested If/Loop/Scan bodies included
  int64_t parameter_count() const;  // elements of all initializers and Constant values
  int64_t parameter_bytes() const;
  std::map<std::string, int64_t> op_histogram() const;  // nested bodies included

  struct Impl;
  // For tandem's own tools: the imported graph behind this model.
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tandem
