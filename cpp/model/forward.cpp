#include "model/forward.hpp"

#include <algorithm>
#include <vector>

#include "ops/get_rows.hpp"
#include "ops/norms.hpp"
#include "ops/wkv7.hpp"

namespace rwkv::model {
namespace {

vk::BufferPtr scratch(const vk::DevicePtr& d, uint64_t floats) {
  return std::make_shared<vk::Buffer>(d, std::max<uint64_t>(floats, 1) * 4, vk::MemoryKind::Device);
}

// Floats [k * T * C, (k + 1) * T * C) of a [*, T, C] buffer.
vk::BufferRange part(const vk::BufferPtr& b, uint64_t k, uint64_t T, uint64_t C) { return {b, k * T * C * 4, T * C * 4}; }

}  // namespace

Forward::Forward(const vk::DevicePtr& device, const Config& c, const Weights& w, uint32_t max_tokens,
                 ops::Precision precision)
    : c_(c), w_(w), max_tokens_(max_tokens), precision_(precision) {
  const uint64_t T = max_tokens, C = c.n_embd;
  x_ = scratch(device, T * C);
  mixes_ = scratch(device, 6 * T * C);
  rkv_ = scratch(device, 3 * T * C);
  lora_down_ = scratch(device, T * (c.d_decay + c.d_iclr + c.d_value + c.d_gate));
  lora_up_ = scratch(device, 4 * T * C);
  v_first_ = scratch(device, T * C);
  o_ = scratch(device, T * C);
  ffn_ = scratch(device, T * c.ffn);
  ln_out_ = scratch(device, T * C);
  // The chunked WKV's scratch, where one binding can hold it (else the sequential kernel runs).
  const uint64_t wkv_floats = ops::wkv7_scratch_floats(max_tokens, c.n_embd, c.head_size);
  wkv_scratch_ = scratch(device, wkv_floats * 4 <= device->info().max_storage_buffer_range ? wkv_floats : 1);
  // The tensor-core products' scratch: the most any product below needs at any token count up to
  // max_tokens (so no product allocates its own while recording); each layer's, as their weight
  // types may differ (quantized ones take fp16 copies).
  const auto shape = [](const ops::Matrix& m) { return ops::ProductShape{m.rows, m.cols, m.type}; };
  std::vector<std::vector<ops::ProductShape>> products = {{shape(w.head)}};
  for (const auto& l : w.layers) {
    products.push_back({shape(l.receptance), shape(l.key), shape(l.value)});
    products.push_back({shape(l.output)});
    products.push_back({shape(l.ffn_key)});
    products.push_back({shape(l.ffn_value)});
    std::vector<ops::ProductShape> down, up;
    for (const auto& m : l.lora_down) down.push_back(shape(m));
    for (const auto& m : l.lora_up) up.push_back(shape(m));
    products.push_back(down);
    products.push_back(up);
  }
  const auto same = [](const ops::ProductShape& a, const ops::ProductShape& b) { return a.rows == b.rows && a.cols == b.cols && a.type == b.type; };
  uint64_t bytes = 0;
  for (size_t i = 0; i < products.size(); ++i) {
    const bool seen = std::any_of(products.begin(), products.begin() + i, [&](const auto& earlier) {
      return std::equal(earlier.begin(), earlier.end(), products[i].begin(), products[i].end(), same);
    });
    if (!seen) bytes = std::max(bytes, ops::matmul_scratch_bytes(device->info(), precision, max_tokens, products[i]));
  }
  if (bytes) matmul_scratch_ = scratch(device, (bytes + 3) / 4);
}

uint64_t Forward::scratch_bytes_per_token(const Config& c) {
  // x, mixes (6), rkv (3), lora_up (4), v_first, o, ln_out: 17 [T, C]; the LoRA bottlenecks, the
  // FFN's hidden rows and the chunked WKV's scratch.
  const uint64_t C = c.n_embd;
  return 4 * (17 * C + c.d_decay + c.d_iclr + c.d_value + c.d_gate + c.ffn + ops::wkv7_scratch_floats(1, c.n_embd, c.head_size));
}

uint64_t Forward::largest_scratch_bytes_per_token(const Config& c) {
  return 4 * std::max({uint64_t(6) * c.n_embd, uint64_t(c.ffn), ops::wkv7_scratch_floats(1, c.n_embd, c.head_size)});
}

ops::MatmulOptions Forward::options(ops::ActOut act_out, bool accumulate) const {
  return {act_out, accumulate, precision_, matmul_scratch_ ? vk::BufferRange{matmul_scratch_} : vk::BufferRange{}};
}

void Forward::record_layers(vk::Recorder& rec, const ops::BatchView& batch, const vk::BufferRange& state, uint32_t begin,
                            uint32_t end) const {
  const uint32_t T = batch.n_tokens;
  if (T == 0 || T > max_tokens_) throw InvalidArgument("[forward] batch of " + std::to_string(T) + " tokens (max " + std::to_string(max_tokens_) + ")");
  if (begin >= end || end > c_.n_layer) throw InvalidArgument("[forward] layers " + std::to_string(begin) + ".." + std::to_string(end) + " of " + std::to_string(c_.n_layer));
  if (begin == 0) {
    // E0: x = LN(emb[token]; ln0)
    const vk::BufferRange tmp = part(mixes_, 0, T, c_.n_embd);
    ops::get_rows(rec, {w_.embedding.data, w_.embedding.type, w_.embedding.rows, w_.embedding.cols}, batch.token_ids, tmp, T);
    ops::layer_norm(rec, tmp, w_.vectors, w_.global_row(LN0_W), w_.global_row(LN0_B), nullptr, T, c_.eps, {x_});
  }
  for (uint32_t l = begin; l < end; ++l) record_layer(rec, l, batch, state);
}

void Forward::record_output(vk::Recorder& rec, const vk::BufferRange& rows, uint32_t n_rows, const vk::BufferRange* logits) const {
  if (n_rows == 0) return;
  // ln_out of the wanted tokens only, then (for logits) the head
  ops::layer_norm(rec, {x_}, w_.vectors, w_.global_row(LN_OUT_W), w_.global_row(LN_OUT_B), &rows, n_rows, c_.eps, {ln_out_});
  if (!logits) return;
  const ops::MatmulGroup head{&w_.head, {ln_out_}, *logits};
  ops::matmul(rec, {&head, 1}, n_rows, options());
}

void Forward::record_layer(vk::Recorder& rec, uint32_t l, const ops::BatchView& batch, const vk::BufferRange& state) const {
  const uint32_t T = batch.n_tokens, C = c_.n_embd;
  const LayerWeights& lw = w_.layers[l];
  const auto row = [&](LayerRow r) { return w_.layer_row(l, r); };
  const uint32_t stride = uint32_t(c_.state_floats());
  const vk::BufferRange x{x_};
  // Where the products of the mixes run on the tensor cores, ln_shift_mix writes the mixes in the
  // fp16 they read (rows of ceil(C / 8) uvec4), and no conversion step runs before them.
  const bool half = ops::matmul_takes_half_inputs(rec.device().info(), T, precision_);
  const uint64_t half_row = ops::half_row_bytes(C);
  auto mix = [&](uint32_t k) {
    return half ? vk::BufferRange{mixes_, k * T * half_row, T * half_row} : part(mixes_, k, T, C);
  };
  auto up = [&](uint32_t k) { return part(lora_up_, k, T, C); };
  auto rkv = [&](uint32_t k) { return part(rkv_, k, T, C); };
  // The LoRA bottlenecks, one [T, D] block each.
  vk::BufferRange down[LORA_COUNT];
  const uint32_t ranks[LORA_COUNT] = {c_.d_decay, c_.d_iclr, c_.d_value, c_.d_gate};
  for (uint32_t i = 0, at = 0; i < LORA_COUNT; at += T * ranks[i], ++i) down[i] = {lora_down_, uint64_t(at) * 4, uint64_t(T) * ranks[i] * 4};

  // T1-T2: u = LN(x; ln1), token shift, the six lerps (r, k, v, w, a, g)
  ops::ln_shift_mix(rec, x, w_.vectors, {row(LN1_W), row(LN1_B), row(MU_R), 6}, {state, uint32_t(c_.att_shift_offset(l)), stride}, batch,
                    c_.eps, {mixes_}, half);
  // T3: r, k, v
  const auto of_mix = [&](const ops::Matrix& w, uint32_t k, const vk::BufferRange& y) {
    return ops::MatmulGroup{.w = &w, .x = mix(k), .y = y, .x_half = half};
  };
  const ops::MatmulGroup rkv_groups[] = {of_mix(lw.receptance, 0, rkv(0)), of_mix(lw.key, 1, rkv(1)), of_mix(lw.value, 2, rkv(2))};
  ops::matmul(rec, rkv_groups, T, options());
  // T4-T6, T9: the LoRA bottlenecks (w: tanh between, g: sigmoid between; layer 0 has no value LoRA)
  const uint32_t lora_in[LORA_COUNT] = {3, 4, 2, 5};  // the mixes w, a, v, g
  const ops::ActIn between[LORA_COUNT] = {ops::ActIn::Tanh, ops::ActIn::None, ops::ActIn::None, ops::ActIn::Sigmoid};
  std::vector<ops::MatmulGroup> downs, ups;
  for (uint32_t i = 0; i < LORA_COUNT; ++i) {
    if (i == LORA_V && l == 0) continue;
    downs.push_back(of_mix(lw.lora_down[i], lora_in[i], down[i]));
    ups.push_back({&lw.lora_up[i], down[i], up(i), between[i]});
  }
  ops::matmul(rec, downs, T, options());
  ops::matmul(rec, ups, T, options());
  // T4-T12: decay, iclr, kk, key/value adjustments, the WKV recurrence, GroupNorm, bonus, gate
  ops::wkv7(rec, {rkv_}, {lora_up_}, w_.vectors,
            {row(W0), row(A0), row(V0), row(K_K), row(K_A), row(R_K), row(LNX_W), row(LNX_B)}, l == 0, {v_first_},
            {state, uint32_t(c_.wkv_offset(l)), stride}, batch, c_.head_size, {o_}, {wkv_scratch_});
  // T13: x += Wo (o * g)
  const ops::MatmulGroup out{&lw.output, {o_}, x};
  ops::matmul(rec, {&out, 1}, T, options(ops::ActOut::None, true));
  // C1-C2: x += Wv relu(Wk lerp(LN(x; ln2)))^2
  ops::ln_shift_mix(rec, x, w_.vectors, {row(LN2_W), row(LN2_B), row(FFN_MU_K), 1}, {state, uint32_t(c_.ffn_shift_offset(l)), stride}, batch,
                    c_.eps, mix(0), half);
  const ops::MatmulGroup key = of_mix(lw.ffn_key, 0, {ffn_});
  ops::matmul(rec, {&key, 1}, T, options(ops::ActOut::ReluSquare));
  // relu^2 outputs can pass fp16's 65504 (at |k| > 256): fp16 kernels take them scaled by 2^-8.
  const ops::MatmulGroup value{&lw.ffn_value, {ffn_}, x, ops::ActIn::None, 8};
  ops::matmul(rec, {&value, 1}, T, options(ops::ActOut::None, true));
}

}  // namespace rwkv::model
