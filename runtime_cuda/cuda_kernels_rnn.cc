// LSTM, GRU and RNN on the GPU through CudaRnn, which uploads and prepares the weights itself (they are
// read on the host once, so W, R, B, P and sequence_lens must be constants). Kernels of nodes that read
// the same constant weights with the same spec share one CudaRnn (runtime/prepared_constants_cache.h: the
// time chunks of a split layer hold its weights once on the GPU, as the partitioner predicts). The kernel keeps one
// CudaRnnWorkspace per thread that runs it (a workspace caches the CUDA Graph of this RNN's time loop on
// that thread's stream), freed with the kernel; the cuBLAS workspace is the thread's, shared.
//
// The time loop (CudaRnn's selection rule: the persistent kernel for small hidden sizes and batches, else
// the per-step path) can be forced for every RNN kernel made afterwards with the environment variable
// TANDEM_CUDA_RNN_PATH=auto|stepwise|persistent (an internal switch for benchmarks and debugging; a forced
// persistent path that does not fit fails the node, saying why).
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/prepared_constants_cache.h"
#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/cuda_rnn.h"

namespace tandem::cuda {
namespace {

std::vector<float> floats_of(const Node& n, const char* name) {
  const Attribute* a = n.attribute(name);
  return a ? a->floats : std::vector<float>{};
}

// What decides a shared CudaRnn besides its host tensors: the allocator it uploaded to and the whole spec.
struct SharedRnnKey {
  const CudaAllocator* allocator = nullptr;
  const TensorData *w = nullptr, *r = nullptr, *b = nullptr, *p = nullptr;
  CudaRnnSpec spec;
  bool operator==(const SharedRnnKey& o) const {
    const CudaRnnSpec &x = spec, &y = o.spec;
    if (allocator != o.allocator || w != o.w || r != o.r || b != o.b || p != o.p) return false;
    if (x.kind != y.kind || x.num_dirs != y.num_dirs || x.reverse != y.reverse || x.input_size != y.input_size ||
        x.hidden != y.hidden || x.layout != y.layout || x.clip != y.clip || x.input_forget != y.input_forget ||
        x.linear_before_reset != y.linear_before_reset || x.activations.size() != y.activations.size())
      return false;
    for (std::size_t i = 0; i < x.activations.size(); ++i) {
      const RnnActivationSpec &f = x.activations[i], &g = y.activations[i];
      if (f.fn != g.fn || f.alpha != g.alpha || f.beta != g.beta) return false;
    }
    return true;
  }
};

PreparedConstantsCache<SharedRnnKey, CudaRnn>& shared_rnns() {
  static PreparedConstantsCache<SharedRnnKey, CudaRnn> cache;
  return cache;
}

class RnnKernel final : public CudaKernel {
 public:
  RnnKernel(const CudaDevice& d, std::shared_ptr<const CudaRnn> rnn, std::vector<int32_t> lens, bool has_lens,
            RnnPath path)
      : CudaKernel(d), rnn_(std::move(rnn)), lens_(std::move(lens)), has_lens_(has_lens), path_(path) {}

  void set_weight_bytes(int64_t b) { weight_bytes_ = b; }

