"""The vectorised WebSocket unmasking gives the bytes RFC 6455 defines, across pieces of any length."""

import os
import random

from phototips.api.websockets import WordMasker


def reference(data: bytes, key: bytes, start: int) -> bytes:
    return bytes(b ^ key[(start + i) % 4] for i, b in enumerate(data))


def test_unmasking_matches_the_rfc_across_uneven_pieces():
    rng = random.Random(3)
    key = os.urandom(4)
    masker, done = WordMasker(key), 0
    for size in [0, 1, 2, 3, 5, 4096, 7, 262_144, 1, 100_003]:
        piece = rng.randbytes(size)
        assert masker.process(piece) == reference(piece, key, done)
        done += size


def test_masking_twice_gives_the_original_back():
    data = os.urandom(10_001)
    key = os.urandom(4)
    assert WordMasker(key).process(WordMasker(key).process(data)) == data
