import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AlertNotification } from "../../../src/alerts/alert.js";
import type { DeliveryClock } from "../../../src/alerts/delivery/clock.js";

/** One request as the receiver saw it: the raw body, exactly the bytes that were signed. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
  /** Answer after this long (real time): the request is in flight meanwhile. */
  delayMs?: number;
}

/**
 * A webhook receiver on 127.0.0.1 (ephemeral port) that records every request and answers from a script: the
 * next scripted answer, else 200 "ok".
 */
export interface Receiver {
  url: string;
  requests: Received[];
  answers: Answer[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const answers: Answer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const answer = answers.shift() ?? { status: 200, body: "ok" };
      if (answer.hang) return;
      const reply = (): void => {
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? "");
      };
      if (answer.delayMs === undefined) reply();
      else setTimeout(reply, answer.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Virtual time: sleep advances the clock at once (and records how long it was asked to wait). */
export interface FakeClock extends DeliveryClock {
  sleeps: number[];
  advance(ms: number): void;
}

export function fakeClock(startMs = Date.parse("2026-12-04T12:00:00Z")): FakeClock {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    random: () => 0.5,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      await new Promise<void>((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
      t += ms;
    },
  };
}

export function notification(overrides: Partial<AlertNotification> = {}): AlertNotification {
  return {
    id: "errors-audit-1733313600000",
    rule: "errors",
    kind: "rate",
    severity: "critical",
    status: "firing",
    labels: { stream: "audit" },
    summary: "7 lines matching /ERROR/ in 1m on audit",
    startsAt: "2026-12-04T11:59:00.000Z",
    endsAt: null,
    count: 7,
    evidence: [
      {
        stream: "audit",
        text: "[2026-12-04T11:58:59Z] ERROR: disk <sda> full & failing",
        time: "2026-12-04T11:58:59Z",
        cursor: "1.abc.16.120.6",
      },
      {
        stream: "audit",
        text: "[2026-12-04T11:59:00Z] ERROR: repair job 42 failed",
        time: "2026-12-04T11:59:00Z",
        cursor: "1.abc.16.170.7",
      },
    ],
    ...overrides,
  };
}
