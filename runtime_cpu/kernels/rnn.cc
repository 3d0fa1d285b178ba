// LSTM, GRU and RNN (ONNX opsets 7 and 14): every attribute of the spec, in each element type T the spec
// allows. ONNX gives the three ops one T for X, W, R, B, initial_h, initial_c and P; mixed types are
// refused, naming the inputs.
//
// Per direction, the input projection of all time steps is one GEMM (X·Wᵀ + bias). Then, on the reference
// path (rnn_reference.h), each step is one GEMM for the recurrent projection of the whole batch (H·Rᵀ) and
// an elementwise cell update, written straight from the spec. By default the fast path (rnn_fast_path.h)
// does the steps instead: R packed per block of hidden units and the product fused with a vectorised cell,
// at every batch size. The fast path covers every attribute; the reference path stays as its twin,
// selected by TANDEM_RNN_KERNEL=reference for tests and benchmarks. By element type:
//   float32  either path, as chosen.
//   float64  computed in double on the reference path, the only one in double (the products are
//            double_gemm's: oneDNN 2.6 has no dgemm).
//   float16, bfloat16 (opset 22)
//            computed in float32 exactly as a float32 node (either path) and rounded to the type once, at
//            the end. The inputs are widened exactly (constant weights once, when the kernel is made, then
//            packed as float32 weights are; computed inputs per run), so the result is the float32
//            kernel's on the same values, rounded once.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/prepared_constants_cache.h"
#include "runtime/run_control.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/element_types.h"
#include "runtime_cpu/kernels/gemm.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/rnn_activation.h"
#include "runtime_cpu/kernels/rnn_fast_path.h"
#include "runtime_cpu/kernels/rnn_reference.h"
#include "runtime_cpu/kernels/rnn_step_stop.h"
#include "runtime_cpu/kernels/rnn_types.h"
#include "runtime_cpu/kernels/tensor_ops.h"

