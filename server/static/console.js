// The agent console: streams a call (a bundled sample, or the microphone) to /v1/stream and shows
// the transcript and hint cards as events arrive. Plain browser JavaScript, no build step.
//
// Streaming needs an API token (an agent's, an integration's or an admin's), entered once like on the
// review page, which shares it: a browser cannot send headers on a WebSocket, so it goes in ?token=
// (the server masks it in its logs).
"use strict";

const RATE = 16000;
const CHUNK = RATE / 10; // 100 ms frames
const STREAMERS = new Set(["agent", "integration", "admin"]);
const state = { ws: null, stop: null, lines: new Map(), hints: 0, started: 0, token: null, me: null };

function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = state.token ? `?token=${encodeURIComponent(state.token)}` : "";
  return `${scheme}://${location.host}/v1/stream${query}`;
}

function setStatus(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = `status ${kind || ""}`;
}

function reset() {
  for (const id of ["lines", "cards", "warnings", "call-warnings", "notes"]) $(id).replaceChildren();
  for (const id of ["partial-agent", "partial-debtor", "alarm", "call-warnings", "scorecard", "notes"]) $(id).hidden = true;
  $("emotion").textContent = "–";
  $("emotion").className = "emotion";
  state.lines.clear();
  state.hints = 0;
}

// -- events --------------------------------------------------------------------------------------

function onEvent(event) {
  switch (event.type) {
    case "ready": setStatus(`live · ${event.playbook}`, "live"); break;
    case "partial": showPartial(event); break;
    case "utterance": showUtterance(event); break;
    case "sentiment": showSentiment(event); break;
    case "intent": showIntent(event); break;
    case "compliance": showWarning(event); break;
    case "scorecard": showScorecard(event); break;
    case "supervisor_note": showNote(event); break;
    case "warning": showCallWarning(event); break;
    case "error":
      setStatus(`error: ${event.message}`, "error");
      if (event.code === "unauthorized" || event.code === "forbidden") showSignIn(event.message);
      break;
  }
  if (event.lag !== undefined && event.lag !== null) $("stats").textContent = `server lag ${event.lag.toFixed(2)} s · ${state.hints} hints`;
}

function showPartial(event) {
  const box = $(event.speaker === "agent" ? "partial-agent" : "partial-debtor");
  const rest = event.text.slice(event.stable_text.length);
  box.replaceChildren(el("span", { class: "stable" }, event.stable_text), rest);
  box.hidden = false;
}

function showUtterance(event) {
  $(event.speaker === "agent" ? "partial-agent" : "partial-debtor").hidden = true;
  const who = `${event.speaker} · ${event.start.toFixed(1)} s${event.stage && event.speaker === "agent" ? " · " + event.stage : ""}`;
  const line = el("li", { class: event.speaker, "data-utterance": event.utterance_id }, el("span", { class: "who" }, who), event.text);
  state.lines.set(event.utterance_id, line);
  $("lines").append(line);
  line.scrollIntoView({ block: "end" });
}

function showSentiment(event) {
  const badge = $("emotion");
  badge.textContent = `${event.label} (${event.valence >= 0 ? "+" : ""}${event.valence.toFixed(2)})`;
  badge.className = `emotion ${event.label}`;
  $("valence").firstElementChild.style.left = `${((event.valence + 1) / 2) * 100}%`;
}

function showIntent(event) {
  state.hints += 1;
  const suggestion = event.suggestions[0];
  const card = el("li", { class: "card", "data-intent": event.intent, "data-utterance": event.utterance_id },
    el("h3", {}, event.name, " ", el("span", { class: "conf" }, `${event.kind} · ${(event.confidence * 100).toFixed(0)}%`)),
    suggestion ? el("p", { class: "say" }, suggestion.text) : "",
    suggestion && suggestion.principle ? el("p", { class: "why" }, suggestion.principle) : "",
    event.escalation ? el("p", { class: "escalate" }, `Escalate to ${event.escalation.to}: ${event.escalation.reason}`) : "",
    el("p", { class: "evidence" }, `Heard: “${(state.lines.get(event.utterance_id) || {}).lastChild?.textContent || ""}” · like “${event.evidence}”`),
    el("p", { class: "ref" }, suggestion ? suggestion.ref : event.ref));
  // newest turn first; within a turn the first hint (the top one) stays first, a second objection after it
  const sameTurn = [...$("cards").children].filter((other) => other.dataset.utterance === String(event.utterance_id));
  if (sameTurn.length) sameTurn[sameTurn.length - 1].after(card); else $("cards").prepend(card);
  while ($("cards").children.length > 4) $("cards").lastElementChild.remove();
}

