"""One photo's CPU work: decode it within the limits, run the photo check, hash it for the hero ranking when it
will be ranked.

The same function runs in a worker process (`worker.py`) or, with no workers
(the CLI, PHOTOTIPS_CPU_WORKERS=0), in the caller's own thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import imagehash

from ..errors import PhotoTipsError
from ..fixes import fixable, offer_fixes
from ..hero import perceptual_hash
from ..imaging.decode import DecodedPhoto, decode_photo, open_header
from ..scoring.result import ScoreRequest, ScoreResult


@dataclass
class Checked:
    result: ScoreResult  # the photo check's
    phash: imagehash.ImageHash | None  # None when it will not be ranked among a listing's photos
    photo: DecodedPhoto | None  # the decoded photo, for the vision-language scorers; None when none will look


def _check_size(data: bytes, settings) -> None:
    if len(data) > settings.max_upload_bytes:
        raise PhotoTipsError(
            "file_too_large", f"the file is {len(data) / 2**20:.1f} MiB; the limit is {settings.max_upload_mb:g} MiB", 413)


def probe_upload(data: bytes, settings) -> None:
    """The refusals that need no pixels (size, format, declared pixels), without decoding anything."""
    _check_size(data, settings)
    open_header(data, max_pixels=settings.max_pixels, max_unreduced_pixels=settings.max_unreduced_pixels)


def decode_upload(data: bytes, settings) -> DecodedPhoto:
    _check_size(data, settings)
    return decode_photo(data, max_pixels=settings.max_pixels, analysis_side=settings.analysis_side,
                        max_unreduced_pixels=settings.max_unreduced_pixels)


def check_photo(data: bytes, settings, photo_check, request: ScoreRequest, keep_photo: bool,
                hashed: bool = True) -> Checked:
    """The check's result; the perceptual hash only when `hashed`: a photo scored alone is never ranked, and the
    hash is about 7.5% of a 12 MP check (docs/benchmarks.md, "The hash only for a photo a listing will rank")."""
    photo = decode_upload(data, settings)
    return Checked(photo_check.score(photo, request), perceptual_hash(photo.pil) if hashed else None,
                   photo if keep_photo else None)


def fix_photo(data: bytes, settings, photo_check, request: ScoreRequest,
              _keep_photo: bool = False) -> tuple[ScoreResult, list[dict]]:
    """The photo check's result and the fixes that raise its score (fixes.py), made at the size a listing
    shows (`fix_side`) and scored as they would be once uploaded."""
    photo = decode_upload(data, settings)
    result = photo_check.score(photo, request)
    if not fixable(result):
        return result, []
    # Never below the analysis size; and an upload no larger than that is already whole in `photo`.
    side = max(settings.fix_side, settings.analysis_side)
    large = photo if max(photo.width, photo.height) <= settings.analysis_side else decode_photo(
        data, max_pixels=settings.max_pixels, analysis_side=side, max_unreduced_pixels=settings.max_unreduced_pixels)
    return result, offer_fixes(large, result, photo_check, request, lambda fixed: decode_upload(fixed, settings))


# What a worker process can be asked to do, by name (pool.call's first argument).
TASKS = {"check": check_photo, "fix": fix_photo}
