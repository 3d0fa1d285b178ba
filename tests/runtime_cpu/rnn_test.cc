// LSTM, GRU and RNN on the CPU. Expected values come from a double-precision reference written here straight
// from the ONNX equations (one batch row and one step at a time), on random weights and inputs with fixed
// seeds; plus ONNX's own test cases, PyTorch exports, and the errors the kernels must report. Each element
// type ONNX allows: float32; float64, which must match the reference as only a computation in double can
// (and PyTorch's double to ~1e-12); float16, computed in float32 and rounded once, so it must equal the
// float32 kernel's result on the same values, rounded to float16, bit for bit. Mixed types are refused, and
// CpuDevice::supports refuses exactly the nodes kernel creation refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "graph/float16.h"
#include "runtime/executor.h"
#include "runtime_cpu/cpu_device.h"
#include "session/capabilities.h"
#include "session/case_check.h"
#include "session/tensor_io.h"
#include "tests/support/model_builder.h"
#include "tests/support/op_runner.h"
#include "tests/support/rnn_kernel_choice.h"

namespace tandem {
namespace {

using namespace tandem::test;
using onnx::TensorProto;

// Agreement with the double reference by element type: float32's rounding; float64 at a level no float
// computation reaches (its error here is around 1e-7); float16's rounding of the output (2^-11 relative).
struct Tol {
  double rtol, atol;
};
Tol tolerance_for(DType t) {
  if (t == DType::kFloat64) return {1e-12, 1e-13};
  if (t == DType::kFloat16) return {2e-3, 1e-3};
  if (t == DType::kBFloat16) return {1.6e-2, 8e-3};  // 8 significant bits, rounded once
  return {1e-4, 1e-5};
}
constexpr DType kF32 = DType::kFloat32, kF64 = DType::kFloat64, kF16 = DType::kFloat16, kBF16 = DType::kBFloat16;

int32_t onnx_type(DType t) {
  return t == kF64    ? TensorProto::DOUBLE
         : t == kF16  ? TensorProto::FLOAT16
         : t == kBF16 ? TensorProto::BFLOAT16
                      : TensorProto::FLOAT;
}
bool is_16bit(DType t) { return t == kF16 || t == kBF16; }
uint16_t to_half(double v) { return round_to_narrow_float<5, 10>(v); }
// v rounded to float16 or bfloat16 (t), as bits; and back, exactly.
uint16_t to_16bit(DType t, double v) { return t == kF16 ? to_half(v) : round_to_narrow_float<8, 7>(v); }
float from_16bit(DType t, uint16_t bits) { return t == kF16 ? half_to_float(bits) : bfloat16_to_float(bits); }

enum class Op { kRnn, kGru, kLstm };
const char* op_name(Op op) { return op == Op::kRnn ? "RNN" : op == Op::kGru ? "GRU" : "LSTM"; }
int64_t gates(Op op) { return op == Op::kRnn ? 1 : op == Op::kGru ? 3 : 4; }
std::size_t acts_per_dir(Op op) { return op == Op::kRnn ? 1 : op == Op::kGru ? 2 : 3; }

// ---------------------------------------------------------------------------------------------------------
// Activations as the spec's table defines them; nullopt alpha/beta means the ONNX operator's default.

struct Act {
  Act(std::string n, std::optional<double> a = std::nullopt, std::optional<double> b = std::nullopt)
      : name(std::move(n)), alpha(a), beta(b) {}
  Act(const char* n, std::optional<double> a = std::nullopt, std::optional<double> b = std::nullopt)
      : Act(std::string(n), a, b) {}
  std::string name;
  std::optional<double> alpha, beta;
};

bool takes_alpha(const std::string& n) {
  return n == "Affine" || n == "LeakyRelu" || n == "ThresholdedRelu" || n == "ScaledTanh" ||
         n == "HardSigmoid" || n == "Elu";
}
bool takes_beta(const std::string& n) { return n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid"; }

double default_alpha(const std::string& n) {
  if (n == "LeakyRelu") return 0.01;
  if (n == "HardSigmoid") return 0.2;
  if (n == "ThresholdedRelu" || n == "Elu") return 1.0;
  ADD_FAILURE() << n << " has no default alpha in the spec; the test must give one";
  return 0.0;
}
double default_beta(const std::string& n) {
  if (n == "HardSigmoid") return 0.5;
  ADD_FAILURE() << n << " has no default beta in the spec; the test must give one";
  return 0.0;
}

// alpha and beta as the model holds them: float attributes (float64 cases compare at 1e-10).
double ref_act(const Act& a, double x) {
  const double al = static_cast<float>(!takes_alpha(a.name) ? 0.0
                                       : a.alpha            ? *a.alpha
                                                            : default_alpha(a.name));
  const double be = static_cast<float>(!takes_beta(a.name) ? 0.0 : a.beta ? *a.beta : default_beta(a.name));
  if (a.name == "Sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (a.name == "Tanh") return std::tanh(x);
  if (a.name == "Relu") return std::max(0.0, x);
  if (a.name == "Affine") return al * x + be;
  if (a.name == "LeakyRelu") return x >= 0 ? x : al * x;
  if (a.name == "ThresholdedRelu") return x >= al ? x : 0.0;
  if (a.name == "ScaledTanh") return al * std::tanh(be * x);
  if (a.name == "HardSigmoid") return std::min(std::max(al * x + be, 0.0), 1.0);
  if (a.name == "Elu") return x >= 0 ? x : al * (std::exp(x) - 1.0);
  if (a.name == "Softsign") return x / (1.0 + std::abs(x));
  if (a.name == "Softplus") return std::log(1.0 + std::exp(x));
  ADD_FAILURE() << "unknown activation " << a.name;
  return 0.0;
}

std::vector<Act> default_acts(Op op) {
  if (op == Op::kRnn) return {{"Tanh"}};
  if (op == Op::kGru) return {{"Sigmoid"}, {"Tanh"}};
  return {{"Sigmoid"}, {"Tanh"}, {"Tanh"}};
}

// Non-default activation sets, two directions' worth each (a single direction uses the first half, or the
// second half for reverse). Set 0 means "no attribute".
std::vector<Act> act_profile(Op op, int profile) {
  if (op == Op::kLstm) {
    if (profile == 1)
      return {{"HardSigmoid", 0.3, 0.45},
              {"ScaledTanh", 1.3, 0.7},
              {"LeakyRelu", 0.05},
              {"Sigmoid"},
              {"Softsign"},
              {"Elu", 0.7}};
    return {{"HardSigmoid"}, {"Tanh"}, {"LeakyRelu"}, {"Sigmoid"}, {"Elu"}, {"Softplus"}};
  }
  if (op == Op::kGru) {
    if (profile == 1) return {{"HardSigmoid", 0.25, 0.55}, {"Softplus"}, {"Sigmoid"}, {"Affine", 0.8, 0.1}};
    return {{"HardSigmoid"}, {"Relu"}, {"Sigmoid"}, {"Elu"}};
  }
  if (profile == 1) return {{"LeakyRelu", 0.1}, {"ScaledTanh", 0.9, 1.2}};
  if (profile == 2) return {{"Relu"}, {"HardSigmoid"}};
  if (profile == 3) return {{"Softsign"}, {"Elu", 0.5}};
  return {{"ThresholdedRelu", 0.05}, {"Affine", 0.6, -0.1}};
}
int num_profiles(Op op) { return op == Op::kRnn ? 5 : 3; }

// ---------------------------------------------------------------------------------------------------------
// A case, its data, and the reference

enum class Lens { kNone, kFull, kMixed };
enum class Outs { kAll, kYOnly, kYhOnly, kYcOnly };

struct Case {
  Op op = Op::kLstm;
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t seq = 7, batch = 3, input = 4, hidden = 5;
  Lens lens = Lens::kNone;
  bool init_h = false, init_c = false, bias = true, peep = false;
  std::optional<float> clip;
  int profile = 0;  // activations: 0 = attribute absent
  // When set: the activations exactly as given, with the alpha/beta lists written as given.
  std::vector<Act> custom_acts;
  std::vector<float> raw_alpha, raw_beta;
  bool lowercase_names = false;  // writes custom_acts' names in lower case
  bool input_forget = false, lbr = false;
  Outs outs = Outs::kAll;
  bool const_weights = false;  // W, R, B, P as initializers (else graph inputs: computed at run time)
  bool hidden_attr = true;
  int64_t opset = 14;
  uint32_t seed = 1;
  DType type = kF32;                           // T: the element type of every input and output
  std::map<std::string, DType> input_types;  // but these graph inputs or initializers (mixed-type tests)

  DType type_of(const std::string& name) const {
    auto it = input_types.find(name);
    return it == input_types.end() ? type : it->second;
  }
  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  bool wants_y() const { return outs == Outs::kAll || outs == Outs::kYOnly; }
  bool wants_yh() const { return outs == Outs::kAll || outs == Outs::kYhOnly; }
  bool wants_yc() const { return op == Op::kLstm && (outs == Outs::kAll || outs == Outs::kYcOnly); }

  // The activations per direction in attribute order.
  std::vector<Act> acts() const {
    if (!custom_acts.empty()) return custom_acts;
    if (profile == 0) {
      std::vector<Act> out;
      for (int64_t d = 0; d < dirs(); ++d)
        for (const Act& a : default_acts(op)) out.push_back(a);
      return out;
    }
    std::vector<Act> all = act_profile(op, profile);
    const auto per = static_cast<std::ptrdiff_t>(acts_per_dir(op));
    if (dirs() == 2) return all;
    if (direction == "reverse") return std::vector<Act>(all.begin() + per, all.end());
    return std::vector<Act>(all.begin(), all.begin() + per);
  }

  std::string describe() const {
    std::ostringstream s;
    s << op_name(op) << " " << direction << " layout=" << layout << " seq=" << seq << " batch=" << batch
      << " input=" << input << " hidden=" << hidden << " lens=" << static_cast<int>(lens)
      << " init_h=" << init_h << " init_c=" << init_c << " bias=" << bias << " peep=" << peep
      << " clip=" << (clip ? *clip : 0.0f) << " acts=" << profile << " input_forget=" << input_forget
      << " lbr=" << lbr << " outs=" << static_cast<int>(outs) << " const=" << const_weights
      << " hidden_attr=" << hidden_attr << " opset=" << opset << " custom_acts=" << custom_acts.size()
      << " seed=" << seed << " type=" << dtype_name(type);
    return s.str();
  }
};

// Values exact in the case's type: floats (float16 ones for float16), or doubles of full precision for
// float64, so that a computation in float would be off by far more than float64's tolerance.
struct Data {
  std::vector<double> x, w, r, b, p, h0, c0;
  std::vector<int32_t> lens;  // empty: no sequence_lens input
};

Data make_data(const Case& c) {
  std::mt19937 rng(c.seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::uniform_real_distribution<double> u64(-0.5, 0.5);
  auto draw = [&]() -> double {
    if (c.type == kF64) return u64(rng);
    const float f = u(rng);
    return is_16bit(c.type) ? from_16bit(c.type, to_16bit(c.type, f)) : f;
  };
  auto fill = [&](std::size_t n) {
    std::vector<double> v(n);
    for (double& e : v) e = draw();
    return v;
  };
  const int64_t gh = gates(c.op) * c.hidden, d = c.dirs();
  const auto state = static_cast<std::size_t>(d * c.batch * c.hidden);
  Data out;
  out.x = fill(static_cast<std::size_t>(c.seq * c.batch * c.input));
  out.w = fill(static_cast<std::size_t>(d * gh * c.input));
  out.r = fill(static_cast<std::size_t>(d * gh * c.hidden));
  if (c.bias) out.b = fill(static_cast<std::size_t>(d * 2 * gh));
  if (c.peep) out.p = fill(static_cast<std::size_t>(d * 3 * c.hidden));
  if (c.init_h) out.h0 = fill(state);
  if (c.init_c) out.c0 = fill(state);
  if (c.lens == Lens::kFull) out.lens.assign(static_cast<std::size_t>(c.batch), static_cast<int32_t>(c.seq));
  if (c.lens == Lens::kMixed) {
    for (int64_t b = 0; b < c.batch; ++b) {
      const int64_t len = c.batch == 1 ? c.seq - 1
                          : b % 3 == 0 ? c.seq - 1
                          : b % 3 == 1 ? 0
                                       : (c.seq + 1) / 2;
      out.lens.push_back(static_cast<int32_t>(std::max<int64_t>(len, 0)));
    }
  }
  return out;
}

struct Expected {
  std::vector<double> y, yh, yc;
};

// The ONNX equations, one batch row and one direction at a time.
Expected reference(const Case& c, const Data& d) {
  const int64_t T = c.seq, B = c.batch, I = c.input, H = c.hidden, D = c.dirs(), G = gates(c.op), GH = G * H;
  const std::vector<Act> acts = c.acts();
  const std::size_t per = acts_per_dir(c.op);
  auto xat = [&](int64_t t, int64_t b, int64_t k) {
    return double(d.x[static_cast<std::size_t>((c.layout == 0 ? t * B + b : b * T + t) * I + k)]);
  };
  auto state_at = [&](int64_t dir, int64_t b, int64_t j) {
    return static_cast<std::size_t>((c.layout == 0 ? dir * B + b : b * D + dir) * H + j);
  };
  auto y_at = [&](int64_t t, int64_t dir, int64_t b, int64_t j) {
    return static_cast<std::size_t>((c.layout == 0 ? (t * D + dir) * B + b : (b * T + t) * D + dir) * H + j);
  };
  auto clip = [&](double v) { return c.clip ? std::min(std::max(v, -double(*c.clip)), double(*c.clip)) : v; };

  Expected e;
  e.y.assign(static_cast<std::size_t>(T * D * B * H), 0.0);
  e.yh.assign(static_cast<std::size_t>(D * B * H), 0.0);
  e.yc = e.yh;
  for (int64_t dir = 0; dir < D; ++dir) {
    const bool rev = c.direction == "reverse" || dir == 1;
    const Act& f = acts[static_cast<std::size_t>(dir) * per];
    const Act& g = acts[std::min(static_cast<std::size_t>(dir) * per + 1, acts.size() - 1)];
    const Act& hact = acts[std::min(static_cast<std::size_t>(dir) * per + 2, acts.size() - 1)];
    // Xt·W[row]ᵀ + Wb[row] and v·R[row]ᵀ + Rb[row] for one gate row.
    auto xpart = [&](int64_t t, int64_t b, int64_t row) {
      double s = c.bias ? double(d.b[static_cast<std::size_t>(dir * 2 * GH + row)]) : 0.0;
      for (int64_t k = 0; k < I; ++k)
        s += xat(t, b, k) * double(d.w[static_cast<std::size_t>((dir * GH + row) * I + k)]);
      return s;
    };
    auto rpart = [&](const std::vector<double>& v, int64_t row) {
      double s = c.bias ? double(d.b[static_cast<std::size_t>(dir * 2 * GH + GH + row)]) : 0.0;
      for (int64_t k = 0; k < H; ++k)
        s += v[static_cast<std::size_t>(k)] * double(d.r[static_cast<std::size_t>((dir * GH + row) * H + k)]);
      return s;
    };
    auto peep = [&](int64_t gate, int64_t j) {
      return c.peep ? double(d.p[static_cast<std::size_t>(dir * 3 * H + gate * H + j)]) : 0.0;
    };
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(static_cast<std::size_t>(H), 0.0), cs(static_cast<std::size_t>(H), 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (c.init_h) h[static_cast<std::size_t>(j)] = d.h0[state_at(dir, b, j)];
        if (c.init_c) cs[static_cast<std::size_t>(j)] = d.c0[state_at(dir, b, j)];
      }
      const int64_t len = d.lens.empty() ? T : d.lens[static_cast<std::size_t>(b)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = rev ? len - 1 - step : step;
        std::vector<double> hn(static_cast<std::size_t>(H)), cn = cs;
        if (c.op == Op::kRnn) {
          for (int64_t j = 0; j < H; ++j)
            hn[static_cast<std::size_t>(j)] = ref_act(f, clip(xpart(t, b, j) + rpart(h, j)));
        } else if (c.op == Op::kGru) {
          std::vector<double> z(static_cast<std::size_t>(H)), r(static_cast<std::size_t>(H)),
              rh(static_cast<std::size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            z[jj] = ref_act(f, clip(xpart(t, b, j) + rpart(h, j)));
            r[jj] = ref_act(f, clip(xpart(t, b, H + j) + rpart(h, H + j)));
            rh[jj] = r[jj] * h[jj];
          }
          for (int64_t j = 0; j < H; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            const double pre = c.lbr ? xpart(t, b, 2 * H + j) + r[jj] * rpart(h, 2 * H + j)
                                     : xpart(t, b, 2 * H + j) + rpart(rh, 2 * H + j);
            const double ht = ref_act(g, clip(pre));
            hn[jj] = (1.0 - z[jj]) * ht + z[jj] * h[jj];
          }
        } else {  // LSTM, gates i, o, f, c
          for (int64_t j = 0; j < H; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            const double it = ref_act(f, clip(xpart(t, b, j) + rpart(h, j) + peep(0, j) * cs[jj]));
            const double ft =
                c.input_forget
                    ? 1.0 - it
                    : ref_act(f, clip(xpart(t, b, 2 * H + j) + rpart(h, 2 * H + j) + peep(2, j) * cs[jj]));
            const double ct = ref_act(g, clip(xpart(t, b, 3 * H + j) + rpart(h, 3 * H + j)));
            cn[jj] = ft * cs[jj] + it * ct;
            const double ot = ref_act(f, clip(xpart(t, b, H + j) + rpart(h, H + j) + peep(1, j) * cn[jj]));
            hn[jj] = ot * ref_act(hact, cn[jj]);
          }
        }
        h = hn;
        cs = cn;
        for (int64_t j = 0; j < H; ++j) e.y[y_at(t, dir, b, j)] = h[static_cast<std::size_t>(j)];
      }
      for (int64_t j = 0; j < H; ++j) {
        e.yh[state_at(dir, b, j)] = h[static_cast<std::size_t>(j)];
        e.yc[state_at(dir, b, j)] = cs[static_cast<std::size_t>(j)];
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// The model

void set_strings(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const auto& s : v) a->add_strings(s);
}
void set_floats(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float f : v) a->add_floats(f);
}

struct Built {
  onnx::ModelProto model;
  std::vector<Tensor> feeds;
  onnx::NodeProto* node = nullptr;
};

// `v` as a tensor of float type t (each value exact in t, as make_data draws them).
Tensor typed_tensor(DType t, const std::vector<int64_t>& dims, const std::vector<double>& v) {
  Tensor out = Tensor::empty(t, dims);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (t == kF64) out.data<double>()[i] = v[i];
    else if (is_16bit(t)) out.data<uint16_t>()[i] = to_16bit(t, v[i]);
    else out.data<float>()[i] = static_cast<float>(v[i]);
  }
  return out;
}

void add_typed_initializer(onnx::GraphProto& g, const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<double>& v, DType t) {
  if (t == kF32) {
    add_float_initializer(g, name, dims, std::vector<float>(v.begin(), v.end()));
    return;
  }
  const Tensor data = typed_tensor(t, dims, v);
  auto* tp = g.add_initializer();
  tp->set_name(name);
  tp->set_data_type(onnx_type(t));
  for (int64_t d : dims) tp->add_dims(d);
  tp->set_raw_data(std::string(static_cast<const char*>(data.raw()), data.nbytes()));
}

Built build(const Case& c, const Data& d) {
  Built out;
  out.model = make_model(c.type == kBF16 ? std::max<int64_t>(c.opset, 22) : c.opset);  // bfloat16 from 22
  auto& g = *out.model.mutable_graph();
  const int64_t D = c.dirs(), GH = gates(c.op) * c.hidden;
  auto feed = [&](const std::string& name, std::vector<int64_t> dims, const std::vector<double>& v,
                  bool weight) {
    const DType t = c.type_of(name);
    if (weight && c.const_weights) {
      add_typed_initializer(g, name, dims, v, t);
      return;
    }
    std::vector<DimSpec> ds(dims.begin(), dims.end());
    add_input(g, name, onnx_type(t), ds);
    out.feeds.push_back(typed_tensor(t, dims, v));
  };
  const std::vector<int64_t> state =
      c.layout == 0 ? std::vector<int64_t>{D, c.batch, c.hidden} : std::vector<int64_t>{c.batch, D, c.hidden};
  feed("X",
       c.layout == 0 ? std::vector<int64_t>{c.seq, c.batch, c.input}
                     : std::vector<int64_t>{c.batch, c.seq, c.input},
       d.x, false);
  feed("W", {D, GH, c.input}, d.w, true);
  feed("R", {D, GH, c.hidden}, d.r, true);
  std::vector<std::string> ins = {"X", "W", "R", "", "", "", "", ""};
  if (c.bias) feed("B", {D, 2 * GH}, d.b, true), ins[3] = "B";
  if (!d.lens.empty()) {
    add_input(g, "lens", TensorProto::INT32, {c.batch});
    out.feeds.push_back(make_tensor<int32_t>({c.batch}, d.lens));
    ins[4] = "lens";
  }
  if (c.init_h) feed("h0", state, d.h0, false), ins[5] = "h0";
  if (c.init_c) feed("c0", state, d.c0, false), ins[6] = "c0";
  if (c.peep) feed("P", {D, 3 * c.hidden}, d.p, true), ins[7] = "P";
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  std::vector<std::string> outs = {c.wants_y() ? "Y" : "", c.wants_yh() ? "Y_h" : "",
                                   c.wants_yc() ? "Y_c" : ""};
  if (c.op != Op::kLstm) outs.pop_back();
  while (!outs.empty() && outs.back().empty()) outs.pop_back();
  auto* n = add_node(g, op_name(c.op), ins, outs, "cell");
  if (c.hidden_attr) set_int(n, "hidden_size", c.hidden);
  if (c.direction != "forward") set_string(n, "direction", c.direction);
  if (c.layout != 0) set_int(n, "layout", c.layout);
  if (c.clip) set_float(n, "clip", *c.clip);
  if (c.input_forget) set_int(n, "input_forget", 1);
  if (c.lbr) set_int(n, "linear_before_reset", 1);
  if (!c.custom_acts.empty()) {
    std::vector<std::string> names;
    for (const Act& a : c.custom_acts) {
      names.push_back(a.name);
      if (c.lowercase_names)
        for (char& ch : names.back()) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    set_strings(n, "activations", names);
    if (!c.raw_alpha.empty()) set_floats(n, "activation_alpha", c.raw_alpha);
    if (!c.raw_beta.empty()) set_floats(n, "activation_beta", c.raw_beta);
  } else if (c.profile != 0) {
    std::vector<std::string> names;
    std::vector<float> alphas, betas;
    bool alpha_defaulted = false, beta_defaulted = false;
    for (const Act& a : c.acts()) {
      names.push_back(a.name);
      // Values are consumed in order by the functions that take them, so a default can only come last.
      if (takes_alpha(a.name)) {
        if (a.alpha) {
          EXPECT_FALSE(alpha_defaulted) << "test bug: explicit alpha after a defaulted one";
          alphas.push_back(static_cast<float>(*a.alpha));
        } else {
          alpha_defaulted = true;
        }
      }
      if (takes_beta(a.name)) {
        if (a.beta) {
          EXPECT_FALSE(beta_defaulted) << "test bug: explicit beta after a defaulted one";
          betas.push_back(static_cast<float>(*a.beta));
        } else {
          beta_defaulted = true;
        }
      }
    }
    set_strings(n, "activations", names);
    if (!alphas.empty()) set_floats(n, "activation_alpha", alphas);
    if (!betas.empty()) set_floats(n, "activation_beta", betas);
  }
  for (const auto& o : outs)
    if (!o.empty()) add_output(g, o, onnx_type(c.type));
  out.node = n;
  return out;
}

::testing::AssertionResult close_to(const Tensor& got, const std::vector<int64_t>& shape,
                                    const std::vector<double>& want, const std::string& what,
                                    DType type = kF32) {
  if (got.dtype() != type || got.shape() != shape)
    return ::testing::AssertionFailure() << what << ": got " << got.describe() << ", expected "
                                         << dtype_name(type) << " " << shape_string(shape);
  const Tol tol = tolerance_for(type);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double v = element_as_double(got, static_cast<int64_t>(i));
    const double diff = std::abs(v - want[i]);
    if (!(diff <= tol.atol + tol.rtol * std::abs(want[i])))
      return ::testing::AssertionFailure() << std::setprecision(17) << what << "[" << i << "] = " << v
                                           << ", expected " << want[i] << " (diff " << diff << ")";
  }
  return ::testing::AssertionSuccess();
}

// Runs the case and compares every output it asks for; returns false on a mismatch.
bool check_case(const Case& c) {
  SCOPED_TRACE(c.describe());
  const Data d = make_data(c);
  Built b = build(c, d);
  auto r = run_on_cpu(b.model, b.feeds);
  if (!r) {
    ADD_FAILURE() << "run failed: " << r.status().message();
    return false;
  }
  const Expected e = reference(c, d);
  const int64_t D = c.dirs();
  const std::vector<int64_t> yshape = c.layout == 0 ? std::vector<int64_t>{c.seq, D, c.batch, c.hidden}
                                                    : std::vector<int64_t>{c.batch, c.seq, D, c.hidden};
  const std::vector<int64_t> sshape =
      c.layout == 0 ? std::vector<int64_t>{D, c.batch, c.hidden} : std::vector<int64_t>{c.batch, D, c.hidden};
  std::size_t k = 0;
  bool ok = true;
  const std::size_t expected_outputs = std::size_t(c.wants_y()) + c.wants_yh() + c.wants_yc();
  if (r->size() != expected_outputs) {
    ADD_FAILURE() << "got " << r->size() << " outputs, expected " << expected_outputs;
    return false;
  }
  auto expect = [&](const std::vector<int64_t>& shape, const std::vector<double>& want, const char* what) {
    auto res = close_to((*r)[k++], shape, want, what, c.type);
    EXPECT_TRUE(res);
    ok = ok && res;
  };
  if (c.wants_y()) expect(yshape, e.y, "Y");
  if (c.wants_yh()) expect(sshape, e.yh, "Y_h");
  if (c.wants_yc()) expect(sshape, e.yc, "Y_c");
  return ok;
}

// Stops a long sweep after a few failures, so one bug does not print hundreds of cases.
struct Sweep {
  int failures = 0, cases = 0;
  void run(const Case& c) {
    if (failures >= 5) return;
    ++cases;
    if (!check_case(c)) ++failures;
  }
};

const char* const kDirections[] = {"forward", "reverse", "bidirectional"};

// ---------------------------------------------------------------------------------------------------------
// Sweeps

// Every op x direction x layout x sequence_lens x hidden {3,5,13} x batch {1,3} x seq {1,7}; the other
// features drawn per case from a seeded generator, so each combination meets many of them.
void shapes_directions_layouts_and_lengths(DType type) {
  Sweep sweep;
  std::mt19937 pick(2024);
  uint32_t seed = 100;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (const char* dir : kDirections)
      for (int64_t layout : {0, 1})
        for (Lens lens : {Lens::kNone, Lens::kFull, Lens::kMixed})
          for (int64_t hidden : {3, 5, 13})
            for (int64_t batch : {1, 3})
              for (int64_t seq : {1, 7}) {
                Case c;
                c.op = op, c.direction = dir, c.layout = layout, c.lens = lens, c.hidden = hidden;
                c.batch = batch, c.seq = seq, c.input = hidden == 13 ? 6 : 3, c.seed = seed++;
                auto coin = [&] { return (pick() & 1) != 0; };
                c.init_h = coin();
                c.init_c = op == Op::kLstm && coin();
                c.bias = coin();
                c.peep = op == Op::kLstm && coin();
                if (coin()) c.clip = 0.4f;
                c.profile = static_cast<int>(pick() % static_cast<uint32_t>(num_profiles(op)));
                c.input_forget = op == Op::kLstm && coin();
                c.lbr = op == Op::kGru && coin();
                c.outs = static_cast<Outs>(pick() % (op == Op::kLstm ? 4 : 3));
                c.const_weights = coin();
                c.type = type;
                sweep.run(c);
              }
  EXPECT_EQ(sweep.cases, 648);
}

// For each op, the full product of its features at one shape with mixed lengths (0 included).
void lstm_feature_product(DType type) {
  Sweep sweep;
  uint32_t seed = 5000;
  for (const char* dir : kDirections)
    for (int64_t layout : {0, 1})
      for (bool init : {false, true})
        for (bool peep : {false, true})
          for (bool clip : {false, true})
            for (int profile : {0, 1, 2})
              for (bool input_forget : {false, true})
                for (bool bias : {false, true}) {
                  Case c;
                  c.op = Op::kLstm, c.direction = dir, c.layout = layout, c.lens = Lens::kMixed;
                  c.init_h = c.init_c = init, c.peep = peep, c.profile = profile,
                  c.input_forget = input_forget;
                  c.bias = bias, c.seed = seed++;
                  if (clip) c.clip = 0.3f;
                  c.const_weights = seed % 2 == 0;
                  c.type = type;
                  sweep.run(c);
                }
}

void gru_feature_product(DType type) {
  Sweep sweep;
  uint32_t seed = 7000;
  for (const char* dir : kDirections)
    for (int64_t layout : {0, 1})
      for (bool init : {false, true})
        for (bool clip : {false, true})
          for (int profile : {0, 1, 2})
            for (bool lbr : {false, true})
              for (bool bias : {false, true}) {
                Case c;
                c.op = Op::kGru, c.direction = dir, c.layout = layout, c.lens = Lens::kMixed, c.hidden = 13;
                c.init_h = init, c.profile = profile, c.lbr = lbr, c.bias = bias, c.seed = seed++;
                if (clip) c.clip = 0.3f;
                c.const_weights = seed % 2 == 0;
                c.type = type;
                sweep.run(c);
              }
}

void rnn_feature_product(DType type) {
  Sweep sweep;
  uint32_t seed = 9000;
  for (const char* dir : kDirections)
    for (int64_t layout : {0, 1})
      for (bool init : {false, true})
        for (bool clip : {false, true})
          for (int profile = 0; profile < num_profiles(Op::kRnn); ++profile)
            for (bool bias : {false, true}) {
              Case c;
              c.op = Op::kRnn, c.direction = dir, c.layout = layout, c.lens = Lens::kMixed, c.hidden = 3;
              c.init_h = init, c.profile = profile, c.bias = bias, c.seed = seed++;
              if (clip) c.clip = 0.3f;
              c.const_weights = seed % 2 == 0;
              c.type = type;
              sweep.run(c);
            }
}

// Each output alone (the others omitted from the node), for each op and direction.
void omitted_outputs(DType type) {
  Sweep sweep;
  uint32_t seed = 11000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (const char* dir : kDirections)
      for (Outs outs : {Outs::kYOnly, Outs::kYhOnly, Outs::kYcOnly}) {
        if (outs == Outs::kYcOnly && op != Op::kLstm) continue;
        Case c;
        c.op = op, c.direction = dir, c.outs = outs, c.lens = Lens::kMixed, c.init_h = true;
        c.init_c = op == Op::kLstm, c.seed = seed++, c.type = type;
        sweep.run(c);
      }
}

// Opset 7 (no layout attribute), hidden_size left to the weights' shape, larger sizes.
void opset7_and_inferred_hidden_size(DType type) {
  Sweep sweep;
  uint32_t seed = 12000;
  for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
    for (const char* dir : kDirections)
      for (bool const_weights : {false, true}) {
        Case c;
        c.op = op, c.direction = dir, c.opset = 7, c.lens = Lens::kMixed, c.init_h = true, c.seed = seed++;
        c.const_weights = const_weights, c.type = type;
        sweep.run(c);
        c.opset = 14, c.hidden_attr = false, c.seed = seed++;
        sweep.run(c);
        c.hidden_attr = true, c.seq = 12, c.batch = 9, c.input = 33, c.hidden = 37, c.seed = seed++;
        c.layout = 1;
        sweep.run(c);
      }
}

TEST(RnnFamily, ShapesDirectionsLayoutsAndLengthsMatchReference) {
  shapes_directions_layouts_and_lengths(kF32);
}
TEST(RnnFamily, LstmFeatureProduct) { lstm_feature_product(kF32); }
TEST(RnnFamily, GruFeatureProduct) { gru_feature_product(kF32); }
TEST(RnnFamily, RnnFeatureProduct) { rnn_feature_product(kF32); }
TEST(RnnFamily, OmittedOutputs) { omitted_outputs(kF32); }
TEST(RnnFamily, Opset7AndInferredHiddenSize) { opset7_and_inferred_hidden_size(kF32); }

// float64: the same sweeps against the reference at float64's tolerance, on values of full double
// precision: every attribute on the double path.
TEST(RnnFloat64, ShapesDirectionsLayoutsAndLengthsMatchReference) {
  shapes_directions_layouts_and_lengths(kF64);
}
TEST(RnnFloat64, LstmFeatureProduct) { lstm_feature_product(kF64); }
TEST(RnnFloat64, GruFeatureProduct) { gru_feature_product(kF64); }
TEST(RnnFloat64, RnnFeatureProduct) { rnn_feature_product(kF64); }
TEST(RnnFloat64, OmittedOutputs) { omitted_outputs(kF64); }
TEST(RnnFloat64, Opset7AndInferredHiddenSize) { opset7_and_inferred_hidden_size(kF64); }

// float16: the same sweeps within float16's rounding of the reference (RnnFloat16.EqualsFloat32RoundedOnce
// below holds it to the float32 kernel's bits).
TEST(RnnFloat16, ShapesDirectionsLayoutsAndLengthsMatchReference) {
  shapes_directions_layouts_and_lengths(kF16);
}
TEST(RnnFloat16, LstmFeatureProduct) { lstm_feature_product(kF16); }
TEST(RnnFloat16, GruFeatureProduct) { gru_feature_product(kF16); }
TEST(RnnFloat16, RnnFeatureProduct) { rnn_feature_product(kF16); }
TEST(RnnFloat16, OmittedOutputs) { omitted_outputs(kF16); }

// bfloat16: the sweeps within bfloat16's rounding of the reference.
TEST(RnnBFloat16, ShapesDirectionsLayoutsAndLengthsMatchReference) {
  shapes_directions_layouts_and_lengths(kBF16);
}
TEST(RnnBFloat16, LstmFeatureProduct) { lstm_feature_product(kBF16); }
TEST(RnnBFloat16, GruFeatureProduct) { gru_feature_product(kBF16); }

// Alpha/beta go, in order, to the functions that take them (Sigmoid and Tanh take none): the attribute lists
// are written by hand here and the Act values state what each function must receive.
TEST(RnnFamily, AlphaAndBetaAreConsumedInOrder) {
  Sweep sweep;
  Case c;
  c.lens = Lens::kMixed, c.seed = 13000;
  c.custom_acts = {{"HardSigmoid", 0.3, 0.6}, {"LeakyRelu", 0.7}, {"Tanh"}};
  c.raw_alpha = {0.3f, 0.7f}, c.raw_beta = {0.6f};
  sweep.run(c);
  c.direction = "bidirectional", c.seed = 13001;
  c.custom_acts = {{"Sigmoid"},  {"LeakyRelu", 0.3},      {"Tanh"}, {"HardSigmoid", 0.25, 0.6},
                   {"Elu", 0.7}, {"ScaledTanh", 0.9, 2.0}};
  c.raw_alpha = {0.3f, 0.25f, 0.7f, 0.9f}, c.raw_beta = {0.6f, 2.0f};
  sweep.run(c);
  // Lists that run out: the later functions get their defaults (HardSigmoid 0.2/0.5, Elu 1).
  c.op = Op::kGru, c.direction = "bidirectional", c.seed = 13002;
  c.custom_acts = {{"LeakyRelu", 0.2}, {"Tanh"}, {"HardSigmoid"}, {"Elu"}};
  c.raw_alpha = {0.2f}, c.raw_beta = {};
  sweep.run(c);
  // Names are matched without regard to case, as other runtimes do.
  c.op = Op::kRnn, c.direction = "forward", c.seed = 13003;
  c.custom_acts = {{"LeakyRelu", 0.2}}, c.lowercase_names = true;
  c.raw_alpha = {0.2f};
  sweep.run(c);
  EXPECT_EQ(sweep.failures, 0);
}

// RNN's schema default lists two activations (Tanh, Tanh) even for one direction; with two names and one
// direction, the first is the one that applies.
TEST(RnnFamily, RnnWithTwoActivationsForOneDirectionUsesTheFirst) {
  Sweep sweep;
  Case c;
  c.op = Op::kRnn, c.seed = 13500;
  c.custom_acts = {{"Relu"}, {"Tanh"}};
  sweep.run(c);
  c.direction = "reverse", c.seed = 13501;
  c.custom_acts = {{"Softsign"}, {"Relu"}};
  sweep.run(c);
  EXPECT_EQ(sweep.failures, 0);
}

// Empty extents: no time steps (Y empty, Y_h = initial_h) and an empty batch.
TEST(RnnFamily, ZeroSequenceLengthAndZeroBatch) {
  for (DType type : {kF32, kF64, kF16})
    for (Op op : {Op::kLstm, Op::kGru, Op::kRnn}) {
      Case c;
      c.op = op, c.direction = "bidirectional", c.seq = 0, c.init_h = true, c.init_c = op == Op::kLstm,
      c.seed = 14000, c.type = type;
      EXPECT_TRUE(check_case(c));
      c.seq = 4, c.batch = 0, c.layout = 1;
      EXPECT_TRUE(check_case(c));
    }
}

// The CPU with an allocator that hands out outputs full of garbage (all bits set: NaN in float16, float32
// and float64), as a memory plan's arena holds a previous run's values or a GPU's caching allocator a
// freed block's: a kernel must write every element of its outputs.
class PoisonedMemoryDevice final : public Device {
 public:
  explicit PoisonedMemoryDevice(int threads) : cpu_(threads, "poisoned") {}
  std::string name() const override { return cpu_.name(); }
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  Support supports(const Graph& g, NodeId id) const override { return cpu_.supports(g, id); }
  Result<KernelPtr> create_kernel(const KernelInit& init) const override { return cpu_.create_kernel(init); }
  void bind_thread() const override { cpu_.bind_thread(); }
  const OutputAllocator* output_allocator() const override { return &allocator_; }
  int allocated() const { return allocator_.count; }

 private:
  struct Poisoning final : OutputAllocator {
    Result<Tensor> allocate(DType dtype, std::vector<int64_t> shape) const override {
      Tensor t = Tensor::empty(dtype, std::move(shape));
      std::memset(t.raw(), 0xFF, t.nbytes());
      ++count;
      return t;
    }
    mutable std::atomic<int> count{0};
  };
  cpu::CpuDevice cpu_;
  Poisoning allocator_;
};

// Y is zero at the steps past a row's sequence (t >= sequence_lens[b], in every direction) whatever its
// memory held before: the kernel writes those zeros itself (the steps write the rest), on the reference
// path and the panels, one thread and two (a bidirectional layer's directions at once), in each element
// type, with rows of length 0, rows ending early and a last time step no row reaches. Without
// sequence_lens every element is a step's result, garbage or not beforehand; without steps (seq_length 0)
// and initial states, Y_h and Y_c are zeros.
TEST(RnnFamily, StepsPastASequenceEndAreZeroInReusedMemory) {
  struct Path {
    const char* choice;
    int threads;
  };
  int cases = 0;
  uint32_t seed = 14500;
  for (const Path& p : {Path{"reference", 1}, Path{"fast", 1}, Path{"fast", 2}})
    for (DType type : {kF32, kF64, kF16})
      for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
        for (const char* dir : kDirections)
          for (int64_t layout : {0, 1})
            for (const char* shape : {"mixed lengths", "no sequence_lens", "no steps"}) {
              const bool mixed = shape == std::string("mixed lengths"), no_steps = shape == std::string("no steps");
              Case c;
              c.op = op, c.direction = dir, c.layout = layout, c.type = type;
              c.batch = 4, c.seq = no_steps ? 0 : 6, c.hidden = 11, c.lens = mixed ? Lens::kMixed : Lens::kNone;
              c.init_h = !no_steps;  // no steps and no initial state: Y_h and Y_c are zeros over the garbage
              c.lbr = op == Op::kGru && seed % 2 == 0, c.const_weights = true, c.seed = seed++;
              SCOPED_TRACE(c.describe() + " path=" + p.choice + " threads=" + std::to_string(p.threads));
              const Data d = make_data(c);
              if (mixed) {  // 5, 0, 3, 5 of 6 steps
                ASSERT_EQ(d.lens, (std::vector<int32_t>{5, 0, 3, 5}));
              }
              const Built b = build(c, d);
              auto ir = import_proto(b.model);
              ASSERT_TRUE(ir) << ir.status().message();
              const RnnKernelChoice env(p.choice);
              const PoisonedMemoryDevice device(p.threads);
              auto exec = GraphExecutor::compile(*ir->graph, device);
              ASSERT_TRUE(exec) << exec.status().message();
              std::vector<const Tensor*> feeds;
              for (const Tensor& t : b.feeds) feeds.push_back(&t);
              device.bind_thread();
              auto r = (*exec)->run(feeds);
              ASSERT_TRUE(r) << r.status().message();
              ASSERT_GT(device.allocated(), 0);  // the outputs came from the poisoned memory
              const Expected e = reference(c, d);
              const int64_t D = c.dirs();
              const std::vector<int64_t> yshape = layout == 0 ? std::vector<int64_t>{c.seq, D, c.batch, c.hidden}
                                                              : std::vector<int64_t>{c.batch, c.seq, D, c.hidden};
              const std::vector<int64_t> sshape = layout == 0 ? std::vector<int64_t>{D, c.batch, c.hidden}
                                                              : std::vector<int64_t>{c.batch, D, c.hidden};
              ASSERT_EQ(r->size(), op == Op::kLstm ? 3u : 2u);
              EXPECT_TRUE(close_to((*r)[0], yshape, e.y, "Y", type));
              EXPECT_TRUE(close_to((*r)[1], sshape, e.yh, "Y_h", type));
              if (op == Op::kLstm) {
                EXPECT_TRUE(close_to((*r)[2], sshape, e.yc, "Y_c", type));
              }
              ++cases;
            }
  EXPECT_EQ(cases, 486);
}

// One compiled kernel run from several threads at once gives every caller the right result (run keeps no
// state of its own).
TEST(RnnFamily, ConcurrentRunsShareOneKernel) {
  for (bool const_weights : {true, false}) {
    Case c;
    c.direction = "bidirectional", c.lens = Lens::kMixed, c.peep = true, c.const_weights = const_weights;
    c.outs = Outs::kYOnly, c.seed = 15000;
    const Data d = make_data(c);
    Built b = build(c, d);
    auto ir = import_proto(b.model);
    ASSERT_TRUE(ir) << ir.status().message();
    const cpu::CpuDevice device;
    auto exec = GraphExecutor::compile(*ir->graph, device);
    ASSERT_TRUE(exec) << exec.status().message();
    std::vector<const Tensor*> feeds;
    for (const Tensor& t : b.feeds) feeds.push_back(&t);
    const Expected e = reference(c, d);
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        for (int k = 0; k < 20; ++k) {
          auto r = (*exec)->run(feeds);
          if (!r || !close_to((*r)[0], {c.seq, 2, c.batch, c.hidden}, e.y, "Y")) ++bad;
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
  }
}

// Kernels of nodes reading the same constant weights share one packing (the time chunks of a split layer);
// nodes with other weights of the same shapes must not get it. Three LSTMs over one X: the first and third
// read W and R, the second W2 and R2; each must match the reference for its own weights.
TEST(RnnFamily, SharedPackingOnlyForTheSameWeights) {
  Case c;
  c.op = Op::kLstm, c.outs = Outs::kYOnly, c.bias = false, c.const_weights = true, c.seed = 16000;
  Case c2 = c;
  c2.seed = 16001;
  const Data d = make_data(c);
  Data d2 = make_data(c2);
  d2.x = d.x;  // the same input, other weights
  ASSERT_NE(d.w, d2.w);
  Built b = build(c, d);
  auto& g = *b.model.mutable_graph();
  const int64_t GH = gates(c.op) * c.hidden;
  add_typed_initializer(g, "W2", {1, GH, c.input}, d2.w, kF32);
  add_typed_initializer(g, "R2", {1, GH, c.hidden}, d2.r, kF32);
  for (const auto& [name, w, r] : {std::tuple{"cell2", "W2", "R2"}, std::tuple{"cell3", "W", "R"}}) {
    auto* n = add_node(g, "LSTM", {"X", w, r}, {std::string("Y_") + name}, name);
    if (c.hidden_attr) set_int(n, "hidden_size", c.hidden);
    add_output(g, std::string("Y_") + name, TensorProto::FLOAT);
  }
  auto r = run_on_cpu(b.model, b.feeds);
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  const std::vector<int64_t> yshape = {c.seq, 1, c.batch, c.hidden};
  const Expected e = reference(c, d), e2 = reference(c2, d2);
  EXPECT_TRUE(close_to((*r)[0], yshape, e.y, "Y (W, R)"));
  EXPECT_TRUE(close_to((*r)[1], yshape, e2.y, "Y (W2, R2)"));
  EXPECT_TRUE(close_to((*r)[2], yshape, e.y, "Y (W, R again)"));
}

// ---------------------------------------------------------------------------------------------------------
// Errors

// Makes every graph input's shape symbolic, so the importer lets any shape through to the kernel.
void make_inputs_symbolic(onnx::ModelProto& m) {
  for (auto& in : *m.mutable_graph()->mutable_input()) {
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int i = 0; i < shape->dim_size(); ++i) shape->mutable_dim(i)->set_dim_param("d" + std::to_string(i));
  }
}

void expect_error(const onnx::ModelProto& m, const std::vector<Tensor>& feeds, const std::string& needle) {
  auto r = run_on_cpu(m, feeds);
  ASSERT_FALSE(r) << "expected an error mentioning '" << needle << "'";
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

onnx::AttributeProto* find_attr(onnx::NodeProto* n, const std::string& name) {
  for (auto& a : *n->mutable_attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// Gives W (initializer or graph input) other dimensions and zero values.
void replace_w(Built& b, bool is_constant, const std::vector<int64_t>& dims) {
  std::vector<float> zeros(static_cast<std::size_t>(shape_numel(dims)), 0.0f);
  if (is_constant) {
    for (auto& t : *b.model.mutable_graph()->mutable_initializer()) {
      if (t.name() != "W") continue;
      t.clear_dims();
      t.clear_float_data();
      for (int64_t d : dims) t.add_dims(d);
      for (float v : zeros) t.add_float_data(v);
    }
  } else {
    b.feeds[1] = make_tensor<float>(dims, zeros);
    make_inputs_symbolic(b.model);
  }
}

// A zero-size X may have a batch of 2^40 rows (the importer bounds each dimension by 2^40 and the element
// count, which the 0 ends), as a model with a dynamic batch may be given. X [0, 2^40, I] has no steps: Y is
// [0, dirs, 2^40, H], empty, and comes at once; Y_h and Y_c would hold 2^40 * H elements each, and are
// refused, naming the node and the size, as other ops refuse outputs of absurd size. (The kernel made a
// vector of 2^40 lengths first: "failed: std::bad_alloc", and an abort under AddressSanitizer.) The same in
// layout 1, X [2^40, 0, I]. With those shapes declared in the model, the importer refuses Y_h already.
TEST(RnnErrors, AZeroSizeInputWithAHugeBatch) {
  constexpr int64_t kHuge = int64_t{1} << 40, kHidden = 256;
  for (DType type : {kF32, kF64, kF16})
    for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
      for (const char* dir : {"forward", "bidirectional"})
        for (int64_t layout : {0, 1}) {
          Case c;
          c.op = op, c.direction = dir, c.layout = layout, c.type = type, c.seq = 0, c.batch = kHuge;
          c.hidden = kHidden, c.const_weights = true, c.outs = Outs::kYOnly, c.seed = 14200;
          SCOPED_TRACE(c.describe());
          const int64_t D = c.dirs();
          const Data d = make_data(c);
          Built b = build(c, d);
          make_inputs_symbolic(b.model);
          auto r = run_on_cpu(b.model, b.feeds);
          ASSERT_TRUE(r) << r.status().message();
          ASSERT_EQ(r->size(), 1u);
          EXPECT_EQ((*r)[0].dtype(), type);
          EXPECT_EQ((*r)[0].shape(), layout == 0 ? (std::vector<int64_t>{0, D, kHuge, kHidden})
                                                 : (std::vector<int64_t>{kHuge, 0, D, kHidden}));

          c.outs = Outs::kAll;  // Y_h too (and Y_c): refused
          b = build(c, d);
          make_inputs_symbolic(b.model);
          const std::string state = layout == 0 ? "[" + std::to_string(D) + ",1099511627776,256]"
                                                : "[1099511627776," + std::to_string(D) + ",256]";
          expect_error(b.model, b.feeds,
                       "node 'cell' (" + std::string(op_name(op)) + "): output shape " + state + " is too large");

          b = build(c, d);  // the shapes declared: shape inference finds Y_h's
          expect_error(b.model, b.feeds, "output 'Y_h' declares shape " + state);
        }
}

TEST(RnnErrors, WrongWShape) {
  for (bool const_weights : {true, false}) {
    SCOPED_TRACE(const_weights ? "constant W" : "W fed at run time");
    Case c;
    c.const_weights = const_weights;
    Built b = build(c, make_data(c));
    replace_w(b, const_weights, {1, 21, 4});  // one row too many for 4*5
    expect_error(b.model, b.feeds,
                 "W must have shape [1, 4*5, input_size] (hidden_size 5, 1 direction), got [1,21,4]");
    replace_w(b, const_weights, {2, 20, 4});  // two directions' worth for a forward LSTM
    expect_error(b.model, b.feeds, "W must have shape [1, 4*5, input_size]");
  }
}

TEST(RnnErrors, HiddenSizeMismatch) {
  for (bool const_weights : {true, false}) {
    Case c;
    c.const_weights = const_weights;
    Built b = build(c, make_data(c));
    find_attr(b.node, "hidden_size")->set_i(4);
    make_inputs_symbolic(b.model);
    expect_error(b.model, b.feeds, "(hidden_size 4");
  }
  // Without hidden_size, W's rows must divide into the gates.
  Case c;
  c.op = Op::kGru, c.hidden_attr = false, c.const_weights = true;
  Built b = build(c, make_data(c));
  replace_w(b, true, {1, 14, 4});
  expect_error(b.model, b.feeds, "3*hidden_size rows");
}

TEST(RnnErrors, OtherWeightShapes) {
  Case c;
  c.peep = true, c.init_h = true;
  const Data d = make_data(c);
  {
    Built b = build(c, d);
    b.feeds[3] = make_tensor<float>({1, 39}, std::vector<float>(39, 0.0f));  // B: 2*4*5 = 40 wanted
    make_inputs_symbolic(b.model);
    expect_error(b.model, b.feeds, "B must have shape");
  }
  {
    Built b = build(c, d);
    b.feeds[5] = make_tensor<float>({1, 16}, std::vector<float>(16, 0.0f));  // P: 3*5 wanted
    make_inputs_symbolic(b.model);
    expect_error(b.model, b.feeds, "P must have shape");
  }
  {
    Built b = build(c, d);
    b.feeds[4] = make_tensor<float>({1, 2, 5}, std::vector<float>(10, 0.0f));  // initial_h: batch is 3
    make_inputs_symbolic(b.model);
    expect_error(b.model, b.feeds, "initial_h (input 5) must be float32 [1,3,5]");
  }
  {
    Built b = build(c, d);
    b.feeds[0] = make_tensor<float>({7, 3, 2}, std::vector<float>(42, 0.0f));  // X: input size 4 wanted
    make_inputs_symbolic(b.model);
    expect_error(b.model, b.feeds, "has input size 2 but W expects 4");
  }
  {
    Built b = build(c, d);
    b.feeds[0] = make_tensor<float>({21, 4}, std::vector<float>(84, 0.0f));
    b.model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
    expect_error(b.model, b.feeds, "X must have rank 3");
  }
}

TEST(RnnErrors, SequenceLensOutOfRange) {
  for (int32_t bad : {8, -1}) {
    Case c;
    c.lens = Lens::kFull;
    const Data d = make_data(c);
    Built b = build(c, d);
    b.feeds[4] = make_tensor<int32_t>({3}, {7, bad, 2});
    expect_error(b.model, b.feeds, "sequence_lens[1] = " + std::to_string(bad) + " is outside [0, 7]");
  }
  Case c;
  c.lens = Lens::kFull;
  const Data d = make_data(c);
  Built b = build(c, d);
  b.feeds[4] = make_tensor<int32_t>({2}, {7, 7});
  make_inputs_symbolic(b.model);
  expect_error(b.model, b.feeds, "sequence_lens (input 4) must have shape [3]");
}

TEST(RnnErrors, BadAttributes) {
  Case c;
  c.direction = "bidirectional";
  const Data d = make_data(c);
  auto with = [&](const std::function<void(onnx::NodeProto*)>& edit, const std::string& needle) {
    Built b = build(c, d);
    edit(b.node);
    SCOPED_TRACE(needle);
    expect_error(b.model, b.feeds, needle);
  };
  with(
      [](onnx::NodeProto* n) {
        set_strings(n, "activations", {"Sigmoid", "Swish", "Tanh", "Sigmoid", "Tanh", "Tanh"});
      },
      "unknown activation 'Swish'");
  with(
      [](onnx::NodeProto* n) {
        set_strings(n, "activations", {"Sigmoid", "Tanh", "Tanh"});
      },
      "activations has 3 functions; bidirectional needs 6");
  with([](onnx::NodeProto* n) { find_attr(n, "direction")->set_s("sideways"); }, "direction 'sideways'");
  with([](onnx::NodeProto* n) { set_float(n, "clip", -1.0f); }, "clip must be positive");
  with([](onnx::NodeProto* n) { set_int(n, "input_forget", 2); }, "input_forget must be 0 or 1");
  with([](onnx::NodeProto* n) { set_int(n, "layout", 2); }, "layout must be 0 or 1");
  with([](onnx::NodeProto* n) { find_attr(n, "hidden_size")->set_i(0); }, "hidden_size must be positive");
}

// ---------------------------------------------------------------------------------------------------------
// Element types

// A float16 (bfloat16) case's outputs must be, bit for bit, the float32 kernel's outputs on the same values
// (exact in float) rounded to float16 (bfloat16).
bool check_half_equals_float(const Case& c) {
  SCOPED_TRACE(c.describe());
  const Data d = make_data(c);
  Case single = c;
  single.type = kF32;
  Built bh = build(c, d), bs = build(single, d);
  auto half = run_on_cpu(bh.model, bh.feeds);
  auto full = run_on_cpu(bs.model, bs.feeds);
  if (!half || !full) {
    ADD_FAILURE() << "run failed: " << (half ? full.status() : half.status()).message();
    return false;
  }
  if (half->size() != full->size()) {
    ADD_FAILURE() << half->size() << " float16 outputs, " << full->size() << " float32 ones";
    return false;
  }
  for (std::size_t k = 0; k < half->size(); ++k) {
    const Tensor &h = (*half)[k], &f = (*full)[k];
    if (h.dtype() != c.type || h.shape() != f.shape()) {
      ADD_FAILURE() << "output " << k << " is " << h.describe() << ", the float32 kernel's " << f.describe();
      return false;
    }
    for (int64_t i = 0; i < h.numel(); ++i) {
      const uint16_t want = to_16bit(c.type, f.data<float>()[i]), got = h.data<uint16_t>()[i];
      if (got != want) {
        ADD_FAILURE() << "output " << k << "[" << i << "] is " << dtype_name(c.type) << " "
                      << from_16bit(c.type, got) << " (0x" << std::hex << got << "), the float32 kernel's "
                      << f.data<float>()[i] << " rounds to " << from_16bit(c.type, want) << " (0x" << want
                      << std::dec << ")";
        return false;
      }
    }
  }
  return true;
}

// On every path the float32 kernel can take: the default, the reference twin, the panels on every thread;
// sizes that reach the panels' partial blocks (hidden 33) and more than one tile of rows (batch 9).
void sixteen_bit_equals_float32_rounded_once(DType type) {
  for (const char* choice : {"auto", "reference", "fast"}) {
    SCOPED_TRACE(choice);
    const RnnKernelChoice env(choice);
    std::mt19937 pick(31);
    auto coin = [&] { return (pick() & 1) != 0; };
    uint32_t seed = 20000;
    int failures = 0, cases = 0;
    for (Op op : {Op::kLstm, Op::kGru, Op::kRnn})
      for (const char* dir : kDirections)
        for (int64_t layout : {0, 1})
          for (bool const_weights : {false, true}) {
            Case c;
            c.type = type, c.op = op, c.direction = dir, c.layout = layout, c.const_weights = const_weights;
            c.lens = coin() ? Lens::kMixed : Lens::kNone, c.batch = coin() ? 9 : 3,
            c.hidden = coin() ? 33 : 5;
            c.input = 6, c.seed = seed++;
            c.init_h = coin(), c.init_c = op == Op::kLstm && coin(), c.bias = coin();
            c.peep = op == Op::kLstm && coin(), c.input_forget = op == Op::kLstm && coin();
            c.lbr = op == Op::kGru && coin();
            if (coin()) c.clip = 0.4f;
            c.profile = static_cast<int>(pick() % static_cast<uint32_t>(num_profiles(op)));
            ++cases;
            if (failures < 5 && !check_half_equals_float(c)) ++failures;
          }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(cases, 36);
  }
}
TEST(RnnFloat16, EqualsFloat32RoundedOnce) { sixteen_bit_equals_float32_rounded_once(kF16); }
// bfloat16 (opset 22) takes the same path as float16: widened exactly, computed in float, rounded once.
TEST(RnnBFloat16, EqualsFloat32RoundedOnce) { sixteen_bit_equals_float32_rounded_once(kBF16); }

// One T for X, W, R, B, initial_h, initial_c and P. ONNX's type inference already refuses a model file
// mixing them, naming the input; a graph that gets to the kernel mixed (edited after import here) is refused
// when the kernel is made, naming both inputs (RnnTypes.SupportsAgreesWithKernelCreation has more).
TEST(RnnTypes, MixedElementTypesAreRefusedByName) {
  for (bool const_weights : {false, true}) {
    SCOPED_TRACE(const_weights ? "constant W" : "W fed at run time");
    Case c;
    c.type = kF16, c.const_weights = const_weights, c.input_types = {{"W", kF32}};
    Built b = build(c, make_data(c));
    expect_error(b.model, b.feeds,
                 "node 'cell' (LSTM): shape inference: W has inconsistent type tensor(float)");
  }
  Case c;
  c.op = Op::kGru, c.type = kF64, c.init_h = true;
  Built b = build(c, make_data(c));
  auto ir = import_proto(b.model);
  ASSERT_TRUE(ir) << ir.status().message();
  Graph& g = *ir->graph;
  g.value(g.node(0).inputs[5]).dtype = kF32;
  const cpu::CpuDevice device;
  auto exec = GraphExecutor::compile(g, device);
  ASSERT_FALSE(exec);
  EXPECT_EQ(
      exec.status().message(),
      "node 'cell' (GRU): input 5 (initial_h) is float32 but input 0 (X) is float64: GRU takes one element "
      "type for X, W, R, B and initial_h");
}

// When the graph does not say W's type, the kernel is made and the run refuses the mixed tensors.
TEST(RnnTypes, MixedElementTypesAreRefusedAtRunTime) {
  Case c;
  c.type = kF16;
  Built b = build(c, make_data(c));
  auto ir = import_proto(b.model);
  ASSERT_TRUE(ir) << ir.status().message();
  Graph& g = *ir->graph;
  g.value(g.node(0).inputs[1]).dtype = DType::kUndefined;
  const cpu::CpuDevice device;
  auto exec = GraphExecutor::compile(g, device);
  ASSERT_TRUE(exec) << exec.status().message();
  const Data d = make_data(c);
  b.feeds[1] = typed_tensor(kF32, b.feeds[1].shape(), d.w);
  std::vector<const Tensor*> feeds;
  for (const Tensor& t : b.feeds) feeds.push_back(&t);
  auto r = (*exec)->run(feeds);
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.status().message().find("node 'cell' (LSTM): input 1 (W) is float32 but input 0 (X) is float16"),
      std::string::npos)
      << r.status().message();
}

// CpuDevice::supports refuses exactly the nodes whose kernel creation fails, for the same reason, so
// `tandem info` (unrunnable_nodes), the partitioner's capability checks and compiling agree.
TEST(RnnTypes, SupportsAgreesWithKernelCreation) {
  struct Variant {
    const char* what;
    Case c;
    std::function<void(Graph&)> edit;  // applied to the imported graph
    std::string refusal;               // empty: supported
  };
  Case f64, f16, f32;
  f64.type = kF64, f64.peep = true, f64.init_h = f64.init_c = true, f64.const_weights = true;
  f16.type = kF16, f16.op = Op::kGru, f16.lbr = true;  // weights fed at run time: their types can be edited
  auto input_type = [](std::size_t i, DType t) {
    return [i, t](Graph& g) { g.value(g.node(0).inputs[i]).dtype = t; };
  };
  const std::vector<Variant> variants = {
      {"float32", f32, nullptr, ""},
      {"float64", f64, nullptr, ""},
      {"float16", f16, nullptr, ""},
      {"float64 with float32 initial_c", f64, input_type(6, kF32),
       "input 6 (initial_c) is float32 but input 0 (X) is float64: LSTM takes one element type for X, W, R, "
       "B, "
       "initial_h, initial_c and P"},
      {"int32 X", f32, input_type(0, DType::kInt32),
       "input 0 (X) is int32; LSTM takes float16, bfloat16, float32 or float64"},
      {"bfloat16 R", f16, input_type(2, DType::kBFloat16),
       "input 2 (R) is bfloat16 but input 0 (X) is float16: GRU takes one element type for X, W, R, B and "
       "initial_h"},
      {"bad direction", f64,
       [](Graph& g) {
         Attribute& a = g.node(0).attributes["direction"];
         a.kind = Attribute::Kind::kString, a.s = "sideways";
       },
       "direction 'sideways' is not one of forward, reverse, bidirectional"},
  };
  const cpu::CpuDevice cpu;
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.what);
    Built b = build(v.c, make_data(v.c));
    auto ir = import_proto(b.model);
    ASSERT_TRUE(ir) << ir.status().message();
    Graph& g = *ir->graph;
    if (v.edit) v.edit(g);
    ASSERT_EQ(g.num_nodes(), 1u);
    const Support s = cpu.supports(g, 0);
    const KernelInit init{g, 0, nullptr};
    auto k = cpu.create_kernel(init);
    EXPECT_EQ(s.ok, k.is_ok()) << "supports: " << (s.ok ? "yes" : s.reason)
                               << "; kernel creation: " << (k ? "made" : k.status().message());
    const std::vector<UnrunnableNode> unrunnable = unrunnable_nodes(g);
    if (v.refusal.empty()) {
      EXPECT_TRUE(s.ok) << s.reason;
      EXPECT_TRUE(unrunnable.empty());
      continue;
    }
    EXPECT_EQ(s.reason, v.refusal);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.status().message(), "node 'cell' (" + std::string(op_name(v.c.op)) + "): " + v.refusal);
    ASSERT_EQ(unrunnable.size(), 1u);
    EXPECT_EQ(unrunnable[0].reason, v.refusal);
  }
}

// ---------------------------------------------------------------------------------------------------------
// float64 against PyTorch: tests/data/pytorch/rnn_family_double (make_models.py), a bidirectional LSTM from
// given initial states, a GRU (linear_before_reset, as PyTorch exports it) and an RNN with ReLU, exported
// after .double(), with inputs drawn in double.

const char* const kDoubleExport = "tests/data/pytorch/rnn_family_double";

// Agreement to ~1e-12, which no computation in float reaches (it misses by ~1e-7).
TEST(RnnFloat64, MatchesPyTorchInDouble) {
  auto r = tandem::check_case(source_path(kDoubleExport), {1e-12, 1e-14}, 1);
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(r->data_sets.size(), 1u);
  ASSERT_EQ(r->data_sets[0].outputs.size(), 5u);
  for (const OutputComparison& o : r->data_sets[0].outputs)
    EXPECT_TRUE(o.pass) << o.name << ": " << o.problem << " max abs " << o.max_abs_error << " max rel "
                        << o.max_rel_error;
}

void tensor_to_float(TensorProto& t) {
  if (t.data_type() != TensorProto::DOUBLE) return;
  std::vector<double> v(t.double_data().begin(), t.double_data().end());
  if (t.has_raw_data()) {
    v.resize(t.raw_data().size() / sizeof(double));
    std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(double));
  }
  const std::vector<float> f(v.begin(), v.end());
  t.clear_double_data();
  t.set_data_type(TensorProto::FLOAT);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float)));
}

