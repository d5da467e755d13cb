// Workgroup-wide sums: subgroup adds, then one partial per subgroup through shared memory.
// Every invocation of the workgroup must call these (they contain barriers) and gets the total.
#ifndef REDUCE_GLSL
#define REDUCE_GLSL
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

shared vec4 reduce_partials[gl_WorkGroupSize.x];

vec4 workgroup_sum(vec4 v) {
  v = subgroupAdd(v);
  if (subgroupElect()) reduce_partials[gl_SubgroupID] = v;
  barrier();
  vec4 total = vec4(0.0);
  for (uint i = 0u; i < gl_NumSubgroups; ++i) total += reduce_partials[i];
  barrier();
  return total;
}

float workgroup_sum(float v) { return workgroup_sum(vec4(v, 0.0, 0.0, 0.0)).x; }

#endif
