// Reads /v1/experiments and each experiment's report; renders the per-variant table.
(function () {
  "use strict";
  const $ = (s) => document.querySelector(s);
  const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%");
  const num = (x, d = 2) => (x === null || x === undefined ? "—" : (x >= 0 ? "+" : "") + x.toFixed(d));
  const cell = (text, cls) => { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; };

  // A product team's API key, typed in and kept for this tab only (never in the URL, which servers log);
  // a development server with no key needs none.
  const key = sessionStorage.getItem("phototips-key");
  $("#key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("phototips-key", $("#key").value.trim());
    location.reload();
  });
  async function get(url) {
    const r = await fetch(url, { headers: key ? { Authorization: "Bearer " + key } : {} });
    const body = await r.json();
    if (r.status === 401 || r.status === 403) $("#key-form").hidden = false;
    if (!r.ok) throw new Error(body.error.message);
    return body;
  }
  function refused(err) {
    $("#verdict").textContent = err.message;
    $("#verdict").dataset.status = "error";
  }

  async function load(id) {
    const rep = await get("/v1/experiments/" + encodeURIComponent(id) + "/report");
    $("#description").textContent = rep.description + " Tips: " + rep.tips.join(", ");
    $("#verdict").textContent = rep.verdict;
    $("#verdict").dataset.status = rep.status;
    $("#variants tbody").replaceChildren(...rep.variants.map((v) => {
      const tr = document.createElement("tr");
      tr.dataset.variant = v.variant;
      tr.append(cell(v.variant + (v.control ? " (control)" : "")), cell(pct(v.weight)), cell(v.sellers),
        cell(v.exposures), cell(pct(v.rates.retake)), cell(pct(v.rates.publish)), cell(pct(v.rates.dismiss)),
        cell(pct(v.rates.improved)), cell(num(v.mean_score_change)));
      return tr;
    }));
    const rows = [];
    for (const v of rep.variants) {
      for (const [metric, d] of Object.entries(v.vs_control || {})) {
        if (!d) continue;
        const tr = document.createElement("tr");
        const scale = metric === "score_change" ? (x) => num(x) : (x) => num(100 * x, 1) + " pts";
        tr.append(cell(v.variant), cell(metric), cell(scale(d.diff), d.p_value < 0.05 ? "sig" : ""),
          cell(scale(d.ci95[0]) + " … " + scale(d.ci95[1])), cell(d.p_value.toPrecision(2)));
        rows.push(tr);
      }
    }
    $("#diffs tbody").replaceChildren(...rows);
    $("#srm").textContent = rep.srm
      ? "Sample ratio check: p = " + rep.srm.p_value.toPrecision(2) + (rep.srm.mismatch ? " — MISMATCH" : " — split as configured")
      : "";
    document.body.dataset.loaded = id;
  }

  get("/v1/experiments").then(({ experiments }) => {
    const select = $("#experiment");
    select.replaceChildren(...experiments.map((e) => new Option(e.id + (e.active ? "" : " (ended)"), e.id)));
    const wanted = new URLSearchParams(location.search).get("id");
    if (wanted) select.value = wanted;
    select.addEventListener("change", () => load(select.value).catch(refused));
    if (select.value) return load(select.value);
  }).catch(refused);
})();
