"""Peer pipeline a PyTorch user would write: Pillow + CLIP preprocessing + transformers'
CLIPVisionModelWithProjection, in fp32 or under bf16 autocast.

Usage: torch_clip.py fp32|bf16 MODEL_DIR IMAGES_DIR [BATCH] [LIMIT]
The vision tower is built from MODEL_DIR/config.json with seeded random weights: the same
architecture and cost as the ONNX model, so the speeds compare (the numbers do not).
Prints the JSON line `ontosweep throughput` prints: raw images/s on prepared tensors and
the whole pipeline's.
"""
import json, os, sys, time

import numpy as np
import torch
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pillow_onnxruntime import image_paths, preprocess  # noqa: E402

mode, model_dir, images_dir = sys.argv[1], sys.argv[2], sys.argv[3]
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 32
limit = int(sys.argv[5]) if len(sys.argv) > 5 else None
if mode not in ("fp32", "bf16"):
    sys.exit("usage: torch_clip.py fp32|bf16 MODEL_DIR IMAGES_DIR [BATCH] [LIMIT]")

config_file = os.path.join(model_dir, "config.json")
try:
    with open(config_file) as f:
        config = json.load(f)
    if config.get("model_type") != "clip":
        raise ValueError(f"model_type is {config.get('model_type')!r}, not 'clip'")
    config = CLIPVisionConfig(**config["vision_config"])
except (OSError, ValueError, KeyError) as e:
    sys.exit(f"error: {config_file}: {e}; the PyTorch peer builds a CLIP vision tower from a CLIP config.json (vision_config)")
torch.manual_seed(0)
model = CLIPVisionModelWithProjection(config).eval()
paths = image_paths(images_dir, limit)


def encode(tensors):
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
        return model(pixel_values=torch.from_numpy(np.stack(tensors))).image_embeds


encode([preprocess(paths[0])] * batch)  # warm-up
start = time.perf_counter()
for i in range(0, len(paths), batch):
    encode([preprocess(p) for p in paths[i : i + batch]])
pipeline = time.perf_counter() - start

tensors = [preprocess(p) for p in paths]
start = time.perf_counter()
for i in range(0, len(tensors), batch):
    encode(tensors[i : i + batch])
raw = time.perf_counter() - start
n = len(paths)
print(json.dumps({"peer": f"transformers {mode}", "images": n, "batch": batch, "raw_session_images_per_s": n / raw,
                  "pipeline_images_per_s": n / pipeline, "pipeline_over_raw": raw / pipeline,
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
