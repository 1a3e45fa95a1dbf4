"""The photo-check worker pool: same answers as inline, bounded admission, and workers that die or grow replaced."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import photos
from phototips.config import Settings
from phototips.cpu.checking import check_photo
from phototips.cpu.pool import WorkerPool
from phototips.errors import PhotoTipsError
from phototips.scoring.photo_check import create as create_photo_check
from phototips.scoring.result import ScoreRequest

JPEG = photos.encode(photos.sample("coffee"))


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def pool():
    p = WorkerPool(Settings(), workers=2, queue_len=0, task_timeout_s=30).start()
    yield p
    p.close()


def test_a_worker_answers_exactly_as_the_photo_check_inline(pool):
    request = ScoreRequest(locale="de")
    inline = check_photo(JPEG, Settings(), create_photo_check(Settings()), request, keep_photo=True)
    with pool.admitted():
        remote = pool.call("check", JPEG, request, True)
    assert remote.result.score == inline.result.score and remote.result.aspects == inline.result.aspects
    assert remote.result.justification == inline.result.justification and remote.phash == inline.phash
    # The decoded photo comes back once, as pixels; its PIL image is rebuilt from them.
    assert np.array_equal(remote.photo.rgb, inline.photo.rgb) and remote.photo.pil.size == inline.photo.pil.size
    with pool.admitted():
        assert pool.call("check", JPEG, request, False).photo is None
    # A photo that no listing will rank is not hashed, in a worker as inline; its result is the same.
    with pool.admitted():
        unhashed = pool.call("check", JPEG, request, False, False)
    assert unhashed.phash is None and unhashed.result.aspects == inline.result.aspects


def test_bad_photos_are_the_callers_errors_and_the_worker_stays(pool):
    for raw, code in ((b"", "empty_file"), (b"not an image", "unsupported_media"), (JPEG[: len(JPEG) // 3], "corrupt_image")):
        with pool.admitted(), pytest.raises(PhotoTipsError) as err:
            pool.call("check", raw, ScoreRequest(), False)
        assert err.value.code == code
    assert pool.stats()["replaced"] == 0 and pool.stats()["workers"] == 2


def test_admission_refuses_at_once_beyond_workers_plus_queue(pool):
    entered, release = threading.Barrier(3), threading.Event()

    def hold():
        with pool.admitted():
            entered.wait()
            release.wait(10)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    entered.wait()
    with pytest.raises(PhotoTipsError) as err:
        with pool.admitted():
            pass
    assert (err.value.code, err.value.status, err.value.retry_after) == ("busy", 503, 1)
    release.set()
    for t in holders:
        t.join()
    with pool.admitted():  # the places are free again
        assert pool.call("check", JPEG, ScoreRequest(), False).result.score > 0
    assert pool.stats()["busy"] == 1 and pool.stats()["inside"] == 0


def test_a_photo_that_arrived_whole_may_wait_in_a_second_queue():
    """Live photos are already here when they are judged: refusing them costs a second upload, so they get
    workers + 2 × queue places, HTTP uploads workers + queue."""
    pool = WorkerPool(Settings(), workers=1, queue_len=2, task_timeout_s=30)  # admission only: no processes
    held = []
    for _ in range(3):
        held.append(pool.admitted())
        held[-1].__enter__()
    with pytest.raises(PhotoTipsError):
        with pool.admitted():
            pass
    for _ in range(2):
        held.append(pool.admitted(arrived=True))
        held[-1].__enter__()
    with pytest.raises(PhotoTipsError):
        with pool.admitted(arrived=True):
            pass
    assert pool.stats()["inside"] == 5 == pool.stats()["arrived_capacity"] and pool.stats()["busy"] == 2
    for h in held:
        h.__exit__(None, None, None)
    assert pool.stats()["inside"] == 0


def test_a_killed_worker_fails_one_photo_clearly_and_is_replaced(pool):
    victims = [w.proc.pid for w in pool._all]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    codes = []
    for _ in range(2):
        with pool.admitted():
            try:
                pool.call("check", JPEG, ScoreRequest(), False)
            except PhotoTipsError as exc:
                codes.append((exc.code, exc.status))
    assert codes == [("check_failed", 500)] * 2
    wait_until(lambda: pool.stats()["idle"] == 2)
    assert not {w.proc.pid for w in pool._all} & set(victims) and pool.stats()["replaced"] == 2
    with pool.admitted():
        assert pool.call("check", JPEG, ScoreRequest(), False).result.score > 0


def test_a_task_over_its_time_is_cut_off_and_its_worker_replaced():
    pool = WorkerPool(Settings(), workers=1, queue_len=0, task_timeout_s=0.001).start()
    try:
        with pool.admitted(), pytest.raises(PhotoTipsError) as err:
            pool.call("check", photos.encode(np.zeros((3000, 4000, 3), np.uint8), "PNG"), ScoreRequest(), False)
        assert err.value.code == "check_failed"
        assert pool.stats()["replaced"] == 1
        # While its successor starts, a photo that waits longer than a task may is told busy, and counted.
        with pool.admitted(), pytest.raises(PhotoTipsError) as err:
            pool.call("check", JPEG, ScoreRequest(), False)
        assert err.value.code == "busy" and pool.stats()["busy"] == 1
    finally:
        pool.close()


def test_a_worker_grown_past_its_memory_limit_is_replaced_after_answering():
    pool = WorkerPool(Settings(cpu_worker_max_mb=40), workers=1, queue_len=0, task_timeout_s=30).start()
    try:
        first = pool._all.copy().pop().proc.pid
        with pool.admitted():
            assert pool.call("check", JPEG, ScoreRequest(), False).result.score > 0  # answered all the same
        wait_until(lambda: pool.stats()["idle"] == 1)
        assert pool.stats()["replaced"] >= 1 and first not in {w.proc.pid for w in pool._all}
    finally:
        pool.close()


def test_closing_the_pool_stops_every_worker(pool):
    procs = [w.proc for w in pool._all]
    pool.close()
    assert all(p.poll() is not None for p in procs)


def test_workers_run_at_a_lower_priority_than_the_web_process():
    """A photo check never holds a core the web process needs to receive photos and answer `busy`."""
    p = WorkerPool(Settings(cpu_worker_nice=7), workers=1, queue_len=0, task_timeout_s=30).start()
    try:
        with p.admitted():
            p.call("check", JPEG, ScoreRequest(), False)  # the worker has read its settings and is at work
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert [os.getpriority(os.PRIO_PROCESS, w.proc.pid) for w in p._all] == [min(19, mine + 7)]
    finally:
        p.close()


def test_frames_carry_photo_bytes_and_pixels_out_of_band_through_a_small_pipe():
    """A task's photo bytes and an answer's pixel array arrive whole and equal through a non-blocking pipe far
    smaller than them (partial writes, waits), without being copied into the pickle."""
    from phototips.cpu import frames

    r, w = os.pipe()
    frames.prepare(r)
    frames.prepare(w)
    photo = os.urandom(3_000_000)
    pixels = np.arange(750 * 1000 * 3, dtype=np.uint8).reshape(750, 1000, 3)
    sent = [("check", photo, {"locale": "de"}, True), ("ok", {"rgb": pixels, "small": b"tiny"}, False)]
    got = []
    reader = threading.Thread(target=lambda: got.extend(frames.recv(r, time.monotonic() + 30) for _ in sent))
    reader.start()
    for obj in sent:
        frames.send(w, obj, time.monotonic() + 30)
    reader.join(30)
    os.close(r)
    os.close(w)
    (kind, data, request, keep), (status, answer, retiring) = got
    assert (kind, request, keep, status, retiring) == ("check", {"locale": "de"}, True, "ok", False)
    assert isinstance(data, memoryview) and bytes(data) == photo  # out of band: a view on the received buffer
    assert np.array_equal(answer["rgb"], pixels) and answer["small"] == b"tiny"


@pytest.mark.parametrize("workers", [0, 1])
def test_a_photo_scored_alone_is_not_hashed_and_one_filed_in_a_listing_is(tmp_path, monkeypatch, workers):
    import phototips.cpu.checking as checking
    from phototips.auth.principal import Principal
    from phototips.config import load_settings
    from phototips.service import PhotoService

    svc = PhotoService(load_settings({"PHOTOTIPS_DATABASE_URL": f"sqlite:///{tmp_path}/e.db"}, cpu_workers=workers))
    checked = []  # what each check returned, from a worker process or from this thread
    if workers:
        svc.start_workers()
        real_call = svc.pool.call
        monkeypatch.setattr(svc.pool, "call", lambda *task: checked.append(real_call(*task)) or checked[-1])
    else:
        real_check = checking.TASKS["check"]
        monkeypatch.setitem(checking.TASKS, "check", lambda *a: checked.append(real_check(*a)) or checked[-1])
    app = Principal("key", "shop", frozenset({"app"}), key_id="k1")
    seller = Principal("seller", "shop", seller="s1", key_id="k1")
    try:
        alone = svc.score_bytes(app, JPEG)
        first = svc.score_bytes(seller, JPEG, listing_id="L1", photo_id="p1")
        again = svc.score_bytes(seller, JPEG, listing_id="L1", photo_id="p2")
        # Asked for a listing's photo without its hash, the service hashes it all the same: the ranking needs it.
        forced = svc.check(JPEG, svc.make_request(), listing=(seller, "L1"), hashed=False)
    finally:
        svc.close()
    assert [c.phash is None for c in checked] == [True, False, False, False]
    assert first["score"] == again["score"] == alone["score"] and forced.phash == checked[1].phash
    # The listing holds both hashes: the second copy of the photo is ranked as the first one's duplicate.
    ranking = svc.listing_ranking(svc.owned_listing(seller, "L1"), "en")["ranking"]
    assert [(r["photo_id"], r.get("duplicate_of")) for r in ranking] == [("p1", None), ("p2", "p1")]