function showWarning(event) {
  const item = el("li", { class: `warning ${event.severity}`, "data-rule": event.rule_id },
    el("span", { class: "sev" }, `${event.severity} ${event.rule_id}`), event.message,
    el("p", { class: "evidence" }, `${event.evidence} · ${event.citation}`));
  const list = $("warnings");
  const after = [...list.children].find((other) => other.className.split(" ")[1] > event.severity);
  list.insertBefore(item, after || null);
  if (event.utterance_id !== null && state.lines.has(event.utterance_id)) state.lines.get(event.utterance_id).classList.add("violation");
  if (event.severity === "S1") {
    const alarm = $("alarm");
    alarm.textContent = `⚠ ${event.rule_id}: ${event.message}`;
    alarm.hidden = false;
  }
}

/** A warning about the whole call (the speech is not in the language the call was started with):
 * a banner that stays until the next call, since every hint of this one is in doubt. */
function showCallWarning(event) {
  const list = $("call-warnings");
  if ([...list.children].some((item) => item.dataset.code === event.code)) return;
  list.append(el("li", { class: "call-warning", "data-code": event.code }, el("strong", {}, "⚠ Check the call: "), event.message));
  list.hidden = false;
}

/** A supervisor's private note, newest first, for the agent's eyes only. */
function showNote(event) {
  const at = new Date(event.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const item = el("li", { class: "note" }, el("strong", {}, `Supervisor ${event.author} · ${at}: `), event.text);
  $("notes").prepend(item);
  while ($("notes").children.length > 3) $("notes").lastElementChild.remove();
  $("notes").hidden = false;
}

function showScorecard(event) {
  const box = $("scorecard");
  const checks = event.checks.map((check) => el("li", { class: check.passed === true ? "pass" : check.passed === false ? "fail" : "na" },
    `${check.passed === true ? "✓" : check.passed === false ? "✗" : "–"} ${check.name}`));
  box.replaceChildren(el("h2", {}, "QA scorecard"), el("div", { class: "score" }, event.score === null ? "n/a" : `${event.score}/100`), el("ul", {}, ...checks));
  box.hidden = false;
  setStatus("call ended", "idle");
}

// -- streaming -----------------------------------------------------------------------------------

function connect(start) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl());
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { ws.send(JSON.stringify(start)); resolve(ws); };
    ws.onerror = () => { setStatus("cannot reach the server", "error"); reject(new Error("websocket")); };
    ws.onmessage = (message) => onEvent(JSON.parse(message.data));
    ws.onclose = () => finish();
  });
}

function toPcm16(channels, from, to) {
  const count = channels.length;
  const out = new Int16Array((to - from) * count);
  for (let i = from; i < to; i++) {
    for (let c = 0; c < count; c++) {
      const sample = Math.max(-1, Math.min(1, channels[c][i]));
      out[(i - from) * count + c] = sample < 0 ? sample * 32768 : sample * 32767;
    }
  }
  return out.buffer;
}

