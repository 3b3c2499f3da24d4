import { createHash, createHmac } from "node:crypto";

/**
 * Signatures per the Standard Webhooks spec (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix
 * seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the key being the
 * base64 after `whsec_`. Any of the spec's receiver libraries verifies what we send.
 */

/** A signing key, decoded once. `toJSON` keeps it out of logs and status dumps. */
export interface WebhookSecret {
  readonly key: Buffer;
  toJSON(): string;
}

const PREFIX = "whsec_";
/** The spec asks for 24 to 64 random bytes. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export function parseSecret(text: string): WebhookSecret {
  if (!text.startsWith(PREFIX)) throw new Error('must start with "whsec_" followed by base64');
  const b64 = text.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new Error('must be "whsec_" followed by standard base64 (A-Z a-z 0-9 + /, padded with =)');
  }
  const key = Buffer.from(b64, "base64");
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(`must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
  return { key, toJSON: () => "whsec_<redacted>" };
}

/** `v1,<signature>` for one message. `body` is the exact bytes sent. */
export function sign(secret: WebhookSecret, id: string, timestampSec: number, body: string): string {
  const mac = createHmac("sha256", secret.key).update(`${id}.${timestampSec}.${body}`).digest("base64");
  return `v1,${mac}`;
}

export function signatureHeaders(
  secret: WebhookSecret,
  id: string,
  timestampSec: number,
  body: string,
): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": sign(secret, id, timestampSec, body),
  };
}

/**
 * The message id: the same for every attempt of one notification (receivers deduplicate on it), different for
 * its resolution, which shares the notification id.
 */
export function messageId(notificationId: string, status: string): string {
  return `msg_${createHash("sha256").update(`${notificationId}\n${status}`).digest("base64url").slice(0, 27)}`;
}
