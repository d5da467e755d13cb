#version 450
// Token sampling on the GPU, as the official RWKV pipeline samples (rwkv.utils.PIPELINE): logits
// minus presence + frequency penalties of past tokens, softmax, top-p cutoff, top-k, probabilities
// raised to 1/temperature, one draw. Temperature 0 is greedy (argmax of the penalized logits, the
// lowest index on ties).
//
// top-p and top-k become thresholds on the probabilities, found by 256-way searches over their
// float bits (positive floats order like their bits): no sort. A token survives when its
// probability reaches both thresholds; ties at a threshold all survive. The searches add token
// counts and probabilities exactly (fixed point, integer adds: see Mass), so the thresholds do not
// depend on the order in which invocations or workgroups add.
//
// Penalty memory per state slot: occ[v] < 0 for tokens not generated yet, else their decayed count.
// After each draw every count decays and the drawn token adds its weight (0 for whitespace and
// digit tokens, as in the official pipeline).
//
// Each row's vocabulary is split into G chunks of consecutive tokens, one workgroup each (grid
// G x rows; G from ops/sample.cpp), so that one row fills a GPU. The work runs as a sequence of
// dispatches, one variant of this source each, passing what they find through the row's scratch
// (layouts.h: SAMPLE_SCRATCH_WORDS):
//   STATS     each chunk's largest penalized logit (its lowest index) and sum of exp(l - that max)
//   SEARCH    pass p.pass of both threshold searches: the searches' ranges from the bucket totals
//             of the pass before (workgroup 0 records them), then this chunk's 257 bucket sums of
//             each; SAMPLE_SEARCH_PASSES passes narrow any range to one threshold
//   DRAW      each chunk's mass of surviving tokens, probabilities ^ (1 / temperature)
//   PICK      grid 1 x rows: the chunk the draw lands in (chunks in token order), then the token
//   REMEMBER  the penalty memory of rows that penalize
// Every workgroup that needs the row's max, total or ranges derives them from the same partials
// in the same order, so all agree.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint G = 1;  // chunks per row

#include "layouts.h"  // SampleRow, SamplePush, SAMPLE_*

layout(binding = 0) readonly buffer Logits { float logits[]; };   // [*, V]
layout(binding = 1) readonly buffer Params { SampleRow params[]; };
layout(binding = 2) buffer Occurrence { float occ[]; };           // [slots, V]
layout(binding = 3) readonly buffer Weights { float weight[]; };  // [V]
layout(binding = 4) buffer Ids { uint ids[]; };                   // [rows]
layout(binding = 5) buffer Scratch { uint scratch[]; };           // [rows, SAMPLE_SCRATCH_WORDS(G)]

layout(push_constant, std430) uniform Push { SamplePush p; };

#include "reduce.glsl"

const uint WG = gl_WorkGroupSize.x;
const uint ONE_BITS = 0x3F800000u;  // floatBitsToUint(1.0)
const uint BUCKETS = SAMPLE_BUCKETS + 1u;  // SAMPLE_BUCKETS in the range, 1 at or above its top

SampleRow rp;
uint row, logits_base, occ_base, base;  // base: the row's scratch
uint chunk_first, chunk_last;          // this workgroup's tokens [first, last)

// The row's scratch: the STATS partials (3 words per chunk), the searches' ranges after each pass
// (lo, hi of top-k, then of top-p), the SEARCH bucket sums (2 parities x G chunks x 2 searches x
// 257 Mass pairs), the DRAW masses (one per chunk).
uint stats_at(uint g) { return base + 3u * g; }
uint range_at(uint pass) { return base + 3u * G + 4u * pass; }
uint buckets_at(uint pass, uint g, uint search) {
  return base + 3u * G + 4u * SAMPLE_SEARCH_PASSES + (((pass & 1u) * G + g) * 2u + search) * 2u * BUCKETS;
}
uint mass_at(uint g) { return base + 3u * G + 4u * SAMPLE_SEARCH_PASSES + 8u * G * BUCKETS + g; }

float penalized(uint v) {
  float l = logits[logits_base + v];
  if (rp.penalize != 0u) {
    const float o = occ[occ_base + v];
    if (o >= 0.0) l -= rp.presence + o * rp.frequency;
  }
  return l;
}

// A NaN or infinite logit (non-finite weights or state) counts as +inf, so the argmax finds it;
// the row then draws no token but the marker 0xFFFFFFFF, which the host reports as an error.
float key_of(float l) { return isnan(l) || isinf(l) ? 1.0 / 0.0 : l; }

shared float s_best[WG];
shared uint s_best_index[WG];

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

// The row's max m (its lowest index: `token`) and sum z of exp(l - m), from the STATS partials,
// one chunk per invocation (G <= WG): the first chunk holding the max has its lowest index; the
// sums through the workgroup's fixed reduction order, so every workgroup gets the same values.
// Every invocation calls it (barriers).
float row_max, inv_z;
uint token;
bool non_finite;

