// The signal ops (opset 17) beyond ONNX's backend cases, whose window data were made with pi = 3.1415:
// HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix, DFT and STFT against values numpy computed,
// written here as literals (each comment says how), the radix-2 FFT against the direct sum, and the errors.
#include <gtest/gtest.h>

#include <random>

#include "runtime_cpu/kernels/fourier.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;

Tensor window(const std::string& op, const Tensor& size, int64_t periodic, DType out = DType::kFloat32,
              int64_t datatype = -1) {
  SingleOp s(17, op);
  s.in(size).attr("periodic", periodic);
  if (datatype >= 0) s.attr("output_datatype", datatype);
  return s.out({out});
}

TEST(Windows, MatchNumpy) {
  // numpy.hanning(7)
  expect_near(window("HannWindow", i64({}, {7}), 0), {7}, {0.0, 0.25, 0.75, 1.0, 0.75, 0.25, 0.0}, 1e-6, 1e-7);
  // numpy.hanning(9)[:-1]: the periodic window of 8 is the symmetric one of 9 without its last element.
  expect_near(window("HannWindow", i32({}, {8}), 1), {8},
              {0.0, 0.14644660940672627, 0.5, 0.8535533905932738, 1.0, 0.8535533905932738, 0.5,
               0.14644660940672627},
              1e-6, 1e-7);
  // ONNX's Hamming has alpha = 25/46 (numpy's hamming has 0.54): 25/46 - 21/46 * numpy.cos(2 * numpy.pi *
  // numpy.arange(6) / 5) for the symmetric window of 6, the same over arange(5) for the periodic one of 5.
  expect_near(window("HammingWindow", i64({}, {6}), 0), {6},
              {0.08695652173913043, 0.4024052851766544, 0.9128121061276934, 0.9128121061276935,
               0.40240528517665447, 0.08695652173913043},
              1e-6, 1e-7);
  expect_near(window("HammingWindow", i64({}, {5}), 1), {5},
              {0.08695652173913043, 0.4024052851766544, 0.9128121061276934, 0.9128121061276935,
               0.40240528517665447},
              1e-6, 1e-7);
  // numpy.blackman(7) and numpy.blackman(9)[:-1], in float64 (output_datatype 11).
  expect_near(window("BlackmanWindow", i64({}, {7}), 0, DType::kFloat64, 11), {7},
              {-1.3877787807814457e-17, 0.1300000000000001, 0.6300000000000001, 0.9999999999999999,
               0.6300000000000001, 0.1300000000000001, -1.3877787807814457e-17},
              1e-14, 1e-15);
  expect_near(window("BlackmanWindow", i64({}, {8}), 1, DType::kFloat64, 11), {8},
              {-1.3877787807814457e-17, 0.06644660940672624, 0.34, 0.7735533905932739, 0.9999999999999999,
               0.7735533905932739, 0.34, 0.06644660940672624},
              1e-14, 1e-15);
}

TEST(Windows, EdgeSizesAndTypes) {
  // A symmetric window of one element is [1], as numpy.hanning(1) / hamming(1) / blackman(1) give.
  expect_near(window("HannWindow", i64({}, {1}), 0), {1}, {1.0});
  expect_near(window("BlackmanWindow", i64({}, {1}), 0), {1}, {1.0});
  expect_near(window("HammingWindow", i64({}, {1}), 1), {1}, {0.08695652173913043}, 1e-6, 1e-7);
  EXPECT_EQ(window("HannWindow", i64({}, {0}), 1).numel(), 0);
  // An integer output_datatype truncates as Cast does: 0.5 - 0.5 cos(pi n / 2) over n = 0..3 is 0, .5, 1, .5.
  const Tensor t = window("HannWindow", i64({}, {4}), 1, DType::kInt64, 7);
  expect_i64(t, {4}, {0, 0, 1, 0});
}

TEST(Windows, Errors) {
  expect_error(SingleOp(17, "HannWindow").in(i64({}, {-3})).run({DType::kFloat32}),
               "size must not be negative, got -3");
  expect_error(SingleOp(17, "HannWindow").in(i64({}, {4})).attr("periodic", int64_t{2}).run({DType::kFloat32}),
               "periodic must be 0 or 1");
  auto r = SingleOp(17, "HammingWindow").in(i64({2}, {4, 5})).run({DType::kFloat32});
  expect_error(r, "size must be a scalar");
  expect_error(r, "node 'n'");
}

