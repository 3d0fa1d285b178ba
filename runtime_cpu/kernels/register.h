// One registration function per kernel family; kernel_registry.cc calls them all.
#pragma once

#include "runtime_cpu/kernel_registry.h"

namespace tandem::cpu {

void register_control_flow_kernels(KernelRegistry& r);     // If, Constant, Identity
void register_loop_kernels(KernelRegistry& r);             // Loop
void register_scan_kernels(KernelRegistry& r);             // Scan
void register_sequence_kernels(KernelRegistry& r);         // SequenceEmpty/Construct/Insert/At/Erase/Length, ...
void register_sequence_map_kernels(KernelRegistry& r);     // SequenceMap
void register_optional_kernels(KernelRegistry& r);         // Optional, OptionalHasElement, OptionalGetElement
void register_elementwise_kernels(KernelRegistry& r);      // unary, binary, comparison, logic, Where, Clip, Cast
void register_tensor_kernels(KernelRegistry& r);           // shape, index and layout ops
void register_reduce_kernels(KernelRegistry& r);           // Reduce*, Softmax, LogSoftmax, normalisations
void register_linear_algebra_kernels(KernelRegistry& r);   // MatMul, Gemm, Conv, pooling
void register_rnn_kernels(KernelRegistry& r);              // LSTM, GRU, RNN
void register_math_unary_kernels(KernelRegistry& r);       // trigonometric, hyperbolic, Round, IsInf, IsNaN
void register_activation_kernels(KernelRegistry& r);       // Softsign, ThresholdedRelu, Shrink, Celu, ...
void register_mod_bitshift_kernels(KernelRegistry& r);     // Mod, BitShift
void register_rank_select_kernels(KernelRegistry& r);           // ArgMax, ArgMin, TopK, Hardmax
void register_cumulative_kernels(KernelRegistry& r);       // CumSum, CumProd
void register_one_hot_kernels(KernelRegistry& r);          // OneHot
void register_trilu_kernels(KernelRegistry& r);            // Trilu
void register_signal_window_kernels(KernelRegistry& r);    // HannWindow, HammingWindow, BlackmanWindow
void register_mel_weight_matrix_kernels(KernelRegistry& r); // MelWeightMatrix
void register_dft_kernels(KernelRegistry& r);              // DFT
void register_stft_kernels(KernelRegistry& r);             // STFT
void register_quantize_kernels(KernelRegistry& r);         // QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
void register_integer_matmul_kernels(KernelRegistry& r);   // MatMulInteger, QLinearMatMul
void register_integer_conv_kernels(KernelRegistry& r);     // ConvInteger, QLinearConv
void register_loss_kernels(KernelRegistry& r);             // NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss
void register_det_kernels(KernelRegistry& r);              // Det
void register_max_unpool_kernels(KernelRegistry& r);       // MaxUnpool
void register_non_max_suppression_kernels(KernelRegistry& r); // NonMaxSuppression
void register_roi_align_kernels(KernelRegistry& r);         // RoiAlign
void register_max_roi_pool_kernels(KernelRegistry& r);      // MaxRoiPool
void register_grid_sample_kernels(KernelRegistry& r);       // GridSample
void register_affine_grid_kernels(KernelRegistry& r);       // AffineGrid
void register_group_norm_kernels(KernelRegistry& r);        // GroupNormalization
void register_lp_normalization_kernels(KernelRegistry& r);  // LpNormalization
void register_attention_kernels(KernelRegistry& r);         // Attention
void register_tensor_scatter_kernels(KernelRegistry& r);    // TensorScatter
void register_rms_norm_kernels(KernelRegistry& r);          // RMSNormalization
void register_rotary_embedding_kernels(KernelRegistry& r);  // RotaryEmbedding
void register_random_kernels(KernelRegistry& r);            // RandomUniform/Normal(Like), Bernoulli, Multinomial
void register_tfidf_vectorizer_kernels(KernelRegistry& r);  // TfIdfVectorizer
void register_string_normalizer_kernels(KernelRegistry& r);  // StringNormalizer
void register_string_concat_split_kernels(KernelRegistry& r);  // StringConcat, StringSplit
void register_optimizer_kernels(KernelRegistry& r);         // ai.onnx.preview.training: Adagrad, Adam, Momentum

}  // namespace tandem::cpu
