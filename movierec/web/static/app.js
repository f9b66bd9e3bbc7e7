// movierec demo page. A plain client of the service's own API: /recommend (with
// explain=true: reasons and what a score means) and /feedback for the visitor's actions,
// /api/ab for the live A/B panel, /api/movies and /api/users/<id>/ratings for the
// catalogue. No framework,
// no other origin; every value from the server goes into the page as text, never HTML.
"use strict";

const AB_REFRESH_MS = 3000;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  rec: null, // the last /recommend response: its request_id and token authorise feedback
  variantIndex: new Map(), // variant name -> colour index, in the panel's order
  userIds: [],
};

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// The API's errors are {"error": {"code", "message"}}: surface the message.
async function api(path, options = {}) {
  // Signed in on the Auth emulator (signin.js): the API calls carry the ID token.
  const signedIn = window.movierecSignIn ? window.movierecSignIn.headers() : {};
  const response = await fetch(path, { cache: "no-store", ...options, headers: { ...signedIn, ...options.headers } });
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return { status: response.status, body };
}

const pct = (x, digits = 1) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(digits)}%`);
const signedPct = (x) => (x === null || x === undefined ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`);
const count = (n) => Number(n).toLocaleString("en");

function colourOf(variant) {
  return `v${(state.variantIndex.get(variant) ?? 0) % 4}`;
}

// ------------------------------------------------------------------ header

async function loadHealth() {
  const health = $("#health");
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    const body = await response.json();
    const models = Object.entries(body.models || {})
      .filter(([, m]) => m.version)
      .map(([name, m]) => `${name} ${m.version}`);
    health.textContent = `server ${body.status} · ${models.length} model(s) loaded`;
    health.classList.toggle("bad", body.status !== "ok");
  } catch (_) {
    health.textContent = "server unreachable";
    health.classList.add("bad");
  }
}

async function loadUsers() {
  try {
    const { body } = await api("/api/users");
    state.userIds = body.user_ids;
    const list = $("#known-users");
    list.replaceChildren(...body.user_ids.slice(0, 200).map((id) => el("option", { value: String(id) })));
  } catch (_) {
    state.userIds = [];
  }
  $("#random-user").disabled = state.userIds.length === 0;
}

// ------------------------------------------------------------------ recommendations

async function recommend(userId, topN) {
  const meta = $("#rec-meta");
  meta.replaceChildren("asking…");
  loadHistory(userId);
  try {
    const { body } = await api(`/recommend?user_id=${encodeURIComponent(userId)}&top_n=${topN}&explain=true`);
    state.rec = body;
    renderRecommendations(body);
  } catch (error) {
    state.rec = null;
    $("#recs").replaceChildren();
    $("#score-meaning").textContent = "";
    meta.replaceChildren(el("span", { class: "error" }, error.message));
  }
}

// The user's own ratings in the data the model learnt from, most recent first.
async function loadHistory(userId) {
  const box = $("#history");
  try {
    const { body } = await api(`/api/users/${encodeURIComponent(userId)}/ratings?limit=10`);
    $("#history-title").textContent = body.known
      ? `User ${body.user_id}'s most recent ratings (training data)`
      : `User ${body.user_id} has no ratings in the training data`;
    $("#history-list").replaceChildren(...body.ratings.map((r) => {
      const when = r.ts ? new Date(r.ts * 1000).toISOString().slice(0, 10) : "";
      const detail = el("div", { class: "detail", hidden: "" });
      return el("li", { dataset: { movieId: String(r.movie_id) } },
        titleButton(r.title || `movie ${r.movie_id}`, r.movie_id, detail),
        el("span", { class: "given" }, r.rating === null ? "rated" : `${starGlyphs(r.rating)} ${r.rating}`),
        el("span", { class: "when" }, when), detail);
    }));
    box.hidden = false;
  } catch (_) {
    box.hidden = true;
  }
}

const starGlyphs = (rating) => "★".repeat(Math.round(rating));

// A movie's title: a tap shows (and hides) its genres, year and average rating.
function titleButton(text, movieId, detail, onPick = null) {
  const button = el("button", { class: "title", type: "button", "aria-expanded": "false" }, text);
  button.addEventListener("click", () => {
    if (onPick) onPick();
    const open = detail.hidden;
    detail.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open && !detail.dataset.loaded) showMovie(movieId, detail);
  });
  return button;
}

