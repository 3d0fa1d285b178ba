// Det: the determinant of each [M, M] matrix in the last two dimensions of a [*, M, M] input, by LU
// decomposition with partial pivoting in double (O(M^3), stable where cofactor expansion is neither), the
// product of U's diagonal with the sign of the row swaps. A zero pivot column means the matrix is
// singular: its determinant is exactly 0, and the elimination stops there rather than divide by zero.
// A 0 x 0 matrix has determinant 1 (the empty product), as numpy gives.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/elementwise_kernels.h"
#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {
namespace {

// Destroys a (row-major m x m). A NaN anywhere makes the determinant NaN (the pivot search, which compares
// magnitudes, would otherwise pass over it).
double lu_determinant(std::vector<double>& a, int64_t m) {
  for (double v : a)
    if (std::isnan(v)) return v;
  const auto at = [&](int64_t i, int64_t j) -> double& { return a[static_cast<std::size_t>(i * m + j)]; };
  double det = 1;
  for (int64_t k = 0; k < m; ++k) {
    int64_t p = k;
    for (int64_t i = k + 1; i < m; ++i)
      if (std::abs(at(i, k)) > std::abs(at(p, k))) p = i;
    const double pivot = at(p, k);
    if (pivot == 0) return 0.0;
    if (p != k) {
      for (int64_t j = k; j < m; ++j) std::swap(at(k, j), at(p, j));
      det = -det;
    }
    det *= pivot;
    for (int64_t i = k + 1; i < m; ++i) {
      const double f = at(i, k) / pivot;
      for (int64_t j = k + 1; j < m; ++j) at(i, j) -= f * at(k, j);
    }
  }
  return det;
}

class DetKernel final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    TANDEM_ASSIGN_OR_RETURN(const Tensor* x, ew::required_input(ctx, 0));
    const std::size_t r = x->rank();
    if (r < 2 || x->dim(r - 1) != x->dim(r - 2))
      return ctx.error("the input must be [*, M, M] (square matrices in the last two dimensions), got " +
                       x->describe());
    const int64_t m = x->dim(r - 1);
    const std::vector<int64_t> out_shape(x->shape().begin(), x->shape().end() - 2);
    const int64_t count = shape_numel(out_shape);
    const bool known = dispatch(x->dtype(), TypeList<float, double, Half, BFloat16>{}, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using Tr = ElementTraits<T>;
      const T* px = x->data<T>();
      T* y = ctx.allocate_output(0, x->dtype(), out_shape).data<T>();
      // No matrices: M may then be anything up to 2^40 (x [0, 2^40, 2^40]), and M * M would overflow.
      if (count == 0) return;
      std::vector<double> a(static_cast<std::size_t>(m * m));
      for (int64_t b = 0; b < count; ++b) {
        for (int64_t i = 0; i < m * m; ++i) a[static_cast<std::size_t>(i)] = static_cast<double>(Tr::load(px[b * m * m + i]));
        y[b] = Tr::store(static_cast<compute_t<T>>(lu_determinant(a, m)));
      }
    });
    return known ? Status::ok() : ew::unsupported(ctx, "input 0", *x, TypeList<float, double, Half, BFloat16>{});
  }
};

}  // namespace

void register_det_kernels(KernelRegistry& r) {
  r.add("Det", [](const KernelInit&) -> Result<KernelPtr> { return KernelPtr(new DetKernel()); });
}

}  // namespace tandem::cpu
