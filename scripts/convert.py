"""Writes a converted copy of a model directory (Hugging Face's ONNX layout).

Usage: convert.py fp16|int8 MODEL_DIR OUT_DIR   (run by `cargo xtask convert`)

fp16  every graph in onnx/ converted to float16 by ONNX Runtime's converter; inputs and
      outputs stay float32, so the copy is a drop-in model folder.
int8  ONNX Runtime's dynamic quantisation of the vision tower (the text tower stays fp32: it
      is cheap and cached), by two recipes: plain, and with ONNX Runtime's pre-processing
      (shape inference, graph optimisation) first. Which is faster depends on the processor,
      so both are timed here in interleaved rounds and the faster is kept.

OUT_DIR must not exist: the copy is built in a new folder beside it and renamed into place
at the end, so nothing already there is touched and a failed conversion leaves nothing.
OUT_DIR/conversion.json records the source, the recipe and what was measured.
"""
import json, os, platform, shutil, statistics, sys, tempfile, time

# numpy, onnx and onnxruntime are imported where used: the refusals come first and need
# only the standard library.

TOWERS_KEPT_FP32_FOR_INT8 = ("text_model",)
TWO_GIB = 2**31


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def processor():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def graphs(src):
    folder = os.path.join(src, "onnx")
    if not os.path.isdir(folder):
        fail(f"{src} has no onnx/ folder: a model folder holds onnx/vision_model.onnx and onnx/text_model.onnx")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".onnx"))
    if "vision_model.onnx" not in names:
        fail(f"{folder} has no vision_model.onnx")
    return names


def copy_top_level(src, dst):
    """Every plain file beside onnx/ (tokenizer, configs); links are followed, as Hugging
    Face's cache keeps its files behind them."""
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(dst, name))


def save(model, path):
    import onnx

    # Protobuf caps one file at 2 GiB: larger graphs keep their weights beside them.
    if model.ByteSize() >= TWO_GIB - 2**20:
        onnx.save_model(model, path, save_as_external_data=True, location=os.path.basename(path) + ".data")
    else:
        onnx.save_model(model, path)


def convert_fp16(src, dst):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    converted = []
    for name in graphs(src):
        model = onnx.load(os.path.join(src, "onnx", name))
        save(convert_float_to_float16(model, keep_io_types=True), os.path.join(dst, "onnx", name))
        converted.append(name)
    return {"precision": "fp16", "converted": converted, "inputs_and_outputs": "float32"}


def input_batch(path, batch=8):
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = [batch] + [d if isinstance(d, int) and d > 0 else 224 for d in first.shape[1:]]
    pixels = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return first.name, pixels


def images_per_second(path, name, pixels, runs=3):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    session.run(None, {name: pixels})  # warm-up: allocation and planning
    start = time.perf_counter()
    for _ in range(runs):
        session.run(None, {name: pixels})
    return runs * pixels.shape[0] / (time.perf_counter() - start)


def convert_int8(src, dst, work, rounds=5):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    vision = os.path.join(src, "onnx", "vision_model.onnx")
    plain = os.path.join(work, "plain.onnx")
    prepared_input = os.path.join(work, "prepared-input.onnx")
    prepared = os.path.join(work, "prepared.onnx")
    quantize_dynamic(vision, plain, weight_type=QuantType.QInt8)
    quant_pre_process(vision, prepared_input)
    quantize_dynamic(prepared_input, prepared, weight_type=QuantType.QInt8)

    name, pixels = input_batch(vision)
    timings = {"plain": [], "pre-processed": []}
    for round in range(rounds):
        order = [("plain", plain), ("pre-processed", prepared)]
        for recipe, path in order if round % 2 == 0 else reversed(order):
            timings[recipe].append(images_per_second(path, name, pixels))
    ratios = [p / q for p, q in zip(timings["pre-processed"], timings["plain"])]
    ratio = statistics.median(ratios)
    recipe, chosen = ("pre-processed", prepared) if ratio > 1.0 else ("plain", plain)
    shutil.copyfile(chosen, os.path.join(dst, "onnx", "vision_model.onnx"))
    for graph in graphs(src):
        if graph.startswith(TOWERS_KEPT_FP32_FOR_INT8):
            shutil.copyfile(os.path.join(src, "onnx", graph), os.path.join(dst, "onnx", graph))
            data = os.path.join(src, "onnx", graph + ".data")
            if os.path.isfile(data):
                shutil.copyfile(data, os.path.join(dst, "onnx", graph + ".data"))
    print(f"int8 recipes, images/s per round (batch {pixels.shape[0]}, random input, {processor()}):")
    for key, values in timings.items():
        print(f"  {key:14} {' '.join(f'{v:.2f}' for v in values)}")
    print(f"  pre-processed / plain: median {ratio:.3f}; kept: {recipe}")
    return {
        "precision": "int8",
        "converted": ["vision_model.onnx"],
        "kept_fp32": [g for g in graphs(src) if g.startswith(TOWERS_KEPT_FP32_FOR_INT8)],
        "recipe": recipe,
        "recipes_images_per_s": timings,
        "pre_processed_over_plain_median": ratio,
        "timed_batch": int(pixels.shape[0]),
    }


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("fp16", "int8"):
        fail("usage: convert.py fp16|int8 MODEL_DIR OUT_DIR")
    precision, src, dst = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    if not os.path.isdir(src):
        fail(f"{src} is not a folder")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        fail(f"{parent} does not exist: create it first, or give another --out")
    graphs(src)
    try:
        os.mkdir(dst)  # claims the name: it fails if anything is there
    except FileExistsError:
        fail(f"{dst} already exists: give a new folder for the copy (nothing there was touched)")
    staging = tempfile.mkdtemp(prefix=".convert-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 is for temporaries, not the result
    try:
        os.mkdir(os.path.join(staging, "onnx"))
        copy_top_level(src, staging)
        with tempfile.TemporaryDirectory() as work:
            if precision == "fp16":
                record = convert_fp16(src, staging)
            else:
                record = convert_int8(src, staging, work)
        import onnx
        import onnxruntime as ort

        record.update({
            "source": src,
            "onnxruntime": ort.__version__,
            "onnx": onnx.__version__,
            "processor": processor(),
        })
        with open(os.path.join(staging, "conversion.json"), "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
        # Replaces only the empty folder claimed above; fails if anything was put in it.
        os.rename(staging, dst)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            os.rmdir(dst)  # ours, and only while still empty
        except OSError:
            pass
        raise
    print(dst)


if __name__ == "__main__":
    main()
