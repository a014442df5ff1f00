// qa's web chat. Every text that comes from a document is put in the page as text (text nodes,
// never innerHTML), so a document holding <script> or <img onerror> shows those characters and
// runs nothing; the server's Content-Security-Policy runs no inline script either.
"use strict";

const TURNS = 3; // earlier answers sent with a question, for follow-ups (qa/conversation.py)
const state = { history: [], outlets: new Map(), busy: false, opener: null, ready: false };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c)); // a string becomes a text node: escaped
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const error = new Error((body && body.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// -- status --------------------------------------------------------------------------------------
async function pollStatus() {
  let wait = 15000;
  try {
    const s = await api("/api/status");
    const what = s.ready ? `${s.corpus} · ${s.documents} documents · ${s.paragraphs} paragraphs` : s.corpus;
    const doing = s.indexing ? ` · ${s.status}` : (s.error ? ` · ${s.error}` : "");
    $("status").textContent = what + doing;
    if (s.ready && !state.ready) loadOutlets();
    state.ready = s.ready;
    if (!s.ready || s.indexing) wait = 1500;
  } catch (e) {
    $("status").textContent = e.status === 401 ? "this server needs its token: open the address it printed" : `offline (${e.message})`;
    wait = 5000;
  }
  setTimeout(pollStatus, wait);
}

async function loadOutlets() {
  try {
    const list = await api("/api/documents?limit=10000");
    for (const d of list.documents) state.outlets.set(d.doc, d);
  } catch (_) { /* the outlet is a nicety */ }
}

// -- answers ---------------------------------------------------------------------------------------
function place(c) {
  if (c.page !== null && c.page !== undefined) return `p. ${c.page}`;
  return c.section ? `§ ${c.section}` : "";
}

function citeButton(c, label) {
  const info = state.outlets.get(c.doc);
  const parts = [`¶${c.paragraph + 1}`, place(c), c.date, info && info.outlet].filter(Boolean);
  return el("button", { type: "button", class: "cite", title: `open ${c.doc} at paragraph ${c.paragraph + 1}`,
                        onclick: (ev) => openDocument(c, ev.currentTarget) },
            el("span", { class: "doc-name" }, label || c.title || c.doc), " ", el("span", { class: "where" }, parts.join(" · ")));
}

function quote(s) {
  // the quote as a person reads it (links as their labels, no tags), with the short answer
  // marked where it stands in it (the server maps the source's offsets into that text)
  const text = s.shown.text;
  const node = el(s.code ? "pre" : "blockquote", { class: s.code ? "quote code" : "quote" });
  const mark = s.shown.short;
  if (mark && mark[1] > mark[0]) {
    node.append(text.slice(0, mark[0]), el("mark", {}, text.slice(mark[0], mark[1])), text.slice(mark[1]));
  } else {
    node.append(text);
  }
  return node;
}

function snippetBlock(s, first) {
  const block = el("div", { class: first ? "snippet first" : "snippet" });
  if (s.intro) block.append(el("p", { class: "intro" }, s.intro.shown));
  block.append(quote(s), citeButton(s));
  if (s.corroborated_by && s.corroborated_by.length) {
    const also = el("p", { class: "also" }, "Also in: ");
    s.corroborated_by.forEach((c) => also.append(citeButton(c)));
    block.append(also);
  }
  return block;
}

function renderAnswer(a) {
  const box = el("div", { class: "answer" });
  if (a.abstained) {
    box.classList.add("abstained");
    box.append(el("p", { class: "none" }, "Not in the documents."));
    if (a.passages && a.passages.length) {
      const list = el("ul", { class: "nearest" });
      for (const p of a.passages.slice(0, 3)) {
        const text = p.text.length > 240 ? p.text.slice(0, 240) + "…" : p.text;
        list.append(el("li", {}, el("span", { class: "near-text" }, text), " ",
                       citeButton({ doc: p.doc, paragraph: p.paragraph, start: 0, end: 0, title: p.title,
                                    date: p.date, page: p.page, section: p.section })));
      }
      box.append(el("p", { class: "hint" }, "The nearest passages:"), list);
    }
    return box;
  }
  if (a.short_answer) box.append(el("p", { class: "short" }, a.text));
  a.snippets.forEach((s, i) => box.append(snippetBlock(s, i === 0)));
  box.append(el("p", { class: "confidence" }, `confidence ${Math.round(a.confidence * 100)}%`));
  return box;
}

async function ask(question) {
  const turn = el("li", { class: "turn" }, el("p", { class: "question" }, question));
  const readAs = el("p", { class: "read-as", hidden: true });
  turn.append(readAs);
  const pending = el("div", { class: "answer pending", role: "status" }, "Reading…");
  turn.append(pending);
  $("turns").append(turn);
  $("hello").hidden = true;
  pending.scrollIntoView({ block: "end" });
  state.busy = true;
  $("send").disabled = true;
  try {
    const body = JSON.stringify({ question, history: state.history.slice(-TURNS) });
    const a = await api("/api/ask", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const shown = renderAnswer(a);
    if (a.read_as) { // a follow-up: say how it was read, so a wrong guess is visible
      readAs.textContent = `read as: ${a.read_as}`;
      readAs.hidden = false;
    }
    pending.replaceWith(shown);
    state.history.push({ question: a.question, named: a.named || "" });
    if (state.history.length > 10) state.history.shift();
    shown.scrollIntoView({ block: "nearest" });
  } catch (e) {
    pending.replaceWith(el("div", { class: "answer error", role: "alert" }, e.message));
  } finally {
    state.busy = false;
    $("send").disabled = false;
    $("q").focus();
  }
}

// -- the document view ----------------------------------------------------------------------------------
function paragraphNode(p, c) {
  const tag = p.kind === "code" ? "pre" : p.kind === "heading" || p.kind === "headline" && p.paragraph === 0 ? "h3" : "p";
  const node = el(tag, { id: `para-${p.paragraph}`, class: `para ${p.kind}`, "data-n": p.paragraph + 1 });
  if (c && c.paragraph === p.paragraph) {
    node.classList.add("cited");
    if (c.end > c.start && c.end <= p.text.length) {
      node.append(p.text.slice(0, c.start), el("mark", {}, p.text.slice(c.start, c.end)), p.text.slice(c.end));
      return node;
    }
  }
  node.append(p.text);
  return node;
}

async function openDocument(c, opener) {
  state.opener = opener || null;
  const view = $("doc");
  $("doc-title").textContent = c.title || c.doc;
  $("doc-meta").textContent = "loading…";
  $("doc-text").replaceChildren();
  view.hidden = false;
  document.body.classList.add("reading");
  if (!history.state || !history.state.doc) history.pushState({ doc: true }, "");
  try {
    const d = await api(`/api/documents/${encodeURIComponent(c.doc)}`);
    $("doc-title").textContent = d.title || d.doc;
    $("doc-meta").textContent = [d.doc, d.date, d.outlet, d.author, `${d.paragraphs.length} paragraphs`].filter(Boolean).join(" · ");
    $("doc-text").replaceChildren(...d.paragraphs.map((p) => paragraphNode(p, c)));
    const target = document.getElementById(`para-${c.paragraph}`);
    if (target) {
      const mark = target.querySelector("mark") || target;
      mark.scrollIntoView({ block: "center" });
    }
  } catch (e) {
    $("doc-meta").textContent = e.message;
  }
  view.focus({ preventScroll: true });
}

function closeDocument(fromHistory) {
  if ($("doc").hidden) return;
  $("doc").hidden = true;
  document.body.classList.remove("reading");
  if (!fromHistory && history.state && history.state.doc) history.back();
  (state.opener && document.contains(state.opener) ? state.opener : $("q")).focus();
}

// -- wiring --------------------------------------------------------------------------------------------
function init() {
  const url = new URL(location.href);
  if (url.searchParams.has("token")) { // the server set a cookie: keep the token out of the address bar
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  $("ask").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (!q || state.busy) return;
    $("q").value = "";
    ask(q);
  });
  $("new").addEventListener("click", () => {
    state.history = [];
    $("turns").replaceChildren();
    $("hello").hidden = false;
    $("q").focus();
  });
  $("close").addEventListener("click", () => closeDocument(false));
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeDocument(false); });
  window.addEventListener("popstate", () => closeDocument(true));
  pollStatus();
}

document.addEventListener("DOMContentLoaded", init);