 private:
  Status compute(CudaRun& r) const override {
    TANDEM_RETURN_IF_ERROR(expect_float32(r, 0, "X"));
    const Tensor& x = *r.input(0);
    const CudaRnnSpec& spec = rnn_->spec();
    if (x.rank() != 3) return r.ctx.error("X must be 3-D, got " + x.describe());
    const int64_t seq = spec.layout == 0 ? x.dim(0) : x.dim(1), batch = spec.layout == 0 ? x.dim(1) : x.dim(0);
    if (x.dim(2) != spec.input_size)
      return r.ctx.error("X " + x.describe() + " has input size " + std::to_string(x.dim(2)) + ", W expects " +
                         std::to_string(spec.input_size));
    if (has_lens_ && static_cast<int64_t>(lens_.size()) != batch)
      return r.ctx.error("sequence_lens has " + std::to_string(lens_.size()) + " entries for batch " + std::to_string(batch));
    const int64_t dirs = spec.num_dirs, h = spec.hidden;
    const std::vector<int64_t> state = spec.layout == 0 ? std::vector<int64_t>{dirs, batch, h}
                                                        : std::vector<int64_t>{batch, dirs, h};
    RnnRunIo io;
    io.seq = seq;
    io.batch = batch;
    io.x = x.data<float>();
    io.lens = has_lens_ ? lens_.data() : nullptr;
    for (std::size_t i : {std::size_t{5}, std::size_t{6}}) {
      const Tensor* t = r.input(i);
      if (!t || (i == 6 && spec.kind != RnnCellKind::kLstm)) continue;
      if (t->dtype() != DType::kFloat32 || t->shape() != state)
        return r.ctx.error(std::string(i == 5 ? "initial_h " : "initial_c ") + t->describe() + " must be float32 " +
                           shape_string(state));
      (i == 5 ? io.init_h : io.init_c) = t->data<float>();
    }
    if (r.ctx.wants_output(0)) {
      const std::vector<int64_t> y_shape = spec.layout == 0 ? std::vector<int64_t>{seq, dirs, batch, h}
                                                            : std::vector<int64_t>{batch, seq, dirs, h};
      TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(0, DType::kFloat32, y_shape));
      io.y = y->data<float>();
    }
    if (r.ctx.wants_output(1)) {
      TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(1, DType::kFloat32, state));
      io.y_h = y->data<float>();
    }
    if (spec.kind == RnnCellKind::kLstm && r.ctx.wants_output(2)) {
      TANDEM_ASSIGN_OR_RETURN(Tensor * y, r.output(2, DType::kFloat32, state));
      io.y_c = y->data<float>();
    }
    TANDEM_ASSIGN_OR_RETURN(CudaRnnWorkspace * ws, workspace_for(r));
    TANDEM_ASSIGN_OR_RETURN(const CublasContext* blas, cublas(r));
    Status s = rnn_->run(io, *ws, *blas);
    // The profile's workspace for this node, held: the kernel keeps its workspace (and its CUDA Graph) for
    // its whole life.
    r.ctx.note_workspace(ws->bytes(), /*held=*/true);
    return s ? s : r.ctx.error(s.message());
  }

  // The calling thread's workspace (only that thread uses it; the map's lock covers the lookup).
  Result<CudaRnnWorkspace*> workspace_for(CudaRun& r) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<CudaRnnWorkspace>& ws = workspaces_[r.ts.serial];
    if (!ws) {
      auto made = CudaRnnWorkspace::create(device_.allocator(), /*use_graph=*/true, path_);
      if (!made) return r.ctx.error(made.status().message());
      ws = std::move(made).value();
    }
    return ws.get();
  }

  std::shared_ptr<const CudaRnn> rnn_;
  std::vector<int32_t> lens_;
  bool has_lens_;
  RnnPath path_;
  mutable std::mutex mu_;
  // By thread state (its serial). A workspace whose thread has released its state stays until the kernel
  // goes; only that thread ever used it.
  mutable std::unordered_map<uint64_t, std::unique_ptr<CudaRnnWorkspace>> workspaces_;
};

// A float32 constant input of the given element count (0: any), or nullptr when the input is omitted.
Result<TensorDataPtr> float_weight(const KernelInit& init, std::size_t i, const char* what, int64_t count) {
  const Node& n = init.node();
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return TensorDataPtr();
  TensorDataPtr d = constant_value(init.graph, n.inputs[i]);
  if (!d) return init.error(std::string(what) + " must be a constant on the GPU");
  if (d->dtype != DType::kFloat32) return init.error(std::string(what) + " must be float32 on the GPU");
  if (count > 0 && d->num_elements() != count)
    return init.error(std::string(what) + " has " + std::to_string(d->num_elements()) + " elements, expected " +
                      std::to_string(count));
  return d;
}

}  // namespace

