#version 450
// Spec T4-T12 like wkv7.comp, with the recurrence run in parallel over chunks of CH = 16 tokens of a
// sequence (../shared/docs/wkv7-chunked.md, whose notation this follows; its "tile16" form: decay
// factors relative to the chunk's middle token, all within e^+-5). Three steps, three
// variants of this source, one dispatch each:
//   PREPARE (chunk x head): the prelude of each token (decay, iclr, kk, key and value adjustments),
//     the chunk's log-decay prefix sums G, the C x C matrices A_ab, A_ak, A_rb, A_rk and the UT
//     solve (I - A_ab) [W | U] = [alpha e^E | A_ak V]; writes W, U, R~ = r e^G, K- = k e^(G_C - G),
//     B- = beta e^(G_C - G), e^G_C, A_rb, A_rk, and the adjusted k and v.
//   STATE (sequence x head x N / 8 state rows): the only sequential part, over the sequence's chunks:
//     Z = W S0^T + U, Yin = R~ S0^T, S <- S diag(e^G_C) + Z^T B- + V^T K-.
//   OUTPUT (chunk x head): y = Yin + A_rb Z + A_rk V, then GroupNorm, the r*k bonus and the gate.
// Invocation j of a workgroup (N = head size invocations) owns key column j (PREPARE) or value
// row j (OUTPUT); STATE gives each state row 8 invocations. Chunks never straddle sequences; tokens past a sequence's end are identity
// transitions (g = 0, k = v = alpha = beta = r = 0).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;  // the head size N

#include "batch.glsl"

layout(binding = 0) readonly buffer RKV { float rkv[]; };      // [3, T, C]: r, k, v
layout(binding = 1) readonly buffer Lora { float lora[]; };    // [4, T, C]: w, a, v, g LoRA outputs
layout(binding = 2) readonly buffer Vectors { float vec[]; };  // [*, C] f32 parameter rows
layout(binding = 3) buffer VFirst { float v_first[]; };        // [T, C]: layer 0 writes, others read
layout(binding = 4) buffer State { float state[]; };           // [slots, stride]
layout(binding = 5) readonly buffer Seqs { Sequence seqs[]; }; // [S]
layout(binding = 6) buffer Out { float o[]; };                 // [T, C]
layout(binding = 7) buffer Scratch { float sc[]; };            // the regions below

#include "layouts.h"
layout(push_constant, std430) uniform Push { Wkv7Push p; };

#define N gl_WorkGroupSize.x
const uint CH = 16u;  // tokens per chunk

// Scratch regions, [T, C] floats each unless said otherwise (ops/wkv7.cpp sizes the buffer).
const uint K_ADJ = 0u, V_ADJ = 1u, W_SOLVED = 2u, U_SOLVED = 3u, R_DEC = 4u, K_DEC = 5u, B_DEC = 6u, E_GC = 7u,
           Z_ROWS = 8u, Y_IN = 9u;
uint region(uint r, uint t, uint c) { return r * p.T * p.C + t * p.C + c; }
// A_rb and A_rk: [T, H, CH] each, after the ten regions: row t of the chunk's C x C matrix at token t.
uint a_matrix(uint which, uint t, uint h, uint s) { return 10u * p.T * p.C + ((which * p.T + t) * (p.C / N) + h) * CH + s; }

float sigmoid(float z) { return 1.0 / (1.0 + exp(-z)); }
float param(uint row, uint c) { return vec[row * p.C + c]; }

// The chunk this workgroup takes (x = chunk over all sequences): its first token and token count.
// False when x is past the last chunk (the grid is an upper bound).
bool find_chunk(out uint first, out uint count, out Sequence seq) {
  uint q = gl_WorkGroupID.x;
  for (uint s = 0u; s < p.n_seqs; ++s) {
    seq = seqs[s];
    const uint chunks = (seq.len + CH - 1u) / CH;
    if (q < chunks) {
      first = seq.start + q * CH;
      count = min(CH, seq.len - q * CH);
      return true;
    }
    q -= chunks;
  }
  return false;
}

