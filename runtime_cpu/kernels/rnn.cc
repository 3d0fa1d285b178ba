// LSTM, GRU and RNN (ONNX opsets 7 and 14): float32, every attribute of the spec.
//
// Per direction, the input projection of all time steps is one GEMM (X·Wᵀ + bias). Then, on the reference
// path (rnn_reference.h), each step is one GEMM for the recurrent projection of the whole batch (H·Rᵀ) and an elementwise
// cell update, written straight from the spec. By default the fast path (rnn_fast_path.h) does the steps
// instead: R packed per block of hidden units and the product fused with a vectorised cell, at every batch
// size. The fast path covers every attribute; the reference path stays as its twin, selected by
// TANDEM_RNN_KERNEL=reference for tests and benchmarks.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/prepared_constants_cache.h"
#include "runtime_cpu/kernels/attributes.h"
#include "runtime_cpu/kernels/register.h"
#include "runtime_cpu/kernels/rnn_activation.h"
#include "runtime_cpu/kernels/rnn_fast_path.h"
#include "runtime_cpu/kernels/rnn_reference.h"
#include "runtime_cpu/kernels/rnn_types.h"

namespace tandem::cpu {
namespace {

using namespace rnn;

// Input and output slots shared by the three ops (initial_c and P exist for LSTM only, as does Y_c).
constexpr std::size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitH = 5, kInitC = 6, kP = 7;
constexpr std::size_t kY = 0, kYh = 1, kYc = 2;

std::size_t max_inputs(CellKind k) { return k == CellKind::kLstm ? 8 : 6; }
std::size_t max_outputs(CellKind k) { return k == CellKind::kLstm ? 3 : 2; }

using Dims = std::vector<int64_t>;

// A float array of known shape: a constant's contents or a run-time tensor's.
struct ArrayView {
  DType dtype = DType::kUndefined;
  Dims shape;
  const float* data = nullptr;
};

// Weights rearranged for the GEMMs; direction d's part starts at d times the per-direction size.
struct PackedWeights {
  int64_t input_size = 0, hidden = 0;
  std::vector<float> wt;    // [dirs][I][G*H]: W transposed, so X·Wᵀ is a plain row-major GEMM
  std::vector<float> rt;    // [dirs][H][G*H]: R transposed for the reference path's GEMM; empty: the panels
  std::vector<float> bias;  // [dirs][G*H]: Wb+Rb (GRU with linear_before_reset: Wbh alone for h); empty: no B
  // For the reference cell (empty when only the fast cell runs, which keeps padded copies):
  std::vector<float> rbh;   // [dirs][H]: Rbh, kept apart for GRU with linear_before_reset; empty otherwise
  std::vector<float> peep;  // [dirs][3H]: LSTM peepholes p_i, p_o, p_f; empty: no P
  FastWeights fast;         // the fast path's panels and padded P, Rbh; empty: only the reference runs

  std::size_t bytes() const {
    return (wt.size() + rt.size() + bias.size() + rbh.size() + peep.size()) * sizeof(float) + fast.bytes();
  }
};

// How a run computes its steps.
enum class Path {
  kReference,  // the reference twin: a GEMM per step and the straightforward cell
  kPanels,     // the fast path: packed panels and the vectorised cell, fused
};

// What to pack: R transposed for oneDNN's GEMM and the reference cell's peepholes and Rbh, or the panels
// with the fast cell's padded peepholes and Rbh.
struct PackFor {
  bool reference = true;
  Isa isa = Isa::kScalar;

