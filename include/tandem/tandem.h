// tandem: an inference engine for RNN models that runs a CPU and a GPU at the same time.
//
// The public C++ API. Everything here reports failure by throwing tandem::Error, whose message names the
// model, the node and the reason. Objects are immutable after construction and safe to share between
// threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tandem {

// The one exception type of the public API. kind() tells a run stopped by its RunOptions (a timeout, a
// cancel) from every other failure, for callers that retry or shed load; the message says the rest.
class Error : public std::runtime_error {
 public:
  enum class Kind { kFailed, kTimedOut, kCancelled };
  explicit Error(const std::string& message, Kind kind = Kind::kFailed)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// A graph input or output as the model declares it (after shape inference).
struct TensorSpec {
  std::string name;
  // "tensor", or ONNX's other values: "sequence" (of tensors), "optional tensor", "optional sequence";
  // `dtype` and `dims` are then the element tensors'.
  std::string form = "tensor";
  std::string dtype;  // "float32", "int64", ...
  // One entry per dimension: a number, or -1 when it is symbolic or unknown (`dim_names` then says which).
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;  // the symbol ("batch"), "?" when unknown, "" when a number
  bool has_rank = true;                // false: even the rank is unknown
  bool has_default = false;            // an input backed by an initializer: feeding it is optional
};

// Element types, numbered as ONNX numbers them.
enum class ElementType : int32_t {
  kFloat32 = 1, kUInt8 = 2, kInt8 = 3, kUInt16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7, kString = 8, kBool = 9,
  kFloat16 = 10, kFloat64 = 11, kUInt32 = 12, kUInt64 = 13, kBFloat16 = 16,
};
std::string element_type_name(ElementType t);  // "float32", ...
std::size_t element_size(ElementType t);  // 0 for kString (its elements are std::string objects)

template <typename T>
constexpr ElementType element_type_of();
template <> constexpr ElementType element_type_of<float>() { return ElementType::kFloat32; }
template <> constexpr ElementType element_type_of<double>() { return ElementType::kFloat64; }
template <> constexpr ElementType element_type_of<int64_t>() { return ElementType::kInt64; }
template <> constexpr ElementType element_type_of<int32_t>() { return ElementType::kInt32; }
template <> constexpr ElementType element_type_of<int8_t>() { return ElementType::kInt8; }
template <> constexpr ElementType element_type_of<uint8_t>() { return ElementType::kUInt8; }
template <> constexpr ElementType element_type_of<bool>() { return ElementType::kBool; }
template <> constexpr ElementType element_type_of<std::string>() { return ElementType::kString; }

// A tensor in host memory, as the API takes and returns them. It owns its elements, or wraps a caller's
// buffer without copying it (the caller keeps that buffer alive while the tensor or a copy of it is used).
// Copies share the elements. It also carries ONNX's non-tensor values, for models whose inputs or outputs
// are sequences or optionals: a sequence of tensors of one element type, and an empty optional (an
// optional that holds a value is passed as that value). A kString tensor's elements are std::string objects
// (UTF-8 by convention, any bytes allowed): data<std::string>() reads and writes them, and a wrapped buffer
// must be an array of std::string; nbytes() is 0 for it.
class HostTensor {
 public:
  HostTensor() = default;
  HostTensor(ElementType type, std::vector<int64_t> shape);  // owned, zero-filled (strings: empty)
  static HostTensor wrap(ElementType type, std::vector<int64_t> shape, void* data);
  // Every element must be a tensor of `type` (throws Error otherwise).
  static HostTensor sequence(ElementType type, std::vector<HostTensor> elements);
  static HostTensor none(ElementType type, bool of_sequence = false);
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool none_of_sequence() const { return none_of_sequence_; }
  // A sequence's tensors; empty for anything else. A sequence or a none has no elements of its own
  // (numel() 0, raw() nullptr).
  const std::vector<HostTensor>& elements() const;
  template <typename T>
  static HostTensor of(std::vector<int64_t> shape, const std::vector<T>& values) {
    HostTensor t(element_type_of<T>(), std::move(shape));
    if (static_cast<std::size_t>(t.numel()) != values.size())
      throw Error("HostTensor::of: " + std::to_string(values.size()) + " values for " +
                  std::to_string(t.numel()) + " elements");
    T* out = t.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) out[i] = values[i];
    return t;
  }

