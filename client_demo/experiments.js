// The product team's page: one experiment's report drawn with Observable Plot (vendored), the numbers in tables,
// and the tip-wording preview with the content files' problems. Reads /v1/experiments*, no build step.
(function () {
  "use strict";
  const $ = (s, root = document) => root.querySelector(s);
  const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%");
  const signed = (x, d = 2) => (x === null || x === undefined ? "—" : (x >= 0 ? "+" : "") + x.toFixed(d));
  const el = (tag, { dataset, ...props } = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    Object.assign(node.dataset, dataset || {});
    node.append(...children);
    return node;
  };

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

  const metricName = (m) => m.replace(/_/g, " ");

  // ---- charts -------------------------------------------------------------------------------------------------
  function place(figure, chart, emptyText) {
    const plot = $(".plot", figure);
    const empty = $(".empty", figure);
    if (empty) {
      empty.hidden = !!chart;
      empty.textContent = chart ? "" : emptyText;
    }
    plot.replaceChildren(...(chart ? [accessible(chart)] : []));
  }
  // A chart reads as one image named by its label (the tables below hold its numbers); Plot's inner groups carry
  // aria-labels that ARIA does not allow on plain groups, and the legend swatches are decoration beside their text.
  function accessible(chart) {
    for (const svg of [chart, ...chart.querySelectorAll("svg")].filter((n) => n.localName === "svg")) {
      if (svg.hasAttribute("aria-label")) svg.setAttribute("role", "img");
      else svg.setAttribute("aria-hidden", "true");
      for (const node of svg.querySelectorAll("[aria-label], [aria-description]")) {
        node.removeAttribute("aria-label");
        node.removeAttribute("aria-description");
      }
    }
    return chart;
  }
  const STYLE = { fontSize: "12px" };
  // Variant colours with at least 3:1 contrast on white (WCAG 1.4.11); each variant also has its own marker.
  const PALETTE = ["#0a5c8a", "#b54708", "#6a3d9a", "#2e7d32", "#8e2453"];
  const variantScale = (rep) => ({ legend: true, domain: rep.variants.map((v) => v.variant), range: PALETTE });
  const widthOf = (figure) => Math.max(260, $(".plot", figure).clientWidth || figure.clientWidth - 20);

  // Outcomes that some seller of this experiment reported; the others would only draw empty intervals at zero.
  const seen = (rep) => Object.keys(rep.variants[0] ? rep.variants[0].rates : {})
    .filter((m) => rep.variants.some((v) => v.sellers_with[m] > 0));

  function ratesChart(rep, figure) {
    const metrics = seen(rep);
    const rows = [];
    for (const v of rep.variants) {
      for (const m of metrics) {
        const ci = v.rate_ci95[m];
        if (ci) rows.push({ variant: v.variant, metric: metricName(m), rate: v.rates[m], lo: ci[0], hi: ci[1] });
      }
    }
    if (!rows.length) return place(figure, null, "No outcome reported yet.");
    const variants = rep.variants.map((v) => v.variant);
    place(figure, Plot.plot({
      width: widthOf(figure), marginLeft: 90, marginRight: 16, style: STYLE,
      ariaLabel: "Outcome rates per variant with 95% intervals",
      x: { label: "share of sellers (%)", percent: true, domain: [0, 100], grid: true },
      y: { label: null, domain: variants, axis: null },
      fy: { label: null, domain: metrics.map(metricName) },
      color: variantScale(rep),
      symbol: { domain: variants },
      marks: [
        Plot.frame({ stroke: "#dde3e8" }),
        Plot.ruleY(rows, { fy: "metric", y: "variant", x1: "lo", x2: "hi", stroke: "variant", strokeWidth: 2.5,
                           className: "interval" }),
        Plot.dot(rows, { fy: "metric", y: "variant", x: "rate", fill: "variant", symbol: "variant", r: 4.5,
                         className: "rate",
                         title: (d) => `${d.variant}, ${d.metric}: ${pct(d.rate)} (95% interval ${pct(d.lo)} – ${pct(d.hi)})` }),
      ],
    }));
  }

  function diffChart(rep, figure) {
    const rows = [];
    const metrics = seen(rep);
    const treatments = rep.variants.filter((v) => v.vs_control);
    for (const v of treatments) {
      for (const [m, d] of Object.entries(v.vs_control)) {
        if (!d || !metrics.includes(m)) continue; // the score change has another unit: in the table below
        const name = treatments.length > 1 ? `${metricName(m)} · ${v.variant}` : metricName(m);
        rows.push({ label: d.excludes_zero ? name + " ✱" : name, diff: 100 * d.diff, lo: 100 * d.ci95[0],
                    hi: 100 * d.ci95[1], sig: d.excludes_zero, p: d.p_value });
      }
    }
    if (!rows.length) {
      return place(figure, null, "No difference to show yet: it needs sellers in the control and in another variant.");
    }
    const sig = rows.filter((r) => r.sig), plain = rows.filter((r) => !r.sig);
    const interval = (data, stroke) => Plot.ruleY(data, { y: "label", x1: "lo", x2: "hi", stroke, strokeWidth: 2.5,
                                                         className: "interval" });
    const point = (data, fill) => Plot.dot(data, { y: "label", x: "diff", fill, r: 4.5, className: "difference",
      title: (d) => `${d.label}: ${signed(d.diff, 1)} points (95% interval ${signed(d.lo, 1)} to ${signed(d.hi, 1)}, p = ${d.p.toPrecision(2)})` });
    place(figure, Plot.plot({
      width: widthOf(figure), height: 50 + 28 * rows.length, style: STYLE, marginRight: 16,
      marginLeft: 16 + 7 * Math.max(...rows.map((r) => r.label.length)),
      ariaLabel: "Forest plot: each variant's difference from control with 95% intervals",
      x: { label: "points vs control", grid: true },
      y: { label: null, domain: rows.map((r) => r.label) },
      marks: [
        Plot.ruleX([0], { stroke: "#33404a", strokeDasharray: "4 3" }),
        interval(plain, "#0a5c8a"), interval(sig, "#b54708"),
        point(plain, "#0a5c8a"), point(sig, "#b54708"),
      ],
    }));
  }

  function unseenNote(rep) {
    const unseen = Object.keys(rep.variants[0] ? rep.variants[0].rates : {}).filter((m) => !seen(rep).includes(m));
    $("#unseen").textContent = unseen.length
      ? "Not drawn, as no seller in the test has done them yet: " + unseen.map(metricName).join(", ") + "." : "";
  }

  function sellersChart(rep, figure) {
    const t = rep.sellers_over_time;
    const rows = [];
    for (const [variant, counts] of Object.entries(t.cumulative)) {
      counts.forEach((n, i) => rows.push({ variant, day: new Date(t.days[i] + "T00:00:00Z"), sellers: n }));
    }
    if (!rows.length) return place(figure, null, "No seller has been shown a tip of this experiment yet.");
    place(figure, Plot.plot({
      width: widthOf(figure), height: 260, marginLeft: 50, marginRight: 16, style: STYLE,
      ariaLabel: "Cumulative sellers per variant by day",
      x: { label: "day (UTC)", type: "utc" },
      y: { label: "sellers so far", grid: true, zero: true },
      color: variantScale(rep),
      marks: [
        // Steps, not slopes: a day with no new seller stays flat, which is what a logging gap looks like.
        // z named: on a test's first day each variant is one point, and Plot's guess of the series warned.
        Plot.lineY(rows, { x: "day", y: "sellers", z: "variant", stroke: "variant", curve: "step-after",
                           strokeWidth: 2, className: "sellers",
                           title: (d) => `${d.variant}: ${d.sellers} sellers by ${d.day.toISOString().slice(0, 10)}` }),
        // A line needs two days; the dots show the first one too.
        Plot.dot(rows, { x: "day", y: "sellers", fill: "variant", r: 3, className: "sellers-day" }),
      ],
    }));
  }

  // ---- tables: every number the charts draw, for reading and for screen readers ------------------------------
  // On a phone the rows become cards (CSS display: block), which drops a table's own semantics: name them.
  function table(selector, head, rows, emptyText) {
    const t = $(selector);
    t.setAttribute("role", "table");
    const headRow = el("tr", { role: "row" }, ...head.map((h) => el("th", { scope: "col", role: "columnheader",
                                                                              textContent: h })));
    $("thead", t).replaceChildren(headRow);
    if (!rows.length) rows = [[{ text: emptyText, colSpan: head.length, className: "empty" }]];
    $("tbody", t).replaceChildren(...rows.map((cells) => el("tr", { role: "row", dataset: cells.dataset || {} },
      ...cells.map((c, i) => el("td", { role: "cell", colSpan: c.colSpan || 1, className: c.className || "",
                                        dataset: { label: head[i] } },
                                c.text, ...(c.sub ? [el("span", { className: "sub", textContent: c.sub })] : []))))));
  }
  const variantName = (v) => v.variant + (v.control && v.variant !== "control" ? " (control)" : "");

  function tables(rep) {
    const metrics = Object.keys(rep.variants[0] ? rep.variants[0].rates : {});
    const interval = (ci) => (ci ? `${pct(ci[0])}–${pct(ci[1])}` : "");
    table("#variants", ["variant", "share", "sellers", "exposures", ...metrics.map(metricName), "score Δ next photo"],
      rep.variants.map((v) => Object.assign([
        { text: variantName(v) }, { text: pct(v.weight) }, { text: String(v.sellers) }, { text: String(v.exposures) },
        ...metrics.map((m) => ({ text: pct(v.rates[m]), sub: interval(v.rate_ci95[m]) })),
        { text: signed(v.mean_score_change) }], { dataset: { variant: v.variant } })), "");

    const reported = seen(rep);
    const rows = [];
    for (const v of rep.variants) {
      for (const [metric, d] of Object.entries(v.vs_control || {})) {
        if (!d || (metric !== "score_change" && !reported.includes(metric))) continue;
        const scale = metric === "score_change" ? (x) => signed(x) : (x) => signed(100 * x, 1) + " pts";
        rows.push([{ text: v.variant }, { text: metricName(metric) }, { text: scale(d.diff) },
                   { text: scale(d.ci95[0]) + " … " + scale(d.ci95[1]) }, { text: d.p_value.toPrecision(2) },
                   { text: d.excludes_zero ? "yes ✱" : "no", className: d.excludes_zero ? "sig" : "" }]);
      }
    }
    table("#diffs", ["variant", "metric", "difference", "95% interval", "p", "interval excludes 0"], rows,
          "No differences yet: each variant needs sellers before it can be compared with the control.");

    const t = rep.sellers_over_time;
    table("#by-day", ["day (UTC)", ...rep.variants.map((v) => v.variant + ": new / so far")],
      t.days.map((day, i) => [{ text: day },
        ...rep.variants.map((v) => ({ text: `${t.new[v.variant][i]} / ${t.cumulative[v.variant][i]}` }))]),
      "No seller yet.");
  }

  // ---- one experiment -----------------------------------------------------------------------------------------
  let shown = null;
  function draw() {
    if (!shown) return;
    ratesChart(shown, $("#rates-chart"));
    diffChart(shown, $("#diff-chart"));
    sellersChart(shown, $("#sellers-chart"));
    unseenNote(shown);
  }
  async function load(id) {
    const rep = await get("/v1/experiments/" + encodeURIComponent(id) + "/report");
    if ($("#experiment").value !== id) return; // the reader has picked another experiment meanwhile
    $("#description").textContent = rep.description + " Tips: " + rep.tips.join(", ");
    $("#verdict").textContent = rep.verdict;
    $("#verdict").dataset.status = rep.status;
    $("#srm").textContent = rep.srm ? rep.srm.explanation : "No sellers yet: there is no split to check.";
    shown = rep;
    tables(rep);
    draw();
    document.body.dataset.loaded = id;
  }
  let pending = null;
  new ResizeObserver(() => {
    clearTimeout(pending);
    pending = setTimeout(draw, 150);
  }).observe($(".charts"));

  // ---- tip-wording preview ------------------------------------------------------------------------------------
  function wordingCard(tip, locales) {
    const cells = [];
    for (const s of tip.shown) {
      for (const loc of locales) {
        const text = (s.text || {})[loc];
        const who = s.experiment ? `${s.variant}${s.control ? " (control)" : ""} · ${pct(s.weight)}` : "default wording";
        cells.push(el("div", { className: "wording", dataset: { variant: s.variant, locale: loc } },
          el("p", { className: "who", textContent: `${who} · ${loc}` }),
          el("p", { className: "seller-view", lang: loc },
            el("b", { textContent: (tip.aspect_name || {})[loc] || tip.aspect }),
            text ? text : el("span", { className: "missing", textContent: `no ${loc} wording` }))));
      }
    }
    const exps = [...new Set(tip.shown.filter((s) => s.experiment).map((s) => `${s.experiment}${s.active ? " (running)" : ""}`))];
    return el("article", { className: "tip-card", dataset: { tip: tip.id } },
      el("h3", { textContent: tip.id }),
      el("p", { className: "meta", textContent: exps.length ? "In experiment " + exps.join(", ") : "In no experiment" }),
      el("div", { className: "wordings", style: `--locales: ${locales.length}` }, ...cells));
  }
  async function loadWording() {
    const w = await get("/v1/experiments/wording");
    const box = $("#problems");
    box.hidden = w.valid;
    box.replaceChildren(...(w.valid ? [] : [
      el("p", { textContent: `The content files have ${w.problems.length} problem${w.problems.length > 1 ? "s" : ""}; ` +
                             "the server will refuse to start with them:" }),
      el("ul", {}, ...w.problems.map((p) => el("li", { textContent: `${w.files[p.file].split("/").pop()}: ${p.message}` })))]));
    // Tips under test first: they are what the product team edits and reads.
    const tested = (t) => (t.shown.some((s) => s.experiment) ? 0 : 1);
    const tips = [...w.tips].sort((a, b) => tested(a) - tested(b));
    $("#tip-cards").replaceChildren(...tips.map((t) => wordingCard(t, w.locales)));
    document.body.dataset.wording = w.valid ? "valid" : "problems";
  }

  get("/v1/experiments").then(({ experiments }) => {
    const select = $("#experiment");
    select.replaceChildren(...experiments.map((e) => new Option(e.id + (e.active ? "" : " (ended)"), e.id)));
    const wanted = new URLSearchParams(location.search).get("id");
    if (wanted) select.value = wanted;
    select.addEventListener("change", () => load(select.value).catch(refused));
    if (select.value) return load(select.value);
  }).catch(refused);
  loadWording().catch((err) => {
    const box = $("#problems");
    box.hidden = false;
    box.textContent = "The wording preview could not be loaded: " + err.message;
  });
})();