namespace tandem::cpu {
namespace {

using namespace rnn;

// Input and output slots shared by the three ops (initial_c and P exist for LSTM only, as does Y_c).
constexpr std::size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitH = 5, kInitC = 6, kP = 7;
constexpr std::size_t kY = 0, kYh = 1, kYc = 2;

std::size_t max_inputs(CellKind k) { return k == CellKind::kLstm ? 8 : 6; }
std::size_t max_outputs(CellKind k) { return k == CellKind::kLstm ? 3 : 2; }
const char* op_name(CellKind k) {
  return k == CellKind::kLstm ? "LSTM" : k == CellKind::kGru ? "GRU" : "RNN";
}

using Dims = std::vector<int64_t>;

// ------------------------------------------------------------------------------------------------------
// Element types

// The inputs of type T, by slot.
constexpr std::size_t kTypedSlots[] = {kX, kW, kR, kB, kInitH, kInitC, kP};

std::string slot_label(std::size_t i) {
  static const char* const names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  return "input " + std::to_string(i) + " (" + names[i] + ")";
}

// bfloat16 from opset 22 (the import refuses it at older opsets), float16 before: both computed in float.
bool is_element_type(DType t) { return is_narrow_float(t) || t == DType::kFloat32 || t == DType::kFloat64; }

// The node's T from the types of its T inputs (`type_of(slot)`: kUndefined when absent or not known), or
// kUndefined when none is known: each known type must be one ONNX allows, and all the same. Kernel
// creation and CpuDevice::supports ask this of the graph's types, each run of the tensors' own.
template <class TypeOf>
Result<DType> element_type(CellKind kind, std::size_t inputs, const TypeOf& type_of) {
  DType t = DType::kUndefined;
  std::size_t first = 0;
  for (std::size_t i : kTypedSlots) {
    if (i >= inputs) continue;
    const DType ti = type_of(i);
    if (ti == DType::kUndefined) continue;
    if (!is_element_type(ti))
      return Status::error(slot_label(i) + " is " + std::string(dtype_name(ti)) + "; " + op_name(kind) +
                           " takes float16, bfloat16, float32 or float64");
    if (t == DType::kUndefined) {
      t = ti, first = i;
    } else if (ti != t) {
      return Status::error(slot_label(i) + " is " + std::string(dtype_name(ti)) + " but " +
                           slot_label(first) + " is " + std::string(dtype_name(t)) + ": " + op_name(kind) +
                           " takes one element type for " +
                           (kind == CellKind::kLstm ? "X, W, R, B, initial_h, initial_c and P"
                                                    : "X, W, R, B and initial_h"));
    }
  }
  return t;
}

// `count` elements of type `dtype` as T: read in place when they are T, else widened exactly from float16 or
// bfloat16 into `store` (the element-type rule lets nothing else through).
template <class T>
const T* elements_as(DType dtype, const void* data, int64_t count, std::vector<T>& store) {
  if (dtype == ElementTraits<T>::dtype) return static_cast<const T*>(data);
  const auto* narrow = static_cast<const uint16_t*>(data);
  store.resize(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    store[static_cast<std::size_t>(i)] = static_cast<T>(narrow_to_float(dtype, narrow[i]));
  return store.data();
}

// An array of known shape, as T: a constant's contents or a run-time tensor's.
template <class T>
struct ArrayView {
  Dims shape;
  const T* data = nullptr;
};

template <class T>
ArrayView<T> view_of(const Tensor& t, std::vector<T>& store) {
  return {t.shape(), elements_as<T>(t.dtype(), t.raw(), t.numel(), store)};
}
template <class T>
ArrayView<T> view_of(const TensorData& t, std::vector<T>& store) {
  return {t.dims, elements_as<T>(t.dtype, t.bytes.data(), shape_numel(t.dims), store)};
}

// ------------------------------------------------------------------------------------------------------
// Weights

// Weights rearranged for the GEMMs; direction d's part starts at d times the per-direction size.
template <class T>
struct PackedWeights {
  int64_t input_size = 0, hidden = 0;
  std::vector<T> wt;    // [dirs][I][G*H]: W transposed, so X·Wᵀ is a plain row-major GEMM
  std::vector<T> rt;    // [dirs][H][G*H]: R transposed for the reference path's GEMM; empty: the panels
  std::vector<T> bias;  // [dirs][G*H]: Wb+Rb (GRU with linear_before_reset: Wbh alone for h); empty: no B
  // For the reference cell (empty when only the fast cell runs, which keeps padded copies):
  std::vector<T> rbh;   // [dirs][H]: Rbh, kept apart for GRU with linear_before_reset; empty otherwise
  std::vector<T> peep;  // [dirs][3H]: LSTM peepholes p_i, p_o, p_f; empty: no P
  FastWeights fast;     // the fast path's panels, padded P and Rbh (float only); empty: the reference runs

  std::size_t bytes() const {
    return (wt.size() + rt.size() + bias.size() + rbh.size() + peep.size()) * sizeof(T) + fast.bytes();
  }
  ReferenceWeights<T> reference(int64_t d, int64_t gates) const {
    return {rt.data() + d * hidden * gates * hidden, peep.empty() ? nullptr : peep.data() + d * 3 * hidden,
            rbh.empty() ? nullptr : rbh.data() + d * hidden};
  }
};

// How a run computes its steps.
enum class Path {
  kReference,  // the reference twin: a GEMM per step and the straightforward cell
  kPanels,     // the fast path: packed panels and the vectorised cell, fused
};

// What to pack: R transposed for the reference GEMM and the reference cell's peepholes and Rbh, or the
// panels with the fast cell's padded peepholes and Rbh.
struct PackFor {
  bool reference = true;
  Isa isa = Isa::kScalar;

  static PackFor path(Path p, Isa isa) { return {p == Path::kReference, isa}; }
};

struct WeightSizes {
  int64_t input_size = -1;  // -1: not known yet
  int64_t hidden = -1;
};

// Checks the weight shapes known so far (nullptr: not known or absent) against the attributes and each
// other, and works out the hidden and input sizes.
Result<WeightSizes> check_weight_shapes(const RnnAttrs& a, const Dims* w, const Dims* r, const Dims* b,
                                        const Dims* p) {
  const int64_t g = a.gates, dirs = a.num_dirs;
  WeightSizes s;
  s.hidden = a.hidden;
  if (s.hidden < 0 && w && w->size() == 3) {
    if ((*w)[1] % g != 0 || (*w)[1] == 0)
      return Status::error("W " + shape_string(*w) + " must have " + std::to_string(g) +
                           "*hidden_size rows in dimension 1");
    s.hidden = (*w)[1] / g;
  }
  if (s.hidden < 0 && r && r->size() == 3) s.hidden = (*r)[2];
  const int64_t h = s.hidden;
  const std::string hs = h < 0 ? "hidden_size" : std::to_string(h);
  const std::string rows = std::to_string(g) + "*" + hs;
  const std::string why = a.hidden >= 0 ? " (hidden_size " + std::to_string(a.hidden) + ", " : " (";
  const std::string dirs_s = std::to_string(dirs) + " direction" + (dirs == 2 ? "s)" : ")");
  if (w) {
    if (w->size() != 3 || (*w)[0] != dirs || (h >= 0 && (*w)[1] != g * h))
      return Status::error("W must have shape [" + std::to_string(dirs) + ", " + rows + ", input_size]" +
                           why + dirs_s + ", got " + shape_string(*w));
    s.input_size = (*w)[2];
  }
  if (r && (r->size() != 3 || (*r)[0] != dirs || (h >= 0 && ((*r)[1] != g * h || (*r)[2] != h))))
    return Status::error("R must have shape [" + std::to_string(dirs) + ", " + rows + ", " + hs + "]" + why +
                         dirs_s + ", got " + shape_string(*r));
  if (b && (b->size() != 2 || (*b)[0] != dirs || (h >= 0 && (*b)[1] != 2 * g * h)))
    return Status::error("B must have shape [" + std::to_string(dirs) + ", 2*" + rows + "]" + why + dirs_s +
                         ", got " + shape_string(*b));
  if (p && (p->size() != 2 || (*p)[0] != dirs || (h >= 0 && (*p)[1] != 3 * h)))
    return Status::error("P must have shape [" + std::to_string(dirs) + ", 3*" + hs + "]" + why + dirs_s +
                         ", got " + shape_string(*p));
  return s;
}

// Validates the shapes of W, R and the optional B and P (nullptr when absent) and packs them. The panels
// are float only: a double packing is always for the reference path.
template <class T>
Result<PackedWeights<T>> pack_weights(const RnnAttrs& a, const ArrayView<T>& w, const ArrayView<T>& r,
                                      const ArrayView<T>* b, const ArrayView<T>* p, const PackFor& what) {
  TANDEM_ASSIGN_OR_RETURN(WeightSizes s, check_weight_shapes(a, &w.shape, &r.shape, b ? &b->shape : nullptr,
                                                             p ? &p->shape : nullptr));
  const bool reference = what.reference || !std::is_same_v<T, float>;
  const int64_t dirs = a.num_dirs, h = s.hidden, in = s.input_size, gh = a.gates * h;
  PackedWeights<T> pw;
  pw.input_size = in;
  pw.hidden = h;
  pw.wt.resize(static_cast<std::size_t>(dirs * in * gh));
  if (reference) pw.rt.resize(static_cast<std::size_t>(dirs * h * gh));
  for (int64_t d = 0; d < dirs; ++d) {
    const T* wd = w.data + d * gh * in;
    T* wtd = pw.wt.data() + d * in * gh;
    for (int64_t row = 0; row < gh; ++row)
      for (int64_t k = 0; k < in; ++k) wtd[k * gh + row] = wd[row * in + k];
    if (!reference) continue;
    const T* rd = r.data + d * gh * h;
    T* rtd = pw.rt.data() + d * h * gh;
    for (int64_t row = 0; row < gh; ++row)
      for (int64_t k = 0; k < h; ++k) rtd[k * gh + row] = rd[row * h + k];
  }
  if (b) {
    // Wb and Rb add up, except where GRU's linear_before_reset puts Rbh inside the reset product.
    const bool split_rbh = a.kind == CellKind::kGru && a.linear_before_reset;
    pw.bias.resize(static_cast<std::size_t>(dirs * gh));
    if (split_rbh) pw.rbh.resize(static_cast<std::size_t>(dirs * h));
    for (int64_t d = 0; d < dirs; ++d) {
      const T* wb = b->data + d * 2 * gh;
      const T* rb = wb + gh;
      for (int64_t j = 0; j < gh; ++j) {
        const bool h_gate = j >= 2 * h;
        pw.bias[static_cast<std::size_t>(d * gh + j)] = split_rbh && h_gate ? wb[j] : wb[j] + rb[j];
        if (split_rbh && h_gate) pw.rbh[static_cast<std::size_t>(d * h + j - 2 * h)] = rb[j];
      }
    }
  }
  if (p) pw.peep.assign(p->data, p->data + dirs * 3 * h);
  if constexpr (std::is_same_v<T, float>) {
    if (!reference) {  // the fast cell keeps padded copies of P and Rbh
      const float* peep = pw.peep.empty() ? nullptr : pw.peep.data();
      const float* rbh = pw.rbh.empty() ? nullptr : pw.rbh.data();
      pw.fast = pack_fast_weights(a, what.isa, h, r.data, peep, rbh);
      pw.peep = {}, pw.rbh = {};
    }
  }
  return pw;
}

// ------------------------------------------------------------------------------------------------------
// Compute

// oneDNN's sgemm (and double_gemm) runs on the calling thread's OpenMP team. A small product gains nothing
// from more threads and, on a busy machine, may wait milliseconds for them to wake, so it gets one thread
// per this many multiply-adds; the caller's setting comes back afterwards.
constexpr int64_t kMinGemmMacsPerThread = int64_t{1} << 20;
class GemmTeam {
 public:
  explicit GemmTeam(int64_t macs) : saved_(omp_get_max_threads()) {
    const int64_t want = std::max<int64_t>(1, macs / kMinGemmMacsPerThread);
    if (want < saved_) omp_set_num_threads(static_cast<int>(want));
  }
  ~GemmTeam() { omp_set_num_threads(saved_); }
  GemmTeam(const GemmTeam&) = delete;
  GemmTeam& operator=(const GemmTeam&) = delete;

 private:
  int saved_;
};

// A vector whose resize leaves new elements unset: the input projection writes every element of its buffer
// (bias or zeros, then the GEMM), block by block after each stop check, so zero-filling it first was a
// wasted pass over a buffer that reaches gigabytes for long sequences, all before the run's first check.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) ::new (static_cast<void*>(p)) U;
    else ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using ProjectionBuffer = std::vector<T, DefaultInitAllocator<T>>;
// 16-bit types' outputs, computed in float before they are rounded: the steps (and the padding below) write
// every element, so they are not zero-filled before the run's first stop check either.
template <class T>
using OutputScratch = std::vector<T, DefaultInitAllocator<T>>;

// Zeroes Y at the time steps past each batch row's sequence, t >= sequence_lens[b] (a reverse direction
// walks [0, len) backwards, so its padding is there too), in every direction: the steps write every other
// element of Y. Done after the steps and over the padding alone, since zeroing all of Y before them was a
// pass over a buffer as long as the sequence before the run's first stop check (0.2 s for 10^5 steps of a
// wide layer at batch 4), and a wasted one where nothing is padded (no sequence_lens, or all full).
template <class T>
void zero_past_sequence_ends(const RunShape& s, const std::vector<int64_t>& lens, T* y) {
  const auto hsize = static_cast<std::size_t>(s.hidden) * sizeof(T);
  int64_t shortest = s.seq;
  for (int64_t len : lens) shortest = std::min(shortest, len);
  if (s.layout == 1) {  // [batch][seq][dirs][hidden]: a row's padding is one block
    for (int64_t b = 0; b < s.batch; ++b) {
      const int64_t len = lens[static_cast<std::size_t>(b)];
      if (len < s.seq)
        std::memset(y + s.y_offset(len, 0, b), 0, static_cast<std::size_t>((s.seq - len) * s.dirs) * hsize);
    }
    return;
  }
  for (int64_t t = shortest; t < s.seq; ++t)  // [seq][dirs][batch][hidden]: time step by time step
    for (int64_t d = 0; d < s.dirs; ++d)
      for (int64_t b = 0; b < s.batch; ++b)
        if (t >= lens[static_cast<std::size_t>(b)]) std::memset(y + s.y_offset(t, d, b), 0, hsize);
}

// The input projection of every time step at once (the first GEMM of both paths), bias folded in:
// xw[row][G*H] = X[row]·Wᵀ + bias. A long sequence's projection alone can take seconds (10^5 steps of a
// large layer), so it goes in blocks of rows, each about kProjectionMacs multiply-adds, and a run that
// must stop (`stop`, nullptr: never) stops between two blocks, as before step 0. The blocks are the same
// with or without a stop, so a stop that does not come changes no bit.
constexpr int64_t kProjectionMacs = int64_t{1} << 26;
template <class T>
Status input_projection(const RnnAttrs& a, const PackedWeights<T>& w, const RunShape& s, int64_t d,
                        const T* x, ProjectionBuffer<T>& xw, const StepStop* stop) {
  const int64_t gh = a.gates * s.hidden, rows = s.seq * s.batch;
  xw.resize(static_cast<std::size_t>(rows * gh));
  const T* bias = w.bias.empty() ? nullptr : w.bias.data() + d * gh;
  const int64_t block = std::max<int64_t>(1, kProjectionMacs / std::max<int64_t>(1, gh * s.input));
  for (int64_t r0 = 0; r0 < rows; r0 += block) {
    if (stop && stop->in_projection(r0, rows)) return stop->status();
    const int64_t m = std::min(block, rows - r0);
    T* out = xw.data() + r0 * gh;
    for (int64_t row = 0; row < m; ++row) {  // the GEMM adds to the bias; without one, to zeros it overwrites
      if (bias) std::memcpy(out + row * gh, bias, gh * sizeof(T));
      else std::fill_n(out + row * gh, gh, T(0));
    }
    const GemmTeam team(m * gh * s.input);
    TANDEM_RETURN_IF_ERROR(gemm(m, gh, s.input, x + r0 * s.input, s.input, w.wt.data() + d * s.input * gh, gh,
                                bias ? T(1) : T(0), out, gh));
  }
  return Status::ok();
}

// The scratch a direction allocates (directions run one after another, unless the fast path runs both at
// once, which holds twice this): the input projection of all steps, then the reference path's state and
// gates or the fast path's padded states.
template <class T>
std::size_t direction_workspace_bytes(const RnnAttrs& a, const PackedWeights<T>& w, const RunShape& s,
                                      Path path) {
  const auto xw = static_cast<std::size_t>(s.seq * s.batch * a.gates * s.hidden) * sizeof(T);
  if (path != Path::kReference) return xw + fast_state_bytes(a, w.fast, s.batch);
  return xw + reference_state_bytes(a, s, sizeof(T));
}

Path path_for(const KernelChoice& choice) { return choice.reference_only ? Path::kReference : Path::kPanels; }

// Rounds float results to float16 or bfloat16, `to`'s type (once: each value was computed in float).
void round_to_narrow(const OutputScratch<float>& from, Tensor& to) {
  auto* out = to.data<uint16_t>();
  for (std::size_t i = 0; i < from.size(); ++i) out[i] = float_to_narrow(to.dtype(), from[i]);
}

class RnnKernel final : public Kernel {
 public:
  // The constant weights packed once: in float for float32, float16 and bfloat16 nodes, in double for float64 ones;
  // neither when some weight is computed (then packing happens per run).
  RnnKernel(RnnAttrs attrs, KernelChoice choice, std::shared_ptr<const PackedWeights<float>> packed_float,
            std::shared_ptr<const PackedWeights<double>> packed_double)
      : a_(std::move(attrs)),
        choice_(choice),
        packed_float_(std::move(packed_float)),
        packed_double_(std::move(packed_double)) {}

  int64_t own_weight_bytes() const override {
    if (packed_float_) return static_cast<int64_t>(packed_float_->bytes());
    if (packed_double_) return static_cast<int64_t>(packed_double_->bytes());
    return -1;  // some weight is computed: packs per run, keeps nothing of its own
  }
  // Packed, W, R, B and P are not read again (only their types, for the node's element type).
  bool reads_constant_input(std::size_t i) const override {
    const bool packed = packed_float_ || packed_double_;
    return !(packed && (i == kW || i == kR || i == kB || (i == kP && a_.kind == CellKind::kLstm)));
  }

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(kX);
    if (!x) return ctx.error("input 0 (X) is missing");
    auto t = element_type(a_.kind, ctx.num_inputs(), [&](std::size_t i) {
      const Tensor* in = ctx.input(i);
      return in ? in->dtype() : DType::kUndefined;
    });
    if (!t) return ctx.error(t.status().message());
    if (*t == DType::kFloat64) return compute<double>(ctx, *x, *t);
    return compute<float>(ctx, *x, *t);
  }

 private:
  template <class T>
  const PackedWeights<T>* packed() const {
    if constexpr (std::is_same_v<T, float>)
      return packed_float_.get();
    else
      return packed_double_.get();
  }

  // One run in T (float for float32, float16 and bfloat16 nodes, double for float64 ones); t is the node's type.
  template <class T>
  Status compute(KernelContext& ctx, const Tensor& x, DType t) const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if (x.rank() != 3) return ctx.error("X must have rank 3, got " + x.describe());
    RunShape s;
    s.layout = a_.layout;
    s.dirs = a_.num_dirs;
    s.seq = x.dim(a_.layout == 0 ? 0 : 1);
    s.batch = x.dim(a_.layout == 0 ? 1 : 0);
    s.input = x.dim(2);

    // The panels are float only: double always takes the reference path.
    const Path path = std::is_same_v<T, double> ? Path::kReference : path_for(choice_);
    PackedWeights<T> local;
    const PackedWeights<T>* w = packed<T>();
    if (!w) {
      const Tensor* wt = ctx.input(kW);
      const Tensor* rt = ctx.input(kR);
      if (!wt || !rt) return ctx.error("inputs 1 (W) and 2 (R) are required");
      const Tensor* bt = ctx.input(kB);
      const Tensor* pt = a_.kind == CellKind::kLstm ? ctx.input(kP) : nullptr;
      std::vector<T> store[4];  // 16-bit weights widened, until they are packed
      const ArrayView<T> wv = view_of<T>(*wt, store[0]), rv = view_of<T>(*rt, store[1]);
      const ArrayView<T> bv = bt ? view_of<T>(*bt, store[2]) : ArrayView<T>{};
      const ArrayView<T> pv = pt ? view_of<T>(*pt, store[3]) : ArrayView<T>{};
      auto made = pack_weights<T>(a_, wv, rv, bt ? &bv : nullptr, pt ? &pv : nullptr,
                                  PackFor::path(path, choice_.isa));
      if (!made) return ctx.error(made.status().message());
      local = std::move(made).value();
      w = &local;
    }
    s.hidden = w->hidden;
    if (s.input != w->input_size)
      return ctx.error("X " + x.describe() + " has input size " + std::to_string(s.input) +
                       " but W expects " + std::to_string(w->input_size));

    // Output sizes first, before anything of the batch's or the sequence's size is allocated: a zero-size X
    // may have a batch of up to 2^40 rows (X [0, 2^40, I]: Y_h and Y_c then hold 2^40 * hidden_size
    // elements each), refused here as other ops refuse outputs of absurd size.
    const Dims state_shape =
        a_.layout == 0 ? Dims{s.dirs, s.batch, s.hidden} : Dims{s.batch, s.dirs, s.hidden};
    const Dims y_shape =
        a_.layout == 0 ? Dims{s.seq, s.dirs, s.batch, s.hidden} : Dims{s.batch, s.seq, s.dirs, s.hidden};
    const bool wants[3] = {ctx.wants_output(kY), ctx.wants_output(kYh),
                           a_.kind == CellKind::kLstm && ctx.wants_output(kYc)};
    const Dims* const out_shapes[3] = {&y_shape, &state_shape, &state_shape};
    for (std::size_t k = 0; k < 3; ++k)
      if (wants[k]) TANDEM_RETURN_IF_ERROR(check_output_size(ctx, *out_shapes[k], t));

    const Tensor* sl = ctx.input(kSeqLens);
    std::vector<int64_t> lens;  // each row's sequence length: sequence_lens, or seq_length (below)
    if (sl) {
      auto values = read_int_list(*sl, "sequence_lens (input 4)");
      if (!values) return ctx.error(values.status().message());
      if (sl->rank() != 1 || static_cast<int64_t>(values->size()) != s.batch)
        return ctx.error("sequence_lens (input 4) must have shape [" + std::to_string(s.batch) +
                         "] (batch), got " + sl->describe());
      for (std::size_t b = 0; b < values->size(); ++b)
        if ((*values)[b] < 0 || (*values)[b] > s.seq)
          return ctx.error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string((*values)[b]) +
                           " is outside [0, " + std::to_string(s.seq) + "] (seq_length)");
      lens = std::move(values).value();
    }

