#include "runtime_cuda/cuda_device.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "runtime_cuda/cuda_check.h"
#include "runtime_cuda/cuda_kernel.h"
#include "runtime_cuda/cuda_thread_state.h"

namespace tandem::cuda {
namespace {

std::atomic<uint64_t> next_serial{1};

// The devices alive, by serial: a thread that ends looks its devices up here (one may be gone already).
// Never destroyed: threads may end during static destruction.
std::mutex& live_mu() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::unordered_map<uint64_t, const CudaDevice*>& live_devices() {
  static auto* live = new std::unordered_map<uint64_t, const CudaDevice*>;
  return *live;
}

// The calling thread's state per device, by the device's serial (never reused, unlike its address). When
// the thread ends, each device still alive frees that thread's state (streams, pinned staging, cuBLAS and
// its workspace): threads that call a session once each (a server's) must not pile them up.
struct ThreadSlot {
  uint64_t serial;
  CudaThreadState* state;
};
struct ThreadSlots {
  std::vector<ThreadSlot> slots;
  ~ThreadSlots() {
    std::lock_guard<std::mutex> lock(live_mu());  // held: no device goes while it frees this thread's state
    for (const ThreadSlot& s : slots) {
      auto it = live_devices().find(s.serial);
      if (it != live_devices().end()) it->second->drop_state(s.state);
    }
  }
};
thread_local ThreadSlots thread_slots;

CudaThreadState* find_slot(uint64_t serial) {
  for (const ThreadSlot& s : thread_slots.slots)
    if (s.serial == serial) return s.state;
  return nullptr;
}

}  // namespace

CudaDevice::CudaDevice(int device)
    : device_(device),
      name_("cuda:" + std::to_string(device)),
      serial_(next_serial.fetch_add(1)),
      allocator_(device),
      blocks_(allocator_, [this]() -> Result<cudaStream_t> {
        TANDEM_ASSIGN_OR_RETURN(CudaThreadState* s, thread_state());
        return s->compute.get();
      }) {
  std::lock_guard<std::mutex> lock(live_mu());
  live_devices().emplace(serial_, this);
}

CudaDevice::~CudaDevice() {
  {
    std::lock_guard<std::mutex> lock(live_mu());  // before mu_: an ending thread takes them in this order
    live_devices().erase(serial_);
  }
  // Kernels and tensors are gone by now; wait for every stream so the pending blocks can go back.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : states_) {
    Status a = s->compute.synchronize(), b = s->copy.synchronize();
    if (!a) std::fprintf(stderr, "tandem: %s\n", a.message().c_str());
    if (!b) std::fprintf(stderr, "tandem: %s\n", b.message().c_str());
  }
  Status r = blocks_.reap(/*wait=*/true);
  if (!r) std::fprintf(stderr, "tandem: %s\n", r.message().c_str());
  // The threads' states go now rather than with the members: destroying one synchronizes the whole device
  // (cublasDestroy, cudaFreeHost), which must not meet a capture of another device on this GPU (drop_state).
  for (const auto& s : states_) {
    blocks_.forget_stream(s->compute.get());
    blocks_.forget_stream(s->copy.get());
  }
  std::vector<DeviceBuffer> workspaces;  // back to the pool after the guard (lock order: see drop_state)
  std::unique_lock<std::shared_mutex> no_capture(device_sync_guard());
  for (const auto& s : states_)
    if (s->cublas) workspaces.push_back(s->cublas->release_handles());
  states_.clear();
  no_capture.unlock();
}

Support CudaDevice::supports(const Graph& g, NodeId id) const { return cuda_supports(g, id); }

