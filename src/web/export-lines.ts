import { jsonSafe, terminalSafe } from "./safe-text.js";
import type { StreamStore } from "./store.js";

/**
 * Export of loaded lines (all, or the given rows) as a `.log` or `.json` file, built in memory as a Blob.
 *
 * Both are safe to `cat` on a terminal. `.log` has the lines with control characters (but tab) and bidi controls
 * escaped as the dashboard shows them (`\x1b`, `\u202e`): a line cannot drive the terminal or reorder itself.
 * `.json` has the exact original text: those characters are written as JSON escapes (`"\u001b"`, `"\u202e"`),
 * which any JSON reader turns back into the original characters.
 */

export type ExportFormat = "log" | "json";

/**
 * Rows to export, in order; gap rows are skipped (they hold no text). `whole` holds, by cursor, the whole text of
 * rows the store holds only the head of (see StreamStore.trunc); a cut row missing from it is exported as its head.
 */
export function exportBlob(
  store: StreamStore,
  rows: Iterable<number>,
  format: ExportFormat,
  whole?: ReadonlyMap<string, string>,
): Blob {
  const text = (r: number): string =>
    (whole !== undefined && store.trunc(r) !== undefined ? whole.get(store.cursor(r)) : undefined) ??
    store.text(r);
  if (format === "log") {
    const parts: string[] = [];
    for (const r of rows) if (!store.isGap(r)) parts.push(terminalSafe(text(r)), "\n");
    return new Blob(parts, { type: "text/plain;charset=utf-8" });
  }
  const parts: string[] = ["["];
  let first = true;
  for (const r of rows) {
    if (store.isGap(r)) continue;
    const ms = store.time(r);
    const entry = {
      time: Number.isNaN(ms) ? null : new Date(ms).toISOString(),
      level: ["info", "ok", "warn", "error"][store.level(r)] ?? "info",
      text: text(r),
      cursor: store.cursor(r),
    };
    parts.push(first ? "\n" : ",\n", jsonSafe(JSON.stringify(entry)));
    first = false;
  }
  parts.push("\n]\n");
  return new Blob(parts, { type: "application/json" });
}

export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before releasing the data.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
