// tandem::HostTensor, and its conversions to and from the runtime's Tensor.
#include "session/host_tensor_bridge.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "graph/dtype.h"

namespace tandem {

std::string element_type_name(ElementType t) { return std::string(dtype_name(static_cast<DType>(t))); }
std::size_t element_size(ElementType t) { return dtype_size(static_cast<DType>(t)); }

HostTensor::HostTensor(ElementType type, std::vector<int64_t> shape) : type_(type), shape_(std::move(shape)) {
  for (int64_t d : shape_)
    if (d < 0) throw Error("HostTensor: negative dimension " + std::to_string(d));
  if (type_ == ElementType::kString) {
    int64_t n = 1;
    for (int64_t d : shape_)
      if (__builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 40))
        throw Error("HostTensor: a string tensor of " + shape_string(shape_) + " elements is too large");
    auto* strings = new std::string[static_cast<std::size_t>(n == 0 ? 1 : n)];
    owner_ = std::shared_ptr<void>(strings, [](void* q) { delete[] static_cast<std::string*>(q); });
    data_ = strings;
    return;
  }
  const std::size_t bytes = nbytes();
  void* p = std::calloc(bytes ? bytes : 1, 1);
  if (!p) throw Error("HostTensor: cannot allocate " + std::to_string(bytes) + " bytes");
  owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  data_ = p;
}

HostTensor HostTensor::wrap(ElementType type, std::vector<int64_t> shape, void* data) {
  HostTensor t;
  t.type_ = type;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

HostTensor HostTensor::sequence(ElementType type, std::vector<HostTensor> elements) {
  for (std::size_t k = 0; k < elements.size(); ++k) {
    const HostTensor& e = elements[k];
    if (e.kind_ != Kind::kTensor || e.type_ != type)
      throw Error("HostTensor::sequence: element " + std::to_string(k) + " is not a " + element_type_name(type) +
                  " tensor");
  }
  HostTensor t;
  t.kind_ = Kind::kSequence;
  t.type_ = type;
  t.shape_ = {0};
  t.elements_ = std::make_shared<const std::vector<HostTensor>>(std::move(elements));
  return t;
}

HostTensor HostTensor::none(ElementType type, bool of_sequence) {
  HostTensor t;
  t.kind_ = Kind::kNone;
  t.type_ = type;
  t.shape_ = {0};
  t.none_of_sequence_ = of_sequence;
  return t;
}

const std::vector<HostTensor>& HostTensor::elements() const {
  static const std::vector<HostTensor> kNoElements;
  return elements_ ? *elements_ : kNoElements;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

Tensor to_runtime_tensor(const HostTensor& t) {
  const auto dtype = static_cast<DType>(t.type());
  if (t.is_none()) return Tensor::none(dtype, t.none_of_sequence());
  if (t.is_sequence()) {
    std::vector<Tensor> elements;
    for (const HostTensor& e : t.elements()) elements.push_back(to_runtime_tensor(e));
    return Tensor::sequence(dtype, std::move(elements));
  }
  // The runtime only reads inputs, so wrapping the caller's (possibly const) memory is safe.
  return Tensor::wrap(dtype, t.shape(), const_cast<void*>(t.raw()));
}

HostTensor to_host_tensor(const Tensor& t) {
  const auto type = static_cast<ElementType>(t.dtype());
  if (t.is_none()) return HostTensor::none(type, t.none_of_sequence());
  if (t.is_sequence()) {
    std::vector<HostTensor> elements;
    for (const Tensor& e : t.elements()) elements.push_back(to_host_tensor(e));
    return HostTensor::sequence(type, std::move(elements));
  }
  HostTensor out(static_cast<ElementType>(t.dtype()), t.shape());
  if (t.dtype() == DType::kString)
    std::copy_n(t.data<std::string>(), t.numel(), out.data<std::string>());
  else if (t.nbytes())
    std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

}  // namespace tandem
