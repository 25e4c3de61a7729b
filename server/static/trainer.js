// The trainer page: what the stored calls say, over the filters the API knows. Which objections come up
// (bars, weekly trend lines, the split by language, team and agent), which answers work (response
// groups with their success rate and Wilson interval, per agent too), and what the playbook misses
// (candidate new objections). Every figure opens the calls behind it, each a link to its review.
// Fed by GET /v1/mining/intents, /responses and /clusters (docs/mining.md). Plain browser JavaScript
// (an ES module), no build step; charts are SVG drawn here, nothing is fetched from anywhere but this
// server, so the page works offline.
//
// Everything the API returns is user content (what people said, ids, team names): it goes into the
// page as text nodes and attributes, never as HTML.

const MINERS = new Set(["trainer", "admin", "coach", "supervisor"]); // server/mining.py MINERS
const FILTERS = ["date_from", "date_to", "team", "agent_id", "language", "outcome", "min_calls"];
const COLOURS = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#65a30d"];
const TREND_LINES = COLOURS.length;
const LANGUAGES = { en: "English", zh: "中文" };

const state = {
  token: null,
  me: null,
  ticket: 0,   // bumped on every load, so a slow answer never paints over a newer view
  weeks: [],
};

// -- small helpers -------------------------------------------------------------------------------

function percent(value) {
  if (typeof value !== "number") return "–";
  if (value > 0 && value < 0.005) return "<1%";
  return `${Math.round(value * 100)}%`;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const words = (id) => (id ? String(id).replace(/_/g, " ") : "–");
const shortWeek = (week) => String(week).replace(/^\d{4}-/, "");

/** A legend's colour swatch: coloured through the CSSOM, since the page's policy allows no inline style attribute. */
function swatch(colour) {
  const node = el("span", { class: "swatch" });
  node.style.background = colour;
  return node;
}

/** ``en-US-collections@1.0.0#intents/cannot_afford/responses/1`` -> ``cannot_afford #1`` (as the HTML report). */
function shortRef(ref) {
  if (ref === "off_script") return "off script";
  const at = ref.indexOf("#intents/");
  if (at < 0) return ref;
  const [intent, number] = ref.slice(at + "#intents/".length).split("/responses/");
  return `${intent} #${number}`;
}

/** Activate a chart element or table row by click or Enter, like a button. */
function actionable(node, label, action) {
  node.setAttribute("tabindex", "0");
  node.setAttribute("role", "button");
  node.setAttribute("aria-label", label);
  node.classList.add("drillable");
  node.addEventListener("click", (event) => {
    if (event.target.closest("a")) return; // a link inside navigates by itself
    action();
  });
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      action();
    }
  });
  return node;
}

// -- the API -------------------------------------------------------------------------------------

async function api(path) {
  return apiRequest(path, state.token);
}

// -- signing in ----------------------------------------------------------------------------------

/** Sign in with ``token``; ``remember`` null keeps the stored token as it is. Roles that may not mine
 * are refused here, with the same rule as the API (which would answer 403). */
async function signIn(token, remember) {
  state.token = token;
  let me;
  try {
    me = await api("/v1/me");
  } catch (error) {
    state.token = null;
    throw error;
  }
  if (!MINERS.has(me.role)) {
    state.token = null;
    throw new Error(`a${/^[aeiou]/.test(me.role) ? "n" : ""} ${me.role}'s token cannot mine calls: sign in with a trainer's `
                    + "token (or an admin's; a coach's or a supervisor's shows their team's calls)");
  }
  state.me = me;
  if (remember !== null) storeToken(token, remember);
  const scope = me.role === "coach" || me.role === "supervisor" ? (me.team ? `team ${me.team}` : "") : "all calls";
  $("whoami").replaceChildren(el("strong", {}, me.name), ` · ${me.role}`, scope ? ` · ${scope}` : "");
  $("whoami").hidden = false;
  $("sign-out").hidden = false;
  $("signin-error").hidden = true;
}

