#include "runtime_cuda/cuda_rnn.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/kernels/elementwise.h"

namespace tandem::cuda {
namespace {

struct ActivationInfo {
  const char* name;
  RnnActivationFn fn;
  bool takes_alpha, takes_beta;
  float default_alpha, default_beta;
};

constexpr ActivationInfo kActivations[] = {
    {"Sigmoid", RnnActivationFn::kSigmoid, false, false, 0.0f, 0.0f},
    {"Tanh", RnnActivationFn::kTanh, false, false, 0.0f, 0.0f},
    {"Relu", RnnActivationFn::kRelu, false, false, 0.0f, 0.0f},
    {"Affine", RnnActivationFn::kAffine, true, true, 1.0f, 0.0f},
    {"LeakyRelu", RnnActivationFn::kLeakyRelu, true, false, 0.01f, 0.0f},
    {"ThresholdedRelu", RnnActivationFn::kThresholdedRelu, true, false, 1.0f, 0.0f},
    {"ScaledTanh", RnnActivationFn::kScaledTanh, true, true, 1.0f, 1.0f},
    {"HardSigmoid", RnnActivationFn::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"Elu", RnnActivationFn::kElu, true, false, 1.0f, 0.0f},
    {"Softsign", RnnActivationFn::kSoftsign, false, false, 0.0f, 0.0f},
    {"Softplus", RnnActivationFn::kSoftplus, false, false, 0.0f, 0.0f},
};

bool same_name(const std::string& a, const char* b) {
  std::size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return i == a.size() && b[i] == '\0';
}

std::string n_of(int64_t v) { return std::to_string(v); }

}  // namespace

const char* rnn_path_name(RnnPath path) {
  switch (path) {
    case RnnPath::kAuto: return "auto";
    case RnnPath::kStepwise: return "stepwise";
    case RnnPath::kPersistent: return "persistent";
  }
  return "auto";
}

Result<RnnPath> parse_rnn_path(const std::string& name) {
  for (RnnPath p : {RnnPath::kAuto, RnnPath::kStepwise, RnnPath::kPersistent})
    if (name == rnn_path_name(p)) return p;
  return Status::error("RNN path '" + name + "' is not one of auto, stepwise, persistent");
}

std::size_t activations_per_direction(RnnCellKind kind) {
  return kind == RnnCellKind::kRnn ? 1 : kind == RnnCellKind::kGru ? 2 : 3;
}
std::size_t gates_of(RnnCellKind kind) { return kind == RnnCellKind::kRnn ? 1 : kind == RnnCellKind::kGru ? 3 : 4; }

Result<std::vector<RnnActivationSpec>> resolve_rnn_activations(const std::vector<std::string>& names,
                                                               const std::vector<float>& alphas,
                                                               const std::vector<float>& betas) {
  std::vector<RnnActivationSpec> out;
  std::size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    const ActivationInfo* info = nullptr;
    for (const ActivationInfo& a : kActivations)
      if (same_name(name, a.name)) info = &a;
    if (!info) return Status::error("activation '" + name + "' is not one of ONNX's RNN activation functions");
    RnnActivationSpec s;
    s.fn = info->fn;
    if (info->takes_alpha) s.alpha = next_alpha < alphas.size() ? alphas[next_alpha++] : info->default_alpha;
    if (info->takes_beta) s.beta = next_beta < betas.size() ? betas[next_beta++] : info->default_beta;
    out.push_back(s);
  }
  return out;
}

std::vector<RnnActivationSpec> default_rnn_activations(RnnCellKind kind, int64_t num_dirs) {
  const RnnActivationSpec sig{RnnActivationFn::kSigmoid, 0.0f, 0.0f}, tanh_{RnnActivationFn::kTanh, 0.0f, 0.0f};
  std::vector<RnnActivationSpec> per = kind == RnnCellKind::kRnn   ? std::vector<RnnActivationSpec>{tanh_}
                                       : kind == RnnCellKind::kGru ? std::vector<RnnActivationSpec>{sig, tanh_}
                                                                   : std::vector<RnnActivationSpec>{sig, tanh_, tanh_};
  std::vector<RnnActivationSpec> out;
  for (int64_t d = 0; d < num_dirs; ++d) out.insert(out.end(), per.begin(), per.end());
  return out;
}

