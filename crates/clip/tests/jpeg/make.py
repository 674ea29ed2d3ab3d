"""Makes the golden JPEG set and Pillow's decoded pixels for each file.

Run from this folder with Pillow installed (`python3 make.py`); cjpeg (libjpeg-turbo's tools)
makes the kinds Pillow cannot save, and `ycck-maker/` (`cargo run` there, libjpeg through
mozjpeg) the Adobe YCCK file, which neither can. Each `NAME.jpg` gets `NAME.png`: what
`Image.open(NAME.jpg).convert("RGB")` gives, losslessly. `--pngs-only` remakes only those.
The versions used are written to VERSIONS.txt.
"""
import io
import random
import subprocess
import sys

import PIL
from PIL import Image, features


def scene(width, height, seed):
    """Gradients, edges and noise: every kind of block the decoder meets."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            edge = 255 if (x // 5 + y // 3) % 2 else 0
            pixels[x, y] = (
                (x * 255 // max(width - 1, 1) + rng.randrange(-20, 21)) % 256,
                (y * 255 // max(height - 1, 1) + edge) // 2,
                (edge + rng.randrange(0, 256)) // 2,
            )
    return image


def save(name, image, **options):
    image.save(f"{name}.jpg", "JPEG", **options)


def cjpeg(name, image, *args):
    ppm = io.BytesIO()
    image.save(ppm, "PPM")
    out = subprocess.run(["cjpeg", *args], input=ppm.getvalue(), capture_output=True, check=True)
    with open(f"{name}.jpg", "wb") as f:
        f.write(out.stdout)


if "--pngs-only" not in sys.argv:
    photo = scene(61, 37, 1)
    made = []
    for subsampling, label in [(0, "444"), (1, "422"), (2, "420")]:
        for progressive in (False, True):
            name = f"pillow_{label}_{'progressive' if progressive else 'baseline'}"
            save(name, photo, quality=85, subsampling=subsampling, progressive=progressive)
            made.append(name)
    save("pillow_grey", photo.convert("L"), quality=90)
    save("pillow_grey_progressive", photo.convert("L"), quality=75, progressive=True)
    save("pillow_cmyk", photo.convert("CMYK"), quality=90)
    save("pillow_1x1", scene(1, 1, 2), quality=95)
    save("pillow_odd_17x9", scene(17, 9, 3), quality=50, subsampling=2)
    save("pillow_q100", photo, quality=100, subsampling=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° (not applied, as by Pillow and CLIP)
    exif[0x010F] = "ontosweep"
    save("pillow_exif_orientation", photo, quality=85, exif=exif.tobytes())
    cjpeg("cjpeg_restart", photo, "-restart", "1", "-quality", "80")
    cjpeg("cjpeg_arithmetic", photo, "-arithmetic", "-quality", "80")
    cjpeg("cjpeg_411", photo, "-sample", "4x1", "-quality", "80")
    cjpeg("cjpeg_440", photo, "-sample", "1x2", "-quality", "80")
    cjpeg("cjpeg_rgb", photo, "-rgb", "-quality", "80")
    cjpeg("cjpeg_progressive_restart", photo, "-progressive", "-restart", "2B", "-quality", "70")

import glob
for path in sorted(glob.glob("*.jpg")):
    Image.open(path).convert("RGB").save(path[:-4] + ".png")

with open("VERSIONS.txt", "w") as f:
    cjpeg_version = subprocess.run(["cjpeg", "-version"], capture_output=True, text=True)
    f.write(f"Pillow {PIL.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')} (Pillow's own)\n")
    f.write(f"cjpeg: {(cjpeg_version.stderr or cjpeg_version.stdout).strip()}\n")
    f.write("libjpeg_ycck.jpg: ycck-maker/ (the mozjpeg crate 0.10.13's libjpeg-turbo)\n")
