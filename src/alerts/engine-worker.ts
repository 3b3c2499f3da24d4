import { parentPort, workerData } from "node:worker_threads";
import { AlertEngine, type FeedSource, type TapEvent } from "./engine.js";
import type { EngineMirror, FromWorker, ToWorker, WorkerInit } from "./engine-thread-messages.js";
import { unpackLines } from "./line-handover.js";
import { type Scheduler, systemScheduler } from "./scheduler.js";

/**
 * The rule worker (engine-thread.ts starts it): the real AlertEngine, its timers and its state file, fed the
 * main thread's batches in order. Notifications, errors and the firing alerts' state go back as messages.
 */
if (parentPort === null) throw new Error("engine-worker.ts runs as a worker thread (see engine-thread.ts)");
const port = parentPort;
const init = workerData as WorkerInit;
const progress = new BigInt64Array(init.progress);
const post = (message: FromWorker): void => port.postMessage(message);
let changed = false;

// The engine's clock: while a batch or event is evaluated, the time the hub handed it over (never going back, so
// a timer that ran while it waited is not undone); else the system clock. Timers are the system's.
let handedOverAt: number | null = null;
let last = 0;
const scheduler: Scheduler = {
  now: () => {
    last = Math.max(last, handedOverAt ?? Date.now());
    return last;
  },
  at: systemScheduler.at,
};

const engine = new AlertEngine({
  rules: init.rules,
  scheduler,
  stateFile: init.stateFile,
  ...(init.saveIntervalMs === undefined ? {} : { saveIntervalMs: init.saveIntervalMs }),
  ...(init.backlogMs === undefined ? {} : { backlogMs: init.backlogMs }),
  ...(init.recentLimit === undefined ? {} : { recentLimit: init.recentLimit }),
  onNotify: (n) => {
    changed = true;
    post({ t: "notify", n });
  },
  onError: (error) => post({ t: "error", message: error.message }),
});

function mirror(): EngineMirror {
  return { firing: engine.snapshot().firing, counters: [...engine.counters()] };
}

// Messages that arrive while start() reads the state file wait for it, so no line meets an engine without rules.
let backlog: ToWorker[] | null = null;

async function handle(m: ToWorker): Promise<void> {
  switch (m.t) {
    case "lines": {
      handedOverAt = m.at;
      engine.onLines({ name: m.stream, cursor: null }, unpackLines(m));
      handedOverAt = null;
      Atomics.add(progress, 0, BigInt(m.lengths.length));
      Atomics.add(progress, 1, BigInt(m.chars));
      changed = true;
      return;
    }
    case "event": {
      const source: FeedSource = { name: m.stream, cursor: m.cursor };
      const e = m.event;
      const event: TapEvent = e.type === "error" ? { type: "error", error: new Error(e.message) } : e;
      handedOverAt = m.at;
      engine.onEvent(source, event);
      handedOverAt = null;
      changed = true;
      return;
    }
    case "watch":
      engine.watch(m.stream);
      return;
    case "reload":
      engine.reload(m.rules);
      changed = true;
      return;
    case "start":
      backlog = [];
      await engine.start();
      for (let queued = backlog.shift(); queued !== undefined; queued = backlog.shift()) await handle(queued);
      backlog = null;
      break;
    case "save":
      await engine.save();
      break;
    case "flush":
      break;
    case "close":
      clearInterval(stateTimer);
      await engine.close();
      post({ t: "reply", id: m.id, ...mirror() });
      port.close();
      return;
  }
  post({ t: "reply", id: m.id, ...mirror() });
}

port.on("message", (m: ToWorker) => {
  if (backlog !== null && m.t !== "start") backlog.push(m);
  else void handle(m).catch((error: Error) => post({ t: "error", message: error.message }));
});

// A firing alert's count and evidence move with every matching line: the main side's snapshot() is at most this
// far behind (notifications themselves go at once).
const stateTimer = setInterval(() => {
  if (!changed) return;
  changed = false;
  post({ t: "state", ...mirror() });
}, init.stateIntervalMs);
stateTimer.unref();
