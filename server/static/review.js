// The coach review page: sign in with an API token, list and filter recorded calls, upload one, and
// review a call (audio in step with the transcript, the debtor's emotion over time, objections,
// violations, the scorecard) and leave notes on it. Plain browser JavaScript (an ES module), no build
// step, and nothing fetched from anywhere but this server.
//
// Everything the API returns is user content: it goes into the page as text nodes and attributes,
// never as HTML.

const REVIEWERS = new Set(["coach", "supervisor", "trainer", "admin"]);
const PAGE_SIZE = 25;
const FILTERS = ["agent_id", "team", "language", "violation", "outcome", "status", "date_from", "date_to", "include_demo"];
const EMOTIONS = ["calm", "anxious", "frustrated", "evasive", "distressed", "angry"];
const SEVERITIES = ["S1", "S2", "S3", "S4"];

const state = {
  token: null,
  me: null,
  listHash: "",
  ticket: 0,          // bumped on every navigation, so a slow answer never paints over a newer view
  call: null,         // the call on show: { detail, events, notes, lines: Map(uid -> li), starts: [...] }
  playing: null,      // utterance id highlighted by the audio
  openForm: null,
};

// -- small helpers -------------------------------------------------------------------------------

function clock(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A stored time (UTC, ISO 8601) as "YYYY-MM-DD HH:MM" in the time zone given (an IANA name; the
 * reader's own when none): the stored prefix was UTC shown as if local. A date alone stays as it is. */
function when(iso, timeZone) {
  if (!iso) return "–";
  const stamp = new Date(iso);
  if (!/[T ]\d{2}:\d{2}/.test(iso) || Number.isNaN(stamp.getTime())) return iso;
  let parts;
  try {
    parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(stamp).map((p) => [p.type, p.value]));
  } catch (error) {
    if (timeZone) return when(iso);  // a time zone this browser does not know: the reader's own
    throw error;
  }
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** When the call started where the reader is and, when its metadata names it, where the debtor was
 * (the calling-hours rules are judged there). */
function callTime(detail) {
  const mine = when(detail.started_at);
  const zone = detail.metadata && detail.metadata.debtor_timezone;
  if (typeof zone !== "string" || !zone) return mine;
  const theirs = when(detail.started_at, zone);
  return theirs === mine ? mine : `${mine} (debtor: ${theirs} ${zone})`;
}

function words(id) {
  return id ? String(id).replace(/_/g, " ") : "–";
}

function signed(value) {
  if (typeof value !== "number") return "";
  return `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(2)}`;
}

function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)}%` : "";
}

/** A score as the scorecard gives it: 62.5, 80. */
function points(score) {
  return Number.isInteger(score) ? String(score) : score.toFixed(1);
}

function scoreClass(score) {
  if (score === null || score === undefined) return "na";
  return score >= 80 ? "good" : score >= 50 ? "fair" : "poor";
}

function money(amount, currency) {
  if (typeof amount !== "number") return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(amount);
  } catch {
    return `${currency || ""} ${amount}`.trim();
  }
}

// -- the API -------------------------------------------------------------------------------------

async function api(path, options) {
  return apiRequest(path, state.token, options);
}

function callPath(id, rest = "") {
  return `/v1/calls/${encodeURIComponent(id)}${rest}`;
}

function withToken(path) {
  return `${path}?access_token=${encodeURIComponent(state.token)}`;
}

/** Report an error; a 401 means the token is no good any more, so sign out. */
function fail(error) {
  setFooter("");  // no "loading …" left behind
  if (error instanceof ApiError && error.status === 401) {
    signOut(explain(error));
    return;
  }
  showMessage(explain(error));
}

function setFooter(text) {
  $("footer").textContent = text;
}

// -- signing in ----------------------------------------------------------------------------------

function isReviewer() {
  return Boolean(state.me && REVIEWERS.has(state.me.role));
}

async function signIn(token, remember) {
  state.token = token;
  try {
    state.me = await api("/v1/me");
  } catch (error) {
    state.token = null;
    state.me = null;
    throw error;
  }
  storeToken(token, remember);
  const me = state.me;
  const scope = me.role === "agent" ? (me.agent_id ? `agent ${me.agent_id}` : "") : me.team ? `team ${me.team}` : "";
  $("whoami").replaceChildren(el("strong", {}, me.name), ` · ${me.role}`, scope ? ` · ${scope}` : "");
  $("whoami").hidden = false;
  $("sign-out").hidden = false;
  $("upload-toggle").hidden = !isReviewer();
  $("upload-team").placeholder = (me.role === "coach" || me.role === "supervisor") && me.team ? me.team : "";
  $("signin-error").hidden = true;
}

function signOut(reason) {
  stopAudio();
  storeToken(null);
  state.token = null;
  state.me = null;
  state.call = null;
  state.ticket += 1;
  $("whoami").hidden = true;
  $("sign-out").hidden = true;
  clearMessage();
  showView("signin");
  const error = $("signin-error");
  error.textContent = reason || "";
  error.hidden = !reason;
  $("token").value = "";
  $("token").focus();
}

function showView(name) {
  for (const view of ["signin", "list", "call"]) $(`${view}-view`).hidden = view !== name;
}

// -- routing: #call=<id> opens a call; anything else is the list with its filters ---------------------

function navigate(hash) {
  const target = hash.startsWith("#") ? hash : `#${hash}`;
  if (location.hash === target || (location.hash === "" && target === "#")) route();
  else location.hash = target;
}

