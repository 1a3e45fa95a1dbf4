"""The demo page in real headless Chromium: a seller adds photos, sees tips appear, sees the hero marked."""

import os
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

import photos

CHROMIUM = os.environ.get("PHOTOTIPS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def test_seller_adds_photos_sees_tips_and_hero(server, photo_files, browser, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    expect(page.locator("#status")).to_have_text("live", timeout=15000)
    page.select_option("#locale", "fr")

    page.set_input_files("#photo-input", [str(photo_files["coffee"]), str(photo_files["astronaut"])])
    tiles = page.locator(".photo")
    expect(tiles).to_have_count(2)
    for i in range(2):
        tile = tiles.nth(i)
        expect(tile).to_have_attribute("data-state", "scored", timeout=20000)
        expect(tile.locator(".tips li").first).to_be_visible()
        expect(tile.locator(".badge")).to_have_text(__import__("re").compile(r"^[1-5]/5$"))
    # French wording reached the page.
    expect(tiles.nth(0).locator(".summary")).to_contain_text("améliorer")

    hero = page.locator(".photo.hero")
    expect(hero).to_have_count(1, timeout=20000)
    expect(hero.locator(".hero-mark")).to_be_visible()
    expect(page.locator("#hero-note")).to_contain_text("★")
    hero_id = page.evaluate("document.body.dataset.hero")
    assert hero_id.startswith("ph_")
    assert hero.get_attribute("data-photo-id") == hero_id

    # A broken file shows an error on its own tile and leaves the others as they were.
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    page.set_input_files("#photo-input", [str(broken)])
    expect(tiles).to_have_count(3)
    expect(tiles.nth(2)).to_have_attribute("data-state", "error", timeout=15000)
    expect(tiles.nth(2).locator(".summary")).to_contain_text("not an image")
    expect(page.locator(".photo.hero")).to_have_count(1)
    expect(tiles.nth(0)).to_have_attribute("data-state", "scored")

    page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
    if os.environ.get("PHOTOTIPS_SCREENSHOT"):
        shutil.copy(tmp_path / "demo.png", os.environ["PHOTOTIPS_SCREENSHOT"])
    assert not errors, errors


def test_experiment_report_page(server, browser):
    dark = photos.encode(photos.darker(photos.sample("coffee")))
    token = requests.get(server.url + "/dev/token", params={"seller": "page-seller"}, timeout=10).json()["token"]
    requests.post(server.url + "/v1/score", files={"photo": ("d.jpg", dark)},
                  headers={"Authorization": "Bearer " + token}, timeout=30)
    page = browser.new_page(viewport={"width": 900, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/experiments?id=dark-photos-2026-12")
    expect(page.locator("body")).to_have_attribute("data-loaded", "dark-photos-2026-12", timeout=15000)
    expect(page.locator("#variants tbody tr")).to_have_count(2)
    expect(page.locator("#variants tbody tr[data-variant=control] td").first).to_contain_text("control")
    expect(page.locator("#verdict")).to_contain_text("data")
    sellers = int(page.locator("#variants tbody tr td:nth-child(3)").nth(0).inner_text()) + \
        int(page.locator("#variants tbody tr td:nth-child(3)").nth(1).inner_text())
    assert sellers >= 1
    page.select_option("#experiment", "clutter-wording-2026-12")
    expect(page.locator("body")).to_have_attribute("data-loaded", "clutter-wording-2026-12", timeout=15000)
    if os.environ.get("PHOTOTIPS_SCREENSHOT"):
        page.goto(server.url + "/experiments?id=dark-photos-2026-12")
        expect(page.locator("body")).to_have_attribute("data-loaded", "dark-photos-2026-12", timeout=15000)
        page.screenshot(path=os.environ["PHOTOTIPS_SCREENSHOT"].replace(".png", "-experiments.png"), full_page=True)
    assert not errors, errors


def test_a_busy_server_makes_the_page_wait_and_send_again(browser, photo_files, tmp_path):
    """One photo-check worker, no queue, and another client flooding it: the page is told `busy`, waits,
    sends again, and every photo ends up scored."""
    import threading

    from conftest import ServerProcess

    srv = ServerProcess({"PHOTOTIPS_CPU_WORKERS": "1", "PHOTOTIPS_CPU_QUEUE": "0", "PHOTOTIPS_LOG_LEVEL": "WARNING",
                         "PHOTOTIPS_RATE_UPLOADS": "100000/minute", "PHOTOTIPS_RATE_UPLOADS_CLIENT": "100000/minute"},
                        tmp_path)
    stop = threading.Event()
    flood_photo = photo_files["rocket"].read_bytes()

    def flood():
        while not stop.is_set():
            requests.post(srv.url + "/v1/score", files={"photo": ("f.jpg", flood_photo)}, timeout=30)

    flooders = [threading.Thread(target=flood) for _ in range(3)]
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/")
        expect(page.locator("#status")).to_have_text("live", timeout=15000)
        for t in flooders:
            t.start()
        page.set_input_files("#photo-input", [str(photo_files[n]) for n in photos.SAMPLES])
        tiles = page.locator(".photo")
        expect(tiles).to_have_count(4)
        page.wait_for_function("Number(document.body.dataset.retries || 0) >= 1", timeout=20000)
        stop.set()
        for i in range(4):
            expect(tiles.nth(i)).to_have_attribute("data-state", "scored", timeout=60000)
        assert requests.get(srv.url + "/healthz", timeout=5).json()["workers"]["busy"] >= 1
        assert not errors, errors
    finally:
        stop.set()
        for t in flooders:
            if t.is_alive():
                t.join(30)
        srv.stop()


SCREENS = os.environ.get("PHOTOTIPS_SCREENS_DIR")  # scripts/screens.sh sets docs/screens


def screenshot(page, name: str, tmp_path) -> None:
    out = (Path(SCREENS) if SCREENS else tmp_path) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)])
