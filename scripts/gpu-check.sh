#!/usr/bin/env bash
# GPU check, run on a lent device machine (no network, no Rust toolchain there).
#
# Carry: target/release/ontosweep (built here), the CUDA build of ONNX Runtime unpacked by
# `cargo xtask setup --gpu` (target/onnxruntime/gpu-1.31.1, staged in parts of < 64 MiB),
# and a model directory. The device's PyTorch provides CUDA 13 and cuDNN 9.
#
# Usage: scripts/gpu-check.sh MODEL_DIR IMAGES_DIR OUT_FILE [FP16_MODEL_DIR]
# FP16_MODEL_DIR: `cargo xtask convert --fp16 --model MODEL_DIR --out …`, made here (it needs
# pip) and carried along.
# Writes: the golden CUDA check and img/s per batch size, precision and IoBinding to
# OUT_FILE (JSON lines; each `throughput` line holds its interleaved rounds).
set -euo pipefail
model=$1 images=$2 out=$3 fp16=${4:-}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/target/release/ontosweep
export ORT_DYLIB_PATH=$here/target/onnxruntime/gpu-1.31.1/libonnxruntime.so.1.31.1
site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
export LD_LIBRARY_PATH=$site/nvidia/cu13/lib:$site/nvidia/cudnn/lib:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/{"gpu": "/; s/$/"}/' > "$out"

# 1. CUDA gives the reference embeddings (tiny model, golden files).
golden=$here/crates/clip/tests/golden
"$bin" embed --model "$here/models/clip-tiny-random" --ep cuda \
  --text "a photo of a sunflower." --image "$golden/preprocess/flower_0.jpg" > /tmp/cuda-embed.jsonl
python3 - "$golden/embeddings/clip-tiny-random.json" /tmp/cuda-embed.jsonl >> "$out" <<'PY'
import json, math, sys
ref = json.load(open(sys.argv[1])); got = [json.loads(l) for l in open(sys.argv[2])]
want = {"a photo of a sunflower.": next(t for t in ref["texts"] if t["text"] == "a photo of a sunflower.")["embedding"]}
img = next(i for i in ref["images"] if i["file"] == "flower_0.jpg")["embedding"]
cos = lambda a, b: sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
result = {"check": "cuda_golden", "text_cosine": cos(got[0]["embedding"], want["a photo of a sunflower."]), "image_cosine": cos(got[1]["embedding"], img)}
result["ok"] = result["text_cosine"] >= 0.9999 and result["image_cosine"] >= 0.9999
print(json.dumps(result))
PY

# 2. Throughput: raw session and the sweep pipeline, per batch size, fp32 and fp16, with and
#    without IoBinding.
for m in "$model" ${fp16:+"$fp16"}; do
  for batch in 64 256 1024; do
    for binding in "" --io-binding; do
      "$bin" throughput --model "$m" --images "$images" --ep cuda --batch "$batch" ${binding:+"$binding"} >> "$out"
    done
  done
done
cat "$out"