function route() {
  if (!state.token) return;
  clearMessage();
  const params = new URLSearchParams(location.hash.slice(1));
  const call = params.get("call");
  if (call) {
    showCall(call).catch(fail);
  } else {
    stopAudio();
    state.listHash = location.hash;
    showList(params).catch(fail);
  }
}

// -- the calls list ------------------------------------------------------------------------------

async function showList(params) {
  const ticket = ++state.ticket;
  showView("list");
  const form = $("filters");
  for (const name of FILTERS) form.elements[name].value = params.get(name) || "";
  const offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
  const query = new URLSearchParams();
  for (const name of FILTERS) if (params.get(name)) query.set(name, params.get(name));
  query.set("limit", String(PAGE_SIZE + 1));
  query.set("offset", String(offset));
  setFooter("loading calls…");
  const answer = await api(`/v1/calls?${query}`);
  if (ticket !== state.ticket) return;
  const calls = answer.calls.slice(0, PAGE_SIZE);
  $("calls").tBodies[0].replaceChildren(...calls.map(callRow));
  $("calls-empty").hidden = calls.length > 0;
  $("prev").disabled = offset === 0;
  $("next").disabled = answer.calls.length <= PAGE_SIZE;
  $("prev").onclick = () => navigate(pageHash(params, Math.max(0, offset - PAGE_SIZE)));
  $("next").onclick = () => navigate(pageHash(params, offset + PAGE_SIZE));
  $("page-info").textContent = calls.length ? `${offset + 1}–${offset + calls.length}` : "";
  setFooter(`${calls.length ? offset + calls.length : 0} call${calls.length === 1 ? "" : "s"} shown`);
}

function pageHash(params, offset) {
  const next = new URLSearchParams(params);
  if (offset) next.set("offset", String(offset));
  else next.delete("offset");
  return `#${next}`;
}

function callRow(call) {
  const open = (event) => {
    if (event && event.target.closest("a")) return;  // the link in the row navigates by itself
    navigate(`call=${encodeURIComponent(call.id)}`);
  };
  const violations = call.violation_count
    ? el("span", { class: `sev-chip ${call.worst_severity || ""}`, title: `worst: ${call.worst_severity || "?"}` },
      String(call.violation_count), call.worst_severity ? el("small", {}, ` · worst ${call.worst_severity}`) : "")
    : el("span", { class: "muted" }, "0");
  return el("tr", { "data-call": call.id, tabindex: "0", onclick: open,
    onkeydown: (event) => { if (event.key === "Enter") open(event); } },
  el("td", { class: "nowrap" }, when(call.started_at || call.created_at)),
  el("td", { class: "id" }, el("a", { href: `#call=${encodeURIComponent(call.id)}` }, call.id),
    call.has_audio ? el("span", { class: "audio-mark", title: "has a recording" }, " ♪") : "",
    call.status !== "complete" ? el("span", { class: `status-chip ${call.status}` }, call.status) : "",
    call.source === "demo" ? el("span", { class: "status-chip demo", title: "a bundled sample played as a demo" }, "demo") : ""),
  el("td", {}, call.agent_id || "–"),
  el("td", {}, call.team || "–"),
  el("td", {}, call.language),
  el("td", { class: "num" }, clock(call.duration)),
  el("td", { class: "num" }, el("span", { class: `score ${scoreClass(call.score)}` }, call.score === null ? "n/a" : points(call.score))),
  el("td", {}, call.outcome ? el("span", { class: `outcome ${call.outcome}` }, words(call.outcome)) : "–"),
  el("td", { class: "num" }, violations));
}

function applyFilters(event) {
  event.preventDefault();
  const params = new URLSearchParams();
  const form = $("filters");
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  navigate(`#${params}`);
}

// -- upload --------------------------------------------------------------------------------------

function toggleUpload() {
  const form = $("upload");
  form.hidden = !form.hidden;
  $("upload-toggle").setAttribute("aria-expanded", String(!form.hidden));
  if (!form.hidden) $("upload-file").focus();
}

