import { readFile } from "node:fs/promises";
import type { LinesPage, StreamSummary, WireLine } from "../../protocol/messages.js";
import { parseTokenFile } from "../../server/security/token-set.js";
import { CliError } from "../cli-error.js";

/** A livetrail server as the remote tail reaches it: its base URL (a proxy's path prefix kept) and credential. */
export interface RemoteTarget {
  /** http(s)://host:port/prefix/ (always ending in "/"). */
  base: URL;
  /** The `/ws` endpoint under base, ws(s)://. */
  ws: URL;
  token: string | null;
}

export function isRemoteUrl(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

export async function remoteTarget(url: string, tokenFile: string | undefined): Promise<RemoteTarget> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`not a valid URL: ${url}`, 2);
  }
  if (base.search !== "" || base.hash !== "")
    throw new CliError(`give the server's URL without ?query or #`, 2);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const ws = new URL("ws", base);
  ws.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return { base, ws, token: await readToken(tokenFile) };
}

/** --token-file's first token (the server's format: `read TOKEN` or a bare token), else $LIVETRAIL_TOKEN. */
export async function readToken(tokenFile: string | undefined): Promise<string | null> {
  if (tokenFile === undefined) {
    const token = process.env.LIVETRAIL_TOKEN?.trim();
    return token === undefined || token === "" ? null : token;
  }
  let text: string;
  try {
    text = await readFile(tokenFile, "utf8");
  } catch (error) {
    throw new CliError(
      `--token-file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`,
      1,
    );
  }
  try {
    const { read, write } = parseTokenFile(text);
    const token = read[0] ?? write[0];
    if (token === undefined) throw new Error("holds no token");
    return token;
  } catch (error) {
    throw new CliError(`--token-file ${tokenFile}: ${(error as Error).message}`, 2);
  }
}

export function authHeaders(target: RemoteTarget): Record<string, string> {
  return target.token === null ? {} : { authorization: `Bearer ${target.token}` };
}

/** GET a JSON path under the base URL; an HTTP error becomes a CliError naming the server's error code. */
async function getJson<T>(target: RemoteTarget, path: string): Promise<T> {
  const url = new URL(path, target.base);
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders(target) });
  } catch (error) {
    throw new CliError(`${target.base.origin}: ${(error as Error).cause ?? (error as Error).message}`, 1);
  }
  const body = (await response.json().catch(() => null)) as { error?: string; message?: string } | null;
  if (!response.ok) {
    const hint = response.status === 401 ? " (set LIVETRAIL_TOKEN or --token-file)" : "";
    throw new CliError(`${url.pathname}: ${response.status} ${body?.message ?? body?.error ?? ""}${hint}`, 1);
  }
  return body as T;
}

/** The server's default stream. */
export async function defaultStream(target: RemoteTarget): Promise<string> {
  const streams = await getJson<StreamSummary[]>(target, "api/streams");
  const stream = streams.find((s) => s.default) ?? streams[0];
  if (stream === undefined) throw new CliError(`${target.base.origin} serves no stream`, 1);
  return stream.name;
}

/** Whether --since is a time rather than a cursor (cursors never contain "-" after 4 digits and a "T"). */
export function isTime(since: string): boolean {
  return /^\d{4}-\d{2}-\d{2}(T|$)/.test(since);
}

/**
 * Where a `--since TIME` starts: the first line stamped at or after `time` (the HTTP API's `at=` binary search),
 * printed from the page, and its cursor to subscribe after; when every line is older, no line and the end of the
 * stream, so only new lines follow.
 */
export async function startAt(
  target: RemoteTarget,
  stream: string,
  time: string,
): Promise<{ first: WireLine | null; cursor: string | null }> {
  if (Number.isNaN(Date.parse(time))) throw new CliError(`--since: not an ISO-8601 time: ${time}`, 2);
  const page = await getJson<LinesPage>(
    target,
    `api/streams/${encodeURIComponent(stream)}/lines?at=${encodeURIComponent(time)}&limit=1`,
  );
  const first = page.lines[0] ?? null;
  return { first, cursor: first?.c ?? page.after };
}
