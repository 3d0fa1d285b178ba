#include "runtime/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

#include "graph/float16.h"

namespace tandem {
namespace {

constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like

// A failed host allocation: still a std::bad_alloc (what the executor and callers catch), but its message
// says how many bytes for what tensor, where a bare bad_alloc left the user "std::bad_alloc" to go on.
class HostAllocError final : public std::bad_alloc {
 public:
  explicit HostAllocError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// The bytes of a tensor; nullopt when they do not fit in a size_t (a shape from absurd --dim values, say).
std::optional<std::size_t> checked_nbytes(DType dtype, const std::vector<int64_t>& shape) {
  std::size_t n = dtype_size(dtype);
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, static_cast<std::size_t>(d), &n)) return std::nullopt;
  if (n > std::numeric_limits<std::size_t>::max() - kAlignment) return std::nullopt;
  return n;
}

std::shared_ptr<void> allocate_host(DType dtype, const std::vector<int64_t>& shape) {
  const std::optional<std::size_t> bytes = checked_nbytes(dtype, shape);
  // malloc with room to align by hand rather than aligned_alloc: glibc serves aligned_alloc by carving an
  // aligned chunk out of a larger one and freeing the rest, which bypasses its per-thread cache and made
  // malloc_consolidate a tenth of a small model's run; plain malloc of a small size comes from that cache.
  constexpr std::size_t kSlack = kAlignment - alignof(std::max_align_t);
  void* block = bytes ? std::malloc(std::max<std::size_t>(*bytes, 1) + kSlack) : nullptr;
  if (!block)
    throw HostAllocError("cannot allocate " + (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) +
                         " bytes for a " + std::string(dtype_name(dtype)) + " " + shape_string(shape) + " tensor");
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  void* p = reinterpret_cast<void*>((address + kAlignment - 1) / kAlignment * kAlignment);
  return std::shared_ptr<void>(p, [block](void*) { std::free(block); });
}

// Strings are objects: constructed here (empty) and destroyed with the storage.
std::shared_ptr<void> allocate_strings(const std::vector<int64_t>& shape) {
  const std::optional<std::size_t> bytes = checked_nbytes(DType::kUInt8, shape);  // the element count
  std::size_t n = bytes ? *bytes : 0, object_bytes = 0;
  if (!bytes || __builtin_mul_overflow(n, sizeof(std::string), &object_bytes))
    throw HostAllocError("cannot allocate a string " + shape_string(shape) + " tensor: too many elements");
  // Raw memory first, as allocate_host does, so that a size beyond memory is the same HostAllocError (a
  // throwing new[] ended as a bare "std::bad_alloc", and as an abort under AddressSanitizer).
  void* raw = ::operator new(std::max<std::size_t>(object_bytes, sizeof(std::string)), std::nothrow);
  if (!raw)
    throw HostAllocError("cannot allocate " + std::to_string(object_bytes) + " bytes for a string " +
                         shape_string(shape) + " tensor (" + std::to_string(n) + " string objects)");
  auto* p = static_cast<std::string*>(raw);
  std::uninitialized_default_construct_n(p, n);
  return std::shared_ptr<void>(p, [n](void* q) {
    std::destroy_n(static_cast<std::string*>(q), n);
    ::operator delete(q);
  });
}

}  // namespace

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t Tensor::numel() const { return shape_numel(shape_); }

std::size_t Tensor::nbytes() const {
  if (form_ == Form::kTensor) return static_cast<std::size_t>(numel()) * dtype_size(dtype_);
  std::size_t n = 0;
  for (const Tensor& e : elements()) n += e.nbytes();
  return n;
}

const std::vector<Tensor>& Tensor::elements() const {
  static const std::vector<Tensor> kNoElements;
  return elements_ ? *elements_ : kNoElements;
}

Tensor Tensor::sequence(DType elem_dtype, std::vector<Tensor> elements) {
  Tensor t;
  t.form_ = Form::kSequence;
  t.dtype_ = elem_dtype;
  t.shape_ = {0};  // no elements of its own: code that mistook it for a tensor would read none
  t.elements_ = std::make_shared<const std::vector<Tensor>>(std::move(elements));
  return t;
}

Tensor Tensor::none(DType elem_dtype, bool of_sequence) {
  Tensor t;
  t.form_ = Form::kNone;
  t.dtype_ = elem_dtype;
  t.shape_ = {0};
  t.none_of_sequence_ = of_sequence;
  return t;
}

Tensor Tensor::empty(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  auto storage = dtype == DType::kString ? allocate_strings(t.shape_) : allocate_host(t.dtype_, t.shape_);
  t.data_ = storage.get();
  t.owner_ = std::move(storage);
  return t;
}

