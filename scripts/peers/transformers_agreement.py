"""Does ontosweep see and predict what the reference clients do, photo by photo?

Usage:
  transformers_agreement.py pixels CROPS_DIR DATA_ROOT
  transformers_agreement.py predictions REPORT_DIR PROMPTS_FILE MODEL_DIR DATA_ROOT

`pixels` compares ontosweep's 224×224 crops (written by
`cargo run --release -p ontosweep-clip --example preprocess -- --crops CROPS_DIR DATA_ROOT`)
with two references, image by image: OpenAI's CLIP preprocessing (Pillow decode,
`convert("RGB")`, Pillow bicubic resize of the shortest side, torchvision's centre crop at
`round((size - 224) / 2)`) and transformers' Pillow image processor (`CLIPImageProcessorPil`),
whose centre crop is at `(size - 224) // 2`.

`predictions` runs two clients on every photo of an ontosweep report and compares their
predictions with the report's. Both tokenize the prompts with transformers' CLIP tokenizer
(`tokenizer.json`), run both towers through ONNX Runtime from the same ONNX files ontosweep
ran, ensemble a class's prompts as OpenAI does (mean of unit embeddings, renormalised) and
predict the class of highest cosine. Their images differ: the transformers client uses the
model's `preprocessor_config.json` through `CLIPImageProcessorPil`; the other uses OpenAI's
preprocessing as above. It prints, per ontology and client, how many predictions agree, and
explains each disagreement: the crop offsets differ, or the two best classes are within
float rounding; anything else is listed as unexplained.

Python packages: transformers, onnxruntime, pillow, numpy, pyyaml.

PROMPTS_FILE is what `ontosweep sweep … --show-prompts` printed; a prompt search's chosen
prompts are read from the report's `search_<model>_<ontology>.yaml`.
"""
import csv
import glob
import json
import os
import sys

import numpy as np
from PIL import Image

SIZE = 224
# Cosine gaps below this are float rounding between two ONNX Runtime builds and batchings.
ROUNDING = 1e-5


def openai_crop(path):
    image = Image.open(path).convert("RGB")
    width, height = image.size
    if width <= height:
        size = (SIZE, int(SIZE * height / width))
    else:
        size = (int(SIZE * width / height), SIZE)
    image = image.resize(size, Image.BICUBIC)
    left = int(round((size[0] - SIZE) / 2.0))
    top = int(round((size[1] - SIZE) / 2.0))
    return np.asarray(image.crop((left, top, left + SIZE, top + SIZE)))


def crop_offsets_differ(path):
    """Whether torchvision's `round((long - 224) / 2)` (half to even) and transformers'
    `(long - 224) // 2` pick different offsets: when `long - 224` is 3 more than a multiple
    of 4."""
    width, height = Image.open(path).size
    long = int(SIZE * max(width, height) / min(width, height))
    return (long - SIZE) % 4 == 3


def photos(data_root):
    found = []
    for path in glob.glob(os.path.join(data_root, "**", "*"), recursive=True):
        if os.path.isfile(path) and path.lower().endswith((".jpg", ".jpeg", ".png")):
            found.append(os.path.relpath(path, data_root))
    return sorted(found)


def image_processor(model_dir):
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil.from_pretrained(model_dir)


def processor_levels(processor, path):
    """transformers' model input turned back into 8-bit levels, HWC."""
    pixels = processor(images=Image.open(path), return_tensors="np")["pixel_values"][0]
    mean = np.array(processor.image_mean, dtype=np.float64)[:, None, None]
    std = np.array(processor.image_std, dtype=np.float64)[:, None, None]
    levels = (pixels.astype(np.float64) * std + mean) / processor.rescale_factor
    return levels.transpose(1, 2, 0)


def pixels(crops_dir, data_root):
    from transformers import CLIPImageProcessorPil

    processor = CLIPImageProcessorPil(
        do_resize=True, size={"shortest_edge": SIZE}, resample=3, do_center_crop=True,
        crop_size={"height": SIZE, "width": SIZE}, do_rescale=True, do_normalize=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073], image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    names = photos(data_root)
    openai_equal = transformers_within_one = 0
    openai_worst = transformers_worst = 0.0
    offset_differs, unexplained, missing = [], [], []
    for name in names:
        crop_file = os.path.join(crops_dir, name + ".png")
        if not os.path.exists(crop_file):
            missing.append(name)
            continue
        ours = np.asarray(Image.open(crop_file).convert("RGB")).astype(np.float64)
        path = os.path.join(data_root, name)
        reference = openai_crop(path).astype(np.float64)
        difference = np.abs(ours - reference).max()
        openai_worst = max(openai_worst, difference)
        openai_equal += difference == 0
        theirs = np.abs(ours - processor_levels(processor, path)).max()
        transformers_worst = max(transformers_worst, theirs)
        transformers_within_one += theirs < 1
        if theirs >= 1:
            offset_differs.append(name)
        if theirs >= 1 and not crop_offsets_differ(path):
            unexplained.append(name)
    print(json.dumps({
        "photos": len(names), "without_crop": len(missing),
        "equal_to_openai_preprocessing": int(openai_equal), "openai_largest_difference": openai_worst,
        "within_one_level_of_transformers": int(transformers_within_one),
        "transformers_largest_difference": round(transformers_worst, 3),
        "transformers_differs_where_crop_offsets_differ": len(offset_differs) - len(unexplained),
        "photos_whose_crop_offsets_differ": sum(crop_offsets_differ(os.path.join(data_root, n)) for n in names),
        "transformers_differs_otherwise": unexplained[:20],
    }))


