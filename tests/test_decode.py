"""Image intake: formats, orientation, reduced JPEG decoding, and every kind of bad file."""

import io

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from phototips.errors import PhotoTipsError
from phototips.imaging.decode import decode_photo
from photos import encode, png_bomb, sample, truncated_jpeg

LIMITS = dict(max_pixels=60_000_000, analysis_side=1000)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_reads_every_phone_format(fmt):
    rgb = sample("chelsea")
    if fmt == "HEIF":
        data = pillow_heif.from_pillow(Image.fromarray(rgb))
        buf = io.BytesIO()
        data.save(buf, quality=90)
        raw = buf.getvalue()
    else:
        raw = encode(rgb, fmt)
    photo = decode_photo(raw, **LIMITS)
    assert photo.format == fmt
    assert (photo.width, photo.height) == (451, 300)
    assert photo.rgb.shape == (300, 451, 3)
    # The decoded pixels are the photo, not a blank or shifted image.
    assert np.abs(photo.rgb.astype(int) - rgb.astype(int)).mean() < 6


def test_exif_orientation_is_applied():
    rgb = np.zeros((200, 400, 3), np.uint8)
    rgb[:, :200] = (255, 0, 0)  # left half red
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # the camera was turned: view rotated 90° clockwise
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    photo = decode_photo(buf.getvalue(), **LIMITS)
    assert (photo.width, photo.height) == (200, 400)
    assert photo.rgb.shape[:2] == (400, 200)
    top, bottom = photo.rgb[:100].mean(axis=(0, 1)), photo.rgb[-100:].mean(axis=(0, 1))
    assert top[0] > 200 and bottom[0] < 60  # red went from left to top


def test_large_jpeg_is_decoded_reduced_but_reports_its_real_size():
    rgb = np.asarray(Image.fromarray(sample("coffee")).resize((4000, 3000)))
    photo = decode_photo(encode(rgb), **LIMITS)
    assert (photo.width, photo.height) == (4000, 3000)
    assert max(photo.rgb.shape) == 1000


def test_transparent_png_is_shown_on_white():
    rgba = np.zeros((64, 64, 4), np.uint8)
    photo = decode_photo(encode(rgba, "PNG"), **LIMITS)
    assert photo.rgb.min() == 255


@pytest.mark.parametrize(
    "raw, code, status",
    [
        (b"", "empty_file", 400),
        (b"this is a text file, not a photo" * 10, "unsupported_media", 415),
        (b"%PDF-1.4\n" + b"0" * 500, "unsupported_media", 415),
        (None, "corrupt_image", 422),  # truncated JPEG
        (None, "image_too_large", 413),  # 20000×20000 PNG
        (None, "image_too_small", 422),
    ],
    ids=["zero-bytes", "text", "pdf", "truncated", "bomb", "tiny"],
)
def test_bad_files_get_clear_errors(raw, code, status, request):
    if raw is None:
        raw = {"truncated": truncated_jpeg, "bomb": png_bomb,
               "tiny": lambda: encode(np.zeros((4, 4, 3), np.uint8), "PNG")}[request.node.callspec.id]()
    with pytest.raises(PhotoTipsError) as exc:
        decode_photo(raw, **LIMITS)
    assert exc.value.code == code
    assert exc.value.status == status
    assert exc.value.message


