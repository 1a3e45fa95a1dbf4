"""A/B tests of tip wording: the experiments file, sticky assignment, exposures, outcomes and the report."""

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import func, select

from phototips import paths
from phototips.errors import PhotoTipsError
from phototips.experiments.config import load_experiments
from phototips.experiments.report import experiment_report
from phototips.storage.db import current_revision, make_engine, migrate
from phototips.storage.events import EventStore, utcnow
from phototips.storage.tables import events, exposures
from phototips.tips.catalog import load_catalog
from pg import postgres_url  # noqa: F401 - fixture

CATALOG = load_catalog(str(paths.CONTENT / "tips.yaml"))
EXPERIMENTS = load_experiments(str(paths.CONTENT / "experiments.yaml"), CATALOG)
DARK = EXPERIMENTS.experiments["dark-photos-2026-12"]


def write(tmp_path, data) -> str:
    p = tmp_path / "experiments.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(p)


def base_experiment(**over):
    exp = {"id": "e1", "tips": ["lighting.too_dark"], "start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z",
           "variants": [{"id": "c", "control": True, "weight": 1, "wording": {"lighting.too_dark": "a"}},
                        {"id": "t", "weight": 1, "wording": {"lighting.too_dark": "b"}}]}
    exp.update(over)
    return exp


@pytest.mark.parametrize("change, message", [
    (dict(tips=["lighting.no_such_tip"]), "unknown tip 'lighting.no_such_tip'"),
    (dict(variants=[{"id": "c", "control": True, "weight": 1, "wording": {"lighting.too_dark": "a"}},
                    {"id": "t", "weight": 0, "wording": {"lighting.too_dark": "b"}}]), "weight must be a positive number"),
    (dict(variants=[{"id": "c", "control": True, "weight": 1, "wording": {"lighting.too_dark": "a"}},
                    {"id": "t", "weight": 1, "wording": {"lighting.too_dark": {"en": "Use daylight.", "fr": "Lumière du jour."}}}]),
     "tip lighting.too_dark has no wording for locale 'de'"),
    (dict(variants=[{"id": "c", "weight": 1, "wording": {"lighting.too_dark": "a"}},
                    {"id": "t", "weight": 1, "wording": {"lighting.too_dark": "b"}}]), "exactly one variant must be the control"),
    (dict(variants=[{"id": "c", "control": True, "wording": {"lighting.too_dark": "z"}},
                    {"id": "t", "wording": {"lighting.too_dark": "b"}}]), "has no catalog variant 'z'"),
    (dict(start="2027-01-01", end="2026-01-01"), "start must be before end"),
    # Found by a review: each was accepted without a word.
    (dict(id=None), "experiments[1]: needs an id"),
    (dict(id="dark/photos"), "experiment dark/photos: an id is letters, digits"),
    (dict(desciption="x"), "unknown key(s) 'desciption' (did you mean 'description'?)"),
    (dict(variants=[{"id": "c", "control": True, "wieght": 5, "wording": {"lighting.too_dark": "a"}},
                    {"id": "t", "weight": 1, "wording": {"lighting.too_dark": "b"}}]),
     "variant c: unknown key(s) 'wieght' (did you mean 'weight'?)"),
    (dict(variants=[{"id": "c", "control": True, "weight": float("nan"), "wording": {"lighting.too_dark": "a"}},
                    {"id": "t", "weight": 1, "wording": {"lighting.too_dark": "b", 3: "x"}}]),
     "weight must be a positive number"),
])
def test_bad_experiment_files_are_refused_with_the_reason(tmp_path, change, message):
    with pytest.raises(PhotoTipsError) as exc:
        load_experiments(write(tmp_path, {"event_types": ["retake"], "experiments": [base_experiment(**change)]}), CATALOG)
    assert message in exc.value.message


@pytest.mark.parametrize("fields, message", [
    ({"publish": ["photo_id"]}, "event_fields.publish: not one of event_types"),
    ({"retake": ["colour"]}, "event_fields.retake: a list of experiment, listing_id, photo_id, tip_id, variant"),
    ({"retake": "photo_id"}, "event_fields.retake: a list of"),
    (["retake"], "event_fields: map an event type to the fields its events must carry"),
])
def test_the_fields_an_event_type_needs_are_checked_at_start_up(tmp_path, fields, message):
    with pytest.raises(PhotoTipsError) as exc:
        load_experiments(write(tmp_path, {"event_types": ["retake"], "event_fields": fields, "experiments": []}), CATALOG)
    assert message in exc.value.message
    ok = load_experiments(write(tmp_path, {"event_types": ["retake"], "event_fields": {"retake": ["photo_id"]},
                                           "experiments": []}), CATALOG)
    assert ok.event_fields == {"retake": ("photo_id",)}