function upload(event) {
  event.preventDefault();
  const form = $("upload");
  const data = new FormData(form);
  for (const key of ["agent_id", "team", "language", "call_id", "playbook", "metadata"]) {
    const value = String(data.get(key) || "").trim();
    if (value) data.set(key, value);
    else data.delete(key);
  }
  const file = $("upload-file").files[0];
  if (!file) return;
  const status = $("upload-status");
  const progress = $("upload-progress");
  const button = $("upload-submit");
  status.className = "upload-status";
  status.replaceChildren(`uploading ${file.name}…`);
  progress.hidden = false;
  progress.value = 0;
  button.disabled = true;

  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/calls");
  xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      progress.value = e.loaded / e.total;
      status.replaceChildren(`uploading ${file.name}… ${Math.round((e.loaded / e.total) * 100)}%`);
    }
  };
  xhr.upload.onload = () => {
    progress.removeAttribute("value");  // indeterminate: the server is working on it
    status.replaceChildren(el("span", { class: "spinner", "aria-hidden": "true" }),
      `reviewing ${file.name}… (transcribing and analysing can take a minute)`);
  };
  const done = () => {
    button.disabled = false;
    progress.hidden = true;
  };
  xhr.onerror = () => {
    done();
    status.className = "upload-status error";
    status.replaceChildren("Upload failed: cannot reach the server.");
  };
  xhr.onload = () => {
    done();
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status === 200 || xhr.status === 201) {
      const call = body.call;
      const link = el("a", { href: `#call=${encodeURIComponent(call.id)}` }, "open it");
      if (body.duplicate) {
        status.className = "upload-status info";
        status.replaceChildren(`Already uploaded: this file is call ${call.id}; nothing was added. `, link);
      } else {
        status.className = "upload-status ok";
        const score = call.score === null ? "no score" : `score ${points(call.score)}`;
        status.replaceChildren(`Reviewed ${call.id}: ${score}, ${call.violation_count} violation${call.violation_count === 1 ? "" : "s"}${call.worst_severity ? ` (worst ${call.worst_severity})` : ""}. `, link);
        $("upload-file").value = "";
      }
      if (!$("list-view").hidden) route();  // refresh the list (unless the user has moved on to a call)
      return;
    }
    const error = new ApiError(xhr.status, describe(body, xhr.statusText || `HTTP ${xhr.status}`));
    if (xhr.status === 401) { fail(error); return; }
    status.className = "upload-status error";
    status.replaceChildren(explain(error));
  };
  xhr.send(data);
}

// -- one call ------------------------------------------------------------------------------------

async function showCall(id) {
  const ticket = ++state.ticket;
  stopAudio();
  showView("call");
  $("back").setAttribute("href", state.listHash || "#");
  setFooter(`loading ${id}…`);
  const [detail, events, notes] = await Promise.all([
    api(callPath(id)), api(callPath(id, "/events")), api(callPath(id, "/notes"))]);
  if (ticket !== state.ticket) return;
  const byUtterance = new Map();
  for (const event of events) {
    if (event.utterance_id === null || event.utterance_id === undefined || event.type === "utterance") continue;
    if (!byUtterance.has(event.utterance_id)) byUtterance.set(event.utterance_id, []);
    byUtterance.get(event.utterance_id).push(event);
  }
  const call = {
    detail,
    events,
    notes,
    byUtterance,
    lines: new Map(),
    utterances: detail.utterances,
    sentiments: events.filter((e) => e.type === "sentiment"),
    intents: events.filter((e) => e.type === "intent"),
    violations: events.filter((e) => e.type === "compliance"),
    scorecard: events.filter((e) => e.type === "scorecard").pop() || null,
  };
  call.duration = Math.max(detail.duration || 0, ...detail.utterances.map((u) => u.end), ...events.map((e) => e.time || 0), 1);
  state.call = call;
  state.playing = null;
  state.openForm = null;
  renderHeader(call);
  renderAudio(call);
  renderTranscript(call);
  renderNotes(call);
  renderFindings(call);
  renderScorecard(call);
  drawPlot(call);
  window.scrollTo(0, 0);
  setFooter(`${detail.utterances.length} utterances · ${events.length} events · playbook ${detail.playbook}`);
  document.title = `coach · ${detail.id}`;
}

/** One term of a description list (a div per pair, so the pairs flow in a grid). */
function fact([term, value]) {
  return el("div", { class: "fact" }, el("dt", {}, term), el("dd", {}, value));
}

function renderHeader(call) {
  const d = call.detail;
  $("call-title").textContent = d.id;
  const score = $("call-score");
  score.className = `score-pill ${scoreClass(d.score)}`;
  score.textContent = d.score === null ? "score n/a" : `${points(d.score)}/100`;
  score.title = "QA score";
  const outcome = $("call-outcome");
  const o = d.outcome_detail || {};
  const terms = [money(o.amount, o.currency), o.due_date ? `due ${o.due_date}` : o.due_text ? `due “${o.due_text}”` : ""].filter(Boolean);
  outcome.className = `outcome ${d.outcome || "none"}`;
  outcome.textContent = d.outcome ? `${words(d.outcome)}${terms.length ? ` · ${terms.join(" · ")}` : ""}` : "no outcome";
  outcome.title = o.evidence ? `from: “${o.evidence}”${typeof o.confidence === "number" ? ` (${percent(o.confidence)})` : ""}` : "";

  const facts = [
    ["Agent", d.agent_id || "–"], ["Team", d.team || "–"],
    d.started_at ? ["Call date", callTime(d)] : ["Uploaded", when(d.created_at)],
    ["Duration", clock(d.duration)], ["Language", d.language], ["Playbook", d.playbook],
    ["Status", d.status], ["Source", [d.source, d.filename].filter(Boolean).join(" · ")],
  ];
  $("call-facts").replaceChildren(...facts.map(fact));

  const s1 = call.violations.filter((v) => v.severity === "S1");
  const banner = $("call-s1");
  banner.hidden = s1.length === 0;
  banner.textContent = s1.length
    ? `⚠ ${s1.length} S1 violation${s1.length === 1 ? "" : "s"}: ${[...new Set(s1.map((v) => v.rule_id))].join(", ")}`
    : "";
  const warnings = d.warnings || [];
  $("call-warnings").replaceChildren(...warnings.map((w) => el("li", { "data-code": w.code }, el("strong", {}, `${words(w.code)}: `), w.message)));
  $("call-warnings").hidden = warnings.length === 0;
  $("call-summary").textContent = d.summary || "";
  $("call-summary").hidden = !d.summary;
  const metadata = Object.entries(d.metadata || {});
  const box = $("call-metadata");
  box.hidden = metadata.length === 0;
  box.querySelector("dl").replaceChildren(...metadata.map(([k, v]) =>
    fact([words(k), typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)])));
  const report = $("report");
  report.setAttribute("href", withToken(callPath(d.id, "/report")));
}