    const Tensor* init_in[2] = {ctx.input(kInitH), a_.kind == CellKind::kLstm ? ctx.input(kInitC) : nullptr};
    const char* init_names[2] = {"initial_h (input 5)", "initial_c (input 6)"};
    for (int i = 0; i < 2; ++i)
      if (init_in[i] && init_in[i]->shape() != state_shape)
        return ctx.error(std::string(init_names[i]) + " must be " + std::string(dtype_name(t)) + " " +
                         shape_string(state_shape) + ", got " + init_in[i]->describe());

    // No time steps: Y is empty, Y_h and Y_c are the initial states (zeros without them), copied as they
    // are, whatever the batch: no per-row scratch (lengths, states, float16 widened) is made for them.
    if (s.seq == 0) {
      for (std::size_t k = 0; k < 3; ++k) {
        if (!wants[k]) continue;
        Tensor& out = ctx.allocate_output(k, t, *out_shapes[k]);
        const Tensor* from = k == kY ? nullptr : init_in[k - kYh];
        if (from) std::memcpy(out.raw(), from->raw(), out.nbytes());
        else if (out.nbytes() > 0) std::memset(out.raw(), 0, out.nbytes());
      }
      return Status::ok();
    }

    std::vector<T> widened[3];  // 16-bit X, initial_h and initial_c widened for this run
    TypedDirectionIO<T> io;
    io.x = view_of<T>(x, widened[0]).data;
    io.lens = &lens;
    if (init_in[0]) io.init_h = view_of<T>(*init_in[0], widened[1]).data;
    if (init_in[1]) io.init_c = view_of<T>(*init_in[1], widened[2]).data;
    const StepStop stop(ctx.control(), ctx.graph(), ctx.node_id());  // never stops without an active control
    io.stop = &stop;