Tensor Tensor::zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t = empty(dtype, std::move(shape));
  if (t.nbytes()) std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::wrap(DType dtype, std::vector<int64_t> shape, void* data, DeviceKind device) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.device_ = device;
  return t;
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape, void* data, DeviceKind device,
                     std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.device_ = device;
  t.owner_ = std::move(owner);
  return t;
}

Tensor Tensor::shape_only(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.constant_ = true;
  return t;
}

Tensor Tensor::from_constant(const TensorDataPtr& data) {
  Tensor t;
  t.dtype_ = data->dtype;
  t.shape_ = data->dims;
  // Constants are never written: kernels take inputs as const, so dropping const here is safe.
  if (data->dtype == DType::kString)
    t.data_ = const_cast<std::string*>(data->strings.data());
  else
    t.data_ = const_cast<std::byte*>(data->bytes.data());
  // A constant without elements has no storage (an empty vector's data() is null), where every other
  // tensor's data is an allocation: kernels did arithmetic on the null pointer (undefined behaviour; Split
  // of an empty string constant, found by the fuzzer under UBSan). It points at a static block instead.
  if (!t.data_) {
    alignas(kAlignment) static const std::byte kNoElements[kAlignment] = {};
    static const std::string kNoStrings[1];
    t.data_ = data->dtype == DType::kString ? static_cast<void*>(const_cast<std::string*>(kNoStrings))
                                            : static_cast<void*>(const_cast<std::byte*>(kNoElements));
  }
  t.owner_ = data;
  t.constant_ = true;
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::view(std::size_t byte_offset, DType dtype, std::vector<int64_t> shape) const {
  if (dtype == DType::kString || dtype_ == DType::kString)
    throw std::logic_error("Tensor::view: string tensors cannot be viewed at a byte offset (" + describe() + ")");
  const std::size_t bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (byte_offset > nbytes() || bytes > nbytes() - byte_offset)
    throw std::out_of_range("Tensor::view: " + std::to_string(bytes) + " bytes at offset " + std::to_string(byte_offset) +
                            " do not fit in " + describe());
  Tensor t = *this;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = static_cast<std::byte*>(data_) + byte_offset;
  return t;
}

Tensor Tensor::clone() const {
  if (form_ == Form::kSequence) {
    std::vector<Tensor> copies;
    copies.reserve(elements().size());
    for (const Tensor& e : elements()) copies.push_back(e.clone());
    return sequence(dtype_, std::move(copies));
  }
  if (form_ == Form::kNone) return *this;
  if (device_ != DeviceKind::kCpu) throw std::logic_error("Tensor::clone of a tensor in device memory");
  Tensor t = empty(dtype_, shape_);
  if (dtype_ == DType::kString)
    std::copy_n(data<std::string>(), numel(), t.data<std::string>());
  else if (nbytes())
    std::memcpy(t.data_, data_, nbytes());
  return t;
}

double element_as_double(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat32: return t.data<float>()[i];
    case DType::kFloat64: return t.data<double>()[i];
    case DType::kFloat16: return half_to_float(t.data<uint16_t>()[i]);
    case DType::kBFloat16: return bfloat16_to_float(t.data<uint16_t>()[i]);
    case DType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kInt32: return t.data<int32_t>()[i];
    case DType::kInt16: return t.data<int16_t>()[i];
    case DType::kInt8: return t.data<int8_t>()[i];
    case DType::kUInt8: return t.data<uint8_t>()[i];
    case DType::kBool: return t.data<uint8_t>()[i] != 0;
    case DType::kUInt16: return t.data<uint16_t>()[i];
    case DType::kUInt32: return t.data<uint32_t>()[i];
    case DType::kUInt64: return static_cast<double>(t.data<uint64_t>()[i]);
    default: return std::nan("");
  }
}

std::string Tensor::describe() const {
  if (form_ == Form::kSequence)
    return "sequence of " + std::to_string(elements().size()) + " " + std::string(dtype_name(dtype_)) + " tensors";
  if (form_ == Form::kNone) return std::string("empty optional ") + (none_of_sequence_ ? "sequence" : "tensor");
  return std::string(dtype_name(dtype_)) + " " + shape_string(shape_);
}

std::vector<const Tensor*> pointers_to(const std::vector<Tensor>& tensors) {
  std::vector<const Tensor*> out;
  out.reserve(tensors.size());
  for (const Tensor& t : tensors) out.push_back(t.defined() ? &t : nullptr);
  return out;
}

}  // namespace tandem
