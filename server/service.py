"""The service core shared by HTTP, Socket.IO and the CLI: decode, check, score, tip, rank."""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from functools import cached_property

from sqlalchemy.exc import SQLAlchemyError

from . import paths
from .auth.gate import Gate
from .auth.keys import KeyStore
from .auth.principal import Principal, require
from .config import Settings
from .errors import PhotoTipsError
from .experiments.config import load_experiments
from .cpu.checking import TASKS, Checked, probe_upload
from .cpu.pool import WorkerPool
from .hero import Candidate, load_hero_rules, rank
from .listings import make_listing_store
from .listings.memory import listing_full
from .metrics import count_score
from .photocheck.judge import load_judgement
from .scoring.chain import LAST_RESORT, ScorerChain
from .scoring.registry import create_scorer
from .scoring.result import ScoreRequest, ScoreResult
from .storage.db import open_database
from .storage.events import EventStore
from .storage.owners import ListingOwners
from .tips.catalog import load_catalog
from .tips.interface import load_interface_text
from .tips.select import select_tips
from .validate import listing_id as listing_id_field
from .validate import text as text_field

log = logging.getLogger(__name__)


def new_photo_id() -> str:
    return "ph_" + uuid.uuid4().hex[:20]


class PhotoService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.catalog = load_catalog(settings.tips_file)
        judgement = load_judgement(settings.photo_check_model)
        self.weights = judgement.weights
        # Findings less sure than this stay in the JSON but are never shown to the seller as tips.
        self.tip_confidence = judgement.tip_confidence
        self.hero_rules = load_hero_rules(str(paths.MODELS / "hero.yaml"))
        self.catalog.check_locale(settings.default_locale)
        self.interface_text = load_interface_text(str(paths.CONTENT / "ui.yaml"), self.catalog.locales)
        self.chain = ScorerChain.from_names(settings.scorers, settings)
        self.photo_check = self.chain.get(LAST_RESORT)
        # The decoded photo is kept (and sent back from a worker) only when a vision-language scorer will look.
        self.keep_photo = self.chain.names != [LAST_RESORT]
        self.pool: WorkerPool | None = None
        self.listings = make_listing_store(settings)
        self.experiments = load_experiments(settings.experiments_file, self.catalog)
        self._extra_scorers: dict[str, object] = {}
        self._lock = threading.Lock()

    def start_workers(self) -> None:
        """Move decoding and the photo check into worker processes (the server does; the CLI works inline)."""
        if self.settings.worker_count > 0 and self.pool is None:
            self.pool = WorkerPool(self.settings, self.settings.worker_count, self.settings.queue_length,
                                   self.settings.cpu_task_timeout_s).start()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    # -- event store (opened on first use: scoring files from the CLI never needs it) ----
    @cached_property
    def engine(self):
        return open_database(self.settings.database_url, self.settings.migrate_on_start)

    @cached_property
    def events(self) -> EventStore:
        return EventStore(self.engine)

    @cached_property
    def owners(self) -> ListingOwners:
        return ListingOwners(self.engine)

    @cached_property
    def gate(self) -> Gate:
        return Gate(KeyStore(self.engine, self.settings.key_cache_s), self.settings)

    # -- identity and ownership ------------------------------------------------
    def issue_token(self, principal: Principal, seller_id, ttl_s=None) -> dict:
        """A seller token for one of the calling app's sellers."""
        require(principal, "app")
        seller = text_field("seller_id", seller_id)
        if not seller:
            raise PhotoTipsError("missing_field", "seller_id is required", 400)
        if ttl_s is not None and (isinstance(ttl_s, bool) or not isinstance(ttl_s, int)):
            raise PhotoTipsError("bad_field", "ttl_s must be an integer number of seconds", 400)
        token, expires = self.gate.tokens.issue(principal.client, seller, ttl_s, key_id=principal.key_id)
        return {"token": token, "seller_id": seller, "expires_at": expires}

    def own_listing(self, principal: Principal, listing_id: str) -> str:
        """The stored (namespaced) id of a listing the calling seller owns, claiming it if new; else 403."""
        key = self._seller_listing(principal, listing_id)
        if self._owner(lambda: self.owners.claim(key, principal.seller_key)) != principal.seller_key:
            raise PhotoTipsError("forbidden", f"listing {listing_id!r} belongs to another seller", 403)
        return key

    def owned_listing(self, principal: Principal, listing_id: str) -> str:
        """The stored id of an existing listing the calling seller owns (no claim); 404 where no seller of the
        client has it, 403 where another has."""
        key = self._seller_listing(principal, listing_id)
        owner = self._owner(lambda: self.owners.owner(key))
        if owner is None:
            raise PhotoTipsError("not_found", f"no listing {listing_id!r}: a listing begins with its first photo", 404)
        if owner != principal.seller_key:
            raise PhotoTipsError("forbidden", f"listing {listing_id!r} is not one of this seller's listings", 403)
        return key

    def open_listing(self, principal: Principal, listing_id: str) -> str:
        """Before any work on a photo for a listing: 403 when another seller owns it, 409 when it is full; its
        stored id. Nothing is claimed here: a listing is claimed by a photo (file_photo), not by an upload that
        then fails. A refused photo takes no place and costs no worker (it still counts as an upload: check)."""
        key = self._seller_listing(principal, listing_id)
        owner = self._owner(lambda: self.owners.owner(key))
        if owner is not None and owner != principal.seller_key:
            raise PhotoTipsError("forbidden", f"listing {listing_id!r} belongs to another seller", 403)
        self._reserve(key, listing_id)
        return key

    @staticmethod
    def _seller_listing(principal: Principal, listing_id: str) -> str:
        if principal.kind != "seller":
            raise PhotoTipsError("forbidden", "listings belong to sellers: send the seller's token", 403)
        return principal.namespaced(listing_id)

    @staticmethod
    def _owner(read):
        try:
            return read()
        except SQLAlchemyError:
            log.exception("listing owners store failed")
            raise PhotoTipsError("storage_unavailable", "the listing could not be checked; retry", 503) from None

    def _reserve(self, listing_key: str, listing_id: str) -> None:
        """The listing store's refusal of a full listing, naming the listing as its seller knows it."""
        try:
            self.listings.reserve(listing_key)
        except PhotoTipsError as exc:
            raise self._as_sellers(exc, listing_id) from None

    def _as_sellers(self, exc: PhotoTipsError, listing_id: str) -> PhotoTipsError:
        return listing_full(listing_id, self.settings.max_photos_per_listing) if exc.code == "listing_full" else exc

    def check_scorer_choice(self, principal: Principal, scorer) -> str | None:
        """Choosing a scorer per request (paid models among them) is for admins only."""
        name = text_field("scorer", scorer)
        if name is not None:
            if principal.kind == "seller" or not principal.may("admin"):
                raise PhotoTipsError("forbidden", "choosing a scorer needs an API key with the admin role", 403)
            self.scorer_named(name)  # an unknown name is the caller's error, before decoding
        return name

    # -- input ---------------------------------------------------------------
    def admitted(self, arrived: bool = False):
        """Hold a place among the requests doing CPU work, or get `busy` at once (no pool: no limit)."""
        return self.pool.admitted(arrived) if self.pool is not None else nullcontext()

    def refuse_when_full(self, arrived: bool = False) -> None:
        """`busy` before an upload is even read, or a store read for it, when no place is free (a shortcut under
        overload)."""
        if self.pool is not None:
            self.pool.refuse_when_full(arrived)

    def check(self, data: bytes, request: ScoreRequest, keep_photo: bool | None = None,
              arrived: bool = False, count=None, listing: tuple[Principal, str] | None = None,
              hashed: bool = True) -> Checked:
        """Decode and photo-check one upload: in a worker, in its turn, or `busy` at once.

        What the header alone refuses (not an image, too many pixels) is answered
        here without taking a place: a burst of bombs costs no worker time.
        A live photo has `arrived` whole before anything can be said about it:
        refused, the phone would send all of it again a second later at best,
        so it may wait in a queue twice as long (at 0.1 s a photo and four per
        worker, under a second) before `busy`. Over HTTP the busy answer comes
        before the parsing, and the client decides.
        A photo for a `listing` (the seller, their listing's id) is refused with the header's refusals, before it
        takes a place, when that listing is another seller's or full (open_listing).
        `count` (the door's upload allowance) is called once the photo has its place, or when it is refused
        before: a `busy` photo, which the client is told to send again, is not counted against the seller.
        Without `hashed` the photo gets no perceptual hash: for a photo that no listing or ranking will hold
        (one given a `listing` is hashed regardless).
        """
        with self._placed(data, arrived, count, listing):
            # A photo for a listing is always hashed: the ranking compares every pair of its photos' hashes.
            return self._check(data, request, keep_photo, hashed or listing is not None)

    def fix(self, data: bytes, request: ScoreRequest, arrived: bool = False, count=None) -> dict:
        """Corrected previews of one photo that raise the photo check's score (`image`: JPEG bytes), in its turn
        among the CPU work like a check (`count` as there)."""
        with self._placed(data, arrived, count):
            result, offers = self._run("fix", data, request, False)
        return {"score": round(result.score, 3), "rating": result.rating, "fixes": offers}

    @contextmanager
    def _placed(self, data: bytes, arrived: bool, count, listing: tuple[Principal, str] | None = None):
        """The refusals that need no place (the header's, the listing's), then a place among the CPU work; the
        upload counted (`count`) by either."""
        try:
            probe_upload(data, self.settings)
            if listing is not None:
                self.refuse_when_full(arrived)  # no store read for a photo that would be told `busy` anyway
                self.open_listing(*listing)
        except PhotoTipsError as exc:
            if count is not None and exc.code != "busy":
                count()
            raise
        with self.admitted(arrived):
            if count is not None:
                count()
            yield

    def _check(self, data: bytes, request: ScoreRequest, keep_photo: bool | None = None,
               hashed: bool = True) -> Checked:
        checked = self._run("check", data, request, self.keep_photo if keep_photo is None else keep_photo, hashed)
        count_score(checked.result.scorer, checked.result.latency_ms)
        return checked

    def _run(self, task: str, data: bytes, request: ScoreRequest, keep_photo: bool, *options):
        """One CPU task (cpu/checking.TASKS) in a worker process, or in this thread when there are none."""
        if self.pool is not None:
            return self.pool.call(task, data, request, keep_photo, *options)
        return TASKS[task](data, self.settings, self.photo_check, request, keep_photo, *options)

    def make_request(self, item_type=None, locale=None) -> ScoreRequest:
        item_type = text_field("item_type", item_type) or "item"
        locale = self.catalog.check_locale(text_field("locale", locale) or self.settings.default_locale)
        return ScoreRequest(item_type=item_type, locale=locale)

    def scorer_named(self, name: str):
        found = self.chain.get(name)
        if found is not None:
            return found
        with self._lock:
            if name not in self._extra_scorers:
                try:
                    self._extra_scorers[name] = create_scorer(name, self.settings)
                except PhotoTipsError:
                    raise
                except Exception as exc:  # e.g. botocore's NoRegionError: the scorer is not set up here
                    log.warning("scorer %s cannot be created: %s", name, exc)
                    raise PhotoTipsError("scorer_unavailable", f"the {name} scorer is not available on this "
                                                               f"server: {type(exc).__name__}", 503) from None
            return self._extra_scorers[name]

    # -- scoring -------------------------------------------------------------
    def full(self, checked: Checked, request: ScoreRequest, scorer: str | None = None) -> ScoreResult:
        """The configured chain's answer (or the named scorer's); the photo check's is already in `checked`."""
        if scorer == LAST_RESORT or (scorer is None and not self.keep_photo):
            return checked.result
        if scorer:
            result = self.scorer_named(scorer).score(checked.photo, request)
        else:
            result = self.chain.score(checked.photo, request, last_resort=checked.result)
        if result.scorer != LAST_RESORT:  # the photo check's answer was counted with the check
            count_score(result.scorer, result.latency_ms)
        return result

    def present(self, result: ScoreResult, locale: str, *, seller_key: str | None = None,
                listing_key: str | None = None, record: bool = True, **extra) -> dict:
        """The public JSON of a score: the result, its tips (in the seller's A/B wording), and the caller's ids.

        For a seller (`seller_key`, the namespaced id from their token), experiment
        tips are recorded as exposures and the photo is checked against earlier tips
        of the same listing (`improved`): only the listing's owner gets here. `record=False` presents a photo
        again (a seller resuming a listing) without recording anything: its exposures and outcomes were
        recorded when it arrived, and outcomes are about the photo that came next, not one shown again.
        """
        tips = select_tips(result.aspects, self.catalog, locale, self.weights, self.experiments.chooser(seller_key),
                           min_confidence=self.tip_confidence)
        if record and seller_key and extra.get("photo_id"):
            try:
                self.events.record_photo(
                    seller_id=seller_key, listing_id=listing_key, photo_id=extra["photo_id"], score=result.score,
                    aspects={a: asdict(f) for a, f in result.aspects.items()}, tips=tips)
            except Exception:  # the seller still gets their tips; the report loses one exposure
                log.exception("could not record exposures for %s", extra["photo_id"])
        for tip in tips:
            tip.pop("counted", None)
        return {**{k: v for k, v in extra.items() if v is not None}, **result.to_dict(), "tips": tips}

    def score_bytes(self, principal: Principal, data: bytes, *, item_type=None, locale=None, scorer=None,
                    listing_id=None, count=None, **extra) -> dict:
        """Score one uploaded photo for an app or a seller; a seller may file it under one of their listings
        (`count` as in check)."""
        require(principal, "app", seller=True)
        request = self.make_request(item_type, locale)
        scorer = self.check_scorer_choice(principal, scorer)
        listing_id = listing_id_field(listing_id)
        if listing_id:
            self._seller_listing(principal, listing_id)  # an app's key has no listings: before anything is read
        checked = self.check(data, request, keep_photo=self.keep_photo or scorer not in (None, LAST_RESORT),
                             count=count, listing=(principal, listing_id) if listing_id else None,
                             hashed=bool(listing_id))
        photo_id = extra.get("photo_id") or new_photo_id()
        listing_key = None
        if listing_id:  # a listing is claimed by a photo, not by a failed upload
            listing_key = self.file_photo(principal, listing_id, photo_id, checked.result, checked, request.locale)
        result = self.full(checked, request, scorer)
        if listing_key and result is not checked.result:
            self.refile_photo(listing_key, photo_id, result, checked, request.locale)
        return self.present(result, request.locale, seller_key=principal.seller_key,
                            listing_key=listing_key, listing_id=listing_id, **extra)

    # -- listings and the hero -----------------------------------------------
    def file_photo(self, principal: Principal, listing_id: str, photo_id: str, result: ScoreResult,
                   checked: Checked, locale: str) -> str:
        """Put a checked photo into one of the seller's listings (claiming it if new); the listing's stored id."""
        listing_key = self.own_listing(principal, listing_id)
        try:
            self.listings.put(listing_key, Candidate(photo_id, result, checked.phash), locale)
        except PhotoTipsError as exc:
            raise self._as_sellers(exc, listing_id) from None
        return listing_key

    def refile_photo(self, listing_key: str, photo_id: str, result: ScoreResult, checked: Checked,
                     locale: str) -> None:
        """Replace a listing photo's instant score with the chain's; a listing gone meanwhile is only logged."""
        try:
            self.listings.put(listing_key, Candidate(photo_id, result, checked.phash), locale)
        except PhotoTipsError as exc:
            log.warning("listing %s: %s", listing_key, exc)

    def resume_listing(self, principal: Principal, listing_id: str, photos: dict[str, str | None],
                       locale: str) -> tuple[str, list[dict], list[str], dict | None]:
        """A seller back after a lost connection: their listing's stored id, each asked-for photo it still holds,
        presented again (`photos`: photo_id -> the client's ref), the asked-for photos it no longer holds
        (never stored, or lost with an in-memory listing when its server restarted: send those again), and the
        listing's ranking when any photo was found (None otherwise: nothing to rank again), all from one read."""
        listing_key = self.owned_listing(principal, listing_id)
        candidates = self.listings.photos(listing_key)
        stored = {c.key: c for c in candidates}
        found = [self.present(stored[pid].result, locale, seller_key=principal.seller_key, listing_key=listing_key,
                              record=False, listing_id=listing_id, photo_id=pid, ref=ref)
                 for pid, ref in photos.items() if pid in stored]
        return (listing_key, found, [pid for pid in photos if pid not in stored],
                self._listing_ranking(candidates, locale) if found else None)

    def listing_ranking(self, listing_key: str, locale: str) -> dict:
        return self._listing_ranking(self.listings.photos(listing_key), locale)

    def _listing_ranking(self, candidates: list[Candidate], locale: str) -> dict:
        out = self.ranking(candidates, locale)
        for entry in out["ranking"]:
            entry["photo_id"] = entry.pop("key")
        return out

    def rank_uploads(self, uploads: list[tuple[str, bytes]], request: ScoreRequest, count=None) -> dict:
        """Score and rank the photos of one listing sent together (HTTP /v1/hero, `phototips hero`).

        The request holds one place in the CPU queue and its photos go through
        one at a time, so forty photos do not crowd out other sellers. `count(n)`, the door's upload
        allowance, is called with the number of photos sent once the request has its place (at once when
        none of them is readable).
        """
        checked, errors, readable = [], [], []
        for key, data in uploads:
            try:
                probe_upload(data, self.settings)
                readable.append((key, data))
            except PhotoTipsError as exc:
                errors.append({"file": key, "error": exc.to_dict()})
        if readable:
            with self.admitted():
                if count is not None:
                    count(len(uploads))
                for key, data in readable:
                    try:
                        checked.append((key, self._check(data, request)))
                    except PhotoTipsError as exc:
                        if exc.code == "busy":
                            raise
                        errors.append({"file": key, "error": exc.to_dict()})
        elif count is not None:
            count(len(uploads))
        candidates, photos = [], []
        for key, one in checked:
            result = self.full(one, request)
            candidates.append(Candidate(key, result, one.phash))
            photos.append(self.present(result, request.locale, file=key))
        out = self.ranking(candidates, request.locale)
        for entry in out["ranking"]:
            entry["file"] = entry.pop("key")
        return {**out, "photos": photos, "errors": errors}

    def ranking(self, candidates: list[Candidate], locale: str) -> dict:
        ranked = rank(candidates, self.hero_rules, self.catalog, locale, self.tip_confidence)
        return {"hero": ranked[0]["key"] if ranked else None, "ranking": ranked}