async function playSample() {
  const name = $("sample").value;
  const sample = state.samples.find((s) => s.name === name);
  reset();
  setStatus("loading sample…");
  const encoded = await (await fetch(sample.audio)).arrayBuffer();
  const decoder = new (window.AudioContext || window.webkitAudioContext)();
  const decoded = await decoder.decodeAudioData(encoded);
  // Resample to 16 kHz for the server; play the original out loud in step with the stream.
  const offline = new OfflineAudioContext(decoded.numberOfChannels, Math.ceil(decoded.duration * RATE), RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const resampled = await offline.startRendering();
  const channels = [...Array(resampled.numberOfChannels).keys()].map((c) => resampled.getChannelData(c));
  const roles = channels.length > 1 ? ["agent", "debtor"] : ["debtor"];
  // sample: the server feeds the call its own copy of this bundled sample, frame for frame as ours
  // arrive (they only set the pace), and stores it as a demo call, left out of the call lists
  const ws = await connect({ type: "start", call_id: `${name}-${Date.now()}`, language: sample.language, encoding: "pcm_s16le",
    sample_rate: RATE, channels: channels.length, channel_roles: roles, metadata: sample.metadata, sample: name });
  const speaker = decoder.createBufferSource();
  speaker.buffer = decoded;
  speaker.connect(decoder.destination);
  speaker.start();
  state.started = performance.now();
  let offset = 0;
  const timer = setInterval(() => {
    if (ws.readyState > WebSocket.OPEN) { finish(); return; } // refused or cut off: stop playing too
    const due = Math.min(channels[0].length, Math.floor(((performance.now() - state.started) / 1000) * RATE));
    while (offset + CHUNK <= due || (due === channels[0].length && offset < due)) {
      const end = Math.min(offset + CHUNK, channels[0].length);
      if (ws.readyState === WebSocket.OPEN) ws.send(toPcm16(channels, offset, end));
      offset = end;
    }
    if (offset >= channels[0].length) { clearInterval(timer); stopStream(); }
  }, 50);
  state.stop = () => { clearInterval(timer); try { speaker.stop(); } catch (e) { /* already stopped */ } decoder.close(); };
  state.ws = ws;
  $("stop").disabled = false;
}

async function useMicrophone() {
  reset();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
  const context = new AudioContext({ sampleRate: RATE });
  const input = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(4096, 1, 1);
  const ws = await connect({ type: "start", call_id: `mic-${Date.now()}`, language: $("mic-language").value, encoding: "pcm_s16le",
    sample_rate: RATE, channels: 1, channel_roles: [$("mic-role").value], metadata: {} });
  processor.onaudioprocess = (e) => {
    const samples = e.inputBuffer.getChannelData(0);
    if (ws.readyState === WebSocket.OPEN) ws.send(toPcm16([samples], 0, samples.length));
  };
  input.connect(processor);
  processor.connect(context.destination);
  state.stop = () => { processor.disconnect(); input.disconnect(); stream.getTracks().forEach((t) => t.stop()); context.close(); };
  state.ws = ws;
  $("stop").disabled = false;
}

function stopStream() {
  if (state.stop) { state.stop(); state.stop = null; }
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: "stop" }));
  $("stop").disabled = true;
}

function finish() {
  if (state.stop) { state.stop(); state.stop = null; }
  $("stop").disabled = true;
  $("play").disabled = false;
  $("mic").disabled = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

// -- signing in ----------------------------------------------------------------------------------

async function signIn(token, remember) {
  const me = await whoami(token);
  if (!STREAMERS.has(me.role)) throw new Error(`a ${me.role}'s token cannot stream calls: sign in with an agent's token`);
  state.token = token;
  state.me = me;
  if (remember !== null) storeToken(token, remember);
  const scope = me.agent_id ? ` · agent ${me.agent_id}` : "";
  $("whoami").replaceChildren(el("strong", {}, me.name), ` · ${me.role}${scope}${me.team ? ` · team ${me.team}` : ""}`);
  $("signin").hidden = true;
  $("signed-in").hidden = false;
  $("signin-error").hidden = true;
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
  $("token").value = "";
  showSignIn();
}

function wireSignIn() {
  $("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    try {
      await signIn(token, $("remember").checked);
      $("token").value = "";
    } catch (error) {
      showSignIn(error.message);
    }
  });
  $("sign-out").addEventListener("click", signOut);
}

async function init() {
  wireSignIn();
  const token = storedToken();
  if (token) {
    // a token the review page keeps may be a coach's: say why it cannot stream, but keep it for that page
    signIn(token, null).catch((error) => showSignIn(error.message));
  } else {
    showSignIn();
  }
  state.samples = await (await fetch("/v1/samples")).json();
  $("sample").replaceChildren(...state.samples.map((s) => el("option", { value: s.name }, `${s.name} (${s.language})`)));
  $("play").onclick = () => { $("play").disabled = true; $("mic").disabled = true; playSample().catch((e) => { setStatus(e.message, "error"); finish(); }); };
  $("mic").onclick = () => { $("play").disabled = true; $("mic").disabled = true; useMicrophone().catch((e) => { setStatus(`microphone: ${e.message}`, "error"); finish(); }); };
  $("stop").onclick = stopStream;
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    $("mic").disabled = true;
    $("mic").title = "The browser allows the microphone only on https or localhost.";
  }
}

init();