function signOut(reason) {
  storeToken(null);
  state.token = null;
  state.me = null;
  state.ticket += 1;
  $("whoami").hidden = true;
  $("sign-out").hidden = true;
  $("report").hidden = true;
  clearMessage();
  showView("signin");
  $("signin-error").textContent = reason || "";
  $("signin-error").hidden = !reason;
  $("token").value = "";
}

function showView(name) {
  for (const view of ["signin", "mining"]) $(`${view}-view`).hidden = view !== name;
}

// -- loading: the filters live in the address (#team=north&language=en), so a reload keeps them ------

function filterQuery(params) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (params.get(name)) query.set(name, params.get(name));
  return query;
}

function route() {
  if (!state.token) return;
  clearMessage();
  const params = new URLSearchParams(location.hash.slice(1));
  const form = $("filters");
  for (const name of FILTERS) form.elements[name].value = params.get(name) || "";
  load(filterQuery(params)).catch(fail);
}

function applyFilters(event) {
  event.preventDefault();
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $("filters").elements[name].value.trim();
    if (value) query.set(name, value);
  }
  const hash = `#${query}`;
  if (location.hash === hash || (location.hash === "" && hash === "#")) route();
  else location.hash = hash;
}

function fail(error) {
  if (error instanceof ApiError && error.status === 401) signOut(explain(error, "these filters"));
  else showMessage(explain(error, "these filters"));
}

function setStatus(part, text, kind = "") {
  const node = $(`${part}-status`);
  node.replaceChildren(kind === "loading" ? el("span", { class: "spinner", "aria-hidden": "true" }) : "", text);
  node.className = `status ${kind}`;
  node.hidden = !text;
}

/** Say that ``part`` is drawn: in ``body[data-loaded]`` (tests wait on it) and as a performance mark
 * (``coach:intents``: milliseconds since the page was opened; bench/mining_scale.py reads it). */
function loaded(part) {
  performance.mark(`coach:${part}`);
  const parts = new Set((document.body.dataset.loaded || "").split(" ").filter(Boolean));
  parts.add(part);
  document.body.dataset.loaded = [...parts].sort().join(" ");
}

/** Mine the calls matching ``query``: the intents first (they need no model, so they come first and
 * the page shows something at once), then what works and the clusters. */
async function load(query) {
  const ticket = ++state.ticket;
  showView("mining");
  closeDrill();
  document.body.dataset.loaded = "";
  $("no-calls").hidden = true;
  $("results").hidden = false;
  $("window").textContent = "";
  for (const id of ["intent-bars", "intent-trend", "responses", "clusters", "unclustered"]) $(id).replaceChildren();
  $("intent-table").tBodies[0].replaceChildren();
  $("intent-table").hidden = true;
  for (const part of ["intents", "responses", "clusters"]) setStatus(part, "Mining the calls…", "loading");
  const reportQuery = new URLSearchParams(query);
  reportQuery.set("access_token", state.token);
  $("report").href = `/v1/mining/report?${reportQuery}`;
  $("report").hidden = false;
  const started = performance.now();
  let intents;
  try {
    intents = await api(`/v1/mining/intents?${query}`);
  } catch (error) {
    if (ticket !== state.ticket) return;
    for (const part of ["intents", "responses", "clusters"]) setStatus(part, "");
    if (error instanceof ApiError && error.status === 404) {
      showNoCalls(error.detail);
      return;
    }
    $("results").hidden = true;
    throw error;
  }
  if (ticket !== state.ticket) return;
  showWindow(intents.window);
  showIntents(intents.intents, intents.window);
  loaded("intents");
  const firstView = performance.now() - started;
  $("footer").textContent = `${plural(intents.window.calls, "call")} mined; objections shown in ${(firstView / 1000).toFixed(1)} s`;
  const later = [
    api(`/v1/mining/responses?${query}`).then((answer) => {
      if (ticket === state.ticket) { showResponses(answer.responses, answer.window); loaded("responses"); }
    }),
    api(`/v1/mining/clusters?${query}`).then((answer) => {
      if (ticket === state.ticket) { showClusters(answer.clusters, answer.window, query, answer.unclustered || []); loaded("clusters"); }
    }),
  ];
  const outcomes = await Promise.allSettled(later);
  if (ticket !== state.ticket) return;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "rejected") {
      const part = i === 0 ? "responses" : "clusters";
      setStatus(part, explain(outcome.reason, "these filters"), "error");
      if (outcome.reason instanceof ApiError && outcome.reason.status === 401) fail(outcome.reason);
    }
  });
  $("footer").textContent += `; everything in ${((performance.now() - started) / 1000).toFixed(1)} s`;
}

