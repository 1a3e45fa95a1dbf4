"""Decode uploaded photo bytes (JPEG and MPO, PNG, WebP, HEIC) into an upright RGB array of bounded size.

The header is read first and anything declaring more than `max_pixels` is refused
before a byte of pixel data is decoded, so a 100-megapixel bomb costs nothing.
JPEGs (and MPO, the multi-picture JPEG many phones write: its first picture) are
decoded reduced by libjpeg's DCT scaling (1/2, 1/4, 1/8) to about the analysis
size: judging a 12-megapixel photo does not need 12 megapixels. PNG, WebP and
HEIC cannot be decoded reduced, so they are held to a lower limit,
`max_unreduced_pixels` (25 MP: three bytes a pixel, 75 MB at most while
decoding), so that what people upload cannot decide how much memory a decode takes.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import PhotoTipsError

pillow_heif.register_heif_opener()
# Our own max_pixels check runs first; Pillow's global guard would only duplicate it.
Image.MAX_IMAGE_PIXELS = None

FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
# Formats libjpeg decodes reduced (draft); the others are decoded whole.
REDUCIBLE = {"JPEG", "MPO"}
MAX_UNREDUCED_PIXELS = 25_000_000


@dataclass
class DecodedPhoto:
    rgb: np.ndarray  # H×W×3 uint8, EXIF orientation applied, long side `analysis_side` or less
    width: int  # original size, upright: what a buyer's screen gets
    height: int
    format: str  # JPEG, PNG, WEBP or HEIF
    pil: Image.Image  # the same pixels as `rgb`, for hashing and thumbnails

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    # Between processes the pixels travel once; the PIL image is rebuilt from them.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "pil"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.pil = Image.fromarray(self.rgb)


def _orientation_swaps(img: Image.Image) -> bool:
    try:
        return img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return False


def open_header(data: bytes, *, max_pixels: int, max_unreduced_pixels: int = MAX_UNREDUCED_PIXELS) -> Image.Image:
    """Read only the header (no pixels): refuse what is not a photo we read, or too many pixels to decode.

    Cheap enough to run before a photo takes a place in the CPU queue.
    """
    if not data:
        raise PhotoTipsError("empty_file", "the uploaded file is empty (0 bytes)", 400)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise PhotoTipsError(
            "unsupported_media", "not an image this service reads (JPEG, PNG, WebP or HEIC)", 415
        ) from None
    except Exception as exc:
        raise PhotoTipsError("corrupt_image", f"the image header is unreadable: {exc}", 422) from None
    fmt = img.format
    if fmt not in FORMATS:
        raise PhotoTipsError(
            "unsupported_media", f"{fmt} images are not accepted; send JPEG, PNG, WebP or HEIC", 415
        )
    width, height = img.size
    if width * height > max_pixels:
        raise PhotoTipsError(
            "image_too_large",
            f"the image is {width}×{height} ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels",
            413,
        )
    if fmt not in REDUCIBLE and width * height > max_unreduced_pixels:
        raise PhotoTipsError(
            "image_too_large",
            f"the {fmt} image is {width * height / 1e6:.0f} megapixels; {fmt} is decoded whole, so the limit is "
            f"{max_unreduced_pixels / 1e6:.0f} megapixels: send a JPEG, or a smaller {fmt}",
            413,
        )
    if width < 16 or height < 16:
        raise PhotoTipsError("image_too_small", f"the image is only {width}×{height} pixels", 422)
    return img


def decode_photo(data: bytes, *, max_pixels: int, analysis_side: int,
                 max_unreduced_pixels: int = MAX_UNREDUCED_PIXELS) -> DecodedPhoto:
    """Decode `data` or raise PhotoTipsError with a code the caller can show."""
    img = open_header(data, max_pixels=max_pixels, max_unreduced_pixels=max_unreduced_pixels)
    fmt = img.format
    width, height = img.size
    swaps = _orientation_swaps(img)
    if fmt in REDUCIBLE:
        # draft() keeps the size at or above the request, so quality is not lost below analysis_side.
        scale = analysis_side / max(width, height)
        img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.load()
        # Before the turn: the missing rows are the last ones as stored, whatever way the phone was held.
        if fmt == "JPEG" and _cut_short(img, img.size[1] / height):
            raise PhotoTipsError("corrupt_image", "the image data is truncated or corrupt: its last part is missing", 422)
        img = ImageOps.exif_transpose(img, in_place=True) or img
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoTipsError("corrupt_image", f"the image data is truncated or corrupt: {exc}", 422) from None

    img = _to_rgb(img)
    # A 4032-px phone photo comes out of libjpeg at 1008 px, and resampling it to 1000 costs 7 ms, a tenth of
    # a worker's time on it. It is not skipped: a bilinear resample this close to 1:1 is a slight blur, and
    # without it grain and edge sharpness measure 10-45% higher; no photo of the real-photo set is phone-sized,
    # so which way agrees with people cannot be told yet (docs/benchmarks.md, "Same photo, same measurements").
    if max(img.size) > analysis_side:
        img.thumbnail((analysis_side, analysis_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if swaps:
        width, height = height, width
    return DecodedPhoto(rgb=np.asarray(img), width=width, height=height, format=fmt, pil=img)


PARTIAL_ROWS = 24  # a 16-px row of blocks and the smoothing either side of it
MIN_RUN = 8  # pixels: a block at full size; a cut in a row's last block at 1/8 scale is missed


def _cut_short(img: Image.Image, scale: float) -> bool:
    """Whether a decoded JPEG ends where its data ran out. A file cut short and closed with an end-of-image
    marker (or one whose header claims more rows than it holds) decodes with only a warning, which Pillow does
    not pass on, and every block after the cut comes out exactly mid-grey (128). Read as libjpeg leaves it: the
    bottom rows all 128, under one row of blocks that is 128 from some column to the right edge, the block the
    data ran out in, under rows that are not. A grey border is not a cut: along the bottom it has no such
    partial row of blocks above it (the cut falls on a block row's first block about once in a row's width of
    blocks, and that cut is missed), and a frame all round is grey at the right edge of every row."""
    if img.mode not in ("RGB", "L"):
        return False
    a = np.asarray(img)
    grey = a == 128 if a.ndim == 2 else (a == 128).all(axis=2)
    h, w = grey.shape
    # Per row, how many pixels from the right edge are 128 without a break.
    trailing = np.where(grey.all(axis=1), w, np.argmin(grey[:, ::-1], axis=1))
    full = trailing == w
    tail = h - 1 - np.flatnonzero(~full)[-1] if not full.all() else h
    if tail == 0 or tail == h:
        return False
    # The row of blocks the data ran out in: at most 16 px high, and libjpeg's smoothing of colour blends a row
    # or two each side of it. Where it is the top row (a header claiming many more rows than the data holds), the
    # made-up rows must be most of the photo.
    above = trailing[: h - tail][::-1]
    partial = int(np.argmin(above > 0)) if not (above > 0).all() else len(above)
    if not 1 <= partial <= PARTIAL_ROWS or (partial == len(above) and tail < 4 * partial):
        return False
    # The grey runs from the block the data ran out in, the same in at least half the rows of a row of blocks
    # (and two) and at least a block wide; left of it the photo as it was, hardly ever exactly 128. Where a grey
    # border's top edge cuts through a row of blocks, a row or two of it come out 128 in places, not a block's
    # height of rows in one run.
    rows = np.flatnonzero(np.abs(above[:partial] - np.median(above[:partial])) <= 2)
    # A row of blocks is 8 px high per vertical sampling step (16 for a phone's 4:2:0), times the draft's scale.
    block_rows = 8 * max((layer[2] for layer in getattr(img, "layer", None) or ()), default=2) * scale
    if len(rows) < max(2, block_rows / 2):
        return False
    run = int(np.median(above[rows]))
    lines = grey[h - tail - 1 - rows, : w - run]
    return run >= MIN_RUN and w - run >= MIN_RUN and float(lines.mean()) < 0.1


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent product cut-outs are shown on white by marketplaces.
        rgba = img.convert("RGBA")
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
    elif img.mode in ("I;16", "I"):
        out = Image.fromarray((np.asarray(img, dtype=np.float32) / 257.0).clip(0, 255).astype(np.uint8)).convert("RGB")
    elif img.mode == "RGB":
        out = img
    else:
        out = img.convert("RGB")
    return out