  static PackFor path(Path p, Isa isa) { return {p == Path::kReference, isa}; }
};

// ------------------------------------------------------------------------------------------------------
// Shapes

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

Status check_float(const ArrayView& v, const char* name) {
  if (v.dtype != DType::kFloat32)
    return Status::error(std::string(name) + " must be float32 (the only type supported), got " +
                         std::string(dtype_name(v.dtype)));
  return Status::ok();
}

// Validates W, R and the optional B and P (data nullptr when absent) and packs them.
Result<PackedWeights> pack_weights(const RnnAttrs& a, const ArrayView& w, const ArrayView& r,
                                   const ArrayView* b, const ArrayView* p, const PackFor& what) {
  TANDEM_RETURN_IF_ERROR(check_float(w, "W"));
  TANDEM_RETURN_IF_ERROR(check_float(r, "R"));
  if (b) TANDEM_RETURN_IF_ERROR(check_float(*b, "B"));
  if (p) TANDEM_RETURN_IF_ERROR(check_float(*p, "P"));
  TANDEM_ASSIGN_OR_RETURN(WeightSizes s, check_weight_shapes(a, &w.shape, &r.shape, b ? &b->shape : nullptr,
                                                             p ? &p->shape : nullptr));
  const int64_t dirs = a.num_dirs, h = s.hidden, in = s.input_size, gh = a.gates * h;
  PackedWeights pw;
  pw.input_size = in;
  pw.hidden = h;
  pw.wt.resize(static_cast<std::size_t>(dirs * in * gh));
  if (what.reference) pw.rt.resize(static_cast<std::size_t>(dirs * h * gh));
  for (int64_t d = 0; d < dirs; ++d) {
    const float* wd = w.data + d * gh * in;
    float* wtd = pw.wt.data() + d * in * gh;
    for (int64_t row = 0; row < gh; ++row)
      for (int64_t k = 0; k < in; ++k) wtd[k * gh + row] = wd[row * in + k];
    if (!what.reference) continue;
    const float* rd = r.data + d * gh * h;
    float* rtd = pw.rt.data() + d * h * gh;
    for (int64_t row = 0; row < gh; ++row)
      for (int64_t k = 0; k < h; ++k) rtd[k * gh + row] = rd[row * h + k];
  }
  if (b) {
    // Wb and Rb add up, except where GRU's linear_before_reset puts Rbh inside the reset product.
    const bool split_rbh = a.kind == CellKind::kGru && a.linear_before_reset;
    pw.bias.resize(static_cast<std::size_t>(dirs * gh));
    if (split_rbh) pw.rbh.resize(static_cast<std::size_t>(dirs * h));
    for (int64_t d = 0; d < dirs; ++d) {
      const float* wb = b->data + d * 2 * gh;
      const float* rb = wb + gh;
      for (int64_t j = 0; j < gh; ++j) {
        const bool h_gate = j >= 2 * h;
        pw.bias[static_cast<std::size_t>(d * gh + j)] = split_rbh && h_gate ? wb[j] : wb[j] + rb[j];
        if (split_rbh && h_gate) pw.rbh[static_cast<std::size_t>(d * h + j - 2 * h)] = rb[j];
      }
    }
  }
  if (p) pw.peep.assign(p->data, p->data + dirs * 3 * h);
  if (!what.reference) {  // the fast cell keeps padded copies of P and Rbh
    const float* peep = pw.peep.empty() ? nullptr : pw.peep.data();
    const float* rbh = pw.rbh.empty() ? nullptr : pw.rbh.data();
    pw.fast = pack_fast_weights(a, what.isa, h, r.data, peep, rbh);
    pw.peep = {}, pw.rbh = {};
  }
  return pw;
}

// ------------------------------------------------------------------------------------------------------
// Compute

// oneDNN's sgemm runs on the calling thread's OpenMP team. A small product gains nothing from more threads
// and, on a busy machine, may wait milliseconds for them to wake, so it gets one thread per this many
// multiply-adds; the caller's setting comes back afterwards.
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

// The input projection of every time step at once (the first GEMM of both paths), bias folded in:
// xw[row][G*H] = X[row]·Wᵀ + bias.
Status input_projection(const RnnAttrs& a, const PackedWeights& w, const RunShape& s, int64_t d,
                        const float* x, std::vector<float>& xw) {
  const int64_t gh = a.gates * s.hidden;
  const GemmTeam team(s.seq * s.batch * gh * s.input);
  xw.resize(static_cast<std::size_t>(s.seq * s.batch * gh));
  const float* bias = w.bias.empty() ? nullptr : w.bias.data() + d * gh;
  if (bias)
    for (int64_t row = 0; row < s.seq * s.batch; ++row)
      std::memcpy(xw.data() + row * gh, bias, gh * sizeof(float));
  return gemm(s.seq * s.batch, gh, s.input, x, s.input, w.wt.data() + d * s.input * gh, gh,
              bias ? 1.0f : 0.0f, xw.data(), gh);
}

// The scratch a direction allocates (directions run one after another, unless the fast path runs both at
// once, which holds twice this): the input projection of all steps, then the reference path's state and
// gates or the fast path's padded states.
std::size_t direction_workspace_bytes(const RnnAttrs& a, const PackedWeights& w, const RunShape& s,
                                      Path path) {
  const auto xw = static_cast<std::size_t>(s.seq * s.batch * a.gates * s.hidden) * sizeof(float);
  if (path != Path::kReference) return xw + fast_state_bytes(a, w.fast, s.batch);
  return xw + reference_state_bytes(a, s, sizeof(float));
}

// Direction d's part of the weights the reference path reads.
ReferenceWeights<float> reference_weights(const RnnAttrs& a, const PackedWeights& w, int64_t d) {
  const int64_t n = w.hidden;
  return {w.rt.data() + d * n * a.gates * n, w.peep.empty() ? nullptr : w.peep.data() + d * 3 * n,
          w.rbh.empty() ? nullptr : w.rbh.data() + d * n};
}

ArrayView view_of(const Tensor& t) { return {t.dtype(), t.shape(), t.data<float>()}; }
ArrayView view_of(const TensorData& t) {
  return {t.dtype, t.dims, reinterpret_cast<const float*>(t.bytes.data())};
}

Path path_for(const KernelChoice& choice) { return choice.reference_only ? Path::kReference : Path::kPanels; }

class RnnKernel final : public Kernel {
 public:
  RnnKernel(RnnAttrs attrs, KernelChoice choice, std::shared_ptr<const PackedWeights> packed)
      : a_(std::move(attrs)), choice_(choice), packed_(std::move(packed)) {}

