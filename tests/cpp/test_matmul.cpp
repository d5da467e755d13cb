// The grouped matrix products (matvec and tiled variants) against Eigen in double precision on the
// CPU-dequantized weights, at awkward sizes, with activations, accumulation and several groups.
// One token runs as MATVEC, 2 .. 64 as BATCHED (T = 2, 3, 5, 8, 9, and 40: three workgroups of
// at most 16 tokens), more as 64 x 64 tiles (T = 67 .. 133).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "gguf/dequant.hpp"
#include "ops/matmul.hpp"
#include "test_helpers.hpp"

namespace rwkv {

namespace {

vk::DevicePtr device() {
  static vk::DevicePtr d = vk::Device::open();
  return d;
}

using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Case {
  gguf::GgmlType type;
  uint32_t rows, cols, tokens;
};

double activate(double v, ops::ActIn a) {
  if (a == ops::ActIn::Tanh) return std::tanh(v);
  if (a == ops::ActIn::Sigmoid) return 1.0 / (1.0 + std::exp(-v));
  return v;
}

void check(const Case& c, ops::ActIn act_in, ops::ActOut act_out, bool accumulate) {
  auto dev = device();
  std::mt19937 rng(c.rows * 131 + c.cols * 7 + c.tokens);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto& tr = gguf::traits(c.type);
  // Two groups sharing one weight buffer, one type and the X / Y buffers: one dispatch.
  const uint64_t row_bytes = gguf::row_bytes(c.type, c.cols), bytes = row_bytes * c.rows;
  const auto blocks = test::random_blocks(c.type, 2 * c.rows * c.cols / tr.block_elements, rng);
  auto wbuf = std::make_shared<vk::Buffer>(dev, 2 * bytes, vk::MemoryKind::Device);
  vk::upload(dev, {wbuf}, blocks.data(), blocks.size());
  const ops::Matrix w0{{wbuf, 0, bytes}, c.type, c.rows, c.cols}, w1{{wbuf, bytes, bytes}, c.type, c.rows, c.cols};

  const uint64_t xs = uint64_t(c.tokens) * c.cols, ys = uint64_t(c.tokens) * c.rows;
  std::vector<float> x(2 * xs), y0(2 * ys);
  for (auto& v : x) v = normal(rng);
  for (auto& v : y0) v = normal(rng);
  auto xbuf = std::make_shared<vk::Buffer>(dev, x.size() * 4, vk::MemoryKind::Upload);
  auto ybuf = std::make_shared<vk::Buffer>(dev, y0.size() * 4, vk::MemoryKind::Readback);
  std::memcpy(xbuf->mapped(), x.data(), x.size() * 4);
  std::memcpy(ybuf->mapped(), y0.data(), y0.size() * 4);

  const ops::MatmulGroup groups[] = {{&w0, {xbuf, 0, xs * 4}, {ybuf, 0, ys * 4}, act_in},
                                     {&w1, {xbuf, xs * 4, xs * 4}, {ybuf, ys * 4, ys * 4}, act_in}};
  vk::Recorder rec(dev);
  ops::matmul(rec, groups, c.tokens, {act_out, accumulate});
  rec.submit().wait();

  const auto* got = reinterpret_cast<const float*>(ybuf->mapped());
  for (int g = 0; g < 2; ++g) {
    std::vector<float> wf(uint64_t(c.rows) * c.cols);
    gguf::dequantize(c.type, {blocks.data() + g * bytes, bytes}, wf);
    Mat W(c.rows, c.cols), X(c.tokens, c.cols);
    for (uint64_t i = 0; i < wf.size(); ++i) W.data()[i] = wf[i];
    for (uint64_t i = 0; i < xs; ++i) X.data()[i] = activate(x[g * xs + i], act_in);
    const Mat Y = X * W.transpose();  // [T, rows]
    // f32 accumulation: error bounded by a few ulps of the sum of |terms| (cancellation can make
    // the result itself much smaller than that).
    const Mat A = X.cwiseAbs() * W.cwiseAbs().transpose();
    for (uint32_t t = 0; t < c.tokens; ++t)
      for (uint32_t r = 0; r < c.rows; ++r) {
        double want = Y(t, r);
        double tol = 4e-6 * A(t, r) + 1e-6;
        if (act_out == ops::ActOut::ReluSquare) {
          tol *= 2 * std::abs(want) + tol;
          want = want > 0 ? want * want : 0.0;
        }
        if (accumulate) want += y0[g * ys + t * c.rows + r];
        ASSERT_NEAR(got[g * ys + t * c.rows + r], want, tol + 1e-6 * std::abs(want))
            << gguf::type_name(c.type) << " group " << g << " token " << t << " row " << r;
      }
  }
}

}  // namespace

class MatmulCases : public ::testing::TestWithParam<Case> {};

TEST_P(MatmulCases, PlainProduct) { check(GetParam(), ops::ActIn::None, ops::ActOut::None, false); }
TEST_P(MatmulCases, TanhInReluSquareOut) { check(GetParam(), ops::ActIn::Tanh, ops::ActOut::ReluSquare, false); }
TEST_P(MatmulCases, SigmoidInAccumulate) { check(GetParam(), ops::ActIn::Sigmoid, ops::ActOut::None, true); }

using gguf::GgmlType;
INSTANTIATE_TEST_SUITE_P(
    OddSizes, MatmulCases,
    ::testing::Values(Case{GgmlType::F32, 37, 96, 1}, Case{GgmlType::F32, 5, 40, 3}, Case{GgmlType::F16, 33, 1056, 8},
                      Case{GgmlType::BF16, 19, 64, 9}, Case{GgmlType::Q8_0, 65, 1024, 2}, Case{GgmlType::Q4_0, 31, 96, 70},
                      Case{GgmlType::Q5_1, 17, 160, 5}, Case{GgmlType::Q4_K, 29, 512, 1}, Case{GgmlType::Q5_K, 3, 256, 67},
                      Case{GgmlType::Q6_K, 41, 1280, 8}, Case{GgmlType::F16, 45, 256, 133},
                      Case{GgmlType::Q8_0, 70, 128, 131}, Case{GgmlType::Q4_K, 9, 256, 129}, Case{GgmlType::F16, 77, 2112, 40},
                      Case{GgmlType::Q6_K, 13, 256, 40}),
    [](const auto& info) {
      const Case& c = info.param;
      return std::string(gguf::type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_T" +
             std::to_string(c.tokens);
    });

}  // namespace rwkv
