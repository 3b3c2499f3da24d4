import { createHash, randomBytes } from "node:crypto";

/** A signed-in browser: what the sign-in page's cookie stands for. */
export interface Session {
  expiresAt: number;
}

/**
 * Server-side sessions: the cookie carries 256 random bits and nothing else; this map (keyed by the id's
 * SHA-256, so a memory dump does not hand out live cookies) holds the expiry. Restarting the server signs
 * everyone out, which is the revocation story: no signing key to leak or rotate. Bounded: when full, expired
 * sessions are dropped first, then the oldest.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Starts a session and returns its id (the cookie value). */
  create(): string {
    if (this.sessions.size >= this.maxSessions) this.evict();
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(key(id), { expiresAt: this.now() + this.ttlMs });
    return id;
  }

  /** The live session for a cookie value, or null (unknown, malformed or expired). */
  get(id: string): Session | null {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const k = key(id);
    const session = this.sessions.get(k);
    if (session === undefined) return null;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(k);
      return null;
    }
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(key(id));
  }

  close(): void {
    this.sessions.clear();
  }

  private evict(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
    // Map iteration is insertion order: the first keys are the oldest sessions.
    for (const k of this.sessions.keys()) {
      if (this.sessions.size < this.maxSessions) break;
      this.sessions.delete(k);
    }
  }
}

function key(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}
