// The grouped matrix products (the fp32 variants) against Eigen in double precision on the
// CPU-dequantized weights, at awkward sizes, with activations, accumulation and several groups.
// One token runs as MATVEC, 2 .. 64 as BATCHED (T = 2, 3, 5, 8, 9, and 40: three workgroups of
// at most 16 tokens), more as 64 x 64 tiles (T = 67 .. 133). Then the kernel-selection table.
// (The tensor-core variant's tests are the GPU suite: test_matmul_coopmat.cpp.)
#include "matmul_check.hpp"

namespace rwkv {

namespace {

vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}

using test::MatmulCase;
// fp32 sums: a few ulps of the sum of |terms|.
constexpr test::Tolerance k_fp32{4e-6, 1e-6};

void check(const MatmulCase& c, ops::ActIn act_in, ops::ActOut act_out, bool accumulate) {
  test::check_matmul(device(), c, act_in, act_out, accumulate, k_fp32);
}

}  // namespace

class MatmulCases : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulCases, PlainProduct) { check(GetParam(), ops::ActIn::None, ops::ActOut::None, false); }
TEST_P(MatmulCases, TanhInReluSquareOut) { check(GetParam(), ops::ActIn::Tanh, ops::ActOut::ReluSquare, false); }
TEST_P(MatmulCases, SigmoidInAccumulate) { check(GetParam(), ops::ActIn::Sigmoid, ops::ActOut::None, true); }

using gguf::GgmlType;
INSTANTIATE_TEST_SUITE_P(
    OddSizes, MatmulCases,
    ::testing::Values(MatmulCase{GgmlType::F32, 37, 96, 1}, MatmulCase{GgmlType::F32, 5, 40, 3}, MatmulCase{GgmlType::F16, 33, 1056, 8},
                      MatmulCase{GgmlType::BF16, 19, 64, 9}, MatmulCase{GgmlType::Q8_0, 65, 1024, 2}, MatmulCase{GgmlType::Q4_0, 31, 96, 70},
                      MatmulCase{GgmlType::Q5_1, 17, 160, 5}, MatmulCase{GgmlType::Q4_K, 29, 512, 1}, MatmulCase{GgmlType::Q5_K, 3, 256, 67},
                      MatmulCase{GgmlType::Q6_K, 41, 1280, 8}, MatmulCase{GgmlType::F16, 45, 256, 133},
                      MatmulCase{GgmlType::Q8_0, 70, 128, 131}, MatmulCase{GgmlType::Q4_K, 9, 256, 129}, MatmulCase{GgmlType::F16, 77, 2112, 40},
                      MatmulCase{GgmlType::Q6_K, 13, 256, 40}),
    [](const auto& info) { return test::case_name(info.param); });

// One-token products with the lanes per row, chunks per step and rows per invocation forced
// ($RWKV_GPU_MATVEC, for the benchmark sweeps): still the reference's products (k not a multiple
// of the step, rows not of the rows per invocation); bad values throw.
TEST(MatvecForced, LanesAndStepsKeepTheProduct) {
  const uint32_t sg = device()->info().subgroup_size;
  for (const std::string v : {std::to_string(sg) + "x1", std::to_string(2 * sg) + "x3", std::to_string(sg) + "x8",
                              std::to_string(sg) + "x2x2", std::to_string(2 * sg) + "x1x3", std::to_string(sg) + "x2x4"}) {
    ::setenv("RWKV_GPU_MATVEC", v.c_str(), 1);
    check({GgmlType::F16, 37, 1000, 1}, ops::ActIn::None, ops::ActOut::None, false);
    check({GgmlType::Q4_K, 9, 768, 1}, ops::ActIn::Tanh, ops::ActOut::None, true);
    check({GgmlType::Q8_0, 13, 1056, 1}, ops::ActIn::None, ops::ActOut::None, false);
  }
  for (const char* bad : {"0", "7x2", "32x0", "32x9", "32x2x0", "32x2x5", "fast"}) {
    ::setenv("RWKV_GPU_MATVEC", bad, 1);
    EXPECT_THROW(check({GgmlType::F16, 37, 1000, 1}, ops::ActIn::None, ops::ActOut::None, false), InvalidArgument) << bad;
  }
  ::unsetenv("RWKV_GPU_MATVEC");
}

