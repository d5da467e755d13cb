#include "model/config.hpp"

#include <cmath>

#include "common/error.hpp"
#include "gguf/file.hpp"

namespace rwkv::model {
namespace {

const gguf::TensorInfo& require(const gguf::File& f, const std::string& name, uint64_t ne0, uint64_t ne1) {
  const auto& t = f.tensor(name);
  for (const uint64_t n : t.ne)
    if (n == 0) throw GGUFError(f.path().string() + ": tensor '" + name + "' has a zero dimension");
  const uint64_t rows = t.ne.size() > 1 ? t.n_elements() / t.ne[0] : 1;
  if (t.ne.empty() || t.ne[0] != ne0 || (ne1 && rows != ne1))
    throw GGUFError(f.path().string() + ": tensor '" + name + "' has an unexpected shape for this model");
  return t;
}

// A hyper-parameter that must be a positive 32-bit count (u64 values beyond it would wrap).
uint32_t count(const gguf::File& f, const std::string& key) {
  const uint64_t v = f.at(key).as_uint();
  if (v == 0 || v > 0x7FFFFFFFu) throw GGUFError(f.path().string() + ": " + key + " = " + std::to_string(v) + " is out of range");
  return uint32_t(v);
}

// A dimension of a tensor the shapes are read from: positive.
uint32_t dimension(const gguf::File& f, const std::string& name, size_t axis, const char* what) {
  const auto& t = f.tensor(name);
  if (t.ne.size() <= axis || t.ne[axis] == 0 || t.ne[axis] > 0x7FFFFFFFu)
    throw GGUFError(f.path().string() + ": tensor '" + name + "' gives no valid " + what);
  return uint32_t(t.ne[axis]);
}

}  // namespace

Config Config::from_gguf(const gguf::File& f) {
  const gguf::Value* arch = f.find("general.architecture");
  const std::string found = arch && arch->type == gguf::ValueType::STRING ? arch->as_string() : "(none)";
  if (found != "rwkv7")
    throw GGUFError(f.path().string() + ": general.architecture is '" + found +
                    "'; rwkv_gpu runs RWKV-7 models ('rwkv7')" +
                    (found == "arwkv7" ? " (arwkv7 is a different model: RMSNorm, SiLU FFN, another tokenizer)" : ""));
  Config c;
  c.n_layer = count(f, "rwkv7.block_count");
  c.n_embd = count(f, "rwkv7.embedding_length");
  c.head_size = count(f, "rwkv7.wkv.head_size");
  if (const auto* e = f.find("rwkv7.attention.layer_norm_epsilon")) c.eps = float(e->as_float());
  if (!(c.eps > 0.0f && std::isfinite(c.eps)))  // NaN fails too
    throw GGUFError(f.path().string() + ": layer_norm_epsilon " + std::to_string(c.eps) + " is not a positive number");
  if (const auto* n = f.find("general.name"); n && n->type == gguf::ValueType::STRING) c.name = n->as_string();
  if (c.n_layer == 0 || c.n_embd == 0 || c.head_size == 0 || c.n_embd % c.head_size != 0)
    throw GGUFError(f.path().string() + ": n_embd " + std::to_string(c.n_embd) + " is not a positive multiple of head size " +
                    std::to_string(c.head_size));
  c.n_head = c.n_embd / c.head_size;
  const auto& emb = f.tensor("token_embd.weight");
  if (emb.ne.size() < 2 || emb.ne[0] != c.n_embd) throw GGUFError(f.path().string() + ": token_embd.weight is not [n_embd, vocab]");
  c.vocab = dimension(f, "token_embd.weight", 1, "vocabulary size");
  require(f, "output.weight", c.n_embd, c.vocab);
  const auto& key = f.tensor("blk.0.channel_mix_key.weight");
  if (key.ne.size() != 2 || key.ne[0] != c.n_embd) throw GGUFError(f.path().string() + ": bad channel_mix_key shape");
  c.ffn = dimension(f, "blk.0.channel_mix_key.weight", 1, "FFN size");
  c.d_decay = dimension(f, "blk.0.time_mix_w1.weight", 1, "decay LoRA rank");
  c.d_iclr = dimension(f, "blk.0.time_mix_a1.weight", 1, "in-context learning rate LoRA rank");
  c.d_gate = dimension(f, "blk.0.time_mix_g1.weight", 1, "gate LoRA rank");
  // Layer 0's v1 is a dummy copy of a1: the value LoRA rank comes from layer 1.
  c.d_value = c.n_layer > 1 ? dimension(f, "blk.1.time_mix_v1.weight", 1, "value LoRA rank") : 0;
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const char* m : {"time_mix_receptance", "time_mix_key", "time_mix_value", "time_mix_output"})
      require(f, p + m + ".weight", c.n_embd, c.n_embd);
    require(f, p + "channel_mix_key.weight", c.n_embd, c.ffn);
    require(f, p + "channel_mix_value.weight", c.ffn, c.n_embd);
    require(f, p + "time_mix_w1.weight", c.n_embd, c.d_decay);
    require(f, p + "time_mix_w2.weight", c.d_decay, c.n_embd);
    require(f, p + "time_mix_a1.weight", c.n_embd, c.d_iclr);
    require(f, p + "time_mix_a2.weight", c.d_iclr, c.n_embd);
    require(f, p + "time_mix_g1.weight", c.n_embd, c.d_gate);
    require(f, p + "time_mix_g2.weight", c.d_gate, c.n_embd);
    if (l > 0) {
      require(f, p + "time_mix_v1.weight", c.n_embd, c.d_value);
      require(f, p + "time_mix_v2.weight", c.d_value, c.n_embd);
    }
    require(f, p + "time_mix_lerp_fused.weight", c.n_embd, 6);
  }
  return c;
}

}  // namespace rwkv::model
