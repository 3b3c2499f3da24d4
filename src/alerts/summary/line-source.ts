import { basename } from "node:path";
import { SourceMissingError } from "../../backend/backend.js";
import { backendForFile } from "../../backend/sources.js";
import type { LinesPage, StreamSummary } from "../../protocol/messages.js";

/**
 * Where a summary reads its lines: one page at a time from the period's first line on (found by time, not by
 * reading from the start), so memory holds one page whatever the size of the log.
 */
export interface LineSource {
  /** Streams to summarise, and the alerts stream when there is one. */
  streams(): Promise<{ logs: string[]; alerts: string | null }>;
  /** Calls `onPage` with each page of line texts from `sinceMs` to the current end. False: no such source. */
  read(stream: string, sinceMs: number, onPage: (texts: string[]) => void): Promise<boolean>;
}

export class SummaryReadError extends Error {
  override readonly name = "SummaryReadError";
}

const PAGE_LINES = 5_000;
/** The stream a server keeps its alerts in. */
export const ALERTS_STREAM = "alerts";

/** A log file (and optionally the file of the alerts stream), read with the file backend's history. */
export function fileSource(file: string, alertsFile: string | null): LineSource {
  const name = basename(file);
  const files = new Map([[name, file]]);
  if (alertsFile !== null) files.set(ALERTS_STREAM, alertsFile);
  return {
    streams: async () => ({ logs: [name], alerts: alertsFile === null ? null : ALERTS_STREAM }),
    read: async (stream, sinceMs, onPage) => {
      const backend = backendForFile(stream, files.get(stream) as string, { watch: false });
      try {
        let page = await backend.seek(sinceMs, PAGE_LINES);
        onPage(page.lines.map((l) => l.text));
        while (page.more) {
          page = await backend.readAfter(page.cursor, PAGE_LINES);
          onPage(page.lines.map((l) => l.text));
        }
        return true;
      } catch (error) {
        if (error instanceof SourceMissingError) return false;
        throw error;
      }
    },
  };
}

/**
 * A running server, through its HTTP API: `GET /api/streams`, then `/api/streams/:name/lines?at=` and
 * `?after=` pages. `token` goes in `Authorization: Bearer` (a read token is enough).
 */
export function httpSource(baseUrl: string, token: string | null, only: string | null): LineSource {
  const base = baseUrl.replace(/\/+$/, "");
  const get = async <T>(path: string): Promise<{ status: number; body: T | null }> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new SummaryReadError(`${base}: ${cause ?? (error as Error).message}`);
    }
    if (response.status === 401) {
      throw new SummaryReadError(`${base}: the server wants a token (set LIVETRAIL_TOKEN to a read token)`);
    }
    if (response.status === 403) throw new SummaryReadError(`${base}: the token was refused (403)`);
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      return response.status === 404
        ? { status: 404, body: null }
        : fail(`${base}${path}: HTTP ${response.status} ${text}`);
    }
    return { status: response.status, body: (await response.json()) as T };
  };
  return {
    streams: async () => {
      const { body } = await get<StreamSummary[]>("/api/streams");
      if (!Array.isArray(body)) throw new SummaryReadError(`${base}/api/streams: not a livetrail server`);
      const names = body.map((s) => s.name);
      if (only !== null && !names.includes(only)) {
        throw new SummaryReadError(`${base}: no stream named "${only}" (streams: ${names.join(", ")})`);
      }
      const logs = only !== null ? [only] : names.filter((n) => n !== ALERTS_STREAM);
      return { logs, alerts: names.includes(ALERTS_STREAM) ? ALERTS_STREAM : null };
    },
    read: async (stream, sinceMs, onPage) => {
      const path = `/api/streams/${encodeURIComponent(stream)}/lines`;
      let { body: page } = await get<LinesPage>(
        `${path}?at=${new Date(sinceMs).toISOString()}&limit=${PAGE_LINES}`,
      );
      if (page === null) return false;
      onPage(page.lines.map((l) => l.text));
      while (page.more && page.after !== null) {
        const next: { body: LinesPage | null } = await get<LinesPage>(
          `${path}?after=${encodeURIComponent(page.after)}&limit=${PAGE_LINES}`,
        );
        if (next.body === null) return true;
        page = next.body;
        onPage(page.lines.map((l) => l.text));
      }
      return true;
    },
  };
}

function fail(message: string): never {
  throw new SummaryReadError(message);
}

/** Reads every stream of `source` into `builder`-like sinks; what summary runs. */
export async function readPeriod(
  source: LineSource,
  sinceMs: number,
  sink: {
    addLine(stream: string, text: string): void;
    addAlertLine(text: string): void;
    alertsAvailable(): void;
  },
): Promise<{ missing: string[] }> {
  const { logs, alerts } = await source.streams();
  const missing: string[] = [];
  for (const stream of logs) {
    const found = await source.read(stream, sinceMs, (texts) => {
      for (const t of texts) sink.addLine(stream, t);
    });
    if (!found) missing.push(stream);
  }
  if (alerts !== null) {
    sink.alertsAvailable();
    await source.read(alerts, sinceMs, (texts) => {
      for (const t of texts) sink.addAlertLine(t);
    });
  }
  return { missing };
}
