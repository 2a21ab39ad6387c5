// zchannel.js: the zchannel client for browsers (and any runtime with a
// WebSocket). One ES module, no dependencies.
//
//   import { ZChannel } from "./zchannel.js";
//   const zc = new ZChannel("ws://localhost:2348/");
//   zc.subscribe("orders.>", (m) => console.log(m.topic, m.seq, m.ts, m.payload));
//   zc.publish("orders.1", "hello");       // on the same connection
//
// A message has topic, seq, ts (ms since the Unix epoch when it entered
// the system; absent when it came from history), headers and payload.
//
// It speaks the WebSocket text protocol (one JSON object per message, see
// PROTOCOL.md), reconnects on its own with a growing delay, and resumes
// every subscription from the last seq it delivered on each topic (`from`),
// so a callback sees every message once and in order across a reconnect,
// as far as the broker's history reaches. What it cannot hide it says:
//   "gap"    messages that are lost for good ({topic, from, to})
//   "reset"  a topic's seqs started afresh (a broker that restarted without
//            its memory): {topic, epoch}; the next message may be seq 1
//   "state"  connecting / open / closed, with the reconnect count
//   "error"  an error the server sent that answers no request

const ASYNC_ERRORS = new Set(["gap", "reset", "slow_consumer", "idle_timeout", "history_starts",
                              "snapshot_incomplete", "catchup_failed", "internal"]);

// A pattern names one topic when it has no wildcard token.
function isTopic(pattern) {
  return !pattern.split(".").some((token) => token === "*" || token === ">");
}

