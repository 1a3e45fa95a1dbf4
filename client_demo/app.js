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
  const refOfPhoto = new Map(); // photo_id -> ref
  let nextRef = 1;

  const $ = (sel) => document.querySelector(sel);
  const status = $("#status");
  socket.on("connect", () => { status.dataset.state = "online"; status.textContent = "live"; });
  socket.on("disconnect", () => { status.dataset.state = "offline"; status.textContent = "offline"; });
  socket.on("connect_error", (err) => {
    status.dataset.state = "offline";
    status.textContent = (err.data && err.data.message) || "offline";
  });

  $("#photo-input").addEventListener("change", (ev) => {
    for (const file of ev.target.files) send(file);
    ev.target.value = "";
  });

  function send(file) {
    const ref = String(nextRef++);
    const tile = $("#photo-template").content.firstElementChild.cloneNode(true);
    tile.dataset.ref = ref;
    tile.querySelector("img").src = URL.createObjectURL(file);
    $("#photos").appendChild(tile);
    tiles.set(ref, tile);
    file.arrayBuffer().then((image) => emitPhoto({
      listing_id: listingId, ref, image,
      item_type: $("#item-type").value, locale: $("#locale").value,
    }, tile, 0));
  }

  // A busy server answers at once with `busy` and when to come back: wait (longer each time, with
  // jitter so a crowd of phones does not come back together) and send the photo again.
  const MAX_TRIES = 6;
  function emitPhoto(payload, tile, attempt) {
    socket.timeout(30000).emit("photo", payload, (err, ack) => {
      if (err) return fail(tile, "The server did not answer. Try again.");
      if (ack.error && ack.error.code === "busy" && attempt + 1 < MAX_TRIES) {
        tile.dataset.state = "waiting";
        tile.querySelector(".summary").textContent = "Busy right now, trying again…";
        document.body.dataset.retries = String(Number(document.body.dataset.retries || 0) + 1);
        const wait = Math.min(8, (ack.error.retry_after || 1) * 2 ** attempt) * (0.5 + Math.random());
        return setTimeout(() => emitPhoto(payload, tile, attempt + 1), wait * 1000);
      }
      if (ack.error) return fail(tile, ack.error.message);
      tile.dataset.photoId = ack.photo_id;
      refOfPhoto.set(ack.photo_id, payload.ref);
    });
  }

  function fail(tile, message) {
    tile.dataset.state = "error";
    tile.querySelector(".summary").textContent = message;
    tile.querySelector(".badge").textContent = "!";
  }

  function show(msg, state) {
    const tile = tiles.get(String(msg.ref));
    if (!tile) return;
    refOfPhoto.set(msg.photo_id, String(msg.ref));
    tile.dataset.photoId = msg.photo_id;
    if (msg.error) return fail(tile, msg.error.message);
    tile.dataset.state = state;
    tile.querySelector(".badge").textContent = msg.rating + "/5";
    tile.querySelector(".summary").textContent = msg.justification;
    const list = tile.querySelector(".tips");
    list.replaceChildren(...msg.tips.map((tip) => {
      const li = document.createElement("li");
      li.textContent = tip.text;
      li.dataset.tip = tip.id;
      return li;
    }));
  }

  socket.on("tips", (msg) => show(msg, "tips"));
  socket.on("score", (msg) => show(msg, "scored"));
  socket.on("hero", (msg) => {
    if (msg.listing_id !== listingId) return;
    for (const tile of tiles.values()) {
      const isHero = tile.dataset.photoId === msg.hero;
      tile.classList.toggle("hero", isHero);
      tile.querySelector(".hero-mark").hidden = !isHero;
    }
    const top = msg.ranking[0];
    const note = $("#hero-note");
    note.hidden = !top;
    if (top) note.textContent = "★ Suggested first photo: " + top.reasons.join(" ");
    document.body.dataset.hero = msg.hero || "";
  });
})();
