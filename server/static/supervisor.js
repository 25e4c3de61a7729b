// The supervisor's live floor: every call in progress the token may see, riskiest first, alerts with a
// sound and an Acknowledge button, and one call opened at a time with its live transcript, its events
// and a private note to the agent. Fed by the WebSocket /v1/supervisor (docs/supervisor.md). Plain
// browser JavaScript, no build step, no external assets.
"use strict";

const WATCHERS = new Set(["supervisor", "coach", "admin"]);
const state = { token: null, me: null, ws: null, retry: 0, calls: new Map(), tiles: new Map(), alerts: new Map(), open: null,
                audio: null, beeps: 0, timer: null };

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = `status ${kind || ""}`;
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function onCall(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// -- the socket ----------------------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/supervisor?token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  setStatus("connecting…");
  ws.onmessage = (message) => onMessage(JSON.parse(message.data));
  ws.onclose = (close) => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (close.code === 4401 || close.code === 4403) {
      setStatus("refused", "error");
      return;
    }
    if (!state.token) return;
    const wait = Math.min(30, 2 ** state.retry++);
    setStatus(`disconnected · reconnecting in ${wait} s`, "error");
    setTimeout(() => state.token && !state.ws && connect(), wait * 1000);
  };
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function onMessage(message) {
  switch (message.type) {
    case "snapshot":
      state.retry = 0;
      setStatus("live", "live");
      state.calls = new Map(message.calls.map((call) => [call.call_id, call]));
      for (const alert of message.alerts) showAlert(alert, false);
      renderFloor();
      if (state.open && state.calls.has(state.open)) send({ type: "subscribe", call_id: state.open });
      break;
    case "call": state.calls.set(message.call.call_id, message.call); renderFloor(); break;
    case "ended": onEnded(message); break;
    case "alert": showAlert(message, true); break;
    case "alert_ack": onAck(message); break;
    case "subscribed": onSubscribed(message); break;
    case "events": if (message.call_id === state.open) message.events.forEach(showEvent); break;
    case "note_sent": $("note-status").textContent = `Note sent at ${clock(message.at)}.`; $("note").value = ""; break;
    case "error": onError(message); break;
    case "pong": break;
  }
}

function onError(message) {
  if (message.code === "unauthorized" || message.code === "forbidden") {
    showSignIn(message.message);
    return;
  }
  if (message.code === "unknown_call" || message.code === "agent_gone") $("note-status").textContent = message.message;
  else setStatus(`error: ${message.message}`, "error");
}

// -- the floor -----------------------------------------------------------------------------------

function riskClass(call) {
  const first = call.risk_reasons[0] || "";
  return first.startsWith("S1") ? "risk-s1" : first.startsWith("language") || first.startsWith("negative") ? "risk-emotion"
    : first ? "risk-objection" : "";
}

function sparkline(values) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "70");
  svg.setAttribute("height", "18");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "the debtor's valence over the call");
  if (values.length > 1) {
    const points = values.map((v, i) => `${(i * 68) / (values.length - 1) + 1},${9 - v * 8}`).join(" ");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", values[values.length - 1] < 0 ? "#b91c1c" : "#15803d");
    line.setAttribute("stroke-width", "1.5");
    svg.append(line);
  }
  return svg;
}

/** The call's tile: one element per call, kept while it is on the floor (only its content changes,
 * so a click is never lost to an update arriving under the pointer). */
function tile(call) {
  let item = state.tiles.get(call.call_id);
  if (!item) {
    item = el("li", { "data-call": call.call_id, tabindex: "0" });
    item.addEventListener("click", () => openCall(call.call_id));
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") openCall(call.call_id); });
    state.tiles.set(call.call_id, item);
  }
  const arrow = { worsening: "↘ worsening", improving: "↗ improving", steady: "→ steady" }[call.emotion_trend] || "";
  item.className = `tile ${riskClass(call)}${call.call_id === state.open ? " open" : ""}`;
  item.replaceChildren(
    el("div", { class: "top" }, el("span", {}, call.agent_id ? `Agent ${call.agent_id}` : "Agent ?"),
       el("span", { class: "time", "data-started": call.started_at }, onCall((Date.now() - Date.parse(call.started_at)) / 1000))),
    el("div", { class: "sub" }, [call.team && `team ${call.team}`, call.language, call.stage && `stage: ${call.stage}`, call.call_id]
      .filter(Boolean).join(" · ")));
  if (call.risk_reasons.length) item.append(el("div", { class: "reasons" }, call.risk_reasons.join(" · ")));
  if (call.emotion) {
    item.append(el("div", { class: "emotion" }, el("span", { class: `badge ${call.emotion}` }, call.emotion),
                   sparkline(call.valences), el("span", { class: `trend ${call.emotion_trend || ""}` }, arrow)));
  }
  for (const line of call.last_lines.slice(-3)) item.append(el("p", { class: `line ${line.speaker}` }, line.text));
  for (const v of call.s1_violations.slice(-2)) item.append(el("p", { class: "s1" }, `⚠ ${v.rule_id} ${v.name}`));
  for (const w of call.warnings || []) item.append(el("p", { class: "warning" }, `⚠ ${w.message}`));
  if (call.unhandled_objection) item.append(el("p", { class: "hint" }, `Unanswered: ${call.unhandled_objection.name}`));
  else if (call.last_hint) item.append(el("p", { class: "hint" }, `${call.last_hint.name}${call.last_hint.say ? ` → ${call.last_hint.say}` : ""}`));
  return item;
}

