// tandem::HostTensor, and its conversions to and from the runtime's Tensor.
#include "session/host_tensor_bridge.h"

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

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

Tensor to_runtime_tensor(const HostTensor& t) {
  // The runtime only reads inputs, so wrapping the caller's (possibly const) memory is safe.
  return Tensor::wrap(static_cast<DType>(t.type()), t.shape(), const_cast<void*>(t.raw()));
}

HostTensor to_host_tensor(const Tensor& t) {
  HostTensor out(static_cast<ElementType>(t.dtype()), t.shape());
  if (t.nbytes()) std::memcpy(out.raw(), t.raw(), t.nbytes());
  return out;
}

}  // namespace tandem
