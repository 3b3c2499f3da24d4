import { FilterEngine, type FromWorker, type ToWorker } from "./filter-engine.js";

/**
 * The filter worker: runs the filter's regular expressions off the page's main thread (see filter-engine.ts for
 * what it does, filter-channel.ts for how the page bounds its time). Started by filter.ts as a module worker
 * from this same origin (`script-src 'self'` covers it; no blob: or eval).
 */

interface WorkerScope {
  onmessage: ((ev: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const engine = new FilterEngine();

scope.onmessage = (ev) => {
  const reply = engine.handle(ev.data);
  if (reply === null) return;
  scope.postMessage(reply, reply.t === "rows" ? [reply.shown.buffer, reply.gaps.buffer] : []);
};
scope.postMessage({ t: "ready" });