#if defined(PREPARE)
// The four C x C matrices are products of per-token factors taken relative to the chunk's middle
// ("tile16" in the note): A_ab[t,s] = sum_q (alpha_tq e^(E_tq - M_q)) (beta_sq e^(M_q - G_sq)), M = G
// at token 7. With g = log w in [-0.6066, 0] (T4's formula, whatever its input) no factor exceeds
// e^(8 * 0.6066) = 128, and entries outside the causal triangle are selected away, never used.
// Rows are padded to N + 1 floats so that 16 rows read at one column fall in distinct banks.
// The loops stay as written (one reduction per token in the prelude): a version with every token
// loop unrolled and one reduction for all tokens measured slower on the H200 (9.3 instead of 6.6
// ms at 2.9B pp512, 248 registers; docs/benchmarks.md "WKV latency"). What the prelude waited on
// was its loads, each token's issued after the previous token's barriers: without them (a trial
// that made its inputs up) this step took 3.8 instead of 6.8 ms on the H100; loading each token's
// inputs one token ahead took it to 5.1 (docs/benchmarks.md, 2026-12-07).
#include "reduce.glsl"
const uint MID = CH / 2u - 1u;
const uint PER = CH * CH / N, MAX_PER = 8u;  // matrix entries per invocation (N >= 32: ops/wkv7.cpp)
shared float s_ah[CH][N + 1u], s_rh[CH][N + 1u], s_bh[CH][N + 1u], s_kh[CH][N + 1u];
shared float s_a[4][CH][CH];  // A_ab, A_ak, A_rb, A_rk

// Token t's inputs at channel c: r, k, v, the w, a and v LoRA outputs and v_first (zeros past the
// chunk's tokens; layer 0 has no v LoRA nor v_first to read).
void load_token(uint first, uint count, uint t, uint c, uint TC, out float x[7]) {
  const uint at = (first + t) * p.C + c;
  [[unroll]] for (uint i = 0u; i < 7u; ++i) x[i] = 0.0;
  if (t >= count) return;
  x[0] = rkv[at];
  x[1] = rkv[TC + at];
  x[2] = rkv[2u * TC + at];
  x[3] = lora[at];
  x[4] = lora[TC + at];
  if (p.layer0 != 0u) return;
  x[5] = lora[2u * TC + at];
  x[6] = v_first[at];
}