// Does a topic match a pattern ("*" one token, ">" one or more at the end)?
export function matches(pattern, topic) {
  const want = pattern.split("."), have = topic.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return have.length > i;
    if (i >= have.length || (want[i] !== "*" && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

export class ZChannel extends EventTarget {
  // url: ws:// or wss:// of a front-end's --ws-listen. Options: token (sent
  // as auth on every connection), minDelay / maxDelay (ms between
  // reconnects), WebSocket (an implementation, for runtimes without one),
  // connect (false: call connect() yourself), confirms (true: publisher
  // confirms, publish() then resolves once the broker has stamped it).
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.token = options.token ?? null;
    this.confirms = options.confirms === true;
    this.minDelay = options.minDelay ?? 200;
    this.maxDelay = options.maxDelay ?? 5000;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.subscriptions = new Map();  // pattern -> {callbacks, options}
    this.positions = new Map();      // topic -> {seq, epoch}: the last delivered
    this.epochs = new Map();         // pattern -> epoch the server named on sub
    this.pending = [];               // requests awaiting their reply, in order
    this.outbox = [];                // publishes made while not connected
    this.state = "closed";
    this.reconnects = 0;
    this.gaps = 0;
    this.resets = 0;
    this.verbose = true;             // ask each sub's epoch, until the server says it cannot
    this.stopped = false;
    this.socket = null;
    this.delay = this.minDelay;
    if (options.connect !== false) this.connect();
  }

  // Subscribes callback(message) to pattern; options: {snapshot: true} or
  // {from: seq} (a topic). Returns a promise of {unsubscribe()}.
  subscribe(pattern, callback, options = {}) {
    let sub = this.subscriptions.get(pattern);
    if (sub) {
      sub.callbacks.add(callback);
      return Promise.resolve(this._handle(pattern, callback));
    }
    sub = { callbacks: new Set([callback]), options, waiters: [] };
    this.subscriptions.set(pattern, sub);
    if (options.from !== undefined && isTopic(pattern))
      this.positions.set(pattern, { seq: options.from, epoch: options.epoch ?? null });
    // Not connected yet: the promise keeps until the server confirmed it
    const done = this.state === "open" ? this._subscribe(pattern, sub) :
                 new Promise((resolve, reject) => sub.waiters.push({ resolve, reject }));
    return done.then(() => this._handle(pattern, callback));
  }

  _handle(pattern, callback) {
    return {
      unsubscribe: () => {
        const sub = this.subscriptions.get(pattern);
        if (!sub) return Promise.resolve();
        sub.callbacks.delete(callback);
        if (sub.callbacks.size > 0) return Promise.resolve();
        this.subscriptions.delete(pattern);
        return this.state === "open" ? this._request({ op: "unsub", pattern }) : Promise.resolve();
      },
    };
  }

  // Publishes payload (a string; bytes go as base64) on topic, with
  // optional headers (an object of strings). Queued while reconnecting.
  // With confirms on, returns a promise of {topic, seq, epoch} once the
  // broker stamped it, rejected when it was refused or the connection
  // closed first (send it again: at least once); otherwise undefined.
  publish(topic, payload, headers) {
    const request = { op: "pub", topic };
    if (payload instanceof Uint8Array) {
      request.payload = btoa(String.fromCharCode(...payload));
      request.enc = "base64";
    } else {
      request.payload = String(payload);
    }
    if (headers) request.headers = headers;
    const waiter = { publish: topic };
    const confirmed = this.confirms
      ? new Promise((resolve, reject) => Object.assign(waiter, { resolve, reject })) : undefined;
    if (this.state === "open") this._publish(request, waiter);
    else this.outbox.push([request, waiter]);
    return confirmed;
  }

  // Authenticates this and every later connection with token.
  auth(token) {
    this.token = token;
    return this.state === "open" ? this._request({ op: "auth", token }) : Promise.resolve();
  }

  // Round trip to the server: a promise of the time it took (ms).
  ping() {
    const start = performance.now();
    return this._request({ op: "ping" }).then(() => performance.now() - start);
  }

  // Closes for good: no reconnect.
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "client closing");
    this._setState("closed");
  }

  // Registers a listener: on("gap", (detail) => ...).
  on(type, listener) {
    this.addEventListener(type, (event) => listener(event.detail));
    return this;
  }

  connect() {
    this.stopped = false;
    this._setState("connecting");
    const socket = new this.WebSocket(this.url, "zchannel.v1");
    this.socket = socket;
    socket.onopen = () => this._opened();
    socket.onmessage = (event) => this._message(event.data);
    socket.onclose = (event) => this._closed(socket, event);
    socket.onerror = () => {};       // the close that follows says it
  }

  _setState(state, detail = {}) {
    this.state = state;
    this._emit("state", { state, reconnects: this.reconnects, gaps: this.gaps,
                          resets: this.resets, ...detail });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async _opened() {
    this.delay = this.minDelay;
    this._setState("open");
    try {
      if (this.token) await this._request({ op: "auth", token: this.token });
      if (this.confirms) await this._request({ op: "verbose", on: true });
      for (const [pattern, sub] of this.subscriptions) {
        try {
          await this._subscribe(pattern, sub);
          for (const waiter of sub.waiters.splice(0)) waiter.resolve();
        } catch (error) {
          if (error.code === "closed") throw error;
          for (const waiter of sub.waiters.splice(0)) waiter.reject(error);
          this.subscriptions.delete(pattern);
        }
      }
    } catch (error) {
      this._emit("error", error);
    }
    for (const [request, waiter] of this.outbox.splice(0)) this._publish(request, waiter);
  }

  // Subscribes on the connection: a topic resumes after its last seq; a
  // pattern first resumes each topic seen under it, then goes live (the
  // server delivers each message once per connection).
  async _subscribe(pattern, sub) {
    for (const [topic, position] of this.positions) {
      if (topic !== pattern && matches(pattern, topic) && !isTopic(pattern))
        await this._subscribeOnce(topic, { from: position.seq, epoch: position.epoch });
    }
    const position = isTopic(pattern) ? this.positions.get(pattern) : null;
    const options = position ? { from: position.seq, epoch: position.epoch } :
                    sub.options.snapshot ? { snapshot: true } : {};
    return this._subscribeOnce(pattern, options);
  }

  async _subscribeOnce(pattern, options) {
    const request = { op: "sub", pattern };
    if (options.snapshot) request.snapshot = true;
    if (options.from !== undefined) request.from = options.from;
    if (options.from !== undefined && options.epoch) request.epoch = options.epoch;
    if (this.verbose) request.verbose = true;
    try {
      const reply = await this._request(request);
      if (reply.epoch) this.epochs.set(pattern, reply.epoch);
      return reply;
    } catch (error) {
      // A server without epochs refuses the option: ask without it
      if (error.code === "bad_option" && request.verbose) {
        this.verbose = false;
        return this._subscribeOnce(pattern, options);
      }
      throw error;
    }
  }

  _request(request) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, request });
      this._send(request);
    });
  }

  // Without confirms a publish is answered only when it fails, in its
  // place among the replies: it holds a place in pending that a later
  // reply passes. Held places are bounded: past 1024 such publishes with
  // no other request, the oldest go (an error then names the topic in its
  // detail only). With confirms every publish is answered.
  _publish(request, waiter) {
    if (this.pending.length >= 1024 && this.pending[0].publish !== undefined && !this.pending[0].resolve)
      this.pending.shift();
    this.pending.push(waiter);
    this._send(request);
  }

  // The next reply is for the oldest request that expects one: publishes
  // before it that expect none went through.
  _next() {
    while (this.pending.length && this.pending[0].publish !== undefined && !this.pending[0].resolve)
      this.pending.shift();
    return this.pending.shift();
  }

  _send(request) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(request));
  }

  _message(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.op === "msg") this._deliver(message);
    else if (message.op === "ok" || message.op === "pong") this._next()?.resolve(message);
    else if (message.op === "err") this._error(message);
  }

  // A message: delivered once, in order. A repeat (seq not past the last
  // delivered) is dropped; a jump is a gap the server did not tell.
  _deliver(message) {
    if (typeof message.payload === "string" && message.enc === "base64")
      message.bytes = Uint8Array.from(atob(message.payload), (c) => c.charCodeAt(0));
    const position = this.positions.get(message.topic);
    if (position && message.seq <= position.seq) return;
    if (position && message.seq > position.seq + 1)
      this._gap(message.topic, position.seq + 1, message.seq - 1);
    const epoch = position?.epoch ?? this._epochFor(message.topic);
    this.positions.set(message.topic, { seq: message.seq, epoch });
    for (const [pattern, sub] of this.subscriptions)
      if (matches(pattern, message.topic))
        for (const callback of sub.callbacks) callback(message);
  }

  _epochFor(topic) {
    for (const [pattern, epoch] of this.epochs) if (matches(pattern, topic)) return epoch;
    return null;
  }

  _gap(topic, from, to) {
    this.gaps++;
    this._emit("gap", { topic, from, to });
    this._setState(this.state);
  }

  _error(message) {
    const words = String(message.detail ?? "").split(" ");
    if (message.code === "reset") {
      // "reset <topic> <epoch>": the topic counts from 1 again
      const [, topic, epoch] = words;
      this.resets++;
      this.positions.set(topic, { seq: 0, epoch });
      for (const [pattern] of this.epochs) if (matches(pattern, topic)) this.epochs.set(pattern, epoch);
      this._emit("reset", { topic, epoch });
      this._setState(this.state);
    } else if (message.code === "gap") {
      // "gap <topic> <from>-<to>"
      const [from, to] = (words[2] ?? "").split("-").map(Number);
      const position = this.positions.get(words[1]);
      if (position && to > position.seq) position.seq = to;
      this._gap(words[1], from, to);
    } else if (message.code === "history_starts") {
      this._emit("error", message);
    } else if (ASYNC_ERRORS.has(message.code) || this.pending.length === 0) {
      this._emit("error", message);
    } else {
      const waiter = this.pending.shift();
      if (waiter.publish !== undefined && !waiter.reject) {
        // a refused publish (forbidden, too_large, ...): told as an event
        this._emit("error", { ...message, topic: waiter.publish });
        return;
      }
      const error = new Error(message.detail);
      error.code = message.code;
      waiter.reject(error);
    }
  }

  _closed(socket, event) {
    if (socket !== this.socket) return;
    const error = new Error("connection closed");
    error.code = "closed";
    for (const waiter of this.pending.splice(0)) if (waiter.reject) waiter.reject(error);
    if (this.stopped) return;
    this.reconnects++;
    this._setState("connecting", { code: event.code, reason: event.reason });
    const delay = this.delay * (0.75 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, this.maxDelay);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

export default ZChannel;