    // Outputs: written in place, or for 16-bit types computed into float scratch and rounded at the end.
    const bool narrow = t != ElementTraits<T>::dtype;
    OutputScratch<T> scratch[3];
    auto output = [&](std::size_t k) -> T* {
      if (narrow) {
        scratch[k].resize(static_cast<std::size_t>(shape_numel(*out_shapes[k])));
        return scratch[k].data();
      }
      return ctx.allocate_output(k, t, *out_shapes[k]).data<T>();
    };
    if (wants[kY]) io.y = output(kY);
    if (wants[kYh]) io.y_h = output(kYh);
    if (wants[kYc]) io.y_c = output(kYc);
    // After the outputs: a batch too large for memory fails on them, with the bytes and shape in the message.
    if (!sl) lens.assign(static_cast<std::size_t>(s.batch), s.seq);
    std::size_t held = 0;  // 16-bit types' widened inputs and float outputs
    for (const auto& v : widened) held += v.size() * sizeof(T);
    for (const auto& v : scratch) held += v.size() * sizeof(T);

    TANDEM_RETURN_IF_ERROR(run_directions(ctx, *w, s, path, io, held));
    if (io.y) zero_past_sequence_ends(s, lens, io.y);  // the steps wrote the rest of Y
    if constexpr (std::is_same_v<T, float>) {
      if (narrow)
        for (std::size_t k = 0; k < 3; ++k)
          if (wants[k]) round_to_narrow(scratch[k], ctx.allocate_output(k, t, *out_shapes[k]));
    }
    return Status::ok();
  }