// -- audio ---------------------------------------------------------------------------------------

function renderAudio(call) {
  const audio = $("audio");
  if (call.detail.has_audio) {
    audio.src = withToken(callPath(call.detail.id, "/audio"));
    audio.hidden = false;
    $("no-audio").hidden = true;
  } else {
    stopAudio();
    $("no-audio").hidden = false;
  }
}

function stopAudio() {
  const audio = $("audio");
  if (!audio.getAttribute("src")) return;
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  audio.hidden = true;
}

function hasAudio() {
  return Boolean(state.call && state.call.detail.has_audio && $("audio").getAttribute("src"));
}

/** The utterance being heard at ``t`` seconds: the last one started, while it lasts (or shortly after). */
function utteranceAt(t) {
  if (!state.call) return null;
  let found = null;
  for (const u of state.call.utterances) {
    if (u.start <= t + 0.05) found = u;
    else break;
  }
  return found && t <= found.end + 1.5 ? found.utterance_id : null;
}

function onTime() {
  const t = $("audio").currentTime;
  movePlayhead(t);
  const uid = utteranceAt(t);
  if (uid === state.playing) return;
  if (state.playing !== null) state.call.lines.get(state.playing)?.classList.remove("playing");
  state.playing = uid;
  const line = uid === null ? null : state.call.lines.get(uid);
  if (line) {
    line.classList.add("playing");
    if (!$("audio").paused) scrollWithin($("lines"), line);
  }
}

/** Scroll the transcript box (only) so ``line`` is in view, a third of the way down. */
function scrollWithin(box, line) {
  if (box.scrollHeight <= box.clientHeight + 1) {  // not a scroll box (narrow screens): scroll the page
    line.scrollIntoView({ block: "nearest", behavior: "smooth" });
    return;
  }
  const top = line.offsetTop - box.offsetTop;
  if (top < box.scrollTop || top + line.offsetHeight > box.scrollTop + box.clientHeight) {
    box.scrollTo({ top: Math.max(0, top - box.clientHeight / 3), behavior: "smooth" });
  }
}

/** Select an utterance (and seek the audio to it; ``play`` starts playing). */
function jumpTo(uid, { play = false } = {}) {
  const call = state.call;
  if (!call) return;
  const line = call.lines.get(uid);
  if (!line) return;
  for (const other of $("lines").querySelectorAll("li.selected")) other.classList.remove("selected");
  line.classList.add("selected");
  line.scrollIntoView({ block: "nearest", behavior: "smooth" });
  if (hasAudio()) {
    const audio = $("audio");
    audio.currentTime = Number(line.dataset.start);
    movePlayhead(audio.currentTime);
    if (play) audio.play().catch(() => { /* the browser may refuse to play without a gesture */ });
  }
}

// -- transcript ----------------------------------------------------------------------------------

function renderTranscript(call) {
  const list = $("lines");
  list.replaceChildren();
  list.scrollTop = 0;
  for (const u of call.utterances) {
    const events = call.byUtterance.get(u.utterance_id) || [];
    const line = el("li", {
      class: `line ${u.speaker}`, "data-utterance": u.utterance_id, "data-start": u.start, "data-end": u.end,
      id: `u-${u.utterance_id}`,
    });
    const severities = events.filter((e) => e.type === "compliance").map((e) => e.severity).sort();
    if (severities.length) line.classList.add("has-violation", `worst-${severities[0]}`);
    const time = el("button", { type: "button", class: "time", title: "Play from here" }, clock(u.start));
    time.addEventListener("click", () => jumpTo(u.utterance_id, { play: true }));
    const addNote = isReviewer()
      ? el("button", { type: "button", class: "add-note link", title: "Add a note on this line",
        onclick: () => openNoteForm(u.utterance_id) }, "+ note")
      : "";
    line.append(
      el("div", { class: "meta" }, time, el("span", { class: "who" }, words(u.speaker)),
        el("span", { class: "stage" }, u.stage ? words(u.stage) : ""), addNote),
      el("p", { class: "text", lang: call.detail.language === "zh" ? "zh" : "en" }, u.text),
      badges(events),
      el("ul", { class: "notes" }));
    line.addEventListener("click", (event) => {
      if (event.target.closest("button, a, details, form, textarea, input, .notes")) return;
      jumpTo(u.utterance_id, { play: true });
    });
    call.lines.set(u.utterance_id, line);
    list.append(line);
  }
  $("add-call-note").hidden = !isReviewer();
}