  int64_t own_weight_bytes() const override {
    if (!packed_) return -1;  // some weight is computed: packs per run, keeps nothing of its own
    return static_cast<int64_t>(packed_->bytes());
  }

  Status run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(kX);
    if (!x) return ctx.error("input 0 (X) is missing");
    if (x->dtype() != DType::kFloat32) return ctx.error("X must be float32, got " + x->describe());
    if (x->rank() != 3) return ctx.error("X must have rank 3, got " + x->describe());
    RunShape s;
    s.layout = a_.layout;
    s.dirs = a_.num_dirs;
    s.seq = x->dim(a_.layout == 0 ? 0 : 1);
    s.batch = x->dim(a_.layout == 0 ? 1 : 0);
    s.input = x->dim(2);

    const Path path = path_for(choice_);
    PackedWeights local;
    const PackedWeights* w = packed_.get();
    if (!w) {
      const Tensor* wt = ctx.input(kW);
      const Tensor* rt = ctx.input(kR);
      if (!wt || !rt) return ctx.error("inputs 1 (W) and 2 (R) are required");
      const Tensor* bt = ctx.input(kB);
      const Tensor* pt = a_.kind == CellKind::kLstm ? ctx.input(kP) : nullptr;
      ArrayView bv = bt ? view_of(*bt) : ArrayView{}, pv = pt ? view_of(*pt) : ArrayView{};
      auto packed = pack_weights(a_, view_of(*wt), view_of(*rt), bt ? &bv : nullptr, pt ? &pv : nullptr,
                                 PackFor::path(path, choice_.isa));
      if (!packed) return ctx.error(packed.status().message());
      local = std::move(packed).value();
      w = &local;
    }
    s.hidden = w->hidden;
    if (s.input != w->input_size)
      return ctx.error("X " + x->describe() + " has input size " + std::to_string(s.input) +
                       " but W expects " + std::to_string(w->input_size));

