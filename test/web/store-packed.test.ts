import { describe, expect, it } from "vitest";
import { parseEntry } from "../../src/core/entry.js";
import { FilterIndex } from "../../src/web/filter.js";
import { BLOCK_ROWS } from "../../src/web/line-block.js";
import { MergedStore } from "../../src/web/merged-store.js";
import { type GapInfo, type InLine, Lvl, StreamStore } from "../../src/web/store.js";

/**
 * The store packs lines in blocks (line-block.ts). These tests hold enough rows to fill several blocks and check,
 * against a plain model (an array of rows), that what goes in comes out unchanged through every change the store
 * knows: appends past the cap, older pages, gaps and fills, rows copied in the middle.
 */

/** One row as the model holds it. */
interface Row {
  text: string;
  c: string;
  seq: number;
  trunc?: number | undefined;
  stderr: boolean;
  ts?: string | undefined;
  gap?: GapInfo;
}

/** A small seeded PRNG (mulberry32): the same sequence of changes every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Texts the store must give back exactly: non-ASCII (two-byte strings, surrogate pairs), the replacement
// character a decoder puts for invalid UTF-8, control characters, an embedded newline, an empty line.
const ODD = [
  "",
  "héllo wörld — ümlauts",
  "日本語のログ行 エラー",
  "emoji 😀👍🏽 and a lone half \ud800 kept",
  "bad bytes \ufffd\ufffd replaced",
  "tab\tcarriage\rreturn",
  "a line\nwith a newline inside",
  "[2025-12-17T17:40:37Z] ERROR: stamped",
  "[1999-01-01T00:00:00Z] far in the past",
  "x".repeat(70_000),
];

let made = 0;
function line(rand: () => number, seq: number, prefix: string): InLine {
  made++;
  const r = rand();
  const text =
    r < 0.1
      ? (ODD[Math.floor(rand() * ODD.length)] as string)
      : `[2025-12-17T17:${String(Math.floor(rand() * 60)).padStart(2, "0")}:00Z] seq ${seq}${r < 0.2 ? " failed" : ""} n${made}`;
  const l: InLine = { seq, text, c: `${prefix}${seq.toString(36)}.${made}` };
  if (text.length > 65_536 || r > 0.97) l.trunc = text.length + 1000;
  if (r > 0.9 && r < 0.95) l.ch = "stderr";
  if (r > 0.95) l.ts = r > 0.96 ? "2026-12-04T12:00:00.123Z" : "1970-01-02T00:00:00Z";
  return l;
}

function rowOf(l: InLine): Row {
  return { text: l.text, c: l.c, seq: l.seq, trunc: l.trunc, stderr: l.ch === "stderr", ts: l.ts };
}

function expectedTime(r: Row): number {
  if (r.ts !== undefined && !Number.isNaN(Date.parse(r.ts))) return Date.parse(r.ts);
  return parseEntry(r.text).tsMs ?? Number.NaN;
}

function expectedLevel(r: Row): number {
  const level = parseEntry(r.text).level;
  return level === "error" ? Lvl.error : level === "warn" ? Lvl.warn : level === "ok" ? Lvl.ok : Lvl.info;
}

/** Every row of the store equals the model's, and so do the store's views over them. */
function expectSame(s: StreamStore, model: Row[]): void {
  expect(s.length).toBe(model.length);
  const cuts: number[] = [];
  const gaps: number[] = [];
  const minutes = new Map<number, { entries: number; errors: number }>();
  model.forEach((r, i) => {
    if (r.gap) {
      gaps.push(i);
      expect(s.isGap(i), `row ${i} is a gap`).toBe(true);
      expect(s.gap(i)).toBe(r.gap);
      expect(s.cursor(i)).toBe(r.c);
      return;
    }
    expect(s.isGap(i)).toBe(false);
    if (s.text(i) !== r.text) expect(s.text(i), `text of row ${i}`).toBe(r.text);
    expect(s.cursor(i)).toBe(r.c);
    expect(s.seq(i)).toBe(r.seq);
    expect(s.trunc(i)).toBe(r.trunc);
    expect(s.stderr(i)).toBe(r.stderr);
    expect(s.level(i)).toBe(expectedLevel(r));
    const t = expectedTime(r);
    expect(s.time(i)).toBe(t);
    if (r.trunc !== undefined) cuts.push(i);
    if (!Number.isNaN(t)) {
      const m = Math.floor(t / 60_000);
      const b = minutes.get(m) ?? { entries: 0, errors: 0 };
      b.entries++;
      if (expectedLevel(r) === Lvl.error) b.errors++;
      minutes.set(m, b);
    }
  });
  expect(s.cutRows()).toEqual(cuts);
  expect(s.gapRows()).toEqual(gaps);
  expect(new Map(s.minutes)).toEqual(minutes);
  // The packed runs give back the same texts, in order.
  const fromRuns: string[] = [];
  s.textRuns(0, s.length, (text, offsets, first, row, count) => {
    expect(row).toBe(fromRuns.length);
    for (let k = first; k < first + count; k++)
      fromRuns.push(text.slice(offsets[k] as number, (offsets[k + 1] as number) - 1));
  });
  expect(fromRuns.length).toBe(model.length);
  model.forEach((r, i) => {
    if ((fromRuns[i] as string) !== (r.gap ? "" : r.text)) expect(fromRuns[i]).toBe(r.gap ? "" : r.text);
  });
}

