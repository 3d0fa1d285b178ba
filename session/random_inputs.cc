#include "session/random_inputs.h"

#include <random>
#include <string>

namespace tandem {
namespace {

template <typename T, typename Dist>
void fill(Tensor& t, std::mt19937_64& rng, Dist dist) {
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
}

}  // namespace

RandomInput random_input(const Value& v, uint64_t seed) {
  RandomInput r;
  std::vector<int64_t> shape;
  for (const Dim& d : v.shape.dims()) {
    if (!d.is_known()) r.defaulted_dims.push_back(d.to_string());
    shape.push_back(d.is_known() ? d.value : 1);
  }
  const DType dtype = v.dtype == DType::kUndefined ? DType::kFloat32 : v.dtype;
  r.tensor = Tensor::empty(dtype, shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int64_t> small(0, 9);
  switch (dtype) {
    case DType::kFloat32: fill<float>(r.tensor, rng, real); break;
    case DType::kFloat64: fill<double>(r.tensor, rng, real); break;
    case DType::kInt64: fill<int64_t>(r.tensor, rng, small); break;
    case DType::kInt32: fill<int32_t>(r.tensor, rng, small); break;
    case DType::kInt8: fill<int8_t>(r.tensor, rng, small); break;
    case DType::kUInt8: fill<uint8_t>(r.tensor, rng, small); break;
    case DType::kBool: fill<uint8_t>(r.tensor, rng, std::uniform_int_distribution<int>(0, 1)); break;
    case DType::kString: {  // numbers as words, so that a Cast of them reads them
      std::string* p = r.tensor.data<std::string>();
      for (int64_t i = 0; i < r.tensor.numel(); ++i) p[i] = std::to_string(small(rng));
      break;
    }
    default: r.tensor = Tensor::zeros(dtype, shape); break;
  }
  // A sequence input holds one such tensor; an optional one holds its value.
  if (v.form == ValueForm::kSequence || v.form == ValueForm::kOptionalSequence)
    r.tensor = Tensor::sequence(dtype, {r.tensor});
  return r;
}

}  // namespace tandem
