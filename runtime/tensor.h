// A tensor at run time: element type, dimensions and a pointer to its elements in some device's memory.
// Copying a Tensor shares its storage (tensors are immutable once a kernel has produced them, so sharing is
// safe and makes Reshape, Identity and friends free). A Tensor can also wrap a caller's buffer without a copy.
//
// The same type carries ONNX's non-tensor values, so executors, plans and hand-overs move them like any
// other value: a sequence of host tensors (Tensor::sequence) and an empty optional (Tensor::none); an
// optional that holds a value is that value itself. They have no elements of their own (numel() 0, no
// storage), and only kernels that say so (Kernel::takes_non_tensors) are given them.
//
// String tensors (DType::kString) hold std::string objects, constructed and destroyed with the storage:
// data<std::string>() reads them. Their size is not fixed, so nbytes() is 0 and they are never placed
// in a memory plan's arena, viewed at a byte offset or copied by bytes (has_byte_elements() says which).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/dtype.h"
#include "graph/tensor_data.h"

namespace tandem {

enum class DeviceKind { kCpu, kCuda };

class Tensor {
 public:
  Tensor() = default;

  // Host memory from the default host allocator, 64-byte aligned, uninitialised (strings: empty ones).
  static Tensor empty(DType dtype, std::vector<int64_t> shape);
  // Host memory filled with zeros.
  static Tensor zeros(DType dtype, std::vector<int64_t> shape);
  // The caller's buffer, not copied: it must outlive every copy of this Tensor.
  static Tensor wrap(DType dtype, std::vector<int64_t> shape, void* data, DeviceKind device = DeviceKind::kCpu);
  // Memory of any device (a GPU's, from its allocator), kept alive by `owner`: the storage is given back
  // (e.g. to the caching allocator) when the last copy of the Tensor goes. Elements of a tensor that is
  // not kCpu cannot be read on the host (clone, element_as_double, data<T>() are for host tensors).
  static Tensor adopt(DType dtype, std::vector<int64_t> shape, void* data, DeviceKind device,
                      std::shared_ptr<const void> owner);
  // A sequence of host tensors of type `elem_dtype` (which they must all have; unchecked here).
  static Tensor sequence(DType elem_dtype, std::vector<Tensor> elements);
  // An optional holding nothing; `elem_dtype` and `of_sequence` say what it would hold.
  static Tensor none(DType elem_dtype, bool of_sequence);
  // A constant's elements, shared (the TensorData stays alive as long as the Tensor).
  static Tensor from_constant(const TensorDataPtr& data);
  // The type and shape of a constant without its elements (data() is null): how executors hold an
  // initializer that every kernel reading it packed into a form of its own (Kernel::reads_constant_input).
  static Tensor shape_only(DType dtype, std::vector<int64_t> shape);
  // Same storage, other dimensions (same element count): how Reshape, Squeeze, Flatten share memory.
  Tensor reshaped(std::vector<int64_t> shape) const;
  // Elements inside this tensor's storage, `byte_offset` bytes in, with their own type and shape (how a
  // memory plan places a run's buffers in one arena). Keeps the whole storage alive; the bytes must lie
  // within this tensor's: throws std::out_of_range otherwise, and std::logic_error for strings.
  Tensor view(std::size_t byte_offset, DType dtype, std::vector<int64_t> shape) const;

  enum class Form : uint8_t { kTensor, kSequence, kNone };
  bool defined() const { return dtype_ != DType::kUndefined || form_ != Form::kTensor; }
  Form form() const { return form_; }
  bool is_tensor() const { return form_ == Form::kTensor; }
  bool is_sequence() const { return form_ == Form::kSequence; }
  bool is_none() const { return form_ == Form::kNone; }
  bool none_of_sequence() const { return none_of_sequence_; }
  // A sequence's tensors (empty for anything else).
  const std::vector<Tensor>& elements() const;
  // A tensor's element type, a sequence's elements' type, what a none would hold.
  DType dtype() const { return dtype_; }
  DeviceKind device() const { return device_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  std::size_t rank() const { return shape_.size(); }
  int64_t dim(std::size_t i) const { return shape_[i]; }
  int64_t numel() const;
  // A sequence's: its elements' bytes together. 0 for strings (their size is not fixed).
  std::size_t nbytes() const;
  // A tensor whose elements are plain bytes (every type but string), which may live in an arena and be
  // copied with memcpy.
  bool has_byte_elements() const { return form_ == Form::kTensor && dtype_ != DType::kString; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  // Identifies the storage behind this tensor (shared by its copies and reshaped views; nullptr for a
  // wrapped buffer), so memory accounting counts a buffer once however many values alias it.
  const void* storage() const { return owner_.get(); }
  // Whether the storage is a constant's (weights from the model), not memory a run allocated.
  bool is_constant() const { return constant_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

  // A fresh host copy with its own storage (host tensors only: throws std::logic_error otherwise); a
  // sequence's elements are cloned.
  Tensor clone() const;
  std::string describe() const;  // "float32 [2,3]", "sequence of 3 float32 tensors", "empty optional tensor"

 private:
  DType dtype_ = DType::kUndefined;
  DeviceKind device_ = DeviceKind::kCpu;
  std::vector<int64_t> shape_;
  std::shared_ptr<const void> owner_;  // keeps the storage alive; empty for wrapped buffers
  void* data_ = nullptr;
  bool constant_ = false;
  Form form_ = Form::kTensor;
  bool none_of_sequence_ = false;
  std::shared_ptr<const std::vector<Tensor>> elements_;  // a sequence's
};

// Element i of a numeric or bool tensor, widened to double (16-bit floats converted); NaN for other types.
// For reporting and comparing values, not for kernels' inner loops.
double element_as_double(const Tensor& t, int64_t i);

// One pointer per tensor, nullptr for an undefined one: how executors take inputs (nullptr = the input's
// default) from a vector of tensors.
std::vector<const Tensor*> pointers_to(const std::vector<Tensor>& tensors);

// Element count of a shape (1 for a scalar). Shapes reaching here were validated, so no overflow check.
int64_t shape_numel(const std::vector<int64_t>& shape);
std::string shape_string(const std::vector<int64_t>& shape);  // "[2,3]"

}  // namespace tandem
