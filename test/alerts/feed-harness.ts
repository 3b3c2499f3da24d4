import { appendFile, writeFile } from "node:fs/promises";
import type { AlertNotification } from "../../src/alerts/alert.js";
import { AlertEngine, type AlertEngineOptions } from "../../src/alerts/engine.js";
import { parseRules } from "../../src/alerts/rule-config.js";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import type { Line } from "../../src/core/line.js";
import { Hub } from "../../src/server/hub.js";
import type { TempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import type { ManualScheduler } from "./manual-scheduler.js";

/** A real followed file: its hub, with the engine tapped first and a counter tapped after it. */
export interface Feed {
  name: string;
  file: string;
  hub: Hub;
  /** Every line the hub handed its taps, in order. */
  seen: Line[];
  events: string[];
  /** Appends lines and waits until the engine (tapped before the counter) has seen them. */
  append(lines: readonly string[]): Promise<void>;
}

export async function startFeed(
  dir: TempDir,
  name: string,
  engine: AlertEngine,
  track: <T extends { close(): unknown }>(thing: T) => T,
  initial: readonly string[] = [],
): Promise<Feed> {
  const file = dir.file(`${name}.log`);
  await writeFile(file, initial.length > 0 ? `${initial.join("\n")}\n` : "");
  const hub = track(
    new Hub(name, new FileBackend(name, file, { pollIntervalMs: 50 }), true, {
      windowLines: 100,
      windowBytes: 1 << 20,
      maxFrameBytes: 1 << 16,
      onError: (_stream, error) => {
        throw error;
      },
    }),
  );
  const seen: Line[] = [];
  const events: string[] = [];
  engine.attach(hub);
  hub.tap({
    onLines: (_hub, lines) => seen.push(...lines),
    onEvent: (_hub, event) => events.push(event.type === "reset" ? event.reason : event.type),
  });
  await hub.start();
  await waitFor(() => seen.length >= initial.length, {
    message: `the first ${initial.length} lines of ${name}`,
  });
  return {
    name,
    file,
    hub,
    seen,
    events,
    async append(lines) {
      const want = seen.length + lines.length;
      await appendFile(file, `${lines.join("\n")}\n`);
      await waitFor(() => seen.length >= want, { message: `${want} lines on ${name}` });
    },
  };
}

/** An engine on manual time that records what it notifies. */
export function makeEngine(
  rules: unknown[],
  scheduler: ManualScheduler,
  more: Partial<AlertEngineOptions> = {},
): { engine: AlertEngine; sent: AlertNotification[] } {
  const sent: AlertNotification[] = [];
  const engine = new AlertEngine({
    rules: parseRules(rules),
    scheduler,
    onNotify: (n) => sent.push(n),
    onError: (e) => {
      throw e;
    },
    ...more,
  });
  return { engine, sent };
}

/** A seed-format line stamped with the scheduler's time. */
export function stamped(scheduler: ManualScheduler, message: string): string {
  return `[${new Date(scheduler.now()).toISOString().replace(/\.\d{3}Z$/, "Z")}] ${message}`;
}

export function statuses(sent: readonly AlertNotification[]): string[] {
  return sent.map(
    (n) => `${n.rule}:${n.status}:${n.labels.stream}${n.labels.level ? `/${n.labels.level}` : ""}`,
  );
}