function showNoCalls(detail) {
  $("results").hidden = true;
  $("report").hidden = true;
  const filtered = [...filterQuery(new URLSearchParams(location.hash.slice(1))).keys()].some((k) => k !== "min_calls");
  const team = state.me && (state.me.role === "coach" || state.me.role === "supervisor") && state.me.team;
  $("no-calls").replaceChildren(
    el("strong", {}, filtered ? "No stored calls match these filters."
      : team ? `No calls of team ${team} are stored yet.` : "No calls are stored yet."),
    " ",
    filtered ? "Widen the dates or clear a filter (Reset)."
      : "Calls reviewed with coach review, uploaded on the review page or taken live show here once stored.",
    detail && !/^no stored calls match/.test(detail) ? el("span", { class: "muted" }, ` (${detail})`) : "");
  $("no-calls").hidden = false;
  $("footer").textContent = "";
  document.body.dataset.loaded = "empty";
}

function showWindow(mined) {
  state.weeks = mined.weeks;
  const languages = Object.entries(mined.languages).map(([code, n]) => `${LANGUAGES[code] || code} ${n}`).join(", ");
  const span = mined.weeks.length ? `${mined.weeks[0]} to ${mined.weeks[mined.weeks.length - 1]}` : "";
  const parts = [el("strong", {}, plural(mined.calls, "call")), span && ` · ${span}`, languages && ` · ${languages}`];
  const books = Object.values(mined.playbooks || {});
  if (books.length) parts.push(` · read with ${books.join(", ")}`);
  if (mined.truncated) {
    parts.push(el("span", { class: "warning" }, ` · more calls match: the newest ${mined.max_calls} were mined (narrow the filters)`));
  }
  $("window").replaceChildren(...parts);
}

// -- the calls behind a figure -------------------------------------------------------------------

/** Open the side panel listing ``callIds`` (each a link to its review), with the utterances behind the
 * figure under each call: ``refs`` ({call_id, utterance_id}) and, for clusters, ``members`` (with text). */
function drill(title, what, callIds, { refs = [], members = [] } = {}) {
  const byCall = new Map(callIds.map((id) => [id, { uids: [], texts: [] }]));
  for (const ref of refs) {
    if (!byCall.has(ref.call_id)) byCall.set(ref.call_id, { uids: [], texts: [] });
    byCall.get(ref.call_id).uids.push(ref.utterance_id);
  }
  for (const member of members) {
    if (!byCall.has(member.call_id)) byCall.set(member.call_id, { uids: [], texts: [] });
    byCall.get(member.call_id).texts.push(member);
  }
  $("drill-title").textContent = title;
  $("drill-what").textContent = `${what} · ${plural(byCall.size, "call")}`;
  const items = [];
  for (const [callId, found] of byCall) {
    const item = el("li", { "data-call": callId },
      el("a", { href: `/review#call=${encodeURIComponent(callId)}`, target: "_blank", rel: "noopener", class: "call-link" }, callId));
    if (found.uids.length) item.append(el("span", { class: "muted" }, ` · ${found.uids.length === 1 ? "utterance" : "utterances"} ${found.uids.join(", ")}`));
    for (const member of found.texts) {
      item.append(el("q", { class: "said", "data-utterance": member.utterance_id }, member.text));
    }
    items.push(item);
  }
  $("drill-calls").replaceChildren(...items);
  $("drill").hidden = false;
  $("drill").scrollTop = 0;
  $("drill-close").focus({ preventScroll: true });
}