function renderFloor() {
  const calls = [...state.calls.values()].sort((a, b) => b.risk - a.risk || Date.parse(a.started_at) - Date.parse(b.started_at));
  const items = calls.map(tile);
  for (const [callId, item] of state.tiles) {
    if (!state.calls.has(callId)) {
      item.remove();
      state.tiles.delete(callId);
    }
  }
  const list = $("tiles");
  if (items.some((item, i) => list.children[i] !== item)) list.replaceChildren(...items); // only when the order changed
  $("call-count").textContent = String(calls.length);
  $("empty").hidden = calls.length > 0;
  if (state.open && state.calls.has(state.open)) $("detail-title").textContent = title(state.calls.get(state.open));
}

function tick() {
  for (const span of document.querySelectorAll(".tile .time[data-started]")) {
    span.textContent = onCall((Date.now() - Date.parse(span.dataset.started)) / 1000);
  }
}

const title = (call) => `${call.agent_id ? `Agent ${call.agent_id}` : "Call"} · ${call.call_id}`;

// -- one call opened -----------------------------------------------------------------------------

function openCall(callId) {
  if (state.open && state.open !== callId) send({ type: "unsubscribe", call_id: state.open });
  state.open = callId;
  for (const id of ["detail-lines", "detail-events"]) $(id).replaceChildren();
  $("detail-ended").hidden = true;
  $("detail-partial").hidden = true;
  $("note-form").hidden = false;
  $("note-status").textContent = "";
  $("detail").hidden = false;
  $("detail-title").textContent = state.calls.has(callId) ? title(state.calls.get(callId)) : callId;
  send({ type: "subscribe", call_id: callId });
  renderFloor();
}

function closeCall() {
  if (state.open) send({ type: "unsubscribe", call_id: state.open });
  state.open = null;
  $("detail").hidden = true;
  renderFloor();
}

function onSubscribed(message) {
  if (message.call_id !== state.open) return;
  $("detail-lines").replaceChildren();
  $("detail-events").replaceChildren();
  message.events.forEach(showEvent);
}

function showEvent(event) {
  switch (event.type) {
    case "partial":
      $("detail-partial").textContent = `${event.speaker}: ${event.text}`;
      $("detail-partial").hidden = false;
      return;
    case "utterance":
      $("detail-partial").hidden = true;
      $("detail-lines").append(el("li", { class: event.speaker, "data-utterance": String(event.utterance_id) },
        el("span", { class: "who" }, `${event.speaker} · ${event.start.toFixed(1)} s${event.stage ? ` · ${event.stage}` : ""}`), event.text));
      $("detail-lines").scrollTop = $("detail-lines").scrollHeight;
      return;
    case "intent": addEventLine("intent", `${event.name} (${Math.round(event.confidence * 100)} %)${event.suggestions[0] ? ` → ${event.suggestions[0].text}` : ""}`); return;
    case "compliance": addEventLine(event.severity, `${event.severity} ${event.rule_id}: ${event.message} — “${event.evidence}”`); return;
    case "sentiment": if (event.speaker === "debtor") addEventLine("sentiment", `debtor ${event.label} (${event.valence.toFixed(2)})`); return;
    case "scorecard": addEventLine("scorecard", `scorecard: ${event.score === null ? "–" : Math.round(event.score)}`); return;
  }
}

function addEventLine(kind, text) {
  $("detail-events").append(el("li", { class: kind }, text));
  $("detail-events").scrollTop = $("detail-events").scrollHeight;
}

function onEnded(message) {
  state.calls.delete(message.call_id);
  renderFloor();
  if (message.call_id !== state.open) return;
  const box = $("detail-ended");
  box.replaceChildren(`Call ended (${message.status}). `);
  if (message.stored_id) {
    box.append(el("a", { href: `/review#call=${encodeURIComponent(message.stored_id)}`, target: "_blank", class: "review" },
                  "Open its review"));
  }
  box.hidden = false;
  $("note-form").hidden = true;
}

