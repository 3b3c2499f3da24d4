import { cursorTail, prefixOf } from "../../core/cursor.js";
import type { Line } from "../../core/line.js";
import type { SearchOutcome, SearchQuery } from "../backend.js";
import { PATTERN_WORKER_SOURCE, patternSpec } from "../pattern.js";
import { checkQuery, escapeRegExp } from "../search-query.js";
import { runSearchWorker } from "../search-worker.js";

/** Bytes read per step; bounds the worker's memory whatever the file size. */
const CHUNK_BYTES = 1 << 20;
/** Longest record decoded (as json-log-backend.ts reads them); longer ones are matched on their raw head. */
const MAX_RECORD_BYTES = 128 * 1024;

/**
 * Search in a json-file log matches the text shown, not the JSON: the worker decodes every record (JSON.parse),
 * joins partial records as record-joiner.ts does (consecutive parts of one stream), and tests each line's text
 * (its head within maxLineBytes) with the query's regex. Escapes in the file (`\"`, `\u003c` for "<") make a
 * byte search on the raw file wrong, so there is no raw fast path. Runs in a worker (backend/search-worker.ts)
 * so a search past its time limit can be stopped.
 */
const WORKER_SOURCE = `${PATTERN_WORKER_SOURCE}
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { path, spec, pattern, flags, limit, chunkBytes, maxRecordBytes, maxLineBytes, size } = workerData;
// A regex on RE2 (backend/pattern.ts, linear time); a literal on an escaped V8 regex, which cannot backtrack.
const re = spec !== null ? compilePattern(spec) : new RegExp(pattern, flags);
const decoder = new TextDecoder("utf-8");
const NL = 10;
let found = 0;
let seq = 0;
let pending = [];
let held = null; // partial records of one line: { start, stderr, time, parts, kept, total } (bytes)
function emit(start, end, text, stderr, time, total) {
  seq++;
  if (re.test(text)) {
    const m = { seq, start, end, text };
    if (stderr) m.stderr = true;
    if (time !== undefined) m.time = time;
    if (total !== undefined) m.total = total;
    pending.push(m);
    found++;
    if (pending.length >= 200) flush();
  }
}
function flush() {
  if (pending.length > 0) parentPort.postMessage({ type: "matches", matches: pending });
  pending = [];
}
function endHeld(end) {
  const h = held;
  held = null;
  emit(h.start, end, h.parts.join(""), h.stderr, h.time, h.total > maxLineBytes ? h.total : undefined);
}
// The longest head of text within max UTF-8 bytes (as record-joiner.ts cuts a joined line).
function headWithin(text, max) {
  let head = text.slice(0, max);
  for (let over = Buffer.byteLength(head) - max; over > 0; over = Buffer.byteLength(head) - max) {
    head = head.slice(0, head.length - Math.ceil(over / 3));
  }
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last < 0xdc00 ? head.slice(0, -1) : head;
}
function malformed(start, end, raw) {
  if (held !== null) endHeld(start);
  emit(start, end, raw, false, undefined, undefined);
}
function record(buf, from, to, start) {
  const end = start + (to - from) + 1;
  const raw = decoder.decode(buf.subarray(from, to > from && buf[to - 1] === 13 ? to - 1 : to));
  let r = null;
  if (raw.charCodeAt(0) === 0x7b) {
    try { r = JSON.parse(raw); } catch { r = null; }
  }
  if (r === null || typeof r !== "object" || typeof r.log !== "string") return malformed(start, end, raw);
  const log = r.log;
  const stderr = r.stream === "stderr";
  const time = typeof r.time === "string" ? r.time : undefined;
  const partial = !log.endsWith("\\n");
  const text = partial ? log : log.slice(0, log.endsWith("\\r\\n") ? -2 : -1);
  if (held !== null && held.stderr !== stderr) endHeld(start);
  if (held === null) {
    if (!partial) return emit(start, end, text, stderr, time, undefined);
    held = { start, stderr, time, parts: [], kept: 0, total: 0 };
  }
  const bytes = Buffer.byteLength(text);
  held.total += bytes;
  const room = maxLineBytes - held.kept;
  if (room > 0) {
    const kept = bytes <= room ? text : headWithin(text, room);
    held.parts.push(kept);
    held.kept += bytes <= room ? bytes : Buffer.byteLength(kept);
  }
  if (!partial) endHeld(end);
}
const fd = fs.openSync(path, "r");
const buf = Buffer.allocUnsafe(maxRecordBytes + chunkBytes);
let held0 = 0; // bytes of a partial record at buf[0..held0)
let heldAt = 0;
let filePos = 0;
let huge = null; // a record longer than maxRecordBytes (not one of Docker's): its start and head, until its end
let scanned = 0;
let limited = false;
try {
  outer: while (filePos < size) {
    const n = fs.readSync(fd, buf, held0, Math.min(chunkBytes, size - filePos), filePos);
    if (n === 0) break;
    const dataAt = held0 > 0 ? heldAt : filePos;
    filePos += n;
    const data = buf.subarray(0, held0 + n);
    let pos = 0;
    for (;;) {
      const nl = data.indexOf(NL, pos);
      if (nl < 0) break;
      if (huge !== null) {
        // Shown raw and cut, as the follower shows it: matched on its head.
        malformed(huge.start, dataAt + nl + 1, decoder.decode(huge.head));
        huge = null;
      } else record(data, pos, nl, dataAt + pos);
      pos = nl + 1;
      scanned = dataAt + pos;
      if (found >= limit) { limited = true; break outer; }
    }
    const rest = data.length - pos;
    held0 = 0;
    if (huge === null && rest > maxRecordBytes) {
      huge = { start: dataAt + pos, head: Buffer.from(data.subarray(pos, pos + maxRecordBytes)) };
    } else if (huge === null && rest > 0) {
      data.copyWithin(0, pos, data.length);
      held0 = rest;
      heldAt = dataAt + pos;
    }
    parentPort.postMessage({ type: "progress", scanned });
  }
} finally {
  fs.closeSync(fd);
}
flush();
parentPort.postMessage({ type: "done", limited, scanned });
`;

