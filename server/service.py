"""The service core shared by HTTP, Socket.IO and the CLI: decode, check, score, tip, rank."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import asdict
from functools import cached_property

from . import paths
from .config import Settings
from .errors import PhotoTipsError
from .experiments.config import load_experiments
from .hero import Candidate, load_hero_rules, perceptual_hash, rank
from .imaging.decode import DecodedPhoto, decode_photo
from .listings import ListingStore
from .photocheck.judge import load_judgement
from .scoring.chain import LAST_RESORT, ScorerChain
from .scoring.registry import create_scorer
from .scoring.result import ScoreRequest, ScoreResult
from .storage.db import make_engine, migrate
from .storage.events import EventStore
from .tips.catalog import load_catalog
from .tips.select import select_tips

MAX_TEXT_FIELD = 100
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
        self.chain = ScorerChain.from_names(settings.scorers, settings)
        self.photo_check = self.chain.get(LAST_RESORT)
        self.listings = ListingStore(settings.max_listings, settings.max_photos_per_listing)
        self.experiments = load_experiments(settings.experiments_file, self.catalog)
        self._extra_scorers: dict[str, object] = {}
        self._lock = threading.Lock()

    # -- event store (opened on first use: scoring files from the CLI never needs it) ----
    @cached_property
    def engine(self):
        engine = make_engine(self.settings.database_url)
        if self.settings.migrate_on_start:
            migrate(engine)
        return engine

    @cached_property
    def events(self) -> EventStore:
        return EventStore(self.engine)

    # -- input ---------------------------------------------------------------
    def decode(self, data: bytes) -> DecodedPhoto:
        if len(data) > self.settings.max_upload_bytes:
            raise PhotoTipsError(
                "file_too_large",
                f"the file is {len(data) / 1e6:.1f} MB; the limit is {self.settings.max_upload_mb:g} MiB",
                413,
            )
        return decode_photo(data, max_pixels=self.settings.max_pixels, analysis_side=self.settings.analysis_side)

    def make_request(self, item_type=None, locale=None) -> ScoreRequest:
        item_type = text_field("item_type", item_type) or "item"
        locale = self.catalog.check_locale(text_field("locale", locale) or self.settings.default_locale)
        return ScoreRequest(item_type=item_type, locale=locale)

    def scorer_named(self, name: str):
        name = text_field("scorer", name)
        found = self.chain.get(name)
        if found is not None:
            return found
        with self._lock:
            if name not in self._extra_scorers:
                self._extra_scorers[name] = create_scorer(name, self.settings)
            return self._extra_scorers[name]

    # -- scoring -------------------------------------------------------------
    def instant(self, photo: DecodedPhoto, request: ScoreRequest) -> ScoreResult:
        return self.photo_check.score(photo, request)

    def full(self, photo: DecodedPhoto, request: ScoreRequest, scorer: str | None = None) -> ScoreResult:
        if scorer:
            return self.scorer_named(scorer).score(photo, request)
        return self.chain.score(photo, request)

    def present(self, result: ScoreResult, locale: str, *, seller_id: str | None = None,
                listing_id: str | None = None, **extra) -> dict:
        """The public JSON of a score: the result, its tips (in the seller's A/B wording), and the caller's ids.

        For a known seller, experiment tips are recorded as exposures and the
        photo is checked against earlier tips of the same listing (`improved`).
        """
        tips = select_tips(result.aspects, self.catalog, locale, self.weights, self.experiments.chooser(seller_id),
                           min_confidence=self.tip_confidence)
        if seller_id and extra.get("photo_id"):
            try:
                self.events.record_photo(
                    seller_id=seller_id, listing_id=listing_id, photo_id=extra["photo_id"], score=result.score,
                    aspects={a: asdict(f) for a, f in result.aspects.items()}, tips=tips)
            except Exception:  # the seller still gets their tips; the report loses one exposure
                log.exception("could not record exposures for %s", extra["photo_id"])
        for tip in tips:
            tip.pop("counted", None)
        ids = {"listing_id": listing_id} if listing_id else {}
        return {**extra, **ids, **result.to_dict(), "tips": tips}

    def score_bytes(self, data: bytes, *, item_type=None, locale=None, scorer=None, seller_id=None,
                    listing_id=None, **extra) -> dict:
        request = self.make_request(item_type, locale)
        seller_id, listing_id = text_field("seller_id", seller_id), text_field("listing_id", listing_id)
        if scorer:
            self.scorer_named(scorer)  # an unknown name is the caller's error, before decoding
        photo = self.decode(data)
        return self.present(self.full(photo, request, scorer), request.locale, seller_id=seller_id,
                            listing_id=listing_id, **extra)

    # -- hero ----------------------------------------------------------------
    def candidate(self, key: str, photo: DecodedPhoto, result: ScoreResult) -> Candidate:
        return Candidate(key, result, perceptual_hash(photo.pil))

    def ranking(self, candidates: list[Candidate], locale: str) -> dict:
        ranked = rank(candidates, self.hero_rules, self.catalog, locale)
        return {"hero": ranked[0]["key"] if ranked else None, "ranking": ranked}


def text_field(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PhotoTipsError("bad_field", f"{name} must be a string", 400)
    value = value.strip()
    if len(value) > MAX_TEXT_FIELD:
        raise PhotoTipsError("bad_field", f"{name} is longer than {MAX_TEXT_FIELD} characters", 400)
    return value or None