function closeDrill() {
  $("drill").hidden = true;
  $("drill-calls").replaceChildren();
}

// -- objection landscape -------------------------------------------------------------------------

function showIntents(intents, mined) {
  if (!intents.length) {
    setStatus("intents", `No objection or commitment was heard in ${plural(mined.calls, "call")}.`, "empty");
    return;
  }
  setStatus("intents", "");
  const colours = new Map(intents.slice(0, TREND_LINES).map((intent, i) => [intent.intent, COLOURS[i]]));
  $("intent-bars").replaceChildren(intentBars(intents, colours));
  $("intent-trend").replaceChildren(trendChart(intents.slice(0, TREND_LINES), mined.weeks, colours));
  $("intent-table").tBodies[0].replaceChildren(...intents.map(intentRow));
  $("intent-table").hidden = false;
}

/** One horizontal bar per intent: its share of the calls mined, with the number of calls. */
function intentBars(intents, colours) {
  const rowHeight = 24;
  const labelWidth = 190;
  const barWidth = 380;
  const width = labelWidth + barWidth + 150;
  const top = Math.max(...intents.map((i) => i.share_of_calls)) || 1;
  const chart = svg("svg", { class: "bars", viewBox: `0 0 ${width} ${intents.length * rowHeight + 4}`, width,
                             role: "img", "aria-label": "calls per intent" });
  intents.forEach((intent, row) => {
    const y = row * rowHeight + 2;
    const length = Math.max(2, (barWidth * intent.share_of_calls) / top);
    const group = svg("g", { class: `bar ${intent.kind}`, "data-intent": intent.intent, "data-calls": intent.calls,
                             transform: `translate(0 ${y})` },
      svg("title", {}, `${intent.name}: ${plural(intent.calls, "call")} (${percent(intent.share_of_calls)} of the calls), `
                       + `${plural(intent.utterances, "utterance")}`),
      svg("text", { x: labelWidth - 8, y: 15, "text-anchor": "end", class: "label" }, intent.name),
      svg("rect", { x: labelWidth, y: 3, width: barWidth, height: 16, class: "track" }),
      svg("rect", { x: labelWidth, y: 3, width: length.toFixed(1), height: 16, class: "fill",
                    fill: intent.kind === "commitment" ? "#15803d" : colours.get(intent.intent) || "#64748b" }),
      svg("text", { x: labelWidth + barWidth + 8, y: 15, class: "value" },
          `${plural(intent.calls, "call")} · ${percent(intent.share_of_calls)}`));
    actionable(group, `${intent.name}: the ${plural(intent.calls, "call")}`,
               () => drill(intent.name, `${plural(intent.utterances, "utterance")} in all weeks`, intent.call_ids,
                           { refs: intent.utterance_refs }));
    chart.append(group);
  });
  return chart;
}

