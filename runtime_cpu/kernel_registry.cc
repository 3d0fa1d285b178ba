#include "runtime_cpu/kernel_registry.h"

#include <stdexcept>

#include "runtime_cpu/kernels/register.h"

namespace tandem::cpu {

void KernelRegistry::add(const std::string& domain, const std::string& op_type, KernelFactory factory,
                         NodeCheck check) {
  if (!entries_.emplace(std::pair{domain, op_type}, Entry{std::move(factory), std::move(check)}).second)
    throw std::logic_error("CPU kernel for '" + op_type + "' of domain '" + domain + "' registered twice");
}

const KernelFactory* KernelRegistry::find(const std::string& domain, const std::string& op_type) const {
  auto it = entries_.find(std::pair{domain, op_type});
  return it == entries_.end() ? nullptr : &it->second.factory;
}

void KernelRegistry::take_strings(const std::string& domain, const std::string& op_type) {
  auto it = entries_.find(std::pair{domain, op_type});
  if (it == entries_.end())
    throw std::logic_error("take_strings: no CPU kernel for '" + op_type + "' of domain '" + domain + "'");
  it->second.strings = true;
}

Status KernelRegistry::check(const Graph& g, NodeId id) const {
  const Node& n = g.node(id);
  auto it = entries_.find(std::pair{n.domain, n.op_type});
  if (it == entries_.end()) return Status::ok();
  if (!it->second.strings)
    for (const auto* values : {&n.inputs, &n.outputs})
      for (ValueId v : *values)
        if (v != kNoValue && g.value(v).dtype == DType::kString)
          return Status::error(n.op_type + " does not take string tensors ('" + g.value(v).name + "' is one)");
  return it->second.check ? it->second.check(g, id) : Status::ok();
}

std::vector<std::string> KernelRegistry::ops() const {
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_) out.push_back(key.first.empty() ? key.second : key.first + "::" + key.second);
  return out;
}

const KernelRegistry& cpu_kernels() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_control_flow_kernels(r);
    register_loop_kernels(r);
    register_scan_kernels(r);
    register_sequence_kernels(r);
    register_sequence_map_kernels(r);
    register_optional_kernels(r);
    register_elementwise_kernels(r);
    register_tensor_kernels(r);
    register_reduce_kernels(r);
    register_linear_algebra_kernels(r);
    register_rnn_kernels(r);
    register_math_unary_kernels(r);
    register_activation_kernels(r);
    register_mod_bitshift_kernels(r);
    register_rank_select_kernels(r);
    register_cumulative_kernels(r);
    register_one_hot_kernels(r);
    register_trilu_kernels(r);
    register_signal_window_kernels(r);
    register_mel_weight_matrix_kernels(r);
    register_dft_kernels(r);
    register_stft_kernels(r);
    register_quantize_kernels(r);
    register_integer_matmul_kernels(r);
    register_integer_conv_kernels(r);
    register_loss_kernels(r);
    register_det_kernels(r);
    register_max_unpool_kernels(r);
    register_non_max_suppression_kernels(r);
    register_roi_align_kernels(r);
    register_max_roi_pool_kernels(r);
    register_grid_sample_kernels(r);
    register_affine_grid_kernels(r);
    register_group_norm_kernels(r);
    register_lp_normalization_kernels(r);
    register_attention_kernels(r);
    register_tensor_scatter_kernels(r);
    register_rms_norm_kernels(r);
    register_rotary_embedding_kernels(r);
    register_random_kernels(r);
    register_tfidf_vectorizer_kernels(r);
    register_string_normalizer_kernels(r);
    register_string_concat_split_kernels(r);
    register_optimizer_kernels(r);
    return r;
  }();
  return registry;
}

}  // namespace tandem::cpu