def test_the_files_own_keys_and_event_types_are_checked_and_a_key_written_twice_is_refused(tmp_path):
    for data, message in (
            ({"event_types": ["retake", "improved"], "experiments": []}, "'improved' is an outcome the server records"),
            ({"event_type": ["retake"], "experiments": []}, "the file: unknown key(s) 'event_type' (did you mean"),
    ):
        with pytest.raises(PhotoTipsError) as exc:
            load_experiments(write(tmp_path, data), CATALOG)
        assert message in exc.value.message
    twice = tmp_path / "twice.yaml"
    twice.write_text("event_types: [retake]\nexperiments: []\nevent_types: [publish]\n")
    with pytest.raises(PhotoTipsError, match="the key 'event_types' is written twice"):
        load_experiments(str(twice), CATALOG)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("event_types: [retake]\n# Lumière\nexperiments: []\n".encode("cp1252"))
    with pytest.raises(PhotoTipsError, match="not UTF-8 text"):
        load_experiments(str(latin), CATALOG)


def test_overlapping_experiments_on_one_tip_are_refused(tmp_path):
    data = {"event_types": ["retake"], "experiments": [base_experiment(), base_experiment(id="e2")]}
    with pytest.raises(PhotoTipsError) as exc:
        load_experiments(write(tmp_path, data), CATALOG)
    assert "both test lighting.too_dark at the same time" in exc.value.message


def test_assignment_is_sticky_and_follows_the_weights():
    clutter = EXPERIMENTS.experiments["clutter-wording-2026-12"]  # weights 2:1
    split = Counter(clutter.assign(f"seller-{i}").id for i in range(30000))
    assert abs(split["control"] / 30000 - 2 / 3) < 0.01
    assert all(clutter.assign("seller-7").id == clutter.assign("seller-7").id for _ in range(3))
    code = ("from phototips import paths; from phototips.tips.catalog import load_catalog; "
            "from phototips.experiments.config import load_experiments; "
            "e = load_experiments(str(paths.CONTENT / 'experiments.yaml'), load_catalog(str(paths.CONTENT / 'tips.yaml'))); "
            "print(' '.join(e.experiments['clutter-wording-2026-12'].assign(f'seller-{i}').id for i in range(50)))")
    other_process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert other_process == [clutter.assign(f"seller-{i}").id for i in range(50)]


def test_tips_carry_experiment_and_variant_and_no_seller_gets_the_control():
    tip = CATALOG.tips["lighting.too_dark"]
    now = datetime(2026, 12, 15, tzinfo=timezone.utc)
    by_variant = {}
    for i in range(40):
        w = EXPERIMENTS.chooser(f"s{i}", now)(tip)
        by_variant[w.extra["variant"]] = w
        assert w.extra["experiment"] == DARK.id and w.extra["counted"]
    assert by_variant["daylight"].texts["en"] == tip.variants["b"]["en"]
    assert by_variant["control"].texts["fr"] == tip.variants["a"]["fr"]
    anonymous = EXPERIMENTS.chooser(None, now)(tip)
    assert (anonymous.extra["variant"], anonymous.extra["counted"]) == ("control", False)
    after_the_end = EXPERIMENTS.chooser("s1", datetime(2027, 6, 1, tzinfo=timezone.utc))(tip)
    assert after_the_end.extra == {} and after_the_end.texts == tip.variants["a"]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = make_engine(url)
    if request.param == "postgresql":
        with eng.begin() as conn:
            for t in ("events", "exposures", "api_keys", "listings", "alembic_version"):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t}")
    migrate(eng)
    yield eng
    eng.dispose()


def test_migrations_bring_the_schema_to_head(engine):
    assert current_revision(engine) == "0002"
    migrate(engine)  # again: nothing to do
    assert current_revision(engine) == "0002"


