// Shared by the shape, index and layout kernels (tensor_ops.cc and the *_ops.cc files it registers). These
// kernels only move elements, so they work on element sizes rather than element types: one instantiation
// per size (1, 2, 4, 8, 16 bytes) serves every type the Tensor holds, and one more moves strings, which
// are objects (assigned, never memcpy'd): their "size" is sizeof(std::string), so the byte arithmetic of
// offsets and blocks holds for them too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/kernel.h"
#include "runtime_cpu/kernel_registry.h"

namespace tandem::cpu {

void register_shape_ops(KernelRegistry& r);      // Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze
void register_layout_ops(KernelRegistry& r);     // Transpose, Expand, Tile, Concat, Split
void register_index_ops(KernelRegistry& r);      // Gather, Slice, Pad
void register_generator_ops(KernelRegistry& r);  // ConstantOfShape, Range, Dropout

// A 16-byte element (complex128), copied as a whole.
struct Bytes16 {
  uint64_t lo, hi;
};

// Bytes from one element to the next in a tensor of `dtype`: dtype_size, and sizeof(std::string) for strings.
std::size_t element_stride(DType dtype);

// Calls f(U{}) with U the type that moves elements of `dtype`: std::string for strings, else the unsigned
// integer (or Bytes16) type of its size. Types come from a tensor check_movable accepted, so there is no
// other case.
template <typename F>
void with_element_type(DType dtype, F&& f) {
  if (dtype == DType::kString) {
    f(std::string{});
    return;
  }
  switch (dtype_size(dtype)) {
    case 1:
      f(uint8_t{});
      break;
    case 2:
      f(uint16_t{});
      break;
    case 4:
      f(uint32_t{});
      break;
    case 8:
      f(uint64_t{});
      break;
    default:
      f(Bytes16{});
      break;
  }
}

// Input i, or an error naming it when the node omitted it.
Result<const Tensor*> required_input(const KernelContext& ctx, std::size_t i, const std::string& what);

// Copies the elements in `bytes` bytes (a multiple of element_stride) from `src` to `dst`, which must not
// overlap: memcpy, or string assignment.
void copy_elements(DType dtype, void* dst, const void* src, std::size_t bytes);

// An error unless `t` is a tensor of a movable type (every type tandem holds, strings included) on the host.
Status check_movable(const KernelContext& ctx, const Tensor& t, const std::string& what);

// The elements of a small 1-D int64 or int32 tensor (axes, shape, pads...), or an error naming `what`.
Result<std::vector<int64_t>> read_ints(const KernelContext& ctx, const Tensor& t, const std::string& what);

// `axes` with negative ones made non-negative, in their order; an error names `what` when one is out of
// [-rank, rank-1] or repeats.
Result<std::vector<int64_t>> normalize_axes(const KernelContext& ctx, const std::vector<int64_t>& axes,
                                            int64_t rank, const std::string& what);

// An error unless a `dtype` tensor of `shape` (built from run-time numbers: Expand's shape, Tile's
// repeats...) has a byte size that fits in memory arithmetic, so a hostile shape cannot overflow the element
// count.
Status check_output_size(const KernelContext& ctx, const std::vector<int64_t>& shape, DType dtype);

// Row-major element strides of `shape`.
std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape);

// Fills the row-major `dst` of `shape` with dst[i_0, ..., i_k] = src[offset + sum_d i_d * strides[d]], for
// elements of `dtype`. Strides are in elements and may be 0 (broadcast) or negative (reversed).
// Transpose, Expand, Tile and Slice are all this one copy with different strides.
void copy_strided(DType dtype, const void* src, int64_t offset, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides, void* dst);
// copy_strided into node `ctx`'s output, in slices of about 16 MiB along the outermost dimension of more
// than one element, checking the run's control (RunControl) before each: an Expand or Tile that makes a
// model-sized output (seconds) stops at the run's time limit or cancellation, as a Loop does between
// iterations, rather than running to its end. Without an active control it is copy_strided.
Status copy_strided_stoppable(const KernelContext& ctx, DType dtype, const void* src, int64_t offset,
                              const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, void* dst);

// For a kernel that writes a model-sized output in its own loop (Pad, AffineGrid): checks the run's control
// (RunControl) each time another 16 MiB of output is done, as copy_strided_stoppable does between slices,
// since the executors check only between nodes. Without an active control every check passes at once.
class OutputProgress {
 public:
  // `what` names the elements counted in the message: the output's by default; a kernel that writes an
  // intermediate first (Resize's passes) says which, so the count is not read as one of the output's.
  OutputProgress(const KernelContext& ctx, int64_t total_elements, std::size_t element_bytes,
                 std::string what = "output element");
  // An error naming the node, `what` and `done` (elements written of the total) when the run must stop.
  Status at(int64_t done) {
    if (done < next_) return Status::ok();
    return check(done);
  }

 private:
  Status check(int64_t done);
  const KernelContext& ctx_;
  int64_t total_, step_, next_;
  std::string what_;
};

// Copies `outer` blocks of `block` bytes spaced `src_pitch` apart to blocks spaced `dst_pitch` apart: one
// part of a concatenation or a split (bytes of elements of `dtype`, counted with element_stride).
void copy_blocks(DType dtype, const std::byte* src, std::size_t src_pitch, std::byte* dst, std::size_t dst_pitch,
                 int64_t outer, std::size_t block);

// Concatenates `parts` (one dtype, equal shapes outside `axis`; an empty 1-D part is skipped) into output
// `out` along `axis` (negative counts from the back); errors name a part as `what` and its index. Concat and
// ConcatFromSequence.
Status concat_tensors(KernelContext& ctx, std::size_t out, std::span<const Tensor* const> parts, int64_t axis,
                      const std::string& what);

// `count` copies of the element of `dtype` at `value`.
void fill_elements(DType dtype, void* dst, int64_t count, const void* value);

// One element of the numeric `dtype` holding `v` (float16 and bfloat16 rounded to nearest even), or an
// error when `dtype` is not numeric or `v` does not fit an integer type.
Result<std::vector<std::byte>> scalar_bytes(DType dtype, double v);

}  // namespace tandem::cpu