void row_stats() {
  const uint tid = gl_LocalInvocationID.x;
  const float m_own = tid < G ? uintBitsToFloat(scratch[stats_at(tid)]) : -1.0 / 0.0;
  workgroup_argmax(m_own, tid < G ? scratch[stats_at(tid) + 1u] : 0xFFFFFFFFu, row_max, token);
  non_finite = isinf(row_max);
  if (non_finite) token = 0xFFFFFFFFu;
  const float z_own = tid < G && !isinf(m_own) ? uintBitsToFloat(scratch[stats_at(tid) + 2u]) * exp(m_own - row_max) : 0.0;
  inv_z = 1.0 / workgroup_sum(z_own);
}

float probability(uint v) { return exp(penalized(v) - row_max) * inv_z; }

bool samples() { return !non_finite && rp.temperature > 0.0; }
bool searches(uint s) { return s == 0u ? rp.top_k > 0u && rp.top_k < p.V : rp.top_p < 1.0; }

// Exact sums of token counts (top-k) and probabilities (top-p): a pair (hi, lo) is hi + lo * 2^-19
// units, a unit being one token or 2^-20 of probability; a probability enters as its value
// truncated to a multiple of 2^-39 (at most 2^-39 less). Normalized pairs have lo < 2^19; sums of
// up to 2^13 normalized pairs fit in 32-bit words (probabilities of a row sum to 1, counts to V).
const uint LO_BITS = 19u, LO_MASK = (1u << LO_BITS) - 1u;
uvec2 normalized(uvec2 m) { return uvec2(m.x + (m.y >> LO_BITS), m.y & LO_MASK); }
uvec2 mass_of(float prob) {
  const float units = prob * 1048576.0;  // 2^20: exact, as is the fraction below
  const float whole = floor(units);
  return uvec2(uint(whole), uint((units - whole) * 524288.0));
}
// Normalized pairs compared.
bool reaches(uvec2 m, uvec2 target) { return m.x > target.x || (m.x == target.x && m.y >= target.y); }
uvec2 target_of(uint s) { return s == 0u ? uvec2(rp.top_k, 0u) : normalized(mass_of(rp.top_p)); }

// One step of a search for the largest threshold t (float bits) such that the probabilities >= t
// have a total count (top-k) or mass (top-p) of at least the target: from the range [lo, hi)
// (the predicate holds at lo, not at hi) and its 257 bucket totals, the next range. Bucket j < 256
// holds probabilities in [lo + j * step, lo + (j + 1) * step) (the last one up to hi), bucket 256
// those >= hi.
uint step_of(uvec2 range) { return max(1u, (range.y - range.x) / SAMPLE_BUCKETS); }

// The totals of the chunks' buckets, their sums per invocation's segment of consecutive buckets
// (suffix sums over the segments, inclusive), and the bucket the narrowed range starts at.
shared uint s_total_hi[BUCKETS], s_total_lo[BUCKETS];
shared uint s_scan_hi[WG], s_scan_lo[WG];
shared uint s_best_bucket;
const uint SEGMENT = (BUCKETS + WG - 1u) / WG;  // buckets per invocation