    std::vector<int64_t> lens(static_cast<std::size_t>(s.batch), s.seq);
    if (const Tensor* sl = ctx.input(kSeqLens)) {
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

    const Dims state_shape =
        a_.layout == 0 ? Dims{s.dirs, s.batch, s.hidden} : Dims{s.batch, s.dirs, s.hidden};
    const float* init[2] = {nullptr, nullptr};
    const std::size_t init_slots[2] = {kInitH, kInitC};
    const char* init_names[2] = {"initial_h (input 5)", "initial_c (input 6)"};
    for (int i = 0; i < (a_.kind == CellKind::kLstm ? 2 : 1); ++i) {
      const Tensor* t = ctx.input(init_slots[i]);
      if (!t) continue;
      if (t->dtype() != DType::kFloat32 || t->shape() != state_shape)
        return ctx.error(std::string(init_names[i]) + " must be float32 " + shape_string(state_shape) +
                         ", got " + t->describe());
      init[i] = t->data<float>();
    }

    DirectionIO io;
    io.x = x->data<float>();
    io.lens = &lens;
    io.init_h = init[0];
    io.init_c = init[1];
    if (ctx.wants_output(kY)) {
      Tensor& y = ctx.allocate_output(
          kY, DType::kFloat32,
          a_.layout == 0 ? Dims{s.seq, s.dirs, s.batch, s.hidden} : Dims{s.batch, s.seq, s.dirs, s.hidden});
      std::memset(y.raw(), 0, y.nbytes());  // steps past a sequence's end stay zero
      io.y = y.data<float>();
    }
    if (ctx.wants_output(kYh)) io.y_h = ctx.allocate_output(kYh, DType::kFloat32, state_shape).data<float>();
    if (a_.kind == CellKind::kLstm && ctx.wants_output(kYc))
      io.y_c = ctx.allocate_output(kYc, DType::kFloat32, state_shape).data<float>();

    FastTeams teams;
    if (path == Path::kPanels) teams = plan_fast_teams(a_, w->fast, s.batch, choice_.fast_always);
    const std::size_t per_direction = direction_workspace_bytes(a_, *w, s, path);
    if (teams.concurrent) {  // both input projections first, then both directions at once
      ctx.note_workspace(2 * per_direction);
      std::vector<float> xw[2];
      for (int64_t d = 0; d < 2; ++d) {
        Status st = input_projection(a_, *w, s, d, io.x, xw[d]);
        if (!st) return ctx.error(st.message());
      }
      const float* xws[2] = {xw[0].data(), xw[1].data()};
      Status st = run_fast_bidirectional(a_, w->fast, s, xws, io, teams);
      return st ? Status::ok() : ctx.error(st.message());
    }
    ctx.note_workspace(per_direction);
    std::vector<float> xw;
    for (int64_t d = 0; d < s.dirs; ++d) {
      const bool reverse = a_.reverse || d == 1;
      Status st = input_projection(a_, *w, s, d, io.x, xw);
      if (st && path == Path::kReference)
        st = run_reference_direction(a_, reference_weights(a_, *w, d), s, d, reverse, xw.data(), io);
      if (st && path == Path::kPanels)
        st = run_fast_direction(a_, w->fast, s, d, reverse, xw.data(), io, teams.per_direction);
      if (!st) return ctx.error(st.message());
    }
    return Status::ok();
  }