def test_a_tip_shows_where_on_the_photo(server, browser, tmp_path, width, height):
    """A cut-off item gets red frame edges, a tilted photo the measured line and a level line, on demand."""
    from test_realset import real, rgb_of

    from phototips.study.degrade import tilted

    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    expect(page.locator("#status")).to_have_text("live", timeout=15000)
    cut, tilt = tmp_path / "cut.jpg", tmp_path / "tilted.jpg"
    cut.write_bytes(real("clothing-bc492f26.jpg"))
    tilt.write_bytes(photos.encode(tilted(rgb_of("clothing-d3ed319e.jpg"), 0.8)))
    page.set_input_files("#photo-input", [str(cut), str(tilt)])
    tiles = page.locator(".photo")
    expect(tiles).to_have_count(2)
    for i in range(2):
        expect(tiles.nth(i)).to_have_attribute("data-state", "scored", timeout=20000)

    cut_tip = tiles.nth(0).locator('li[data-tip="visibility.cut_off"]')
    expect(cut_tip).to_have_count(1)
    edges = tiles.nth(0).locator('.where[data-aspect="visibility"] .cut-edge')
    assert edges.count() >= 1
    assert page.evaluate("getComputedStyle(document.querySelector('.where[data-aspect=\"visibility\"]')).display") == "none"
    cut_tip.locator("button.show-where").click()
    expect(cut_tip.locator("button.show-where")).to_have_attribute("aria-pressed", "true")
    shown = page.evaluate("""() => [...document.querySelectorAll('.where.on .cut-edge')].map(e => {
        const s = getComputedStyle(e); return [e.dataset.edge, s.stroke, getComputedStyle(e.parentNode).display]; })""")
    assert shown and all(stroke == "rgb(224, 0, 0)" and display != "none" for _, stroke, display in shown)

    tilt_tip = tiles.nth(1).locator('li[data-tip="angle.tilted"]')
    expect(tilt_tip).to_have_count(1)
    tilt_tip.locator("button.show-where").click()
    level = tiles.nth(1).locator(".where.on .level-line")
    expect(level).to_have_count(1)
    expect(tiles.nth(1).locator(".where.on .measured-line")).to_have_count(1)
    # The layer lies exactly over the photo, so fractions of the photo land on the photo.
    expect(tiles.nth(1).locator(".thumb img")).to_have_js_property("complete", True)
    # Measured in one go: a fix offer appearing elsewhere moves the tiles between two separate calls.
    gaps = page.evaluate("""() => {
        const tile = document.querySelectorAll('.photo')[1];
        const a = tile.querySelector('.thumb img').getBoundingClientRect();
        const b = tile.querySelector('.where-layer').getBoundingClientRect();
        return [a.x - b.x, a.y - b.y, a.width - b.width, a.height - b.height]; }""")
    assert all(abs(g) < 1 for g in gaps), gaps
    assert not page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    screenshot(page, f"where-{width}x{height}.png", tmp_path)
    assert not errors