def app_event(event_id, seller, type_, when=None):
    now = utcnow()
    return {"event_id": event_id, "seller_id": seller, "listing_id": "L", "type": type_, "photo_id": None,
            "tip_id": None, "experiment": None, "variant": None, "value": None,
            "occurred_at": when or now, "received_at": now, "source": "app"}


def test_an_event_id_is_stored_once(engine):
    store = EventStore(engine)
    assert store.add_events([app_event("e1", "s1", "retake"), app_event("e2", "s1", "publish")]) == [True, True]
    assert store.add_events([app_event("e2", "s1", "publish"), app_event("e3", "s2", "retake"),
                             app_event("e3", "s2", "retake")]) == [False, True, False]
    assert store.count_events() == 3


def expose(store, seller, photo, variant_tip_severity=0.8, score=2.5, listing="L"):
    tips = [{"id": "lighting.too_dark", "aspect": "lighting", "experiment": DARK.id,
             "variant": DARK.assign(seller).id, "counted": True}]
    aspects = {"lighting": {"severity": variant_tip_severity}}
    store.record_photo(seller_id=seller, listing_id=listing, photo_id=photo, score=score, aspects=aspects, tips=tips)


def test_exposures_and_server_side_improvement(engine):
    store = EventStore(engine)
    expose(store, "s1", "p1", 0.8, 2.0)
    expose(store, "s1", "p1", 0.8, 2.0)  # the same tip for the same photo again (tips, then score)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(exposures)).scalar_one() == 1
    # The next photo of the listing is much brighter: improved; a later one does not count again.
    store.record_photo(seller_id="s1", listing_id="L", photo_id="p2", score=3.5, aspects={"lighting": {"severity": 0.1}}, tips=[])
    store.record_photo(seller_id="s1", listing_id="L", photo_id="p3", score=1.0, aspects={"lighting": {"severity": 0.9}}, tips=[])
    with engine.connect() as conn:
        rows = {r.type: r for r in conn.execute(select(events).where(events.c.source == "server"))}
    assert set(rows) == {"improved", "next_photo"}
    assert rows["improved"].value == pytest.approx(0.7) and rows["next_photo"].value == pytest.approx(1.5)
    assert rows["improved"].experiment == DARK.id and rows["improved"].photo_id == "p2"
    # Another seller's photo in a listing with the same id does not count for s1.
    store.record_photo(seller_id="s2", listing_id="L", photo_id="p4", score=5, aspects={"lighting": {"severity": 0}}, tips=[])
    assert store.count_events(source="server") == 2


def test_report_counts_sellers_rates_and_differences(engine):
    store = EventStore(engine)
    sellers = {"control": [], "daylight": []}
    i = 0
    while min(len(v) for v in sellers.values()) < 4:
        s = f"seller-{i}"
        i += 1
        v = DARK.assign(s).id
        if len(sellers[v]) < 4:
            sellers[v].append(s)
    before = utcnow() - timedelta(hours=1)
    for v, ss in sellers.items():
        for n, s in enumerate(ss):
            expose(store, s, f"{s}-p1")
    # control: 1 of 4 retake; daylight: 3 of 4 retake, one of them twice; one retake before exposure does not count.
    store.add_events([app_event("c1", sellers["control"][0], "retake"),
                      app_event("c-early", sellers["control"][1], "retake", when=before)]
                     + [app_event(f"d{k}", s, "retake") for k, s in enumerate(sellers["daylight"][:3])]
                     + [app_event("d-again", sellers["daylight"][0], "retake")])
    rep = experiment_report(engine, DARK, EXPERIMENTS.event_types, min_sellers=3)
    rows = {r["variant"]: r for r in rep["variants"]}
    assert rows["control"]["sellers"] == 4 and rows["daylight"]["exposures"] == 4
    assert rows["control"]["rates"]["retake"] == 0.25 and rows["daylight"]["rates"]["retake"] == 0.75
    d = rows["daylight"]["vs_control"]["retake"]
    assert d["diff"] == pytest.approx(0.5)
    # Newcombe's interval from the Wilson intervals of 3/4 [0.30064, 0.95442] and 1/4 [0.04558, 0.69936].
    assert d["ci95"] == pytest.approx([0.5 - (2 * 0.44936 ** 2) ** 0.5, 0.5 + (2 * 0.20442 ** 2) ** 0.5], abs=1e-4)
    assert d["p_value"] == pytest.approx(0.1573, abs=1e-3)  # chi-square 2×2, no correction: z = 1.414
    assert rep["status"] == "ready" and rep["srm"]["mismatch"] is False
    assert experiment_report(engine, DARK, EXPERIMENTS.event_types, min_sellers=10)["status"] == "collecting"