void main() {
  uint first, count;
  Sequence seq;
  if (!find_chunk(first, count, seq)) return;
  const uint h = gl_WorkGroupID.y, j = gl_LocalInvocationID.x, c = h * N + j, TC = p.T * p.C;

  // Prelude (as wkv7.comp), one token at a time: kk's norm is a sum over the head. Invocation j
  // keeps column j of each token's values. Token t + 1's inputs are loaded before token t's sum
  // over the head (which holds barriers), so that their latency passes during it.
  float r_[CH], k_[CH], v_[CH], alpha_[CH], beta_[CH], G[CH];
  const float w0 = param(p.w0_row, c), a0 = param(p.a0_row, c), k_k = param(p.k_k_row, c), k_a = param(p.k_a_row, c),
              v0 = p.layer0 != 0u ? 0.0 : param(p.v0_row, c);
  float in_next[7];
  load_token(first, count, 0u, c, TC, in_next);
  float acc = 0.0;
  for (uint t = 0u; t < CH; ++t) {
    const float in_[7] = in_next;
    if (t + 1u < CH) load_token(first, count, t + 1u, c, TC, in_next);
    float r = in_[0], k = in_[1], v = in_[2], g = 0.0, kk = 0.0, a = 0.0;
    if (t < count) {
      const uint at = (first + t) * p.C + c;
      g = -0.606531 * sigmoid(w0 + in_[3]);
      a = sigmoid(a0 + in_[4]);
      kk = k * k_k;
      k *= 1.0 + (a - 1.0) * k_a;
      if (p.layer0 != 0u) {
        v_first[at] = v;
      } else {
        v += (in_[6] - v) * sigmoid(v0 + in_[5]);
      }
      sc[region(K_ADJ, first + t, c)] = k;
      sc[region(V_ADJ, first + t, c)] = v;
    }
    kk /= max(sqrt(workgroup_sum(kk * kk)), 1e-12);  // uniform: every invocation runs it
    r_[t] = r;
    k_[t] = k;
    v_[t] = v;
    alpha_[t] = -kk;
    beta_[t] = kk * a;
    acc += g;  // prefix sums of the log-decay: G_t inclusive, E_t = G_{t-1}; padding adds 0
    G[t] = acc;
  }
  const float M = G[MID];
  for (uint t = 0u; t < CH; ++t) {
    s_ah[t][j] = alpha_[t] * exp((t == 0u ? 0.0 : G[t - 1u]) - M);
    s_rh[t][j] = r_[t] * exp(G[t] - M);
    s_bh[t][j] = beta_[t] * exp(M - G[t]);
    s_kh[t][j] = k_[t] * exp(M - G[t]);
  }
  barrier();
  // Invocation j takes the entries (t0 + i * N / CH, s) of the four matrices, i < PER: the
  // s-side factors are read once per q for all of them.
  {
    const uint s = j % CH, t0 = j / CH;
    float ab[MAX_PER], ak[MAX_PER], rb[MAX_PER], rk[MAX_PER];
    [[unroll]] for (uint i = 0u; i < PER; ++i) ab[i] = ak[i] = rb[i] = rk[i] = 0.0;
    for (uint q = 0u; q < N; ++q) {
      const float b = s_bh[s][q], k = s_kh[s][q];
      [[unroll]] for (uint i = 0u; i < PER; ++i) {
        const float a = s_ah[t0 + i * (N / CH)][q], r = s_rh[t0 + i * (N / CH)][q];
        ab[i] += a * b;
        ak[i] += a * k;
        rb[i] += r * b;
        rk[i] += r * k;
      }
    }
    [[unroll]] for (uint i = 0u; i < PER; ++i) {
      const uint t = t0 + i * (N / CH);
      s_a[0][t][s] = s < t ? ab[i] : 0.0;
      s_a[1][t][s] = s < t ? ak[i] : 0.0;
      s_a[2][t][s] = s <= t ? rb[i] : 0.0;
      s_a[3][t][s] = s <= t ? rk[i] : 0.0;
    }
  }
  barrier();

  // Column j of W and U by forward substitution: X_t = RHS_t + sum_{s<t} A_ab[t,s] X_s, with
  // RHS = [alpha e^E | A_ak V] (j as a key column for W, as a value row for U).
  float Wc[CH], Uc[CH];
  for (uint t = 0u; t < CH; ++t) {
    float w = alpha_[t] * (t == 0u ? 1.0 : exp(G[t - 1u]));
    float u = 0.0;
    for (uint s = 0u; s < t; ++s) {
      u += s_a[1][t][s] * v_[s] + s_a[0][t][s] * Uc[s];
      w += s_a[0][t][s] * Wc[s];
    }
    Wc[t] = w;
    Uc[t] = u;
  }
  const float GC = G[CH - 1u];
  for (uint t = 0u; t < count; ++t) {
    const uint tok = first + t;
    sc[region(W_SOLVED, tok, c)] = Wc[t];
    sc[region(U_SOLVED, tok, c)] = Uc[t];
    sc[region(R_DEC, tok, c)] = r_[t] * exp(G[t]);
    sc[region(K_DEC, tok, c)] = k_[t] * exp(GC - G[t]);
    sc[region(B_DEC, tok, c)] = beta_[t] * exp(GC - G[t]);
    if (j < CH) {
      sc[a_matrix(0u, tok, h, j)] = s_a[2][t][j];
      sc[a_matrix(1u, tok, h, j)] = s_a[3][t][j];
    }
  }
  sc[region(E_GC, first, c)] = exp(GC);
}

#elif defined(STATE)
#extension GL_KHR_shader_subgroup_shuffle : require
// A workgroup owns N / LANES rows of one head's state; LANES consecutive invocations share a row,
// each holding the columns of the vec4s lane + LANES * m. Rows never meet (each row's update reads
// only that row and the chunk's data), so the workgroups of a head run independently and the sums
// over a row's columns stay inside a subgroup (ops/wkv7.cpp requires subgroups of a multiple of
// LANES invocations and N a multiple of 4 * LANES). A step of the loop is latency-bound (the
// chunks of a sequence are dependent): the chunk's rows are read from shared memory as vec4 (a
// quarter of the load instructions; the LANES invocations of a row read consecutive vec4s, so a
// subgroup's loads fall in distinct banks), the next chunk's data is loaded into registers before
// the current chunk's arithmetic, and every invocation has 2 * CH independent sums to work on.
layout(binding = 7) buffer Scratch4 { vec4 sc4[]; };  // the scratch as vec4: region() / 4
layout(constant_id = 1) const uint LANES = 8u;  // 8 or 16 (host)
const uint ROWS = N / LANES, QUADS = N / 4u / LANES;  // rows per workgroup, vec4s per invocation and row
// One chunk's rows in shared memory, N / 4 vec4 each: W, R~, B-, K- ([CH] rows each, by token),
// then e^G_C. U and V of this workgroup's value rows: [CH][ROWS] floats each.
const uint AT_W = 0u, AT_R = CH, AT_B = 2u * CH, AT_K = 3u * CH, AT_E = 4u * CH, CHUNK_ROWS = 4u * CH + 1u;
const uint UV = 2u * CH * ROWS;  // floats of U and V
shared vec4 s_rows[CHUNK_ROWS * N / 4u];
shared float s_uv[4u * N];  // UV <= 4 N (LANES >= 8)
// What invocation x loads of the next chunk: vec4 x + N * m of the chunk's rows (CH per
// invocation: four regions of CH rows of N / 4 vec4), e^G_C's vec4 x (x < N / 4), and floats
// x + N * m of U and V (UV / N per invocation).
vec4 staged[CH];
vec4 staged_e;
float staged_uv[2u * CH / 8u];  // UV / N = 2 CH / LANES

