/**
 * Lines that arrived in a tab while it was not shown, errors counted apart ("12 · 2 errors"), as a badge on its
 * button; cleared when the tab is shown. The badge is a span of its own, written as text.
 */

export interface Unread {
  lines: number;
  errors: number;
}

/** The badge's text (DOM-free): "12", "12 · 1 error", "1,204 · 30 errors". */
export function unreadLabel(u: Unread): string {
  const lines = u.lines.toLocaleString("en");
  if (u.errors === 0) return lines;
  return `${lines} · ${u.errors.toLocaleString("en")} error${u.errors === 1 ? "" : "s"}`;
}

export class UnreadBadges {
  private readonly counts = new Map<HTMLElement, Unread>();

  /** `lines` more arrived on the tab whose button this is, `errors` of them errors. */
  arrived(button: HTMLElement, lines: number, errors: number): void {
    if (lines <= 0) return;
    const u = this.counts.get(button) ?? { lines: 0, errors: 0 };
    u.lines += lines;
    u.errors += errors;
    this.counts.set(button, u);
    this.render(button, u);
  }

  /** The tab is shown: nothing is unread. */
  seen(button: HTMLElement): void {
    if (!this.counts.delete(button)) return;
    button.querySelector(":scope > .unread")?.remove();
  }

  private render(button: HTMLElement, u: Unread): void {
    let badge = button.querySelector<HTMLElement>(":scope > .unread");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "unread";
      button.append(badge);
    }
    badge.classList.toggle("has-errors", u.errors > 0);
    const text = unreadLabel(u);
    if (badge.textContent !== text) badge.textContent = text;
    badge.title = `${u.lines.toLocaleString("en")} new line${u.lines === 1 ? "" : "s"} since you last looked, ${u.errors.toLocaleString("en")} of them errors`;
  }
}