// Search s's range for pass `pass`: the first range, or the one after the pass before's buckets
// (their totals over the chunks). Every invocation calls it (barriers).
uvec2 range_for(uint pass, uint s) {
  if (pass == 0u) return uvec2(0u, ONE_BITS + 1u);
  const uvec2 before = uvec2(scratch[range_at(pass - 1u) + 2u * s], scratch[range_at(pass - 1u) + 2u * s + 1u]);
  if (before.y - before.x <= 1u) return before;
  const uint tid = gl_LocalInvocationID.x;
  for (uint j = tid; j < BUCKETS; j += WG) {
    uvec2 total = uvec2(0u);
    for (uint c = 0u; c < G; ++c) {
      const uint at = buckets_at(pass - 1u, c, s) + 2u * j;
      total += uvec2(scratch[at], scratch[at + 1u]);
    }
    total = normalized(total);
    s_total_hi[j] = total.x;
    s_total_lo[j] = total.y;
  }
  if (tid == 0u) s_best_bucket = 0u;
  barrier();
  const uint first = min(BUCKETS, tid * SEGMENT), last = min(BUCKETS, first + SEGMENT);
  uvec2 mine = uvec2(0u);
  for (uint j = first; j < last; ++j) mine += uvec2(s_total_hi[j], s_total_lo[j]);
  mine = normalized(mine);
  // Inclusive suffix sums over the invocations' segments (Hillis-Steele: log2(WG) rounds).
  for (uint d = 1u; d < WG; d *= 2u) {
    s_scan_hi[tid] = mine.x;
    s_scan_lo[tid] = mine.y;
    barrier();
    if (tid + d < WG) mine = normalized(mine + uvec2(s_scan_hi[tid + d], s_scan_lo[tid + d]));
    barrier();
  }
  s_scan_hi[tid] = mine.x;
  s_scan_lo[tid] = mine.y;
  barrier();
  // Down this segment from its top: the tail (the mass at or above bucket j) only grows, so the
  // first bucket whose tail reaches the target is the segment's largest; the largest over the
  // segments (an integer maximum: any order) starts the narrowed range.
  const uint lo = before.x, hi = before.y, step = step_of(before);
  const uvec2 target = target_of(s);
  uvec2 tail = tid + 1u < WG ? uvec2(s_scan_hi[tid + 1u], s_scan_lo[tid + 1u]) : uvec2(0u);
  for (uint j = last; j > first; --j) {
    tail = normalized(tail + uvec2(s_total_hi[j - 1u], s_total_lo[j - 1u]));
    if (j - 1u >= 1u && j - 1u < SAMPLE_BUCKETS && lo + (j - 1u) * step < hi && reaches(tail, target)) {
      atomicMax(s_best_bucket, j - 1u);
      break;
    }
  }
  barrier();
  const uint best = s_best_bucket;
  barrier();  // every invocation has read it before the next search's range resets it
  return uvec2(lo + best * step, (best == SAMPLE_BUCKETS - 1u || lo + (best + 1u) * step >= hi) ? hi : lo + (best + 1u) * step);
}

// The draw's threshold: the larger of the searches' results (0 where a search is off).
uint cutoff() {
  uint c = 0u;
  for (uint s = 0u; s < 2u; ++s)
    if (searches(s)) c = max(c, range_for(SAMPLE_SEARCH_PASSES, s).x);
  return c;
}