  // Every direction's steps, one after the other or (fast path) both at once; `held` is the run's other
  // scratch, for the workspace note.
  template <class T>
  Status run_directions(KernelContext& ctx, const PackedWeights<T>& w, const RunShape& s, Path path,
                        const TypedDirectionIO<T>& io, std::size_t held) const {
    const std::size_t per_direction = direction_workspace_bytes(a_, w, s, path);
    [[maybe_unused]] FastTeams teams;
    if constexpr (std::is_same_v<T, float>) {
      if (path == Path::kPanels) teams = plan_fast_teams(a_, w.fast, s.batch, choice_.fast_always);
      if (teams.concurrent) {  // both input projections first, then both directions at once
        ctx.note_workspace(held + 2 * per_direction);
        ProjectionBuffer<float> xw[2];
        for (int64_t d = 0; d < 2; ++d) {
          Status st = input_projection(a_, w, s, d, io.x, xw[d], io.stop);
          if (!st) return stopped(io) ? st : ctx.error(st.message());
        }
        const float* xws[2] = {xw[0].data(), xw[1].data()};
        Status st = run_fast_bidirectional(a_, w.fast, s, xws, io, teams);
        return st || stopped(io) ? st : ctx.error(st.message());
      }
    }
    ctx.note_workspace(held + per_direction);
    ProjectionBuffer<T> xw;
    for (int64_t d = 0; d < s.dirs; ++d) {
      const bool reverse = a_.reverse || d == 1;
      Status st = input_projection(a_, w, s, d, io.x, xw, io.stop);
      if (st && path == Path::kReference)
        st = run_reference_direction(a_, w.reference(d, a_.gates), s, d, reverse, xw.data(), io);
      if constexpr (std::is_same_v<T, float>) {
        if (st && path == Path::kPanels)
          st = run_fast_direction(a_, w.fast, s, d, reverse, xw.data(), io, teams.per_direction);
      }
      if (!st) return stopped(io) ? st : ctx.error(st.message());
    }
    return Status::ok();
  }

