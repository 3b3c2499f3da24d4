import type { EntryLevel } from "../../core/entry.js";
import type { AlertRecord } from "./alert-records.js";
import type { Digest, TopMessage } from "./digest.js";

export type DigestFormat = "text" | "markdown" | "json";

const LEVELS: readonly EntryLevel[] = ["error", "warn", "ok", "info"];

export function renderDigest(digest: Digest, format: DigestFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(digest, null, 2)}\n`;
    case "markdown":
      return markdown(digest);
    case "text":
      return text(digest);
  }
}

function levels(counts: Record<EntryLevel, number>): string {
  return LEVELS.map((l) => `${l} ${counts[l]}`).join(" · ");
}

function count(m: TopMessage): string {
  return m.maxUndercount > 0 ? `≥${m.count}` : String(m.count);
}

function alertLine(a: AlertRecord): string {
  return `${a.startsAt} ${a.rule} (${a.severity}, ${a.kind}): ${a.summary}`;
}

function text(d: Digest): string {
  const out: string[] = [
    `livetrail summary ${d.since} – ${d.until}`,
    `lines: ${d.lines} (${levels(d.byLevel)})`,
  ];
  if (d.streams.length > 0) {
    out.push("", "streams:");
    const width = Math.max(...d.streams.map((s) => s.stream.length));
    for (const s of d.streams) out.push(`  ${s.stream.padEnd(width)}  ${s.lines} (${levels(s.byLevel)})`);
  }
  out.push("");
  out.push(
    `first error: ${d.firstError ? `${d.firstError.time ?? "?"} ${d.firstError.stream}: ${d.firstError.text}` : "none"}`,
  );
  out.push(
    `last error:  ${d.lastError ? `${d.lastError.time ?? "?"} ${d.lastError.stream}: ${d.lastError.text}` : "none"}`,
  );
  if (d.top.length > 0) {
    out.push("", "top messages:");
    const width = Math.max(...d.top.map((m) => count(m).length));
    for (const m of d.top) {
      out.push(`  ${count(m).padStart(width)}  ${m.template}`);
      if (m.example !== m.template) out.push(`  ${" ".repeat(width)}  e.g. ${m.example}`);
    }
  }
  if (d.alerts === null) out.push("", "alerts: not available (no alerts stream)");
  else {
    out.push("", `alerts fired: ${d.alerts.firedCount} (resolved: ${d.alerts.resolvedCount})`);
    for (const a of d.alerts.fired) out.push(`  ${alertLine(a)}`);
    out.push(`silences: ${d.alerts.silences.length}`);
    for (const a of d.alerts.silences) out.push(`  ${alertLine(a)}`);
  }
  return `${out.join("\n")}\n`;
}

/** Table cells and inline text: `|` ends a cell, backticks and `*`/`_` would format, `<` could open HTML. */
function md(s: string): string {
  return s.replace(/[\\`*_|<>[\]#]/g, (c) => `\\${c}`);
}

function markdown(d: Digest): string {
  const out: string[] = [
    `## livetrail summary ${md(d.since)} – ${md(d.until)}`,
    "",
    `**${d.lines} lines**: ${levels(d.byLevel)}`,
  ];
  if (d.streams.length > 0) {
    out.push(
      "",
      "| stream | lines | error | warn | ok | info |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const s of d.streams) {
      out.push(`| ${md(s.stream)} | ${s.lines} | ${LEVELS.map((l) => s.byLevel[l]).join(" | ")} |`);
    }
  }
  const err = (label: string, l: Digest["firstError"]) =>
    `- ${label}: ${l ? `${md(l.time ?? "?")} ${md(l.stream)}: ${md(l.text)}` : "none"}`;
  out.push("", err("First error", d.firstError), err("Last error", d.lastError));
  if (d.top.length > 0) {
    out.push(
      "",
      "### Top messages",
      "",
      "| count | level | message | example |",
      "| ---: | --- | --- | --- |",
    );
    for (const m of d.top) out.push(`| ${count(m)} | ${m.level} | ${md(m.template)} | ${md(m.example)} |`);
  }
  out.push("", "### Alerts", "");
  if (d.alerts === null) out.push("Not available (no alerts stream).");
  else {
    out.push(`${d.alerts.firedCount} fired, ${d.alerts.resolvedCount} resolved.`);
    for (const a of d.alerts.fired) out.push(`- ${md(alertLine(a))}`);
    out.push("", `Silences: ${d.alerts.silences.length}.`);
    for (const a of d.alerts.silences) out.push(`- ${md(alertLine(a))}`);
  }
  return `${out.join("\n")}\n`;
}