def test_a_french_seller_reads_the_whole_page_in_french(server, browser, photo_files, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page.goto(server.url + "/")
    # The browser says French: the page starts in French, from content/ui.yaml.
    expect(page.locator("#locale")).to_have_value("fr")
    expect(page.locator("h1")).to_have_text("Mettre un article en vente")
    expect(page.locator("#status")).to_have_text("en direct", timeout=15000)
    expect(page.locator('[data-ui="item_question"]')).to_have_text("Que vendez-vous ?")
    expect(page.locator('[data-ui="add_photos"]')).to_have_text("+ Prendre ou choisir des photos")
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.set_input_files("#photo-input", [str(photo_files["coffee"])])
    tile = page.locator(".photo").first
    expect(tile).to_have_attribute("data-state", "scored", timeout=20000)
    expect(tile.locator(".summary")).to_contain_text("améliorer")
    # German on demand: the words change in place, the photo stays.
    page.select_option("#locale", "de")
    expect(page.locator("h1")).to_have_text("Artikel einstellen")
    expect(page.locator('[data-ui="item_question"]')).to_have_text("Was verkaufen Sie?")
    # The checklist names all seven aspects in the page's language; aspects with a tip are marked.
    checklist = tile.locator(".checklist li")
    expect(checklist).to_have_count(7)
    expect(tile.locator('.checklist li[data-aspect="sharpness"] .name')).to_have_text("Schärfe")
    flagged = {t.get_attribute("data-tip").split(".")[0] for t in tile.locator(".tips li").all()}
    marked = {c.get_attribute("data-aspect") for c in tile.locator(".checklist li.improve").all()}
    assert flagged and marked == flagged
    # What the server said about the photo stays (it was said in French); only the page's own words change.
    expect(tile.locator(".summary")).to_contain_text("améliorer")
    screenshot(page, "french-then-german-390x844.png", tmp_path)


def test_interface_text_has_every_key_in_every_locale(server):
    texts = {loc: requests.get(server.url + "/v1/interface-text", params={"locale": loc}, timeout=10).json()["text"]
             for loc in ("en", "fr", "de")}
    assert texts["en"].keys() == texts["fr"].keys() == texts["de"].keys()
    assert texts["fr"]["title"] != texts["en"]["title"]
    french = requests.get(server.url + "/v1/interface-text", params={"locale": "fr"}, timeout=10).json()["aspects"]
    assert list(french) == ["lighting", "sharpness", "resolution", "framing", "visibility", "background", "angle"]
    assert french["lighting"] == "éclairage"
    r = requests.get(server.url + "/v1/interface-text", params={"locale": "xx"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_locale"


def test_a_tilted_photo_is_offered_a_straightened_one_which_scores_higher_once_used(server, browser, tmp_path):
    from test_realset import rgb_of

    from phototips.study.degrade import tilted

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page.goto(server.url + "/")
    expect(page.locator("#status")).to_have_text("live", timeout=15000)
    tilt = tmp_path / "tilted.jpg"
    tilt.write_bytes(photos.encode(tilted(rgb_of("clothing-d3ed319e.jpg"), 0.8)))
    page.set_input_files("#photo-input", [str(tilt)])
    tile = page.locator(".photo").first
    expect(tile).to_have_attribute("data-state", "scored", timeout=20000)
    fix = tile.locator(".fix")
    expect(fix).to_be_visible(timeout=20000)
    expect(fix).to_have_attribute("data-fix", "straighten")
    expect(fix.locator(".fix-note")).to_contain_text("Straightened")
    expect(fix.locator("img.after")).to_have_js_property("complete", True)
    before = float(tile.get_attribute("data-score"))
    screenshot(page, "fix-offer-390x844.png", tmp_path)
    fix.locator(".use-fix").click()
    used = page.locator(".photo[data-replaces]")
    expect(page.locator(".photo")).to_have_count(1)
    expect(used).to_have_attribute("data-state", "scored", timeout=20000)
    assert float(used.get_attribute("data-score")) > before


def test_the_seller_reorders_the_hero_and_the_server_is_told(server, browser, photo_files):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server.url + "/")
    expect(page.locator("#status")).to_have_text("live", timeout=15000)
    page.set_input_files("#photo-input", [str(photo_files["coffee"]), str(photo_files["astronaut"])])
    tiles = page.locator(".photo")
    expect(page.locator(".photo.hero")).to_have_count(1, timeout=20000)
    for i in range(2):
        expect(tiles.nth(i)).to_have_attribute("data-state", "scored", timeout=20000)
    hero_id = page.evaluate("document.body.dataset.hero")
    other = page.locator(f'.photo:not([data-photo-id="{hero_id}"])')
    other_id = other.get_attribute("data-photo-id")
    # Dragged onto the first photo, the other photo becomes the first.
    with page.expect_response("**/v1/events") as answer:
        other.drag_to(tiles.first)
    assert answer.value.status == 200
    body = answer.value.request.post_data_json
    assert body["type"] == "hero_changed" and body["photo_id"] == other_id
    expect(tiles.first).to_have_attribute("data-photo-id", other_id)
    expect(page.locator("body")).to_have_attribute("data-hero-event", "hero_changed")
    # The same with the keyboard: the suggested photo's own button puts it back first, and that is "kept".
    hero_button = page.locator(f'.photo[data-photo-id="{hero_id}"] .make-hero')
    hero_button.focus()
    with page.expect_response("**/v1/events") as answer:
        page.keyboard.press("Enter")
    assert answer.value.request.post_data_json["type"] == "hero_kept"
    expect(tiles.first).to_have_attribute("data-photo-id", hero_id)
    expect(page.locator(f'.photo[data-photo-id="{hero_id}"]')).to_have_class(__import__("re").compile("chosen"))
