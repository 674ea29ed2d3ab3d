"""Writes a converted copy of a model directory (Hugging Face's ONNX layout).

Usage: convert.py fp16|int8 MODEL_DIR OUT_DIR [RECIPE]   (run by `cargo xtask convert`)

fp16  onnx/vision_model.onnx and onnx/text_model.onnx converted to float16 by ONNX
      Runtime's converter; inputs and outputs stay float32, so the copy is a drop-in model
      folder.
int8  ONNX Runtime's dynamic quantisation of the vision tower (the text tower is copied as
      it is: cheap, and cached), by one of two recipes: `plain`, or `pre-processed` (ONNX
      Runtime's shape inference and graph optimisation first). RECIPE `fastest` (the
      default) times both here in interleaved rounds and keeps the faster, which depends on
      the processor; name a recipe for the same file on every machine.

OUT_DIR must not exist: its name is claimed with a new empty folder, the copy is built in a
folder beside it and renamed onto it at the end, so nothing already there is touched, and a
failed or interrupted conversion removes what it made. OUT_DIR/conversion.json records the
source, the recipe and what was measured. Other files in onnx/ (variants of the towers) are
not copied: the copy holds exactly what ontosweep reads.
"""
import json, os, platform, shutil, signal, statistics, sys, tempfile, time

# numpy, onnx and onnxruntime are imported where used: the refusals come first and need
# only the standard library.

VISION, TEXT = "vision_model.onnx", "text_model.onnx"
EXTERNAL_DATA_SUFFIXES = (".data", "_data")
RECIPES = ("fastest", "plain", "pre-processed")
# Protobuf caps one file at 2 GiB: larger graphs keep their weights beside them.
EXTERNAL_DATA_ABOVE = 2**31 - 2**24


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
    """The towers ontosweep reads, as present in `src`."""
    folder = os.path.join(src, "onnx")
    if not os.path.isfile(os.path.join(folder, VISION)):
        fail(f"{folder} has no {VISION}: a model folder holds onnx/{VISION} and onnx/{TEXT}")
    return [g for g in (VISION, TEXT) if os.path.isfile(os.path.join(folder, g))]


def graph_size(path):
    return sum(os.path.getsize(p) for p in [path] + [path + s for s in EXTERNAL_DATA_SUFFIXES] if os.path.isfile(p))


def copy_graph(src, dst, graph):
    """A graph and its external-data file, whichever suffix it uses."""
    for suffix in ("",) + EXTERNAL_DATA_SUFFIXES:
        path = os.path.join(src, "onnx", graph + suffix)
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(dst, "onnx", graph + suffix))


def copy_top_level(src, dst):
    """Every plain file beside onnx/ (tokenizer, configs); links are followed, as Hugging
    Face's cache keeps its files behind them."""
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(dst, name))


def save(model, path):
    import onnx

    if model.ByteSize() >= EXTERNAL_DATA_ABOVE:
        onnx.save_model(model, path, save_as_external_data=True, location=os.path.basename(path) + ".data")
    else:
        onnx.save_model(model, path)


def convert_fp16(src, dst):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    converted = graphs(src)
    for graph in converted:
        model = onnx.load(os.path.join(src, "onnx", graph))
        save(convert_float_to_float16(model, keep_io_types=True), os.path.join(dst, "onnx", graph))
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


def convert_int8(src, dst, work, recipe, rounds=5):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    vision = os.path.join(src, "onnx", VISION)
    large = graph_size(vision) >= EXTERNAL_DATA_ABOVE
    built = {}
    if recipe in ("fastest", "plain"):
        built["plain"] = os.path.join(work, "plain", VISION)
        os.mkdir(os.path.dirname(built["plain"]))
        quantize_dynamic(vision, built["plain"], weight_type=QuantType.QInt8, use_external_data_format=large)
    if recipe in ("fastest", "pre-processed"):
        prepared = os.path.join(work, "prepared-input.onnx")
        built["pre-processed"] = os.path.join(work, "pre-processed", VISION)
        os.mkdir(os.path.dirname(built["pre-processed"]))
        quant_pre_process(vision, prepared, save_as_external_data=large)
        quantize_dynamic(prepared, built["pre-processed"], weight_type=QuantType.QInt8, use_external_data_format=large)

    record = {"precision": "int8", "converted": [VISION], "copied": [g for g in graphs(src) if g != VISION]}
    if recipe == "fastest":
        name, pixels = input_batch(vision)
        timings = {"plain": [], "pre-processed": []}
        for round in range(rounds):
            order = ["plain", "pre-processed"] if round % 2 == 0 else ["pre-processed", "plain"]
            for each in order:
                timings[each].append(images_per_second(built[each], name, pixels))
        ratio = statistics.median(p / q for p, q in zip(timings["pre-processed"], timings["plain"]))
        recipe = "pre-processed" if ratio > 1.0 else "plain"
        print(f"int8 recipes, images/s per round (batch {pixels.shape[0]}, random input, {processor()}):")
        for key, values in timings.items():
            print(f"  {key:14} {' '.join(f'{v:.2f}' for v in values)}")
        print(f"  pre-processed / plain: median {ratio:.3f}; kept: {recipe}")
        record.update({"recipes_images_per_s": timings, "pre_processed_over_plain_median": ratio,
                       "timed_batch": int(pixels.shape[0])})
    folder = os.path.dirname(built[recipe])
    for name in os.listdir(folder):
        shutil.copyfile(os.path.join(folder, name), os.path.join(dst, "onnx", name))
    for graph in record["copied"]:
        copy_graph(src, dst, graph)
    record["recipe"] = recipe
    return record


def interrupted(signum, _frame):
    # A killed job (timeout, hang-up) still removes what it made.
    raise SystemExit(f"error: interrupted by signal {signum}; nothing was left behind")


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("fp16", "int8"):
        fail("usage: convert.py fp16|int8 MODEL_DIR OUT_DIR [fastest|plain|pre-processed]")
    precision, src, dst = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    recipe = sys.argv[4] if len(sys.argv) == 5 else "fastest"
    if recipe not in RECIPES:
        fail(f"unknown int8 recipe {recipe!r}: use {', '.join(RECIPES)}")
    if precision == "fp16" and len(sys.argv) == 5:
        fail("a recipe is for int8 only")
    if not os.path.isdir(src):
        fail(f"{src} is not a folder")
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        fail(f"{parent} does not exist: create it first, or give another --out")
    graphs(src)
    try:
        os.mkdir(dst)  # claims the name: it fails if anything is there, even a dangling link
    except FileExistsError:
        fail(f"{dst} already exists: give a new folder for the copy (nothing there was touched)")
    except OSError as e:
        fail(f"cannot create {dst}: {e.strerror}; give --out a folder you can write")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    staging = None
    try:
        staging = tempfile.mkdtemp(prefix=".convert-", dir=parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 is for temporaries, not the result
        os.mkdir(os.path.join(staging, "onnx"))
        copy_top_level(src, staging)
        with tempfile.TemporaryDirectory() as work:
            if precision == "fp16":
                record = convert_fp16(src, staging)
            else:
                record = convert_int8(src, staging, work, recipe)
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
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        try:
            os.rmdir(dst)  # ours, and only while still empty
        except OSError:
            pass
        raise
    print(dst)


if __name__ == "__main__":
    main()