// The selection table: which kernel a product of n tokens gets, per device and precision.
vk::DeviceInfo fake_device(bool tensor_cores) {
  vk::DeviceInfo d{};
  d.name = tensor_cores ? "a GPU with tensor cores" : "a GPU without";
  d.coopmat_f16 = tensor_cores;
  return d;
}

TEST(MatvecShape, ByTypeAndLongestKInWholeSubgroupsWithinTheWorkgroup) {
  vk::DeviceInfo gpu = fake_device(true);
  gpu.type = "discrete";
  gpu.subgroup_size = 32;
  gpu.max_workgroup_invocations = 1024;
  const auto lanes = [&](uint32_t k) { return ops::matvec_shape(gpu, GgmlType::F16, k).lanes; };
  const auto same = [](ops::MatvecShape a, ops::MatvecShape b) { return a.lanes == b.lanes && a.steps == b.steps && a.rpi == b.rpi; };
  EXPECT_EQ(lanes(96), 32u);  // a LoRA up-projection
  EXPECT_EQ(lanes(2560), 128u);
  EXPECT_EQ(lanes(10240), 256u);
  EXPECT_TRUE(same(ops::matvec_shape(gpu, GgmlType::Q4_K, 2560), {128, 2, 1}));
  EXPECT_TRUE(same(ops::matvec_shape(gpu, GgmlType::Q8_0, 2560), {128, 2, 2}));  // two rows an invocation
  EXPECT_TRUE(same(ops::matvec_shape(gpu, GgmlType::Q8_0, 10240), {256, 1, 2}));
  EXPECT_TRUE(same(ops::matvec_shape(gpu, GgmlType::Q8_0, 96), {32, 2, 1}));
  gpu.subgroup_size = 64;
  EXPECT_EQ(lanes(96), 64u);
  EXPECT_EQ(lanes(10240), 256u);
  gpu.max_workgroup_invocations = 160;
  EXPECT_EQ(lanes(10240), 128u);
  vk::DeviceInfo cpu = gpu;
  cpu.type = "cpu";
  cpu.subgroup_size = 8;
  EXPECT_TRUE(same(ops::matvec_shape(cpu, GgmlType::Q8_0, 10240), {8, 2, 1}));
}

TEST(MatmulChoice, ExactPathWithoutTensorCores) {
  using K = ops::MatmulKernel;
  for (bool cores : {false, true})
    for (auto precision : {ops::Precision::Exact, ops::Precision::Fast}) {
      if (cores && precision == ops::Precision::Fast) continue;
      const auto d = fake_device(cores);
      EXPECT_EQ(ops::choose_matmul(d, 1, precision, "").kernel, K::Matvec);
      EXPECT_EQ(ops::choose_matmul(d, 2, precision, "").kernel, K::Batched);
      EXPECT_EQ(ops::choose_matmul(d, 64, precision, "").kernel, K::Batched);
      EXPECT_EQ(ops::choose_matmul(d, 65, precision, "").kernel, K::Tiled);
      EXPECT_EQ(ops::choose_matmul(d, 100000, precision, "").kernel, K::Tiled);
    }
}

TEST(MatmulChoice, FastUsesTensorCoresFrom8Tokens) {
  using K = ops::MatmulKernel;
  const auto d = fake_device(true);
  EXPECT_EQ(ops::choose_matmul(d, 1, ops::Precision::Fast, "").kernel, K::Matvec);
  EXPECT_EQ(ops::choose_matmul(d, 2, ops::Precision::Fast, "").kernel, K::Batched);
  EXPECT_EQ(ops::choose_matmul(d, 7, ops::Precision::Fast, "").kernel, K::Batched);
  uint32_t last_bt = 0;
  for (uint32_t n : {8u, 16u, 32u, 33u, 63u, 64u, 65u, 128u, 129u, 256u, 257u, 512u, 100000u}) {
    const auto c = ops::choose_matmul(d, n, ops::Precision::Fast, "");
    EXPECT_EQ(c.kernel, K::Coopmat) << n;
    // Tiles grow with the token count; every tile splits into whole 16x16 accumulators.
    EXPECT_GE(c.tile.bt, last_bt) << n;
    last_bt = c.tile.bt;
    EXPECT_EQ(c.tile.br % c.tile.wr, 0u);
    EXPECT_EQ(c.tile.bt % c.tile.wt, 0u);
    EXPECT_EQ(c.tile.wr % 16, 0u);
    EXPECT_EQ(c.tile.wt % 16, 0u);
  }
}

