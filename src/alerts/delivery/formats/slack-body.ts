import type { AlertNotification } from "../../alert.js";
import { alertLink, lineLink } from "./links.js";

/** A Slack incoming-webhook message: `text` (notifications, fallback) and Block Kit blocks. */
export interface SlackBody {
  text: string;
  blocks: SlackBlock[];
}

export type SlackBlock =
  | { type: "section"; text: { type: "mrkdwn"; text: string } }
  | { type: "context"; elements: { type: "mrkdwn"; text: string }[] };

/** Slack refuses a section text over 3000 characters; the evidence block stays under it. */
const MAX_SECTION = 3000;
/** One evidence line, before escaping. */
const MAX_LINE = 500;

/** Slack's mrkdwn control characters: `&`, `<` and `>` must be escaped, everything else is literal text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const ICON: Record<string, string> = {
  critical: ":red_circle:",
  warning: ":warning:",
  info: ":information_source:",
};

export function slackBody(n: AlertNotification, dashboardUrl: string | null): SlackBody {
  const state = n.status === "firing" ? "FIRING" : "RESOLVED";
  const icon = n.status === "resolved" ? ":white_check_mark:" : (ICON[n.severity] ?? "");
  const title = `[${state}] ${n.rule} (${n.severity})`;
  const link = alertLink(n, dashboardUrl);
  const heading =
    link === null ? `*${escapeMrkdwn(title)}*` : `*<${escapeMrkdwn(link)}|${escapeMrkdwn(title)}>*`;
  const blocks: SlackBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `${icon} ${heading}\n${escapeMrkdwn(n.summary)}` } },
  ];
  const evidence = evidenceText(n, dashboardUrl);
  if (evidence !== "") blocks.push({ type: "section", text: { type: "mrkdwn", text: evidence } });
  const labels = Object.entries(n.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const since =
    n.status === "resolved" && n.endsAt !== null ? `${n.startsAt} – ${n.endsAt}` : `since ${n.startsAt}`;
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: escapeMrkdwn(`${n.count} matching · ${since} · ${labels}`) }],
  });
  return { text: escapeMrkdwn(`${title}: ${n.summary}`), blocks };
}

/** The evidence lines, each with its stream and time (a link to the line when there is a dashboard URL). */
function evidenceText(n: AlertNotification, dashboardUrl: string | null): string {
  let out = "";
  for (const e of n.evidence) {
    const where = escapeMrkdwn(`${e.stream}${e.time === null ? "" : ` ${e.time}`}`);
    const label =
      dashboardUrl === null
        ? where
        : `<${escapeMrkdwn(lineLink(dashboardUrl, e.stream, e.cursor))}|${where}>`;
    const text = e.text.length > MAX_LINE ? `${e.text.slice(0, MAX_LINE)}…` : e.text;
    // Inline code keeps *, _ and ~ in log text literal; a backtick would end it early, so it becomes a quote.
    const line = `• ${label}: \`${escapeMrkdwn(text.replace(/`/g, "'"))}\`\n`;
    if (out.length + line.length > MAX_SECTION) break;
    out += line;
  }
  return out.trimEnd();
}