uint quad(uint r, uint t, uint h) { return region(r, t, h * N) / 4u; }  // C and N multiples of 4

void stage(uint first, uint count, uint h, uint i0) {
  const uint x = gl_LocalInvocationID.x;
  const uint regions[4] = {W_SOLVED, R_DEC, B_DEC, K_DEC};
  [[unroll]] for (uint m = 0u; m < CH; ++m) {
    const uint f = x + N * m, row = f / (N / 4u), t = row % CH;
    staged[m] = t < count ? sc4[quad(regions[row / CH], first + t, h) + f % (N / 4u)] : vec4(0.0);
  }
  if (x < N / 4u) staged_e = sc4[quad(E_GC, first, h) + x];
  [[unroll]] for (uint m = 0u; m < (UV + N - 1u) / N; ++m) {
    const uint f = x + N * m, uv = f / (CH * ROWS), t = f % (CH * ROWS) / ROWS, i = f % ROWS;
    if (f < UV) staged_uv[m] = t < count ? sc[region(uv == 0u ? U_SOLVED : V_ADJ, first + t, h * N + i0 + i)] : 0.0;
  }
}

void store_staged() {
  const uint x = gl_LocalInvocationID.x;
  [[unroll]] for (uint m = 0u; m < CH; ++m) s_rows[x + N * m] = staged[m];
  if (x < N / 4u) s_rows[AT_E * (N / 4u) + x] = staged_e;
  [[unroll]] for (uint m = 0u; m < (UV + N - 1u) / N; ++m)
    if (x + N * m < UV) s_uv[x + N * m] = staged_uv[m];
}

void main() {
  const Sequence seq = seqs[gl_WorkGroupID.x];
  const uint h = gl_WorkGroupID.y, i0 = gl_WorkGroupID.z * ROWS, x = gl_LocalInvocationID.x;
  const uint row = x / LANES, lane = x % LANES, i = i0 + row, ci = h * N + i;
  const uint base = seq.slot * p.state_stride + p.state_offset + (h * N + i) * N;
  vec4 S[QUADS];  // columns 4 (lane + LANES m) .. + 3 of row i
  [[unroll]] for (uint m = 0u; m < QUADS; ++m) {
    const uint q = base + 4u * (lane + LANES * m);
    S[m] = vec4(state[q], state[q + 1u], state[q + 2u], state[q + 3u]);
  }
  const uint end = seq.start + seq.len;
  stage(seq.start, min(CH, seq.len), h, i0);
  store_staged();
  barrier();
  for (uint first = seq.start; first < end; first += CH) {
    const uint count = min(CH, end - first), next = first + CH;
    if (next < end) stage(next, min(CH, end - next), h, i0);
    // Z[t] = sum_q W[t, q] S0[i, q] + U[t, i] and Yin[t] = sum_q R~[t, q] S0[i, q]: partial sums
    // over this invocation's columns, then over the row's LANES invocations.
    float z[CH], yin[CH], v[CH];
    [[unroll]] for (uint t = 0u; t < CH; ++t) {
      float zs = 0.0, ys = 0.0;
      [[unroll]] for (uint m = 0u; m < QUADS; ++m) {
        const uint q = lane + LANES * m;
        zs += dot(s_rows[(AT_W + t) * (N / 4u) + q], S[m]);
        ys += dot(s_rows[(AT_R + t) * (N / 4u) + q], S[m]);
      }
      z[t] = zs;
      yin[t] = ys;
      v[t] = s_uv[(CH + t) * ROWS + row];
    }
    [[unroll]] for (uint d = 1u; d < LANES; d *= 2u) {
      [[unroll]] for (uint t = 0u; t < CH; ++t) {
        z[t] += subgroupShuffleXor(z[t], d);
        yin[t] += subgroupShuffleXor(yin[t], d);
      }
    }
    [[unroll]] for (uint t = 0u; t < CH; ++t) {
      z[t] += s_uv[t * ROWS + row];
      if (t % LANES == lane && t < count) {  // the row's LANES invocations store its CH values
        sc[region(Z_ROWS, first + t, ci)] = z[t];
        sc[region(Y_IN, first + t, ci)] = yin[t];
      }
    }
    // S <- S diag(e^G_C) + Z^T B- + V^T K-, this invocation's columns of row i.
    [[unroll]] for (uint m = 0u; m < QUADS; ++m) {
      const uint q = lane + LANES * m;
      vec4 s = S[m] * s_rows[AT_E * (N / 4u) + q];
      [[unroll]] for (uint t = 0u; t < CH; ++t)
        s += z[t] * s_rows[(AT_B + t) * (N / 4u) + q] + v[t] * s_rows[(AT_K + t) * (N / 4u) + q];
      S[m] = s;
    }
    barrier();
    if (next < end) store_staged();
    barrier();
  }
  [[unroll]] for (uint m = 0u; m < QUADS; ++m) {
    const uint q = base + 4u * (lane + LANES * m);
    state[q] = S[m].x;
    state[q + 1u] = S[m].y;
    state[q + 2u] = S[m].z;
    state[q + 3u] = S[m].w;
  }
}

