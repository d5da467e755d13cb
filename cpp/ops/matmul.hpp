// Matrix products Y = W X with W in its GGUF type (dequantized in the shader), grouped: several
// independent products with weights in one buffer and one type run as one dispatch.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "gguf/ggml_types.hpp"
#include "vk/device_info.hpp"
#include "vk/recorder.hpp"

namespace rwkv::ops {

// A weight matrix of `rows` outputs by `cols` inputs, row-major ggml blocks (y[m] = sum_k W[m,k] x[k]).
struct Matrix {
  vk::BufferRange data;
  gguf::GgmlType type = gguf::GgmlType::F32;
  uint32_t rows = 0;
  uint32_t cols = 0;
  uint64_t row_bytes() const { return gguf::row_bytes(type, cols); }
};

enum class ActIn : uint32_t { None = 0, Tanh = 1, Sigmoid = 2 };
enum class ActOut : uint32_t { None = 0, ReluSquare = 1 };

struct MatmulGroup {
  const Matrix* w;
  vk::BufferRange x;  // [T, w->cols] f32
  vk::BufferRange y;  // [T, w->rows] f32
  ActIn act_in = ActIn::None;
  // fp16 kernels scale X by 2^-x_shift before converting it (and the sums back): for inputs that
  // can exceed fp16's 65504. The fp32 kernels need no such care and ignore it.
  int8_t x_shift = 0;
  // X in fp16 already, as the tensor-core kernel reads it (rows of ceil(cols / 8) * 8 halves,
  // zeros past cols; act_in None, x_shift 0), written by its producer (ln_shift_mix's half_out):
  // for products where matmul_takes_half_inputs holds.
  bool x_half = false;
};

// Exact: fp32 products everywhere. Fast: fp16 operands with fp32 sums on the tensor cores
// (cooperative matrices) where the device has them; elsewhere the same as Exact.
enum class Precision : uint32_t { Exact = 0, Fast = 1 };

// "exact" / "fast" (InvalidArgument for anything else), and back.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

struct MatmulOptions {
  ActOut act_out = ActOut::None;
  bool accumulate = false;  // Y += W X (the residual adds)
  Precision precision = Precision::Exact;
  // Where the tensor-core kernel keeps its fp16 copy of X (matmul_half_inputs) and its partial
  // sums: at least matmul_scratch_bytes(...) bytes at a 256-byte aligned offset. Without one, a
  // product that needs it allocates its own.
  vk::BufferRange scratch{};
};

// The scratch a product of up to max_tokens tokens over groups of these shapes needs on `device`
// (0 for the fp32 kernels), the kernel chosen as matmul() chooses it.
struct ProductShape {
  uint32_t rows, cols;
  gguf::GgmlType type = gguf::GgmlType::F16;  // block-quantized weights may take an fp16 copy
};
uint64_t matmul_scratch_bytes(const vk::DeviceInfo& device, Precision precision, uint32_t max_tokens,
                              std::span<const ProductShape> groups);
// The k splits of the tensor-core kernel for one dispatch of these groups (1 where another kernel
// runs): the tile's own, or the rule's in matmul.cpp. Exposed for its test.
uint32_t matmul_k_splits(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision, std::span<const ProductShape> groups);

// Bytes of one row of k inputs in the fp16 layout the tensor-core kernel reads (ceil(k / 8) uvec4
// of 8 halves, zeros past k): what a producer writing MatmulGroup::x_half lays out per token.
uint64_t half_row_bytes(uint32_t k);

// Whether a product of n_tokens runs the tensor-core kernel, which takes fp16 X (the producer of X
// may then write it so: MatmulGroup::x_half), as matmul() chooses it.
bool matmul_takes_half_inputs(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision);

// The first step of the tensor-core kernel (exposed for its test): the groups' X converted to fp16
// with act_in and the 2^-x_shift scale applied (matmul_x16.comp), group g's rows of ceil(k / 8)
// uvec4 (zeros past k) at uvec4 offset offsets[g] of `out`. At most 4 groups.
void matmul_half_inputs(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, const vk::BufferRange& out,
                        std::span<const uint32_t> offsets);

// The tensor-core kernel's fp16 weights where it converts them first (exposed for its test):
// rows [row_begin, row_begin + rows) of each part's matrix in fp16 (matmul_w16.comp), 8 halves
// per uvec4, row after row, at uvec4 offset offsets[i] of `out`. 1 to 4 parts of one type and one
// weight buffer; k a multiple of 8.
struct MatrixRows {
  const Matrix* w;
  uint32_t row_begin, rows;
};
void matmul_half_weights(vk::Recorder& rec, std::span<const MatrixRows> parts, const vk::BufferRange& out,
                         std::span<const uint32_t> offsets);

// The matmul.comp / matmul_coopmat.comp variants, and how a product of n tokens picks one.
enum class MatmulKernel : uint32_t { Matvec, Batched, Tiled, Coopmat };
const char* kernel_name(MatmulKernel k);
// A cooperative-matrix tile: BT tokens x BR weight rows per workgroup, WT x WR per subgroup, BK
// of k per subgroup and step, KS k-groups of subgroups (a step covers KS * BK of k), k split
// across SK workgroups (0: as matmul.cpp's rule decides from the number of tiles).
struct CoopmatTile {
  uint32_t br, bt, wr, wt, bk = 32, ks = 1, sk = 0;
  // Workgroups of this tile one compute unit holds at once (registers, shared memory), as measured;
  // 0 when unknown (a forced tile): the k-split rule then falls back to a workgroup count.
  uint32_t resident = 0;
};
struct MatmulChoice {
  MatmulKernel kernel;
  CoopmatTile tile{};  // for Coopmat
};
// The kernel for a product of n_tokens on `device` (rules in matmul.cpp's tables), for the
// groups of one dispatch where given (the tensor-core tile then depends on how many workgroups
// its tiles make against the device's compute units). `forced` is
// $RWKV_GPU_MATMUL ("" when unset, read at each product; for tests and benchmarks): "batched", "tiled"
// or "coopmat", optionally "coopmat:BRxBTxWRxWT[xBK[xKS[xSK]]]", which replaces the table's choice for every
// product, whatever the precision. A forced kernel the device cannot run, or an unknown name, is an
// InvalidArgument.
MatmulChoice choose_matmul(const vk::DeviceInfo& device, uint32_t n_tokens, Precision precision, const std::string& forced,
                          std::span<const ProductShape> groups = {});

// How a one-token product (MATVEC) of a weight type whose longest k is max_k runs: invocations
// per weight row (whole subgroups within the device's workgroup; one subgroup on CPU devices),
// 8-weight chunks per loop step and rows each invocation reads at once; a table in matmul.cpp.
// $RWKV_GPU_MATVEC=LANES[xSTEPS[xRPI]] replaces it (benchmarks).
struct MatvecShape {
  uint32_t lanes, steps, rpi;
};
MatvecShape matvec_shape(const vk::DeviceInfo& device, gguf::GgmlType type, uint32_t max_k);

// Records Y_g = act_out(W_g act_in(X_g)) for every group. Groups sharing a weight buffer, a
// weight type and X/Y buffers form one dispatch; weights above maxStorageBufferRange are split
// into row chunks.
void matmul(vk::Recorder& rec, std::span<const MatmulGroup> groups, uint32_t n_tokens, MatmulOptions options = {});

}  // namespace rwkv::ops