/** Calls a week, one line per intent (the most heard ones), a dot per week that opens its calls. */
function trendChart(intents, weeks, colours) {
  const width = 720;
  const height = 210;
  const pad = { left: 36, right: 12, top: 10, bottom: 28 };
  const top = Math.max(1, ...intents.flatMap((i) => i.weekly.map((w) => w.calls)));
  const x = (i) => pad.left + (weeks.length > 1 ? (i * (width - pad.left - pad.right)) / (weeks.length - 1) : (width - pad.left - pad.right) / 2);
  const y = (v) => height - pad.bottom - ((height - pad.top - pad.bottom) * v) / top;
  const chart = svg("svg", { class: "trend", viewBox: `0 0 ${width} ${height}`, width, role: "img",
                             "aria-label": "calls a week for each intent" });
  for (const tick of [...new Set([0, Math.round(top / 2), top])]) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }),
                 svg("text", { x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "axis" }, tick));
  }
  const every = Math.ceil(weeks.length / 12);
  weeks.forEach((week, i) => {
    if (i % every === 0) chart.append(svg("text", { x: x(i), y: height - 8, "text-anchor": "middle", class: "axis" }, shortWeek(week)));
  });
  for (const intent of intents) {
    const colour = colours.get(intent.intent);
    const line = svg("g", { class: "series", "data-intent": intent.intent });
    if (intent.weekly.length > 1) {
      line.append(svg("polyline", { points: intent.weekly.map((w, i) => `${x(i).toFixed(1)},${y(w.calls).toFixed(1)}`).join(" "),
                                    fill: "none", stroke: colour, "stroke-width": 2 }));
    }
    intent.weekly.forEach((week, i) => {
      const dot = svg("circle", { cx: x(i).toFixed(1), cy: y(week.calls).toFixed(1), r: 4, fill: colour, class: "point",
                                  "data-week": week.week, "data-calls": week.calls },
        svg("title", {}, `${intent.name}, ${week.week}: ${plural(week.calls, "call")}`));
      if (week.calls) {
        actionable(dot, `${intent.name} in ${week.week}: ${plural(week.calls, "call")}`,
                   () => drill(intent.name, `week ${week.week}`, week.call_ids, { refs: week.utterance_refs }));
      }
      line.append(dot);
    });
    chart.append(line);
  }
  const legend = el("ul", { class: "legend" }, intents.map((intent) =>
    el("li", {}, swatch(colours.get(intent.intent)), intent.name)));
  return el("div", {}, chart, legend);
}