Tensor f32_scalar(float v) { return f32({}, {v}); }

TEST(MelWeightMatrix, MatchesOnnxReference) {
  // ONNX's reference algorithm (onnx/reference/ops/op_mel_weight_matrix.py) transcribed into numpy for
  // num_mel_bins 4, dft_length 32, sample_rate 16000, edges 100 Hz and 7000 Hz: bin edges [0 0 2 3 6 9].
  Tensor y = SingleOp(17, "MelWeightMatrix")
                 .in(i64({}, {4}))
                 .in(i64({}, {32}))
                 .in(i64({}, {16000}))
                 .in(f32_scalar(100.0f))
                 .in(f32_scalar(7000.0f))
                 .out({DType::kFloat32});
  std::vector<double> want(17 * 4, 0.0);
  const std::vector<double> head = {1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0,
                                    0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.6666666666666666, 0.3333333333333333,
                                    0.0, 0.0, 0.3333333333333333, 0.6666666666666666, 0.0, 0.0, 0.0, 1.0,
                                    0.0, 0.0, 0.0, 0.6666666666666666, 0.0, 0.0, 0.0, 0.3333333333333333};
  std::copy(head.begin(), head.end(), want.begin());
  expect_near(y, {17, 4}, want, 1e-6, 1e-7);
}

// An upper edge far above the sample rate (found by the fuzzer): the edges in bins were converted to int64
// past its range (undefined behaviour) and the filters' loops walked every bin up to their edges, 6e11 here
// and 3.8e14 for an upper edge of 1e20 Hz, for hours. The loops now visit only the spectrum's 9 bins. Bin
// edges by ONNX's reference formula in double: [0, 601773116262, 4.9e20, 3.9e29]; filter 0 rises as
// j / 601773116262 over the spectrum, filter 1 starts beyond it.
TEST(MelWeightMatrix, UpperEdgeFarBeyondTheSpectrum) {
  Tensor y = SingleOp(17, "MelWeightMatrix")
                 .in(i64({}, {2}))
                 .in(i64({}, {16}))
                 .in(i64({}, {16}))
                 .in(f32_scalar(0.0f))
                 .in(f32_scalar(3e38f))
                 .out({DType::kFloat32});
  std::vector<double> want(9 * 2, 0.0);
  for (int j = 0; j < 9; ++j) want[static_cast<std::size_t>(2 * j)] = j / 601773116262.0;
  expect_near(y, {9, 2}, want, 1e-6, 0.0);
}

TEST(MelWeightMatrix, Errors) {
  auto run = [](int64_t bins, int64_t dft, int64_t rate) {
    return SingleOp(17, "MelWeightMatrix")
        .in(i64({}, {bins}))
        .in(i64({}, {dft}))
        .in(i64({}, {rate}))
        .in(f32_scalar(0.0f))
        .in(f32_scalar(4000.0f))
        .run({DType::kFloat32});
  };
  expect_error(run(-1, 16, 8000), "num_mel_bins must be in [0, 2^20], got -1");
  expect_error(run(4, 0, 8000), "dft_length must be in [1, 2^30], got 0");
  expect_error(run(4, 16, 0), "sample_rate must be positive, got 0");
}

// (i % 5) - 1.5 over [2, 6, 1]: a real signal, two in the batch.
Tensor real_signal() {
  F32 v(12);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 5) - 1.5f;
  return f32({2, 6, 1}, v);
}

// z = (arange(10) * 0.5 - 2) + 1j * (arange(10) % 3 - 1) as [1, 5, 2] complex, stored [1, 5, 2, 2].
Tensor complex_signal() {
  return f32({1, 5, 2, 2}, {-2, -1, -1.5, 0, -1, 1, -0.5, -1, 0, 0, 0.5, 1, 1, -1, 1.5, 0, 2, 1, 2.5, -1});
}

