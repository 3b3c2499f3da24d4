/** How times are shown: UTC (as the audit file writes them) or the browser's local zone. */
export type TimeMode = "utc" | "local";

const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `[date, time]` as `2025-12-17`, `17:40:37`; empty strings for NaN. */
export function formatTime(ms: number, mode: TimeMode): [string, string] {
  if (Number.isNaN(ms)) return ["", ""];
  const d = new Date(ms);
  if (mode === "utc") {
    return [
      `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`,
      `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`,
    ];
  }
  return [
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`,
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`,
  ];
}

/** "just now", "2 min ago", "3 h ago", "5 days ago" (or "in …" for the future). */
export function relativeTime(ms: number, now: number): string {
  if (Number.isNaN(ms)) return "";
  const s = Math.round((now - ms) / 1000);
  const abs = Math.abs(s);
  let text: string;
  if (abs < 5) return "just now";
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86_400) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86_400)} days`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}
