// GPU suite (ctest -L gpu; needs a device with cooperative matrices, never CI's lavapipe): the
// tensor-core matmul (matmul_coopmat.comp) against Eigen in double precision on the
// CPU-dequantized weights, for every weight type, every epilogue and each tile of the selection
// table, at sizes that are not multiples of anything: rows not a multiple of the tile, k not a
// multiple of the 32-wide step (where the type allows), T = 1, 15, 16, 17, 63, 512, 1000.
// fp16 operands: each term is off by at most 2 * 2^-11 of |x w|, so the bound is 1.1e-3 of the sum
// of |terms|. Each case prints its largest error (relative to that sum + 1) for docs/precision.md.
#include <cstdlib>

#include "matmul_check.hpp"

namespace rwkv {
namespace {

vk::DevicePtr device() {
  static vk::DevicePtr d = [] {
    auto dev = vk::Device::open();
    if (!dev->info().coopmat_f16)
      throw std::runtime_error("the GPU suite needs cooperative matrices; " + dev->info().name + " has none usable");
    return dev;
  }();
  return d;
}

using test::MatmulCase;
constexpr test::Tolerance k_fp16{1.1e-3, 1e-5};

struct CoopmatCase {
  MatmulCase c;
  const char* tile;  // RWKV_GPU_MATMUL: the table's tile for T ("coopmat") or a given one
};

void check(const CoopmatCase& cc, ops::ActIn act_in, ops::ActOut act_out, bool accumulate, float x_scale = 1.0f,
           int8_t x_shift = 0, bool x_half = false) {
  ::setenv("RWKV_GPU_MATMUL", cc.tile, 1);
  const double worst = test::check_matmul(device(), cc.c, act_in, act_out, accumulate, k_fp16, ops::Precision::Fast,
                                          x_scale, x_shift, x_half);
  ::unsetenv("RWKV_GPU_MATMUL");
  std::printf("[coopmat max error] %s %s: %.3g\n", test::case_name(cc.c).c_str(), cc.tile, worst);
}

}  // namespace

class CoopmatCases : public ::testing::TestWithParam<CoopmatCase> {};

TEST_P(CoopmatCases, PlainProduct) { check(GetParam(), ops::ActIn::None, ops::ActOut::None, false); }
TEST_P(CoopmatCases, TanhInReluSquareOut) { check(GetParam(), ops::ActIn::Tanh, ops::ActOut::ReluSquare, false); }
TEST_P(CoopmatCases, SigmoidInAccumulate) { check(GetParam(), ops::ActIn::Sigmoid, ops::ActOut::None, true); }
// Inputs far beyond fp16's range (relu^2 of large keys), taken at 2^-8.
TEST_P(CoopmatCases, LargeInputsShifted) { check(GetParam(), ops::ActIn::None, ops::ActOut::None, true, 3e4f, 8); }
// X handed over in fp16 by its producer (ln_shift_mix's half_out): no conversion step.
TEST_P(CoopmatCases, HalfInputsGiven) { check(GetParam(), ops::ActIn::None, ops::ActOut::ReluSquare, false, 1.0f, 0, true); }

using gguf::GgmlType;
INSTANTIATE_TEST_SUITE_P(
    EveryType, CoopmatCases,
    ::testing::Values(CoopmatCase{{GgmlType::F32, 37, 40, 17}, "coopmat"}, CoopmatCase{{GgmlType::F32, 130, 1000, 63}, "coopmat"},
                      CoopmatCase{{GgmlType::F16, 33, 1056, 1}, "coopmat"}, CoopmatCase{{GgmlType::F16, 257, 2600, 512}, "coopmat"},
                      CoopmatCase{{GgmlType::F16, 77, 72, 1000}, "coopmat"}, CoopmatCase{{GgmlType::BF16, 19, 88, 15}, "coopmat"},
                      CoopmatCase{{GgmlType::Q8_0, 65, 1024, 16}, "coopmat"}, CoopmatCase{{GgmlType::Q4_0, 31, 96, 70}, "coopmat"},
                      CoopmatCase{{GgmlType::Q4_1, 45, 160, 17}, "coopmat"}, CoopmatCase{{GgmlType::Q5_0, 50, 224, 33}, "coopmat"},
                      CoopmatCase{{GgmlType::Q5_1, 17, 160, 5}, "coopmat"}, CoopmatCase{{GgmlType::Q4_K, 29, 512, 1}, "coopmat"},
                      CoopmatCase{{GgmlType::Q4_K, 140, 768, 512}, "coopmat"}, CoopmatCase{{GgmlType::Q5_K, 3, 256, 67}, "coopmat"},
                      CoopmatCase{{GgmlType::Q6_K, 41, 1280, 15}, "coopmat"}, CoopmatCase{{GgmlType::Q6_K, 200, 256, 1000}, "coopmat"},
                      // Each tile of the table, and others, at token counts they are not chosen for.
                      CoopmatCase{{GgmlType::F16, 70, 136, 300}, "coopmat:64x16x16x16"},
                      CoopmatCase{{GgmlType::Q5_K, 140, 512, 200}, "coopmat:64x64x32x32x64x2"},
                      CoopmatCase{{GgmlType::Q4_1, 300, 2048, 100}, "coopmat:128x128x64x64x32"},
                      CoopmatCase{{GgmlType::Q4_0, 70, 224, 40}, "coopmat:128x128x64x32x32"},
                      // k split across workgroups: k not a multiple of the step, empty splits (k 64 in
                      // 4 splits of 32), the rule's choice for few tiles (2 tiles, k 2560: 5 splits).
                      CoopmatCase{{GgmlType::F16, 150, 1000, 70}, "coopmat:128x128x64x32x32x1x3"},
                      CoopmatCase{{GgmlType::Q8_0, 40, 64, 20}, "coopmat:64x32x32x16x32x1x4"},
                      CoopmatCase{{GgmlType::F32, 65, 72, 33}, "coopmat:64x32x32x16x16x1x5"},
                      CoopmatCase{{GgmlType::Q6_K, 100, 2560, 130}, "coopmat:128x128x64x32x32x1x0"},
                      CoopmatCase{{GgmlType::Q8_0, 70, 128, 3}, "coopmat:64x32x32x16"},
                      CoopmatCase{{GgmlType::Q6_K, 70, 256, 20}, "coopmat:128x64x32x32"},
                      CoopmatCase{{GgmlType::Q4_K, 9, 256, 70}, "coopmat:128x128x64x64"},
                      CoopmatCase{{GgmlType::F16, 70, 136, 100}, "coopmat:64x32x32x16x64"},
                      // k-groups: k ending inside a group's slice, inside the step, on a boundary.
                      CoopmatCase{{GgmlType::F16, 70, 1000, 100}, "coopmat:64x32x32x16x32x4"},
                      CoopmatCase{{GgmlType::Q4_K, 130, 768, 37}, "coopmat:32x16x16x16x32x4"},
                      // Up to 4 x 4 accumulators per subgroup (every literal of the epilogue).
                      CoopmatCase{{GgmlType::F16, 300, 520, 300}, "coopmat:128x128x64x64x32x2"},
                      CoopmatCase{{GgmlType::Q6_K, 129, 512, 140}, "coopmat:128x128x64x32x64"},
                      CoopmatCase{{GgmlType::BF16, 33, 1028, 20}, "coopmat:64x16x16x16x32x2"},
                      CoopmatCase{{GgmlType::Q8_0, 33, 160, 200}, "coopmat:128x64x32x32x32x2"},
                      CoopmatCase{{GgmlType::F32, 65, 72, 17}, "coopmat:64x32x32x16x16x4"},
                      // A 48-wide k step (k ending inside a step), and an epilogue staging block
                      // larger than the tiles whose shared memory it reuses.
                      CoopmatCase{{GgmlType::F16, 260, 2600, 300}, "coopmat:128x128x64x64x48"},
                      CoopmatCase{{GgmlType::Q8_0, 130, 1056, 70}, "coopmat:128x128x64x64x48x1x2"},
                      CoopmatCase{{GgmlType::F32, 65, 40, 33}, "coopmat:64x16x16x16x16"}),
    [](const auto& info) {
      std::string tile = info.param.tile;
      for (auto& ch : tile)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return test::case_name(info.param.c) + "_" + tile;
    });

}  // namespace rwkv