async function showMovie(movieId, detail) {
  detail.replaceChildren("loading…");
  try {
    const { body } = await api(`/api/movies/${movieId}`);
    const mean = body.mean_rating === null ? "no ratings" : `average ${body.mean_rating.toFixed(2)} ★ from ${count(body.ratings)} ratings`;
    detail.replaceChildren(
      el("span", { class: "year" }, body.year ? String(body.year) : "year unknown"),
      " · ",
      el("span", { class: "mean" }, mean),
      el("div", { class: "genres" }, ...body.genres.map((g) => el("span", { class: "genre" }, g))),
    );
    detail.dataset.loaded = "1";
  } catch (error) {
    detail.replaceChildren(el("span", { class: "error" }, error.message));
  }
}

// "because you rated Fargo 5": the seen movies that weigh most for this one.
function reasonLine(item) {
  if (!item.reasons || item.reasons.length === 0) return null;
  const parts = [];
  item.reasons.forEach((r, i) => {
    if (i > 0) parts.push(i === item.reasons.length - 1 ? " and " : ", ");
    parts.push(el("em", {}, r.title || `movie ${r.movie_id}`));
    if (r.rating !== null) parts.push(` ${r.rating}`);
  });
  return el("p", { class: "reason" }, "because you rated ", ...parts);
}

