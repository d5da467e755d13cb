#version 450
// Token sampling on the GPU, one workgroup per row of logits, as the official RWKV pipeline
// samples (rwkv.utils.PIPELINE): logits minus presence + frequency penalties of past tokens,
// softmax, top-p cutoff, top-k, probabilities raised to 1/temperature, one draw. Temperature 0 is
// greedy (argmax of the penalized logits, the lowest index on ties).
//
// top-p and top-k become thresholds on the probabilities, found by a 16-way search over their
// float bits (positive floats order like their bits): no sort. A token survives when its
// probability reaches both thresholds; ties at a threshold all survive.
//
// Penalty memory per state slot: occ[v] < 0 for tokens not generated yet, else their decayed count.
// After each draw every count decays and the drawn token adds its weight (0 for whitespace and
// digit tokens, as in the official pipeline).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

#include "layouts.h"  // SampleRow: one row to sample

layout(binding = 0) readonly buffer Logits { float logits[]; };   // [rows, V]
layout(binding = 1) readonly buffer Params { SampleRow params[]; };
layout(binding = 2) buffer Occurrence { float occ[]; };           // [slots, V]
layout(binding = 3) readonly buffer Weights { float weight[]; };  // [V]
layout(binding = 4) writeonly buffer Ids { uint ids[]; };         // [rows]

layout(push_constant, std430) uniform Push { SamplePush p; };

#include "reduce.glsl"

const uint WG = gl_WorkGroupSize.x;
const uint ONE_BITS = 0x3F800000u;  // floatBitsToUint(1.0)

shared float s_best[WG];
shared uint s_best_index[WG];
shared float s_segment[WG];
shared uint s_owner;  // the invocation whose segment holds the draw
shared uint s_token;

SampleRow rp;
uint logits_base, occ_base;

float penalized(uint v) {
  float l = logits[logits_base + v];
  if (rp.penalize != 0u) {
    const float o = occ[occ_base + v];
    if (o >= 0.0) l -= rp.presence + o * rp.frequency;
  }
  return l;
}

// Largest value and its lowest index over the workgroup.
void workgroup_argmax(float value, uint index, out float best, out uint best_index) {
  const uint tid = gl_LocalInvocationID.x;
  s_best[tid] = value;
  s_best_index[tid] = index;
  barrier();
  for (uint stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      const float v = s_best[tid + stride];
      const uint i = s_best_index[tid + stride];
      if (v > s_best[tid] || (v == s_best[tid] && i < s_best_index[tid])) {
        s_best[tid] = v;
        s_best_index[tid] = i;
      }
    }
    barrier();
  }
  best = s_best[0];
  best_index = s_best_index[0];
  barrier();
}

// The 17 bucket sums of a search pass over the workgroup, with one round of shared memory.
// Assumes subgroups of at least 4 invocations.
shared float s_bucket[17u * (WG / 4u)];

void workgroup_sum17(inout float v[17]) {
  for (uint j = 0u; j < 17u; ++j) v[j] = subgroupAdd(v[j]);
  if (subgroupElect())
    for (uint j = 0u; j < 17u; ++j) s_bucket[gl_SubgroupID * 17u + j] = v[j];
  barrier();
  for (uint j = 0u; j < 17u; ++j) {
    float total = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; ++i) total += s_bucket[i * 17u + j];
    v[j] = total;
  }
  barrier();
}

