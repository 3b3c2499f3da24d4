import type { Highlighter } from "../filter.js";
import { forEachPart } from "../safe-text.js";
import { Lvl, type LvlCode, type StreamStore } from "../store.js";
import { formatTime, type TimeMode } from "../time-format.js";
import { gapCountText, gapLoadingText, gapSpanText } from "./gap-text.js";

/**
 * Builds one row's DOM from a store row. Text only ever goes in as text nodes: lines are never HTML. Control and
 * bidi characters are shown as escapes (src/web/safe-text.ts), each in a `span.esc`: a line cannot reorder or
 * hide what it shows.
 */

const LEVEL_CLASS: Record<LvlCode, string> = {
  [Lvl.info]: "row lvl-info",
  [Lvl.ok]: "row lvl-ok",
  [Lvl.warn]: "row lvl-warn",
  [Lvl.error]: "row lvl-error",
  [Lvl.gap]: "row gap",
};

/** The chip of a merged view's row: which stream (and host) it comes from. */
export interface RowMark {
  label: string;
  title: string;
  /** Colour class index (`.src.c0` …). */
  colour: number;
}

export interface RowContext {
  /** Highlights (for a regex, ranges may not be known yet: then the row is drawn again when they are). */
  matcher: Highlighter | null;
  timeMode: TimeMode;
  selected: boolean;
  /** A merged view's chip for the row, else absent. */
  mark?: RowMark | null | undefined;
}

/** Where the message starts: after a leading `[timestamp] ` (shown in its own column). */
export function messageStart(text: string, hasTime: boolean): number {
  if (!hasTime || text.charCodeAt(0) !== 91 /* [ */) return 0;
  const close = text.indexOf("]");
  if (close < 0 || close > 48) return 0;
  return text.charCodeAt(close + 1) === 32 ? close + 2 : close + 1;
}

export function fillRow(el: HTMLElement, store: StreamStore, row: number, ctx: RowContext): void {
  const level = store.level(row);
  const base = store.stderr(row) ? `${LEVEL_CLASS[level]} stderr` : LEVEL_CLASS[level];
  el.className = ctx.selected ? `${base} selected` : base;
  if (level === Lvl.gap) {
    fillGapRow(el, store, row, ctx.timeMode);
    if (ctx.mark) el.prepend(chip(ctx.mark));
    return;
  }
  const ms = store.time(row);
  const [date, time] = formatTime(ms, ctx.timeMode);
  const ts = document.createElement("span");
  ts.className = "ts";
  const d = document.createElement("span");
  d.className = "ts-date";
  d.textContent = date;
  const t = document.createElement("span");
  t.className = "ts-time";
  t.textContent = time;
  ts.append(d, t);
  const msg = document.createElement("span");
  msg.className = "msg";
  const text = store.text(row);
  appendHighlighted(msg, text, messageStart(text, !Number.isNaN(ms)), ctx.matcher);
  const cut = store.trunc(row);
  const parts: HTMLElement[] = ctx.mark ? [ts, chip(ctx.mark)] : [ts];
  if (store.stderr(row)) parts.push(stderrLabel());
  parts.push(msg);
  if (cut !== undefined) parts.push(cutBadge(cut));
  el.replaceChildren(...parts);
}

/** A merged row's stream chip (text only: stream names and host labels are data). */
function chip(mark: RowMark): HTMLElement {
  const c = document.createElement("span");
  c.className = `src c${mark.colour}`;
  c.textContent = mark.label;
  c.title = mark.title;
  return c;
}

/** The label of a line that came on stderr (a container's, a command's); the row gets a left border too. */
function stderrLabel(): HTMLElement {
  const label = document.createElement("span");
  label.className = "ch";
  label.textContent = "stderr";
  label.title = "This line came on standard error";
  return label;
}

/** The mark of a row that holds only the head of a longer line: "cut · 1.2 MiB" (its real size). */
export function cutBadge(bytes: number): HTMLElement {
  const badge = document.createElement("span");
  badge.className = "cut";
  badge.textContent = `cut · ${formatBytes(bytes)}`;
  badge.title = `Only the start of this ${formatBytes(bytes)} line is shown here: select it to load it whole`;
  return badge;
}

/** 1,536 → "1.5 KiB", 1,258,291 → "1.2 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Appends text[from..] to parent, wrapping matches in <mark> (ranges are over the whole, original text) and
 * showing unsafe characters as escapes, inside marks too.
 */
export function appendHighlighted(
  parent: HTMLElement,
  text: string,
  from: number,
  matcher: Highlighter | null,
): void {
  const ranges = matcher?.ranges(text) ?? [];
  let pos = from;
  for (let k = 0; k < ranges.length; k += 2) {
    const start = Math.max(ranges[k] as number, from);
    const end = ranges[k + 1] as number;
    if (end <= start) continue;
    if (start > pos) appendSafe(parent, text.slice(pos, start));
    const mark = document.createElement("mark");
    appendSafe(mark, text.slice(start, end));
    parent.append(mark);
    pos = end;
  }
  if (pos < text.length) appendSafe(parent, text.slice(pos));
}

/** Appends text as text nodes, each unsafe character as a `span.esc` holding its escape (e.g. `\u202e`). */
export function appendSafe(parent: HTMLElement, text: string): void {
  forEachPart(
    text,
    (part) => parent.append(document.createTextNode(part)),
    (esc, code) => {
      const span = document.createElement("span");
      span.className = "esc";
      span.title = `U+${code.toString(16).toUpperCase().padStart(4, "0")} (a control character, shown escaped)`;
      span.textContent = esc;
      parent.append(span);
    },
  );
}

function fillGapRow(el: HTMLElement, store: StreamStore, row: number, mode: TimeMode): void {
  const info = store.gap(row);
  const label = document.createElement("span");
  label.className = "gap-label";
  if (!info) {
    el.replaceChildren(label);
    return;
  }
  if (info.reason.startsWith("marker-")) {
    const marker: Record<string, string> = {
      "marker-rotated": "log file rotated: following the new file",
      "marker-truncated": "log file truncated: following it from the start",
      "marker-restarted": "the stream started over",
    };
    label.textContent = info.note ?? marker[info.reason] ?? "the stream started over";
    el.replaceChildren(label);
    return;
  }
  const why: Record<string, string> = {
    "slow-client": "skipped while this page fell behind",
    "memory-cap": "not held in memory",
    "not-loaded": "not loaded",
    "file-changed": "skipped: the file changed",
    "file-gone": "skipped: the file was replaced",
    truncated: "skipped: the file was truncated",
    restarted: "skipped: the stream started over",
    trimmed: "no longer held by the server",
  };
  label.textContent = `${gapCountText(info)} ${why[info.reason] ?? "skipped"}${gapSpanText(info, mode)}`;
  if (info.unavailable) {
    label.textContent += " (no longer in the file)";
    el.replaceChildren(label);
    return;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "gap-fill";
  button.textContent = "Load them";
  // While loading: the progress, and the same button stops it.
  if (info.filling) {
    label.textContent = gapLoadingText(info.filling);
    button.textContent = "Stop";
  }
  el.replaceChildren(label, button);
}
