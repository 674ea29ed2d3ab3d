#!/usr/bin/env python3
"""Pillow's BILINEAR resize (resample 2, used by some exports) as Hugging Face's image
processors apply it: convert_to_rgb (alpha onto white), then resize straight to 224x224.
Writes crates/clip/tests/golden/bilinear/<file>.png for a few of the shared golden images.

Run from the repository root with the venv of requirements.txt:
    target/siglip-ref/bin/python scripts/siglip_tiny/bilinear_goldens.py
"""

from pathlib import Path

from PIL import Image

SOURCES = Path("crates/clip/tests/golden/preprocess")
OUT = Path("crates/clip/tests/golden/bilinear")
FILES = ["flower_0.jpg", "flower_3.jpg", "alpha.png", "panorama.png", "tiny.png", "portrait.jpg"]


def convert_to_rgb(image: Image.Image) -> Image.Image:
    """transformers.image_transforms.convert_to_rgb for PIL images."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        with Image.open(SOURCES / name) as image:
            rgb = convert_to_rgb(image)
            rgb.resize((224, 224), Image.Resampling.BILINEAR, reducing_gap=None).save(OUT / f"{name}.png")
        print(name)


if __name__ == "__main__":
    main()