TEST(MatmulChoice, ForcedByEnvironmentValue) {
  using K = ops::MatmulKernel;
  const auto plain = fake_device(false), cores = fake_device(true);
  EXPECT_EQ(ops::choose_matmul(plain, 100, ops::Precision::Exact, "batched").kernel, K::Batched);
  EXPECT_EQ(ops::choose_matmul(plain, 3, ops::Precision::Fast, "tiled").kernel, K::Tiled);
  EXPECT_EQ(ops::choose_matmul(cores, 1, ops::Precision::Exact, "coopmat").kernel, K::Coopmat);
  const auto c = ops::choose_matmul(cores, 512, ops::Precision::Exact, "coopmat:64x32x32x16");
  EXPECT_EQ(c.kernel, K::Coopmat);
  EXPECT_EQ(c.tile.br, 64u);
  EXPECT_EQ(c.tile.bt, 32u);
  EXPECT_EQ(c.tile.wr, 32u);
  EXPECT_EQ(c.tile.wt, 16u);
  EXPECT_EQ(c.tile.bk, 32u);
  EXPECT_EQ(ops::choose_matmul(cores, 512, ops::Precision::Fast, "coopmat:64x32x32x16x64").tile.bk, 64u);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x24"), InvalidArgument);
  const auto split = ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x32x4").tile;
  EXPECT_EQ(split.bk, 32u);
  EXPECT_EQ(split.ks, 4u);
  EXPECT_EQ(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16").tile.ks, 1u);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x32x0"), InvalidArgument);
  EXPECT_EQ(split.sk, 0u);  // the rule's
  EXPECT_EQ(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x32x2x3").tile.sk, 3u);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x32x2x65"), InvalidArgument);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x32x16x32x2x1x1"), InvalidArgument);
  EXPECT_THROW(ops::choose_matmul(plain, 100, ops::Precision::Fast, "coopmat"), InvalidArgument);
  EXPECT_THROW(ops::choose_matmul(plain, 100, ops::Precision::Fast, "fastest"), InvalidArgument);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32x24x16"), InvalidArgument);
  EXPECT_THROW(ops::choose_matmul(cores, 100, ops::Precision::Fast, "coopmat:64x32"), InvalidArgument);
}

// Producers write fp16 X exactly where the tensor-core kernel runs the product.
TEST(MatmulChoice, HalfInputsWhereTheTensorCoresRun) {
  const auto plain = fake_device(false), cores = fake_device(true);
  for (uint32_t n : {1u, 7u, 8u, 64u, 512u}) {
    EXPECT_EQ(ops::matmul_takes_half_inputs(cores, n, ops::Precision::Fast), n >= 8) << n;
    EXPECT_FALSE(ops::matmul_takes_half_inputs(cores, n, ops::Precision::Exact)) << n;
    EXPECT_FALSE(ops::matmul_takes_half_inputs(plain, n, ops::Precision::Fast)) << n;
  }
}

