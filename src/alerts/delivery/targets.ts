import { parseSecret, type WebhookSecret } from "./signing.js";

/**
 * Webhook targets as the config file names them (`alerts.targets`), checked once at load: every error names the
 * target and the key, so a typo is found before the first alert needs the target.
 */

export type WebhookFormat = "json" | "alertmanager" | "slack";

export interface RateLimit {
  /** Notifications per minute the bucket refills with. */
  perMinute: number;
  /** Bucket size: how many may go out at once after a quiet spell (default: perMinute). */
  burst: number;
}

export interface WebhookTarget {
  name: string;
  url: string;
  format: WebhookFormat;
  /** The decoded signing key (Standard Webhooks), when the target has a secret. */
  secret: WebhookSecret | null;
  rateLimit: RateLimit | null;
  /** Time limit of one attempt (connect, send, answer). */
  timeoutMs: number;
  /** Extra request headers (Authorization for a gateway, say); ours win on a clash. */
  headers: Record<string, string>;
}

export class TargetConfigError extends Error {
  override readonly name = "TargetConfigError";
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 120_000;
const FORMATS: readonly WebhookFormat[] = ["json", "alertmanager", "slack"];
const KEYS = new Set(["name", "url", "format", "secret", "rateLimit", "timeoutMs", "headers"]);
/** Headers the transport or the signature owns: a target may not set them. */
const RESERVED_HEADERS = new Set([
  "content-type",
  "content-length",
  "host",
  "transfer-encoding",
  "connection",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `alerts.targets` from the config file (undefined: none). Throws TargetConfigError naming the target and key. */
export function parseTargets(raw: unknown): WebhookTarget[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new TargetConfigError(`alerts.targets: must be an array of targets`);
  const names = new Set<string>();
  return raw.map((entry: unknown, index) => {
    const target = parseTarget(entry, index);
    if (names.has(target.name)) {
      throw new TargetConfigError(
        `alerts.targets[${index}] ("${target.name}").name: another target has this name`,
      );
    }
    names.add(target.name);
    return target;
  });
}

/** `alerts.dashboardUrl`: where links in notifications point (undefined: no links). */
export function parseDashboardUrl(raw: unknown): string | null {
  if (raw === undefined) return null;
  if (typeof raw !== "string" || !isHttpUrl(raw)) {
    throw new TargetConfigError(`alerts.dashboardUrl: must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, "");
}

function parseTarget(entry: unknown, index: number): WebhookTarget {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new TargetConfigError(`alerts.targets[${index}]: must be an object`);
  }
  const e = entry as Record<string, unknown>;
  const nameOk = typeof e.name === "string" && /^[\w.-]{1,64}$/.test(e.name);
  // The same shape as the rules' errors: `alerts.targets[1] ("ops").url: must be an http(s) URL`.
  const where = nameOk ? `alerts.targets[${index}] ("${e.name as string}")` : `alerts.targets[${index}]`;
  const fail = (key: string, what: string): never => {
    throw new TargetConfigError(`${where}.${key}: ${what}`);
  };
  if (!nameOk) fail("name", "must be 1-64 letters, digits, '.', '_' or '-'");
  for (const key of Object.keys(e)) if (!KEYS.has(key)) fail(key, "not a target setting");
  if (typeof e.url !== "string" || !isHttpUrl(e.url)) fail("url", "must be an http(s) URL");
  if (!FORMATS.includes(e.format as WebhookFormat)) fail("format", `must be one of ${FORMATS.join(", ")}`);

  let secret: WebhookSecret | null = null;
  if (e.secret !== undefined) {
    if (typeof e.secret !== "string") fail("secret", 'must be a string "whsec_<base64>"');
    try {
      secret = parseSecret(e.secret as string);
    } catch (error) {
      fail("secret", (error as Error).message);
    }
  }

  let rateLimit: RateLimit | null = null;
  if (e.rateLimit !== undefined) {
    const r = e.rateLimit as Record<string, unknown> | null;
    if (typeof r !== "object" || r === null || Array.isArray(r))
      fail("rateLimit", "must be {perMinute, burst?}");
    const rl = r as Record<string, unknown>;
    for (const key of Object.keys(rl)) {
      if (key !== "perMinute" && key !== "burst") fail(`rateLimit.${key}`, "not a rate limit setting");
    }
    const perMinute = rl.perMinute;
    if (typeof perMinute !== "number" || !(perMinute > 0) || perMinute > 6000) {
      fail("rateLimit.perMinute", "must be a number > 0 and <= 6000");
    }
    const burst = rl.burst ?? Math.max(1, Math.ceil(perMinute as number));
    if (typeof burst !== "number" || !Number.isInteger(burst) || burst < 1 || burst > 1000) {
      fail("rateLimit.burst", "must be a whole number 1..1000");
    }
    rateLimit = { perMinute: perMinute as number, burst: burst as number };
  }

  const timeoutMs = e.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 100) {
    fail("timeoutMs", "must be whole milliseconds >= 100");
  }
  if ((timeoutMs as number) > MAX_TIMEOUT_MS) fail("timeoutMs", `must be at most ${MAX_TIMEOUT_MS}`);

  const headers: Record<string, string> = {};
  if (e.headers !== undefined) {
    const h = e.headers as Record<string, unknown> | null;
    if (typeof h !== "object" || h === null || Array.isArray(h))
      fail("headers", "must be an object of strings");
    for (const [key, value] of Object.entries(h as Record<string, unknown>)) {
      if (!TOKEN.test(key)) fail(`headers.${key}`, "not a valid header name");
      if (RESERVED_HEADERS.has(key.toLowerCase())) fail(`headers.${key}`, "set by livetrail itself");
      // CR/LF would let a value start another header; other controls are refused by fetch anyway.
      if (typeof value !== "string" || hasControl(value)) {
        fail(`headers.${key}`, "must be a string without control characters");
      }
      headers[key] = value as string;
    }
  }

  return {
    name: e.name as string,
    url: e.url as string,
    format: e.format as WebhookFormat,
    secret,
    rateLimit,
    timeoutMs: timeoutMs as number,
    headers,
  };
}

/** Any C0 control but TAB, or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** A target's URL as status() and logs show it: no path, query or credentials (a Slack URL's path is a secret). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : "/…"}`;
}

/**
 * Whether two target lists configure the same delivery (a reload may keep its dispatcher). Compares the secrets'
 * bytes: JSON.stringify cannot, as a secret serialises redacted.
 */
export function sameTargets(a: readonly WebhookTarget[], b: readonly WebhookTarget[]): boolean {
  const key = (t: WebhookTarget) =>
    JSON.stringify({ ...t, secret: t.secret?.key.toString("base64") ?? null });
  return a.length === b.length && a.every((t, i) => key(t) === key(b[i] as WebhookTarget));
}
