/**
 * Bench data: ~100-byte audit lines that carry their sequence number and the monotonic write time, so any
 * client in any process can count lost/duplicated lines and compute write-to-receipt latency.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { nowMs, sleep } from "./proc.js";

export const LINE_BYTES = 100; // including the newline

const ACTIONS = ["login", "logout", "read", "write", "deploy", "restart", "grant", "revoke"];
const USERS = ["alice", "bob", "carol", "dave", "erin", "frank"];
const PAD = "x".repeat(LINE_BYTES);
const LINES_PER_SECOND = 1000; // the stamp advances one second per 1,000 lines, like a busy audit log

let stampSecond = -1;
let stamp = "";
/** `[2026-01-01T..Z]` for a line: a fixed day, the time of day derived from the sequence number. */
function stampOf(/** @type {number} */ seq) {
  const sec = Math.floor(Math.max(0, seq) / LINES_PER_SECOND) % 86_400;
  if (sec !== stampSecond) {
    const two = (/** @type {number} */ n) => String(n).padStart(2, "0");
    stamp = `[2026-01-01T${two(Math.floor(sec / 3600))}:${two(Math.floor(sec / 60) % 60)}:${two(sec % 60)}Z]`;
    stampSecond = sec;
  }
  return stamp;
}

/**
 * One line (with "\n") of exactly LINE_BYTES bytes unless the extra words make it longer.
 * @param {number} seq
 * @param {number} [t] monotonic write time in ms (0 when latency is not measured)
 * @param {string} [extra] words inserted before the padding (e.g. a rare search term)
 */
export function makeLine(seq, t = 0, extra = "") {
  const head = `${stampOf(seq)} seq=${seq} t=${t.toFixed(3)} user=${USERS[Math.abs(seq) % 6]} action=${ACTIONS[Math.abs(seq) % 8]} ${extra}`;
  const padLen = LINE_BYTES - 1 - head.length;
  return `${head}${padLen > 0 ? PAD.slice(0, padLen) : ""}\n`;
}

/**
 * The sequence number and write time in a received line, or null for a line that is not ours.
 * @param {string} text
 */
export function parseLine(text) {
  // Digit by digit, without substrings: at a million lines per second the client's own parsing must not be
  // what the bench measures.
  const i = text.indexOf(" seq=");
  if (i < 0) return null;
  let k = i + 5;
  const negative = text.charCodeAt(k) === 45;
  if (negative) k++;
  const digits = k;
  let seq = 0;
  let c = text.charCodeAt(k);
  while (c >= 48 && c <= 57) {
    seq = seq * 10 + c - 48;
    c = text.charCodeAt(++k);
  }
  if (k === digits || !text.startsWith(" t=", k)) return null;
  const tFrom = k + 3;
  const t = text.startsWith("0.000 ", tFrom) ? 0 : Number(text.slice(tFrom, text.indexOf(" ", tFrom)));
  return { seq: negative ? -seq : seq, t };
}

/**
 * Appends `batch` lines (one write) every `intervalMs`, `count` times, on an absolute schedule so timer
 * drift does not accumulate; each line is stamped with the time right before its write(2).
 * @param {string} file
 * `line` builds each line (with "\n") instead of makeLine, e.g. in another log format; it must keep the
 * ` seq=N t=T` words that parseLine reads.
 * @param {{ count: number, intervalMs: number, firstSeq?: number, batch?: number, extra?: string,
 *   line?: (seq: number, t: number, extra: string) => string }} opts
 */
export async function writePaced(
  file,
  { count, intervalMs, firstSeq = 0, batch = 1, extra = "", line = makeLine },
) {
  const fd = openSync(file, "a");
  try {
    const start = nowMs();
    let seq = firstSeq;
    for (let i = 0; i < count; i++) {
      const due = start + i * intervalMs;
      const wait = due - nowMs();
      if (wait > 1) await sleep(wait - 0.5);
      while (nowMs() < due) {
        // spin the last half millisecond: setTimeout alone is only ms-accurate
      }
      const t = nowMs();
      let text = "";
      for (let k = 0; k < batch; k++) text += line(seq++, t, extra);
      writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * `count` lines as one buffer (write time 0), built before a timed burst so building is not timed.
 * @param {number} count
 * @param {number} [firstSeq]
 */
export function buildBurst(count, firstSeq = 0) {
  const parts = [];
  for (let i = 0; i < count; i++) parts.push(makeLine(firstSeq + i));
  return Buffer.from(parts.join(""));
}

/**
 * Append a buffer in fixed-size chunks that ignore line boundaries (so followers see partial lines).
 * @param {string} file
 * @param {Buffer} buf
 * @param {number} [chunk]
 */
export function writeBurst(file, buf, chunk = 65536) {
  const fd = openSync(file, "a");
  try {
    for (let off = 0; off < buf.length; off += chunk) {
      writeSync(fd, buf, off, Math.min(chunk, buf.length - off));
    }
  } finally {
    closeSync(fd);
  }
}