interface RawMatch {
  seq: number;
  start: number;
  end: number;
  text: string;
  stderr?: true;
  time?: string;
  total?: number;
}

type WorkerMessage =
  | { type: "matches"; matches: RawMatch[] }
  | { type: "progress"; scanned: number }
  | { type: "done"; limited: boolean; scanned: number };

/**
 * Searches the json-file log up to `end` (a cursor after its last complete record, whose file identity the
 * matches' cursors name); matches are numbered by line from the file's start.
 */
export function searchJsonLog(
  path: string,
  end: string,
  query: SearchQuery,
  maxLineBytes: number,
): Promise<SearchOutcome> {
  checkQuery(query);
  const prefix = prefixOf(end);
  const size = Number.parseInt(end.slice(prefix.length, end.lastIndexOf(".")), 36);
  const toLine = (m: RawMatch): Line => {
    const line: Line = {
      seq: m.seq,
      text: m.text,
      start: m.start,
      end: m.end,
      cursor: prefix + cursorTail(m.end, m.seq),
    };
    if (m.stderr) line.channel = "stderr";
    if (m.time !== undefined) line.time = m.time;
    if (m.total !== undefined) line.truncatedFrom = m.total;
    return line;
  };
  const matches: Line[] = [];
  let scanned = 0;
  return runSearchWorker<SearchOutcome>({
    source: WORKER_SOURCE,
    workerData: {
      path,
      spec: query.regex ? patternSpec(query.q, true, !query.caseSensitive) : null,
      pattern: escapeRegExp(query.q),
      flags: query.caseSensitive ? "u" : "iu",
      limit: query.limit,
      chunkBytes: CHUNK_BYTES,
      maxRecordBytes: MAX_RECORD_BYTES,
      maxLineBytes,
      size,
    },
    query,
    maxOldGenerationSizeMb: 128,
    onMessage: (raw) => {
      const message = raw as WorkerMessage;
      if (message.type === "matches") {
        for (const m of message.matches) if (matches.length < query.limit) matches.push(toLine(m));
      } else if (message.type === "progress") {
        scanned = message.scanned;
      } else {
        return { matches, limited: message.limited, timedOut: false, scannedBytes: message.scanned };
      }
      return undefined;
    },
    timedOut: () => ({ matches, limited: false, timedOut: true, scannedBytes: scanned }),
  });
}