  ElementType type() const { return type_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t numel() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * element_size(type_); }
  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

 private:
  enum class Kind { kTensor, kSequence, kNone };
  Kind kind_ = Kind::kTensor;
  bool none_of_sequence_ = false;
  ElementType type_ = ElementType::kFloat32;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  std::shared_ptr<const std::vector<HostTensor>> elements_;
};

struct LoadOptions {
  // Values for symbolic input dimensions ("batch" -> 1), fixed before shape inference.
  std::map<std::string, int64_t> dims;
};

// An imported and validated ONNX model.
class Session;
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
  friend class Session;  // sees whether it holds the only reference (Session's constructor)
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

struct SessionOptions {
  LoadOptions load;  // used when the Session loads the model itself
  int threads = 0;   // threads for one run's kernels; 0: every core
  // A device plan (`tandem partition` writes one) to run instead of the CPU alone. Nodes it puts on "cuda"
  // run on the GPU when `devices` finds one, else (with "auto" or "cpu,cpu") on a second CPU device with
  // its own threads standing in for it (said once on stderr; the two share `threads`, half each).
  std::string plan_path;

  // Without a plan: how the Session places nodes itself.
  //  "cpu" (default): everything on the CPU; nothing is measured.
  //  "latency" / "memory": profile the model (or reuse `profile_path` when that file exists and was taken
  //  of this model at these dimensions), partition it for the least latency, or for the least GPU memory
  //  within `slo_ms`, under `gpu_memory_budget`, then run that plan. With no second device to use (no GPU
  //  and `devices` not "cpu,cpu") the Session runs on the CPU and says so once on stderr.
  std::string mode = "cpu";
  double slo_ms = 0;              // required by "memory"
  // Bytes of predicted peak GPU memory; 0: no cap. The plan's nodes are placed within it ("latency",
  // "memory"); with any plan, concurrent `run` calls are held to it: each run in flight beside the first
  // adds its own activations and workspaces (weights are shared), so runs beyond what fits wait for one to
  // finish. A plan whose one run is over the budget is an error.
  int64_t gpu_memory_budget = 0;
  // Where the profile is reused from, or saved to after it is taken ("" : neither).
  std::string profile_path;
  // "auto": the CPU and the GPU when one is found (CUDA build, a GPU of compute capability >= 9.0), else
  // a second CPU device in its place for a plan file (the CPU alone for `mode`); "cpu": the CPU alone;
  // "cpu,cpu": two CPU devices with their own threads (half each) standing in for a CPU and a GPU;
  // "cpu,cuda": the CPU and the GPU, an error saying why when there is none.
  std::string devices = "auto";
};

// Limits on one Session::run. Both are checked before every node and before every iteration of a Loop,
// Scan or SequenceMap (so a Loop whose condition never turns false still ends); a node already running
// finishes first, so a run can overshoot its timeout by its longest node. A stopped run throws Error of
// kind kTimedOut or kCancelled and leaves the session as it was.
struct RunOptions {
  // How long the run may take from the call; 0: no limit.
  std::chrono::microseconds timeout{0};
  // The caller's flag: set it to true from any thread to stop the run; nullptr: none. Only read.
  const std::atomic<bool>* cancel = nullptr;
};

// A model ready to run. Construction compiles every kernel once (weights packed then); `run` may be
// called from many threads at once, each call with its own intermediate values.
//
// Weights are held once where the session holds the only reference to its model (made from a path, or
// given a Model by std::move): the model's copy of each constant that the kernels packed into a form of
// their own (recurrent weights, quantized matrices) is freed, as ONNX Runtime does. `model()` then still
// describes the model but cannot make another Session (Error says so; load the model again). A session
// given a Model that its caller keeps frees nothing, so one Model can make many sessions.
class Session {
 public:
  explicit Session(const std::string& model_path, const SessionOptions& options = {});
  explicit Session(Model model, const SessionOptions& options = {});

  // Inputs by name (inputs with a default may be left out); returns every output by name. Inputs are
  // checked against the model: names, element types, ranks, fixed dimensions, and symbolic dimensions
  // that must agree across inputs ("batch").
  std::map<std::string, HostTensor> run(const std::map<std::string, HostTensor>& inputs,
                                        const RunOptions& options = {}) const;

  const Model& model() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tandem
