import type { AlertNotification } from "./alert.js";
import type { RuleCounters, TapEvent } from "./engine.js";
import type { LineBatch } from "./line-handover.js";
import type { RuleSpec } from "./rule-config.js";

/** What the rule worker is started with (workerData). */
export interface WorkerInit {
  rules: readonly RuleSpec[];
  stateFile: string | null;
  saveIntervalMs?: number;
  backlogMs?: number;
  recentLimit?: number;
  /** BigInt64Array over it: [lines evaluated, text units evaluated], written by the worker, read by the main side. */
  progress: SharedArrayBuffer;
  /** How often the worker sends the firing alerts' current state while something changed (ms). */
  stateIntervalMs: number;
}

/** An event as it crosses (an Error does not keep its message through every clone). */
export type WireEvent = Exclude<TapEvent, { type: "error" }> | { type: "error"; message: string };

/**
 * Main side → worker, handled strictly in order. Lines and events carry the time the hub handed them over: the
 * engine sees them then, not after their wait in the queue.
 */
export type ToWorker =
  | ({ t: "lines"; at: number } & LineBatch)
  | { t: "event"; at: number; stream: string; cursor: string | null; event: WireEvent }
  | { t: "watch"; stream: string }
  | { t: "reload"; rules: readonly RuleSpec[] }
  /** Requests: the worker answers each with a `reply` carrying the same id once it is done. */
  | { t: "start"; id: number }
  | { t: "save"; id: number }
  | { t: "flush"; id: number }
  | { t: "close"; id: number };

/** The alerts firing now (with their current counts and evidence) and the counters: what snapshot() mirrors. */
export interface EngineMirror {
  firing: AlertNotification[];
  counters: [string, RuleCounters][];
}

/** Worker → main side. */
export type FromWorker =
  | { t: "notify"; n: AlertNotification }
  | { t: "error"; message: string }
  | ({ t: "state" } & EngineMirror)
  | ({ t: "reply"; id: number } & EngineMirror);
