"""Writes an int8 copy of a CLIP model directory: ONNX Runtime's dynamic quantisation of the
vision tower (weights int8, activations quantised on the fly); everything else copied.

Usage: quantize.py MODEL_DIR OUT_DIR   (run by `cargo xtask quantize`)
"""
import os, shutil, sys

import tempfile

from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(dst, "onnx"), exist_ok=True)
for name in ("tokenizer.json", "preprocessor_config.json", "config.json"):
    if os.path.exists(os.path.join(src, name)):
        shutil.copy(os.path.join(src, name), os.path.join(dst, name))
for name in os.listdir(os.path.join(src, "onnx")):
    if name.startswith("text_model.onnx"):  # the text tower stays fp32: it is cheap and cached
        shutil.copy(os.path.join(src, "onnx", name), os.path.join(dst, "onnx", name))
with tempfile.TemporaryDirectory() as tmp:
    # Shape inference and graph optimisation first (ONNX Runtime's advice): fused operators
    # quantise into far fewer, faster kernels.
    prepared = os.path.join(tmp, "vision_model.onnx")
    quant_pre_process(os.path.join(src, "onnx", "vision_model.onnx"), prepared)
    quantize_dynamic(prepared, os.path.join(dst, "onnx", "vision_model.onnx"), weight_type=QuantType.QInt8)
print(os.path.join(dst, "onnx", "vision_model.onnx"))
