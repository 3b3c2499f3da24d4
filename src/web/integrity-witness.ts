import type { IntegrityInfo } from "../protocol/messages.js";
import {
  equalBytes,
  fromBase64,
  parseConsistencyBody,
  type Sha256,
  verifyConsistency,
} from "./consistency-check.js";

/**
 * Every dashboard is a witness against rollback (docs/integrity.md, "In the dashboard"): it remembers in
 * localStorage the newest checkpoint it saw per stream of this server (origin), and on each newer one fetches a
 * consistency proof from it and checks it. A smaller tree, another root at the same size or a proof that fails
 * raises an alarm, and the old checkpoint is kept, so the alarm is raised again after a reload until someone looks.
 */

export interface Remembered {
  size: number;
  root: string;
  origin: string;
  seenAt: string;
}

export interface WitnessAlarm {
  stream: string;
  /** "shrank", "forked" or "rewritten" (the proof failed). */
  kind: "shrank" | "forked" | "rewritten";
  old: Remembered;
  now: { size: number; root: string };
  detail?: string;
}

export interface WitnessOptions {
  storage: Pick<Storage, "getItem" | "setItem">;
  /** Names this server: one memory per origin (scheme, host, port). */
  serverOrigin: string;
  /** Fetches a text body of the stream API; throws on HTTP errors. */
  fetchText: (stream: string, path: string) => Promise<string>;
  sha: Sha256;
  onAlarm: (alarm: WitnessAlarm) => void;
  /** The history continued in a rotated file this browser did not see the end of: not checked (a warning). */
  onUnchecked?: (stream: string, message: string) => void;
  now?: () => Date;
}

export class IntegrityWitness {
  /** One check at a time per stream, in the order the states arrived. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly options: WitnessOptions) {}

  /** A stream's state from hello or an integrity message. */
  observe(stream: string, info: IntegrityInfo): Promise<void> {
    const chain = (this.chains.get(stream) ?? Promise.resolve())
      .then(() => this.check(stream, info))
      .catch(() => undefined); // a network error: the next state tries again
    this.chains.set(stream, chain);
    return chain;
  }

  remembered(stream: string): Remembered | null {
    const text = this.options.storage.getItem(this.key(stream));
    if (text === null) return null;
    try {
      return JSON.parse(text) as Remembered;
    } catch {
      return null;
    }
  }

  private key(stream: string): string {
    return `livetrail.witness:${this.options.serverOrigin}:${stream}`;
  }

  private async check(stream: string, info: IntegrityInfo): Promise<void> {
    if (info.root === null || info.origin === null || info.sealedTo === 0) return;
    const old = this.remembered(stream);
    const now = { size: info.sealedTo, root: info.root };
    const alarm = (kind: WitnessAlarm["kind"], detail?: string): void =>
      this.options.onAlarm({ stream, kind, old: old as Remembered, now, ...(detail ? { detail } : {}) });
    if (old !== null && old.origin === info.origin) {
      if (now.size === old.size) {
        if (now.root !== old.root) alarm("forked");
        return;
      }
      if (now.size < old.size) {
        // A rotation starts a new tree that links to the old one's final root: fine when that is what we saw.
        if (info.prev !== undefined && info.prev.size === old.size && info.prev.root === old.root) {
          return this.remember(stream, info);
        }
        if (info.prev !== undefined && info.prev.size >= old.size) {
          this.options.onUnchecked?.(
            stream,
            `history continued in a new file after ${info.prev.size} lines; not checked`,
          );
          return this.remember(stream, info);
        }
        return alarm("shrank");
      }
      const body = await this.options.fetchText(stream, `proof/consistency?from=${old.size}&to=${now.size}`);
      const proof = parseConsistencyBody(body);
      const oldRoot = fromBase64(old.root);
      const newRoot = fromBase64(now.root);
      if (proof === null || oldRoot === null || newRoot === null)
        return alarm("rewritten", "the proof is malformed");
      if (proof.oldSize !== old.size || proof.size !== now.size || !equalBytes(proof.root, newRoot)) {
        return alarm("rewritten", "the proof is for another checkpoint");
      }
      if (!(await verifyConsistency(this.options.sha, old.size, now.size, proof.hashes, oldRoot, newRoot))) {
        return alarm("rewritten", "the consistency proof does not verify");
      }
    }
    this.remember(stream, info);
  }

  private remember(stream: string, info: IntegrityInfo): void {
    const entry: Remembered = {
      size: info.sealedTo,
      root: info.root as string,
      origin: info.origin as string,
      seenAt: (this.options.now?.() ?? new Date()).toISOString(),
    };
    this.options.storage.setItem(this.key(stream), JSON.stringify(entry));
  }
}