Result<KernelPtr> make_rnn_kernel(const CudaDevice& device, const KernelInit& init) {
  const Node& n = init.node();
  CudaRnnSpec spec;
  spec.kind = n.op_type == "LSTM" ? RnnCellKind::kLstm : n.op_type == "GRU" ? RnnCellKind::kGru : RnnCellKind::kRnn;
  const std::string direction = n.attribute_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return init.error("direction '" + direction + "' is not forward, reverse or bidirectional");
  spec.num_dirs = direction == "bidirectional" ? 2 : 1;
  spec.reverse = direction == "reverse";
  spec.layout = n.attribute_int("layout", 0);
  if (spec.layout != 0 && spec.layout != 1) return init.error("layout must be 0 or 1");
  if (const Attribute* c = n.attribute("clip")) spec.clip = c->f;
  spec.input_forget = n.attribute_int("input_forget", 0) != 0;
  spec.linear_before_reset = n.attribute_int("linear_before_reset", 0) != 0;

  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr w, float_weight(init, 1, "W", 0));
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr r, float_weight(init, 2, "R", 0));
  if (!w || !r) return init.error("W and R are required");
  if (w->dims.size() != 3 || r->dims.size() != 3 || w->dims[0] != spec.num_dirs || r->dims[0] != spec.num_dirs)
    return init.error("W and R must be [num_directions, gates*hidden, ...] with " + std::to_string(spec.num_dirs) +
                      " directions");
  const auto gates = static_cast<int64_t>(gates_of(spec.kind));
  spec.hidden = n.attribute_int("hidden_size", r->dims[2]);
  spec.input_size = w->dims[2];
  if (spec.hidden <= 0 || w->dims[1] != gates * spec.hidden || r->dims[1] != gates * spec.hidden ||
      r->dims[2] != spec.hidden)
    return init.error("W " + shape_string(w->dims) + " and R " + shape_string(r->dims) + " do not match hidden_size " +
                      std::to_string(spec.hidden));
  TANDEM_ASSIGN_OR_RETURN(TensorDataPtr b, float_weight(init, 3, "B", spec.num_dirs * 2 * gates * spec.hidden));
  TensorDataPtr p;
  if (spec.kind == RnnCellKind::kLstm) {
    TANDEM_ASSIGN_OR_RETURN(p, float_weight(init, 7, "P", spec.num_dirs * 3 * spec.hidden));
  }

  if (const Attribute* a = n.attribute("activations")) {
    std::vector<std::string> names = a->strings;
    // RNN's schema default lists two functions even for one direction: the first one applies (as the CPU
    // kernel reads it, runtime_cpu/kernels/rnn.cc), rather than the node failing here after the plan put it
    // on the GPU.
    if (spec.kind == RnnCellKind::kRnn && spec.num_dirs == 1 && names.size() == 2) names.resize(1);
    auto acts = resolve_rnn_activations(names, floats_of(n, "activation_alpha"), floats_of(n, "activation_beta"));
    if (!acts) return init.error(acts.status().message());
    if (acts->size() != activations_per_direction(spec.kind) * static_cast<std::size_t>(spec.num_dirs))
      return init.error("activations lists " + std::to_string(acts->size()) + " functions, expected " +
                        std::to_string(activations_per_direction(spec.kind) * static_cast<std::size_t>(spec.num_dirs)));
    spec.activations = std::move(acts).value();
  } else {
    spec.activations = default_rnn_activations(spec.kind, spec.num_dirs);
  }

  std::vector<int32_t> lens;
  bool has_lens = false;
  if (n.inputs.size() > 4 && n.inputs[4] != kNoValue) {
    TensorDataPtr d = constant_value(init.graph, n.inputs[4]);
    if (!d || d->dtype != DType::kInt32) return init.error("sequence_lens must be an int32 constant on the GPU");
    auto s = d->as<int32_t>();
    lens.assign(s.begin(), s.end());
    has_lens = true;
  }

  RnnPath path = RnnPath::kAuto;
  if (const char* forced = std::getenv("TANDEM_CUDA_RNN_PATH"); forced && *forced) {
    auto parsed = parse_rnn_path(forced);
    if (!parsed) return init.error("TANDEM_CUDA_RNN_PATH: " + parsed.status().message());
    path = *parsed;
  }

  RnnHostWeights hw;
  hw.w = w->as<float>().data();
  hw.r = r->as<float>().data();
  hw.b = b ? b->as<float>().data() : nullptr;
  hw.p = p ? p->as<float>().data() : nullptr;
  const SharedRnnKey key{&device.allocator(), w.get(), r.get(), b.get(), p.get(), spec};
  auto rnn = shared_rnns().get(key, {w, r, b, p}, [&] { return CudaRnn::create(spec, hw, device.allocator()); });
  if (!rnn) return init.error(rnn.status().message());
  const int64_t weight_bytes = (*rnn)->weight_bytes();
  auto k = std::make_unique<RnnKernel>(device, std::move(rnn).value(), std::move(lens), has_lens, path);
  // What the shared CudaRnn holds: each node placed on the GPU alone would hold that much (the partitioner
  // counts a weight group once per device).
  k->set_weight_bytes(weight_bytes);
  return prepared(std::move(k), init);
}

}  // namespace tandem::cuda
