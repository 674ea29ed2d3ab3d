"""Peer pipeline a user would otherwise write: Pillow + CLIP preprocessing + onnxruntime.

Usage: pillow_onnxruntime.py MODEL_DIR IMAGES_DIR [BATCH] [LIMIT]
Prints one JSON line: images/s for the raw session on prepared tensors and for the whole
pipeline (decode, preprocess, encode), the same two figures `ontosweep throughput` prints.
"""
import json, os, sys, time

import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)


def image_paths(images_dir, limit=None):
    return sorted(
        os.path.join(root, f)
        for root, _, files in os.walk(images_dir, followlinks=True)
        for f in files
        if f.lower().endswith((".jpg", ".jpeg", ".png"))
    )[:limit]


def preprocess(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    short, long = min(w, h), max(w, h)
    size = (224, int(224 * long / short)) if w <= h else (int(224 * long / short), 224)
    img = img.resize(size, Image.BICUBIC)
    left, top = round((size[0] - 224) / 2), round((size[1] - 224) / 2)
    img = img.crop((left, top, left + 224, top + 224))
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (x - MEAN) / STD


def main():
    import onnxruntime as ort

    model_dir, images_dir = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    paths = image_paths(images_dir, limit)
    session = ort.InferenceSession(os.path.join(model_dir, "onnx/vision_model.onnx"), providers=["CPUExecutionProvider"])
    session.run(["image_embeds"], {"pixel_values": np.stack([preprocess(paths[0])] * batch)})  # warm-up

    start = time.perf_counter()
    for i in range(0, len(paths), batch):
        session.run(["image_embeds"], {"pixel_values": np.stack([preprocess(p) for p in paths[i : i + batch]])})
    pipeline = time.perf_counter() - start

    tensors = [preprocess(p) for p in paths]
    start = time.perf_counter()
    for i in range(0, len(tensors), batch):
        session.run(["image_embeds"], {"pixel_values": np.stack(tensors[i : i + batch])})
    raw = time.perf_counter() - start
    n = len(paths)
    print(json.dumps({"peer": "pillow+onnxruntime", "images": n, "batch": batch, "raw_session_images_per_s": n / raw,
                      "pipeline_images_per_s": n / pipeline, "pipeline_over_raw": raw / pipeline}))


if __name__ == "__main__":
    main()
