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
  const cell = (label, text, cls) => el("td", { textContent: text, className: cls || "", dataset: { label } });

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
      color: { legend: true, domain: variants },
      marks: [
        Plot.frame({ stroke: "#dde3e8" }),
        Plot.ruleY(rows, { fy: "metric", y: "variant", x1: "lo", x2: "hi", stroke: "variant", strokeWidth: 2.5,
                           className: "interval" }),
        Plot.dot(rows, { fy: "metric", y: "variant", x: "rate", fill: "variant", r: 4, className: "rate",
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
        rows.push({ label: treatments.length > 1 ? `${metricName(m)} · ${v.variant}` : metricName(m),
                    diff: 100 * d.diff, lo: 100 * d.ci95[0], hi: 100 * d.ci95[1], sig: d.p_value < 0.05, p: d.p_value });
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
      width: widthOf(figure), marginLeft: 120, marginRight: 16, height: 50 + 28 * rows.length, style: STYLE,
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
      color: { legend: true, domain: rep.variants.map((v) => v.variant) },
      marks: [
        Plot.lineY(rows, { x: "day", y: "sellers", stroke: "variant", marker: "circle", className: "sellers",
                           title: (d) => `${d.variant}: ${d.sellers} sellers by ${d.day.toISOString().slice(0, 10)}` }),
      ],
    }));
  }

  // ---- tables -------------------------------------------------------------------------------------------------
  function tables(rep) {
    const metrics = Object.keys(rep.variants[0] ? rep.variants[0].rates : {});
    const head = ["variant", "share", "sellers", "exposures", ...metrics.map(metricName), "score Δ next photo"];
    $("#variants thead").replaceChildren(el("tr", {}, ...head.map((h) => el("th", { scope: "col", textContent: h }))));
    $("#variants tbody").replaceChildren(...rep.variants.map((v) => {
      const tr = el("tr", { dataset: { variant: v.variant } },
        cell(head[0], v.variant + (v.control ? " (control)" : "")), cell(head[1], pct(v.weight)),
        cell(head[2], String(v.sellers)), cell(head[3], String(v.exposures)),
        ...metrics.map((m) => cell(metricName(m), pct(v.rates[m]))), cell(head.at(-1), signed(v.mean_score_change)));
      return tr;
    }));
    const rows = [];
    for (const v of rep.variants) {
      for (const [metric, d] of Object.entries(v.vs_control || {})) {
        if (!d) continue;
        const scale = metric === "score_change" ? (x) => signed(x) : (x) => signed(100 * x, 1) + " pts";
        rows.push(el("tr", {}, cell("variant", v.variant), cell("metric", metricName(metric)),
          cell("difference", scale(d.diff), d.p_value < 0.05 ? "sig" : ""),
          cell("95% interval", scale(d.ci95[0]) + " … " + scale(d.ci95[1])), cell("p", d.p_value.toPrecision(2))));
      }
    }
    if (!rows.length) {
      rows.push(el("tr", {}, el("td", { colSpan: 5, className: "empty",
        textContent: "No differences yet: each variant needs sellers before it can be compared with the control." })));
    }
    $("#diffs tbody").replaceChildren(...rows);
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
    loadWording().catch(refused);
    if (select.value) return load(select.value);
  }).catch(refused);
})();
