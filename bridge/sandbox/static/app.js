/* sms-bridge demo page.
 *
 * Plain JavaScript in one file, no framework and no build step: the page is small (a
 * phone, a channel, a thread and a few forms), it ships inside the Python package as
 * is, works offline, and anyone can read or change it without a Node toolchain.
 *
 * The server pushes the whole state over Server-Sent Events whenever the emulators
 * record something; the page renders from it (no polling). Everything a person does is
 * a POST that the server turns into what Twilio or Slack would send the bridge.
 */
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;
// What this browser tab is looking at; the server knows nothing of it.
// `pane`: the one pane a narrow screen shows (phone, slack or thread); wide screens show all.
const ui = {
  phone: null, agent: null, view: "channel", channel: null, tab: "home", thread: null, editing: null, picker: null, pane: "phone",
};

// The channel shown: the inbox, or a routing team's channel (`ui.channel` its ID).
function here() {
  const team = (state.teams || []).find((t) => t.id === ui.channel);
  return team || { id: state.inbox.id, name: state.inbox.name, channel: state.channel };
}

// Every thread's parent, in the inbox and the team channels, with its channel's ID.
function allParents() {
  return [
    ...state.channel.map((m) => ({ ...m, channel_id: state.inbox.id })),
    ...(state.teams || []).flatMap((t) => t.channel.map((m) => ({ ...m, channel_id: t.id }))),
  ];
}

function channelName(id) {
  if (id === state.inbox.id) return state.inbox.name;
  return (state.teams || []).find((t) => t.id === id)?.name || id;
}
// Notes only you can see last until the page is loaded again, as in Slack: those from
// before this load, and those dismissed, are not shown. At most a few show per place.
const dismissed = new Set();
let firstState = true;
const NOTES_SHOWN = 3;
const elements = new Map(); // Block Kit elements on screen, by key, for clicks
const painted = new WeakMap(); // the HTML each box shows, to skip unchanged renders