// -- alerts --------------------------------------------------------------------------------------

const KIND = { violation: "Compliance violation", self_harm: "Self-harm cue", vulnerability: "Vulnerable debtor",
               legal: "Lawyer or bankruptcy", stop_calling: "Asked to stop calling" };

function showAlert(alert, fresh) {
  if (state.alerts.has(alert.id)) return;
  const button = el("button", { type: "button", class: "ack" }, "Acknowledge");
  button.addEventListener("click", () => { button.disabled = true; send({ type: "ack", alert_id: alert.id }); });
  const item = el("li", { class: `alert ${alert.severity}`, "data-alert": alert.id, "data-call": alert.call_id },
    el("span", { class: "what" }, `${alert.severity} · ${KIND[alert.kind] || alert.kind}: ${alert.message}`),
    button,
    el("span", { class: "evidence" }, `“${alert.evidence}”`),
    el("span", { class: "meta" }, `${alert.agent_id ? `agent ${alert.agent_id} · ` : ""}call ${alert.call_id} · ${clock(alert.at)}`));
  item.querySelector(".evidence").addEventListener("click", () => state.calls.has(alert.call_id) && openCall(alert.call_id));
  state.alerts.set(alert.id, item);
  $("alert-list").prepend(item);
  while ($("alert-list").children.length > 50) {
    const last = $("alert-list").lastElementChild;
    state.alerts.delete(last.dataset.alert);
    last.remove();
  }
  updateAlertCount();
  if (fresh) beep(alert.severity === "S1" ? 2 : 1);
}

function onAck(message) {
  const item = state.alerts.get(message.id);
  if (!item) return;
  item.classList.add("acked");
  item.querySelector(".meta").append(` · acknowledged by ${message.acknowledged_by} at ${clock(message.acknowledged_at)}`);
  updateAlertCount();
}

function updateAlertCount() {
  const open = $("alert-list").querySelectorAll(".alert:not(.acked)").length;
  $("alert-count").textContent = `${open} open`;
  $("alerts").hidden = $("alert-list").children.length === 0;
}

/** A short tone (two for S1) through WebAudio: no sound file to fetch. */
function beep(times) {
  if (!$("sound").checked) return;
  try {
    state.audio = state.audio || new AudioContext();
    const audio = state.audio;
    if (audio.state === "suspended") audio.resume();
    for (let i = 0; i < times; i++) {
      const start = audio.currentTime + i * 0.25;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.2);
      tone.connect(gain).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.21);
    }
    state.beeps += times;
    document.body.dataset.beeps = String(state.beeps);
  } catch { /* no audio on this machine: the alert still shows */ }
}

// -- signing in ----------------------------------------------------------------------------------

async function signIn(token, remember) {
  const me = await whoami(token);
  if (!WATCHERS.has(me.role)) throw new Error(`a ${me.role}'s token cannot watch live calls: sign in with a supervisor's token`);
  state.token = token;
  state.me = me;
  if (remember !== null) storeToken(token, remember);
  $("whoami").replaceChildren(el("strong", {}, me.name), ` · ${me.role}${me.team ? ` · team ${me.team}` : " · all teams"}`);
  $("signin").hidden = true;
  $("signed-in").hidden = false;
  $("signin-error").hidden = true;
  connect();
}

function showSignIn(reason) {
  $("signed-in").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = reason || "";
  $("signin-error").hidden = !reason;
}

function signOut() {
  storeToken(null);
  state.token = null;
  state.me = null;
  const ws = state.ws;
  state.ws = null;
  if (ws) ws.close();
  state.calls.clear();
  renderFloor();
  setStatus("not connected");
  showSignIn();
}

function init() {
  $("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    // the click is the user's gesture that lets the page play alert sounds later
    try { state.audio = state.audio || new AudioContext(); } catch { /* no audio */ }
    try {
      await signIn(token, $("remember").checked);
      $("token").value = "";
    } catch (error) {
      showSignIn(error.message);
    }
  });
  $("sign-out").addEventListener("click", signOut);
  $("close-detail").addEventListener("click", closeCall);
  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("note").value.trim();
    if (!text || !state.open) return;
    $("note-status").textContent = "Sending…";
    send({ type: "note", call_id: state.open, text });
  });
  state.timer = setInterval(tick, 1000);
  const token = storedToken();
  if (token) signIn(token, null).catch((error) => showSignIn(error.message));
  else showSignIn();
}

init();
