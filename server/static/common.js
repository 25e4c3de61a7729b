// Helpers shared by the static pages (console, review, supervisor, trainer): a DOM builder, the API
// token's storage and the message banner. A plain classic script, loaded by each page's HTML before the
// page's own script, so its declarations are globals every page script sees (modules included). Plain
// browser JavaScript, no build step, nothing fetched from anywhere but this server.
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

// -- the message banner (#message, #message-text) ------------------------------------------------

function showMessage(text, kind = "error") {
  $("message-text").textContent = text;
  $("message").className = `message ${kind}`;
  $("message").hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
}