TEST(Dft, MatchesNumpy) {
  // numpy.fft.rfft(x, n=8, axis=1): zero-padded to 8, onesided.
  expect_near(SingleOp(17, "DFT").in(real_signal()).in(i64({}, {8})).attr("onesided", int64_t{1}).out(), {2, 5, 2},
              {1, 0, -4.35355339, -2.26776695, 0.5, 3.5, -3.64644661, -1.26776695, 2, 0,
               2, 0, -0.0606601718, -3.97487373, -3.5, 2.5, 2.06066017, -0.974873734, -3, 0},
              1e-5, 1e-5);
  // numpy.fft.fft(x, n=4, axis=1): truncated to 4, both sides.
  expect_near(SingleOp(17, "DFT").in(real_signal()).in(i32({}, {4})).out(), {2, 4, 2},
              {0, 0, -2, 2, -2, 0, -2, -2, 4, 0, -2, 2, -2, 0, -2, -2}, 1e-5, 1e-5);
  // numpy.fft.ifft(z, axis=1), the axis given as -3.
  expect_near(SingleOp(17, "DFT").in(complex_signal()).attr("axis", int64_t{-3}).attr("inverse", int64_t{1}).out(),
              {1, 5, 2, 2},
              {0, 0, 0.5, -0.2, -0.61755705, -0.602780764, -0.61755705, -0.973601157, -0.309788697, -0.747870045,
               -0.309788697, 0.222950349, -0.690211303, -0.422950349, -0.690211303, 0.547870045, -0.38244295,
               0.773601157, -0.38244295, 0.402780764},
              1e-5, 1e-6);
  // numpy.fft.fft(z, n=3, axis=2): a length-2 axis padded to 3 (not a power of two: the direct sum).
  expect_near(SingleOp(17, "DFT").in(complex_signal()).in(i64({}, {3})).attr("axis", int64_t{2}).out(), {1, 5, 3, 2},
              {-3.5, -1, -1.25, 0.299038106, -1.25, -2.29903811, -1.5, 0, -1.6160254, 1.9330127,
               0.116025404, 1.0669873, 0.5, 1, 0.616025404, -0.933012702, -1.1160254, -0.0669872981,
               2.5, -1, 0.25, -2.29903811, 0.25, 0.299038106, 4.5, 0, -0.116025404, -0.665063509,
               1.6160254, 3.66506351},
              1e-5, 1e-6);
}

TEST(Dft, Errors) {
  expect_error(SingleOp(17, "DFT").unranked(iota({2, 3, 3})).run(), "input must be [batch, ..., 1] (real)");
  expect_error(SingleOp(17, "DFT").in(real_signal()).in(i64({}, {0})).run(), "dft_length must be in [1, 2^30], got 0");
  auto r = SingleOp(17, "DFT").unranked(real_signal()).attr("axis", int64_t{2}).run();
  expect_error(r, "axis 2 is outside [-3, -2] and [0, 1]");
  expect_error(r, "node 'n'");
}

// s = sin(0.7 n) + 0.1 n, n in [0, 20), as float32 [1, 20, 1].
F32 sine_ramp() {
  return {0, 0.744217687, 1.18544973, 1.16320937, 0.73498815, 0.149216772, -0.271575772, -0.282452613,
          0.168733362, 0.9168139, 1.6569866, 2.08816823, 2.05459891, 1.61909836, 1.03352087, 0.62030424,
          0.620822271, 1.08186289, 1.83362305, 2.56956976};
}