// fp16 X where another kernel runs, or with an activation left to apply: InvalidArgument before
// anything is recorded.
TEST(MatmulHalfInputs, RefusedWhereTheyCannotBeRead) {
  const auto dev = vk::Device::open();
  auto w = std::make_shared<vk::Buffer>(dev, 16 * 16 * 4, vk::MemoryKind::Device);
  auto x = std::make_shared<vk::Buffer>(dev, 8 * 16 * 4, vk::MemoryKind::Device);
  auto y = std::make_shared<vk::Buffer>(dev, 8 * 16 * 4, vk::MemoryKind::Device);
  const ops::Matrix m0{{w, 0, 1024}, gguf::GgmlType::F32, 16, 16};
  const ops::MatmulGroup half0{.w = &m0, .x = {x, 0, 512}, .y = {y, 0, 512}, .x_half = true};
  ops::MatmulGroup tanh0 = half0;
  tanh0.act_in = ops::ActIn::Tanh;
  vk::Recorder rec(dev);
  for (uint32_t n : {1u, 7u, 8u})  // exact: the fp32 kernels at any token count
    EXPECT_THROW(ops::matmul(rec, {&half0, 1}, n, {}), InvalidArgument) << n;
  EXPECT_THROW(ops::matmul(rec, {&tanh0, 1}, 8, {.precision = ops::Precision::Fast}), InvalidArgument);
}

TEST(MatmulChoice, PrecisionNames) {
  EXPECT_EQ(ops::parse_precision("fast"), ops::Precision::Fast);
  EXPECT_EQ(ops::parse_precision("exact"), ops::Precision::Exact);
  EXPECT_STREQ(ops::precision_name(ops::Precision::Fast), "fast");
  EXPECT_THROW(ops::parse_precision("fp16"), InvalidArgument);
}

}  // namespace rwkv

namespace rwkv {

// The tensor-core kernel's first step runs anywhere (no cooperative matrices): X in fp16 with
// act_in and the 2^-x_shift scale, rows padded to whole uvec4s with zeros, against Eigen::half
// of the double-precision value (round to nearest; one fp16 ulp allowed for tanh / exp).
TEST(MatmulHalfInputs, ConvertsActivatesScalesAndPads) {
  const auto dev = vk::Device::open();
  const uint32_t T = 5, k0 = 13, k1 = 24;  // 13: a row ends inside a uvec4
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(T * (k0 + k1));
  for (auto& v : x) v = normal(rng);
  x[3] = 70000.0f;  // past fp16's range unless scaled
  auto xbuf = std::make_shared<vk::Buffer>(dev, x.size() * 4, vk::MemoryKind::Upload);
  std::memcpy(xbuf->mapped(), x.data(), x.size() * 4);
  const uint32_t q0 = (k0 + 7) / 8, q1 = (k1 + 7) / 8, offsets[] = {1, 1 + T * q0};  // uvec4 units
  auto out = std::make_shared<vk::Buffer>(dev, (1 + T * (q0 + q1)) * 16, vk::MemoryKind::Readback);
  const ops::Matrix m0{{}, gguf::GgmlType::F32, 1, k0}, m1{{}, gguf::GgmlType::F32, 1, k1};
  const ops::MatmulGroup groups[] = {{&m0, {xbuf, 0, T * k0 * 4}, {}, ops::ActIn::None, 8},
                                     {&m1, {xbuf, T * k0 * 4, T * k1 * 4}, {}, ops::ActIn::Tanh, 0}};
  vk::Recorder rec(dev);
  ops::matmul_half_inputs(rec, groups, T, {out}, offsets);
  rec.submit().wait();
  const auto* halves = reinterpret_cast<const Eigen::half*>(out->mapped());
  for (int g = 0; g < 2; ++g) {
    const uint32_t k = g ? k1 : k0, quads = g ? q1 : q0;
    for (uint32_t t = 0; t < T; ++t)
      for (uint32_t i = 0; i < quads * 8; ++i) {
        const float got = float(halves[offsets[g] * 8 + t * quads * 8 + i]);
        if (i >= k) {
          EXPECT_EQ(got, 0.0f) << "padding, group " << g;
          continue;
        }
        const double v = x[(g ? T * k0 : 0) + t * k + i];
        const double want = g ? std::tanh(v) : v / 256.0;
        const double ulp = std::ldexp(1.0, std::ilogb(std::max(std::abs(want), 6.1e-5)) - 10);
        EXPECT_LE(std::abs(got - float(Eigen::half(float(want)))), g ? ulp : 0.0) << "group " << g << " t " << t << " i " << i << " got " << got << " want " << want;
      }
  }
}

// The conversion of block-quantized weights to fp16 (the tensor-core kernel's first step for
// products over many tokens) runs anywhere: rows of three parts of one buffer (one starting inside
// its matrix), against the CPU dequantization rounded to fp16 (Eigen::half, round to nearest).
TEST(MatmulHalfWeights, MatchesCpuDequantizationInFp16) {
  const auto dev = vk::Device::open();
  using gguf::GgmlType;
  for (const auto type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q4_K,
                          GgmlType::Q5_K, GgmlType::Q6_K}) {
    const uint32_t block = gguf::traits(type).block_elements, cols = 3 * block, rows = 7;
    const uint64_t row_bytes = gguf::row_bytes(type, cols), bytes = row_bytes * rows;
    std::mt19937 rng(uint32_t(type) + 11);
    const auto blocks = test::random_blocks(type, 3 * rows * cols / block, rng);
    auto wbuf = std::make_shared<vk::Buffer>(dev, 3 * bytes, vk::MemoryKind::Device);
    vk::upload(dev, {wbuf}, blocks.data(), blocks.size());
    const ops::Matrix w[] = {{{wbuf, 0, bytes}, type, rows, cols}, {{wbuf, bytes, bytes}, type, rows, cols},
                             {{wbuf, 2 * bytes, bytes}, type, rows, cols}};
    // Part 1 takes rows 2..6 of its matrix; the parts land out of order, after 3 unused uvec4s.
    const ops::MatrixRows parts[] = {{&w[0], 0, rows}, {&w[1], 2, rows - 2}, {&w[2], 0, rows}};
    const uint32_t q = cols / 8, offsets[] = {3, 3 + 2 * rows * q, 3 + rows * q};
    auto out = std::make_shared<vk::Buffer>(dev, (3 + 3 * rows * q) * 16, vk::MemoryKind::Readback);
    vk::Recorder rec(dev);
    ops::matmul_half_weights(rec, parts, {out, 48, 3 * rows * q * 16}, offsets);
    rec.submit().wait();
    const auto* halves = reinterpret_cast<const Eigen::half*>(out->mapped());
    for (int p = 0; p < 3; ++p) {
      std::vector<float> wf(uint64_t(rows) * cols);
      gguf::dequantize(type, {blocks.data() + p * bytes, bytes}, wf);
      for (uint32_t r = 0; r < parts[p].rows; ++r)
        for (uint32_t i = 0; i < cols; ++i) {
          const float want = float(Eigen::half(wf[(parts[p].row_begin + r) * cols + i]));
          ASSERT_EQ(float(halves[offsets[p] * 8 + r * cols + i]), want)
              << gguf::type_name(type) << " part " << p << " row " << r << " col " << i;
        }
    }
  }
}