 private:
  RnnAttrs a_;
  KernelChoice choice_;
  std::shared_ptr<const PackedWeights> packed_;  // null: some weight is computed, so packing happens per run
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

// Packed weights shared by the kernels of nodes that read the same constant W, R, B and P with the same
// packing (runtime/prepared_constants_cache.h: the time chunks of one split layer). Shared, a chunk finds
// its layer's panels where the chunk before left them, in cache. The packed weights are read only, so
// kernels on different devices (threads) may share them.
struct PackingKey {
  const TensorData *w, *r, *b, *p;
  CellKind kind;
  int64_t gates, dirs, hidden;
  bool linear_before_reset, reference;
  Isa isa;
  bool operator==(const PackingKey&) const = default;
};

PreparedConstantsCache<PackingKey, PackedWeights>& packed_weights_cache() {
  static PreparedConstantsCache<PackingKey, PackedWeights> cache;
  return cache;
}

Result<KernelPtr> make_rnn(const KernelInit& init, CellKind kind) {
  const Node& n = init.node();
  auto attrs = read_attrs(n, kind);
  if (!attrs) return init.error(attrs.status().message());
  RnnAttrs a = std::move(attrs).value();

  const std::size_t nin = n.inputs.size();
  if (nin < 3 || n.inputs[kX] == kNoValue || n.inputs[kW] == kNoValue || n.inputs[kR] == kNoValue)
    return init.error("inputs 0 (X), 1 (W) and 2 (R) are required");
  if (nin > max_inputs(kind))
    return init.error("has " + std::to_string(nin) + " inputs, at most " + std::to_string(max_inputs(kind)));
  if (n.outputs.size() > max_outputs(kind))
    return init.error("has " + std::to_string(n.outputs.size()) + " outputs, at most " +
                      std::to_string(max_outputs(kind)));
  auto present = [&](std::size_t i) { return i < nin && n.inputs[i] != kNoValue; };
  for (std::size_t i : {kX, kW, kR, kB, kInitH, kInitC, kP}) {
    if (!present(i)) continue;
    const DType dt = init.graph.value(n.inputs[i]).dtype;
    if (dt != DType::kUndefined && dt != DType::kFloat32)
      return init.error("input " + std::to_string(i) + " is " + std::string(dtype_name(dt)) +
                        "; only float32 is supported");
  }

  // Constant weights: validated and packed once here. Otherwise check what is visible now and pack per run.
  const std::size_t p_slot = kind == CellKind::kLstm ? kP : nin;
  TensorDataPtr w = init.constant_input(kW), r = init.constant_input(kR);
  TensorDataPtr b = present(kB) ? init.constant_input(kB) : nullptr;
  TensorDataPtr p = present(p_slot) ? init.constant_input(p_slot) : nullptr;
  const bool all_constant = w && r && (!present(kB) || b) && (!present(p_slot) || p);
  std::shared_ptr<const PackedWeights> packed;
  const KernelChoice choice = kernel_choice_from_env();
  if (all_constant) {
    // R is packed for the one path the kernel takes: transposed for the reference GEMM, or as panels.
    const PackFor what = PackFor::path(path_for(choice), choice.isa);
    ArrayView bv = b ? view_of(*b) : ArrayView{}, pv = p ? view_of(*p) : ArrayView{};
    const PackingKey key{w.get(), r.get(), b.get(), p.get(), a.kind, a.gates, a.num_dirs, a.hidden,
                         a.linear_before_reset, what.reference, what.isa};
    auto pw = packed_weights_cache().get(key, {w, r, b, p}, [&]() -> Result<std::shared_ptr<const PackedWeights>> {
      TANDEM_ASSIGN_OR_RETURN(PackedWeights made, pack_weights(a, view_of(*w), view_of(*r), b ? &bv : nullptr,
                                                               p ? &pv : nullptr, what));
      return std::make_shared<const PackedWeights>(std::move(made));
    });
    if (!pw) return init.error(pw.status().message());
    packed = std::move(pw).value();
  } else {
    auto sizes = check_weight_shapes(a, w ? &w->dims : nullptr, r ? &r->dims : nullptr,
                                     b ? &b->dims : nullptr, p ? &p->dims : nullptr);
    if (!sizes) return init.error(sizes.status().message());
  }
  return KernelPtr(new RnnKernel(std::move(a), choice, std::move(packed)));
}

}  // namespace

void register_rnn_kernels(KernelRegistry& r) {
  r.add("LSTM", [](const KernelInit& init) { return make_rnn(init, CellKind::kLstm); });
  r.add("GRU", [](const KernelInit& init) { return make_rnn(init, CellKind::kGru); });
  r.add("RNN", [](const KernelInit& init) { return make_rnn(init, CellKind::kRnn); });
}

}  // namespace tandem::cpu