TEST(Stft, MatchesNumpy) {
  // numpy.stack([numpy.fft.fft(s[4 f : 4 f + 6] * numpy.hanning(6)) for f in range(4)]): both sides.
  expect_near(SingleOp(17, "STFT")
                  .attr("onesided", int64_t{0})
                  .in(f32({1, 20, 1}, sine_ramp()))
                  .in(i64({}, {4}))
                  .in(f32({6}, {0, 0.345491503, 0.904508497, 0.904508497, 0.345491503, 0}))
                  .out(),
              {1, 4, 6, 2},
              {2.63543516, 0, -1.58666307, -0.931356698, 0.260481555, 0.486010258, 0.016927871, 0, 0.260481555,
               -0.486010258, -1.58666307, 0.931356698, -0.391274312, 0, 0.374930677, 0.218572176, -0.187584026,
               -0.307864811, 0.0165810103, 0, -0.187584026, 0.307864811, 0.374930677, -0.218572176, 4.41412225,
               0, -2.83469267, -0.957532598, 0.626087744, 0.408903058, 0.00308759932, 0, 0.626087744,
               -0.408903058, -2.83469267, 0.957532598, 2.26977241, 0, -0.856036707, -1.10827377, -0.293280522,
               0.139391001, 0.0288620466, 0, -0.293280522, -0.139391001, -0.856036707, 1.10827377},
              1e-5, 2e-6);
  // A complex signal s + 1j * cos(0.3 n), frames of 8 every 5 samples, no window, onesided:
  // numpy.stack([numpy.fft.fft(sc[5 f : 5 f + 8])[:5] for f in range(3)]).
  F32 complex_signal;
  const F32 re = sine_ramp();
  const F32 im = {1, 0.955336489, 0.825335615, 0.621609968, 0.362357754, 0.0707372017, -0.227202095,
                  -0.504846105, -0.737393716, -0.904072142, -0.989992497, -0.98747977, -0.896758416,
                  -0.725932304, -0.490260821, -0.210795799, 0.0874989834, 0.377977743, 0.634692876, 0.834712785};
  for (std::size_t i = 0; i < re.size(); ++i) {
    complex_signal.push_back(re[i]);
    complex_signal.push_back(im[i]);
  }
  expect_near(SingleOp(17, "STFT").in(f32({1, 20, 2}, complex_signal)).in(i64({}, {5})).skip().in(i64({}, {8})).out(),
              {1, 3, 5, 2},
              {3.42305332, 3.10332883, 1.13807223, -2.4333684, 0.73042402, 0.751546529, 0.23601323, 0.82271975,
               -0.125329106, 0.81765372, 6.48048939, -5.17700754, 0.336907449, 6.46932444, -0.322727408,
               1.49691238, -0.567977452, 0.874709939, -0.736996802, 0.525685908, 10.7753624, -3.83574288,
               -1.03251872, -3.11994397, -0.835234717, -0.678505109, -0.380111391, -0.715158247,
               -0.0435050756, -0.74328262},
              1e-5, 2e-6);
}

TEST(Stft, Errors) {
  const Tensor signal = f32({1, 20, 1}, sine_ramp());
  expect_error(SingleOp(17, "STFT").in(signal).in(i64({}, {0})).skip().in(i64({}, {8})).run(),
               "frame_step must be positive, got 0");
  expect_error(SingleOp(17, "STFT").in(signal).in(i64({}, {4})).skip().in(i64({}, {21})).run(),
               "frame_length must be in [1, signal length 20], got 21");
  expect_error(SingleOp(17, "STFT").in(signal).in(i64({}, {4})).in(iota({6})).in(i64({}, {8})).run(),
               "frame_length 8 differs from the window's length 6");
  auto r = SingleOp(17, "STFT").in(signal).in(i64({}, {4})).run();
  expect_error(r, "one of window and frame_length is required");
  expect_error(r, "node 'n'");
}

// The radix-2 FFT (power-of-two lengths) and Bluestein's algorithm (the others) against the direct O(n^2)
// sum on random data, both directions; and the transform of an impulse at 0, all ones, as an independent
// check of the direct sum itself.
TEST(Fourier, FastPathsMatchDirectSum) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 64, 100, 256, 400, 1000, 1024})
    for (bool inverse : {false, true}) {
      std::vector<cpu::Complex> in(static_cast<std::size_t>(n)), fast(in.size()), slow(in.size());
      for (auto& c : in) c = cpu::Complex(d(rng), d(rng));
      cpu::FourierPlan(n, inverse).run(in.data(), fast.data());
      cpu::dft_direct(in.data(), n, inverse, slow.data());
      double worst = 0;
      for (std::size_t k = 0; k < in.size(); ++k) worst = std::max(worst, std::abs(fast[k] - slow[k]));
      EXPECT_LT(worst, 1e-12 * static_cast<double>(n)) << "n " << n << (inverse ? " inverse" : "");
    }
  for (int64_t n : {6, 8}) {
    std::vector<cpu::Complex> impulse(static_cast<std::size_t>(n)), out(impulse.size());
    impulse[0] = 1.0;
    cpu::dft_direct(impulse.data(), n, false, out.data());
    for (const auto& c : out) EXPECT_NEAR(std::abs(c - cpu::Complex(1.0)), 0.0, 1e-15);
    cpu::FourierPlan(n, false).run(impulse.data(), out.data());
    for (const auto& c : out) EXPECT_NEAR(std::abs(c - cpu::Complex(1.0)), 0.0, 1e-15);
  }
}

}  // namespace
}  // namespace tandem
