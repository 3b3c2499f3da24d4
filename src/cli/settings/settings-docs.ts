import type { Setting } from "./setting.js";
import { flagName } from "./settings-options.js";
import { GROUPS, SETTINGS } from "./settings-table.js";

export const DOCS_BEGIN =
  "<!-- settings-table:begin (generated: livetrail config docs --write docs/settings.md) -->";
export const DOCS_END = "<!-- settings-table:end -->";

function shownDefault(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  const d = s.default;
  if (d === undefined || (Array.isArray(d) && d.length === 0)) return "none";
  return `\`${s.kind.show(d as never)}\``;
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** The markdown tables of docs/settings.md: one per group, one row per setting. */
export function settingsMarkdown(): string {
  const parts: string[] = [];
  for (const group of GROUPS) {
    const rows = (Object.values(group.settings) as Setting[]).map((s) => {
      const flag = flagName(s);
      const key = s.config === false ? `${s.key} (not in a file)` : s.key;
      return [
        `\`${key}\``,
        flag === null ? "—" : `\`${s.short === undefined ? "" : `${s.short}, `}${flag}\``,
        s.envName === null ? "—" : `\`${s.envName}\``,
        `${s.kind.describe}${s.secret === true ? ", secret" : ""}`,
        shownDefault(s),
        s.doc ?? sentence(s.help),
      ].map(cell);
    });
    parts.push(`### ${group.title.replace(/:$/, "")}`, "", ...alignedTable(HEADER, rows), "");
  }
  return parts.join("\n");
}

const HEADER = ["config key", "flag", "environment", "value", "default", "description"];

/** A markdown table with padded columns, as the formatter (biome) writes it, so the file stays as generated. */
function alignedTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** docs/settings.md with its generated section replaced by the current table. */
export function withSettingsTable(doc: string): string {
  const begin = doc.indexOf(DOCS_BEGIN);
  const end = doc.indexOf(DOCS_END);
  if (begin < 0 || end < begin) throw new Error("docs/settings.md has no settings-table markers");
  return `${doc.slice(0, begin + DOCS_BEGIN.length)}\n\n${settingsMarkdown()}\n${doc.slice(end)}`;
}

/** The settings part of `serve --help` that commander's option list does not say. */
export function settingsHelp(): string {
  const keys = SETTINGS.filter((s) => s.config !== false).map((s) => s.key);
  const secrets = SETTINGS.filter((s) => s.config === false).map((s) => s.key);
  return `
SETTINGS
  Every setting below can be given as a flag, as an environment variable LIVETRAIL_<KEY> (the config key in upper
  snake case: LIVETRAIL_PORT, LIVETRAIL_TOKEN_FILE, LIVETRAIL_MAX_LINE_BYTES; lists comma-separated, switches
  true/false) or in the --config file. Precedence: flag > environment > config file > default; the tokens of
  flags and the environment are all accepted. \`livetrail config print\` shows the effective settings and where
  each comes from; \`livetrail config check FILE\` checks a config file. All of them: docs/settings.md.

CONFIG FILE
  A JSON object with any of these keys (relative paths are taken against the config file's directory):
${wrap(keys.join(", "), 2, 110)}
  streams: {"NAME": "FILE"} or [{"name", "file", "host"}] (FILE arguments replace them). alerts: rules,
  targets, dashboardUrl (docs/alerts.md). Not in a file: ${secrets.join(", ")} (secrets: use tokenFile).
`;
}

function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l).join("\n");
}