Result<KernelPtr> CudaDevice::create_kernel(const KernelInit& init) const {
  const Node& n = init.node();
  const CudaOp* op = n.domain.empty() ? find_cuda_op(n.op_type) : nullptr;
  if (!op) return init.error("no CUDA kernel for op '" + n.op_type + "'");
  switch (op->family) {
    case CudaFamily::kLinear: return make_linear_kernel(*this, init);
    case CudaFamily::kElementwise: return make_elementwise_kernel(*this, init);
    case CudaFamily::kNormalization: return make_normalization_kernel(*this, init);
    case CudaFamily::kLayout: return make_layout_kernel(*this, init);
    case CudaFamily::kView: return make_view_kernel(*this, init);
    case CudaFamily::kRnn: return make_rnn_kernel(*this, init);
    case CudaFamily::kConv: return make_conv_kernel(*this, init);
  }
  return init.error("no CUDA kernel for op '" + n.op_type + "'");
}

Result<CudaThreadState*> CudaDevice::thread_state() const {
  if (CudaThreadState* s = find_slot(serial_)) return s;
  auto made = CudaThreadState::create(device_, allocator_, &device_sync_guard());
  if (!made) return Status::error("device '" + name_ + "': " + made.status().message());
  CudaThreadState* s = made->get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    states_.push_back(std::move(made).value());
  }
  thread_slots.slots.push_back(ThreadSlot{serial_, s});
  return s;
}

void CudaDevice::release_thread() const {
  auto& slots = thread_slots.slots;
  auto it = std::find_if(slots.begin(), slots.end(), [this](const ThreadSlot& s) { return s.serial == serial_; });
  if (it == slots.end()) return;
  CudaThreadState* state = it->state;
  slots.erase(it);
  drop_state(state);
}

void CudaDevice::drop_state(CudaThreadState* state) const {
  std::unique_ptr<CudaThreadState> owned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto st = std::find_if(states_.begin(), states_.end(), [state](const auto& s) { return s.get() == state; });
    if (st == states_.end()) return;
    owned = std::move(*st);
    states_.erase(st);
  }
  // Nothing of the thread's should be in flight; wait anyway, so its streams go idle. Blocks it made (a
  // kernel's weights, uploaded on the compiling thread) outlive it: they forget its streams.
  Status a = owned->compute.synchronize(), b = owned->copy.synchronize();
  if (!a) std::fprintf(stderr, "tandem: %s\n", a.message().c_str());
  if (!b) std::fprintf(stderr, "tandem: %s\n", b.message().c_str());
  blocks_.forget_stream(owned->compute.get());
  blocks_.forget_stream(owned->copy.get());
  // Destroying a cuBLAS handle (and pinned memory) synchronizes the whole device, which would break a
  // CUDA Graph capture under way on another thread (of any device on this GPU): wait until none is. The
  // cuBLAS workspace goes back to the pool after the guard is released: the pool takes its lock and then
  // the guard when it frees memory (cudaFree), so taking them the other way round could deadlock.
  DeviceBuffer workspace;
  std::unique_lock<std::shared_mutex> no_capture(device_sync_guard());
  if (owned->cublas) workspace = owned->cublas->release_handles();
  owned.reset();
  no_capture.unlock();
}

// Errors surface from the first kernel, which asks for the state again.
void CudaDevice::bind_thread() const {
  (void)cudaSetDevice(device_);
  (void)cudaGetLastError();
  auto s = thread_state();
  (void)s;
}

Result<Tensor> CudaDevice::allocate(DType dtype, std::vector<int64_t> shape, MemoryCategory category) const {
  TANDEM_ASSIGN_OR_RETURN(CudaThreadState* s, thread_state());
  return blocks_.allocate(dtype, std::move(shape), category, s->compute.get());
}

Result<Tensor> CudaDevice::upload_now(const Tensor& host, MemoryCategory category) const {
  if (host.device() != DeviceKind::kCpu) return Status::error("upload_now: the tensor is not in host memory");
  TANDEM_ASSIGN_OR_RETURN(CudaThreadState* s, thread_state());
  TANDEM_ASSIGN_OR_RETURN(Tensor d, blocks_.allocate(host.dtype(), host.shape(), category, s->compute.get()));
  if (host.nbytes()) {
    // On the compute stream and waited for: a pageable cudaMemcpy may return before the DMA has landed.
    TANDEM_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(d.raw(), host.raw(), host.nbytes(), cudaMemcpyHostToDevice, s->compute.get()));
    TANDEM_RETURN_IF_ERROR(s->compute.synchronize());
  }
  return d;
}