// The k-split rule, where the compute units are known (the H200's 132 SMs, 2 resident 128x128
// workgroups): the splits its model of waves gives for the 2.9B products, worked out by hand
// (docs in ops/matmul.cpp); without the count, enough splits for 256 workgroups.
TEST(MatmulChoice, KSplitsFromWaves) {
  vk::DeviceInfo d = fake_device(true);
  const auto splits = [&](uint32_t T, std::vector<ops::ProductShape> g) {
    return ops::matmul_k_splits(d, T, ops::Precision::Fast, g);
  };
  const ops::ProductShape rkv{2560, 2560}, key{10240, 2560}, value{2560, 10240};
  d.compute_units = 132;
  // 512 tokens: r/k/v 240 tiles fill one wave of 264; key 320 tiles: 2 splits give 3 waves of half
  // the k (3840 units against 5120); value 80 tiles: 3 splits make 240 (one wave of a third).
  EXPECT_EQ(splits(512, {rkv, rkv, rkv}), 1u);
  EXPECT_EQ(splits(512, {key}), 2u);
  EXPECT_EQ(splits(512, {value}), 3u);
  EXPECT_EQ(splits(164, {rkv, rkv, rkv}), 2u);
  EXPECT_EQ(splits(164, {value}), 6u);
  EXPECT_EQ(splits(4096, {key}), 1u);
  EXPECT_EQ(splits(4096, {value}), 2u);
  d.compute_units = 0;
  EXPECT_EQ(splits(512, {value}), 4u);  // 80 tiles: ceil(256 / 80)
  EXPECT_EQ(splits(512, {key}), 1u);    // 320 tiles already
}