// ------------------------------------------------------------------------------------------------------
// Weights

Result<std::shared_ptr<const CudaRnn>> CudaRnn::create(const CudaRnnSpec& spec, const RnnHostWeights& weights,
                                                       CudaAllocator& allocator) {
  const int64_t dirs = spec.num_dirs, h = spec.hidden, in = spec.input_size;
  const int64_t gh = static_cast<int64_t>(gates_of(spec.kind)) * h;
  if (dirs != 1 && dirs != 2) return Status::error("CudaRnn: num_dirs must be 1 or 2, got " + n_of(dirs));
  if (h <= 0 || in <= 0)
    return Status::error("CudaRnn: hidden (" + n_of(h) + ") and input size (" + n_of(in) + ") must be positive");
  if (spec.layout != 0 && spec.layout != 1) return Status::error("CudaRnn: layout must be 0 or 1");
  if (spec.clip && !(*spec.clip > 0.0f)) return Status::error("CudaRnn: clip must be positive");
  if (spec.activations.size() != activations_per_direction(spec.kind) * static_cast<std::size_t>(dirs))
    return Status::error("CudaRnn: " + std::to_string(spec.activations.size()) + " activations given, " +
                         std::to_string(activations_per_direction(spec.kind) * static_cast<std::size_t>(dirs)) +
                         " needed");
  if (!weights.w || !weights.r) return Status::error("CudaRnn: W and R are required");
  if (weights.p && spec.kind != RnnCellKind::kLstm) return Status::error("CudaRnn: peepholes exist for LSTM only");

  static std::atomic<uint64_t> next_serial{1};
  std::shared_ptr<CudaRnn> rnn(new CudaRnn());
  rnn->serial_ = next_serial.fetch_add(1);
  rnn->spec_ = spec;
  const auto weights_now = [&] {
    return static_cast<int64_t>(allocator.stats().of(MemoryCategory::kWeights).current);
  };
  const int64_t before = weights_now();
  // The uploads go on a stream of their own, waited for after each (the sources are pageable, some of them
  // locals): not the legacy default stream, whose synchronous copies and waits could meet a CUDA Graph
  // capture under way on another thread (the capture streams are non-blocking, but nothing is gained by
  // relying on it), and the compute streams, which do not wait for the legacy stream, read whole weights.
  TANDEM_ASSIGN_OR_RETURN(CudaStream copies, CudaStream::create(allocator.device()));
  auto upload = [&](DeviceBuffer& dst, const float* src, int64_t count, const char* what) -> Status {
    const auto bytes = static_cast<std::size_t>(count) * sizeof(float);
    TANDEM_ASSIGN_OR_RETURN(dst, DeviceBuffer::allocate(allocator, bytes, MemoryCategory::kWeights));
    const std::string call = std::string("uploading RNN ") + what + " (" + std::to_string(bytes) + " bytes)";
    TANDEM_RETURN_IF_ERROR(
        cuda_status(cudaMemcpyAsync(dst.get(), src, bytes, cudaMemcpyHostToDevice, copies.get()), call));
    return cuda_status(cudaStreamSynchronize(copies.get()), call);
  };
  // W and R stay in ONNX's [G*H, K] row-major form: the GEMMs read them transposed.
  TANDEM_RETURN_IF_ERROR(upload(rnn->w_, weights.w, dirs * gh * in, "W"));
  TANDEM_RETURN_IF_ERROR(upload(rnn->r_, weights.r, dirs * gh * h, "R"));
  if (weights.b) {
    // Wb and Rb add up, except where GRU's linear_before_reset puts Rbh inside the reset product.
    const bool split_rbh = spec.kind == RnnCellKind::kGru && spec.linear_before_reset;
    std::vector<float> bias(static_cast<std::size_t>(dirs * gh)), rbh;
    if (split_rbh) rbh.resize(static_cast<std::size_t>(dirs * h));
    for (int64_t d = 0; d < dirs; ++d) {
      const float* wb = weights.b + d * 2 * gh;
      const float* rb = wb + gh;
      for (int64_t j = 0; j < gh; ++j) {
        const bool h_gate = j >= 2 * h;
        bias[static_cast<std::size_t>(d * gh + j)] = split_rbh && h_gate ? wb[j] : wb[j] + rb[j];
        if (split_rbh && h_gate) rbh[static_cast<std::size_t>(d * h + j - 2 * h)] = rb[j];
      }
    }
    TANDEM_RETURN_IF_ERROR(upload(rnn->bias_, bias.data(), dirs * gh, "bias"));
    rnn->has_bias_ = true;
    if (split_rbh) {
      TANDEM_RETURN_IF_ERROR(upload(rnn->rbh_, rbh.data(), dirs * h, "Rbh"));
      rnn->has_rbh_ = true;
    }
  }
  if (weights.p) {
    TANDEM_RETURN_IF_ERROR(upload(rnn->peep_, weights.p, dirs * 3 * h, "P"));
    rnn->has_peep_ = true;
  }
  // Other weights uploaded on another thread meanwhile would blur this; kernels are created one at a time.
  rnn->weight_bytes_ = weights_now() - before;
  return std::shared_ptr<const CudaRnn>(std::move(rnn));
}

