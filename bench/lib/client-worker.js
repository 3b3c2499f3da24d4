/**
 * A client process: holds many connections to one system, checks every line they receive (lost, duplicated,
 * mangled) and records write-to-receipt latency. Driven by the bench runner over IPC (see client-pool.js).
 * Clients run in their own processes so that they neither share the server's CPU accounting nor its event loop.
 */
import { makeLine, parseLine } from "./lines.js";
import { nowMs } from "./proc.js";
import { Histogram } from "./stats.js";
import { systems } from "./systems/index.js";

/** @typedef {import("./systems/types.js").Conn} Conn */

class ClientState {
  /** @param {number} count */
  constructor(count) {
    this.seen = new Uint8Array(count);
    this.got = 0;
    this.dup = 0;
    this.mangled = 0;
    this.outside = 0;
    this.foreign = 0;
    this.doneAt = 0;
    this.primed = false;
    this.gaps = 0;
    this.closed = 0;
  }
}

/** @type {{ conn: Conn | null, state: ClientState }[]} */
let clients = [];
let first = 0;
let count = 0;
let verify = false;
let hist = new Histogram();
let doneClients = 0;
let errors = 0;
/** @type {string[]} */
const errorSamples = [];
/** Expected texts by index (seq - first): built before a burst, else cached when several clients share them. */
/** @type {(string | undefined)[]} */
let expected = [];

/** @typedef {{ conn: Conn | null, state: ClientState }} Slot */

/** A line handler that looks the client's state up on each call: `track` replaces states between phases. */
function onLineFor(/** @type {Slot} */ slot) {
  return (/** @type {string} */ text, /** @type {number} */ recv) => {
    const st = slot.state;
    const p = parseLine(text);
    if (!p) {
      st.foreign++;
      return;
    }
    if (p.seq < 0) {
      st.primed = true;
      return;
    }
    const i = p.seq - first;
    if (i < 0 || i >= count) {
      st.outside++;
      return;
    }
    if (st.seen[i]) {
      st.dup++;
      return;
    }
    st.seen[i] = 1;
    st.got++;
    if (verify) {
      let want = expected[i];
      if (want === undefined) {
        want = lineText(p.seq, p.t);
        if (clients.length > 1) expected[i] = want;
      }
      if (text !== want) st.mangled++;
    }
    if (p.t > 0) hist.add(recv - p.t);
    if (st.got === count) {
      st.doneAt = recv;
      if (++doneClients === clients.length) send({ event: "done", at: recv });
    }
  };
}

/** The text a client should receive for line `seq` written at `t`. */
function lineText(/** @type {number} */ seq, /** @type {number} */ t) {
  return makeLine(seq, t).slice(0, -1);
}

/** @param {unknown} err */
function noteError(err) {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(String(/** @type {Error} */ (err)?.message ?? err));
}

/**
 * @param {string} systemName
 * @param {import("./systems/types.js").Target} target
 * @param {number} n
 * @param {number} concurrency
 * @param {number} tailLines
 */
async function connectMany(systemName, target, n, concurrency, tailLines) {
  const system = /** @type {import("./systems/types.js").System} */ (systems[systemName]);
  let next = 0;
  let failed = 0;
  const t0 = nowMs();
  const one = async () => {
    while (next < n) {
      next++;
      /** @type {Slot} */
      const slot = { conn: null, state: new ClientState(count) };
      clients.push(slot);
      try {
        slot.conn = await system.connect(target, {
          onLine: onLineFor(slot),
          onGap: () => slot.state.gaps++,
          onClose: () => slot.state.closed++,
          tailLines,
        });
      } catch (err) {
        failed++;
        noteError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, one));
  return { connected: n - failed, failed, ms: nowMs() - t0, errorSamples };
}

/**
 * Connect, subscribe and disconnect `cycles` times with `concurrency` in flight.
 * @param {string} systemName
 * @param {import("./systems/types.js").Target} target
 * @param {number} cycles
 * @param {number} concurrency
 */
async function churn(systemName, target, cycles, concurrency) {
  const system = /** @type {import("./systems/types.js").System} */ (systems[systemName]);
  let next = 0;
  let failed = 0;
  const t0 = nowMs();
  const one = async () => {
    while (next < cycles) {
      next++;
      try {
        const c = await system.connect(target, { onLine: () => {} });
        await c.close();
      } catch (err) {
        failed++;
        noteError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cycles) }, one));
  return { cycles, failed, ms: nowMs() - t0, errorSamples };
}

/** @param {ClientState} s */
function summaryOf(s) {
  return { got: s.got, lost: count - s.got, dup: s.dup, gaps: s.gaps, closed: s.closed };
}

function report() {
  let complete = 0;
  let lost = 0;
  let dup = 0;
  let mangled = 0;
  let outside = 0;
  let foreign = 0;
  let gaps = 0;
  let closed = 0;
  let firstDone = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  let minGot = Number.POSITIVE_INFINITY;
  for (const { state: s } of clients) {
    if (s.got === count) complete++;
    lost += count - s.got;
    dup += s.dup;
    mangled += s.mangled;
    outside += s.outside;
    foreign += s.foreign;
    gaps += s.gaps;
    closed += s.closed;
    minGot = Math.min(minGot, s.got);
    if (s.doneAt) {
      firstDone = Math.min(firstDone, s.doneAt);
      lastDone = Math.max(lastDone, s.doneAt);
    }
  }
  return {
    clients: clients.length,
    complete,
    lost,
    dup,
    mangled,
    outside,
    foreign,
    gaps,
    closed,
    minGot: clients.length ? minGot : 0,
    firstDone: Number.isFinite(firstDone) ? firstDone : 0,
    lastDone,
    hist: hist.dump(),
    last: clients.length ? summaryOf(/** @type {Slot} */ (clients.at(-1)).state) : null,
    errors,
    errorSamples,
  };
}

/** @param {Record<string, unknown>} msg */
function send(msg) {
  process.send?.(msg);
}

process.on("message", async (/** @type {any} */ m) => {
  try {
    let result;
    switch (m.op) {
      case "track":
        first = m.first;
        count = m.count;
        verify = m.verify;
        hist = new Histogram();
        doneClients = 0;
        expected = new Array(count);
        if (verify && m.burst) for (let i = 0; i < count; i++) expected[i] = lineText(first + i, 0);
        for (const c of clients) c.state = new ClientState(count);
        result = { ok: true };
        break;
      case "connect":
        result = await connectMany(m.system, m.target, m.n, m.concurrency, m.tailLines ?? 0);
        break;
      case "status": {
        let primed = 0;
        let got = 0;
        for (const c of clients) {
          if (c.state.primed) primed++;
          got += c.state.got + c.state.dup;
        }
        result = { primed, got, done: doneClients, clients: clients.length };
        break;
      }
      case "unprime":
        for (const c of clients) c.state.primed = false;
        result = { ok: true };
        break;
      case "pause":
        for (const c of clients.slice(0, m.n)) c.conn?.pause();
        result = { ok: true };
        break;
      case "report":
        result = report();
        break;
      case "churn":
        result = await churn(m.system, m.target, m.cycles, m.concurrency);
        break;
      case "close":
        await Promise.all(clients.map((c) => c.conn?.close()));
        clients = [];
        result = { ok: true };
        break;
      default:
        throw new Error(`unknown op ${m.op}`);
    }
    send({ id: m.id, result });
  } catch (err) {
    send({ id: m.id, error: String(/** @type {Error} */ (err)?.stack ?? err) });
  }
});

process.on("disconnect", () => process.exit(0));