// "predicted rating (stars)" -> "predicted rating 4.76"; the full meaning is above the list.
function scoreText(item) {
  const meaning = item.score_meaning || "score";
  const digits = meaning.startsWith("number") ? 0 : meaning.startsWith("predicted") ? 2 : 3;
  const label = meaning.startsWith("number") ? "ratings" : meaning.split(/[:(]/)[0].trim();
  return `${label} ${Number(item.score).toFixed(digits)}`;
}

function renderRecommendations(rec) {
  const tag = (text, cls = "tag") => el("span", { class: cls }, text);
  const parts = [
    tag(`user ${rec.user_id}`),
    el("span", { class: "tag", id: "rec-variant" }, el("span", { class: `swatch ${colourOf(rec.variant)}` }), `variant ${rec.variant}`),
    tag(`model ${rec.model.name} ${rec.model.version}`),
    rec.experiment ? tag(`experiment ${rec.experiment}`) : tag("no experiment"),
  ];
  if (rec.fallback) parts.push(tag(`fallback: ${rec.fallback} (unknown user)`));
  if (rec.history && rec.history.source === "feedback") parts.push(tag(`from your ${rec.history.events} latest ratings and clicks`));
  $("#rec-meta").replaceChildren(...parts);
  const meanings = [...new Set(rec.items.map((i) => i.score_meaning).filter(Boolean))];
  $("#score-meaning").textContent = meanings.length ? `Score: ${meanings.join("; ")}` : "";
  $("#recs").replaceChildren(...rec.items.map((item) => movieRow(rec, item)));
}

function movieRow(rec, item) {
  const status = el("span", { class: "feedback-status", role: "status" });
  const row = el("li", { dataset: { movieId: String(item.movie_id), rank: String(item.rank) } });
  const detail = el("div", { class: "detail", hidden: "" });
  const title = titleButton(item.title || `movie ${item.movie_id}`, item.movie_id, detail, async () => {
    if (await sendFeedback(rec, item, "click", null, status)) row.classList.add("clicked");
  });
  title.title = "I pick this one (sends a click)";
  const genres = el("div", { class: "genres" },
    ...(item.genres || "").split("|").filter(Boolean).map((g) => el("span", { class: "genre" }, g)));
  const stars = el("div", { class: "stars", role: "group", "aria-label": `rate ${item.title}` });
  for (let value = 1; value <= 5; value += 1) {
    const star = el("button", { type: "button", title: `rate ${value}`, "aria-label": `rate ${value}`, dataset: { value: String(value) } }, "★");
    star.addEventListener("click", async () => {
      if (await sendFeedback(rec, item, "rating", value, status)) {
        stars.querySelectorAll("button").forEach((b) => b.classList.toggle("on", Number(b.dataset.value) <= value));
      }
    });
    stars.append(star);
  }
  row.append(
    el("span", { class: "rank" }, String(item.rank)),
    el("div", { class: "movie" }, title, genres, reasonLine(item), detail),
    el("div", { class: "side" }, stars,
      el("span", { class: "score", title: item.score_meaning || "" }, scoreText(item)),
      status),
  );
  return row;
}

// A real event: the token of the recommendation authorises it. 201 stored, 200 duplicate.
async function sendFeedback(rec, item, type, value, status) {
  const body = { request_id: rec.request_id, token: rec.token, user_id: rec.user_id, movie_id: item.movie_id, type };
  if (type === "rating") body.value = value;
  status.classList.remove("error");
  try {
    const result = await api("/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const what = type === "click" ? "click" : `rating ${value}`;
    status.textContent = result.status === 201 ? `${what} recorded` : `${what} already recorded`;
    setTimeout(refreshAB, 250);
    return true;
  } catch (error) {
    status.textContent = error.message;
    status.classList.add("error");
    return false;
  }
}

// ------------------------------------------------------------------ title search

async function search(query) {
  const status = $("#search-status");
  status.textContent = "searching…";
  try {
    const { body } = await api(`/api/movies?q=${encodeURIComponent(query)}&limit=20`);
    status.textContent = body.movies.length ? `${body.movies.length} title(s), most rated first` : "no title holds that";
    $("#search-results").replaceChildren(...body.movies.map((m) => {
      const detail = el("div", { class: "detail", hidden: "" });
      return el("li", { dataset: { movieId: String(m.movie_id) } }, titleButton(m.title, m.movie_id, detail), detail);
    }));
  } catch (error) {
    status.textContent = error.message;
    $("#search-results").replaceChildren();
  }
}

// ------------------------------------------------------------------ A/B panel

async function refreshAB() {
  const updated = $("#ab-updated");
  try {
    const { body } = await api("/api/ab");
    renderAB(body);
    updated.textContent = `updated ${new Date(body.computed_at * 1000).toLocaleTimeString()} · refreshes every ${AB_REFRESH_MS / 1000} s`;
    updated.classList.remove("stale");
  } catch (error) {
    updated.textContent = `not refreshed: ${error.message}`;
    updated.classList.add("stale");
  }
}

// Verdict, reasons, comparison rows and intervals arrive formatted by the server (the
// strings `movierec report` prints), so the page shows them as they are.
function renderAB(panel) {
  const verdict = $("#verdict");
  if (!panel.experiment) {
    $("#ab-experiment").textContent = panel.message;
    verdict.textContent = "";
    $("#ab-reasons").replaceChildren();
    $("#ab-table tbody").replaceChildren();
    $("#ab-chart").replaceChildren();
    $("#ab-lifts").replaceChildren();
    $("#ab-checks").replaceChildren();
    return;
  }
  const exp = panel.experiment;
  state.variantIndex = new Map(panel.variants.map((v, i) => [v.name, i]));
  $("#ab-experiment").textContent = `experiment ${exp.id} (${exp.status}) · ${panel.summary}`;
  verdict.className = `verdict ${panel.verdict.code}`;
  verdict.textContent = panel.verdict.text;
  $("#ab-reasons").replaceChildren(...panel.verdict.reasons.map((r) => el("li", {}, r)));
  const level = Math.round(100 * (1 - panel.alpha));
  $("#ab-table tbody").replaceChildren(...panel.variants.map((v) => variantRow(v, level)));
  $("#ab-chart").replaceChildren(ctrChart(panel.variants));
  $("#ab-caption").textContent =
    `CTR per variant (per-user clicks / lists served) with its ${level}% confidence interval`;
  $("#ab-lifts").replaceChildren(...panel.comparisons.map(liftItem));
  $("#ab-checks").replaceChildren(...[...panel.checks, ...panel.notes].map((line) => el("li", {}, line)));
  const recVariant = $("#rec-variant .swatch");
  if (recVariant && state.rec) recVariant.className = `swatch ${colourOf(state.rec.variant)}`;
}

function variantRow(v, level) {
  const ci = v.ctr_ci ? el("span", { class: "ci" }, `${level}% CI ${v.ctr_ci_text}`) : null;
  const num = (cls, text) => el("td", { class: `num ${cls}` }, text);
  return el("tr", { dataset: { variant: v.name } },
    el("td", { class: "name" }, el("span", { class: `swatch ${colourOf(v.name)}` }), v.name),
    el("td", { class: "model" }, `${v.model ?? "?"}${v.version ? `@${v.version}` : " (live)"}`),
    num("users", count(v.users)),
    num("impressions", count(v.impressions)),
    num("clicks", count(v.clicks)),
    num("ratings", count(v.ratings)),
    el("td", { class: "num ctr" }, pct(v.ctr, 2), ci),
  );
}

// One comparison row: its colour (tone) follows the sign of a significant effect.
function liftItem(c) {
  const head = `${c.role_label} · ${c.metric_label} · ${c.variant}: `;
  if (c.message) {
    return el("li", { class: `${c.role} neutral`, dataset: { metric: c.metric, variant: c.variant } }, head, c.message);
  }
  return el("li", { class: `${c.role} ${c.tone}`, dataset: { metric: c.metric, variant: c.variant } },
    head,
    el("span", { class: "effect" }, c.lift),
    ` always-valid ${c.level} CI `,
    el("span", { class: "effect ci" }, c.ci),
    c.p === "-" ? "" : `, adj. p ${c.p}`,
    ` · ${c.status}`);
}

// A dot-and-whisker chart: one row per variant, the dot at the CTR, the bar its CI.
function ctrChart(variants) {
  // Drawn at the width it is shown at (a phone's is ~330 px), so its text stays 11-12 px.
  const shown = $("#ab-chart").clientWidth || 560;
  const width = Math.max(300, Math.min(560, shown)), rowH = 40, left = 64, right = 70, top = 8, bottom = 26;
  const height = top + rowH * Math.max(variants.length, 1) + bottom;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "CTR per variant with confidence intervals" });
  const highs = variants.flatMap((v) => (v.ctr_ci ? [v.ctr_ci[1]] : v.ctr !== null ? [v.ctr] : []));
  // Not capped at 100%: list CTR counts clicks per list, and one list may get several.
  const xMax = niceCeiling(Math.max(0.01, ...highs) * 1.05);
  const x = (value) => left + ((width - left - right) * Math.max(0, Math.min(value, xMax))) / xMax;
  const axisY = top + rowH * Math.max(variants.length, 1);
  for (let i = 0; i <= 4; i += 1) {
    const value = (xMax * i) / 4;
    chart.append(svg("line", { class: "grid-line", x1: x(value), x2: x(value), y1: top, y2: axisY }));
    chart.append(svg("text", { class: "tick", x: x(value), y: axisY + 16, "text-anchor": "middle" }, pct(value, xMax < 0.05 ? 1 : 0)));
  }
  chart.append(svg("line", { class: "axis", x1: left, x2: width - right, y1: axisY, y2: axisY }));
  variants.forEach((v, i) => {
    const y = top + rowH * i + rowH / 2;
    const colour = colourOf(v.name);
    chart.append(svg("text", { class: "label", x: 4, y: y + 4 }, v.name));
    if (v.ctr === null) {
      chart.append(svg("text", { class: "empty", x: left, y: y + 4 }, "no impressions yet"));
      return;
    }
    if (v.ctr_ci) {
      chart.append(svg("line", { class: `whisker ${colour}`, x1: x(v.ctr_ci[0]), x2: x(v.ctr_ci[1]), y1: y, y2: y }));
    }
    chart.append(svg("circle", { class: colour, cx: x(v.ctr), cy: y, r: 6 }));
    const end = v.ctr_ci ? v.ctr_ci[1] : v.ctr;
    chart.append(svg("text", { class: "value", x: x(end) + 10, y: y + 4 }, pct(v.ctr, 2)));
  });
  return chart;
}

// The smallest of 1, 2, 2.5, 5 x 10^k at or above x: round axis ends.
function niceCeiling(x) {
  const power = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= x) return step * power;
  }
  return 10 * power;
}

// ------------------------------------------------------------------ start

function start() {
  $("#user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const userId = $("#user-id").value.trim();
    if (userId !== "") recommend(userId, $("#top-n").value);
  });
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = $("#search-q").value.trim();
    if (query !== "") search(query);
  });
  $("#random-user").addEventListener("click", () => {
    if (state.userIds.length === 0) return;
    const id = state.userIds[Math.floor(Math.random() * state.userIds.length)];
    $("#user-id").value = String(id);
    recommend(id, $("#top-n").value);
  });
  loadHealth();
  loadUsers();
  refreshAB();
  setInterval(refreshAB, AB_REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", start);