// ------------------------------------------------------------------------------------------------------
// Workspace

Result<std::unique_ptr<CudaRnnWorkspace>> CudaRnnWorkspace::create(CudaAllocator& allocator, bool use_graph,
                                                                   RnnPath path) {
  std::unique_ptr<CudaRnnWorkspace> ws(new CudaRnnWorkspace(allocator));
  ws->use_graph_ = use_graph;
  ws->path_ = path;
  return ws;
}

CudaRnnWorkspace::~CudaRnnWorkspace() { drop_graph(); }

void CudaRnnWorkspace::drop_graph() {
  if (graph_) TANDEM_CUDA_REPORT_IF_ERROR(cudaGraphExecDestroy(graph_));
  graph_ = nullptr;
  graph_rnn_ = graph_cublas_ = 0;
}

std::size_t CudaRnnWorkspace::bytes() const {
  std::size_t total = 0;
  for (const DeviceBuffer* b : {&xw_, &gates_, &h_, &c_, &rh_, &lens_, &y_, &h_odd_})
    total += b->size();
  return total;
}

Status CudaRnnWorkspace::reserve(const CudaRnnSpec& spec, int64_t seq, int64_t batch, bool want_y, bool persistent,
                                 cudaStream_t stream) {
  const auto dirs = static_cast<std::size_t>(spec.num_dirs), s = static_cast<std::size_t>(seq),
             b = static_cast<std::size_t>(batch), h = static_cast<std::size_t>(spec.hidden);
  const std::size_t gh = gates_of(spec.kind) * h;
  auto grow = [&](DeviceBuffer& buf, std::size_t& cap, std::size_t need, std::size_t elem) -> Status {
    if (need <= cap) return Status::ok();
    drop_graph();
    // Kernels queued on `stream` may still read the old block, and the pool hands blocks to any thread's
    // stream at once: wait for them (only when a buffer grows), then give it back for reuse.
    if (cap > 0) TANDEM_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
    buf.reset();
    TANDEM_ASSIGN_OR_RETURN(buf, DeviceBuffer::allocate(allocator_, need * elem, MemoryCategory::kWorkspace));
    cap = need;
    return Status::ok();
  };
  TANDEM_RETURN_IF_ERROR(grow(xw_, xw_cap_, dirs * s * b * gh, sizeof(float)));
  TANDEM_RETURN_IF_ERROR(grow(gates_, gates_cap_, dirs * b * gh, sizeof(float)));
  const std::size_t state_cap_before = state_cap_;
  TANDEM_RETURN_IF_ERROR(grow(h_, state_cap_, dirs * b * h, sizeof(float)));
  std::size_t c_cap = state_cap_before, rh_cap = state_cap_before;  // c_ and rh_ track h_'s size
  TANDEM_RETURN_IF_ERROR(grow(c_, c_cap, dirs * b * h, sizeof(float)));
  TANDEM_RETURN_IF_ERROR(grow(rh_, rh_cap, dirs * b * h, sizeof(float)));
  const std::size_t lens_cap_before = lens_cap_;
  TANDEM_RETURN_IF_ERROR(grow(lens_, lens_cap_, b, sizeof(int32_t)));
  if (lens_cap_ != lens_cap_before) lens_on_device_.clear();  // a new buffer: nothing in it yet
  if (want_y && use_graph_ && !persistent)
    TANDEM_RETURN_IF_ERROR(grow(y_, y_cap_, s * dirs * b * h, sizeof(float)));
  if (persistent) TANDEM_RETURN_IF_ERROR(grow(h_odd_, h_odd_cap_, dirs * b * h, sizeof(float)));
  return Status::ok();
}

