// Push constants of the grouped matrix products (MATMUL_NO_PUSH: only the helpers, for a shader
// with a push block of its own): up to 4 independent products Y_g = W_g X_g in one
// dispatch (workgroup z = group), all with the same weight type and weight buffer.
//   W_g: m rows of k elements of ggml blocks, starting at byte w_offset of the weight binding
//   X_g: [T, k] f32 at float offset x_offset, act_in applied on load: bits 0-7 the activation
//        (0 none, 1 tanh, 2 sigmoid), bits 8-15 x_shift, a signed exponent: the fp16 variant
//        scales X by 2^-x_shift before its conversion and the sums back (a precision hint the
//        fp32 variants need not follow)
//   Y_g: rows of y_stride floats at float offset y_offset, [T, m] used; act_out (0 none,
//        1 relu^2); accumulate adds to Y. (y_stride > m when a big matrix runs in row chunks.)
#ifndef MATMUL_PARAMS_GLSL
#define MATMUL_PARAMS_GLSL

#include "layouts.h"  // MatmulPushGroup, MatmulPush

#ifndef MATMUL_NO_PUSH
layout(push_constant, std430) uniform Push { MatmulPush p; };

float activate_out(float v) {
  if (p.act_out == 1u) {
    const float r = max(v, 0.0);
    return r * r;
  }
  return v;
}
#endif

float activate_in(float v, uint act_in) {
  const uint act = act_in & 255u;
  if (act == 1u) return tanh(v);
  if (act == 2u) return 1.0 / (1.0 + exp(-v));
  return v;
}

int x_shift(uint act_in) { return int(act_in << 16) >> 24; }

#endif