/** A small weekly line for a table row; each week's dot opens its calls. */
function sparkline(weekly, name, colour = "#475569") {
  const width = 120;
  const height = 26;
  const top = Math.max(1, ...weekly.map((w) => w.calls));
  const x = (i) => 4 + (weekly.length > 1 ? (i * (width - 8)) / (weekly.length - 1) : (width - 8) / 2);
  const y = (v) => height - 4 - ((height - 8) * v) / top;
  const chart = svg("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                             "aria-label": `${name}: calls a week` });
  if (weekly.length > 1) {
    chart.append(svg("polyline", { points: weekly.map((w, i) => `${x(i).toFixed(1)},${y(w.calls).toFixed(1)}`).join(" "),
                                   fill: "none", stroke: colour, "stroke-width": 1.5 }));
  }
  weekly.forEach((week, i) => {
    const dot = svg("circle", { cx: x(i).toFixed(1), cy: y(week.calls).toFixed(1), r: 2.6, fill: colour, class: "point",
                                "data-week": week.week }, svg("title", {}, `${week.week}: ${plural(week.calls, "call")}`));
    if (week.calls) {
      actionable(dot, `${name} in ${week.week}`, () => drill(name, `week ${week.week}`, week.call_ids,
                                                                { refs: week.utterance_refs || [], members: week.members || [] }));
    }
    chart.append(dot);
  });
  return chart;
}

/** The split by language, team or agent: a chip per group, each opening its calls. */
function groupChips(groups, name, describeKey) {
  return el("div", { class: "chips" }, groups.map((group) => actionable(
    el("span", { class: "chip", "data-key": group.key ?? "" }, `${describeKey(group.key)} ${group.calls}`,
       el("small", {}, ` ${percent(group.share_of_calls)}`)),
    `${name}, ${describeKey(group.key)}: ${plural(group.calls, "call")}`,
    () => drill(name, `${describeKey(group.key)} (${percent(group.share_of_calls)} of its calls)`, group.call_ids,
                { refs: group.utterance_refs }))));
}

function intentRow(intent) {
  const row = el("tr", { "data-intent": intent.intent },
    el("td", {}, el("strong", {}, intent.name), " ", el("span", { class: `kind ${intent.kind}` }, intent.kind),
       el("div", { class: "muted id" }, intent.intent)),
    el("td", { class: "num" }, String(intent.calls)),
    el("td", { class: "num" }, String(intent.utterances)),
    el("td", { class: "num" }, percent(intent.share_of_calls)),
    el("td", {}, sparkline(intent.weekly, intent.name)),
    el("td", {}, groupChips(intent.by_language, intent.name, (key) => LANGUAGES[key] || key || "?")),
    el("td", {}, groupChips(intent.by_team, intent.name, (key) => key ?? "no team")),
    el("td", {}, groupChips(intent.by_agent, intent.name, (key) => key ?? "no agent")));
  for (const index of [1, 2]) {
    actionable(row.cells[index], `${intent.name}: the ${plural(intent.calls, "call")}`,
               () => drill(intent.name, `${plural(intent.utterances, "utterance")} in all weeks`, intent.call_ids,
                           { refs: intent.utterance_refs }));
  }
  return row;
}

// -- what works ----------------------------------------------------------------------------------

/** The success rate as a dot on its Wilson 95 % interval, on a 0-100 % axis. */
function interval(rate) {
  const width = 130;
  const x = (v) => (4 + (width - 8) * v).toFixed(1);
  const chart = svg("svg", { class: "interval", viewBox: `0 0 ${width} 14`, width, height: 14, role: "img",
                             "aria-label": rate.rate === null ? "no rate" : `${percent(rate.rate)} (${percent(rate.low)} to ${percent(rate.high)})` },
    svg("line", { x1: 4, x2: width - 4, y1: 7, y2: 7, class: "axis-line" }));
  if (rate.rate !== null && rate.low !== null && rate.high !== null) {
    chart.append(svg("line", { x1: x(rate.low), x2: x(rate.high), y1: 7, y2: 7, class: "whisker" }),
                 svg("circle", { cx: x(rate.rate), cy: 7, r: 4, class: "rate" }),
                 svg("title", {}, `${percent(rate.rate)}, 95 % interval ${percent(rate.low)} to ${percent(rate.high)}`));
  }
  return chart;
}

function rankCell(rate) {
  if (rate.note) return el("td", {}, el("span", { class: "note" }, rate.note));
  return el("td", { class: "num" }, rate.rank === null ? "–" : `#${rate.rank}`);
}

function rateCells(rate) {
  return [
    el("td", { class: "num" }, String(rate.calls)),
    el("td", { class: "num" }, String(rate.successes)),
    el("td", { class: "num" }, percent(rate.rate)),
    el("td", {}, interval(rate)),
    rankCell(rate),
  ];
}

function showResponses(responses, mined) {
  if (!responses.length) {
    setStatus("responses", `No objection was answered by an agent in ${plural(mined.calls, "call")}.`, "empty");
    return;
  }
  setStatus("responses", "");
  $("responses").replaceChildren(...responses.map((objection) => {
    const title = `${objection.name} (${LANGUAGES[objection.language] || objection.language})`;
    const groups = el("table", { class: "figures groups" },
      el("thead", {}, el("tr", {}, el("th", {}, "Answer"), el("th", { class: "num" }, "Calls"), el("th", { class: "num" }, "Worked"),
                        el("th", { class: "num" }, "Rate"), el("th", {}, "95 % interval"), el("th", {}, "Rank"))),
      el("tbody", {}, objection.groups.map((group) => actionable(
        el("tr", { "data-response": group.response, class: group.note ? "few" : "" },
           el("td", {}, el("strong", {}, shortRef(group.response)), group.text ? el("div", { class: "say" }, group.text)
             : (group.examples || []).map((said) => el("div", { class: "say" }, el("q", {}, said)))),
           ...rateCells(group)),
        `${title}, ${shortRef(group.response)}: ${plural(group.calls, "call")}`,
        () => drill(title, `answered ${shortRef(group.response)}; ${group.successes} of ${group.calls} ended in a promise or a payment`,
                    group.call_ids, { refs: group.turns })))));
    const agents = el("table", { class: "figures agents" },
      el("thead", {}, el("tr", {}, el("th", {}, "Agent"), el("th", { class: "num" }, "Calls"), el("th", { class: "num" }, "Worked"),
                        el("th", { class: "num" }, "Rate"), el("th", {}, "95 % interval"), el("th", {}, "Rank"))),
      el("tbody", {}, objection.by_agent.map((agent) => actionable(
        el("tr", { "data-agent": agent.agent_id ?? "", class: agent.note ? "few" : "" },
           el("td", {}, agent.agent_id ?? "no agent"), ...rateCells(agent)),
        `${title}, agent ${agent.agent_id ?? "?"}: ${plural(agent.calls, "call")}`,
        () => drill(title, `agent ${agent.agent_id ?? "?"}; ${agent.successes} of ${agent.calls} ended in a promise or a payment`,
                    agent.call_ids)))));
    return el("article", { class: "objection", "data-intent": objection.intent, "data-language": objection.language },
      el("h3", {}, title, el("span", { class: "muted" }, ` · ${plural(objection.calls, "call")} answered`)),
      groups,
      el("details", { class: "by-agent", open: objection.by_agent.length <= 6 },
         el("summary", {}, `By agent (${objection.by_agent.length})`), agents));
  }));
}

// -- what the playbook misses --------------------------------------------------------------------

/** The command that turns a cluster into playbook examples, with the filters it was mined with. */
function exportCommand(cluster, query) {
  const flags = { date_from: "--since", date_to: "--until", team: "--team", agent_id: "--agent", language: "--language",
                  outcome: "--outcome" };
  const quote = (value) => (/^[\w.-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`);
  const filters = [...query].filter(([name]) => flags[name]).map(([name, value]) => `${flags[name]} ${quote(value)}`);
  // too few for an intent of its own: examples of the intent that claimed most of them, or of one to choose
  const [claimedMost] = Object.entries(cluster.claimed || {}).sort((a, b) => b[1] - a[1]);
  const into = claimedMost ? claimedMost[0] : "INTENT_ID";
  const what = cluster.enough_for_an_intent ? "--as-intent NEW_INTENT --response '…'" : `--into-intent ${into}`;
  return ["coach mine", ...filters, `export --cluster ${cluster.id} ${what} --out ${cluster.id}.yaml`].join(" ");
}

/** What no intent claims and no cluster holds: on a few calls, where a new objection shows first. */
function showUnclustered(unclustered, open) {
  $("unclustered").replaceChildren(...unclustered.map((left) => el("div", { class: "unclustered", "data-language": left.language },
    el("details", { open },
      el("summary", {}, `Not yet a topic (${left.language}): ${plural(left.count, "utterance")} that no intent claims `
                        + "and no cluster holds"),
      el("ol", {}, left.examples.map((member) => el("li", { "data-call": member.call_id, "data-utterance": member.utterance_id },
        el("q", {}, member.text), " ",
        el("a", { href: `/review#call=${encodeURIComponent(member.call_id)}`, target: "_blank", rel: "noopener", class: "call-link" },
           member.call_id)))),
      left.count > left.examples.length ? el("p", { class: "muted" }, `and ${left.count - left.examples.length} more`) : ""))));
}