uint pcg(uint v) {
  const uint state = v * 747796405u + 2891336453u;
  const uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// This invocation's contiguous part of the chunk [first, last): the cumulative sums of a draw run
// in token order whatever the workgroup size.
uint part_first() { return min(chunk_last, chunk_first + gl_LocalInvocationID.x * ((chunk_last - chunk_first + WG - 1u) / WG)); }
uint part_last() { return min(chunk_last, part_first() + (chunk_last - chunk_first + WG - 1u) / WG); }

// A token's weight in the draw: its probability ^ (1 / temperature); -1 below the cutoff.
float drawn_mass(uint v, uint cut) {
  const float l = penalized(v);
  return floatBitsToUint(exp(l - row_max) * inv_z) >= cut ? exp((l - row_max) * (1.0 / rp.temperature)) : -1.0;
}

#if defined(SEARCH)
shared uint s_sum_hi[2u * BUCKETS], s_sum_lo[2u * BUCKETS];  // this chunk's buckets of both searches
#endif
shared float s_segment[WG];
shared uint s_owner;
shared float s_left;
shared uint s_token;

void main() {
  row = gl_WorkGroupID.y;
  const uint g = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
  rp = params[row];
  logits_base = rp.logits_row * p.V;
  occ_base = rp.slot * p.V;
  base = row * SAMPLE_SCRATCH_WORDS(G);
  const uint chunk = (p.V + G - 1u) / G;
  chunk_first = min(p.V, g * chunk);
  chunk_last = min(p.V, chunk_first + chunk);

#if defined(STATS)
  float top = -1.0 / 0.0;
  uint top_index = 0xFFFFFFFFu;
  for (uint v = chunk_first + tid; v < chunk_last; v += WG) {
    const float k = key_of(penalized(v));
    if (k > top) top = k, top_index = v;
  }
  float m;
  uint m_index;
  workgroup_argmax(top, top_index, m, m_index);
  float z = 0.0;
  if (!isinf(m))
    for (uint v = chunk_first + tid; v < chunk_last; v += WG) z += exp(penalized(v) - m);
  z = workgroup_sum(z);
  if (tid == 0u) {
    scratch[stats_at(g)] = floatBitsToUint(m);
    scratch[stats_at(g) + 1u] = m_index;
    scratch[stats_at(g) + 2u] = floatBitsToUint(z);
  }

#elif defined(SEARCH)
  if (!(rp.temperature > 0.0) || !(searches(0u) || searches(1u))) return;
  row_stats();
  if (non_finite) return;
  uvec2 range[2];
  for (uint s = 0u; s < 2u; ++s) range[s] = searches(s) ? range_for(p.pass, s) : uvec2(0u, 1u);
  if (g == 0u && tid == 0u)
    for (uint s = 0u; s < 2u; ++s) scratch[range_at(p.pass) + 2u * s] = range[s].x, scratch[range_at(p.pass) + 2u * s + 1u] = range[s].y;
  // This chunk's bucket sums of both searches in shared memory (integer atomics: exact in any
  // order), then to the scratch, normalized.
  for (uint j = tid; j < 2u * BUCKETS; j += WG) s_sum_hi[j] = s_sum_lo[j] = 0u;
  barrier();
  for (uint v = chunk_first + tid; v < chunk_last; v += WG) {
    const float prob = probability(v);
    const uint bits = floatBitsToUint(prob);
    for (uint s = 0u; s < 2u; ++s) {
      const uint lo = range[s].x, hi = range[s].y;
      if (hi - lo <= 1u || bits < lo) continue;  // found (the next passes keep it), or below the range
      const uint at = s * BUCKETS + (bits >= hi ? SAMPLE_BUCKETS : min(SAMPLE_BUCKETS - 1u, (bits - lo) / step_of(range[s])));
      if (s == 0u) {
        atomicAdd(s_sum_hi[at], 1u);
      } else {
        const uvec2 m = mass_of(prob);
        atomicAdd(s_sum_hi[at], m.x);
        // A carry out of the 32-bit word is 2^32 lo units = 2^13 hi units.
        if (atomicAdd(s_sum_lo[at], m.y) > ~m.y) atomicAdd(s_sum_hi[at], 1u << (32u - LO_BITS));
      }
    }
  }
  barrier();
  for (uint j = tid; j < 2u * BUCKETS; j += WG) {
    const uint s = j / BUCKETS;
    if (range[s].y - range[s].x <= 1u) continue;
    const uvec2 m = normalized(uvec2(s_sum_hi[j], s_sum_lo[j]));
    const uint at = buckets_at(p.pass, g, s) + 2u * (j % BUCKETS);
    scratch[at] = m.x;
    scratch[at + 1u] = m.y;
  }

#elif defined(DRAW)
  if (!(rp.temperature > 0.0)) return;
  row_stats();
  if (non_finite) return;
  const uint cut = cutoff();
  float sum = 0.0;
  for (uint v = part_first(); v < part_last(); ++v) sum += max(drawn_mass(v, cut), 0.0);
  sum = workgroup_sum(sum);
  if (tid == 0u) scratch[mass_at(g)] = floatBitsToUint(sum);

#elif defined(PICK)
  row_stats();
  if (samples()) {
    // The chunk the draw lands in: totals in chunk order, then the token inside it, walking the
    // invocations' parts in order.
    if (tid == 0u) {
      float total = 0.0;
      for (uint c = 0u; c < G; ++c) total += uintBitsToFloat(scratch[mass_at(c)]);
      const float u = float(pcg(rp.seed_lo ^ pcg(rp.seed_hi ^ pcg(rp.counter))) >> 8u) * (1.0 / 16777216.0);
      float target = u * total, before = 0.0;
      uint owner = G;
      for (uint c = 0u; c < G; ++c) {
        const float mass = uintBitsToFloat(scratch[mass_at(c)]);
        if (mass > 0.0) owner = c;  // rounding: fall back to the last non-empty chunk
        if (mass > 0.0 && target < before + mass) break;
        before += mass;
      }
      s_owner = owner;
      s_left = target - before;
    }
    barrier();
    chunk_first = min(p.V, s_owner * chunk);
    chunk_last = min(p.V, chunk_first + chunk);
    const uint cut = cutoff();
    float sum = 0.0;
    for (uint v = part_first(); v < part_last(); ++v) sum += max(drawn_mass(v, cut), 0.0);
    s_segment[tid] = sum;
    barrier();
    if (tid == 0u) {
      float target = s_left, before = 0.0;
      uint part = WG;
      for (uint i = 0u; i < WG; ++i) {
        if (s_segment[i] > 0.0) part = i;
        if (s_segment[i] > 0.0 && target < before + s_segment[i]) break;
        before += s_segment[i];
      }
      s_left = target - before;
      s_owner = part;
    }
    barrier();
    if (tid == s_owner) {
      float left = s_left;
      uint chosen = token;
      for (uint v = part_first(); v < part_last(); ++v) {
        const float w = drawn_mass(v, cut);
        if (w < 0.0) continue;  // below the cutoff
        chosen = v;
        left -= w;
        if (left < 0.0) break;
      }
      s_token = chosen;
    }
    barrier();
    token = s_token;
  }
  if (tid == 0u) ids[row] = token;

#elif defined(REMEMBER)
  if (rp.penalize == 0u) return;
  const uint drawn = ids[row];
  for (uint v = chunk_first + tid; v < chunk_last; v += WG) {
    const float o = occ[occ_base + v];
    const float decayed = o >= 0.0 ? o * rp.decay : o;
    occ[occ_base + v] = v == drawn ? max(decayed, 0.0) + weight[v] : decayed;
  }
#endif
}
