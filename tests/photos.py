"""Test photos: real sample photos from scikit-image, their degraded copies, and hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image
from skimage import data

SAMPLES = ("astronaut", "chelsea", "coffee", "rocket")


@lru_cache(maxsize=None)
def sample(name: str) -> np.ndarray:
    return getattr(data, name)()


def encode(rgb: np.ndarray, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        kw.setdefault("quality", 92)
    Image.fromarray(rgb).save(buf, fmt, **kw)
    return buf.getvalue()


def noise_jpeg(seed: int, side: int) -> bytes:
    """A JPEG of noise, which does not compress: a real photo's size in bytes (1.36 MiB at 1100 px, 2.53 at 1500,
    3.25 at 1700) without a real photo's weight to make."""
    return encode(np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8), quality=95)


# -- degradations, one per aspect (the package's own, at full strength) ---------------
from phototips.study.degrade import blurrier, darker, item_far_away, noisier, overexposed, smaller, tilted  # noqa: E402,F401


# -- product-like composites: a real item (the coffee cup) on a backdrop ----------
def _cup() -> np.ndarray:
    return sample("coffee")[20:380, 100:480]


def plain_backdrop(h=600, w=800) -> np.ndarray:
    ramp = np.linspace(215, 235, w, dtype=np.float32)[None, :, None]
    img = np.repeat(np.repeat(ramp, h, 0), 3, 2)
    return (img + np.random.default_rng(3).normal(0, 1.5, img.shape)).clip(0, 255).astype(np.uint8)


def busy_backdrop(h=600, w=800) -> np.ndarray:
    """A room full of other things: tiles of other real photos around the item."""
    tiles = [sample(n) for n in ("astronaut", "rocket", "chelsea", "hubble_deep_field", "immunohistochemistry")]
    out = np.zeros((h, w, 3), np.uint8)
    k = 0
    for y in range(0, h, 150):
        for x in range(0, w, 200):
            t = tiles[k % len(tiles)]
            out[y:y + 150, x:x + 200] = cv2.resize(t, (200, 150))[: h - y, : w - x]
            k += 1
    return out


def product(backdrop: np.ndarray, dx: int = 0) -> np.ndarray:
    """The cup centred on `backdrop` (shifted right by dx pixels, cut off at the edge if far enough)."""
    out = backdrop.copy()
    cup = _cup()
    h, w = out.shape[:2]
    ch, cw = cup.shape[:2]
    y0, x0 = (h - ch) // 2, (w - cw) // 2 + dx
    x1 = min(w, x0 + cw)
    out[y0:y0 + ch, x0:x1] = cup[:, : x1 - x0]
    return out


# -- hostile files --------------------------------------------------------------
def png_bomb(side: int = 20000) -> bytes:
    """A valid side×side grey PNG: a few hundred kB that decode to side² pixels."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(comp.compress(row * 500) for _ in range(side // 500)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    full = encode(sample("coffee"))
    return full[: len(full) // 3]