function showClusters(clusters, mined, query, unclustered = []) {
  if (!clusters.length) {
    const left = unclustered.reduce((n, u) => n + u.count, 0);
    setStatus("clusters", left
      ? `No topic came up often enough for a cluster in ${plural(mined.calls, "call")}; `
        + `${plural(left, "utterance")} no intent claims are listed below.`
      : `No candidate objections in ${plural(mined.calls, "call")}: what debtors said is either an `
        + "ordinary answer or something the playbook covers.", "empty");
    $("clusters").replaceChildren();
    showUnclustered(unclustered, true);
    return;
  }
  setStatus("clusters", "");
  $("clusters").replaceChildren(...clusters.map((cluster) => {
    const name = `${cluster.id}: ${cluster.label}`;
    const everyone = () => drill(name, `${plural(cluster.size, "utterance")}`, [], { members: cluster.members });
    const weekly = cluster.weekly.map((week) => ({ ...week, members: cluster.members.filter(
      (m) => week.utterance_refs.some((r) => r.call_id === m.call_id && r.utterance_id === m.utterance_id)) }));
    const claimed = Object.entries(cluster.claimed || {});
    return el("li", { class: "cluster", "data-cluster": cluster.id, "data-language": cluster.language,
                      "data-size": cluster.size, "data-calls": cluster.calls },
      el("div", { class: "cluster-head" },
        el("span", { class: "cluster-id" }, cluster.id),
        el("strong", { class: "label" }, cluster.label),
        cluster.new ? el("span", { class: "badge new", title: `first heard in ${cluster.first_week}, the last week mined` }, "new this week") : "",
        actionable(el("span", { class: "size" }, `${plural(cluster.size, "utterance")} in ${plural(cluster.calls, "call")}`),
                   `${name}: every utterance`, everyone),
        sparkline(weekly, name, "#c05f00")),
      el("div", { class: "chips keywords" }, cluster.keywords.map((word) => el("span", { class: "chip keyword" }, word))),
      claimed.length ? el("p", { class: "muted claimed" }, "Read today as: ",
                          claimed.map(([intent, n]) => `${words(intent)} ×${n}`).join(", ")) : "",
      el("ol", { class: "representatives" }, cluster.representatives.map((text) => el("li", {}, el("q", {}, text)))),
      el("details", { class: "members" },
        el("summary", {}, `All ${plural(cluster.members.length, "utterance")}`),
        el("ol", {}, cluster.members.map((member) => el("li", { "data-call": member.call_id, "data-utterance": member.utterance_id },
          el("q", {}, member.text), " ",
          el("a", { href: `/review#call=${encodeURIComponent(member.call_id)}`, target: "_blank", rel: "noopener", class: "call-link" },
             member.call_id))))),
      el("p", { class: "export hint" },
         cluster.enough_for_an_intent ? "Make it an intent: " : "Too few for an intent of its own: add them to one: ",
         el("code", {}, exportCommand(cluster, query))));
  }));
  showUnclustered(unclustered, false);
}

// -- start ---------------------------------------------------------------------------------------

function wire() {
  $("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    const button = event.submitter || $("signin").querySelector("button");
    button.disabled = true;
    try {
      await signIn(token, $("remember").checked);
      $("token").value = "";
      route();
    } catch (error) {
      $("signin-error").textContent = error instanceof ApiError ? explain(error, "these filters") : error.message;
      $("signin-error").hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("message-close").addEventListener("click", clearMessage);
  $("filters").addEventListener("submit", applyFilters);
  $("filters-reset").addEventListener("click", () => {
    $("filters").reset();
    if (location.hash && location.hash !== "#") location.hash = "#";
    else route();
  });
  $("drill-close").addEventListener("click", closeDrill);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !$("drill").hidden) closeDrill(); });
  window.addEventListener("hashchange", route);
}

async function start() {
  wire();
  const token = storedToken();
  if (!token) {
    signOut();
    return;
  }
  try {
    await signIn(token, null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut(explain(error, "these filters"));
    else {
      showView("signin");
      $("signin-error").textContent = error instanceof ApiError ? explain(error, "these filters") : error.message;
      $("signin-error").hidden = false;
    }
    return;
  }
  route();
}

start();