// ------------------------------------------------------------------------------------------------------
// Run

Status CudaRnn::enqueue_time_loop(CudaRnnWorkspace& ws, cublasHandle_t cublas, int64_t seq, int64_t batch,
                                  int64_t steps, float* y, cudaStream_t stream) const {
  const int64_t h = spec_.hidden, gh = static_cast<int64_t>(gates_of(spec_.kind)) * h;
  const bool gru_split = spec_.kind == RnnCellKind::kGru && !spec_.linear_before_reset;
  const std::size_t per = activations_per_direction(spec_.kind);
  for (int64_t d = 0; d < spec_.num_dirs; ++d) {
    RnnStepArgs a;
    a.kind = spec_.kind;
    a.batch = batch;
    a.hidden = h;
    a.seq = seq;
    a.dirs = spec_.num_dirs;
    a.dir = d;
    a.layout = spec_.layout;
    a.reverse = spec_.reverse || d == 1;
    a.lens = ws.lens_.as<int32_t>();
    const RnnActivationSpec* acts = spec_.activations.data() + static_cast<std::size_t>(d) * per;
    a.act_f = acts[0];
    if (per > 1) a.act_g = acts[1];
    if (per > 2) a.act_h = acts[2];
    a.has_clip = spec_.clip.has_value();
    a.clip = spec_.clip.value_or(0.0f);
    a.input_forget = spec_.input_forget;
    a.linear_before_reset = spec_.linear_before_reset;
    a.xw = ws.xw_.as<float>() + d * seq * batch * gh;
    a.gates = ws.gates_.as<float>() + d * batch * gh;
    a.h = ws.h_.as<float>() + d * batch * h;
    a.c = ws.c_.as<float>() + d * batch * h;
    a.peep = has_peep_ ? peep_.as<float>() + d * 3 * h : nullptr;
    a.rbh = has_rbh_ ? rbh_.as<float>() + d * h : nullptr;
    a.y = y;
    const float* r = r_.as<float>() + d * gh * h;
    float* rh = ws.rh_.as<float>() + d * batch * h;
    for (int64_t k = 0; k < steps; ++k) {
      a.step = k;
      // gates = H·Rᵀ; GRU without linear_before_reset needs r first, so its h columns come after.
      TANDEM_RETURN_IF_ERROR(sgemm(cublas, stream, false, true, batch, gru_split ? 2 * h : gh, h, 1.0f, a.h, h, r, h,
                                   0.0f, a.gates, gh));
      if (gru_split) {
        TANDEM_RETURN_IF_ERROR(launch_gru_reset_gate(a, rh, stream));
        TANDEM_RETURN_IF_ERROR(
            sgemm(cublas, stream, false, true, batch, h, h, 1.0f, rh, h, r + 2 * h * h, h, 0.0f, a.gates + 2 * h, gh));
      }
      TANDEM_RETURN_IF_ERROR(launch_rnn_cell(a, stream));
    }
  }
  return Status::ok();
}

Result<RnnPersistentLayout> CudaRnn::persistent_layout(int64_t batch) const {
  return plan_rnn_persistent(spec_.kind, spec_.linear_before_reset, spec_.num_dirs, spec_.hidden, batch);
}