// The tile rule where the compute units are known (the H100's / H200's 132 SMs): the table's
// 128x128 tile from 97 tokens on, unless its workgroups (tiles times k splits, worked out by
// hand) leave SMs idle; then the 64x64 tile. Without the count, or for a forced tile, the table's.
TEST(MatmulChoice, SmallerTileWhereTheLargeOneLeavesUnitsIdle) {
  vk::DeviceInfo d = fake_device(true);
  d.compute_units = 132;
  const auto br = [&](uint32_t T, std::vector<ops::ProductShape> g, const std::string& forced = "") {
    return ops::choose_matmul(d, T, ops::Precision::Fast, forced, g).tile.br;
  };
  const ops::ProductShape rkv{768, 768}, key{3072, 768}, value{768, 3072}, rkv29{2560, 2560}, value29{2560, 10240};
  EXPECT_EQ(br(164, {rkv, rkv, rkv}), 64u);  // 6 x 2 x 3 = 36 tiles, k 768 not split
  EXPECT_EQ(br(164, {key}), 64u);            // 24 x 2 = 48
  EXPECT_EQ(br(164, {value}), 64u);          // 6 x 2 tiles x 6 splits = 72
  EXPECT_EQ(br(512, {rkv, rkv, rkv}), 64u);  // 6 x 4 x 3 = 72
  EXPECT_EQ(br(512, {value}), 128u);         // 6 x 4 tiles x 6 splits = 144
  EXPECT_EQ(br(97, {rkv29, rkv29, rkv29}), 128u);  // 20 x 1 x 3 tiles x 4 splits = 240
  EXPECT_EQ(br(97, {value29}), 128u);              // 20 tiles x 8 splits = 160
  EXPECT_EQ(br(164, {rkv29, rkv29, rkv29}), 128u);
  EXPECT_EQ(br(64, {rkv29}), 64u);  // the table's row for up to 96 tokens
  EXPECT_EQ(br(164, {rkv, rkv, rkv}, "coopmat:128x128x64x64"), 128u);
  EXPECT_EQ(br(164, {}), 128u);  // no shapes: the table's tile for the token count
  d.compute_units = 0;
  EXPECT_EQ(br(164, {rkv, rkv, rkv}), 128u);
}

TEST(MatmulChoice, FewRowsOverALongKTakeTheNarrowTile) {
  vk::DeviceInfo d = fake_device(true);
  d.compute_units = 132;
  const auto tile = [&](uint32_t T, std::vector<ops::ProductShape> g) { return ops::choose_matmul(d, T, ops::Precision::Fast, "", g).tile; };
  const std::vector<ops::ProductShape> downs29{{96, 2560}, {96, 2560}, {64, 2560}, {320, 2560}};  // the 2.9B LoRA downs
  for (uint32_t T : {97u, 164u, 512u}) {
    const auto t = tile(T, downs29);
    EXPECT_EQ(t.br, 64u);
    EXPECT_EQ(t.ks, 1u);
    EXPECT_EQ(t.sk, 8u);
    EXPECT_EQ(ops::matmul_k_splits(d, T, ops::Precision::Fast, downs29), 8u);
  }
  EXPECT_EQ(tile(64, downs29).ks, 2u);   // decode batches: the token table's row
  EXPECT_EQ(tile(1024, downs29).sk, 0u);  // longer prompts: not measured, the token rows
  const std::vector<ops::ProductShape> downs01{{32, 768}, {32, 768}, {64, 768}, {128, 768}};  // k below 2,048
  EXPECT_EQ(tile(164, downs01).sk, 0u);
  EXPECT_EQ(tile(164, {{2560, 2560}}).sk, 0u);  // many rows
  EXPECT_EQ(tile(512, {{768, 3072}}).sk, 0u);   // the 0.1B FFN value: its own measured tile
}

}  // namespace rwkv
