import { parseDuration } from "../core/duration.js";

/**
 * How much history a shipped stream keeps: `--maxlen N` (about the newest N entries) or `--max-age D` (entries
 * at least D old are dropped). Both trim with `~`, so Redis drops whole listpack nodes only (cheap, and a little
 * more than asked is kept). Trimmed history reads as a gap on the server, never as an error.
 *
 * Entry IDs are stream byte positions (backend/redis/entry.ts), not times, so an age becomes a position here: the
 * agent notes, about once a second, which position it had reached when, and trims below the newest note at least
 * D old. Notes live in memory; after a restart the agent first notes the stream's top at the restart time, so
 * history shipped before it is trimmed at most D after the restart (never sooner than D after it was shipped).
 */
export type RetentionPolicy =
  | { kind: "none" }
  | { kind: "maxlen"; entries: number }
  | { kind: "max-age"; ms: number };

/** `--max-age`: a duration like `90s`, `30m`, `12h`, `7d`, `2w` or `500ms` (core/duration.ts); a bare number is seconds. Throws RangeError. */
export function parseMaxAge(text: string): number {
  const trimmed = text.trim();
  const ms = parseDuration(/^\d+$/.test(trimmed) ? `${trimmed}s` : trimmed);
  if (ms === undefined)
    throw new RangeError(`not a duration: "${text}" (e.g. 90s, 30m, 12h, 7d; at most a year)`);
  return ms;
}

export function parseRetention(options: { maxlen?: string; maxAge?: string }): RetentionPolicy {
  if (options.maxlen !== undefined && options.maxAge !== undefined)
    throw new RangeError("use either --maxlen or --max-age, not both");
  if (options.maxlen !== undefined) {
    const entries = Number(options.maxlen);
    if (!/^\d+$/.test(options.maxlen) || !Number.isSafeInteger(entries) || entries < 1)
      throw new RangeError(`--maxlen needs a whole number of entries >= 1, got "${options.maxlen}"`);
    return { kind: "maxlen", entries };
  }
  if (options.maxAge !== undefined) return { kind: "max-age", ms: parseMaxAge(options.maxAge) };
  return { kind: "none" };
}

/** Notes spaced at least this far apart: at most a day's worth at 1 s is 86,400 small pairs. */
const NOTE_EVERY_MS = 1000;

/** One stream's trimming: the arguments of the XTRIM that goes with each appended batch. */
export class Retention {
  /** (time, position) pairs, oldest first, for --max-age. */
  private notes: { atMs: number; position: number }[] = [];

  constructor(
    readonly policy: RetentionPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The stream's top when shipping (re)starts: what was there is at least this old from now on. */
  restart(position: number): void {
    this.notes = [];
    this.note(position);
  }

  /** A batch reaching `position` is about to be appended. */
  note(position: number): void {
    if (this.policy.kind !== "max-age") return;
    const atMs = this.now();
    const last = this.notes[this.notes.length - 1];
    if (last !== undefined && atMs - last.atMs < NOTE_EVERY_MS) return;
    this.notes.push({ atMs, position });
  }

  /** `XTRIM key <these>`, or null when nothing is to be trimmed. */
  trimArgs(): string[] | null {
    const policy = this.policy;
    if (policy.kind === "maxlen") return ["MAXLEN", "~", String(policy.entries)];
    if (policy.kind !== "max-age") return null;
    const cutoff = this.now() - policy.ms;
    // The newest note at least D old: every entry at or below its position was shipped before the cutoff.
    let i = -1;
    while (i + 1 < this.notes.length && (this.notes[i + 1] as { atMs: number }).atMs <= cutoff) i++;
    if (i < 0) return null;
    const { position } = this.notes[i] as { position: number };
    // Keep the note itself (the next trim needs a floor) but nothing older.
    this.notes.splice(0, i);
    // MINID keeps IDs >= the given one: entries up to `position` (IDs `<position>-n`) go.
    return position === 0 ? null : ["MINID", "~", `${position + 1}-0`];
  }
}
