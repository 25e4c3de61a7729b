// Helpers shared by the static pages (console, review, supervisor, trainer): a DOM builder, the API
// token's storage, API requests and their errors in words, and the message banner. A plain classic
// script, loaded by each page's HTML before the page's own script, so its declarations are globals
// every page script sees (modules included). Plain browser JavaScript, no build step, nothing fetched
// from anywhere but this server.
//
// Everything the API returns is user content: el() and svg() put it into the page as text nodes and
// attributes, never as HTML.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const TOKEN_KEY = "coach.review.token"; // the review page's: one sign-in for all the pages

function $(id) {
  return document.getElementById(id);
}

// -- building the DOM ----------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes (never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** An SVG element, the same way. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** Attributes: undefined, null and false are left out, true is an empty attribute, a function under
 * ``onclick`` (``on`` + event) is a listener. */
function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

/** Children (arrays flattened): nodes as they are, anything else as text; undefined, null, false and
 * "" are left out. */
function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// -- the API token -------------------------------------------------------------------------------

/** The token kept by this browser (remembered, or for this tab only), or null. */
function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keep ``token`` (``remember``: on this computer, else for this tab only); null forgets it. */
function storeToken(token, remember) {
  try {
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
  } catch { /* storage disabled: the token lives until the page closes */ }
}

// -- the API -------------------------------------------------------------------------------------

/** An API refusal: its HTTP status (0: the server could not be reached) and the server's words. */
class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

/** The server's reason in words: FastAPI's ``detail``, a string or a list of validation errors. */
function describe(body, fallback) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {  // FastAPI's validation errors
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body" && p !== "query").join(".")}: ${d.msg}`).join("; ");
  }
  return fallback;
}

/** A JSON request with ``token``; its answer (null for 204), or an ApiError. */
async function apiRequest(path, token, { method = "GET", json } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, "cannot reach the server");
  }
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, describe(parsed, response.statusText || `HTTP ${response.status}`));
  }
  return response.status === 204 ? null : response.json();
}

/** What went wrong, in words, by status (``what``: what the page sent, for a 422). */
function explain(error, what = "this") {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message || error}`;
  switch (error.status) {
    case 0: return "Cannot reach the server. Is it running?";
    case 401: return `The server refused the token (401): ${error.detail}`;
    case 403: return `Not allowed (403): ${error.detail}`;
    case 404: return `Not found (404): ${error.detail}`;
    case 413: return `Too large (413): ${error.detail}`;
    case 422: return `The server could not use ${what} (422): ${error.detail}`;
    case 503: return `The server is unavailable (503): ${error.detail}`;
    default: return `Error ${error.status}: ${error.detail}`;
  }
}

/** Who ``token`` belongs to (``/v1/me``); an Error that says why not. */
async function whoami(token) {
  try {
    return await apiRequest("/v1/me", token);
  } catch (error) {
    if (error.status === 0) throw new Error("cannot reach the server");
    throw new Error(error.status === 401 ? `the server refused the token: ${error.detail}` : `error ${error.status}: ${error.detail}`);
  }
}

// -- the message banner (#message, #message-text) ------------------------------------------------

function showMessage(text, kind = "error") {
  $("message-text").textContent = text;
  $("message").className = `message ${kind}`;
  $("message").hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
}