/** The model's answer for a literal filter: rows shown (matches and gaps), absolute. */
function literalRows(s: StreamStore, model: Row[], text: string): number[] {
  const needle = text.toLowerCase();
  const out: number[] = [];
  model.forEach((r, i) => {
    if (r.gap || r.text.toLowerCase().includes(needle)) out.push(s.base + i);
  });
  return out;
}

function shownRows(f: FilterIndex): number[] {
  return Array.from({ length: f.count }, (_, k) => f.matchAbs(k));
}

describe("StreamStore, packed", () => {
  it("gives back every line as it came, across many blocks", () => {
    const rand = rng(1);
    const s = new StreamStore();
    const model: Row[] = [];
    let seq = 0;
    for (let b = 0; b < 40; b++) {
      // Cursor prefixes change now and then (another source), seqs jump (a restart).
      const prefix = b % 7 === 0 ? `r${b}.` : "1.e393dc7b6dee.74.";
      if (b % 9 === 0) seq += 1000;
      const batch = Array.from({ length: 1 + Math.floor(rand() * 800) }, () => line(rand, seq++, prefix));
      s.appendLive(batch);
      model.push(...batch.map(rowOf));
    }
    expect(s.length).toBeGreaterThan(3 * BLOCK_ROWS);
    expectSame(s, model);
  });

  it("keeps its rows equal to a plain model through every kind of change", () => {
    const rand = rng(7);
    const cap = 3 * BLOCK_ROWS + 500;
    const s = new StreamStore({ cap });
    const other = new StreamStore();
    let model: Row[] = [];
    let seq = 1_000_000;
    let older = 999_999;
    const prefix = "1.e393dc7b6dee.74.";
    for (let step = 0; step < 120; step++) {
      const op = rand();
      if (op < 0.35) {
        const batch = Array.from({ length: Math.floor(rand() * 1500) }, () => line(rand, seq++, prefix));
        s.appendLive(batch);
        model.push(...batch.map(rowOf));
      } else if (op < 0.45) {
        const info: GapInfo = {
          from: model.at(-1)?.c ?? null,
          to: `${prefix}g${step}`,
          reason: "slow-client",
        };
        s.appendGap(info);
        model.push({ text: "", c: info.to, seq: -1, stderr: false, gap: info });
      } else if (op < 0.6) {
        const batch = Array.from({ length: 1 + Math.floor(rand() * 2000) }, () =>
          line(rand, older--, "o."),
        ).reverse();
        s.prepend(batch, `o.${older}`, false);
        model = [...batch.map(rowOf), ...model];
      } else if (op < 0.75) {
        const at = model.findIndex((r) => r.gap !== undefined);
        if (at < 0) continue;
        const gap = model[at]?.gap as GapInfo;
        const batch = Array.from({ length: Math.floor(rand() * 1200) }, () => line(rand, seq++, "f."));
        const complete = rand() < 0.5;
        s.fillGap(at, batch, complete);
        model.splice(at, complete ? 1 : 0, ...batch.map(rowOf));
        if (!complete && batch.length > 0) expect(gap.from).toBe(batch.at(-1)?.c);
      } else {
        // Rows copied in from another store, somewhere in the middle (a merged view's late lines).
        other.appendLive(Array.from({ length: 50 }, () => line(rand, seq++, "m.")));
        const at = Math.floor(rand() * (model.length + 1));
        const rows = Array.from({ length: 1 + Math.floor(rand() * 40) }, (_, k) => other.length - 50 + k);
        s.insertCopied(
          at,
          [other],
          rows.map(() => 0),
          rows,
        );
        const copied: Row[] = rows.map((r) => ({
          text: other.text(r),
          c: other.cursor(r),
          seq: other.seq(r),
          trunc: other.trunc(r),
          stderr: other.stderr(r),
          ts: undefined,
        }));
        // The copy keeps the time its source parsed (from ts or text): the model gets it as ts.
        model.splice(at, 0, ...copied.map((c, k) => ({ ...c, ts: tsOf(other, rows[k] as number) })));
      }
      // Past the cap: live rows drop the oldest; rows put in front (or filled) drop the newest into a gap.
      if (model.length > cap) {
        if (op < 0.45 || op >= 0.75) model = model.slice(model.length - cap);
        else {
          const keep = cap - 1;
          const cut = model.slice(keep);
          const skipped = cut.reduce((n, r) => n + (r.gap ? (r.gap.skipped ?? 0) : 1), 0);
          const info = s.gap(keep) as GapInfo;
          expect(info).toMatchObject({ to: cut.at(-1)?.c, skipped, reason: "memory-cap" });
          model = [
            ...model.slice(0, keep),
            { text: "", c: cut.at(-1)?.c as string, seq: -1, stderr: false, gap: info },
          ];
        }
      }
      if (step % 20 === 19) expectSame(s, model);
    }
    expectSame(s, model);
    // Lookups by cursor find the newest row with that position.
    for (const i of [0, Math.floor(model.length / 2), model.length - 1]) {
      const r = model[i] as Row;
      if (!r.gap) expect(model[s.rowOfCursor(r.c)]?.c).toBe(r.c);
    }
    // A literal filter scans the packed blocks: the same rows as testing every line.
    const f = new FilterIndex(s);
    for (const text of ["failed", "SEQ 100", "ü", "😀", "\ufffd", "with a", "a line\nwith"]) {
      f.setSpec({ text, caseSensitive: false, regex: false, onlyMatching: true });
      expect(shownRows(f), text).toEqual(literalRows(s, model, text));
    }
    f.close();
  });

  it("holds a line's head with its real length, and a million-character block of long lines", () => {
    const s = new StreamStore();
    const long = "é".repeat(65_536);
    s.appendLive(
      Array.from({ length: 40 }, (_, k) => ({
        seq: k,
        text: `${k} ${long}`,
        c: `c${k}`,
        trunc: 300_000 + k,
      })),
    );
    s.appendLive(
      Array.from({ length: BLOCK_ROWS }, (_, k) => ({ seq: 40 + k, text: `short ${k}`, c: `c${40 + k}` })),
    );
    for (let k = 0; k < 40; k++) {
      expect(s.text(k)).toBe(`${k} ${long}`);
      expect(s.trunc(k)).toBe(300_000 + k);
    }
    expect(s.trunc(40)).toBeUndefined();
    expect(s.text(40 + BLOCK_ROWS - 1)).toBe(`short ${BLOCK_ROWS - 1}`);
    expect(s.cutRows()).toEqual(Array.from({ length: 40 }, (_, k) => k));
  });
});

