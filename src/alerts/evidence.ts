import type { Entry } from "../core/entry.js";
import type { AlertEvidence } from "./alert.js";

/** Longest evidence text (UTF-16 units, ~1 KiB of ASCII): an alert carries a line's head, not a 1 MiB line. */
export const MAX_EVIDENCE_CHARS = 1024;

export interface TimedEvidence {
  /** Engine time the line (or event) was seen. */
  at: number;
  evidence: AlertEvidence;
}

export function lineEvidence(stream: string, text: string, cursor: string, entry: Entry): AlertEvidence {
  return { stream, text: boundText(text), time: entry.ts ?? null, cursor };
}

export function boundText(text: string): string {
  if (text.length <= MAX_EVIDENCE_CHARS) return text;
  // Do not cut a surrogate pair in half.
  let end = MAX_EVIDENCE_CHARS - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** The newest `limit` items, oldest first, in a fixed ring (no shifting per line). */
export class EvidenceRing {
  private readonly items: (TimedEvidence | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly limit: number) {
    this.items = new Array(limit);
  }

  push(item: TimedEvidence): void {
    if (this.limit === 0) return;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.limit;
    if (this.count < this.limit) this.count++;
  }

  /** Items seen at or after `since`, oldest first. */
  since(since: number): TimedEvidence[] {
    const out: TimedEvidence[] = [];
    for (let k = 0; k < this.count; k++) {
      const item = this.items[(this.next - this.count + k + this.limit) % this.limit] as TimedEvidence;
      if (item.at >= since) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.next = 0;
    this.count = 0;
  }
}
