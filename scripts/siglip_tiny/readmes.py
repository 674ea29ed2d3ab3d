"""README.md files for the tiny SigLIP fixture and its goldens, filled in with measured facts."""

from __future__ import annotations

import json
from pathlib import Path


def _io_table(onnx_facts: dict) -> str:
    rows = []
    for name, io in onnx_facts.items():
        for kind in ("inputs", "outputs"):
            for v in io[kind]:
                shape = ", ".join(str(d) for d in v["shape"])
                rows.append(f"| `onnx/{name}` | {kind[:-1]} | `{v['name']}` | {v['dtype']} | [{shape}] |")
    return "\n".join(
        ["| file | role | name | dtype | shape |", "| --- | --- | --- | --- | --- |"] + rows
    )


def _versions(v: dict) -> str:
    return ", ".join(f"{k} {v[k]}" for k in v)


def write_readmes(facts: dict, image_cases: list[dict], model_dir: Path, golden_dir: Path) -> None:
    tok = facts["tokenizer"]
    ovp = facts["onnx_vs_pytorch"]
    ac = facts["alpha_composite"]
    lengths = facts["length_checks"]
    specials = tok["special_literals"]
    demo = tok["precompiled_grapheme_demo"]
    t022 = tok.get("tokenizers_0_22")
    t022_line = (
        f"- tokenizers {t022['version']} (the version the Rust crate uses) reads `tokenizer.json` and gives "
        f"the same ids as 0.23 on {t022['checked']} prompts: {t022['mismatches']} differences."
        if t022
        else "- tokenizers 0.22 was not checked in this run."
    )
    scale = 2.299999952316284
    model_readme = f"""# siglip-tiny-random

A SigLIP with random weights and a tiny configuration, in the layout of Hugging Face ONNX
exports (`onnx/text_model.onnx`, `onnx/vision_model.onnx` beside the tokenizer and configs).
It is for tests only: its predictions mean nothing.

- Text tower: SentencePiece unigram vocabulary of 1280 pieces (trained here, see below), 64
  positions, 2 layers, width 32, 2 heads, MLP 64, no causal mask; pools the **last position**
  (index 63 of a 64-long input) through a linear head 32→32.
- Vision tower: 224×224 input, 16×16 patches (196 positions), 2 layers, width 32, 2 heads,
  MLP 64; attention-pooling (MAP) head → 32.
- Scoring parameters (not in `config.json`, as in real SigLIP checkpoints):
  `logit_scale` = {scale} (float32 of 2.3), so **exp(logit_scale) = 9.97418212890625**;
  `logit_bias` = **-1.7000000476837158** (float32 of -1.7).
  logits = exp(logit_scale) · cos(image, text) + logit_bias; probability = sigmoid(logits).
  (transformers initialises both to 0; they were set to these values so that a missing exp
  or bias shows in tests.)

## Files

{_io_table(facts["onnx"])}

Both graphs: TorchScript ONNX exporter (`torch.onnx.export(..., dynamo=False)`), opset
{facts["onnx"]["text_model.onnx"]["opset"]}, dynamic batch; the text graph also has a dynamic sequence length (feed 64:
other lengths run but give other embeddings). Input and output names are those of the
Hugging Face / Xenova SigLIP exports (`input_ids` only — no `attention_mask`; `pixel_values`;
`last_hidden_state`, `pooler_output`). `pooler_output` is the embedding, **not normalised**.

- `tokenizer.json`: built by the script from `spiece.model` to reproduce transformers' slow
  `SiglipTokenizer` (see "Tokenizer" below).
- `tokenizer_config.json`, `spiece.model`: what `SiglipTokenizer.save_pretrained` writes in
  transformers {facts["versions"]["transformers"]} (it writes no `special_tokens_map.json`):
  `model_max_length` 64, `pad_token` and `eos_token` `</s>`, `unk_token` `<unk>`,
  `do_lower_case` true.
- `preprocessor_config.json`: what `SiglipImageProcessorPil().save_pretrained` writes
  (`image_processor_type` "SiglipImageProcessor", resize to 224×224 with resample 3 = bicubic,
  rescale 1/255, normalise with mean = std = 0.5, `do_convert_rgb` true; no crop).
- `config.json`: `SiglipConfig.save_pretrained` (model_type "siglip", text_config, vision_config).

## Tokenizer

Ids: `<pad>` 0 (present, never produced), `</s>` 1 (end of text **and** padding), `<unk>` 2.
`tokenizer.json` has **no padding and no truncation block** (`"padding": null`,
`"truncation": null`), like the files Hugging Face converts: the consumer pads to 64 with id 1
and truncates to 63 pieces + `</s>` (what `padding="max_length", max_length=64,
truncation=True` gives).

Pipeline in `tokenizer.json`:
1. added tokens `</s>` (1) and `<unk>` (2): special, not normalised, lstrip/rstrip;
2. normaliser sequence — first the slow tokenizer's `canonicalize_text`: `Lowercase`;
   `Replace` of every ASCII punctuation character (`string.punctuation`) by nothing;
   `Replace` of every run of Python whitespace (`str.isspace`, incl. U+001C–U+001F, U+0085,
   U+00A0, U+2000–U+200A, U+2028/9, U+3000…) by one space; `Strip`; then SentencePiece's own
   normalisation: `Precompiled` (the model's nmt_nfkc map), `Replace` of runs of 2+ spaces by
   one, `Strip`;
3. pre-tokeniser `Metaspace` (▁, prepend_scheme "always", split true);
4. model `Unigram` (the 1280 pieces and scores of `spiece.model`, unk id 2, no byte fallback);
5. post-processor `TemplateProcessing` `$A </s>`; decoder `Metaspace`.

Checked against the slow `SiglipTokenizer` (transformers {facts["versions"]["transformers"]}, sentencepiece
{facts["versions"]["sentencepiece"]}):
- the {tok["golden_prompts"]["checked"]} golden prompts (`crates/clip/tests/golden/siglip/tokens.json`): **{tok["golden_prompts"]["mismatches"]} mismatches**;
- {tok["corpus_lines"]["checked"]} corpus lines: {tok["corpus_lines"]["mismatches"]} mismatches;
- padded to 64 with truncation on both sides, {tok["padded_64"]["checked"]} prompts: {tok["padded_64"]["mismatches"]} mismatches;
- {tok["fuzz"]["checked"]} seeded random strings (letters, punctuation, every Python whitespace,
  accents, Greek, Turkish, CJK, emoji, ligatures, fullwidth, combining marks, zero-width and
  control characters): {tok["fuzz"]["mismatches"]} mismatches, all in strings with a combining mark or
  format character ({tok["fuzz"]["with_combining_or_format_chars"]} of the strings have one). Cause: the `tokenizers`
  library's `Precompiled` normaliser drops the rest of a grapheme cluster when the nmt_nfkc
  map rewrites its first character and has no entry for the whole cluster, where
  SentencePiece keeps it (fullwidth `Ａ` + U+0308: slow {demo[0]["slow"]}, fast {demo[0]["fast"]}).
  Every Hugging Face fast SentencePiece tokenizer shares this; `e` + U+0301 and `ä` agree.
- Prompts containing `</s>` or `<unk>` literally are not goldens: the slow tokenizer drops
  the `</s>` it would add when the text already ends with `</s>`, and does not put `▁` before
  a word that follows a special token; results:
  {", ".join(f"`{json.dumps(s['text'], ensure_ascii=False)}` slow {s['slow']} fast {s['fast']}" for s in specials)}.
{t022_line}
- `AutoTokenizer.from_pretrained` on this folder loads `{tok["auto_tokenizer"]["class"]}` and agrees on
  {tok["auto_tokenizer"]["checked"]} prompts ({tok["auto_tokenizer"]["mismatches"]} mismatches).

## The fixed length matters

SigLIP's text tower has no mask and pools position 63, so the padding is part of the input.
Measured on this model (cosine to the embedding of the 64-long input padded with 1):
{chr(10).join(f"- `{json.dumps(c['text'])}`: trimmed to its {c['pieces_with_eos']} ids {c['cos_padded_vs_trimmed']:.4f}; padded with 0 instead of 1 {c['cos_pad1_vs_pad0']:.4f}; with the tokenizer's attention_mask passed to the PyTorch model {c['cos_no_mask_vs_attention_mask']:.4f}" for c in lengths)}

(transformers {facts["versions"]["transformers"]}'s `SiglipTokenizer` returns an `attention_mask` and the PyTorch text
model applies it when given; the reference embeddings here, like the original SigLIP and the
`input_ids`-only ONNX exports, use none.)

## ONNX against PyTorch

onnxruntime {facts["versions"]["onnxruntime"]}, CPU, on the golden inputs (40 prompts, 16 images):
text `pooler_output` max |Δ| {ovp["text_pooler_output_max_abs_diff"]:.2e}, `last_hidden_state` {ovp["text_last_hidden_state_max_abs_diff"]:.2e};
vision `pooler_output` {ovp["vision_pooler_output_max_abs_diff"]:.2e}, `last_hidden_state` {ovp["vision_last_hidden_state_max_abs_diff"]:.2e};
text batch of 40 against one at a time: {ovp["text_batch40_vs_batch1_max_abs_diff"]:.1e}.

## Provenance

Made by `scripts/siglip_tiny/make_fixture.py` (corpus and prompts in
`scripts/siglip_tiny/corpus.py`, versions pinned in `scripts/siglip_tiny/requirements.txt`):
{_versions(facts["versions"])}. Seed {facts["seed"]} (torch weights, fuzz prompts); SentencePiece trained on
{facts["corpus_lines"]} generated lines (CLIP's 80 ImageNet templates and 3 SigLIP-style ones filled with flower and object
names, plain sentences, a few accented and CJK words; lower-cased and without punctuation, as
the tokenizer sees text) with model_type unigram, vocab 1280, character_coverage 1.0,
nmt_nfkc, add_dummy_prefix, split_by_whitespace, one thread, no shuffling. Rerunning the
script gives byte-identical files. Attention: eager. Random weights: for tests only.
"""
    (model_dir / "README.md").write_text(model_readme, encoding="utf-8")

    case_rows = "\n".join(
        f"| `{c['file']}` | {c['mode']} | {c['size'][0]}×{c['size'][1]} | {c['convert_rgb']} |" for c in image_cases
    )
    golden_readme = f"""# SigLIP goldens

Reference outputs of the original Python implementations (Hugging Face transformers
{facts["versions"]["transformers"]}) for `models/siglip-tiny-random`, made by
`scripts/siglip_tiny/make_fixture.py` (see the model's README.md for versions and seeds).
Rerunning the script gives byte-identical files.

## tokens.json

`cases`: {tok["golden_prompts"]["checked"]} prompts — the 61 of the CLIP goldens (`../tokens.json`) and 32
SigLIP hard cases (leading/trailing/only whitespace, only punctuation, Greek final sigma,
Turkish İ, ß/ẞ, U+001C and U+2028 and U+3000 whitespace, literal `▁`, `<pad>`, fullwidth
punctuation, digits, 200 `a`s, emoji runs, combining accents, brackets, quotes, long
prompts). For each: `tokens` and `ids` = slow `SiglipTokenizer(text)` (pieces + `</s>`, no
padding, no truncation); `input_ids` = `tokenizer(text, padding="max_length", max_length=64,
truncation=True)` (what the SigLIP processor feeds the model: pad id 1; a prompt longer than
63 pieces keeps its first 63 and `</s>`; 3 prompts are truncated); `truncated`;
`tokenizer_json_agrees` (the fixture's `tokenizer.json` gives the same `ids`: true for all).
Top level: `context_length` 64, `pad_id` 1, `eos_id` 1, `unk_id` 2.

What the slow tokenizer does (transformers {facts["versions"]["transformers"]} `tokenization_siglip.py`): splits on the
added tokens `</s>`/`<unk>`; `canonicalize_text`: `str.lower()`, delete ASCII
`string.punctuation`, `re.sub(r"\\s+", " ")`, `strip()`; then SentencePiece with the model's
nmt_nfkc normalisation, whitespace collapsing and dummy prefix (the `"<unk>"`-prefix trick in
`_tokenize` does not change the pieces); appends `</s>` unless the text already ends with it.
Punctuation is removed before NFKC, so fullwidth `！` survives as `<unk>` while `!` vanishes;
`’` `“` `…` are not ASCII and become `<unk>` in this small vocabulary.

## preprocess/

For each of the 16 images of `../preprocess/` (the CLIP goldens' images; not copied here:
`source` in `cases.json` points at them), `<file>.resized.png` is the 224×224 8-bit RGB image
that `SiglipImageProcessorPil` (the Pillow path) rescales and normalises. `cases.json` adds
the mode, size, what RGB conversion did, sha256 of the float32 `pixel_values`, their per-channel
means, min, max and the first 4 values of row 0 of each channel.

What `SiglipImageProcessorPil` does, step by step (transformers {facts["versions"]["transformers"]},
`image_processing_backends.PilBackend`, `image_transforms`), Pillow {facts["versions"]["pillow"]}:
1. `convert_to_rgb` on the PIL image (`do_convert_rgb`): if it has alpha (`"A"` in its
   bands, or a `transparency` entry in `info`, e.g. a palette or grey image with a transparent
   colour) → `convert("RGBA")`, `Image.alpha_composite` onto an opaque **white** background,
   `convert("RGB")`; otherwise `convert("RGB")`. Then `np.array` → uint8 H×W×3 → C×H×W.
   The white composite, per channel, is exactly `round_half_up((c·a + 255·(255−a)) / 255)`,
   i.e. `floor((c·a + 255·(255−a))/255 + 0.5)` — checked on all {ac["pairs"]} (c, a) pairs
   ({ac["round_half_up_matches"]} match). **This differs from the CLIP goldens, which drop alpha.**
   16-bit grey (`I;16`): Pillow's `convert("RGB")` **clamps** values to 255 (no scaling), so
   `gray16.png` (values 3341…56026) becomes an all-white image. CMYK: Pillow's `convert("RGB")`;
   grey and palette: `convert("RGB")`. EXIF orientation is not applied.
2. Resize (`do_resize`): `to_pil_image` (uint8, no rescale) → `PIL.Image.resize((224, 224),
   resample=BICUBIC, reducing_gap=None)` — both sides to 224, aspect ratio **not** kept, **no
   crop**; Pillow's bicubic (a = −0.5) with its support widened by the scale when shrinking
   (antialiasing), 8-bit in and out (Pillow rounds and clamps to 0…255). Result uint8.
3. Rescale: `x.astype(float64) * (1/255)` then cast to float32.
4. Normalise: `(x − 0.5) / 0.5` in float32 → values in [−1, 1], float32 [3, 224, 224].
So `pixel_values = ((float32)(v × (1/255) in float64) − 0.5f) / 0.5f` for each 8-bit `v` of
`<file>.resized.png`: checked bit-exact against the processor for every case.

| file | mode | size | RGB conversion |
| --- | --- | --- | --- |
{case_rows}

(`exact224.png` is 224×224 already: Pillow returns it unchanged, and it is the same picture
as `flower_0.jpg` squashed, so both have the same resized PNG.)

## embeddings.json

- `texts`: 40 prompts (the first 40 of tokens.json); `input_ids` (64, padded with 1);
  `embedding` = L2-normalised `SiglipModel.get_text_features(input_ids).pooler_output`
  (PyTorch, float32, eager attention, **no attention_mask**); `raw_norm` = its norm before
  normalising.
- `images`: the 16 images; `embedding` = L2-normalised `get_image_features(pixel_values)`
  with the processor's `pixel_values`; `raw_norm`.
- `logit_scale` {scale} (parameter), `logit_scale_exp` 9.97418212890625, `logit_bias` -1.7000000476837158.
- `logits`: `SiglipModel(input_ids, pixel_values)` forward for 3 images × 3 prompts:
  `logits_per_image` [image][text] and `sigmoid` of it. Recomputing them from the normalised
  embeddings as exp(scale)·cos + bias gives max |Δ| {facts["logits_recomputed_max_abs_diff"]:.1e}.
- `checks`: ONNX-vs-PyTorch differences and the padding/trimming/mask cosines (see the
  model's README.md): ONNX text `pooler_output` max |Δ| {ovp["text_pooler_output_max_abs_diff"]:.2e},
  vision {ovp["vision_pooler_output_max_abs_diff"]:.2e}; trimming the padding changes the text embedding (cosine
  {min(c["cos_padded_vs_trimmed"] for c in lengths):.3f}…{max(c["cos_padded_vs_trimmed"] for c in lengths):.3f} to the padded one).

## Suggested tolerances

- Token ids: exactly equal for every case (`ids` and `input_ids`).
- Preprocessing: the resized PNG is exact only for a Pillow-identical decoder and resampler;
  otherwise, on the normalised tensor, mean |Δ| ≤ 0.01 and max |Δ| ≤ 0.15 per case, as for
  CLIP (here one 8-bit level is 2/255 ≈ 0.0078 after normalising). JPEG decoders may differ
  by a level or two.
- Embeddings: cosine ≥ 0.9999 for every text and image; logits: |Δ| ≤ 0.01 (the ONNX graphs
  themselves are within {max(ovp["text_pooler_output_max_abs_diff"], ovp["vision_pooler_output_max_abs_diff"]):.0e} of PyTorch).
"""
    (golden_dir / "README.md").write_text(golden_readme, encoding="utf-8")
