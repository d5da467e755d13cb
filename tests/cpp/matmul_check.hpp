// One grouped matrix product on the device against Eigen in double precision on the
// CPU-dequantized weights: two groups sharing a weight buffer, one type and the X / Y buffers (one
// dispatch), with an input activation, an output activation and accumulation. Used by the fp32
// kernels' tests (CI) and the tensor-core kernels' tests (GPU suite) with their own tolerances.
#pragma once
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "gguf/dequant.hpp"
#include "ops/matmul.hpp"
#include "test_helpers.hpp"

namespace rwkv::test {

struct MatmulCase {
  gguf::GgmlType type;
  uint32_t rows, cols, tokens;
};

inline std::string case_name(const MatmulCase& c) {
  return std::string(gguf::type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_T" +
         std::to_string(c.tokens);
}

// Error bound of one output: rel * sum_k |x_k w_k| + abs.
struct Tolerance {
  double rel, abs;
};

inline double activate(double v, ops::ActIn a) {
  if (a == ops::ActIn::Tanh) return std::tanh(v);
  if (a == ops::ActIn::Sigmoid) return 1.0 / (1.0 + std::exp(-v));
  return v;
}

// Runs the product and checks every output. Returns the largest |got - want| / (sum_k |x_k w_k| + 1)
// seen before the epilogue's relu^2 (the error of the product itself, for the record). x_half:
// X goes in as fp16 rows of ceil(cols / 8) * 8 halves, rounded here (MatmulGroup::x_half).
inline double check_matmul(const vk::DevicePtr& dev, const MatmulCase& c, ops::ActIn act_in, ops::ActOut act_out,
                           bool accumulate, Tolerance tol_of, ops::Precision precision = ops::Precision::Exact,
                           float x_scale = 1.0f, int8_t x_shift = 0, bool x_half = false) {
  using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::mt19937 rng(c.rows * 131 + c.cols * 7 + c.tokens);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto& tr = gguf::traits(c.type);
  const uint64_t row_bytes = gguf::row_bytes(c.type, c.cols), bytes = row_bytes * c.rows;
  const auto blocks = random_blocks(c.type, 2 * c.rows * c.cols / tr.block_elements, rng);
  auto wbuf = std::make_shared<vk::Buffer>(dev, 2 * bytes, vk::MemoryKind::Device);
  vk::upload(dev, {wbuf}, blocks.data(), blocks.size());
  const ops::Matrix w0{{wbuf, 0, bytes}, c.type, c.rows, c.cols}, w1{{wbuf, bytes, bytes}, c.type, c.rows, c.cols};

  const uint64_t xs = uint64_t(c.tokens) * c.cols, ys = uint64_t(c.tokens) * c.rows;
  std::vector<float> x(2 * xs), y0(2 * ys);
  for (auto& v : x) v = normal(rng) * x_scale;
  for (auto& v : y0) v = normal(rng);
  // A group's X: fp32 [T, cols], or fp16 rows padded with zeros to whole uvec4s.
  const uint64_t x_row = x_half ? (c.cols + 7) / 8 * 8 : c.cols, x_bytes = c.tokens * x_row * (x_half ? 2 : 4);
  auto xbuf = std::make_shared<vk::Buffer>(dev, 2 * x_bytes, vk::MemoryKind::Upload);
  if (x_half) {
    std::vector<Eigen::half> h(2 * c.tokens * x_row, Eigen::half(0.0f));
    for (uint64_t r = 0; r < 2ull * c.tokens; ++r)
      for (uint32_t i = 0; i < c.cols; ++i) h[r * x_row + i] = Eigen::half(x[r * c.cols + i]);
    std::memcpy(xbuf->mapped(), h.data(), h.size() * 2);
  } else {
    std::memcpy(xbuf->mapped(), x.data(), x.size() * 4);
  }
  auto ybuf = std::make_shared<vk::Buffer>(dev, y0.size() * 4, vk::MemoryKind::Readback);
  std::memcpy(ybuf->mapped(), y0.data(), y0.size() * 4);

  ops::MatmulGroup groups[] = {{&w0, {xbuf, 0, x_bytes}, {ybuf, 0, ys * 4}, act_in, x_shift, x_half},
                               {&w1, {xbuf, x_bytes, x_bytes}, {ybuf, ys * 4, ys * 4}, act_in, x_shift, x_half}};
  vk::Recorder rec(dev);
  ops::matmul(rec, groups, c.tokens, {act_out, accumulate, precision});
  rec.submit().wait();

  const auto* got = reinterpret_cast<const float*>(ybuf->mapped());
  double worst = 0;
  for (int g = 0; g < 2; ++g) {
    std::vector<float> wf(uint64_t(c.rows) * c.cols);
    gguf::dequantize(c.type, {blocks.data() + g * bytes, bytes}, wf);
    Mat W(c.rows, c.cols), X(c.tokens, c.cols);
    for (uint64_t i = 0; i < wf.size(); ++i) W.data()[i] = wf[i];
    for (uint64_t i = 0; i < xs; ++i) X.data()[i] = activate(x[g * xs + i], act_in);
    const Mat Y = X * W.transpose();  // [T, rows]
    // Rounding error is bounded by a multiple of the sum of |terms| (cancellation can make the
    // result itself much smaller than that).
    const Mat A = X.cwiseAbs() * W.cwiseAbs().transpose();
    for (uint32_t t = 0; t < c.tokens; ++t)
      for (uint32_t r = 0; r < c.rows; ++r) {
        const double sum = Y(t, r), bound = tol_of.rel * A(t, r) + tol_of.abs;
        double want = sum, tol = bound;
        double v = got[g * ys + t * c.rows + r];
        if (accumulate) v -= y0[g * ys + t * c.rows + r];
        if (act_out == ops::ActOut::ReluSquare) {
          tol *= 2 * std::abs(want) + tol;
          want = want > 0 ? want * want : 0.0;
        } else {
          worst = std::max(worst, std::abs(v - want) / (A(t, r) + 1));
        }
        if (!(std::abs(v - want) <= tol + 1e-6 * std::abs(want))) {  // NaN fails too
          ADD_FAILURE() << gguf::type_name(c.type) << " group " << g << " token " << t << " row " << r << ": got " << v
                        << ", want " << want << " +- " << tol + 1e-6 * std::abs(want);
          return worst;
        }
      }
  }
  return worst;
}

}  // namespace rwkv::test