function badges(events) {
  const box = el("div", { class: "badges" });
  for (const e of events) {
    if (e.type === "sentiment") {
      box.append(el("span", {
        class: `badge emotion ${e.label}`,
        title: `emotion ${e.label}, valence ${signed(e.valence)}, confidence ${percent(e.confidence)}${e.evidence && e.evidence.length ? ` · cues: ${e.evidence.join(", ")}` : ""}`,
      }, e.label, " ", el("small", {}, signed(e.valence))));
    } else if (e.type === "intent") {
      const first = (e.suggestions || [])[0];
      box.append(el("details", { class: `badge-detail intent ${e.kind}` },
        el("summary", { title: first ? `Say: ${first.text}` : "" }, e.kind === "objection" ? "Objection: " : "Commitment: ", e.name,
          " ", el("small", {}, percent(e.confidence))),
        el("div", { class: "detail" },
          ...(e.suggestions || []).map((s) => el("div", { class: "script" },
            el("p", { class: "say" }, s.text),
            s.principle ? el("p", { class: "why" }, s.principle) : "")),
          e.escalation ? el("p", { class: "escalate" }, `Escalate to ${e.escalation.to}: ${e.escalation.reason}`) : "",
          el("p", { class: "evidence" }, `Matched: “${e.evidence}” · ${e.method}`))));
    } else if (e.type === "compliance") {
      box.append(el("details", { class: `badge-detail violation ${e.severity}` },
        el("summary", { title: `${e.name}: ${e.message}` }, `${e.severity} `, e.rule_id),
        el("div", { class: "detail" },
          el("p", { class: "rule-name" }, e.name),
          el("p", {}, e.message),
          el("p", { class: "evidence" }, `Evidence: “${e.evidence}”`),
          el("p", { class: "citation" }, e.citation))));
    }
  }
  return box;
}

// -- notes ---------------------------------------------------------------------------------------

function noteItem(note) {
  const mine = state.me && state.me.name === note.author;
  const admin = state.me && state.me.role === "admin";  // may delete any note, edit only their own
  const item = el("li", { class: "note", "data-note": note.id },
    el("div", { class: "note-meta" }, el("strong", {}, note.author), ` · ${when(note.created_at)}`,
      note.edited_at ? el("span", { class: "edited", title: when(note.edited_at) }, " · edited") : "",
      mine ? el("button", { type: "button", class: "link edit-note", onclick: () => editNote(note, item) }, "edit") : "",
      mine || admin ? el("button", { type: "button", class: "link delete-note", onclick: () => deleteNote(note, item) }, "delete") : ""),
    el("p", {}, note.text));
  return item;
}

/** Its author corrects a note in place (PATCH); the note then says it was edited. */
function editNote(note, item) {
  const text = el("textarea", { rows: "3", maxlength: "10000", required: true });
  text.value = note.text;
  const error = el("p", { class: "error", hidden: true });
  const form = el("form", { class: "note-form" }, text,
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", onclick: () => renderNotes(state.call) }, "Cancel")), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const call = state.call;
    try {
      const saved = await api(callPath(call.detail.id, `/notes/${note.id}`), { method: "PATCH", json: { text: text.value.trim() } });
      call.notes = call.notes.map((n) => (n.id === saved.id ? saved : n));
      renderNotes(call);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { fail(err); return; }
      error.textContent = explain(err);
      error.hidden = false;
    }
  });
  item.querySelector(":scope > p").replaceWith(form);
  text.focus();
}

/** Its author takes a note back (DELETE), after saying so. */
async function deleteNote(note, item) {
  if (!window.confirm("Delete this note?")) return;
  const call = state.call;
  try {
    await api(callPath(call.detail.id, `/notes/${note.id}`), { method: "DELETE" });
    call.notes = call.notes.filter((n) => n.id !== note.id);
    renderNotes(call);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { fail(err); return; }
    item.append(el("p", { class: "error" }, explain(err)));
  }
}

function renderNotes(call) {
  const callNotes = call.notes.filter((n) => n.utterance_id === null || !call.lines.has(n.utterance_id));
  $("call-notes").replaceChildren(callNotes.length
    ? el("div", {}, el("h3", {}, "Notes on the call"), el("ul", { class: "notes" }, ...callNotes.map(noteItem)))
    : "");
  for (const [uid, line] of call.lines) {
    const notes = call.notes.filter((n) => n.utterance_id === uid);
    line.querySelector(":scope > .notes").replaceChildren(...notes.map(noteItem));
    line.classList.toggle("has-notes", notes.length > 0);
  }
}