// -- text ------------------------------------------------------------------------------

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
// Slack escapes only &, < and > in message text.
const unent = (s) => String(s ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const userName = (id) => state.users[id]?.name || id;
const fullName = (id) => state.users[id]?.real_name || userName(id);
const emojiHtml = (name, fallback) =>
  state.emoji[name] ? `<span class="emoji" title=":${esc(name)}:">${state.emoji[name]}</span>` : fallback;
const emojify = (html) => html.replace(/:([a-z0-9_+\-']+):/g, (m, name) => emojiHtml(name, m));

/* Slack mrkdwn → HTML. Tokens (<@U…>, <!date^…>, links) and code are set aside first,
   the rest is unescaped from Slack's entities, HTML-escaped, then formatted. */
function mrkdwn(raw) {
  const held = [];
  const hold = (html) => `\uE000${held.push(html) - 1}\uE001`;
  let s = String(raw ?? "").replace(/[\uE000\uE001]/g, "");
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${esc(unent(code.replace(/^\n|\n$/g, "")))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${esc(unent(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(token(inner)));
  s = esc(unent(s));
  const edge = "(^|[\\s(\uE001])";
  const end = "(?=$|[\\s).,!?:;\uE000])";
  s = s.replace(new RegExp(`${edge}\\*(?=\\S)([^*\\n]+?)\\*${end}`, "g"), "$1<b>$2</b>");
  s = s.replace(new RegExp(`${edge}_(?=\\S)([^_\\n]+?)_${end}`, "g"), "$1<i>$2</i>");
  s = s.replace(new RegExp(`${edge}~(?=\\S)([^~\\n]+?)~${end}`, "g"), "$1<s>$2</s>");
  s = emojify(s);
  s = s.replace(/(^|\n)&gt; ?([^\n]*)/g, "$1<blockquote>$2</blockquote>");
  s = s.replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
  return s.replace(/\uE000(\d+)\uE001/g, (_, i) => held[Number(i)]);
}

function token(inner) {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? "" : unent(inner.slice(bar + 1));
  if (target.startsWith("@")) return `<span class="mention">@${esc(userName(target.slice(1)) || label)}</span>`;
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return `<span class="mention">#${esc(label || channelName(id))}</span>`;
  }
  if (target.startsWith("!date^")) return `<time>${esc(slackDate(target, label))}</time>`;
  if (target.startsWith("!subteam^")) return `<span class="mention">${esc(label || "@team")}</span>`;
  if (target.startsWith("!")) return `<span class="mention">@${esc(target.slice(1))}</span>`;
  const url = unent(target);
  if (/^(https?:|mailto:|tel:)/i.test(url)) {
    return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(label || url)}</a>`;
  }
  return esc(`<${unent(inner)}>`);
}

// <!date^1392734382^{date_short_pretty} at {time}|fallback>, in this browser's time zone.
function slackDate(spec, fallback) {
  const [, seconds, format = ""] = spec.split("^");
  const when = new Date(Number(seconds) * 1000);
  if (Number.isNaN(when.getTime())) return fallback;
  let unknown = false;
  const out = format.replace(/\{(\w+)\}/g, (m, key) => {
    const value = dateToken(when, key);
    if (value === null) unknown = true;
    return value ?? m;
  });
  return unknown && fallback ? fallback : out;
}

function dateToken(d, key) {
  const day = (opts) => d.toLocaleDateString(undefined, opts);
  const relative = () => {
    const midnight = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
    const days = Math.round((midnight(d) - midnight(new Date())) / 864e5);
    return { 0: "today", [-1]: "yesterday", 1: "tomorrow" }[days] ?? null;
  };
  const pad = (n) => String(n).padStart(2, "0");
  switch (key) {
    case "date_num": return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    case "date": return day({ month: "long", day: "numeric", year: "numeric" });
    case "date_short": return day({ month: "short", day: "numeric", year: "numeric" });
    case "date_long": return day({ weekday: "long", month: "long", day: "numeric", year: "numeric" });
    case "date_pretty": return relative() ?? dateToken(d, "date");
    case "date_short_pretty": return relative() ?? dateToken(d, "date_short");
    case "date_long_pretty": return relative() ?? dateToken(d, "date_long");
    case "time": return d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
    case "time_secs": return d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" });
    case "ago": {
      const minutes = Math.round((Date.now() - d.getTime()) / 60000);
      if (Math.abs(minutes) < 1) return "just now";
      if (Math.abs(minutes) < 60) return minutes > 0 ? `${minutes} minutes ago` : `in ${-minutes} minutes`;
      const hours = Math.round(minutes / 60);
      return hours > 0 ? `${hours} hours ago` : `in ${-hours} hours`;
    }
    default: return null;
  }
}

// Plain text for labels and the editor: mentions as @names, links as their URL.
function plain(text) {
  return unent(String(text ?? "").replace(/<([^<>\n]+)>/g, (_, inner) => {
    const [target, label] = inner.split("|");
    if (target.startsWith("@")) return `@${userName(target.slice(1))}`;
    if (target.startsWith("!date^")) return slackDate(target, label || "");
    if (target.startsWith("!")) return `@${target.slice(1)}`;
    if (target.startsWith("#")) return `#${label || target.slice(1)}`;
    return target;
  }));
}

// -- Block Kit -------------------------------------------------------------------------

const textObject = (t) => {
  if (!t) return "";
  return t.type === "plain_text" ? emojify(esc(t.text)).replace(/\n/g, "<br>") : mrkdwn(t.text);
};

function blocks(list, where) {
  return (list || []).map((b, i) => `<div class="bk">${block(b, where, i)}</div>`).join("");
}

function block(b, where, index) {
  const id = b.block_id || "";
  switch (b.type) {
    case "section": {
      const fields = (b.fields || []).map((f) => `<div>${textObject(f)}</div>`).join("");
      const accessory = b.accessory ? element(b.accessory, where, id, `${index}a`) : "";
      return `<div class="bk-section"><div class="bk-text">${textObject(b.text)}${
        fields ? `<div class="bk-fields">${fields}</div>` : ""}</div>${accessory}</div>`;
    }
    case "context":
      return `<div class="bk-context">${(b.elements || []).map((e) =>
        e.type === "image" ? `<span class="bk-image">[${esc(e.alt_text)}]</span>` : `<span>${textObject(e)}</span>`).join("")}</div>`;
    case "actions":
      return `<div class="bk-actions">${(b.elements || []).map((e, j) => element(e, where, id, `${index}.${j}`)).join("")}</div>`;
    case "header": return `<div class="bk-header">${textObject(b.text)}</div>`;
    case "divider": return `<hr class="bk-divider">`;
    case "image": return `<div class="bk-image">🖼 ${esc(b.title?.text || b.alt_text || "image")}</div>`;
    case "rich_text": return richText(b.elements);
    case "input": return `<div class="bk-unsupported">${textObject(b.label)} (input)</div>`;
    default: return `<div class="bk-unsupported">[${esc(b.type)} block]</div>`;
  }
}

function element(e, where, blockId, path) {
  const key = `${where.key}|${path}`;
  elements.set(key, { ...where, block_id: blockId, element: e });
  const label = e.text ? esc(plain(e.text.text)) : "";
  if (e.type === "button") {
    return `<button type="button" class="bk-button ${esc(e.style || "")}" data-act="block" data-key="${esc(key)}">${emojify(label)}</button>`;
  }
  if (e.type === "static_select" || e.type === "overflow" || e.type === "radio_buttons") {
    const list = e.options || (e.option_groups || []).flatMap((g) => g.options);
    // Block Kit's initial_option: the select shows it until someone picks another.
    const initial = list.findIndex((o) => e.initial_option && o.value === e.initial_option.value);
    const options = list.map((o, i) =>
      `<option value="${i}"${i === initial ? " selected" : ""}>${esc(plain(o.text?.text))}</option>`).join("");
    const placeholder = e.placeholder ? plain(e.placeholder.text) : e.type === "overflow" ? "⋯" : "Choose…";
    return `<select class="bk-select" data-act="select" data-key="${esc(key)}" aria-label="${esc(placeholder)}">` +
      `<option value=""${initial < 0 ? " selected" : ""} disabled>${esc(placeholder)}</option>${options}</select>`;
  }
  if (e.type === "image") return `<span class="bk-image">[${esc(e.alt_text)}]</span>`;
  return `<span class="bk-unsupported">[${esc(e.type)}]</span>`;
}

function richText(list) {
  const inline = (els) => (els || []).map((el) => {
    let html;
    switch (el.type) {
      case "text": html = esc(el.text).replace(/\n/g, "<br>"); break;
      case "link": html = `<a href="${esc(el.url)}" target="_blank" rel="noopener noreferrer">${esc(el.text || el.url)}</a>`; break;
      case "user": html = `<span class="mention">@${esc(userName(el.user_id))}</span>`; break;
      case "channel": html = `<span class="mention">#${esc(el.channel_id)}</span>`; break;
      case "emoji": html = emojiHtml(el.name, el.unicode
        ? String.fromCodePoint(...el.unicode.split("-").map((h) => parseInt(h, 16))) : `:${esc(el.name)}:`); break;
      case "broadcast": html = `<span class="mention">@${esc(el.range)}</span>`; break;
      default: html = esc(el.text || el.fallback || "");
    }
    const style = el.style || {};
    if (style.code) html = `<code>${html}</code>`;
    if (style.bold) html = `<b>${html}</b>`;
    if (style.italic) html = `<i>${html}</i>`;
    if (style.strike) html = `<s>${html}</s>`;
    return html;
  }).join("");
  return (list || []).map((part) => {
    switch (part.type) {
      case "rich_text_section": return `<div>${inline(part.elements)}</div>`;
      case "rich_text_quote": return `<blockquote>${inline(part.elements)}</blockquote>`;
      case "rich_text_preformatted": return `<pre>${inline(part.elements)}</pre>`;
      case "rich_text_list": {
        const tag = part.style === "ordered" ? "ol" : "ul";
        return `<${tag}>${(part.elements || []).map((s) => `<li>${inline(s.elements)}</li>`).join("")}</${tag}>`;
      }
      default: return "";
    }
  }).join("");
}

// -- messages --------------------------------------------------------------------------

const tsKey = (ts) => { const [s, f = "0"] = String(ts).split("."); return [Number(s), Number(f.padEnd(6, "0"))]; };
const byTs = (a, b) => { const [x, y] = [tsKey(a.ts), tsKey(b.ts)]; return x[0] - y[0] || x[1] - y[1]; };
const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
const COLORS = ["#e8912d", "#2bac76", "#1d9bd1", "#e01e5a", "#4a154b", "#36c5f0"];
const colorOf = (id) => COLORS[[...String(id)].reduce((n, c) => n + c.charCodeAt(0), 0) % COLORS.length];

function avatar(id, bot) {
  if (bot) return `<div class="avatar" style="background:#4a154b" aria-hidden="true">💬</div>`;
  return `<div class="avatar" style="background:${colorOf(id)}" aria-hidden="true">${esc(fullName(id).slice(0, 1))}</div>`;
}

function content(m, where) {
  const body = m.blocks && m.blocks.length ? blocks(m.blocks, where) : `<div class="text">${mrkdwn(m.text)}</div>`;
  const attachments = (m.attachments || []).map((a) =>
    `<div class="attachment" style="border-left:4px solid ${esc(a.color && /^#?\w+$/.test(a.color) ? (a.color.startsWith("#") ? a.color : `#${a.color}`) : "#ddd")};padding-left:8px;margin:4px 0">` +
    `${a.title ? `<b>${esc(a.title)}</b>` : ""}${a.text ? `<div class="text">${mrkdwn(a.text)}</div>` : ""}${blocks(a.blocks, where)}</div>`).join("");
  const files = (m.files || []).length ? `<div class="files">${m.files.map((f) =>
    `<a class="file" href="/files/${encodeURIComponent(f.id)}" target="_blank" rel="noopener">${
      String(f.mimetype || "").startsWith("image/") ? `<img src="/files/${encodeURIComponent(f.id)}" alt="${esc(f.title || f.name)}">` : "📄"}` +
    `<span>${esc(f.title || f.name)}</span></a>`).join("")}</div>` : "";
  return body + attachments + files;
}

function message(m, place) {
  const name = m.username || fullName(m.user);
  const mine = m.user === ui.agent && !m.bot;
  const where = { key: m.ts, message_ts: m.ts, ephemeral: false };
  const reactions = (m.reactions || []).map((r) => {
    const meToo = r.users.includes(ui.agent);
    return `<button type="button" class="reaction${meToo ? " mine" : ""}" data-act="react" data-ts="${esc(m.ts)}" data-name="${esc(r.name)}"` +
      ` aria-pressed="${meToo}" aria-label=":${esc(r.name)}: ${r.users.length}" title="${esc(r.users.map(fullName).join(", "))}">` +
      `${emojiHtml(r.name, `:${esc(r.name)}:`)} ${r.users.length}</button>`;
  }).join("");
  const picker = ui.picker === m.ts ? `<span class="picker" role="group" aria-label="Pick a reaction">${state.picker.map((n) =>
    `<button type="button" data-act="react" data-ts="${esc(m.ts)}" data-name="${esc(n)}" aria-label="React with :${esc(n)}:">${emojiHtml(n, n)}</button>`).join("")}</span>` : "";
  const actions = place === "dm" ? "" : [
    `<button type="button" class="add-reaction" data-act="picker" data-ts="${esc(m.ts)}" aria-label="Add reaction">☺ React</button>`,
    place === "channel" && !m.replies?.length ? `<button type="button" data-act="thread" data-ts="${esc(m.ts)}">Reply in thread</button>` : "",
    mine ? `<button type="button" data-act="edit" data-ts="${esc(m.ts)}" aria-label="Edit message">Edit</button>` : "",
    mine ? `<button type="button" class="danger" data-act="delete" data-ts="${esc(m.ts)}" aria-label="Delete message">Delete</button>` : "",
  ].join("");
  const count = m.replies?.length;
  const replies = place === "channel" && count ? `<button type="button" class="replies" data-act="thread" data-ts="${esc(m.ts)}">` +
    `${count} ${count === 1 ? "reply" : "replies"}</button> <span class="only-you">last reply ${clock(tsKey(m.replies[count - 1].ts)[0])}</span>` : "";
  const open = place === "channel" && ui.thread === m.ts ? " open" : "";
  const face = m.icon ? `<div class="avatar icon" aria-hidden="true">${emojiHtml(m.icon.replace(/:/g, ""), "👤")}</div>` : avatar(m.user, m.bot);
  return `<article class="msg${open}" aria-label="${esc(name)}: ${esc(plain(m.text).slice(0, 120))}">${face}<div class="body">` +
    `<div class="meta"><strong>${esc(name)}</strong>${m.bot ? `<span class="app-tag">APP</span>` : ""}<time>${clock(tsKey(m.ts)[0])}</time>` +
    `${m.edited ? `<span class="edited">(edited)</span>` : ""}</div>${content(m, where)}` +
    `<div class="reactions">${reactions}${picker}</div><div class="msg-replies">${replies}</div><div class="msg-actions">${actions}</div></div></article>`;
}

function ephemeral(e) {
  const where = { key: `e${e.ts}`, message_ts: e.ts, ephemeral: true };
  return `<article class="msg ephemeral" aria-label="Only visible to you: ${esc(plain(e.text).slice(0, 120))}">${avatar(state.bot, true)}` +
    `<div class="body"><div class="meta"><strong>SMS Bridge</strong><span class="app-tag">APP</span><time>${clock(tsKey(e.ts)[0])}</time>` +
    `<span class="only-you">Only visible to you</span>` +
    `<button type="button" class="dismiss" data-act="dismiss" data-ts="${esc(e.ts)}">Dismiss</button></div>` +
    `${content(e, where)}</div></article>`;
}

// Your notes in the channel (threadTs null) or a thread: the latest few; older ones are
// gone for good, as if dismissed.
function mineHere(threadTs) {
  const mine = state.ephemerals.filter((e) => !dismissed.has(e.ts) &&
    e.user === ui.agent && e.channel === here().id && (e.thread_ts || null) === threadTs);
  mine.slice(0, -NOTES_SHOWN).forEach((e) => dismissed.add(e.ts));
  return mine.slice(-NOTES_SHOWN);
}

// -- rendering ----------------------------------------------------------------------------

// Replace a box's content only when it changed (keeps focus, hover and selection), and
// stay at the bottom of a conversation when the reader was there.
function paint(box, html, { scroll = true } = {}) {
  if (painted.get(box) === html) return;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60 || !painted.has(box);
  const top = box.scrollTop;
  box.innerHTML = html;
  painted.set(box, html);
  if (scroll) box.scrollTop = atBottom ? box.scrollHeight : top;
}

function options(select, list, selected) {
  paint(select, list.map(([value, label]) => `<option value="${esc(value)}">${esc(label)}</option>`).join(""), { scroll: false });
  select.value = selected;
}

function render() {
  if (!state) return;
  elements.clear();
  if (!state.agents.includes(ui.agent)) ui.agent = state.agents[0];
  const b = state.business;
  paint($("business"), `${esc(b.name)}<span class="detail"> · ${esc(b.number_display)}</span> · it is ${esc(b.local_time)}` +
    `<span class="detail"> at the bakery (${esc(b.timezone)})</span>`, { scroll: false });
  options($("agent"), state.agents.map((id) => [id, fullName(id)]), ui.agent);
  renderScenarios();
  renderPhone();
  renderSlack();
  renderModal();
}

function renderScenarios() {
  const items = state.scenarios.map((s) =>
    `<button type="button" role="menuitem" data-act="play" data-id="${esc(s.id)}">${esc(s.title)}` +
    `${s.running ? ` <span class="running">playing…</span>` : ""}${s.problem ? ` <span class="problem">stopped: ${esc(s.problem)}</span>` : ""}</button>`).join("");
  paint($("scenarios-menu"), `${items}<p>Plays texts (and a few agent replies) on the simulators; whatever the bridge does is what you see.</p>`, { scroll: false });
}

function renderPhone() {
  const subs = state.subscribers;
  // Phones are never removed; one just added may not be in this state yet.
  if (!ui.phone) ui.phone = subs[0]?.phone ?? null;
  options($("subscriber"), subs.map((s) => [s.phone, s.name ? `${s.name} · ${s.display}` : s.display]), ui.phone);
  const sub = subs.find((s) => s.phone === ui.phone);
  // A WhatsApp user's phone: WhatsApp's green bubbles, the business's WhatsApp number.
  const whatsapp = sub?.channel === "whatsapp";
  $("phone").classList.toggle("whatsapp", whatsapp);
  $("phone-business").textContent = state.business.name;
  $("phone-number").textContent = (whatsapp ? "WhatsApp · " : "") + state.business.number_display;
  if (!sub) { paint($("phone-log"), `<p class="empty">Add a phone to start.</p>`); return; }
  const html = sub.bubbles.length ? sub.bubbles.map(bubble).join("")
    : `<p class="empty">Text ${esc(state.business.name)} from ${esc(sub.name || sub.display)}'s phone.</p>`;
  paint($("phone-log"), html);
  const notes = [];
  if (sub.blocked) notes.push("Twilio blocks texts to this number: it texted STOP.");
  if (sub.thread) notes.push(`<button type="button" data-act="show-thread" data-ts="${esc(sub.thread)}">Show its thread in Slack</button>`);
  paint($("phone-note"), notes.join(" "), { scroll: false });
}

const RECEIVED = {
  delivered: ["Delivered ✓✓", ""], read: ["Read ✓✓", ""], sent: ["Sent ✓", ""],
  queued: ["Sending…", ""], accepted: ["Sending…", ""], sending: ["Sending…", ""],
  failed: ["Not delivered", "bad"], undelivered: ["Not delivered", "bad"],
};

function bubble(b) {
  const when = new Date(b.at * 1000).toLocaleTimeString();
  if (b.direction === "sent") {
    const caption = b.status === "ok" ? `<div class="caption" data-status="ok" title="${esc(b.detail)}">✓ Sent</div>`
      : b.status === "sending" ? `<div class="caption" data-status="sending">Sending…</div>`
        : `<div class="caption bad" data-status="failed">Not sent: ${esc(b.detail)}</div>`;
    const photo = b.photo ? `<img src="/sample/photo.jpg" alt="Photo">` : "";
    return `<div class="bubble-row sent" title="${esc(when)}"><div class="bubble">${photo}${esc(b.body)}</div>${caption}</div>`;
  }
  const [label, tone] = RECEIVED[b.status] || [b.status, ""];
  const automatic = b.detail === "Twilio" ? " automatic" : "";
  const source = b.detail === "Twilio" ? "Twilio (automatic) · " : b.detail === "TwiML" ? "TwiML reply · " : "";
  const detail = tone && b.detail ? ` (${esc(b.detail)})` : "";
  return `<div class="bubble-row received${automatic}${tone ? " failed" : ""}" title="${esc(when)}">` +
    `<div class="bubble">${esc(b.body)}</div><div class="caption ${tone}" data-status="${esc(b.status)}">${source}${esc(label)}${detail}</div></div>`;
}

// Which pane a narrow screen shows (CSS reads body[data-pane]); the Thread tab exists
// while a thread is open.
function renderPanes() {
  const open = !$("thread-pane").hidden;
  if (ui.pane === "thread" && !open) ui.pane = "slack";
  document.body.dataset.pane = ui.pane;
  $("pane-thread").hidden = !open;
  for (const pane of ["phone", "slack", "thread"]) $(`pane-${pane}`).setAttribute("aria-selected", String(ui.pane === pane));
}

function renderTeamNavs() {
  const current = ui.view === "channel" ? here().id : null;
  paint($("team-navs"), (state.teams || []).map((t) =>
    `<button type="button" class="nav" data-act="view" data-view="channel" data-channel="${esc(t.id)}"` +
    ` aria-current="${t.id === current ? "page" : "false"}"># ${esc(t.name)}</button>`).join(""));
  const name = here().name;
  $("channel-name").textContent = `# ${name}`;
  $("channel-log").setAttribute("aria-label", `#${name} messages`);
  $("channel-text").setAttribute("aria-label", `Message #${name}`);
  $("channel-text").setAttribute("placeholder", `Message #${name}, or /sms help`);
}

function renderSlack() {
  $("nav-channel").setAttribute("aria-current", ui.view === "channel" && here().id === state.inbox.id ? "page" : "false");
  renderTeamNavs();
  $("nav-home").setAttribute("aria-current", ui.view === "home" ? "page" : "false");
  $("channel-pane").hidden = ui.view !== "channel";
  $("home-pane").hidden = ui.view !== "home";
  $("nav-outbox").setAttribute("aria-current", ui.view === "outbox" ? "page" : "false");
  $("outbox-pane").hidden = ui.view !== "outbox";
  if (ui.view === "outbox") renderOutbox();

  const items = [
    ...here().channel.map((m) => ({ ts: m.ts, html: message(m, "channel") })),
    ...mineHere(null).map((e) => ({ ts: e.ts, html: ephemeral(e) })),
  ].sort(byTs);
  paint($("channel-log"), items.length ? items.map((i) => i.html).join("")
    : `<p class="empty">No conversations yet. Send a text from a phone on the left.</p>`);

  const parent = here().channel.find((m) => m.ts === ui.thread);
  if (!parent) ui.thread = null;
  $("thread-pane").hidden = !parent || ui.view !== "channel";
  renderPanes();
  if (parent) {
    $("thread-title").textContent = plain(parent.text).replace(/^SMS conversation /, "");
    const replies = [
      ...parent.replies.map((m) => ({ ts: m.ts, html: message(m, "thread") })),
      ...mineHere(parent.ts).map((e) => ({ ts: e.ts, html: ephemeral(e) })),
    ].sort(byTs);
    const count = parent.replies.length;
    paint($("thread-log"), message(parent, "thread-parent") +
      `<div class="thread-count">${count} ${count === 1 ? "reply" : "replies"}</div>` + replies.map((i) => i.html).join(""));
  }
  $("editing").hidden = !ui.editing;

  const mine = state.commands.filter((c) => c.user === ui.agent).at(-1);
  $("command-status").textContent = mine ? commandStatus(mine) : "";

  $("tab-home").setAttribute("aria-selected", ui.tab === "home");
  $("tab-messages").setAttribute("aria-selected", ui.tab === "messages");
  if (ui.view === "home") {
    let html;
    if (ui.tab === "home") {
      const view = state.home_views[ui.agent];
      html = view ? blocks(view.blocks, { key: "home", message_ts: "", ephemeral: false, home: true })
        : `<p class="placeholder">The bridge has not published a Home tab for ${esc(fullName(ui.agent))} yet.</p>`;
    } else {
      const dms = state.dms[ui.agent] || [];
      html = dms.length ? dms.map((m) => message(m, "dm")).join("") : `<p class="placeholder">No messages from SMS Bridge yet.</p>`;
    }
    paint($("home-log"), html);
  }
}

function renderOutbox() {
  const items = state.outbox.map((n) =>
    `<article class="outbox-item" data-kind="${esc(n.kind)}"><header><span class="kind">${esc(n.kind)}</span> to <strong>${esc(n.to)}</strong></header>` +
    `<h3>${esc(n.subject)}</h3><pre>${esc(n.body)}</pre></article>`).join("");
  paint($("outbox-log"), items || `<p class="placeholder">Nothing went out yet. A rule in the sample config emails the on-call person about urgent texts: try “my cake never arrived and the party is in an hour!”; the CRM webhook gets it too.</p>`);
}

// -- modals (views.open) ------------------------------------------------------------------

function inputBlock(b, error) {
  const e = b.element || {};
  const data = `data-block="${esc(b.block_id)}" data-action="${esc(e.action_id)}"`;
  const text = (t) => esc(plain(t?.text));
  let control;
  if (e.type === "plain_text_input") {
    control = e.multiline ? `<textarea ${data}>${esc(e.initial_value || "")}</textarea>`
      : `<input ${data} value="${esc(e.initial_value || "")}" placeholder="${text(e.placeholder)}">`;
  } else if (e.type === "static_select" || e.type === "radio_buttons") {
    const list = e.options || (e.option_groups || []).flatMap((g) => g.options);
    const initial = e.initial_option?.value;
    control = `<select ${data}><option value="">${text(e.placeholder) || "Choose…"}</option>${list.map((o) =>
      `<option value="${esc(o.value)}"${o.value === initial ? " selected" : ""}>${text(o.text)}</option>`).join("")}</select>`;
  } else if (e.type === "users_select") {
    control = `<select ${data}><option value="">${text(e.placeholder) || "Choose someone…"}</option>${state.agents.map((id) =>
      `<option value="${esc(id)}"${id === e.initial_user ? " selected" : ""}>${esc(fullName(id))}</option>`).join("")}</select>`;
  } else if (e.type === "datepicker") {
    control = `<input type="date" ${data} value="${esc(e.initial_date || "")}">`;
  } else {
    control = `<input ${data} value="${esc(e.initial_value || "")}">`;
  }
  const hint = b.hint ? `<small>${text(b.hint)}</small>` : "";
  return `<label class="field">${text(b.label)}${b.optional ? " (optional)" : ""}${control}</label>` +
    `${error ? `<p class="field-error" role="alert">${esc(error)}</p>` : ""}${hint}`;
}

function modalValues() {
  const values = {};
  for (const el of $("modal").querySelectorAll("[data-block]")) {
    (values[el.dataset.block] ||= {})[el.dataset.action] = el.value;
  }
  return values;
}

function renderModal() {
  const box = $("modal");
  const view = state.modals[ui.agent];
  box.hidden = !view;
  if (!view) { paint(box, "", { scroll: false }); return; }
  const errors = state.modal_errors[ui.agent] || {};
  const where = { key: "modal", message_ts: "", ephemeral: false };
  const body = (view.blocks || []).map((b, i) =>
    b.type === "input" ? inputBlock(b, errors[b.block_id]) : `<div class="bk">${block(b, where, i)}</div>`).join("");
  const title = plain(view.title?.text || "Dialog");
  const html = `<form class="modal" id="modal-form" role="dialog" aria-modal="true" aria-label="${esc(title)}">` +
    `<header><strong>${esc(title)}</strong><button type="button" class="close" data-act="modal-close" aria-label="Close dialog">×</button></header>` +
    `<div class="modal-body">${body}</div><footer><button type="button" data-act="modal-close">${esc(plain(view.close?.text || "Cancel"))}</button>` +
    `${view.submit ? `<button type="submit" class="primary">${esc(plain(view.submit.text))}</button>` : ""}</footer></form>`;
  if (painted.get(box) === html) return;
  // Keep what was typed when the same dialog comes back (with errors, say).
  const typed = box.dataset.view === view.id ? modalValues() : {};
  paint(box, html, { scroll: false });
  box.dataset.view = view.id;
  for (const el of box.querySelectorAll("[data-block]")) {
    const value = typed[el.dataset.block]?.[el.dataset.action];
    if (value !== undefined) el.value = value;
  }
}

$("modal").addEventListener("submit", (event) => {
  event.preventDefault();
  api("/api/view/submit", { user: ui.agent, values: modalValues() });
});

function commandStatus(c) {
  const line = `${c.command} ${c.text}`.trim();
  if (c.status === null) return `${line} → sent to the bridge…`;
  if (c.status === 0) return `${line} → the bridge did not answer`;
  const said = answerText(c.answer);
  return `${line} → HTTP ${c.status}, ${said ? `answered: ${said}` : "no immediate answer"}`;
}

// A command's immediate answer as one line a person reads: people by name, without
// Slack's formatting marks.
function answerText(text) {
  const line = plain(text).replace(/`/g, "")
    .replace(/(^|[\s(])([*_~])(?=\S)([^*_~\n]+?)\2(?=$|[\s).,!?:;])/g, "$1$3")
    .replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

// -- actions ------------------------------------------------------------------------------

// What the demo server answered: { data }, or { error } in words.
async function call(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return response.ok ? { data } : { error: data.error || `${response.status} ${response.statusText}` };
  } catch (error) {
    return { error: `the demo server did not answer (${error.message}). Is sms-bridge demo still running?` };
  }
}

async function api(path, body) {
  const { data, error } = await call(path, body);
  if (error) { toast(error.charAt(0).toUpperCase() + error.slice(1)); return null; }
  if (data.status !== undefined && data.status !== 200) toast(`The bridge answered ${data.status || "nothing"}`);
  return data;
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

function findMessage(ts) {
  for (const m of allParents()) {
    if (m.ts === ts) return m;
    const reply = m.replies.find((r) => r.ts === ts);
    if (reply) return reply;
  }
  return null;
}

function startEdit(ts) {
  const m = findMessage(ts);
  if (!m) return;
  const inThread = m.thread_ts && m.thread_ts !== m.ts;
  ui.editing = { ts, box: inThread ? "thread-text" : "channel-text" };
  const box = $(ui.editing.box);
  box.value = plain(m.text);
  box.focus();
  render();
}

function openThread(ts) {
  const parent = allParents().find((m) => m.ts === ts);
  ui.view = "channel";
  if (parent) ui.channel = parent.channel_id === state.inbox.id ? null : parent.channel_id;
  ui.thread = ts;
  ui.picker = null;
  ui.pane = "thread";
  render();
  $("thread-text").focus();
}

const actions = {
  view: (el) => {
    ui.view = el.dataset.view;
    if (ui.view === "channel") {
      const channel = el.dataset.channel || null;
      if (channel !== ui.channel) ui.thread = null;
      ui.channel = channel;
    }
    ui.pane = "slack";
    render();
    if (ui.view === "home") api("/api/home", { user: ui.agent });
  },
  tab: (el) => { ui.tab = el.dataset.tab; render(); },
  thread: (el) => openThread(el.dataset.ts),
  "show-thread": (el) => openThread(el.dataset.ts),
  "close-thread": () => { ui.thread = null; ui.pane = "slack"; render(); },
  back: () => { ui.pane = "slack"; render(); },
  pane: (el) => { ui.pane = el.dataset.pane; render(); },
  dismiss: (el) => { dismissed.add(el.dataset.ts); render(); },
  picker: (el) => { ui.picker = ui.picker === el.dataset.ts ? null : el.dataset.ts; render(); },
  react: (el) => { ui.picker = null; render(); api("/api/react", { user: ui.agent, ts: el.dataset.ts, name: el.dataset.name }); },
  edit: (el) => startEdit(el.dataset.ts),
  "cancel-edit": () => { if (ui.editing) $(ui.editing.box).value = ""; ui.editing = null; render(); },
  delete: (el) => api("/api/delete", { user: ui.agent, ts: el.dataset.ts }),
  block: (el) => {
    const url = elements.get(el.dataset.key)?.element.url;
    if (url && !openPermalink(url)) window.open(url, "_blank", "noopener");
    clickElement(el.dataset.key, null); // Slack sends the click for link buttons too
  },
  play: (el) => { closeMenu(); api("/api/scenario", { id: el.dataset.id }); },
  "modal-close": () => api("/api/view/close", { user: ui.agent }),
};

// A link to a Slack message (chat.getPermalink) opens its thread here.
function openPermalink(url) {
  const found = /\/archives\/[A-Z0-9]+\/p(\d+)(\d{6})(?:\?.*thread_ts=([\d.]+))?/.exec(url);
  if (!found) return false;
  const ts = found[3] || `${found[1]}.${found[2]}`;
  const parent = allParents().find((m) => m.ts === ts || m.replies.some((r) => r.ts === ts));
  if (!parent) { toast("That message is not in this workspace's channels any more."); return true; }
  openThread(parent.ts);
  return true;
}

function clickElement(key, selected) {
  const found = elements.get(key);
  if (!found) return;
  api("/api/action", {
    user: ui.agent, message_ts: found.message_ts, block_id: found.block_id, element: found.element,
    ephemeral: found.ephemeral, home: Boolean(found.home), selected,
  });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (link && openPermalink(link.href)) { event.preventDefault(); return; }
  const el = event.target.closest("[data-act]");
  if (el && el.tagName !== "SELECT" && actions[el.dataset.act]) actions[el.dataset.act](el, event);
  if (!event.target.closest(".menu")) closeMenu();
});

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.dataset.act !== "select") return;
  const found = elements.get(el.dataset.key);
  if (!found) return;
  const e = found.element;
  const list = e.options || (e.option_groups || []).flatMap((g) => g.options);
  clickElement(el.dataset.key, list[Number(el.value)] || null);
});

function closeMenu() {
  $("scenarios-menu").hidden = true;
  $("scenarios-button").setAttribute("aria-expanded", "false");
}

$("scenarios-button").addEventListener("click", () => {
  const menu = $("scenarios-menu");
  menu.hidden = !menu.hidden;
  $("scenarios-button").setAttribute("aria-expanded", String(!menu.hidden));
  if (!menu.hidden) menu.querySelector("button")?.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  closeMenu();
  if (state?.modals[ui.agent]) api("/api/view/close", { user: ui.agent });
});

$("agent").addEventListener("change", (event) => {
  ui.agent = event.target.value;
  ui.editing = null;
  render();
  if (ui.view === "home") api("/api/home", { user: ui.agent });
});
$("subscriber").addEventListener("change", (event) => { ui.phone = event.target.value; render(); });

$("add-phone-toggle").addEventListener("click", () => {
  const form = $("add-phone");
  form.hidden = !form.hidden;
  $("add-phone-toggle").setAttribute("aria-expanded", String(!form.hidden));
  if (!form.hidden) $("new-phone").focus();
});
$("add-phone").addEventListener("submit", async (event) => {
  event.preventDefault();
  const added = await api("/api/phones", { phone: $("new-phone").value, name: $("new-name").value });
  if (!added) return;
  ui.phone = added.phone;
  $("new-phone").value = $("new-name").value = "";
  $("add-phone").hidden = true;
  render();
  $("phone-text").focus();
});

// Like a phone: the box empties at once; a text that was not sent comes back with why.
async function sendText(photo) {
  const box = $("phone-text");
  const body = box.value;
  if ((!body.trim() && !photo) || !ui.phone) return;
  box.value = "";
  phoneError("");
  const { data, error } = await call("/api/text", { phone: ui.phone, body, photo });
  const problem = error || (data.ok ? "" : data.detail || "the bridge did not take it");
  if (!problem) return;
  if (!box.value) box.value = body;
  phoneError(`Not sent: ${problem}${/[.?!]$/.test(problem) ? "" : "."} Your text is still in the box.`);
}

function phoneError(text) {
  $("phone-error").textContent = text;
  $("phone-error").hidden = !text;
}
$("phone-form").addEventListener("submit", (event) => { event.preventDefault(); sendText(false); });
$("phone-photo").addEventListener("click", () => sendText(true));

// Slack's composers: Enter sends, Shift+Enter is a new line; "/…" is a slash command.
function composer(formId, boxId, threadTs) {
  const form = $(formId);
  const box = $(boxId);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value;
    // Until the first state there is no agent to send as: the text waits in the box.
    if (!text.trim() || !ui.agent) return;
    const thread = threadTs();
    box.value = "";
    if (ui.editing && ui.editing.box === boxId) {
      const { ts } = ui.editing;
      ui.editing = null;
      render();
      api("/api/edit", { user: ui.agent, ts, text });
    } else if (text.trimStart().startsWith("/")) {
      api("/api/command", { user: ui.agent, text: text.trim(), thread_ts: thread });
    } else {
      api("/api/post", { user: ui.agent, text, thread_ts: thread, channel: here().id });
    }
  });
}
composer("channel-form", "channel-text", () => null);
composer("thread-form", "thread-text", () => ui.thread);

// -- live updates -------------------------------------------------------------------------

function connect() {
  const live = $("live");
  const source = new EventSource("/api/events");
  source.addEventListener("state", (event) => {
    state = JSON.parse(event.data);
    if (firstState) state.ephemerals.forEach((e) => dismissed.add(e.ts)); // from before this load
    render();
    if (firstState) {
      // Who sends is known now (render picked the agent): the Send buttons may be used.
      document.querySelectorAll(".composer button").forEach((b) => { b.disabled = false; });
      firstState = false;
    }
  });
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  // EventSource reconnects by itself; say so meanwhile.
  source.onerror = () => { live.textContent = "reconnecting… (is sms-bridge demo running?)"; live.classList.remove("on"); };
}
connect();