Result<Tensor> CudaDevice::receive(const Tensor& t, const Device* from, const Tensor* into) const {
  const std::string source = from ? "device '" + from->name() + "'" : std::string("the caller");
  if (t.device() == DeviceKind::kCuda) {
    if (blocks_.block_of(t)) return t;  // already in this device's memory
    return Status::error("device '" + name_ + "' cannot read a GPU tensor from " + source);
  }
  if (t.dtype() == DType::kString || t.dtype() == DType::kUndefined)
    return Status::error("device '" + name_ + "' cannot hold a " + t.describe() + " tensor");
  TANDEM_ASSIGN_OR_RETURN(CudaThreadState* s, thread_state());
  Tensor d;
  if (into && into->defined() && into->nbytes() == t.nbytes() && blocks_.block_of(*into)) {
    d = into->view(0, t.dtype(), t.shape());  // the memory plan's slot in this run's arena
  } else {
    TANDEM_ASSIGN_OR_RETURN(d, blocks_.allocate(t.dtype(), t.shape(), MemoryCategory::kActivations, s->compute.get()));
  }
  if (t.nbytes()) {
    // The source is host memory its producer has finished; the staging returns once it has read it.
    TANDEM_RETURN_IF_ERROR(s->staging.upload(d.raw(), t.raw(), t.nbytes(), s->copy.get()));
    TANDEM_RETURN_IF_ERROR(s->copied.record(s->copy.get()));
    TANDEM_RETURN_IF_ERROR(s->compute.wait(s->copied.get()));
  }
  return d;
}

Result<Tensor> CudaDevice::to_host(const Tensor& t) const {
  if (t.device() == DeviceKind::kCpu) return t;
  const DeviceBlock* b = blocks_.block_of(t);
  if (!b) return Status::error("device '" + name_ + "' did not make this GPU tensor (" + t.describe() + ")");
  TANDEM_ASSIGN_OR_RETURN(CudaThreadState* s, thread_state());
  Tensor host = Tensor::empty(t.dtype(), t.shape());
  if (t.nbytes()) {
    // After everything queued so far on the producer's stream (its producer included), then wait. A block
    // whose stream is gone has nothing pending (forget_stream).
    if (b->stream) {
      TANDEM_RETURN_IF_ERROR(s->mark.record(b->stream));
      TANDEM_RETURN_IF_ERROR(s->copy.wait(s->mark.get()));
    }
    TANDEM_RETURN_IF_ERROR(s->staging.download(host.raw(), t.raw(), t.nbytes(), s->copy.get()));
  }
  return host;
}

Status CudaDevice::finish_run() const {
  CudaThreadState* s = find_slot(serial_);
  if (!s) return Status::ok();
  TANDEM_RETURN_IF_ERROR(s->compute.synchronize());
  TANDEM_RETURN_IF_ERROR(s->copy.synchronize());
  return blocks_.reap(/*wait=*/false);
}

std::optional<DeviceMemoryUsage> CudaDevice::memory_usage() const {
  // A block still waiting for its stream counts as in use when the wait fails: the account then errs high.
  (void)release_pending();
  const PoolStats p = memory();
  auto counter = [](const MemoryCounter& c) {
    return DeviceMemoryUsage::Counter{static_cast<int64_t>(c.current), static_cast<int64_t>(c.peak)};
  };
  DeviceMemoryUsage u;
  u.weights = counter(p.of(MemoryCategory::kWeights));
  u.activations = counter(p.of(MemoryCategory::kActivations));
  u.workspace = counter(p.of(MemoryCategory::kWorkspace));
  u.total = counter(p.in_use);
  u.reserved = static_cast<int64_t>(p.reserved.current);
  return u;
}

}  // namespace tandem::cuda
