// MelWeightMatrix (opset 17): [dft_length / 2 + 1, num_mel_bins] triangular filters that map a one-sided
// spectrum onto the mel scale, mel(f) = 2595 log10(1 + f / 700). num_mel_bins + 2 edges are spaced evenly
// in mel from lower_edge_hertz and mapped to spectrum bins floor((dft_length + 1) * f / sample_rate);
// filter i rises from edge i to 1 at edge i + 1 and falls to 0 at edge i + 2. Weights that would land outside
// the spectrum (edges beyond the Nyquist frequency or below 0 Hz) are left out. The mel step is
// (high - low) / (num_mel_bins + 2), so the last edge falls one step short of upper_edge_hertz: that is what
// ONNX's reference implementation (and its test data) and ONNX Runtime compute, so models exported against
// them get the filters they were built on.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/signal_common.h"

namespace tandem::cpu {
namespace {

class MelWeightMatrixKernel final : public Kernel {
 public:
  explicit MelWeightMatrixKernel(DType out) : out_(out) {}

  Status run(KernelContext& ctx) const override {
    const char* names[] = {"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"};
    for (std::size_t i = 0; i < 5; ++i)
      if (!ctx.input(i)) return ctx.error(std::string("input ") + names[i] + " is required");
    int64_t ints[3];
    for (std::size_t i = 0; i < 3; ++i) {
      auto v = read_scalar_int(*ctx.input(i), names[i]);
      if (!v) return ctx.error(v.status().message());
      ints[i] = *v;
    }
    const int64_t mel_bins = ints[0], dft_length = ints[1], sample_rate = ints[2];
    if (mel_bins < 0 || mel_bins > (int64_t{1} << 20))
      return ctx.error("num_mel_bins must be in [0, 2^20], got " + std::to_string(mel_bins));
    if (dft_length < 1 || dft_length > (int64_t{1} << 30))
      return ctx.error("dft_length must be in [1, 2^30], got " + std::to_string(dft_length));
    if (sample_rate < 1) return ctx.error("sample_rate must be positive, got " + std::to_string(sample_rate));
    double edges_hz[2];
    for (std::size_t i = 0; i < 2; ++i) {
      auto v = read_scalar_float(*ctx.input(3 + i), names[3 + i]);
      if (!v) return ctx.error(v.status().message());
      if (!std::isfinite(*v) || *v <= -700.0)
        return ctx.error(std::string(names[3 + i]) + " must be finite and above -700, got " + std::to_string(*v));
      edges_hz[i] = *v;
    }
    const int64_t spectrum_bins = dft_length / 2 + 1;
    if (spectrum_bins * mel_bins > (int64_t{1} << 32))
      return ctx.error("the output [" + std::to_string(spectrum_bins) + ", " + std::to_string(mel_bins) +
                       "] is too large");

    const double low_mel = 2595.0 * std::log10(1.0 + edges_hz[0] / 700.0);
    const double high_mel = 2595.0 * std::log10(1.0 + edges_hz[1] / 700.0);
    const double step = (high_mel - low_mel) / static_cast<double>(mel_bins + 2);
    // An upper_edge_hertz far above the sample rate puts edges beyond any int64 (1e20 Hz at dft_length 2^30)
    // or bins away: edges are clamped to +-2^52 bins, which moves no weight inside the spectrum by more than
    // 1e-15 of its value, and the loops below visit only the spectrum's bins (they walked every bin up to
    // the edge, for hours).
    constexpr double kEdgeLimit = double(int64_t{1} << 52);
    std::vector<int64_t> edge(static_cast<std::size_t>(mel_bins + 2));
    for (std::size_t i = 0; i < edge.size(); ++i) {
      const double hz = 700.0 * (std::pow(10.0, (static_cast<double>(i) * step + low_mel) / 2595.0) - 1.0);
      const double bin = std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
      edge[i] = static_cast<int64_t>(std::clamp(bin, -kEdgeLimit, kEdgeLimit));
    }
    std::vector<double> w(static_cast<std::size_t>(spectrum_bins * mel_bins), 0.0);
    auto set = [&](int64_t bin, int64_t filter, double v) {
      if (bin >= 0 && bin < spectrum_bins) w[static_cast<std::size_t>(bin * mel_bins + filter)] = v;
    };
    for (int64_t i = 0; i < mel_bins; ++i) {
      const int64_t lo = edge[static_cast<std::size_t>(i)], center = edge[static_cast<std::size_t>(i + 1)],
                    hi = edge[static_cast<std::size_t>(i + 2)];
      if (center == lo) {
        set(center, i, 1.0);
      } else {
        for (int64_t j = std::max<int64_t>(lo, 0); j <= std::min(center, spectrum_bins - 1); ++j)
          set(j, i, static_cast<double>(j - lo) / static_cast<double>(center - lo));
      }
      for (int64_t j = std::max<int64_t>(center, 0); j < std::min(hi, spectrum_bins); ++j)
        set(j, i, static_cast<double>(hi - j) / static_cast<double>(hi - center));
    }
    Tensor& y = ctx.allocate_output(0, out_, {spectrum_bins, mel_bins});
    store_doubles(w, y);
    return Status::ok();
  }

 private:
  DType out_;
};

Result<KernelPtr> make_mel_weight_matrix(const KernelInit& init) {
  auto out = read_output_datatype(init.node());
  if (!out) return init.error(out.status().message());
  return KernelPtr(new MelWeightMatrixKernel(*out));
}

}  // namespace

void register_mel_weight_matrix_kernels(KernelRegistry& r) { r.add("MelWeightMatrix", make_mel_weight_matrix); }

}  // namespace tandem::cpu