uint pcg(uint v) {
  const uint state = v * 747796405u + 2891336453u;
  const uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// The largest threshold t (float bits) such that the probabilities >= t have a total count
// (by_mass false) or mass (true) of at least `target`.
uint search_threshold(float m, float inv_z, bool by_mass, float target) {
  const uint tid = gl_LocalInvocationID.x;
  uint lo = 0u, hi = ONE_BITS + 1u;  // pred(lo) holds; pred(hi) does not
  while (hi - lo > 1u) {
    const uint step = max(1u, (hi - lo) / 16u);
    // bucket j < 16 holds probabilities in [lo + j*step, lo + (j+1)*step) (the last one up to hi),
    // bucket 16 those >= hi
    float tail[17];
    for (uint j = 0u; j < 17u; ++j) tail[j] = 0.0;
    for (uint v = tid; v < p.V; v += WG) {
      const uint bits = floatBitsToUint(exp(penalized(v) - m) * inv_z);
      if (bits < lo) continue;
      const uint bucket = bits >= hi ? 16u : min(15u, (bits - lo) / step);
      const float w = by_mass ? uintBitsToFloat(bits) : 1.0;
      for (uint j = 0u; j < 17u; ++j) tail[j] += j == bucket ? w : 0.0;  // constant indices: registers
    }
    workgroup_sum17(tail);
    for (int j = 15; j >= 0; --j) tail[j] += tail[j + 1];
    uint best = 0u;
    for (uint j = 1u; j < 16u && lo + j * step < hi; ++j)
      if (tail[j] >= target) best = j;
    const uint new_lo = lo + best * step;
    hi = (best == 15u || lo + (best + 1u) * step >= hi) ? hi : lo + (best + 1u) * step;
    lo = new_lo;
  }
  return lo;
}

void main() {
  const uint row = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
  rp = params[row];
  logits_base = rp.logits_row * p.V;
  occ_base = rp.slot * p.V;

  // A NaN or infinite logit (non-finite weights or state) counts as +inf, so the argmax finds it;
  // the row then draws no token but the marker 0xFFFFFFFF, which the host reports as an error.
  float top = -1.0 / 0.0;
  uint top_index = 0xFFFFFFFFu;
  for (uint v = tid; v < p.V; v += WG) {
    const float l = penalized(v);
    const float key = isnan(l) || isinf(l) ? 1.0 / 0.0 : l;
    if (key > top) {
      top = key;
      top_index = v;
    }
  }
  float m;
  uint token;
  workgroup_argmax(top, top_index, m, token);
  const bool non_finite = isinf(m);
  if (non_finite) token = 0xFFFFFFFFu;

  if (!non_finite && rp.temperature > 0.0) {
    float z = 0.0;
    for (uint v = tid; v < p.V; v += WG) z += exp(penalized(v) - m);
    const float inv_z = 1.0 / workgroup_sum(z);
    uint cutoff = 0u;
    if (rp.top_k > 0u && rp.top_k < p.V) cutoff = search_threshold(m, inv_z, false, float(rp.top_k));
    if (rp.top_p < 1.0) cutoff = max(cutoff, search_threshold(m, inv_z, true, rp.top_p));

    // Draw: each invocation owns a contiguous segment of the vocabulary, so the cumulative sum
    // runs in token order whatever the workgroup size.
    const float inv_t = 1.0 / rp.temperature;
    const uint seg = (p.V + WG - 1u) / WG;
    const uint first = min(p.V, tid * seg), last = min(p.V, first + seg);
    float sum = 0.0;
    for (uint v = first; v < last; ++v) {
      const float l = penalized(v);
      if (floatBitsToUint(exp(l - m) * inv_z) >= cutoff) sum += exp((l - m) * inv_t);
    }
    s_segment[tid] = sum;
    barrier();
    if (tid == 0u) {
      float total = 0.0;
      for (uint i = 0u; i < WG; ++i) total += s_segment[i];
      const float u = float(pcg(rp.seed_lo ^ pcg(rp.seed_hi ^ pcg(rp.counter))) >> 8u) * (1.0 / 16777216.0);
      float target = u * total, before = 0.0;
      uint owner = WG;
      for (uint i = 0u; i < WG; ++i) {
        if (s_segment[i] > 0.0) owner = i;  // rounding: fall back to the last non-empty segment
        if (s_segment[i] > 0.0 && target < before + s_segment[i]) break;
        before += s_segment[i];
      }
      s_segment[0] = target - before;  // what is left to walk inside the owner's segment
      s_owner = owner;
    }
    barrier();
    if (tid == s_owner) {
      float left = s_segment[0];
      uint chosen = token;
      for (uint v = first; v < last; ++v) {
        const float l = penalized(v);
        if (floatBitsToUint(exp(l - m) * inv_z) < cutoff) continue;
        chosen = v;
        left -= exp((l - m) * inv_t);
        if (left < 0.0) break;
      }
      s_token = chosen;
    }
    barrier();
    token = s_token;
  }

  if (tid == 0u) ids[row] = token;
  if (rp.penalize != 0u) {
    // Every invocation read occ above; each now rewrites only its own strided entries.
    barrier();
    for (uint v = tid; v < p.V; v += WG) {
      const float o = occ[occ_base + v];
      const float decayed = o >= 0.0 ? o * rp.decay : o;
      occ[occ_base + v] = v == token ? max(decayed, 0.0) + weight[v] : decayed;
    }
  }
}
