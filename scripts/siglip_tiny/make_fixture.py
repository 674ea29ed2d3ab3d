#!/usr/bin/env python3
"""Make the tiny random SigLIP test fixture and its Python reference outputs ("goldens").

What it writes (paths relative to the repository root):

  models/siglip-tiny-random/               a SigLIP in Hugging Face ONNX layout, random weights
    onnx/text_model.onnx                   input_ids int64 [batch, seq] -> last_hidden_state, pooler_output
    onnx/vision_model.onnx                 pixel_values f32 [batch,3,224,224] -> last_hidden_state, pooler_output
    config.json, preprocessor_config.json  as transformers saves them
    tokenizer.json                         fast tokenizer built here, checked id-for-id against the slow one
    tokenizer_config.json, spiece.model    as transformers' slow SiglipTokenizer saves them
    README.md
  crates/clip/tests/golden/siglip/
    tokens.json                            slow SiglipTokenizer ids, unpadded and padded to 64
    preprocess/cases.json, <image>.resized.png
                                           SiglipImageProcessorPil: the 8-bit 224x224 RGB image it feeds
                                           to rescale/normalise, for the 16 shared golden images
    embeddings.json                        PyTorch SiglipModel embeddings, logit scale/bias, logits
    README.md

How: (a) trains a SentencePiece unigram model (vocabulary 1280, settings like SigLIP's: pad 0
`<pad>`, eos 1 `</s>`, unk 2 `<unk>`, nmt_nfkc, dummy prefix) on a corpus written out in
corpus.py; (b) loads it in transformers' slow `SiglipTokenizer` and builds a `tokenizer.json`
(tokenizers library) that reproduces it, checked on the golden prompts, a seeded fuzz set and
corpus lines; (c) builds a tiny `SiglipModel` (hidden 32, 2 layers, 2 heads, MLP 64, patch 16,
224x224, 64 text positions), seeded, sets logit_scale/logit_bias, and exports both towers with
the TorchScript ONNX exporter (opset 18); (d) computes the goldens with transformers (slow
tokenizer, SiglipImageProcessorPil, PyTorch SiglipModel) and checks the ONNX graphs against
PyTorch with onnxruntime; (e) writes the two README.md files with the measured numbers.

Deterministic: fixed seeds (SEED below), one thread for SentencePiece, torch and onnxruntime,
no input shuffling; rerunning gives byte-identical outputs (checked: see README.md).

Run (from the repository root), with the pinned versions of requirements.txt:

    python3 -m venv target/siglip-ref
    target/siglip-ref/bin/pip install -r scripts/siglip_tiny/requirements.txt
    target/siglip-ref/bin/python scripts/siglip_tiny/make_fixture.py

Optional: a copy of tokenizers 0.22.2 (the version the Rust crate uses) in
target/siglip-ref-tok022 (`pip install --no-deps --target target/siglip-ref-tok022
tokenizers==0.22.2`) makes the script also check that version reads tokenizer.json the same way.

Works offline: nothing is downloaded at run time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import random
import re
import shutil
import string
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

sys.dont_write_bytecode = True  # keep scripts/siglip_tiny free of __pycache__
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

SEED = 7
VOCAB_SIZE = 1280
CONTEXT = 64
PAD_ID, EOS_ID, UNK_ID = 1, 1, 2  # SigLIP pads with </s>
LOGIT_SCALE = 2.3  # the parameter; the model multiplies by exp(2.3) = 9.974...
LOGIT_BIAS = -1.7
OPSET = 18
FUZZ_COUNT = 3000

MODEL_DIR = ROOT / "models" / "siglip-tiny-random"
GOLDEN_DIR = ROOT / "crates" / "clip" / "tests" / "golden" / "siglip"
IMAGES_DIR = ROOT / "crates" / "clip" / "tests" / "golden" / "preprocess"
CLIP_TOKENS = ROOT / "crates" / "clip" / "tests" / "golden" / "tokens.json"
WORK = ROOT / "target" / "siglip-tiny-work"
TOK022 = ROOT / "target" / "siglip-ref-tok022"

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import PIL  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from sentencepiece import sentencepiece_model_pb2  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors  # noqa: E402
from tokenizers.models import Unigram  # noqa: E402
from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel, SiglipTokenizer  # noqa: E402
from transformers.image_transforms import convert_to_rgb  # noqa: E402

warnings.simplefilter("ignore")
transformers.logging.set_verbosity_error()
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

VERSIONS = {
    "python": sys.version.split()[0],
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "tokenizers": tokenizers.__version__,
    "sentencepiece": spm.__version__,
    "pillow": PIL.__version__,
    "numpy": np.__version__,
    "onnx": onnx.__version__,
    "onnxruntime": ort.__version__,
}

FACTS: dict = {"versions": VERSIONS, "seed": SEED}


def log(*args):
    print(*args, flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def f32list(a) -> list[float]:
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def write_json(path: Path, obj, indent=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


# --------------------------------------------------------------------------------------------
# (a) SentencePiece unigram model
# --------------------------------------------------------------------------------------------


def canonicalize(text: str) -> str:
    """SiglipTokenizer.canonicalize_text with do_lower_case=True (used only on the corpus)."""
    text = text.lower()
    text = text.translate(str.maketrans("", "", string.punctuation))
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def train_sentencepiece() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    prefix = WORK / "spiece"
    lines = [canonicalize(line) for line in corpus.corpus_lines()]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(prefix),
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        character_coverage=1.0,
        pad_id=0,
        pad_piece="<pad>",
        eos_id=1,
        eos_piece="</s>",
        unk_id=2,
        unk_piece="<unk>",
        bos_id=-1,
        add_dummy_prefix=True,
        remove_extra_whitespaces=True,
        normalization_rule_name="nmt_nfkc",
        split_by_whitespace=True,
        byte_fallback=False,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        seed_sentencepiece_size=100000,
        minloglevel=2,
    )
    model = prefix.with_suffix(".model")
    FACTS["corpus_lines"] = len(lines)
    log(f"sentencepiece: {len(lines)} corpus lines -> {model} ({model.stat().st_size} bytes)")
    return model


# --------------------------------------------------------------------------------------------
# (b) tokenizer.json, checked against the slow SiglipTokenizer
# --------------------------------------------------------------------------------------------

PY_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def char_class(chars: str) -> str:
    return "[" + "".join("\\x{%X}" % ord(c) for c in chars) + "]"


def build_fast_tokenizer(spiece: Path) -> Tokenizer:
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(spiece.read_bytes())
    ns = proto.normalizer_spec
    assert ns.name == "nmt_nfkc" and ns.add_dummy_prefix and ns.remove_extra_whitespaces
    vocab = [(p.piece, p.score) for p in proto.pieces]
    tok = Tokenizer(Unigram(vocab, unk_id=UNK_ID, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            # SiglipTokenizer.canonicalize_text: str.lower(), drop string.punctuation (ASCII),
            # every run of Python whitespace (str.isspace) -> one space, strip.
            normalizers.Lowercase(),
            normalizers.Replace(Regex(char_class(string.punctuation)), ""),
            normalizers.Replace(Regex(char_class(PY_WHITESPACE) + "+"), " "),
            normalizers.Strip(left=True, right=True),
            # SentencePiece's own normaliser: the model's nmt_nfkc rules, then
            # remove_extra_whitespaces (collapse spaces, trim).
            normalizers.Precompiled(ns.precompiled_charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Strip(left=True, right=True),
        ]
    )
    # add_dummy_prefix -> prepend "▁" to every word split; split_by_whitespace -> split=True.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", EOS_ID)]
    )
    tok.add_special_tokens(
        [
            AddedToken("</s>", lstrip=True, rstrip=True, normalized=False, special=True),
            AddedToken("<unk>", lstrip=True, rstrip=True, normalized=False, special=True),
        ]
    )
    assert tok.token_to_id("</s>") == EOS_ID and tok.token_to_id("<unk>") == UNK_ID
    # No padding and no truncation block: like the tokenizer.json files Hugging Face converts.
    tok.no_padding()
    tok.no_truncation()
    return tok


FUZZ_POOL = (
    list("abcdefghijklmnopqrstuvwxyz") * 4
    + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") * 2
    + list("0123456789") * 2
    + list(string.punctuation)
    + [" "] * 30
    + list(PY_WHITESPACE)
    + list("éèêëàâäôöûüùçñíóúÉÈÀÇÑÅåßøæœ")
    + list("ΑΒΓΔΣσςαβγδλουδιİıŞşĞğ")
    + list("一朵蒲公英的照片花写真タンポポ中文日本語한국어")
    + list("🌼🌻🌷😀👍🏽❤️")
    + list("ﬁﬂ½²³™©®…–—‘’“”„«»·•€£¥§¶†‡")
    + list("ＡＢＣａｂｃ１２３！？（）")
    + ["\u0301", "\u0308", "\u200b", "\u200c", "\u200d", "\ufeff", "\x00", "\x07", "\x1b", "\x7f"]
    + ["▁", "</s>", "<unk>", "<pad>"]
)


def fuzz_prompts(n: int) -> list[str]:
    rng = random.Random(SEED)
    out = []
    for _ in range(n):
        k = rng.randint(0, 40)
        out.append("".join(rng.choice(FUZZ_POOL) for _ in range(k)))
    return out


def has_special_literal(text: str) -> bool:
    return "</s>" in text or "<unk>" in text


def check_tokenizer(slow: SiglipTokenizer, fast: Tokenizer, tok_json: Path) -> dict:
    facts = {}

    def compare(prompts, label):
        bad = []
        for p in prompts:
            a = slow(p)["input_ids"]
            b = fast.encode(p).ids
            if a != b:
                bad.append({"text": p, "slow": a, "fast": b})
        facts[label] = {"checked": len(prompts), "mismatches": len(bad)}
        log(f"tokenizer {label}: {len(prompts)} checked, {len(bad)} mismatches")
        return bad

    bad = compare(corpus.PROMPTS, "golden_prompts")
    for b in bad:
        log("  MISMATCH", repr(b["text"]), b["slow"], b["fast"])
    assert not bad, "tokenizer.json disagrees with the slow tokenizer on a golden prompt"

    fuzz = [p for p in fuzz_prompts(FUZZ_COUNT) if not has_special_literal(p)]
    bad = compare(fuzz, "fuzz")
    # Known, library-level divergence (every Hugging Face fast SentencePiece tokenizer has it):
    # tokenizers' Precompiled normaliser drops the rest of a grapheme cluster when the
    # cluster's first character is rewritten by the nmt_nfkc map and the whole cluster is not
    # in the map (e.g. fullwidth 'Ａ' + U+0308: SentencePiece gives 'ä', tokenizers 'a').
    # Only strings with a combining mark or a format character can be hit.
    extenders = [b for b in bad if any(unicodedata.category(c) in ("Mn", "Me", "Cf") for c in b["text"])]
    facts["fuzz"]["mismatches_all_with_combining_or_format_chars"] = len(extenders) == len(bad)
    facts["fuzz"]["with_combining_or_format_chars"] = sum(
        1 for p in fuzz if any(unicodedata.category(c) in ("Mn", "Me", "Cf") for c in p)
    )
    facts["fuzz"]["examples"] = bad[:3]
    for b in bad[:20]:
        log("  MISMATCH", repr(b["text"]), b["slow"], b["fast"])
    assert len(extenders) == len(bad), "a fuzz mismatch not explained by the Precompiled grapheme issue"
    demo = ["\uff21\u0308", "\ufb01\u0308", "\u00bd\u200d", "e\u0301", "a\u0308", "2\u0308"]
    facts["precompiled_grapheme_demo"] = [
        {"text": p, "slow": slow(p)["input_ids"], "fast": fast.encode(p).ids, "agree": slow(p)["input_ids"] == fast.encode(p).ids}
        for p in demo
    ]
    log("precompiled grapheme demo:", facts["precompiled_grapheme_demo"])

    lines = corpus.corpus_lines()[::7]
    bad = compare(lines, "corpus_lines")
    assert not bad

    # Fixed-length encoding as the SigLIP processor asks for it, against the fast tokenizer
    # with truncation and padding switched on (what a consumer of tokenizer.json must do).
    padded_fast = Tokenizer.from_str(fast.to_str())
    padded_fast.enable_truncation(CONTEXT)
    padded_fast.enable_padding(length=CONTEXT, pad_id=PAD_ID, pad_token="</s>")
    bad = 0
    known = {b["text"] for b in extenders}
    padded_prompts = corpus.PROMPTS + [p for p in fuzz[:600] if p not in known]
    for p in padded_prompts:
        a = slow(p, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"]
        if a != padded_fast.encode(p).ids:
            bad += 1
    facts["padded_64"] = {"checked": len(padded_prompts), "mismatches": bad}
    log(f"tokenizer padded to {CONTEXT}: {len(padded_prompts)} checked, {bad} mismatches")
    assert bad == 0

    # Prompts with the special tokens written out: reported, not goldens.
    specials = []
    for p in corpus.SPECIAL_LITERAL_PROMPTS:
        a = slow(p)["input_ids"]
        b = fast.encode(p).ids
        specials.append({"text": p, "slow": a, "fast": b, "agree": a == b})
    facts["special_literals"] = specials
    log("tokenizer special literals:", [(s["text"], s["agree"]) for s in specials])

    # The same tokenizer.json read by tokenizers 0.22.2 (the Rust crate's version), if present.
    if TOK022.is_dir():
        prompts = corpus.PROMPTS + fuzz  # compared with the 0.23 fast tokenizer, mismatches included
        code = (
            "import sys, json; from tokenizers import Tokenizer, __version__ as v;"
            "t = Tokenizer.from_file(sys.argv[1]); ps = json.load(sys.stdin);"
            "print(json.dumps({'version': v, 'ids': [t.encode(p).ids for p in ps]}))"
        )
        env = dict(os.environ, PYTHONPATH=str(TOK022))
        res = subprocess.run(
            [sys.executable, "-c", code, str(tok_json)],
            input=json.dumps(prompts),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        out = json.loads(res.stdout)
        bad = sum(1 for p, ids in zip(prompts, out["ids"]) if fast.encode(p).ids != ids)
        facts["tokenizers_0_22"] = {"version": out["version"], "checked": len(prompts), "mismatches": bad}
        log(f"tokenizers {out['version']} reads tokenizer.json: {len(prompts)} checked, {bad} mismatches")
        assert bad == 0

    # AutoTokenizer on the finished folder (which class does transformers pick, and does it agree?).
    auto = transformers.AutoTokenizer.from_pretrained(str(MODEL_DIR))
    bad = sum(1 for p in padded_prompts if auto(p)["input_ids"] != slow(p)["input_ids"])
    facts["auto_tokenizer"] = {"class": type(auto).__name__, "checked": len(padded_prompts), "mismatches": bad}
    log(f"AutoTokenizer on the fixture: {type(auto).__name__}, {bad} mismatches")
    return facts


# --------------------------------------------------------------------------------------------
# (c) the tiny model and its ONNX export
# --------------------------------------------------------------------------------------------


def build_model() -> SiglipModel:
    config = SiglipConfig(
        text_config=dict(
            vocab_size=VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=CONTEXT,
            pad_token_id=PAD_ID,
            eos_token_id=EOS_ID,
            bos_token_id=None,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=224,
            patch_size=16,
        ),
    )
    config.architectures = ["SiglipModel"]
    config._attn_implementation = "eager"
    torch.manual_seed(SEED)
    model = SiglipModel(config).eval()
    with torch.no_grad():
        model.logit_scale.fill_(LOGIT_SCALE)
        model.logit_bias.fill_(LOGIT_BIAS)
    return model


class TextTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.text_model = model.text_model

    def forward(self, input_ids):
        out = self.text_model(input_ids=input_ids)
        return out.last_hidden_state, out.pooler_output


class VisionTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.vision_model = model.vision_model

    def forward(self, pixel_values):
        out = self.vision_model(pixel_values=pixel_values)
        return out.last_hidden_state, out.pooler_output


def export_onnx(model: SiglipModel) -> dict:
    onnx_dir = MODEL_DIR / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    text_path, vision_path = onnx_dir / "text_model.onnx", onnx_dir / "vision_model.onnx"
    ids = torch.full((2, CONTEXT), PAD_ID, dtype=torch.int64)
    ids[:, :3] = torch.tensor([5, 10, EOS_ID])
    with torch.no_grad():
        torch.onnx.export(
            TextTower(model),
            (ids,),
            str(text_path),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_ids"],
            output_names=["last_hidden_state", "pooler_output"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
                "pooler_output": {0: "batch_size"},
            },
            do_constant_folding=True,
        )
        pixels = torch.zeros((2, 3, 224, 224), dtype=torch.float32)
        torch.onnx.export(
            VisionTower(model),
            (pixels,),
            str(vision_path),
            dynamo=False,
            opset_version=OPSET,
            input_names=["pixel_values"],
            output_names=["last_hidden_state", "pooler_output"],
            dynamic_axes={
                "pixel_values": {0: "batch_size"},
                "last_hidden_state": {0: "batch_size"},
                "pooler_output": {0: "batch_size"},
            },
            do_constant_folding=True,
        )
    io = {}
    for name, path in (("text_model.onnx", text_path), ("vision_model.onnx", vision_path)):
        m = onnx.load(str(path))
        if name == "vision_model.onnx":
            # Name the fixed dims of last_hidden_state (the exporter leaves symbolic names there).
            patches = (224 // 16) ** 2
            dims = m.graph.output[0].type.tensor_type.shape.dim
            assert m.graph.output[0].name == "last_hidden_state"
            for d, v in zip(dims[1:], (patches, 32)):
                d.Clear()
                d.dim_value = v
        onnx.checker.check_model(m, full_check=True)
        # A stable producer string, so reruns give identical bytes whatever the build tag.
        m.producer_name, m.producer_version = "pytorch", torch.__version__.split("+")[0]
        onnx.save(m, str(path))

        def desc(v):
            t = v.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in t.shape.dim]
            return {"name": v.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name, "shape": dims}

        io[name] = {
            "inputs": [desc(v) for v in m.graph.input],
            "outputs": [desc(v) for v in m.graph.output],
            "opset": max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
            "bytes": path.stat().st_size,
        }
        log(f"onnx {name}: {io[name]}")
    return io


# --------------------------------------------------------------------------------------------
# (d) goldens
# --------------------------------------------------------------------------------------------


def pil_alpha_composite_formula_check() -> dict:
    """Checks an integer formula against PIL.Image.alpha_composite onto opaque white."""
    c = np.arange(256, dtype=np.uint32)
    a = np.arange(256, dtype=np.uint32)
    cc, aa = np.meshgrid(c, a, indexing="ij")
    src = np.stack([cc, cc, cc, aa], axis=-1).astype(np.uint8)
    img = Image.fromarray(src)
    white = Image.new("RGBA", img.size, (255, 255, 255, 255))
    pil = np.array(Image.alpha_composite(white, img).convert("RGB"))[..., 0].astype(np.uint32)
    # Pillow's AlphaComposite with an opaque destination (libImaging/AlphaComposite.c),
    # PRECISION_BITS = 7: t = 128 * (c*a + 255*(255-a)) + 128*128 ; out = ((t >> 8) + t) >> 8 >> 7
    t = 128 * (cc * aa + 255 * (255 - aa)) + (0x80 << 7)
    pillow_int = (((t >> 8) + t) >> 8) >> 7
    rounded = np.floor((cc * aa + 255 * (255 - aa)) / 255.0 + 0.5).astype(np.uint32)
    return {
        "pillow_integer_formula_matches": int((pillow_int == pil).sum()),
        "round_half_up_matches": int((rounded == pil).sum()),
        "pairs": 256 * 256,
        "max_abs_diff_vs_round": int(np.abs(rounded.astype(int) - pil.astype(int)).max()),
    }


def preprocess_goldens(processor: SiglipImageProcessorPil) -> tuple[list[dict], np.ndarray]:
    out_dir = GOLDEN_DIR / "preprocess"
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = json.loads((IMAGES_DIR / "cases.json").read_text())
    records, tensors = [], []
    for case in cases:
        name = case["file"]
        img = Image.open(IMAGES_DIR / name)
        mode = img.mode
        has_alpha = "A" in img.getbands() or img.info.get("transparency") is not None
        pixel_values = processor(images=Image.open(IMAGES_DIR / name), return_tensors="np")["pixel_values"][0]
        assert pixel_values.dtype == np.float32 and pixel_values.shape == (3, 224, 224)
        # The same steps by hand, to get the 8-bit image the processor resizes to.
        rgb = convert_to_rgb(img, return_numpy=True)  # uint8 HxWx3
        assert rgb.dtype == np.uint8
        resized = np.array(Image.fromarray(rgb).resize((224, 224), resample=Image.Resampling.BICUBIC))
        assert resized.dtype == np.uint8 and resized.shape == (224, 224, 3)
        redo = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
        redo = (redo - np.float32(0.5)) / np.float32(0.5)
        redo = np.moveaxis(redo, -1, 0)
        exact = bool(np.array_equal(redo, pixel_values))
        assert exact, f"{name}: rescale/normalise of the 8-bit resize does not give the processor's tensor"
        png = out_dir / f"{name}.resized.png"
        Image.fromarray(resized).save(png, optimize=True)
        back = np.array(Image.open(png))
        assert np.array_equal(back, resized)
        if has_alpha:
            rgb_note = "has alpha: convert('RGBA'), alpha_composite onto opaque white, convert('RGB')"
        else:
            rgb_note = f"no alpha: PIL convert('RGB') from mode {mode}"
        if mode == "I;16":
            rgb_note += " (16-bit values are clamped to 255, not scaled: every pixel >= 256 becomes white)"
        records.append(
            {
                "file": name,
                "source": f"../../preprocess/{name}",
                "mode": mode,
                "size": list(img.size),
                "has_alpha": has_alpha,
                "convert_rgb": rgb_note,
                "rgb_before_resize_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
                "resized": png.name,
                "pixel_values_sha256": hashlib.sha256(pixel_values.tobytes()).hexdigest(),
                "pixel_values_mean": f32list(pixel_values.mean(axis=(1, 2))),
                "pixel_values_min": float(pixel_values.min()),
                "pixel_values_max": float(pixel_values.max()),
                "pixel_values_first": f32list(pixel_values[:, 0, :4]),
                "rescale_normalise_of_resized_png_is_exact": exact,
            }
        )
        tensors.append(pixel_values)
        log(f"preprocess {name}: mode {mode}, alpha {has_alpha}, exact {exact}")
    write_json(out_dir / "cases.json", records, indent=1)
    return records, np.stack(tensors)


def l2n(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def cos(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ort_session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def main():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    if MODEL_DIR.exists():
        for p in ["onnx/text_model.onnx", "onnx/vision_model.onnx"]:
            (MODEL_DIR / p).unlink(missing_ok=True)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)

    # The first 61 golden prompts are exactly the CLIP goldens' prompts.
    clip_prompts = [c["text"] for c in json.loads(CLIP_TOKENS.read_text())]
    assert corpus.PROMPTS[: corpus.CLIP_GOLDEN_PROMPTS_COUNT] == clip_prompts

    # (a)
    spiece = train_sentencepiece()

    # (b) slow tokenizer: save as transformers does (tokenizer_config.json, spiece.model)
    slow = SiglipTokenizer(vocab_file=str(spiece))
    assert (slow.pad_token_id, slow.eos_token_id, slow.unk_token_id) == (PAD_ID, EOS_ID, UNK_ID)
    assert slow.model_max_length == CONTEXT and slow.do_lower_case
    saved = WORK / "slow"
    slow.save_pretrained(str(saved))
    FACTS["slow_tokenizer_saved_files"] = sorted(os.listdir(saved))
    for f in sorted(os.listdir(saved)):
        shutil.copy(saved / f, MODEL_DIR / f)
    # Reload from the fixture copy, so everything below uses the committed spiece.model.
    slow = SiglipTokenizer.from_pretrained(str(MODEL_DIR))
    FACTS["slow_unk_token_length"] = slow.unk_token_length
    FACTS["slow_model_input_names"] = list(slow.model_input_names)

    fast = build_fast_tokenizer(MODEL_DIR / "spiece.model")
    tok_json = MODEL_DIR / "tokenizer.json"
    fast.save(str(tok_json))
    fast = Tokenizer.from_file(str(tok_json))

    SiglipImageProcessorPil().save_pretrained(str(MODEL_DIR))

    # (c)
    model = build_model()
    FACTS["attn_implementation"] = {
        "text": model.text_model.config._attn_implementation,
        "vision": model.vision_model.config._attn_implementation,
    }
    log("attention implementation:", FACTS["attn_implementation"])
    model.config.save_pretrained(str(MODEL_DIR))
    FACTS["onnx"] = export_onnx(model)
    FACTS["tokenizer"] = check_tokenizer(slow, fast, tok_json)

    # (d) tokens.json
    token_cases = []
    for p in corpus.PROMPTS:
        enc = slow(p)
        padded = slow(p, padding="max_length", max_length=CONTEXT, truncation=True)
        ids, input_ids = enc["input_ids"], padded["input_ids"]
        truncated = len(ids) > CONTEXT
        if truncated:
            assert input_ids == ids[: CONTEXT - 1] + [EOS_ID]
        else:
            assert input_ids == ids + [PAD_ID] * (CONTEXT - len(ids))
        token_cases.append(
            {
                "text": p,
                "tokens": slow.convert_ids_to_tokens(ids),
                "ids": ids,
                "input_ids": input_ids,
                "truncated": truncated,
                "tokenizer_json_agrees": fast.encode(p).ids == ids,
            }
        )
    write_json(
        GOLDEN_DIR / "tokens.json",
        {
            "reference": f"transformers {transformers.__version__} SiglipTokenizer (slow, sentencepiece "
            f"{spm.__version__}) on models/siglip-tiny-random/spiece.model",
            "ids": "tokenizer(text)['input_ids']: the pieces and </s>, no padding, no truncation",
            "input_ids": f"tokenizer(text, padding='max_length', max_length={CONTEXT}, truncation=True)"
            "['input_ids']: what the SigLIP processor feeds the text tower",
            "context_length": CONTEXT,
            "pad_id": PAD_ID,
            "eos_id": EOS_ID,
            "unk_id": UNK_ID,
            "cases": token_cases,
        },
        indent=1,
    )
    log(f"tokens.json: {len(token_cases)} prompts")

    # (d) preprocess goldens
    processor = SiglipImageProcessorPil()
    image_cases, pixels = preprocess_goldens(processor)
    FACTS["alpha_composite"] = pil_alpha_composite_formula_check()
    log("alpha composite formula check:", FACTS["alpha_composite"])

    # (d) embeddings with PyTorch
    emb_prompts = corpus.PROMPTS[: corpus.EMBEDDING_PROMPTS_COUNT]
    input_ids = torch.tensor(
        [slow(p, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"] for p in emb_prompts]
    )
    with torch.no_grad():
        text_raw = model.get_text_features(input_ids=input_ids).pooler_output.numpy()
        image_raw = model.get_image_features(pixel_values=torch.from_numpy(pixels)).pooler_output.numpy()
    text_emb, image_emb = l2n(text_raw), l2n(image_raw)

    # Scoring: 3 images x 3 prompts through the full SiglipModel forward.
    score_images = ["flower_0.jpg", "alpha.png", "panorama.png"]
    score_prompts = ["a photo of a dandelion, a type of flower.", "a photo of a sunflower.", "daisy"]
    img_idx = [next(i for i, c in enumerate(image_cases) if c["file"] == f) for f in score_images]
    s_ids = torch.tensor(
        [slow(p, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"] for p in score_prompts]
    )
    with torch.no_grad():
        out = model(input_ids=s_ids, pixel_values=torch.from_numpy(pixels[img_idx]))
    logits_per_image = out.logits_per_image.numpy()
    probs = torch.sigmoid(out.logits_per_image).numpy()
    scale_exp = float(np.exp(np.float32(LOGIT_SCALE)))
    with torch.no_grad():
        t_raw = model.get_text_features(input_ids=s_ids).pooler_output.numpy()
    recomputed = l2n(image_raw[img_idx]) @ l2n(t_raw).T * scale_exp + LOGIT_BIAS
    FACTS["logits_recomputed_max_abs_diff"] = float(np.abs(recomputed - logits_per_image).max())

    # Checks: ONNX vs PyTorch.
    text_sess = ort_session(MODEL_DIR / "onnx" / "text_model.onnx")
    vision_sess = ort_session(MODEL_DIR / "onnx" / "vision_model.onnx")
    o_last, o_pool = text_sess.run(None, {"input_ids": input_ids.numpy()})
    with torch.no_grad():
        t_last = model.text_model(input_ids=input_ids).last_hidden_state.numpy()
    v_last_o, v_pool_o = vision_sess.run(None, {"pixel_values": pixels})
    with torch.no_grad():
        v_last = model.vision_model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    single = np.stack([text_sess.run(None, {"input_ids": input_ids[i : i + 1].numpy()})[1][0] for i in range(len(emb_prompts))])
    FACTS["onnx_vs_pytorch"] = {
        "text_pooler_output_max_abs_diff": float(np.abs(o_pool - text_raw).max()),
        "text_last_hidden_state_max_abs_diff": float(np.abs(o_last - t_last).max()),
        "text_normalised_min_cosine": float(min(cos(a, b) for a, b in zip(o_pool, text_raw))),
        "vision_pooler_output_max_abs_diff": float(np.abs(v_pool_o - image_raw).max()),
        "vision_last_hidden_state_max_abs_diff": float(np.abs(v_last_o - v_last).max()),
        "vision_normalised_min_cosine": float(min(cos(a, b) for a, b in zip(v_pool_o, image_raw))),
        "text_batch40_vs_batch1_max_abs_diff": float(np.abs(single - o_pool).max()),
    }
    log("onnx vs pytorch:", FACTS["onnx_vs_pytorch"])

    # Checks: the fixed length matters (pooling at the last position).
    length_checks = []
    for p in ["dandelion", "a photo of a sunflower.", "picture of a daisy flower", ""]:
        ids = slow(p)["input_ids"]
        padded = ids + [PAD_ID] * (CONTEXT - len(ids))
        pad0 = ids + [0] * (CONTEXT - len(ids))
        with torch.no_grad():
            e_pad = model.get_text_features(input_ids=torch.tensor([padded])).pooler_output[0].numpy()
            e_trim = model.get_text_features(input_ids=torch.tensor([ids])).pooler_output[0].numpy()
            e_pad0 = model.get_text_features(input_ids=torch.tensor([pad0])).pooler_output[0].numpy()
            mask = torch.tensor([[1] * len(ids) + [0] * (CONTEXT - len(ids))])
            e_mask = model.get_text_features(input_ids=torch.tensor([padded]), attention_mask=mask).pooler_output[0].numpy()
        o_trim = text_sess.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[1][0]
        length_checks.append(
            {
                "text": p,
                "pieces_with_eos": len(ids),
                "cos_padded_vs_trimmed": cos(e_pad, e_trim),
                "cos_padded_vs_trimmed_onnx": cos(e_pad, o_trim),
                "cos_pad1_vs_pad0": cos(e_pad, e_pad0),
                "cos_no_mask_vs_attention_mask": cos(e_pad, e_mask),
            }
        )
    FACTS["length_checks"] = length_checks
    log("length checks:", length_checks)

    write_json(
        GOLDEN_DIR / "embeddings.json",
        {
            "model": "siglip-tiny-random",
            "note": "L2-normalised pooler_output of the PyTorch transformers SiglipModel towers (the "
            "weights exported to models/siglip-tiny-random/onnx), eager attention, float32, CPU. "
            f"Texts: fed input_ids padded with {PAD_ID} (</s>) to {CONTEXT} (tokens.json input_ids), no "
            "attention_mask. Images: fed SiglipImageProcessorPil pixel_values (preprocess/).",
            "logit_scale": float(np.float32(LOGIT_SCALE)),
            "logit_scale_exp": scale_exp,
            "logit_bias": float(np.float32(LOGIT_BIAS)),
            "scoring": "logits = logit_scale_exp * cosine(image, text) + logit_bias; probability = sigmoid(logits)",
            "texts": [
                {"text": p, "input_ids": ids.tolist(), "raw_norm": float(np.linalg.norm(r)), "embedding": f32list(e)}
                for p, ids, r, e in zip(emb_prompts, input_ids, text_raw, text_emb)
            ],
            "images": [
                {"file": c["file"], "raw_norm": float(np.linalg.norm(r)), "embedding": f32list(e)}
                for c, r, e in zip(image_cases, image_raw, image_emb)
            ],
            "logits": {
                "images": score_images,
                "texts": score_prompts,
                "logits_per_image": [f32list(r) for r in logits_per_image],
                "sigmoid": [f32list(r) for r in probs],
            },
            "checks": {
                "onnx_vs_pytorch": FACTS["onnx_vs_pytorch"],
                "length": length_checks,
                "logits_recomputed_from_normalised_embeddings_max_abs_diff": FACTS["logits_recomputed_max_abs_diff"],
            },
        },
    )
    log("embeddings.json written")

    write_json(WORK / "facts.json", FACTS, indent=1)
    from readmes import write_readmes  # noqa: E402

    write_readmes(FACTS, image_cases, MODEL_DIR, GOLDEN_DIR)
    log("READMEs written")

    sizes = {}
    for d in (MODEL_DIR, GOLDEN_DIR):
        for p in sorted(d.rglob("*")):
            if p.is_file():
                sizes[str(p.relative_to(ROOT))] = p.stat().st_size
    write_json(WORK / "sizes.json", sizes, indent=1)
    for k, v in sizes.items():
        log(f"{v:>9}  {k}")
    log(f"total {sum(sizes.values())} bytes")


if __name__ == "__main__":
    main()
