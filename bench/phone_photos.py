"""Phone-sized test photos for the benchmarks: real photos brought to 12 MP with sensor-like grain.

A phone's 12 MP JPEG is about 3–4 MB because of its grain; an upscaled photo
without grain compresses to a third of that and decodes faster than anything a
seller sends, so the grain is part of the test.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

REALSET = Path(__file__).resolve().parent.parent / "data" / "realset" / "photos"


def phone_jpeg(rgb: np.ndarray, seed: int, size=(4032, 3024), grain: float = 7.0) -> bytes:
    img = Image.fromarray(rgb).convert("RGB")
    if img.height > img.width:
        size = size[::-1]
    a = np.asarray(img.resize(size, Image.Resampling.BICUBIC)).astype(np.float32)
    a += np.random.default_rng(seed).normal(0, grain, a.shape).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def realset_phone_photos(n: int) -> list[bytes]:
    """`n` phone-sized JPEGs made from the real-photo set (every k-th photo, so all kinds are in)."""
    if n <= 0:
        return []
    files = sorted(REALSET.glob("*.jpg"))
    step = max(1, len(files) // n)
    return [phone_jpeg(np.asarray(Image.open(f).convert("RGB")), i) for i, f in enumerate(files[::step][:n])]