def test_the_score_change_is_averaged_per_seller_before_the_variants_are_compared(engine):
    # A review: each next photo counted as a seller of its own, so one seller sending many photos moved the mean
    # and narrowed the interval.
    store = EventStore(engine)
    control = [s for s in (f"sc-{i}" for i in range(200)) if DARK.assign(s).id == "control"][:3]

    def next_photo(event_id, seller, value):
        return {**app_event(event_id, seller, "next_photo"), "experiment": DARK.id, "variant": "control",
                "value": value, "source": "server"}

    store.add_events([next_photo("a1", control[0], 1.0), next_photo("b1", control[1], 2.0)]
                     + [next_photo(f"c{k}", control[2], -1.0) for k in range(4)])
    for s in control:
        expose(store, s, f"{s}-p")
    row = {r["variant"]: r for r in experiment_report(engine, DARK, EXPERIMENTS.event_types, 1)["variants"]}["control"]
    assert (row["next_photos"], row["next_photo_sellers"]) == (6, 3)
    assert row["mean_score_change"] == pytest.approx((1.0 + 2.0 - 1.0) / 3)  # not (1 + 2 - 4) / 6


def test_report_says_so_when_there_is_no_data_or_a_sample_ratio_mismatch(engine):
    rep = experiment_report(engine, DARK, EXPERIMENTS.event_types, min_sellers=100)
    assert rep["sellers"] == 0 and rep["verdict"].startswith("No data yet")
    store = EventStore(engine)
    n = {"control": 0, "daylight": 0}
    i = 0
    while n["control"] < 170 or n["daylight"] < 100:  # 170 : 100 where 1 : 1 was configured
        s = f"srm-{i}"
        i += 1
        v = DARK.assign(s).id
        if (v == "control" and n[v] < 170) or (v == "daylight" and n[v] < 100):
            n[v] += 1
            expose(store, s, f"{s}-p")
    rep = experiment_report(engine, DARK, EXPERIMENTS.event_types, min_sellers=50)
    assert rep["srm"]["mismatch"] and rep["status"] == "srm" and "Sample ratio mismatch" in rep["verdict"]


def test_writes_wait_for_a_busy_sqlite_store_and_a_lost_write_is_counted(tmp_path, caplog):
    import sqlite3
    import threading
    import time as _time

    from phototips.storage.db import make_engine, migrate
    from phototips.storage.events import EventStore

    path = tmp_path / "busy.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    store = EventStore(eng)
    # Another process holds the write lock for a moment: the write waits, nothing is lost.
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, holder.execute, args=("COMMIT",)).start()
    start = _time.monotonic()
    store.record_photo(seller_id="s", listing_id="L", photo_id="p1", score=2.0,
                       aspects={"lighting": {"severity": 0.9}},
                       tips=[{"id": "lighting.too_dark", "aspect": "lighting", "experiment": "e", "variant": "a",
                              "counted": True}])
    assert _time.monotonic() - start >= 0.4 and store.lost_writes == 0
    assert store.add_events([app_event("busy-1", "s", "retake")]) == [True]
    holder.close()
    # A store that cannot take the write at all (here: its file cannot be opened): the seller still has their
    # tips, and the loss is counted and logged with what it held.
    (tmp_path / "gone.db").mkdir()
    gone = EventStore(make_engine(f"sqlite:///{tmp_path / 'gone.db'}"))
    gone.record_photo(seller_id="s", listing_id="L", photo_id="p2", score=3.0, aspects={"lighting": {"severity": 0.1}},
                      tips=[{"id": "lighting.too_dark", "aspect": "lighting", "experiment": "e", "variant": "a",
                             "counted": True}])
    assert gone.lost_writes == 1
    assert any("LOST WRITE" in r.message and "p2" in r.message and "lighting.too_dark" in r.message
               for r in caplog.records)