describe("MergedStore over packed members", () => {
  it("holds the members' rows in time order across blocks, their texts unchanged, and filters them", () => {
    const at = (k: number) =>
      new Date(Date.UTC(2025, 11, 17, 17, 0, 0) + k * 1000).toISOString().slice(0, 19);
    const a = new StreamStore();
    const b = new StreamStore();
    const merged = new MergedStore(new StreamStore(), [a, b]);
    const n = BLOCK_ROWS + 1500;
    for (let from = 0; from < n; from += 1000) {
      const count = Math.min(1000, n - from);
      a.appendLive(
        Array.from({ length: count }, (_, k) => ({
          seq: from + k,
          text: `[${at(2 * (from + k))}Z] a ü${from + k}`,
          c: `a${from + k}`,
        })),
      );
      b.appendLive(
        Array.from({ length: count }, (_, k) => ({
          seq: from + k,
          text: `[${at(2 * (from + k) + 1)}Z] b 😀${from + k}`,
          c: `b${from + k}`,
        })),
      );
    }
    const s = merged.store;
    expect(s.length).toBe(2 * n);
    for (let i = 0; i < s.length; i++) {
      const k = i >> 1;
      const want = i % 2 === 0 ? `[${at(i)}Z] a ü${k}` : `[${at(i)}Z] b 😀${k}`;
      if (s.text(i) !== want) expect(s.text(i), `row ${i}`).toBe(want);
      if (s.cursor(i) !== `${i % 2 === 0 ? "a" : "b"}${k}`)
        expect(s.cursor(i)).toBe(`${i % 2 === 0 ? "a" : "b"}${k}`);
    }
    const f = new FilterIndex(s);
    f.setSpec({ text: "😀1", caseSensitive: false, regex: false, onlyMatching: true });
    const want: number[] = [];
    for (let i = 0; i < s.length; i++) if (s.text(i).includes("😀1")) want.push(s.base + i);
    expect(want.length).toBeGreaterThan(1000);
    expect(shownRows(f)).toEqual(want);
    f.close();
    merged.close();
  });
});

/** The `ts` that gives a copied row the time its source holds (the model derives times from ts or text). */
function tsOf(store: StreamStore, row: number): string | undefined {
  const t = store.time(row);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