Result<RnnPath> CudaRnn::choose_path(CudaRnnWorkspace& ws, int64_t batch, RnnPersistentLayout& layout) const {
  if (ws.path_ == RnnPath::kStepwise) return RnnPath::kStepwise;
  const CudaRnnWorkspace::LayoutKey key{spec_.kind, spec_.linear_before_reset, spec_.num_dirs, spec_.hidden, batch};
  if (!(ws.layout_key_ == key)) {
    TANDEM_ASSIGN_OR_RETURN(ws.layout_, persistent_layout(batch));
    ws.layout_key_ = key;
  }
  layout = ws.layout_;
  if (layout.fits) return RnnPath::kPersistent;
  if (ws.path_ == RnnPath::kPersistent)
    return Status::error("CudaRnn: the persistent kernel was forced but cannot run this RNN: " + layout.reason);
  return RnnPath::kStepwise;
}

Status CudaRnn::enqueue_persistent(CudaRnnWorkspace& ws, const RnnPersistentLayout& layout, int64_t seq,
                                   int64_t batch, int64_t steps, float* y, cudaStream_t stream,
                                   bool* too_large) const {
  const std::size_t per = activations_per_direction(spec_.kind);
  RnnPersistentArgs a;
  a.kind = spec_.kind;
  a.batch = batch;
  a.hidden = spec_.hidden;
  a.seq = seq;
  a.dirs = spec_.num_dirs;
  a.layout = spec_.layout;
  a.steps = steps;
  a.units = layout.units;
  a.blocks_per_dir = layout.blocks_per_dir;
  a.reverse = spec_.reverse;
  a.lens = ws.lens_.as<int32_t>();
  for (int64_t d = 0; d < spec_.num_dirs; ++d)
    for (std::size_t i = 0; i < per; ++i)
      a.act[d][i] = spec_.activations[static_cast<std::size_t>(d) * per + i];
  a.has_clip = spec_.clip.has_value();
  a.clip = spec_.clip.value_or(0.0f);
  a.input_forget = spec_.input_forget;
  a.linear_before_reset = spec_.linear_before_reset;
  a.xw = ws.xw_.as<float>();
  a.r = r_.as<float>();
  a.peep = has_peep_ ? peep_.as<float>() : nullptr;
  a.rbh = has_rbh_ ? rbh_.as<float>() : nullptr;
  a.h0 = ws.h_.as<float>();
  a.h1 = ws.h_odd_.as<float>();
  a.c = ws.c_.as<float>();
  a.rh = ws.rh_.as<float>();
  a.y = y;
  TANDEM_RETURN_IF_ERROR(launch_rnn_persistent(a, layout.smem_bytes, stream, too_large));
  if (too_large && *too_large) return Status::ok();
  // H(steps) is in the odd buffer after an odd number of steps; the epilogue reads h_.
  if (steps % 2 == 1)
    TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(ws.h_.get(), ws.h_odd_.get(),
                                                static_cast<std::size_t>(spec_.num_dirs * batch * spec_.hidden) *
                                                    sizeof(float),
                                                cudaMemcpyDeviceToDevice, stream));
  return Status::ok();
}

