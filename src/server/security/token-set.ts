import { createHash, timingSafeEqual } from "node:crypto";

/** What a credential allows. A write token can also read; sessions and proxy identities only read. */
export type Scope = "read" | "write";

/** Shortest token accepted: tokens are the only secret, so they must not be guessable. */
export const MIN_TOKEN_LENGTH = 16;
const MAX_TOKEN_LENGTH = 4096;
// Printable ASCII without space or comma: tokens travel in headers, cookies-free JSON and comma-separated env.
const TOKEN_CHARS = /^[\x21-\x2b\x2d-\x7e]+$/;

/** Why a configured token was refused; the message never contains the token itself. */
export function tokenProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH)
    return `a token is shorter than ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 32)`;
  if (token.length > MAX_TOKEN_LENGTH) return `a token is longer than ${MAX_TOKEN_LENGTH} characters`;
  if (!TOKEN_CHARS.test(token)) return "a token contains a space, comma or non-printable character";
  return null;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The configured tokens, kept only as SHA-256 digests. Lookups compare the digest of the presented token with
 * every stored digest using timingSafeEqual: equal-length inputs, no early exit, so neither the length nor the
 * content of a valid token leaks through response timing.
 */
export class TokenSet {
  private readonly entries: { hash: Buffer; scope: Scope }[] = [];

  constructor(read: readonly string[], write: readonly string[]) {
    for (const [tokens, scope] of [
      [read, "read"],
      [write, "write"],
    ] as const) {
      for (const token of tokens) {
        const problem = tokenProblem(token);
        if (problem !== null) throw new TypeError(`invalid ${scope} token: ${problem}`);
        this.entries.push({ hash: digest(token), scope });
      }
    }
  }

  get size(): number {
    return this.entries.length;
  }

  get hasWriteTokens(): boolean {
    return this.entries.some((e) => e.scope === "write");
  }

  /** The scope the token grants (write wins when a token is configured as both), or null. */
  check(presented: string): Scope | null {
    if (presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) return null;
    const hash = digest(presented);
    let scope: Scope | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(hash, entry.hash) && scope !== "write") scope = entry.scope;
    }
    return scope;
  }
}

/**
 * A token file: one token per line as `read TOKEN` or `write TOKEN` (a bare TOKEN is a read token); blank lines
 * and `#` comments are ignored. Errors name the line, never its content.
 */
export function parseTokenFile(text: string): { read: string[]; write: string[] } {
  const read: string[] = [];
  const write: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const parts = line.split(/\s+/);
    if (parts.length === 1) read.push(parts[0] as string);
    else if (parts.length === 2 && (parts[0] === "read" || parts[0] === "write")) {
      (parts[0] === "read" ? read : write).push(parts[1] as string);
    } else {
      throw new TypeError(`token file line ${i + 1}: expected "read TOKEN", "write TOKEN" or "TOKEN"`);
    }
  });
  return { read, write };
}

/** Comma-separated tokens from an environment variable (empty items ignored). */
export function splitTokenList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}
