"""Re-encode a decoded photo for a remote model: JPEG within a pixel and byte budget."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_for_model(img: Image.Image, *, max_side: int = 1568, max_bytes: int = 3_750_000) -> bytes:
    """JPEG bytes of `img` with its long side at most `max_side` and at most `max_bytes` (Bedrock: 8000 px, 3.75 MB)."""
    if max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    for quality in (90, 80, 70, 55):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)
        if buf.tell() <= max_bytes:
            return buf.getvalue()
        img = img.resize((img.width * 3 // 4, img.height * 3 // 4))
    return buf.getvalue()
