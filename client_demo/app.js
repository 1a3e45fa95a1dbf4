// Photo Tips demo: a seller's listing screen. Each photo goes to the server over
// Socket.IO; the photo check's tips come back at once, the final score and the
// listing's hero suggestion follow.
(function () {
  "use strict";
  const listingId = "demo-" + Math.random().toString(36).slice(2, 10);
  // A seller id that survives reloads, so the A/B assignment stays the same for this browser.
  const sellerId = localStorage.getItem("phototips-seller") || "demo-seller-" + Math.random().toString(36).slice(2, 10);
  localStorage.setItem("phototips-seller", sellerId);
  // The seller's token: given by the app (?token=…), or, on a development server with no API key,
  // from its /dev/token route. Asked again at every (re)connection, so an expired one is replaced.
  const given = new URLSearchParams(location.search).get("token");
  async function sellerToken() {
    if (given) return given;
    const r = await fetch("/dev/token?seller=" + encodeURIComponent(sellerId));
    if (!r.ok) throw new Error("open this page with ?token=<seller token>");
    return (await r.json()).token;
  }
  const socket = io({
    transports: ["websocket", "polling"],
    auth: (cb) => sellerToken().then((token) => cb({ token }), () => cb({})),
  });
  const tiles = new Map(); // ref -> tile element
  let nextRef = 1;

  const $ = (sel) => document.querySelector(sel);
  const status = $("#status");

  // The page's own words come from the server's content file (content/ui.yaml) in the seller's language,
  // which the browser suggests and the language menu changes.
  let words = {};
  let aspectNames = {};
  // Until the first answer (and should it fail): the words the server's own English would give.
  const ENGLISH = { status_live: "live", status_offline: "offline", status_connecting: "connecting…",
                    uploading: "Uploading…", checking: "Checking your photo…", retry: "Try again",
                    error_server: "Something went wrong on our side. Try again.",
                    error_other: "This photo could not be used.",
                    score_failed: "The full score is not available right now; the tips above stand.",
                    no_answer: "The server did not answer. Try again.", busy_retry: "Busy right now, trying again…",
                    show_where: "Show where", hero_note: "★ Suggested first photo:",
                    not_judged: "not checked on this photo" };
  const t = (key) => words[key] || ENGLISH[key] || key;
  // Words the server has not sent (yet, or at all) leave the page's own English in place, never a bare key.
  const known = (key) => words[key] || ENGLISH[key];
  function applyWords(root) {
    for (const el of root.querySelectorAll("[data-ui]")) if (known(el.dataset.ui)) el.textContent = t(el.dataset.ui);
    for (const el of root.querySelectorAll("[data-ui-label]")) {
      if (known(el.dataset.uiLabel)) el.setAttribute("aria-label", t(el.dataset.uiLabel));
    }
    for (const el of root.querySelectorAll("[data-ui-alt]")) {
      const tile = el.closest(".photo");
      el.alt = (known(el.dataset.uiAlt) || "Your photo") + (tile && tile.dataset.ref ? " " + tile.dataset.ref : "");
    }
  }
  // A server error in the seller's words: by its code from content/ui.yaml, else whether trying again may help.
  const errorText = (error) => words["error_" + error.code] || t(error.retryable ? "error_server" : "error_other");
  async function useLocale(locale) {
    const r = await fetch("/v1/interface-text?locale=" + encodeURIComponent(locale));
    if (!r.ok) return;
    const body = await r.json();
    words = body.text;
    aspectNames = body.aspects;
    for (const item of document.querySelectorAll(".checklist li")) {
      item.querySelector(".name").textContent = aspectNames[item.dataset.aspect] || item.dataset.aspect;
    }
    document.documentElement.lang = locale;
    applyWords(document);
    for (const tpl of document.querySelectorAll("template")) applyWords(tpl.content);
    for (const b of document.querySelectorAll(".show-where")) b.textContent = t("show_where");
    status.textContent = t({ online: "status_live", offline: "status_offline" }[status.dataset.state] || "status_connecting");
    document.body.dataset.locale = locale;
  }
  const suggested = (navigator.language || "en").slice(0, 2);
  if ([...$("#locale").options].some((o) => o.value === suggested)) $("#locale").value = suggested;
  useLocale($("#locale").value);
  $("#locale").addEventListener("change", (ev) => useLocale(ev.target.value));

  let connectedBefore = false;
  socket.on("connect", () => {
    status.dataset.state = "online";
    status.textContent = t("status_live");
    if (connectedBefore) resume();
    connectedBefore = true;
  });
  // Back after a lost connection (or on another server): photos that got no answer go again; the listing's
  // stored photos come back with their scores (their events may have gone to the old connection), and any
  // photo it no longer holds (an in-memory listing lost in a restart) is sent again, so the hero counts all.
  let resumes = 0; // only the latest resume's answer counts
  function resume(attempt = 0) {
    const all = [...tiles.values()];
    for (const tile of all) {
      if (tile.dataset.state === "error" && tile.dataset.retry === "auto" && !tile.inFlight) {
        emitPhoto(tile.payload, tile, 0);
      }
    }
    const stored = all.filter((tile) => tile.dataset.photoId && tile.payload && !tile.inFlight);
    if (!stored.length) return;
    const mine = ++resumes;
    const again = (seconds) => setTimeout(() => { if (socket.connected && mine === resumes) resume(attempt + 1); },
                                          Math.min(30, seconds * 2 ** attempt) * 1000);
    socket.timeout(ACK_TIMEOUT_MS).emit("resume", {
      listing_id: listingId, locale: $("#locale").value,
      photos: stored.map((tile) => ({ photo_id: tile.dataset.photoId, ref: tile.dataset.ref })),
    }, (err, ack) => {
      if (mine !== resumes) return;
      if (err) return again(2);
      if (ack.error) return ack.error.retryable ? again(ack.error.retry_after || 2) : null;
      // Sent again only what the listing says it does not hold, and only tiles still on the page.
      const missing = new Set(ack.missing);
      for (const tile of stored) {
        if (missing.has(tile.dataset.photoId) && tiles.get(tile.dataset.ref) === tile && !tile.inFlight) {
          emitPhoto(tile.payload, tile, 0);
        }
      }
      document.body.dataset.resumeFound = String(ack.found.length);
      document.body.dataset.resumeMissing = String(ack.missing.length);
      document.body.dataset.resumed = String(Number(document.body.dataset.resumed || 0) + 1);
    });
  }
  socket.on("disconnect", (reason) => {
    status.dataset.state = "offline";
    status.textContent = t("status_offline");
    // The server closes a connection whose token expired; connect again, asking for a fresh token.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", (err) => {
    status.dataset.state = "offline";
    status.textContent = (err.data && words["error_" + err.data.code]) || t("status_offline");
  });

  $("#photo-input").addEventListener("change", (ev) => {
    for (const file of ev.target.files) send(file);
    ev.target.value = "";
  });

  function send(file, replacesScore) {
    const ref = String(nextRef++);
    const tile = $("#photo-template").content.firstElementChild.cloneNode(true);
    tile.dataset.ref = ref;
    if (replacesScore !== undefined) tile.dataset.replaces = replacesScore;
    tile.querySelector("img").src = URL.createObjectURL(file);
    applyWords(tile);
    $("#photos").appendChild(tile);
    tiles.set(ref, tile);
    const summary = tile.querySelector(".summary");
    summary.id = "summary-" + ref;
    const retry = tile.querySelector(".retry");
    retry.setAttribute("aria-describedby", summary.id); // which photo's "Try again" this is
    retry.addEventListener("click", () => {
      emitPhoto(tile.payload, tile, 0);
      summary.focus(); // the button hides while the photo goes; keep the reader's place on its tile
    });
    file.arrayBuffer().then((image) => {
      tile.image = image;
      tile.payload = { listing_id: listingId, ref, image, item_type: $("#item-type").value, locale: $("#locale").value };
      emitPhoto(tile.payload, tile, 0);
    });
  }

  // A photo's states: uploading → checking (accepted) → tips (instant tips) → scored; or waiting (busy, sent
  // again by itself), or error, with "Try again" when the server says trying again may help (`retryable`).
  function setState(tile, state, words) {
    tile.dataset.state = state;
    tile.setAttribute("aria-busy", String(["uploading", "checking", "waiting"].includes(state)));
    tile.querySelector(".retry").hidden = true;
    if (words) summarize(tile, words);
  }

  // A busy server answers at once with `busy` and when to come back: wait (longer each time, with
  // jitter so a crowd of phones does not come back together) and send the photo again.
  const MAX_TRIES = 6;
  // How long a photo waits for the server's acknowledgement before the seller may send it again (tests shorten it).
  const ACK_TIMEOUT_MS = window.PHOTOTIPS_ACK_TIMEOUT_MS || 30000;
  function emitPhoto(payload, tile, attempt) {
    if (attempt === 0) {
      setState(tile, "uploading", t("uploading"));
      delete tile.dataset.photoId; // a new copy gets a new id; events for the old one are ignored
    }
    tile.inFlight = true;
    socket.timeout(ACK_TIMEOUT_MS).emit("photo", payload, (err, ack) => {
      tile.inFlight = false;
      if (err) return fail(tile, t("no_answer"), "auto");
      if (ack.error && ack.error.code === "busy" && attempt + 1 < MAX_TRIES) {
        setState(tile, "waiting", t("busy_retry"));
        document.body.dataset.retries = String(Number(document.body.dataset.retries || 0) + 1);
        const wait = Math.min(8, (ack.error.retry_after || 1) * 2 ** attempt) * (0.5 + Math.random());
        return setTimeout(() => emitPhoto(payload, tile, attempt + 1), wait * 1000);
      }
      if (ack.error) return fail(tile, errorText(ack.error), ack.error.retryable ? "button" : "");
      tile.dataset.photoId = ack.photo_id;
      if (tile.dataset.state === "uploading") setState(tile, "checking", t("checking"));
    });
  }

  // A tile's summary is the page's own words ("checking…") only until the server says something.
  function summarize(tile, text) {
    const summary = tile.querySelector(".summary");
    summary.removeAttribute("data-ui");
    summary.textContent = text;
  }

  // retry: "auto" (no answer: sent again on reconnection, or by the button), "button", or "" (the photo's fault).
  function fail(tile, message, retry) {
    setState(tile, "error", message);
    tile.dataset.retry = retry || "";
    tile.querySelector(".retry").hidden = !retry || !tile.payload;
    tile.querySelector(".badge").textContent = "!";
  }

  function show(msg, state) {
    const tile = tiles.get(String(msg.ref));
    if (!tile || (tile.dataset.photoId && msg.photo_id !== tile.dataset.photoId)) return; // an older copy's events
    tile.dataset.photoId = msg.photo_id;
    if (msg.error && tile.dataset.state === "tips") {
      // The instant tips are in and the photo is in the listing: the final score failing changes neither.
      return summarize(tile, tile.querySelector(".summary").textContent + " " + t("score_failed"));
    }
    if (msg.error) return fail(tile, errorText(msg.error), msg.error.retryable ? "button" : "");
    setState(tile, state);
    tile.querySelector(".badge").textContent = msg.rating + "/5";
    tile.dataset.score = msg.score;
    summarize(tile, msg.justification);
    // The seven aspects at a glance: to improve where a tip was shown, not ticked where the check could not
    // judge it on this photo (no item found, clutter), fine elsewhere.
    const flagged = new Set(msg.tips.map((tip) => tip.aspect));
    tile.querySelector(".checklist").replaceChildren(...Object.keys(msg.aspects || {}).map((aspect) => {
      const item = document.createElement("li");
      const kind = flagged.has(aspect) ? "improve" : msg.aspects[aspect].source === "not_judged" ? "unjudged" : "good";
      item.dataset.aspect = aspect;
      item.className = kind;
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = { improve: "✗", unjudged: "–", good: "✓" }[kind];
      mark.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = aspectNames[aspect] || aspect;
      item.append(mark, name);
      item.setAttribute("aria-label", name.textContent + ": " + (kind === "unjudged" ? t("not_judged") : mark.textContent));
      if (kind === "unjudged") item.title = t("not_judged");
      return item;
    }));
    const layer = tile.querySelector(".where-layer");
    layer.replaceChildren();
    const list = tile.querySelector(".tips");
    list.replaceChildren(...msg.tips.map((tip) => {
      const li = document.createElement("li");
      li.dataset.tip = tip.id;
      const text = document.createElement("span");
      text.textContent = tip.text;
      li.appendChild(text);
      const finding = msg.aspects && msg.aspects[tip.aspect];
      const shape = finding && finding.geometry && where(finding.geometry, tip.aspect);
      if (shape) {
        layer.appendChild(shape);
        const button = document.createElement("button");
        button.type = "button";
        button.className = "show-where";
        button.textContent = t("show_where");
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", () => {
          const on = button.getAttribute("aria-pressed") !== "true";
          button.setAttribute("aria-pressed", String(on));
          shape.classList.toggle("on", on);
        });
        li.appendChild(button);
      }
      return li;
    }));
  }

  // Where a finding is, drawn over the photo in its own coordinates (fractions of width and height).
  const SVG = "http://www.w3.org/2000/svg";
  function svg(name, attrs) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }
  const EDGES = { top: [0, 0, 1, 0], bottom: [0, 1, 1, 1], left: [0, 0, 0, 1], right: [1, 0, 1, 1] };
  function where(geometry, aspect) {
    const g = svg("g", { class: "where", "data-aspect": aspect });
    if (geometry.box && aspect !== "visibility") {
      const [x0, y0, x1, y1] = geometry.box;
      g.appendChild(svg("rect", { class: "item-box", x: x0, y: y0, width: x1 - x0, height: y1 - y0 }));
    }
    for (const edge of geometry.cut_edges || []) {
      const [x1, y1, x2, y2] = EDGES[edge];
      g.appendChild(svg("line", { class: "cut-edge", "data-edge": edge, x1, y1, x2, y2 }));
    }
    if (geometry.line) {
      const [x1, y1, x2, y2] = geometry.line;
      g.appendChild(svg("line", { class: "measured-line", x1, y1, x2, y2 }));
      // The level (or plumb) the measured line should follow, through its middle.
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const flat = Math.abs(x2 - x1) >= Math.abs(y2 - y1);
      g.appendChild(svg("line", flat ? { class: "level-line", x1: 0, y1: my, x2: 1, y2: my }
                                     : { class: "level-line", x1: mx, y1: 0, x2: mx, y2: 1 }));
    }
    const grid = geometry.grid;
    if (grid) {
      const w = 1 / grid.cols, h = 1 / grid.rows;
      for (let i = 0; i < grid.rows * grid.cols; i++) {
        const x = (i % grid.cols) * w, y = Math.floor(i / grid.cols) * h;
        const heat = [["clipped", grid.clipped && grid.clipped[i]], ["dark", grid.dark && grid.dark[i]],
                      ["soft", grid.detail && grid.detail[i] < 0.25 ? 1 - grid.detail[i] : 0]];
        for (const [kind, share] of heat) {
          if (share > 0.05) {
            g.appendChild(svg("rect", { class: "heat " + kind, x, y, width: w, height: h,
                                        "fill-opacity": Math.min(0.75, share).toFixed(2) }));
          }
        }
      }
    }
    return g.childElementCount ? g : null;
  }

  socket.on("tips", (msg) => show(msg, "tips"));
  socket.on("score", (msg) => { show(msg, "scored"); offerFix(msg); });

  // What pixels can fix (a tilt, a loose crop, a dark exposure): ask the server for corrected previews; it
  // offers only those its photo check scores higher. One tap sends the corrected photo instead.
  const FIXABLE = new Set(["angle.tilted", "framing.too_small", "framing.off_centre", "lighting.too_dark",
                           "lighting.flat"]);
  function offerFix(msg) {
    const tile = tiles.get(String(msg.ref));
    if (!tile || !tile.image || tile.dataset.fixAsked || !msg.tips) return;
    if (!msg.tips.some((tip) => FIXABLE.has(tip.aspect + "." + tip.problem))) return;
    tile.dataset.fixAsked = "1";
    tile.dataset.score = msg.score;
    socket.timeout(30000).emit("fix", { image: tile.image, ref: String(msg.ref), locale: $("#locale").value,
                                        item_type: $("#item-type").value }, (err, ack) => {
      if (err || ack.error || !ack.fixes.length) return;
      const best = ack.fixes[0];
      const box = tile.querySelector(".fix");
      const fixed = new Blob([best.image], { type: "image/jpeg" });
      box.querySelector(".before").src = tile.querySelector(".thumb img").src;
      box.querySelector(".after").src = URL.createObjectURL(fixed);
      box.querySelector(".fix-note").textContent =
        t("fix_" + best.fix) + ": " + best.score_before.toFixed(1) + " → " + best.score_after.toFixed(1) + "/5";
      box.dataset.fix = best.fix;
      box.hidden = false;
      box.querySelector(".use-fix").onclick = () => {
        tile.remove();
        tiles.delete(tile.dataset.ref);
        send(new File([fixed], "fixed-" + best.fix + ".jpg", { type: "image/jpeg" }), tile.dataset.score);
      };
    });
  }
  // The seller may disagree with the suggestion: drag a photo to the top, or press its "first photo" button
  // (the same without a pointer). The page tells the server which photo the seller kept first, an outcome
  // product teams analyse like the others (hero_kept / hero_changed).
  let suggestedHero = null;
  let eventCount = 0;
  function chooseHero(tile) {
    const list = $("#photos");
    list.insertBefore(tile, list.firstElementChild);
    for (const t of tiles.values()) t.classList.toggle("chosen", t === tile);
    const photoId = tile.dataset.photoId;
    if (!photoId) return;
    const type = photoId === suggestedHero ? "hero_kept" : "hero_changed";
    sellerToken().then((token) => fetch("/v1/events", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ event_id: listingId + "-hero-" + (++eventCount), listing_id: listingId, type,
                             photo_id: photoId }),
    })).then((r) => { document.body.dataset.heroEvent = r.ok ? type : "failed"; },
              () => { document.body.dataset.heroEvent = "failed"; });
    tile.querySelector(".make-hero").focus();
  }
  $("#photos").addEventListener("click", (ev) => {
    const button = ev.target.closest(".make-hero");
    if (button) chooseHero(button.closest(".photo"));
  });
  let dragged = null;
  $("#photos").addEventListener("dragstart", (ev) => { dragged = ev.target.closest(".photo"); });
  $("#photos").addEventListener("dragover", (ev) => ev.preventDefault());
  $("#photos").addEventListener("drop", (ev) => {
    ev.preventDefault();
    const target = ev.target.closest(".photo");
    if (!dragged || !target || target === dragged) return;
    // Dropped on the first photo: this one becomes the first; elsewhere it moves before the target.
    if (target === $("#photos").firstElementChild) chooseHero(dragged);
    else $("#photos").insertBefore(dragged, target);
    dragged = null;
  });

  socket.on("hero", (msg) => {
    if (msg.listing_id !== listingId || msg.error) return; // no new ranking: the last one stays
    suggestedHero = msg.hero;
    for (const tile of tiles.values()) {
      const isHero = tile.dataset.photoId === msg.hero;
      tile.classList.toggle("hero", isHero);
      tile.querySelector(".hero-mark").hidden = !isHero;
    }
    const top = msg.ranking[0];
    const note = $("#hero-note");
    note.hidden = !top;
    if (top) note.textContent = t("hero_note") + " " + top.reasons.join(" ");
    document.body.dataset.hero = msg.hero || "";
    document.body.dataset.ranked = String(msg.ranking.length);
  });
})();
