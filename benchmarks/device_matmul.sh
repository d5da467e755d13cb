#!/usr/bin/env bash
# Matmul kernel sweep on a lent GPU machine: `rwkv-gpu-bench matmul` (GPU time of one product
# dispatch, with the driver's pipeline statistics: registers, spills) for each weight shape of
# SHAPES ("ROWSxK[xGROUPS]"), token count of TS, weight type of TYPES and kernel of KERNELS (values
# of RWKV_GPU_MATMUL; "table" = the selection table), for each benchmark binary of BENCHES (to
# compare kernel versions in one call); then cuBLAS (torch F.linear, fp16) on the same shapes as
# the ceiling. MATVECS: values of RWKV_GPU_MATVEC (LANES[xSTEPS], one-token products; "table" = the
# default) timed with each kernel. Defaults: the products of the 2.9B model (n_embd 2560, FFN 10240; r, k, v grouped).
# Carry: .gl, .bench (benchmarks/device_carry.sh). Results: $OUT/matmul.jsonl, $OUT/cublas.jsonl.
set -uo pipefail
OUT=${OUT:-/tmp/out}
SHAPES=${SHAPES:-"2560x2560x3 2560x2560 10240x2560 2560x10240"}
TS=${TS:-"64 164 512"}
TYPES=${TYPES:-"F16"}
KERNELS=${KERNELS:-"table"}
BENCHES=${BENCHES:-.bench/rwkv-gpu-bench}
REPS=${REPS:-20}
source benchmarks/device_setup.sh
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader | tee "$OUT/gpu.txt"
export RWKV_GPU_PIPELINE_STATS=1
for bench in $BENCHES; do
  for type in $TYPES; do
    for shape in $SHAPES; do
      IFS=x read -r rows k groups <<<"$shape"
      for T in $TS; do
        for kernel in $KERNELS; do
          for matvec in ${MATVECS:-table}; do
            [ "$kernel" = table ] && unset RWKV_GPU_MATMUL || export RWKV_GPU_MATMUL=$kernel
            [ "$matvec" = table ] && unset RWKV_GPU_MATVEC || export RWKV_GPU_MATVEC=$matvec
            $bench matmul "$type" "$rows" "$k" "$T" -g "${groups:-1}" -r "$REPS" 2>>"$OUT/matmul.stderr" |
              sed "s|^{|{\"bench\": \"$(basename "$bench")\", \"matmul\": \"$kernel\", \"matvec\": \"$matvec\", |" >>"$OUT/matmul.jsonl" ||
              echo "failed: $bench $type $shape T=$T $kernel $matvec" | tee -a "$OUT/matmul.stderr"
          done
        done
      done
    done
  done
done
unset RWKV_GPU_MATMUL RWKV_GPU_MATVEC
python3 - "$SHAPES" "$TS" <<'PY' | tee "$OUT/cublas.jsonl"
import json, sys, torch
shapes, ts = sys.argv[1].split(), [int(t) for t in sys.argv[2].split()]
name = torch.cuda.get_device_name()
for shape in shapes:
    rows, k, *g = (int(v) for v in shape.split("x"))
    groups = g[0] if g else 1
    w = [torch.randn(rows, k, device="cuda", dtype=torch.float16) for _ in range(groups)]
    for T in ts:
        x = [torch.randn(T, k, device="cuda", dtype=torch.float16) for _ in range(groups)]
        times = []
        for rep in range(21):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            for wi, xi in zip(w, x):
                torch.nn.functional.linear(xi, wi)
            b.record()
            torch.cuda.synchronize()
            if rep:
                times.append(a.elapsed_time(b))
        ms = sorted(times)[len(times) // 2]
        print(json.dumps({"benchmark": "cublas_linear", "device": name, "rows": rows, "k": k, "T": T, "groups": groups,
                          "median_ms": ms, "tflops": 2 * rows * k * T * groups / ms / 1e9}))
PY
