import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendEntries, type EntryInput } from "../append/appender.js";

/**
 * A demo audit log in the seed's style (auto-repair actions of a trading platform) that keeps growing, so
 * `livetrail serve --demo` (and `npm start`) shows something live with nothing to set up.
 */

export interface DemoOptions {
  /** Back-dated entries written when the file is new or empty. Default 200. */
  historyEntries?: number;
  /** How far back the history reaches. Default 6 hours. */
  historySpanMs?: number;
  /** A new entry every min..max milliseconds. Default 1000..3000. */
  intervalMs?: { min: number; max: number };
  /** A live append failed (the demo keeps going). Default: a line on stderr. */
  onError?: (error: Error) => void;
}

export interface Demo {
  /** The audit file being written. */
  file: string;
  /** Stops appending (waits for a write under way); removes the directory if the demo created it. Idempotent. */
  close(): Promise<void>;
}

export const DEMO_FILE_NAME = "AUTO_REPAIR_AUDIT.log";

export async function startDemo(dir?: string, options: DemoOptions = {}): Promise<Demo> {
  const ownDir = dir === undefined;
  const directory = dir ?? (await mkdtemp(join(tmpdir(), "livetrail-demo-")));
  await mkdir(directory, { recursive: true });
  const file = join(directory, DEMO_FILE_NAME);
  const { min, max } = options.intervalMs ?? { min: 1000, max: 3000 };
  const onError =
    options.onError ?? ((error: Error) => process.stderr.write(`livetrail demo: ${error.message}\n`));

  // An existing demo log is continued, not rewritten: its history stays in time order.
  if ((await sizeOf(file)) === 0) {
    await appendEntries(file, history(options.historyEntries ?? 200, options.historySpanMs ?? 6 * 3600_000));
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    timer = setTimeout(tick, min + Math.random() * (max - min));
    // The demo alone should not keep a process alive; whoever serves it does.
    timer.unref();
  };
  const tick = (): void => {
    writing = appendEntries(file, [randomEntry()])
      .then(
        () => undefined,
        (error: Error) => onError(error),
      )
      .finally(() => {
        if (!closed) schedule();
      });
  };
  schedule();

  let closing: Promise<void> | undefined;
  return {
    file,
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        await writing;
        if (ownDir) await rm(directory, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/** `count` entries at random moments over the last `spanMs`, oldest first. */
function history(count: number, spanMs: number): EntryInput[] {
  const now = Date.now();
  const times = Array.from({ length: count }, () => now - Math.random() * spanMs).sort((a, b) => a - b);
  return times.map((t) => ({ ...randomEntry(), time: new Date(t) }));
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

const CONTAINERS = ["Grafana", "Prometheus", "quantum_backend", "ai_engine", "redis", "nginx", "market_feed"];
const SERVICES = [
  "PostgreSQL",
  "Redis",
  "Grafana",
  "order gateway",
  "risk engine",
  "Binance feed",
  "Bybit feed",
];

const ACTIONS: ReadonlyArray<() => EntryInput> = [
  () => ({ message: `Auto-repair: Restarted ${pick(CONTAINERS)} container` }),
  () => ({ message: "Auto-repair: Created PostgreSQL database quantum" }),
  () => ({ message: `Auto-repair: Retrained XGBoost model to ${between(18, 26)} features` }),
  () => ({ message: `Auto-repair: Cleared Redis cache (${between(40, 900)} MB freed)` }),
  () => ({
    message: `Auto-repair: Reconnected ${pick(["Binance", "Bybit", "Kraken"])} market data websocket`,
  }),
  () => ({ message: `Auto-repair: Rotated ${between(2, 9)} old log files in /var/log/quantum` }),
  () => ({ message: `Auto-repair: Resynced system clock (drift ${between(2, 19) / 10} s)` }),
  () => ({ message: `Health check passed: ${pick(SERVICES)} (${between(3, 180)} ms)` }),
  () => ({ message: `Health check passed: ${between(12, 14)}/14 modules healthy` }),
  () => ({ message: "Weekly self-heal: Started validation cycle" }),
  () => ({ message: "Weekly self-heal: All checks passed" }),
  () => ({ message: `AI agent validation: ${between(20, 24)}/24 module integrity checks passed` }),
  () => ({ level: "warn", message: `High memory on ${pick(CONTAINERS)}: ${between(80, 95)}% of limit` }),
  () => ({
    level: "warn",
    message: `Market data lag ${between(11, 49) / 10} s on ${pick(["BTCUSDT", "ETHUSDT"])}`,
  }),
  () => ({ level: "warn", message: `Disk usage ${between(80, 92)}% on /mnt/status` }),
  () => ({ level: "warn", message: `Slow query ${between(900, 4000)} ms on trades table` }),
  () => ({ level: "error", message: `${pick(SERVICES)} health check failed: connection refused` }),
  () => ({
    level: "error",
    message: `${pick(CONTAINERS)} container exited with code ${pick([1, 137, 139])}`,
  }),
  () => ({ level: "error", message: `Model inference timeout after ${pick([2000, 5000, 10000])} ms` }),
];

// Mostly routine: repairs and passing checks, some warnings, few errors.
const WEIGHTS = [8, 1, 2, 3, 3, 2, 2, 10, 6, 1, 1, 2, 2, 2, 1, 2, 1, 1, 1];

function randomEntry(): EntryInput {
  let r = Math.random() * WEIGHTS.reduce((a, b) => a + b, 0);
  for (const [i, weight] of WEIGHTS.entries()) {
    r -= weight;
    if (r < 0) return (ACTIONS[i] as () => EntryInput)();
  }
  return (ACTIONS[0] as () => EntryInput)();
}
