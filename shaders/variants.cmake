# The shader variant table: one rwkv_add_shader() per (source, defines) combination; the first
# argument becomes rwkv::ShaderId::<name>. Families over weight types get one variant per entry
# of RWKV_WEIGHT_TYPES (NAME:ggml type id) and a lookup table (cpp/ops/weight_variant.hpp). A
# shader with one variant and no defines needs no line: rwkv_add_remaining_shaders() adds it
# under its file name.
set(RWKV_WEIGHT_TYPES F32:0 F16:1 BF16:30 Q4_0:2 Q4_1:3 Q5_0:6 Q5_1:7 Q8_0:8 Q4_K:12 Q5_K:13 Q6_K:14)

rwkv_add_weight_shader(get_rows get_rows.comp)
rwkv_add_weight_shader(matvec matmul.comp MATVEC)
rwkv_add_weight_shader(matmul_batched matmul.comp BATCHED)
rwkv_add_weight_shader(matmul_tiled matmul.comp TILED)
rwkv_add_weight_shader(matmul_coopmat matmul_coopmat.comp COOPMAT)
rwkv_add_weight_shader(matmul_w16 matmul_w16.comp)

rwkv_add_shader(sample_stats sample.comp STATS)
rwkv_add_shader(sample_search sample.comp SEARCH)
rwkv_add_shader(sample_draw sample.comp DRAW)
rwkv_add_shader(sample_pick sample.comp PICK)
rwkv_add_shader(sample_remember sample.comp REMEMBER)

rwkv_add_shader(wkv7_chunk_prepare wkv7_chunked.comp PREPARE)
rwkv_add_shader(wkv7_chunk_state wkv7_chunked.comp STATE)
rwkv_add_shader(wkv7_chunk_output wkv7_chunked.comp OUTPUT)

rwkv_add_remaining_shaders()
