#include "model/weights.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "gguf/dequant.hpp"
#include "gguf/file.hpp"
#include "ops/get_rows.hpp"
#include "vk/uploader.hpp"

namespace rwkv::model {
namespace {

using gguf::GgmlType;

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

std::vector<float> as_f32(const gguf::File& f, const gguf::TensorInfo& t) {
  std::vector<float> out(t.n_elements());
  gguf::dequantize(t.type, f.tensor_data(t), out);
  return out;
}

// Places matrices one after another in one buffer (aligned for binding) and uploads them.
class MatrixPacker {
 public:
  MatrixPacker(const vk::DevicePtr& device, vk::Uploader& up) : device_(device), up_(up) {}

  // Reserves room for a matrix of `type`; returns its index.
  size_t add(GgmlType type, uint32_t rows, uint32_t cols, const void* data, std::vector<float> owned = {}) {
    entries_.push_back({type, rows, cols, data, std::move(owned), size_});
    size_ = align_up(size_ + gguf::row_bytes(type, cols) * rows, 256);
    return entries_.size() - 1;
  }

  std::vector<ops::Matrix> finish(uint64_t& total_bytes) {
    auto buffer = std::make_shared<vk::Buffer>(device_, std::max<uint64_t>(size_, 4), vk::MemoryKind::Device);
    std::vector<ops::Matrix> out;
    for (auto& e : entries_) {
      const uint64_t bytes = gguf::row_bytes(e.type, e.cols) * e.rows;
      up_.upload({buffer, e.offset, bytes}, e.owned.empty() ? e.data : e.owned.data(), bytes);
      out.push_back({{buffer, e.offset, bytes}, e.type, e.rows, e.cols});
    }
    total_bytes += size_;
    return out;
  }

 private:
  struct Entry {
    GgmlType type;
    uint32_t rows, cols;
    const void* data;
    std::vector<float> owned;  // converted data, when not uploaded from the mapped file
    uint64_t offset;
  };
  vk::DevicePtr device_;
  vk::Uploader& up_;
  std::vector<Entry> entries_;
  uint64_t size_ = 0;
};

// A big matrix keeps its GGUF type when the shaders read it; anything else becomes f32.
size_t add_matrix(MatrixPacker& pack, const gguf::File& f, const std::string& name) {
  const auto& t = f.tensor(name);
  const uint32_t cols = uint32_t(t.ne[0]), rows = uint32_t(t.n_elements() / t.ne[0]);
  if (ops::gpu_weight_type(t.type)) return pack.add(t.type, rows, cols, f.tensor_data(t).data());
  return pack.add(GgmlType::F32, rows, cols, nullptr, as_f32(f, t));
}

size_t add_f32_matrix(MatrixPacker& pack, const gguf::File& f, const std::string& name) {
  const auto& t = f.tensor(name);
  const uint32_t cols = uint32_t(t.ne[0]), rows = uint32_t(t.n_elements() / t.ne[0]);
  return pack.add(GgmlType::F32, rows, cols, nullptr, as_f32(f, t));
}

}  // namespace

Weights upload_weights(const vk::DevicePtr& device, const gguf::File& f, const Config& c, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  Weights w;
  vk::Uploader up(device);
  uint64_t total = 0;
  for (const auto& t : f.tensors()) total += t.n_bytes;
  auto report = [&] {
    if (progress) progress(std::min(up.bytes_uploaded(), total), total);
  };

  // The vector table: every [C] parameter as an f32 row.
  const uint32_t C = c.n_embd;
  std::vector<float> table(uint64_t(c.n_layer * ROWS_PER_LAYER + GLOBAL_ROWS) * C, 0.0f);
  auto put = [&](uint32_t row, const std::string& name, uint32_t index = 0) {
    const auto& t = f.tensor(name);
    if (t.n_elements() < uint64_t(index + 1) * C) throw GGUFError(f.path().string() + ": tensor '" + name + "' is too small");
    const auto values = as_f32(f, t);
    std::copy_n(values.begin() + uint64_t(index) * C, C, table.begin() + uint64_t(row) * C);
  };
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const uint32_t base = l * ROWS_PER_LAYER;
    put(base + LN1_W, p + "attn_norm.weight");
    put(base + LN1_B, p + "attn_norm.bias");
    put(base + LN2_W, p + "attn_norm_2.weight");
    put(base + LN2_B, p + "attn_norm_2.bias");
    // lerp_fused stacks x_r, x_w, x_k, x_v, x_a, x_g.
    const std::string lerp = p + "time_mix_lerp_fused.weight";
    put(base + MU_R, lerp, 0);
    put(base + MU_W, lerp, 1);
    put(base + MU_K, lerp, 2);
    put(base + MU_V, lerp, 3);
    put(base + MU_A, lerp, 4);
    put(base + MU_G, lerp, 5);
    put(base + W0, p + "time_mix_w0.weight");
    put(base + A0, p + "time_mix_a0.weight");
    if (l > 0) put(base + V0, p + "time_mix_v0.weight");
    put(base + K_K, p + "time_mix_k_k.weight");
    put(base + K_A, p + "time_mix_k_a.weight");
    put(base + R_K, p + "time_mix_r_k.weight");
    put(base + LNX_W, p + "time_mix_ln.weight");
    put(base + LNX_B, p + "time_mix_ln.bias");
    put(base + FFN_MU_K, p + "channel_mix_lerp_k.weight");
  }
  const uint32_t g = c.n_layer * ROWS_PER_LAYER;
  put(g + LN0_W, "token_embd_norm.weight");
  put(g + LN0_B, "token_embd_norm.bias");
  put(g + LN_OUT_W, "output_norm.weight");
  put(g + LN_OUT_B, "output_norm.bias");
  auto vectors = std::make_shared<vk::Buffer>(device, table.size() * 4, vk::MemoryKind::Device);
  up.upload({vectors}, table.data(), table.size() * 4);
  w.vectors = {{vectors}, C};
  w.bytes += vectors->size();