Status CudaRnn::run(const RnnRunIo& io, CudaRnnWorkspace& ws, const CublasContext& blas) const {
  cudaStream_t stream = blas.stream();
  cublasHandle_t cublas = blas.get();
  const int64_t seq = io.seq, batch = io.batch, h = spec_.hidden, in = spec_.input_size, dirs = spec_.num_dirs;
  const int64_t gh = static_cast<int64_t>(gates_of(spec_.kind)) * h;
  if (seq < 0 || batch < 0) return Status::error("CudaRnn: negative seq or batch");
  if (!io.x && seq * batch > 0) return Status::error("CudaRnn: X is missing");
  std::vector<int32_t> lens(static_cast<std::size_t>(batch), static_cast<int32_t>(seq));
  if (io.lens) {
    for (int64_t b = 0; b < batch; ++b) {
      if (io.lens[b] < 0 || io.lens[b] > seq)
        return Status::error("sequence_lens[" + n_of(b) + "] = " + n_of(io.lens[b]) + " is outside [0, " + n_of(seq) +
                             "] (seq_length)");
      lens[static_cast<std::size_t>(b)] = io.lens[b];
    }
  }
  const int64_t steps = lens.empty() ? 0 : *std::max_element(lens.begin(), lens.end());
  const bool want_y = io.y != nullptr;
  RnnPersistentLayout layout;
  RnnPath path = RnnPath::kStepwise;
  if (batch > 0) {
    TANDEM_ASSIGN_OR_RETURN(path, choose_path(ws, batch, layout));
  }
  const bool persistent = path == RnnPath::kPersistent;
  TANDEM_RETURN_IF_ERROR(ws.reserve(spec_, seq, batch, want_y, persistent, stream));
  ws.last_path_ = path;
  if (batch == 0) return Status::ok();
  const std::size_t hbytes = static_cast<std::size_t>(h) * sizeof(float);
  const std::size_t y_bytes = static_cast<std::size_t>(seq * dirs * batch * h) * sizeof(float);

  // The lengths rarely change (a kernel's are constants): copy them only when they do, since a copy from
  // pageable memory may wait for the stream, stalling this host thread on every run.
  if (ws.lens_on_device_ != lens) {
    ws.lens_on_device_.clear();  // unknown until the copy is enqueued
    TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(ws.lens_.get(), lens.data(), lens.size() * sizeof(int32_t),
                                                cudaMemcpyHostToDevice, stream));
    ws.lens_on_device_ = std::move(lens);
  }
  // State of direction d, batch row b sits at (layout 0) [d, b, :] or (layout 1) [b, d, :]: a pitched copy.
  const std::size_t state_pitch = (spec_.layout == 0 ? 1 : static_cast<std::size_t>(dirs)) * hbytes;
  auto state_at = [&](int64_t d) { return (spec_.layout == 0 ? d * batch : d) * h; };
  for (int64_t d = 0; d < dirs; ++d) {
    float* hd = ws.h_.as<float>() + d * batch * h;
    float* cd = ws.c_.as<float>() + d * batch * h;
    if (io.init_h)
      TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpy2DAsync(hd, hbytes, io.init_h + state_at(d), state_pitch, hbytes,
                                                    static_cast<std::size_t>(batch), cudaMemcpyDeviceToDevice, stream));
    else
      TANDEM_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(hd, 0, static_cast<std::size_t>(batch) * hbytes, stream));
    if (spec_.kind == RnnCellKind::kLstm) {
      if (io.init_c)
        TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpy2DAsync(cd, hbytes, io.init_c + state_at(d), state_pitch, hbytes,
                                                      static_cast<std::size_t>(batch), cudaMemcpyDeviceToDevice,
                                                      stream));
      else
        TANDEM_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(cd, 0, static_cast<std::size_t>(batch) * hbytes, stream));
    }
    // Input projection of every step at once: xw = bias (broadcast), then xw += X·Wᵀ.
    float* xw = ws.xw_.as<float>() + d * seq * batch * gh;
    const int64_t rows = seq * batch;
    if (has_bias_)
      TANDEM_RETURN_IF_ERROR(expand(bias_.as<float>() + d * gh, {1, gh}, xw, {rows, gh}, DType::kFloat32, stream));
    TANDEM_RETURN_IF_ERROR(sgemm(cublas, stream, false, true, rows, gh, in, 1.0f, io.x, in,
                                 w_.as<float>() + d * gh * in, in, has_bias_ ? 1.0f : 0.0f, xw, gh));
  }

  // Y: steps past a row's length stay zero. With a graph, the loop writes the workspace's Y (its pointer is
  // baked into the graph) and one copy moves it out; the persistent kernel writes Y itself. No step at all
  // (every sequence_lens entry 0, or seq 0) has nothing to capture: no graph (an empty capture is a graph of
  // no nodes, which there is no point in instantiating), Y is the caller's, zeroed.
  const bool use_graph = ws.use_graph_ && !persistent && steps > 0;
  float* y_loop = want_y ? (use_graph ? ws.y_.as<float>() : io.y) : nullptr;
  if (y_loop) TANDEM_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(y_loop, 0, y_bytes, stream));
  if (persistent) {
    // Forced, a refused launch is an error; chosen, the per-step loop runs instead (launched directly: Y's
    // buffer is the caller's, no graph was planned for), and later runs of this shape take it from the start.
    bool too_large = false;
    TANDEM_RETURN_IF_ERROR(enqueue_persistent(ws, layout, seq, batch, steps, y_loop, stream,
                                              ws.path_ == RnnPath::kAuto ? &too_large : nullptr));
    if (too_large) {
      ws.layout_.fits = false;
      ws.layout_.reason = "the cooperative launch was refused as too large";
      ws.last_path_ = RnnPath::kStepwise;
      TANDEM_RETURN_IF_ERROR(enqueue_time_loop(ws, cublas, seq, batch, steps, y_loop, stream));
    }
  } else if (!use_graph) {
    TANDEM_RETURN_IF_ERROR(enqueue_time_loop(ws, cublas, seq, batch, steps, y_loop, stream));
  } else {
    const bool cached = ws.graph_ && ws.graph_rnn_ == serial_ && ws.graph_cublas_ == blas.serial() &&
                        ws.graph_seq_ == seq && ws.graph_batch_ == batch && ws.graph_steps_ == steps &&
                        ws.graph_want_y_ == want_y;
    if (!cached) {
      ws.drop_graph();
      // Recorded on the capture stream, where nothing else arrives (other threads record events on
      // `stream`); thread-local mode: other threads may keep using CUDA (even cudaMalloc) meanwhile.
      cudaStream_t capture = blas.capture_stream();
      std::shared_lock<std::shared_mutex> capturing;  // no thread state is destroyed meanwhile (see there)
      if (blas.capture_guard()) capturing = std::shared_lock<std::shared_mutex>(*blas.capture_guard());
      TANDEM_CUDA_RETURN_IF_ERROR(cudaStreamBeginCapture(capture, cudaStreamCaptureModeThreadLocal));
      Status enqueued = enqueue_time_loop(ws, blas.capture_handle(), seq, batch, steps, y_loop, capture);
      cudaGraph_t graph = nullptr;
      Status ended = cuda_status(cudaStreamEndCapture(capture, &graph), "cudaStreamEndCapture");  // always end it
      if (!enqueued || !ended) {
        if (graph) TANDEM_CUDA_REPORT_IF_ERROR(cudaGraphDestroy(graph));
        (void)cudaGetLastError();  // the capture's failure travels in the Status below: keep it out of later checks
        return enqueued ? ended.with_context("capturing the RNN time loop: ")
                        : enqueued.with_context("capturing the RNN time loop: ");
      }
      cudaGraphExec_t exec = nullptr;
      Status inst = cuda_status(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate (RNN time loop)");
      TANDEM_CUDA_REPORT_IF_ERROR(cudaGraphDestroy(graph));
      TANDEM_RETURN_IF_ERROR(inst);
      ws.graph_ = exec;
      ws.graph_rnn_ = serial_;
      ws.graph_cublas_ = blas.serial();
      ws.graph_seq_ = seq;
      ws.graph_batch_ = batch;
      ws.graph_steps_ = steps;
      ws.graph_want_y_ = want_y;
      ++ws.graphs_captured_;
    }
    TANDEM_CUDA_RETURN_IF_ERROR(cudaGraphLaunch(ws.graph_, stream));
    if (want_y)
      TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(io.y, y_loop, y_bytes, cudaMemcpyDeviceToDevice, stream));
  }

  // Y_h and Y_c: the state after each row's last valid step (the initial state for length 0).
  for (int64_t d = 0; d < dirs; ++d) {
    if (io.y_h)
      TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpy2DAsync(io.y_h + state_at(d), state_pitch, ws.h_.as<float>() + d * batch * h,
                                                    hbytes, hbytes, static_cast<std::size_t>(batch),
                                                    cudaMemcpyDeviceToDevice, stream));
    if (io.y_c && spec_.kind == RnnCellKind::kLstm)
      TANDEM_CUDA_RETURN_IF_ERROR(cudaMemcpy2DAsync(io.y_c + state_at(d), state_pitch, ws.c_.as<float>() + d * batch * h,
                                                    hbytes, hbytes, static_cast<std::size_t>(batch),
                                                    cudaMemcpyDeviceToDevice, stream));
  }
  return Status::ok();
}

}  // namespace tandem::cuda
