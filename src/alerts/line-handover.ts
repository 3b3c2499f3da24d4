import { prefixOf } from "../core/cursor.js";
import { FollowedLine, type Line } from "../core/line.js";
import type { FeedSource } from "./engine.js";

/** A source that can say whether one line continues another (the Hub, through its backend). */
export interface ContiguousSource extends FeedSource {
  readonly backend?: { continues(prev: Line, next: Line): boolean };
}

/** Texts are joined into strings of about this many UTF-16 units (see LineBatch). */
const SEGMENT_CHARS = 16_384;

/**
 * One feed batch as it crosses to the rule worker: the texts end to end in a few strings (segments) with their
 * lengths, byte sizes and, per run of consecutive lines (the backend's `continues`), the run's end index, first
 * seq and last cursor. A few strings clone much cheaper than thousands of short ones, and segments stay small: a
 * feed batch can hold 1 MiB of lines, and one string of it would be flattened into V8's large-object space on
 * every hand-over (measured on the posting thread, 100-byte lines: ~55-100 ns per line in 10,000-line batches
 * with segments, ~190-250 ns as one string, ~185 ns as an array of texts). Building a cursor costs
 * (FollowedLine makes it on demand; ~300 ns per line with the clone) and most lines never need theirs: the
 * worker derives the others from the run's last one exactly as a client derives a lines frame's
 * (protocol/lines-frame.ts).
 */
export interface LineBatch {
  stream: string;
  /** A line never spans two segments; segmentEnds[k] is the index after segment k's last line. */
  segments: string[];
  segmentEnds: number[];
  /** Per line: its text's length (UTF-16 units) and its size in the source (bytes, terminator included). */
  lengths: Int32Array;
  sizes: Int32Array;
  /** Per run: the index after its last line, its first line's seq, its last line's cursor. */
  runEnds: number[];
  runSeqs: number[];
  runCursors: string[];
  /** UTF-16 units in the segments (the hand-over budget counts them). */
  chars: number;
}

export function packLines(stream: string, lines: readonly Line[], source: ContiguousSource): LineBatch {
  const n = lines.length;
  const segments: string[] = [];
  const segmentEnds: number[] = [];
  const lengths = new Int32Array(n);
  const sizes = new Int32Array(n);
  const runEnds: number[] = [];
  const runSeqs: number[] = [];
  const runCursors: string[] = [];
  const backend = source.backend;
  let text = "";
  let chars = 0;
  let prev = lines[0] as Line;
  runSeqs.push(prev.seq);
  for (let i = 0; i < n; i++) {
    const line = lines[i] as Line;
    if (i > 0 && (backend === undefined || !backend.continues(prev, line))) {
      runEnds.push(i);
      runCursors.push(prev.cursor);
      runSeqs.push(line.seq);
    }
    if (text.length >= SEGMENT_CHARS) {
      segments.push(text);
      segmentEnds.push(i);
      chars += text.length;
      text = "";
    }
    text += line.text;
    lengths[i] = line.text.length;
    sizes[i] = line.end - line.start;
    prev = line;
  }
  segments.push(text);
  segmentEnds.push(n);
  chars += text.length;
  runEnds.push(n);
  runCursors.push(prev.cursor);
  return { stream, segments, segmentEnds, lengths, sizes, runEnds, runSeqs, runCursors, chars };
}

/** The batch's lines again, each with the cursor its source gave it (built when asked for). */
export function unpackLines(batch: LineBatch): Line[] {
  const { segments, segmentEnds, lengths, sizes, runEnds, runSeqs, runCursors } = batch;
  const n = lengths.length;
  const texts = new Array<string>(n);
  let i = 0;
  for (let k = 0; k < segments.length; k++) {
    const segment = segments[k] as string;
    let at = 0;
    for (const end = segmentEnds[k] as number; i < end; i++) {
      const length = lengths[i] as number;
      texts[i] = segment.slice(at, at + length);
      at += length;
    }
  }
  const out = new Array<Line>(n);
  for (let r = runEnds.length - 1; r >= 0; r--) {
    const first = r === 0 ? 0 : (runEnds[r - 1] as number);
    const last = runCursors[r] as string;
    const prefix = prefixOf(last);
    // The envelope is <source>.<position>.<seq> (core/cursor.ts): position in base 36 between the last two dots.
    let end = Number.parseInt(last.slice(prefix.length, last.lastIndexOf(".")), 36);
    const seq0 = runSeqs[r] as number;
    for (let i = (runEnds[r] as number) - 1; i >= first; i--) {
      const size = sizes[i] as number;
      out[i] = new FollowedLine(seq0 + (i - first), texts[i] as string, end - size, end, prefix);
      end -= size;
    }
  }
  return out;
}