// Every float64 tensor, type and Cast of `g` in float32 instead.
void graph_to_float(onnx::GraphProto& g) {
  for (auto& t : *g.mutable_initializer()) tensor_to_float(t);
  for (auto* list : {g.mutable_input(), g.mutable_output(), g.mutable_value_info()})
    for (auto& vi : *list) {
      auto* tt = vi.mutable_type()->mutable_tensor_type();
      if (tt->elem_type() == TensorProto::DOUBLE) tt->set_elem_type(TensorProto::FLOAT);
    }
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t()) tensor_to_float(*a.mutable_t());
      if (a.has_g()) graph_to_float(*a.mutable_g());
      if (n.op_type() == "Cast" && a.name() == "to" && a.i() == TensorProto::DOUBLE)
        a.set_i(TensorProto::FLOAT);
    }
}

// The export in float32 on the same values (PyTorch made the weights in float before .double(); the inputs
// are rounded to float for both runs): the float64 kernels agree with the float32 ones to float's precision.
TEST(RnnFloat64, AgreesWithFloat32KernelsOnTheSameValues) {
  onnx::ModelProto m64;
  {
    std::ifstream in(source_path(std::string(kDoubleExport) + "/model.onnx"), std::ios::binary);
    ASSERT_TRUE(m64.ParseFromIstream(&in));
  }
  onnx::ModelProto m32 = m64;
  graph_to_float(*m32.mutable_graph());
  std::vector<Tensor> in64, in32;
  for (int j = 0; j < 3; ++j) {
    auto t = read_tensor_file(source_path(std::string(kDoubleExport) + "/test_data_set_0/input_" +
                                          std::to_string(j) + ".pb"));
    ASSERT_TRUE(t) << t.status().message();
    ASSERT_EQ(t->tensor.dtype(), kF64);
    std::vector<double> v(t->tensor.data<double>(), t->tensor.data<double>() + t->tensor.numel());
    for (double& e : v) e = static_cast<float>(e);
    in64.push_back(typed_tensor(kF64, t->tensor.shape(), v));
    in32.push_back(typed_tensor(kF32, t->tensor.shape(), v));
  }
  auto r64 = run_on_cpu(m64, in64);
  auto r32 = run_on_cpu(m32, in32);
  ASSERT_TRUE(r64) << r64.status().message();
  ASSERT_TRUE(r32) << r32.status().message();
  ASSERT_EQ(r64->size(), 5u);
  ASSERT_EQ(r32->size(), 5u);
  double worst = 0;
  for (std::size_t k = 0; k < 5; ++k) {
    const Tensor &d = (*r64)[k], &f = (*r32)[k];
    ASSERT_EQ(d.dtype(), kF64);
    ASSERT_EQ(f.dtype(), kF32);
    ASSERT_EQ(d.shape(), f.shape());
    for (int64_t i = 0; i < d.numel(); ++i) {
      const double want = d.data<double>()[i], got = f.data<float>()[i];
      EXPECT_LE(std::abs(got - want), 1e-6 + 1e-5 * std::abs(want)) << "output " << k << "[" << i << "]";
      worst = std::max(worst, std::abs(got - want) / std::max(std::abs(want), 1e-3));
    }
  }
  EXPECT_LT(worst, 5e-6);
  EXPECT_GT(worst, 0.0) << "float32 and float64 agree exactly: is one of them computed in the other's type?";
}

// The libonnx-testdata LSTM/GRU/RNN cases run in tests/conformance/onnx_node_test.cc and the PyTorch exports
// in tests/session/session_test.cc, through the same code as `tandem check`.

}  // namespace
}  // namespace tandem
