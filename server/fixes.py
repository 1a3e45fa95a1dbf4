"""Corrected previews for what pixels can fix: straighten a tilt, crop to the item, lift a dark or flat exposure.

Each fix answers one finding of the photo check, using what the check measured
(the tilt's angle, the item's box: both size-free). It is made from the upload at
the size a listing shows (`fix_side`), not at the analysis size, and encoded as
the JPEG the seller gets; that JPEG is then decoded and checked like any upload.
A fix is offered only when that score is higher than the seller's photo's and
than the unedited photo's made the same way, and the answer says by how much
(against the seller's own score): the seller sees a before and after they can
trust, and using it keeps the promise (a preview at the analysis size would have
cost a phone photo its resolution once used). The unedited baseline is there
because making the JPEG alone moves the check: a 2000-px JPEG reads a phone photo
sharper than its 4000-px original does, and one JPEG round trip of a PNG can
flip a cut-off reading; neither must pass for a fix. Classical image operations
only (OpenCV): no generative model invents pixels.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .errors import PhotoTipsError
from .imaging.decode import DecodedPhoto
from .scoring.result import ScoreRequest, ScoreResult

# Which fix answers which problem.
FIXES = {("angle", "tilted"): "straighten", ("framing", "too_small"): "crop", ("framing", "off_centre"): "crop",
         ("lighting", "too_dark"): "lift", ("lighting", "flat"): "lift"}
CROP_MARGIN = 0.08  # of the item's size, on every side


@dataclass
class Fix:
    kind: str
    rgb: np.ndarray  # the fixed photo as the seller would get it
    detail: dict


def straighten(rgb: np.ndarray, degrees: float) -> tuple[np.ndarray, float]:
    """Rotate by the measured tilt and crop to the largest upright rectangle with no empty corners.
    Returns the photo and the share of width (and height) kept."""
    h, w = rgb.shape[:2]
    turned = cv2.warpAffine(rgb, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a = abs(np.radians(degrees))
    # Scaling about the centre by this much keeps a w×h rectangle inside the rotated frame.
    keep = 1.0 / (np.cos(a) + max(w / h, h / w) * np.sin(a))
    cw, ch = int(w * keep), int(h * keep)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return turned[y0:y0 + ch, x0:x0 + cw].copy(), float(keep)


def crop_to_item(rgb: np.ndarray, box: list[float], aspect: float) -> tuple[np.ndarray, list[float]]:
    """Crop around the item's box with a margin, at `aspect` (width / height), inside the photo."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    bw, bh = (x1 - x0) * w, (y1 - y0) * h
    cw, ch = bw * (1 + 2 * CROP_MARGIN), bh * (1 + 2 * CROP_MARGIN)
    if cw / ch < aspect:
        cw = ch * aspect
    else:
        ch = cw / aspect
    scale = min(1.0, w / cw, h / ch)
    cw, ch = cw * scale, ch * scale
    cx, cy = (x0 + x1) / 2 * w, (y0 + y1) / 2 * h
    left = int(round(min(max(cx - cw / 2, 0), w - cw)))
    top = int(round(min(max(cy - ch / 2, 0), h - ch)))
    cut = rgb[top:top + int(ch), left:left + int(cw)].copy()
    return cut, [left / w, top / h, (left + int(cw)) / w, (top + int(ch)) / h]


def lift(rgb: np.ndarray) -> np.ndarray:
    """Brighten shadows and spread a flat tonal range: local contrast (CLAHE) and a gamma on lightness."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    light = lab[..., 0]
    median = min(max(float(np.median(light)), 1.0), 254.0)
    gamma = float(np.clip(np.log(0.5) / np.log(median / 255.0), 0.4, 1.0))  # median lightness towards the middle
    # As a table of 256 levels: the power over every pixel of a 2000-px photo in float64 is 200 MB.
    light = cv2.LUT(light, (255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8))
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(light)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def wanted_fixes(result: ScoreResult):
    """(fix, finding) for each problem the photo check found that a fix answers, whatever its confidence."""
    for aspect, finding in result.aspects.items():
        kind = FIXES.get((aspect, finding.problem))
        if finding.verdict == "improve" and kind is not None:
            yield kind, finding


def fixable(result: ScoreResult) -> bool:
    """Whether the photo check found a problem some fix answers."""
    return any(wanted_fixes(result))


def candidate_fixes(photo: DecodedPhoto, result: ScoreResult) -> list[Fix]:
    """One candidate per fixable problem the photo check found (whatever its confidence: the score decides),
    made on `photo`'s pixels at whatever size they are."""
    out: dict[str, Fix] = {}
    h, w = photo.rgb.shape[:2]
    for kind, finding in wanted_fixes(result):
        if kind in out:
            continue
        where = finding.geometry or {}
        if kind == "straighten" and "degrees" in where:
            out[kind] = Fix(kind, straighten(photo.rgb, where["degrees"])[0], {"degrees": where["degrees"]})
        elif kind == "crop" and "box" in where:
            fixed, kept = crop_to_item(photo.rgb, where["box"], w / h)
            out[kind] = Fix(kind, fixed, {"box": [round(v, 3) for v in kept]})
        elif kind == "lift":
            out[kind] = Fix(kind, lift(photo.rgb), {})
    return list(out.values())


def jpeg(rgb: np.ndarray, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def offer_fixes(photo: DecodedPhoto, result: ScoreResult, photo_check, request: ScoreRequest,
                decode: Callable[[bytes], DecodedPhoto]) -> list[dict]:
    """The fixes that raise the photo check's own score, best first: kind, scores, gain, the corrected JPEG.

    `photo` is the upload decoded at the size the fixed photo is delivered at, `result` its check at the
    analysis size, and `decode` decodes an upload (the fixed JPEG is checked as it will be once used). A fix
    must beat both the seller's score and the unedited photo's made the same way; one whose JPEG cannot be
    read back as an upload (over the size limit, too small once made) is left out, not the request failed."""
    candidates = candidate_fixes(photo, result)
    if not candidates:
        return []
    try:
        unedited = photo_check.score(decode(jpeg(photo.rgb)), request).score
    except PhotoTipsError:
        return []  # the photo at this size cannot be an upload (a thin banner, a huge re-encode): nor can a fix
    offers = []
    for fix in candidates:
        image = jpeg(fix.rgb)
        try:
            after = photo_check.score(decode(image), request)
        except PhotoTipsError:
            continue
        if after.score > max(result.score, unedited):
            offers.append({"fix": fix.kind, **fix.detail, "score_before": round(result.score, 3),
                           "score_after": round(after.score, 3), "gain": round(after.score - result.score, 3),
                           "rating_after": after.rating, "image": image})
    return sorted(offers, key=lambda o: -o["gain"])
