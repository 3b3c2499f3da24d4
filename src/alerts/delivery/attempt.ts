import type { WebhookTarget } from "./targets.js";

/** What one POST to a target came to. */
export interface AttemptResult {
  ok: boolean;
  /** HTTP status, null when no answer came (network error, timeout, aborted). */
  status: number | null;
  /** The start of the answer's body (what a Slack or Alertmanager error says), at most ANSWER_CHARS. */
  answer: string;
  /** The Retry-After header as received. */
  retryAfter: string | null;
  /** Why it failed, in one line (null when ok). */
  error: string | null;
}

const ANSWER_BYTES = 1024;

/**
 * One POST with Node's fetch (undici), bounded by the target's timeout and by `signal`. Redirects are not followed:
 * a signed body and an Authorization header must not travel to a host the config does not name.
 */
export async function postOnce(
  target: WebhookTarget,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: "POST",
      headers: { ...target.headers, "content-type": "application/json", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    const message = timeout.aborted
      ? `no answer within ${target.timeoutMs} ms`
      : signal.aborted
        ? "aborted (closing)"
        : networkMessage(error);
    return { ok: false, status: null, answer: "", retryAfter: null, error: message };
  }
  const answer = await readStart(response);
  const ok = response.status >= 200 && response.status < 300;
  return {
    ok,
    status: response.status,
    answer,
    retryAfter: response.headers.get("retry-after"),
    error: ok
      ? null
      : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${answer ? `: ${answer}` : ""}`,
  };
}

/** The first bytes of the answer, then the rest is discarded: a target cannot make us hold a large body. */
async function readStart(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The answer's status is what counts; a body cut off midway is shown as far as it came.
  } finally {
    void reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString("utf8");
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error). */
function networkMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return (error as Error).message ?? String(error);
}