  // A stop's message already names the node and the step.
  template <class T>
  static bool stopped(const TypedDirectionIO<T>& io) {
    return io.stop && io.stop->stopped();
  }

  RnnAttrs a_;
  KernelChoice choice_;
  std::shared_ptr<const PackedWeights<float>> packed_float_;
  std::shared_ptr<const PackedWeights<double>> packed_double_;
};

// ------------------------------------------------------------------------------------------------------
// Factory

Status check_attr_kind(const Node& n, const char* name, Attribute::Kind kind) {
  const Attribute* at = n.attribute(name);
  if (at && at->kind != kind)
    return Status::error("attribute '" + std::string(name) + "' must be of kind " +
                         std::string(attribute_kind_name(kind)) + ", got " +
                         std::string(attribute_kind_name(at->kind)));
  return Status::ok();
}

Result<RnnAttrs> read_attrs(const Node& n, CellKind kind) {
  using K = Attribute::Kind;
  for (auto [name, k] : {std::pair{"direction", K::kString},
                         {"hidden_size", K::kInt},
                         {"layout", K::kInt},
                         {"clip", K::kFloat},
                         {"activations", K::kStrings},
                         {"activation_alpha", K::kFloats},
                         {"activation_beta", K::kFloats},
                         {"input_forget", K::kInt},
                         {"linear_before_reset", K::kInt}})
    TANDEM_RETURN_IF_ERROR(check_attr_kind(n, name, k));
  RnnAttrs a;
  a.kind = kind;
  a.gates = gates_of(kind);
  const std::string direction = attr_string(n, "direction", "forward");
  if (direction == "bidirectional") {
    a.num_dirs = 2;
  } else if (direction == "reverse") {
    a.reverse = true;
  } else if (direction != "forward") {
    return Status::error("direction '" + direction + "' is not one of forward, reverse, bidirectional");
  }
  if (has_attr(n, "hidden_size")) {
    a.hidden = attr_int(n, "hidden_size", 0);
    if (a.hidden <= 0) return Status::error("hidden_size must be positive, got " + std::to_string(a.hidden));
  }
  a.layout = attr_int(n, "layout", 0);
  if (a.layout != 0 && a.layout != 1)
    return Status::error("layout must be 0 or 1, got " + std::to_string(a.layout));
  if (a.layout != 0 && n.opset < 14)
    return Status::error("layout=1 needs opset 14 or later (the model imports opset " +
                         std::to_string(n.opset) + ")");
  if (has_attr(n, "clip")) {
    a.has_clip = true;
    a.clip = attr_float(n, "clip", 0.0f);
    if (!(a.clip > 0.0f)) return Status::error("clip must be positive, got " + std::to_string(a.clip));
  }
  if (kind == CellKind::kLstm) {
    const int64_t f = attr_int(n, "input_forget", 0);
    if (f != 0 && f != 1) return Status::error("input_forget must be 0 or 1, got " + std::to_string(f));
    a.input_forget = f == 1;
  }
  if (kind == CellKind::kGru) a.linear_before_reset = attr_int(n, "linear_before_reset", 0) != 0;

  const std::size_t per = activations_per_direction(kind);
  const std::vector<std::string> defaults = kind == CellKind::kRnn ? std::vector<std::string>{"Tanh"}
                                            : kind == CellKind::kGru
                                                ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  std::vector<std::string> names;
  for (int64_t d = 0; d < a.num_dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  if (has_attr(n, "activations")) names = attr_strings(n, "activations");
  const std::size_t want = per * static_cast<std::size_t>(a.num_dirs);
  // RNN's schema default lists two functions even for one direction: the first one applies.
  if (kind == CellKind::kRnn && a.num_dirs == 1 && names.size() == 2) names.resize(1);
  if (names.size() != want)
    return Status::error("activations has " + std::to_string(names.size()) + " functions; " + direction +
                         " needs " + std::to_string(want) + " (" + std::to_string(per) + " per direction)");
  TANDEM_ASSIGN_OR_RETURN(a.acts, parse_rnn_activations(names, attr_floats(n, "activation_alpha"),
                                                        attr_floats(n, "activation_beta")));
  return a;
}

// What kernel creation checks on the graph alone: the attributes, the inputs and outputs, and one element
// type T among those ONNX allows (kUndefined while no T input's type is known). CpuDevice::supports asks
// the same (the registry's node check), so `tandem info`, the partitioner and compiling agree.
struct NodeSpec {
  RnnAttrs attrs;
  DType type = DType::kUndefined;
};

Result<NodeSpec> check_node(const Graph& g, const Node& n, CellKind kind) {
  NodeSpec spec;
  TANDEM_ASSIGN_OR_RETURN(spec.attrs, read_attrs(n, kind));
  const std::size_t nin = n.inputs.size();
  if (nin < 3 || n.inputs[kX] == kNoValue || n.inputs[kW] == kNoValue || n.inputs[kR] == kNoValue)
    return Status::error("inputs 0 (X), 1 (W) and 2 (R) are required");
  if (nin > max_inputs(kind))
    return Status::error("has " + std::to_string(nin) + " inputs, at most " +
                         std::to_string(max_inputs(kind)));
  if (n.outputs.size() > max_outputs(kind))
    return Status::error("has " + std::to_string(n.outputs.size()) + " outputs, at most " +
                         std::to_string(max_outputs(kind)));
  TANDEM_ASSIGN_OR_RETURN(spec.type, element_type(kind, nin, [&](std::size_t i) {
                            if (n.inputs[i] == kNoValue) return DType::kUndefined;
                            const Value& v = g.value(n.inputs[i]);
                            return v.data ? v.data->dtype : v.dtype;
                          }));
  return spec;
}

// Packed weights shared by the kernels of nodes that read the same constant W, R, B and P with the same
// packing (runtime/prepared_constants_cache.h: the time chunks of one split layer). Shared, a chunk finds
// its layer's panels where the chunk before left them, in cache. The packed weights are read only, so
// kernels on different devices (threads) may share them. (A float16 tensor packs into float, a float64 one
// into double: each tensor has one packing per key.)
struct PackingKey {
  const TensorData *w, *r, *b, *p;
  CellKind kind;
  int64_t gates, dirs, hidden;
  bool linear_before_reset, reference;
  Isa isa;
  bool operator==(const PackingKey&) const = default;
};

template <class T>
PreparedConstantsCache<PackingKey, PackedWeights<T>>& packed_weights_cache() {
  static PreparedConstantsCache<PackingKey, PackedWeights<T>> cache;
  return cache;
}

// Constant W, R and the optional B and P (nullptr when absent), validated and packed once; in T, widened
// from float16 or bfloat16 when that is their type.
template <class T>
using SharedPacking = std::shared_ptr<const PackedWeights<T>>;

template <class T>
Result<SharedPacking<T>> pack_constants(const RnnAttrs& a, const PackFor& what, const TensorDataPtr& w,
                                        const TensorDataPtr& r, const TensorDataPtr& b,
                                        const TensorDataPtr& p) {
  const PackingKey key{w.get(), r.get(), b.get(), p.get(), a.kind, a.gates, a.num_dirs, a.hidden,
                       a.linear_before_reset, what.reference, what.isa};
  return packed_weights_cache<T>().get(key, {w, r, b, p}, [&]() -> Result<SharedPacking<T>> {
    std::vector<T> store[4];  // the widened 16-bit weights, while they are packed
    const ArrayView<T> wv = view_of<T>(*w, store[0]), rv = view_of<T>(*r, store[1]);
    const ArrayView<T> bv = b ? view_of<T>(*b, store[2]) : ArrayView<T>{};
    const ArrayView<T> pv = p ? view_of<T>(*p, store[3]) : ArrayView<T>{};
    TANDEM_ASSIGN_OR_RETURN(PackedWeights<T> made,
                            pack_weights<T>(a, wv, rv, b ? &bv : nullptr, p ? &pv : nullptr, what));
    return std::make_shared<const PackedWeights<T>>(std::move(made));
  });
}

Result<KernelPtr> make_rnn(const KernelInit& init, CellKind kind) {
  prepare_sgemm();  // the input projection (and the reference path) multiply with oneDNN
  const Node& n = init.node();
  auto spec = check_node(init.graph, n, kind);
  if (!spec) return init.error(spec.status().message());
  RnnAttrs a = std::move(spec->attrs);

  // Constant weights: validated and packed once here. Otherwise check what is visible now and pack per run.
  const std::size_t nin = n.inputs.size();
  auto present = [&](std::size_t i) { return i < nin && n.inputs[i] != kNoValue; };
  const std::size_t p_slot = kind == CellKind::kLstm ? kP : nin;
  TensorDataPtr w = init.constant_input(kW), r = init.constant_input(kR);
  TensorDataPtr b = present(kB) ? init.constant_input(kB) : nullptr;
  TensorDataPtr p = present(p_slot) ? init.constant_input(p_slot) : nullptr;
  const bool all_constant = w && r && (!present(kB) || b) && (!present(p_slot) || p);
  std::shared_ptr<const PackedWeights<float>> packed_float;
  std::shared_ptr<const PackedWeights<double>> packed_double;
  const KernelChoice choice = kernel_choice_from_env();
  if (all_constant && w->dtype == DType::kFloat64) {
    auto pw = pack_constants<double>(a, PackFor::path(Path::kReference, choice.isa), w, r, b, p);
    if (!pw) return init.error(pw.status().message());
    packed_double = std::move(pw).value();
  } else if (all_constant) {
    // R is packed for the one path the kernel takes: transposed for the reference GEMM, or as panels.
    auto pw = pack_constants<float>(a, PackFor::path(path_for(choice), choice.isa), w, r, b, p);
    if (!pw) return init.error(pw.status().message());
    packed_float = std::move(pw).value();
  } else {
    auto sizes = check_weight_shapes(a, w ? &w->dims : nullptr, r ? &r->dims : nullptr,
                                     b ? &b->dims : nullptr, p ? &p->dims : nullptr);
    if (!sizes) return init.error(sizes.status().message());
  }
  return KernelPtr(new RnnKernel(std::move(a), choice, std::move(packed_float), std::move(packed_double)));
}

}  // namespace

void register_rnn_kernels(KernelRegistry& r) {
  for (const auto& [op, kind] : {std::pair{"LSTM", CellKind::kLstm}, std::pair{"GRU", CellKind::kGru},
                                 std::pair{"RNN", CellKind::kRnn}}) {
    const CellKind k = kind;
    r.add(
        op, [k](const KernelInit& init) { return make_rnn(init, k); },
        [k](const Graph& g, NodeId id) { return check_node(g, g.node(id), k).status(); });
  }
}

}  // namespace tandem::cpu