def read_prompts(prompts_file):
    """`--show-prompts` output: `ontology:` lines, then `  class: "p1", "p2"` lines."""
    ontologies, current = {}, None
    with open(prompts_file, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if not line.startswith(" "):
                # An ontology's heading, or the results that follow the prompts.
                current = line[:-1] if line.endswith(":") and " " not in line else None
                if current is not None:
                    ontologies[current] = {}
            elif current is not None and ': "' in line:
                name, prompts = line.strip().split(": ", 1)
                ontologies[current][name] = json.loads(f"[{prompts}]")
    return ontologies


def searched_prompts(report_dir, model, ontology):
    import yaml

    path = os.path.join(report_dir, f"search_{model}_{ontology}.yaml")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        chosen = next(iter(yaml.safe_load(f)["ontologies"].values()))
    return {c: [t.replace("{}", n) for t in chosen["templates"]] for c, n in chosen["names"].items()}


def unit(rows):
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def agreement(rows, classes, class_embeddings, image_embeddings, crop_offset_differs):
    """How many of the report's predictions a client agrees with, and why the others differ."""
    agree, by_offset, by_rounding, unexplained = 0, [], [], []
    for row in rows:
        cosines = class_embeddings @ image_embeddings[row["path"]]
        if classes[int(np.argmax(cosines))] == row["predicted_class"]:
            agree += 1
            continue
        best = np.sort(cosines)
        gap = float(best[-1] - best[-2])
        if row["path"] in crop_offset_differs:
            by_offset.append(row["path"])
        elif gap < ROUNDING:
            by_rounding.append((row["path"], gap))
        else:
            unexplained.append((row["path"], gap))
    return {
        "images": len(rows), "agree": agree, "agreement": round(agree / len(rows), 5),
        "disagree_where_crop_offsets_differ": len(by_offset),
        "disagree_within_float_rounding": len(by_rounding), "disagree_unexplained": unexplained[:10],
    }


def predictions(report_dir, prompts_file, model_dir, data_root):
    import onnxruntime as ort
    from transformers import CLIPTokenizerFast

    tokenizer = CLIPTokenizerFast(tokenizer_file=os.path.join(model_dir, "tokenizer.json"))
    text = ort.InferenceSession(os.path.join(model_dir, "onnx", "text_model.onnx"), providers=["CPUExecutionProvider"])
    vision = ort.InferenceSession(os.path.join(model_dir, "onnx", "vision_model.onnx"), providers=["CPUExecutionProvider"])
    processor = image_processor(model_dir)
    with open(os.path.join(report_dir, "predictions.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    prompts = read_prompts(prompts_file)

    def encode_texts(texts):
        tokens = tokenizer(texts, padding="max_length", max_length=77, truncation=True, return_tensors="np")
        feeds = {"input_ids": tokens["input_ids"].astype(np.int64)}
        if "attention_mask" in {i.name for i in text.get_inputs()}:
            feeds["attention_mask"] = tokens["attention_mask"].astype(np.int64)
        return unit(text.run(None, feeds)[0])

    paths = sorted({r["path"] for r in rows})
    mean = np.array(processor.image_mean, dtype=np.float32)[:, None, None]
    std = np.array(processor.image_std, dtype=np.float32)[:, None, None]

    def openai_input(path):
        crop = openai_crop(path).astype(np.float32).transpose(2, 0, 1)
        return (crop * np.float32(processor.rescale_factor) - mean) / std

    clients = {
        "transformers": lambda batch: processor(images=[Image.open(p) for p in batch], return_tensors="np")["pixel_values"],
        "openai_preprocessing": lambda batch: np.stack([openai_input(p) for p in batch]),
    }
    embeddings = {client: {} for client in clients}
    for start in range(0, len(paths), 32):
        batch = paths[start:start + 32]
        for client, inputs in clients.items():
            pixel_values = inputs([os.path.join(data_root, p) for p in batch]).astype(np.float32)
            for path, embedding in zip(batch, unit(vision.run(None, {"pixel_values": pixel_values})[0])):
                embeddings[client][path] = embedding
    crop_offset_differs = {p for p in paths if crop_offsets_differ(os.path.join(data_root, p))}

    table = {}
    for (model, ontology) in sorted({(r["model"], r["ontology"]) for r in rows}):
        per_class = searched_prompts(report_dir, model, ontology) or prompts.get(ontology)
        if per_class is None:
            sys.exit(f"error: no prompts for ontology {ontology!r} in {prompts_file} or a search file")
        classes = [c[len("score:"):] for c in rows[0] if c.startswith("score:")]
        classes = classes or sorted(per_class)
        class_embeddings = unit(np.stack([encode_texts(per_class[c]).mean(axis=0) for c in classes]))
        selected = [r for r in rows if r["model"] == model and r["ontology"] == ontology]
        table[f"{model}/{ontology}"] = {
            client: agreement(selected, classes, class_embeddings, embeddings[client], crop_offset_differs)
            for client in clients
        }
    print(json.dumps({"photos_whose_crop_offset_differs": len(crop_offset_differs), "ontologies": table}, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "pixels":
        pixels(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "predictions":
        predictions(*sys.argv[2:])
    else:
        sys.exit(__doc__)
