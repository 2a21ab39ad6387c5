// The live page: one ZChannel connection to the port that served it, for
// its subscriptions and its publishes alike. ?pattern= picks the first
// subscription. window.zchannelPage exposes the state to tests.
import { ZChannel } from "./zchannel.js";

const ROWS = 200;
const params = new URLSearchParams(location.search);
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const url = params.get("ws") || `${scheme}//${location.host}/`;
const $ = (id) => document.getElementById(id);

const page = {
  received: 0, duplicates: 0, gaps: [], resets: [], order: [], lastSeq: {}, published: 0,
  state: "connecting", reconnects: 0,
};
window.zchannelPage = page;

const zc = new ZChannel(url);
page.client = zc;

function badge() {
  const el = $("badge");
  el.className = `badge ${page.state}`;
  el.textContent = page.state;
  $("badge-counts").textContent =
    `reconnects ${zc.reconnects} · gaps ${zc.gaps} · resets ${zc.resets}`;
}

function notice(text) {
  const el = $("notice");
  el.hidden = false;
  el.textContent = text;
}

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  const body = $("stream");
  body.insertBefore(tr, body.firstChild);
  while (body.rows.length > ROWS) body.deleteRow(-1);
  return tr;
}

// Each message, checked here too: a seq not one past the last is a repeat
// or a gap, whatever the client library did.
function onMessage(m) {
  const last = page.lastSeq[m.topic];
  if (last !== undefined && m.seq <= last) page.duplicates++;
  page.lastSeq[m.topic] = m.seq;
  page.received++;
  page.order.push([m.topic, m.seq]);
  if (page.order.length > 100000) page.order.splice(0, 50000);
  $("received").textContent = page.received;
  // Age since the message entered the system (its ts); since it arrived
  // when it has none (taken from history)
  const at = typeof m.ts === "number" ? m.ts : Date.now();
  const tr = row([[m.topic], [String(m.seq)], [`${Math.max(0, (Date.now() - at) / 1000).toFixed(0)} s`, "age"],
                  [m.enc === "base64" ? `(base64) ${m.payload}` : m.payload, "payload"]]);
  tr.dataset.at = String(at);
  page.lastTs = m.ts;
}

let current = null;
async function subscribe(pattern) {
  if (current) await current.unsubscribe();
  try {
    current = await zc.subscribe(pattern, onMessage);
    page.pattern = pattern;
  } catch (error) {
    notice(`subscribe ${pattern}: ${error.message}`);
  }
}

zc.on("state", (s) => { page.state = s.state; page.reconnects = s.reconnects; badge(); });
zc.on("gap", (g) => {
  page.gaps.push(g);
  row([[g.topic], [`${g.from}-${g.to}`], [""], ["gap: these messages are lost"]], "event");
  badge();
});
zc.on("reset", (r) => {
  page.resets.push(r);
  delete page.lastSeq[r.topic];
  row([[r.topic], ["—"], [""], [`reset: the broker started this topic afresh (epoch ${r.epoch})`]], "event");
  badge();
});
zc.on("error", (e) => notice(`${e.code}: ${e.detail}`));

$("sub-form").addEventListener("submit", (event) => {
  event.preventDefault();
  subscribe($("pattern").value.trim());
});
$("pub-form").addEventListener("submit", (event) => {
  event.preventDefault();
  zc.publish($("pub-topic").value.trim(), $("pub-payload").value);
  page.published++;
});

// Ages, and the counters from the front-end's /metrics every second
const metricsUrl = params.get("metrics") || "/metrics";
let previous = null;
function sum(text, name, role) {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (role && !line.includes(`role="${role}"`))) continue;
    if (line[name.length] !== "{" && line[name.length] !== " ") continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1)) || 0;
  }
  return total;
}
async function tick() {
  const now = Date.now();
  for (const tr of $("stream").rows) {
    if (tr.dataset.at)
      tr.querySelector(".age").textContent = `${Math.max(0, (now - tr.dataset.at) / 1000).toFixed(0)} s`;
  }
  try {
    const text = await (await fetch(metricsUrl, { cache: "no-store" })).text();
    const sent = sum(text, "zchannel_messages_sent_total", "subscriber");
    if (previous) $("rate").textContent = Math.round((sent - previous.sent) / ((now - previous.at) / 1000));
    previous = { sent, at: now };
    $("clients").textContent = sum(text, "zchannel_clients", "subscriber");
    $("drops").textContent = sum(text, "zchannel_dropped_total");
    page.metrics = true;
  } catch {
    page.metrics = false;
  }
}
setInterval(tick, 1000);
tick();
badge();
subscribe(params.get("pattern") || $("pattern").value);