def test_report_gives_each_rate_its_interval_and_sellers_per_utc_day(engine):
    store = EventStore(engine)
    sellers = []
    i = 0
    while len(sellers) < 4:
        s = f"ci-{i}"
        i += 1
        if DARK.assign(s).id == "control":
            sellers.append(s)
            expose(store, s, f"{s}-p")
    # First exposures just before and just after UTC midnights: three days ago at 23:30 (twice), yesterday at
    # 00:30 and today at 00:30; nobody two days ago.
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    times = [midnight - timedelta(days=2, minutes=30)] * 2 + [midnight - timedelta(days=1) + timedelta(minutes=30),
                                                             midnight + timedelta(minutes=30)]
    with engine.begin() as conn:
        for s, t in zip(sellers, times):
            conn.execute(exposures.update().where(exposures.c.seller_id == s).values(created_at=t))
    store.add_events([app_event("r1", sellers[0], "retake")])
    reader = engine
    if engine.dialect.name == "postgresql":
        # A database session far from UTC (UTC+14) must still count UTC days.
        from sqlalchemy import event

        reader = make_engine(engine.url.render_as_string(hide_password=False))

        @event.listens_for(reader, "connect")
        def _far_east(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'Pacific/Kiritimati'")
    rep = experiment_report(reader, DARK, EXPERIMENTS.event_types, min_sellers=3)
    if reader is not engine:
        reader.dispose()
    control = next(v for v in rep["variants"] if v["variant"] == "control")
    # Wilson interval of 1 in 4 (e.g. R's prop.test(1, 4, correct = FALSE)$conf.int).
    assert control["rate_ci95"]["retake"] == pytest.approx([0.04558, 0.69936], abs=1e-4)
    assert control["rate_ci95"]["publish"][0] == 0 and 0.4 < control["rate_ci95"]["publish"][1] < 0.5
    daylight = next(v for v in rep["variants"] if v["variant"] == "daylight")
    assert daylight["rate_ci95"]["retake"] is None  # no seller: no interval, not a fake one
    days = [(midnight - timedelta(days=b)).date().isoformat() for b in (3, 2, 1, 0)]
    t = rep["sellers_over_time"]
    assert t["days"] == days  # every day, the one with nobody new included
    assert t["new"]["control"] == [2, 0, 1, 1] and t["cumulative"]["control"] == [2, 2, 3, 4]
    assert t["cumulative"]["daylight"] == [0, 0, 0, 0]


def test_a_difference_of_rates_gets_newcombes_interval():
    from phototips.experiments.report import _rate_diff
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 against 48/80, method 10.
    d = _rate_diff(56, 70, 48, 80)
    assert d["diff"] == pytest.approx(0.2) and d["ci95"] == pytest.approx([0.0524, 0.3339], abs=1e-4)
    assert d["excludes_zero"]
    # Nobody did it in either arm: an interval around zero of honest width, not a point.
    none = _rate_diff(0, 393, 0, 207)
    assert none["ci95"][0] < -0.01 and none["ci95"][1] > 0.005 and not none["excludes_zero"]
    # Small arms near the edge: the interval and the test agree (the Wald interval here spans -9 to +49 points
    # while p = 0.048).
    small = _rate_diff(3, 10, 20, 200)
    assert small["p_value"] < 0.05 and small["excludes_zero"] and small["ci95"][0] < 0.01


def test_the_sample_ratio_check_is_explained_in_words():
    from phototips.experiments.report import srm_in_words
    fine = srm_in_words({"control": 510, "daylight": 490}, {"control": 0.5, "daylight": 0.5}, 0.53)
    assert "51.0% control / 49.0% daylight" in fine and "50.0% / 50.0% configured" in fine
    assert "looks as configured" in fine and "53.0% of experiments" in fine
    bad = srm_in_words({"control": 170, "daylight": 100}, {"control": 0.5, "daylight": 0.5}, 2e-5)
    assert "fewer than 1 in 1,000" in bad and "Do not read the differences" in bad
    few = srm_in_words({"control": 3, "daylight": 1}, {"control": 0.5, "daylight": 0.5}, 0.32)
    assert "cannot tell yet" in few and "With 4 sellers" in few


def test_the_wording_preview_shows_every_tip_variant_and_locale():
    from phototips.experiments.preview import wording_preview
    rep = wording_preview(str(paths.CONTENT / "tips.yaml"), str(paths.CONTENT / "experiments.yaml"), CATALOG, utcnow())
    assert rep["valid"] and rep["problems"] == [] and rep["locales"] == ["en", "fr", "de"]
    assert {t["id"] for t in rep["tips"]} == set(CATALOG.tips)
    clutter = next(t for t in rep["tips"] if t["id"] == "background.cluttered")
    short = next(s for s in clutter["shown"] if s["variant"] == "short")
    assert short["experiment"] == "clutter-wording-2026-12" and not short["control"]
    assert short["text"]["fr"].startswith("Dégagez l'espace") and short["weight"] == pytest.approx(1 / 3, abs=1e-3)
    plain = next(t for t in rep["tips"] if t["id"] == "angle.tilted")
    assert [s["variant"] for s in plain["shown"]] == [CATALOG.tips["angle.tilted"].default_variant]
    assert plain["aspect_name"]["de"] == "Blickwinkel"


def test_the_wording_preview_lists_every_problem_instead_of_refusing(tmp_path):
    from phototips.experiments.preview import wording_preview
    bad = base_experiment(tips=["lighting.too_dark", "lighting.no_such_tip"], variants=[
        {"id": "c", "control": True, "wording": {"lighting.too_dark": "a"}},
        {"id": "t", "wording": {"lighting.too_dark": {"en": "Use daylight.", "fr": "Lumière du jour."}}},
        "not a variant"])
    path = write(tmp_path, {"event_types": ["retake"], "experiments": [bad, 42]})
    rep = wording_preview(str(paths.CONTENT / "tips.yaml"), path, CATALOG, utcnow())
    messages = [p["message"] for p in rep["problems"]]
    assert not rep["valid"] and all(p["file"] == "experiments" for p in rep["problems"])
    assert any("unknown tip 'lighting.no_such_tip'" in m for m in messages)
    assert any("no wording for locale 'de'" in m for m in messages)
    assert any("a variant must have an id" in m for m in messages)
    assert any("experiments[2]" in m for m in messages)
    # What could be read is still shown, with the missing German left empty for the page to flag.
    dark = next(t for t in rep["tips"] if t["id"] == "lighting.too_dark")
    t = next(s for s in dark["shown"] if s["variant"] == "t")
    assert t["text"]["fr"] == "Lumière du jour." and t["text"]["de"] == ""
    # The server itself refuses the same file at start-up.
    with pytest.raises(PhotoTipsError):
        load_experiments(path, CATALOG)
    # A broken tip catalog is reported too, and the experiments are checked against the running one.
    (tmp_path / "tips.yaml").write_text("locales: [en]\ntips: {lighting.dark: 5}\n")
    rep = wording_preview(str(tmp_path / "tips.yaml"), str(paths.CONTENT / "experiments.yaml"), CATALOG, utcnow())
    messages = [p["message"] for p in rep["problems"]]
    assert {p["file"] for p in rep["problems"]} == {"tips"} and len(messages) > 7  # one entry per problem
    assert "no tip for aspect 'angle'" in messages and "tips.lighting.dark: expected a mapping, got 5" in messages
    (tmp_path / "broken.yaml").write_text("experiments: [\n")
    rep = wording_preview(str(paths.CONTENT / "tips.yaml"), str(tmp_path / "broken.yaml"), CATALOG, utcnow())
    assert len(rep["problems"]) == 1 and "broken.yaml" in rep["problems"][0]["message"]
    assert str(tmp_path) not in rep["problems"][0]["message"] and rep["files"]["experiments"] == "broken.yaml"
    (tmp_path / "tips.yaml").write_text("locales: 5\ntips: {a.b: {aspect: [x], problem: {y: 1}}}\n")
    rep = wording_preview(str(tmp_path / "tips.yaml"), str(paths.CONTENT / "experiments.yaml"), CATALOG, utcnow())
    messages = [p["message"] for p in rep["problems"]]
    assert "locales: expected a list of locale codes such as [en, fr, de], got 5" in messages
    assert "tips.a.b: unknown aspect \"['x']\"" in messages
    (tmp_path / "shapes.yaml").write_text("event_types: 5\nexperiments: 5\n")
    rep = wording_preview(str(paths.CONTENT / "tips.yaml"), str(tmp_path / "shapes.yaml"), CATALOG, utcnow())
    assert [p["message"] for p in rep["problems"]] == ["event_types: list the outcome events the app may report",
                                                      "experiments: expected a list of experiments, got 5"]
