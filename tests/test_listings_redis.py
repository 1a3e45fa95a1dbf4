"""The Redis listing store: what goes in comes out ranked the same, the photo limit holds across writers."""

import threading
import uuid

import pytest
import redis

from phototips import paths
from phototips.errors import PhotoTipsError
from phototips.hero import Candidate, load_hero_rules, perceptual_hash, rank
from phototips.imaging.decode import decode_photo
from phototips.listings import ListingStore, RedisListingStore, make_listing_store
from phototips.listings.redis_store import PREFIX
from phototips.config import Settings
from phototips.scoring.photo_check import create as create_photo_check
from phototips.scoring.result import ScoreRequest
from phototips.tips.catalog import load_catalog

import photos
from conftest import REDIS_URL


@pytest.fixture(scope="module")
def candidates():
    scorer = create_photo_check(Settings())
    out = []
    for name in photos.SAMPLES:
        photo = decode_photo(photos.encode(photos.sample(name)), max_pixels=60_000_000, analysis_side=1000)
        out.append(Candidate(name, scorer.score(photo, ScoreRequest()), perceptual_hash(photo.pil)))
    return out


def test_settings_choose_the_store():
    assert isinstance(make_listing_store(Settings()), ListingStore)
    assert isinstance(make_listing_store(Settings(redis_url=REDIS_URL)), RedisListingStore)


def test_stored_photos_rank_exactly_as_in_memory(redis_url, candidates):
    store = RedisListingStore(redis_url, max_photos=30, ttl_s=120)
    memory = ListingStore(10, 30)
    listing = f"t-{uuid.uuid4()}"
    for c in candidates:
        store.put(listing, c, "en")
        memory.put(listing, c, "en")
    got = store.photos(listing)
    assert [c.key for c in got] == [c.key for c in candidates]  # arrival order kept
    assert all(g.phash == c.phash and g.result.aspects == c.result.aspects for g, c in zip(got, candidates))
    rules = load_hero_rules(str(paths.MODELS / "hero.yaml"))
    catalog = load_catalog(str(paths.CONTENT / "tips.yaml"))
    assert rank(got, rules, catalog, "de", 0.8) == rank(memory.photos(listing), rules, catalog, "de", 0.8)
    ttl = redis.Redis.from_url(redis_url).ttl(PREFIX + listing + ":photos")
    assert 0 < ttl <= 120


def test_a_replaced_photo_keeps_its_place(redis_url, candidates):
    store = RedisListingStore(redis_url, max_photos=30, ttl_s=120)
    listing = f"t-{uuid.uuid4()}"
    first, second = candidates[0], candidates[1]
    store.put(listing, first, "en")
    store.put(listing, second, "en")
    better = Candidate(first.key, second.result, first.phash)  # the final score replaces the instant one
    store.put(listing, better, "en")
    got = store.photos(listing)
    assert [c.key for c in got] == [first.key, second.key]
    assert got[0].result.score == second.result.score


def test_the_photo_limit_holds_when_many_writers_race(redis_url, candidates):
    stores = [RedisListingStore(redis_url, max_photos=5, ttl_s=120) for _ in range(4)]
    listing = f"t-{uuid.uuid4()}"
    accepted, refused = [], []
    lock = threading.Lock()

    def add(i: int):
        c = Candidate(f"ph_{i}", candidates[i % len(candidates)].result, candidates[0].phash)
        try:
            stores[i % 4].put(listing, c, "en")
            with lock:
                accepted.append(i)
        except PhotoTipsError as exc:
            with lock:
                refused.append(exc.code)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 5 and len(refused) == 35 and set(refused) == {"listing_full"}
    assert sorted(c.key for c in stores[0].photos(listing)) == sorted(f"ph_{i}" for i in accepted)
    with pytest.raises(PhotoTipsError) as err:
        stores[1].reserve(listing)
    assert err.value.code == "listing_full" and err.value.status == 409


def test_an_unreachable_redis_is_a_clear_503(candidates):
    store = RedisListingStore("redis://127.0.0.1:1/0", max_photos=5, ttl_s=120)
    for call in (lambda: store.reserve("x"), lambda: store.put("x", candidates[0], "en"), lambda: store.photos("x")):
        with pytest.raises(PhotoTipsError) as err:
            call()
        assert err.value.code == "storage_unavailable" and err.value.status == 503
