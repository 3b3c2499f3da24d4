import type {
  AlertsReport,
  HttpError,
  LinesPage,
  RangeCount,
  SearchResult,
  StreamSummary,
  WireLine,
} from "../protocol/messages.js";

/** The server's HTTP history and search API (see docs/protocol.md), relative to the page's location. */

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How requests are made: the page's fetch relative to its base URL by default; a test passes its own. */
export interface HttpContext {
  fetch: typeof fetch;
  base: string;
}

const pageHttp = (): HttpContext => ({ fetch: (input, init) => fetch(input, init), base: document.baseURI });

async function getJson<T>(path: string, signal?: AbortSignal, http: HttpContext = pageHttp()): Promise<T> {
  const res = await http.fetch(new URL(path, http.base), {
    signal: signal ?? null,
    credentials: "same-origin",
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as HttpError;
      if (body.message) message = body.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export function listStreams(signal?: AbortSignal): Promise<StreamSummary[]> {
  return getJson<StreamSummary[]>("api/streams", signal);
}

/** `GET /api/alerts`: the alerts and the webhook targets' delivery counters (the panel shows the targets). */
export function fetchAlertsReport(signal?: AbortSignal): Promise<AlertsReport> {
  return getJson<AlertsReport>("api/alerts", signal);
}

/** `after: null` reads from the start of the file. */
export type PageQuery = { before: string } | { after: string | null } | { at: string };

export function fetchLines(
  stream: string,
  query: PageQuery,
  limit: number,
  signal?: AbortSignal,
  http?: HttpContext,
): Promise<LinesPage> {
  const params = new URLSearchParams({ limit: String(limit) });
  if ("before" in query) params.set("before", query.before);
  else if ("at" in query) params.set("at", query.at);
  else params.set("after", query.after ?? "start");
  return getJson<LinesPage>(`api/streams/${enc(stream)}/lines?${params}`, signal, http);
}

/** `GET /api/streams/:name/count`: a range's count, or null when the server cannot count (an older one: 404). */
export async function fetchCount(
  stream: string,
  range: { after: string | null; before: string | null },
  signal?: AbortSignal,
  http?: HttpContext,
): Promise<RangeCount | null> {
  const params = new URLSearchParams();
  if (range.after !== null) params.set("after", range.after);
  if (range.before !== null) params.set("before", range.before);
  try {
    return await getJson<RangeCount>(`api/streams/${enc(stream)}/count?${params}`, signal, http);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export interface SearchQuery {
  q: string;
  regex: boolean;
  caseSensitive: boolean;
  limit: number;
}

export function searchStream(
  stream: string,
  query: SearchQuery,
  signal?: AbortSignal,
): Promise<SearchResult> {
  const params = new URLSearchParams({
    q: query.q,
    regex: query.regex ? "1" : "0",
    case: query.caseSensitive ? "1" : "0",
    limit: String(query.limit),
  });
  return getJson<SearchResult>(`api/streams/${enc(stream)}/search?${params}`, signal);
}

/**
 * `GET /api/streams/:name/line?cursor=C`: the whole line ending at cursor C (pages and `/ws` frames carry only
 * a long line's first 64 KiB). The answer's `trunc` is set when the line was longer than the server keeps whole.
 */
export async function fetchWholeLine(
  stream: string,
  cursor: string,
  signal?: AbortSignal,
): Promise<WireLine> {
  const params = new URLSearchParams({ cursor });
  const r = await getJson<{ stream: string; line: WireLine }>(
    `api/streams/${enc(stream)}/line?${params}`,
    signal,
  );
  return r.line;
}
