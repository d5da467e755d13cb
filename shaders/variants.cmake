# The shader variant table: one rwkv_add_shader() per (source, defines) combination. The first
# argument becomes rwkv::ShaderId::<name>.
set(RWKV_WEIGHT_TYPES F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K)

foreach(type IN LISTS RWKV_WEIGHT_TYPES)
  string(TOLOWER "${type}" lower)
  rwkv_add_shader(get_rows_${lower} get_rows.comp TYPE_${type})
endforeach()