function openNoteForm(uid) {
  if (state.openForm) state.openForm.remove();
  const text = el("textarea", { rows: "3", maxlength: "10000", required: true,
    placeholder: uid === null ? "A note on the whole call…" : "A note on this line…" });
  const error = el("p", { class: "error", hidden: true });
  const save = el("button", { type: "submit" }, "Save note");
  const form = el("form", { class: "note-form" }, text,
    el("div", { class: "actions" }, save,
      el("button", { type: "button", class: "secondary", onclick: () => { form.remove(); state.openForm = null; } }, "Cancel")),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    save.disabled = true;
    const call = state.call;
    try {
      const note = await api(callPath(call.detail.id, "/notes"), { method: "POST", json: { text: value, utterance_id: uid } });
      if (state.call !== call) return;
      call.notes.push(note);
      form.remove();
      state.openForm = null;
      renderNotes(call);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { fail(err); return; }
      error.textContent = explain(err);
      error.hidden = false;
      save.disabled = false;
    }
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { form.remove(); state.openForm = null; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  if (uid === null) $("call-notes").after(form);
  else state.call.lines.get(uid).append(form);
  state.openForm = form;
  text.focus();
}

// -- violations, objections, scorecard ----------------------------------------------------------------

function findingTime(event) {
  if (event.utterance_id === null || event.utterance_id === undefined) return event.time ? `at ${clock(event.time)}` : "before the call";
  return clock(event.time);
}

function renderFindings(call) {
  const violations = [...call.violations].sort((a, b) => a.severity.localeCompare(b.severity) || (a.time || 0) - (b.time || 0));
  $("violation-count").textContent = violations.length ? String(violations.length) : "";
  $("violations").replaceChildren(...(violations.length ? violations.map((v) => finding(v, `finding violation ${v.severity}`,
    [el("span", { class: `sev ${v.severity}` }, v.severity), el("strong", {}, v.rule_id), ` ${v.name}`],
    [el("p", {}, v.message), el("p", { class: "evidence" }, `“${v.evidence}” · ${v.citation}`)]))
    : [el("li", { class: "empty" }, "No violations found.")]));

  $("objection-count").textContent = call.intents.length ? String(call.intents.length) : "";
  $("objections").replaceChildren(...(call.intents.length ? call.intents.map((i) => {
    const first = (i.suggestions || [])[0];
    return finding(i, `finding intent ${i.kind}`,
      [el("strong", {}, i.name), el("small", { class: "muted" }, ` ${i.kind} · ${percent(i.confidence)}`)],
      [first ? el("p", { class: "say" }, first.text) : "",
        i.escalation ? el("p", { class: "escalate" }, `Escalate to ${i.escalation.to}`) : ""]);
  }) : [el("li", { class: "empty" }, "No objections detected.")]));
}

function finding(event, cls, head, body) {
  const linked = event.utterance_id !== null && event.utterance_id !== undefined && state.call.lines.has(event.utterance_id);
  const item = el("li", { class: `${cls}${linked ? " linked" : ""}`, "data-utterance": linked ? event.utterance_id : null,
    tabindex: linked ? "0" : null },
  el("div", { class: "finding-head" }, el("span", { class: "at" }, findingTime(event)), ...head), ...body);
  if (linked) {
    item.addEventListener("click", () => jumpTo(event.utterance_id));
    item.addEventListener("keydown", (e) => { if (e.key === "Enter") jumpTo(event.utterance_id); });
  }
  return item;
}

function renderScorecard(call) {
  const card = call.scorecard;
  const box = $("scorecard");
  if (!card) {
    box.replaceChildren(el("p", { class: "muted" }, "No scorecard (the call may still be live)."));
    return;
  }
  const mark = (passed) => (passed === true ? "✓" : passed === false ? "✗" : "–");
  const cls = (passed) => (passed === true ? "pass" : passed === false ? "fail" : "na");
  const counts = { pass: 0, fail: 0, na: 0 };
  for (const c of card.checks) counts[cls(c.passed)] += 1;
  const metrics = card.metrics || {};
  const metricRows = [
    ["Agent talk ratio", percent(metrics.agent_talk_ratio)], ["Interruptions", metrics.interruptions],
    ["Long silences", metrics.long_silences], ["Duration", clock(metrics.duration)],
    ["Utterances", metrics.utterances], ["Identity verified", metrics.identity_verified === undefined ? "" : metrics.identity_verified ? "yes" : "no"],
  ].filter(([, v]) => v !== undefined && v !== null && v !== "");
  box.replaceChildren(
    el("div", { class: "score-line" },
      el("span", { class: `big-score ${scoreClass(card.score)}` }, card.score === null ? "n/a" : points(card.score)),
      el("span", { class: "muted" }, card.score === null ? "" : "/100"),
      el("span", { class: "tally" }, `${counts.pass} passed · ${counts.fail} failed · ${counts.na} n/a`)),
    (card.auto_failed || []).length ? el("p", { class: "auto-failed" }, "Failed on a critical check: ",
      card.auto_failed.map((id) => (card.checks.find((c) => c.id === id) || { name: id }).name).join(", "),
      " (score 0)") : "",
    el("ul", { class: "checks" }, ...card.checks.map((c) => el("li", { class: `${cls(c.passed)}${c.fails_call ? " critical" : ""}` },
      el("span", { class: "mark", "aria-label": cls(c.passed) }, mark(c.passed)),
      el("div", {}, el("span", { class: "check-name" }, c.name), c.weight !== 1 ? el("small", { class: "muted" }, ` ×${c.weight}`) : "",
        c.fails_call ? el("small", { class: "muted", title: "failing it fails the call" }, " · critical") : "",
        c.detail ? el("div", { class: "check-detail" }, c.detail) : "")))),
    el("h3", {}, "Metrics"),
    el("dl", { class: "facts metrics" }, ...metricRows.map(([k, v]) => fact([k, String(v)]))),
    (card.stages || []).length ? el("h3", {}, "Stages reached") : "",
    (card.stages || []).length ? el("ol", { class: "stages" }, ...card.stages.map((s) => el("li", {},
      el("span", { class: "at" }, clock(s.time)), ` ${words(s.stage)}`))) : "");
}

// -- the emotion timeline ------------------------------------------------------------------------

const PLOT = { height: 214, left: 78, right: 14, top: 12, plotHeight: 116, lane1: 150, lane2: 172, axis: 198 };

function drawPlot(call) {
  const box = $("plot");
  const width = Math.max(480, Math.floor(box.clientWidth || 900));
  const P = PLOT;
  const x = (t) => P.left + (Math.max(0, Math.min(call.duration, t)) / call.duration) * (width - P.left - P.right);
  const y = (v) => P.top + ((1 - Math.max(-1, Math.min(1, v))) / 2) * P.plotHeight;
  const bottom = P.top + P.plotHeight;
  const root = svg("svg", { width, height: P.height, viewBox: `0 0 ${width} ${P.height}`, role: "img",
    "aria-label": "Debtor valence over the call, with objections and violations" });

  // background bands, grid and axes
  const background = svg("rect", { class: "plot-bg", x: P.left, y: P.top, width: width - P.left - P.right, height: P.plotHeight });
  background.addEventListener("click", (event) => {
    const rect = root.getBoundingClientRect();
    const t = ((event.clientX - rect.left - P.left) / (width - P.left - P.right)) * call.duration;
    seekTo(t);
  });
  root.append(
    svg("rect", { class: "band positive", x: P.left, y: P.top, width: width - P.left - P.right, height: P.plotHeight / 2 }),
    svg("rect", { class: "band negative", x: P.left, y: y(0), width: width - P.left - P.right, height: P.plotHeight / 2 }),
    background);
  for (const v of [1, 0.5, 0, -0.5, -1]) {
    root.append(svg("line", { class: v === 0 ? "zero" : "grid", x1: P.left, x2: width - P.right, y1: y(v), y2: y(v) }));
  }
  root.append(
    svg("text", { class: "axis-label", x: P.left - 8, y: y(1) + 4, "text-anchor": "end" }, "+1"),
    svg("text", { class: "axis-label", x: P.left - 8, y: y(0) + 4, "text-anchor": "end" }, "0"),
    svg("text", { class: "axis-label", x: P.left - 8, y: y(-1) + 4, "text-anchor": "end" }, "−1"),
    svg("text", { class: "axis-title", x: 12, y: y(0) + 4, transform: `rotate(-90 12 ${y(0)})`, "text-anchor": "middle" }, "valence"),
    svg("text", { class: "lane-label", x: P.left - 8, y: P.lane1 + 4, "text-anchor": "end" }, "objections"),
    svg("text", { class: "lane-label", x: P.left - 8, y: P.lane2 + 4, "text-anchor": "end" }, "violations"),
    svg("line", { class: "lane", x1: P.left, x2: width - P.right, y1: P.lane1, y2: P.lane1 }),
    svg("line", { class: "lane", x1: P.left, x2: width - P.right, y1: P.lane2, y2: P.lane2 }));
  const step = tickStep(call.duration, (width - P.left - P.right) / 70);
  for (let t = 0; t <= call.duration + 1e-6; t += step) {
    root.append(svg("line", { class: "tick", x1: x(t), x2: x(t), y1: bottom, y2: P.lane2 + 8 }),
      svg("text", { class: "axis-label", x: x(t), y: P.axis, "text-anchor": "middle" }, clock(t)));
  }

  // the valence line and its points
  const points = call.sentiments.map((s) => [x(s.time ?? 0), y(s.valence)]);
  if (points.length > 1) root.append(svg("polyline", { class: "valence-line", points: points.map((p) => p.join(",")).join(" ") }));
  call.sentiments.forEach((s, i) => {
    const text = lineText(s.utterance_id);
    const point = svg("circle", { class: `point ${s.label} ${s.speaker || ""}`, cx: points[i][0], cy: points[i][1], r: 5.5,
      "data-utterance": s.utterance_id, tabindex: "0" },
    svg("title", {}, `${clock(s.time)} ${words(s.speaker)}: ${s.label} (${signed(s.valence)})${text ? ` · ${text}` : ""}`));
    activate(point, () => jumpTo(s.utterance_id));
    root.append(point);
  });

  // objection markers (diamonds) and violation markers (one per utterance, in its worst severity)
  for (const i of call.intents) {
    const cx = x(i.time ?? 0);
    const marker = svg("path", { class: `marker intent ${i.kind}`, d: `M${cx} ${P.lane1 - 7} l7 7 l-7 7 l-7 -7 z`,
      "data-utterance": i.utterance_id, tabindex: "0" },
    svg("title", {}, `${clock(i.time)} ${i.name} (${percent(i.confidence)})`));
    activate(marker, () => jumpTo(i.utterance_id));
    root.append(marker);
  }
  const groups = new Map();
  for (const v of call.violations) {
    const key = v.utterance_id ?? `t${v.time}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(v);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.severity.localeCompare(b.severity));
    const worst = group[0];
    const cx = x(worst.time ?? 0);
    const size = worst.severity === "S1" ? 7 : 5.5;
    const marker = svg("path", { class: `marker violation ${worst.severity}`,
      d: `M${cx} ${P.lane2 - size} l${size} ${size * 1.7} l${-2 * size} 0 z`,
      "data-utterance": worst.utterance_id ?? null, tabindex: "0" },
    svg("title", {}, `${clock(worst.time)} ${group.map((v) => `${v.severity} ${v.rule_id}`).join(", ")}${worst.utterance_id === null ? " (call level)" : ""}`));
    activate(marker, () => (worst.utterance_id === null ? highlightFinding(worst) : jumpTo(worst.utterance_id)));
    root.append(marker);
  }

  const playhead = svg("line", { id: "playhead", class: "playhead", x1: P.left, x2: P.left, y1: P.top - 4, y2: P.lane2 + 10 });
  playhead.style.display = call.detail.has_audio ? "" : "none";
  root.append(playhead);
  box.replaceChildren(root);
  call.x = x;
  movePlayhead(hasAudio() ? $("audio").currentTime : 0);
  renderLegend(call);
}

function activate(node, action) {
  node.addEventListener("click", (event) => { event.stopPropagation(); action(); });
  node.addEventListener("keydown", (event) => { if (event.key === "Enter") action(); });
}

function tickStep(duration, maxTicks) {
  for (const step of [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (duration / step <= maxTicks) return step;
  return 7200;
}

function lineText(uid) {
  const u = state.call && state.call.utterances.find((x) => x.utterance_id === uid);
  if (!u) return "";
  return u.text.length > 80 ? `${u.text.slice(0, 79)}…` : u.text;
}

function movePlayhead(t) {
  const line = document.getElementById("playhead");
  if (!line || !state.call || !state.call.x) return;
  const px = state.call.x(t);
  line.setAttribute("x1", px);
  line.setAttribute("x2", px);
}

function seekTo(t) {
  const uid = utteranceAt(t);
  if (hasAudio()) {
    $("audio").currentTime = Math.max(0, t);
    movePlayhead($("audio").currentTime);
  }
  if (uid !== null) {
    const line = state.call.lines.get(uid);
    for (const other of $("lines").querySelectorAll("li.selected")) other.classList.remove("selected");
    line.classList.add("selected");
    line.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

function highlightFinding(event) {
  const items = [...$("violations").children];
  const index = [...state.call.violations].sort((a, b) => a.severity.localeCompare(b.severity) || (a.time || 0) - (b.time || 0)).indexOf(event);
  const item = items[index];
  if (!item) return;
  item.scrollIntoView({ block: "nearest", behavior: "smooth" });
  item.classList.add("flash");
  setTimeout(() => item.classList.remove("flash"), 1500);
}

function renderLegend(call) {
  const seen = new Set(call.sentiments.map((s) => s.label));
  const labels = EMOTIONS.filter((l) => seen.has(l)).concat([...seen].filter((l) => !EMOTIONS.includes(l)));
  const severities = SEVERITIES.filter((s) => call.violations.some((v) => v.severity === s));
  const dot = (cls) => {
    const icon = svg("svg", { width: 12, height: 12, viewBox: "0 0 12 12", "aria-hidden": "true" });
    icon.append(svg("circle", { class: `point ${cls}`, cx: 6, cy: 6, r: 5 }));
    return icon;
  };
  const shape = (cls, d) => {
    const icon = svg("svg", { width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" });
    icon.append(svg("path", { class: `marker ${cls}`, d }));
    return icon;
  };
  const others = call.sentiments.some((s) => s.speaker && s.speaker !== "debtor");
  $("legend").replaceChildren(
    ...labels.map((l) => el("span", { class: "key" }, dot(l), l)),
    others ? el("span", { class: "key" }, dot("third_party"), "not the debtor (faint)") : "",
    call.intents.length ? el("span", { class: "key" }, shape("intent objection", "M7 0 l7 7 l-7 7 l-7 -7 z"), "objection") : "",
    ...severities.map((s) => el("span", { class: "key" }, shape(`violation ${s}`, "M7 1 l6 11 l-12 0 z"), s)));
  if (!call.sentiments.length) $("legend").prepend(el("span", { class: "muted" }, "no debtor emotion in this call"));
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
      $("signin-error").textContent = explain(error);
      $("signin-error").hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("message-close").addEventListener("click", clearMessage);
  $("filters").addEventListener("submit", applyFilters);
  $("filters-reset").addEventListener("click", () => { $("filters").reset(); navigate("#"); });
  $("upload-toggle").addEventListener("click", toggleUpload);
  $("upload").addEventListener("submit", upload);
  $("add-call-note").addEventListener("click", () => openNoteForm(null));
  $("back").addEventListener("click", (event) => { event.preventDefault(); navigate(state.listHash || "#"); });
  const audio = $("audio");
  audio.addEventListener("timeupdate", onTime);
  audio.addEventListener("seeked", onTime);
  audio.addEventListener("error", () => {
    if (audio.getAttribute("src") && state.call) showMessage("The recording could not be played (it may be missing on the server, or the browser cannot decode it).");
  });
  window.addEventListener("hashchange", route);
  let resize = null;
  window.addEventListener("resize", () => {
    clearTimeout(resize);
    resize = setTimeout(() => { if (state.call && !$("call-view").hidden) drawPlot(state.call); }, 150);
  });
}

async function start() {
  wire();
  const token = storedToken();
  if (!token) {
    signOut();
    return;
  }
  try {
    let remembered = true;
    try { remembered = Boolean(localStorage.getItem(TOKEN_KEY)); } catch { /* storage disabled */ }
    await signIn(token, remembered);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut(explain(error));
    } else {
      // keep the token (the server may come back): show why, with the sign-in form to try again
      showView("signin");
      $("signin-error").textContent = explain(error);
      $("signin-error").hidden = false;
    }
    return;
  }
  route();
}

start();