def test_a_jpeg_cut_short_but_closed_or_claiming_more_rows_than_it_holds_is_corrupt():
    """libjpeg only warns on both and fills the missing blocks with mid-grey, which Pillow decodes without a word:
    an independent review had them scored (3.2 and 3.5) and one could have become a listing's hero."""
    import struct

    full = encode(sample("coffee"))
    for cut in (len(full) // 3, len(full) // 2, len(full) * 4 // 5):
        with pytest.raises(PhotoTipsError, match="last part is missing") as exc:
            decode_photo(full[:cut] + b"\xff\xd9", **LIMITS)
        assert (exc.value.code, exc.value.status) == ("corrupt_image", 422)
    small = bytearray(encode(np.random.default_rng(0).integers(0, 255, (100, 100, 3), dtype=np.uint8)))
    sof = small.find(b"\xff\xc0")
    small[sof + 5: sof + 9] = struct.pack(">HH", 3000, 3000)
    with pytest.raises(PhotoTipsError, match="last part is missing"):
        decode_photo(bytes(small), **LIMITS)
    # A phone's portrait photo: the missing rows are the last ones as stored, before the photo is turned upright.
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.fromarray(sample("coffee")).save(out, "JPEG", exif=exif.tobytes())
    turned = out.getvalue()
    assert decode_photo(turned, **LIMITS).width < decode_photo(turned, **LIMITS).height
    with pytest.raises(PhotoTipsError, match="last part is missing"):
        decode_photo(turned[: len(turned) // 2] + b"\xff\xd9", **LIMITS)
    # Exact mid-grey that is the photo's own: one flat grey (scored 1: nothing to see), a band along the bottom
    # of any height, in colour or grey, and a frame all round are photos, not broken files.
    assert decode_photo(encode(np.full((600, 800, 3), 128, np.uint8)), **LIMITS).rgb.shape == (600, 800, 3)
    photo = sample("coffee")
    for rows in (1, 7, 16, 31, 52, 100):
        band = photo.copy()
        band[-rows:] = 128
        decode_photo(encode(band), **LIMITS)
        decode_photo(encode(np.ascontiguousarray(band[..., 0])), **LIMITS)
    frame = photo.copy()
    frame[:24], frame[-24:], frame[:, :24], frame[:, -24:] = 128, 128, 128, 128
    decode_photo(encode(frame), **LIMITS)
    assert decode_photo(full, **LIMITS).rgb.shape[0] > 0


def test_mpo_from_a_phone_is_read_as_its_first_picture():
    first, second = sample("chelsea"), sample("coffee")[:300, :451]
    buf = io.BytesIO()
    Image.fromarray(first).save(buf, "MPO", save_all=True, append_images=[Image.fromarray(second)], quality=92)
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    photo = decode_photo(buf.getvalue(), **LIMITS)
    assert photo.format == "MPO" and (photo.width, photo.height) == (451, 300)
    assert np.abs(photo.rgb.astype(int) - first.astype(int)).mean() < 6


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_formats_decoded_whole_have_a_lower_pixel_limit(fmt):
    # 36 MP: under the general limit, over the limit for formats that cannot be decoded reduced.
    raw = png_bomb(6000) if fmt == "PNG" else _webp_header(6000, 6000)
    with pytest.raises(PhotoTipsError) as err:
        decode_photo(raw, **LIMITS)
    assert err.value.code == "image_too_large" and "decoded whole" in err.value.message
    # The same size as a JPEG is decoded reduced, and accepted.
    big = Image.new("RGB", (6000, 6000), (90, 120, 150))
    jbuf = io.BytesIO()
    big.save(jbuf, "JPEG", quality=80)
    photo = decode_photo(jbuf.getvalue(), **LIMITS)
    assert (photo.width, photo.height) == (6000, 6000) and max(photo.rgb.shape) <= 1000


def _webp_header(w: int, h: int) -> bytes:
    """A lossless WebP whose header declares w×h (the pixel data is never reached)."""
    small = io.BytesIO()
    Image.new("RGB", (64, 64)).save(small, "WEBP", lossless=True)
    raw = bytearray(small.getvalue())
    i = raw.index(b"VP8L") + 8 + 1  # after the chunk header and the 0x2f signature
    bits = (w - 1) | ((h - 1) << 14)
    raw[i:i + 4] = (bits | (int.from_bytes(raw[i:i + 4], "little") & ~((1 << 28) - 1))).to_bytes(4, "little")
    return bytes(raw)
