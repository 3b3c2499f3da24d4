import type { IntegrityInfo } from "../protocol/messages.js";
import type { WitnessAlarm } from "./integrity-witness.js";

/**
 * What the dashboard shows of integrity: a badge on each stream's tab ("sealed · verified to line N", "tampered",
 * "unsealed", with the checkpoint time or the finding as its tooltip) and, for a rollback a witness caught, a red
 * banner across the page that says what this browser saw before and what the server shows now.
 */

const fmt = new Intl.NumberFormat("en-US");

export function badgeText(info: IntegrityInfo): string {
  if (info.status === "tampered") return "tampered";
  if (info.status === "unsealed") return "unsealed";
  return info.verifiedTo >= info.sealedTo
    ? `sealed · verified to line ${fmt.format(info.verifiedTo)}`
    : `sealed to line ${fmt.format(info.sealedTo)} · verified to ${fmt.format(info.verifiedTo)}`;
}

/** Puts (or updates) the badge inside a tab button. Shown only for streams that are or could be sealed. */
export function showBadge(tab: HTMLElement, info: IntegrityInfo): void {
  let badge = tab.querySelector<HTMLElement>(".integrity");
  if (badge === null) {
    badge = document.createElement("span");
    badge.className = "integrity";
    tab.append(badge);
  }
  badge.dataset.status = info.status;
  badge.textContent = badgeText(info);
  badge.title =
    info.status === "tampered"
      ? `The log no longer matches what was sealed: ${info.finding ?? "changed"}`
      : info.checkpointTime === null
        ? "No signed checkpoint yet"
        : `Last checkpoint ${info.checkpointTime} (${fmt.format(info.sealedTo)} lines)`;
  // The badge takes no pointer events (clicks belong to the tab), so the tab carries the tooltip.
  tab.title = badge.title;
}

const short = (root: string) => `${root.slice(0, 12)}…`;

export function alarmText(a: WitnessAlarm): string {
  const what =
    a.kind === "shrank"
      ? "the log's history shrank"
      : a.kind === "forked"
        ? "the log's history forked"
        : "the log's history was rewritten";
  return (
    `Integrity alarm on "${a.stream}": ${what}. This browser saw ${fmt.format(a.old.size)} lines ` +
    `(root ${short(a.old.root)}) at ${a.old.seenAt}; the server now shows ${fmt.format(a.now.size)} lines ` +
    `(root ${short(a.now.root)})${a.detail ? ` — ${a.detail}` : ""}. Lines may have been deleted or altered ` +
    "and re-sealed."
  );
}

/** The red banner at the top of the page; one per stream, kept until dismissed. */
export function showAlarm(a: WitnessAlarm): void {
  const id = `integrity-alarm-${a.stream}`;
  let banner = document.getElementById(id);
  if (banner === null) {
    banner = document.createElement("div");
    banner.id = id;
    banner.className = "integrity-alarm";
    banner.setAttribute("role", "alert");
    document.body.prepend(banner);
  }
  banner.textContent = alarmText(a);
}

/** A quieter note (amber) for what a witness could not check. */
export function showUnchecked(stream: string, message: string): void {
  const id = `integrity-unchecked-${stream}`;
  let note = document.getElementById(id);
  if (note === null) {
    note = document.createElement("div");
    note.id = id;
    note.className = "integrity-unchecked";
    note.setAttribute("role", "status");
    document.body.prepend(note);
  }
  note.textContent = `Integrity of "${stream}": ${message}.`;
}