  {
    MatrixPacker pack(device, up);
    add_matrix(pack, f, "token_embd.weight");
    w.embedding = pack.finish(w.bytes)[0];
  }
  {
    MatrixPacker pack(device, up);
    add_matrix(pack, f, "output.weight");
    w.head = pack.finish(w.bytes)[0];
  }
  report();

  static const char* lora_names[LORA_COUNT] = {"w", "a", "v", "g"};
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights lw;
    {
      MatrixPacker pack(device, up);
      for (const char* m : {"time_mix_receptance", "time_mix_key", "time_mix_value", "time_mix_output"})
        add_matrix(pack, f, p + m + ".weight");
      const auto m = pack.finish(w.bytes);
      lw.receptance = m[0], lw.key = m[1], lw.value = m[2], lw.output = m[3];
    }
    {
      // Layer 0 has no value LoRA (its v0/v1/v2 are dummies).
      MatrixPacker pack(device, up);
      for (uint32_t i = 0; i < LORA_COUNT; ++i)
        if (i != LORA_V || l > 0) add_f32_matrix(pack, f, p + "time_mix_" + lora_names[i] + "1.weight");
      for (uint32_t i = 0; i < LORA_COUNT; ++i)
        if (i != LORA_V || l > 0) add_f32_matrix(pack, f, p + "time_mix_" + lora_names[i] + "2.weight");
      const auto m = pack.finish(w.bytes);
      const size_t n = m.size() / 2;
      for (uint32_t i = 0, j = 0; i < LORA_COUNT; ++i) {
        if (i == LORA_V && l == 0) continue;
        lw.lora_down[i] = m[j];
        lw.lora_up[i] = m[n + j];
        ++j;
      }
    }
    {
      MatrixPacker pack(device, up);
      add_matrix(pack, f, p + "channel_mix_key.weight");
      add_matrix(pack, f, p + "channel_mix_value.weight");
      const auto m = pack.finish(w.bytes);
      lw.ffn_key = m[0], lw.ffn_value = m[1];
    }
    w.layers.push_back(std::move(lw));
    report();
  }
  up.finish();
  report();
  w.upload_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return w;
}

}  // namespace rwkv::model