#elif defined(OUTPUT)
#extension GL_KHR_shader_subgroup_arithmetic : require
// Sums over the head (the workgroup) of CH values per invocation at once, with one barrier
// instead of a reduction per token: subgroup adds, then the subgroups' partials added in
// subgroup order (as reduce.glsl's workgroup_sum: the same rounding).
shared float s_partials[CH][N];  // [token][subgroup]
void head_sums(inout float v[CH]) {
  [[unroll]] for (uint t = 0u; t < CH; ++t) {
    const float sum = subgroupAdd(v[t]);
    if (subgroupElect()) s_partials[t][gl_SubgroupID] = sum;
  }
  barrier();
  [[unroll]] for (uint t = 0u; t < CH; ++t) {
    float total = 0.0;
    for (uint sg = 0u; sg < gl_NumSubgroups; ++sg) total += s_partials[t][sg];
    v[t] = total;
  }
  barrier();
}

void main() {
  uint first, count;
  Sequence seq;
  if (!find_chunk(first, count, seq)) return;
  const uint h = gl_WorkGroupID.y, i = gl_LocalInvocationID.x, c = h * N + i, TC = p.T * p.C;
  float Z[CH], V[CH];
  [[unroll]] for (uint s = 0u; s < CH; ++s) {
    Z[s] = s < count ? sc[region(Z_ROWS, first + s, c)] : 0.0;
    V[s] = s < count ? sc[region(V_ADJ, first + s, c)] : 0.0;
  }
  // y = Yin + A_rb Z + A_rk V and the bonus terms r_j k_j r_k_j of every token, then their sums
  // over the head for all tokens at once.
  float y[CH], mean[CH], bonus[CH], var[CH];
  [[unroll]] for (uint t = 0u; t < CH; ++t) {
    float yt = 0.0, bt = 0.0;
    if (t < count) {
      const uint tok = first + t;
      yt = sc[region(Y_IN, tok, c)];
      [[unroll]] for (uint s = 0u; s <= t; ++s) yt += sc[a_matrix(0u, tok, h, s)] * Z[s] + sc[a_matrix(1u, tok, h, s)] * V[s];
      bt = rkv[tok * p.C + c] * sc[region(K_ADJ, tok, c)] * param(p.r_k_row, c);
    }
    y[t] = yt;
    mean[t] = yt;
    bonus[t] = bt;
  }
  head_sums(mean);
  head_sums(bonus);
  [[unroll]] for (uint t = 0u; t < CH; ++t) {
    mean[t] /= float(N);
    var[t] = (y[t] - mean[t]) * (y[t] - mean[t]);
  }
  head_sums(var);
  // GroupNorm over the head (eps 64e-5), the bonus sum_j r_j k_j r_k_j times v, the gate.
  [[unroll]] for (uint t = 0u; t < CH; ++t) {
    if (t >= count) continue;
    const uint at = (first + t) * p.C + c;
    const float normed = (y[t] - mean[t]) * inversesqrt(var[t] / float(N) + 64e-5) * param(p.ln_x_w_row, c) + param(p.ln_x_b_row, c);
    o[at] = (normed + bonus[t] * V[t]) * lora[3u * TC + at];
  }
}
#else
#error "define PREPARE, STATE or OUTPUT"
#endif
