import type { WireAlert, WireAlertEvidence } from "../protocol/messages.js";
import { AlertBadge } from "./alert-badge.js";
import { AlertNotifier } from "./alert-notifier.js";
import { AlertsState } from "./alerts-state.js";
import { EMPTY_FILTER } from "./filter.js";
import { safeText } from "./safe-text.js";
import { formatUrlState } from "./url-state.js";

export interface AlertsPanelElements {
  banner: HTMLElement;
  bannerText: HTMLElement;
  toggle: HTMLButtonElement;
  count: HTMLElement;
  panel: HTMLElement;
  list: HTMLElement;
  notify: HTMLButtonElement;
  close: HTMLButtonElement;
}

/**
 * The dashboard's alerts: a banner while any alert fires (coloured by the worst severity, with the count and the
 * newest summary), a panel of firing and recent alerts with their evidence lines (each a link that opens its
 * stream at that line), the tab's title and favicon, and browser notifications. Everything from the server goes
 * into the DOM as text.
 */
export class AlertsPanel {
  private readonly state = new AlertsState();
  private readonly badge = new AlertBadge();
  private readonly notifier: AlertNotifier;

  constructor(private readonly ui: AlertsPanelElements) {
    this.notifier = new AlertNotifier(ui.notify);
    ui.toggle.addEventListener("click", () => this.setOpen(ui.panel.hidden === true));
    ui.banner.addEventListener("click", () => this.setOpen(true));
    ui.close.addEventListener("click", () => this.setOpen(false));
  }

  /** The `alerts` message after each `hello`. */
  onSnapshot(firing: WireAlert[], recent: WireAlert[]): void {
    this.state.reset(firing, recent);
    this.render();
  }

  /** One `alert` message. */
  onAlert(alert: WireAlert): void {
    if (this.state.apply(alert)) this.notifier.notify(alert);
    this.render();
  }

  private setOpen(open: boolean): void {
    this.ui.panel.hidden = !open;
    this.ui.toggle.setAttribute("aria-expanded", String(open));
  }

  private render(): void {
    const firing = this.state.firing();
    const worst = this.state.worst();
    this.badge.show(firing.length, worst);
    this.ui.toggle.hidden = !this.state.enabled;
    this.ui.count.textContent = firing.length > 0 ? String(firing.length) : "";
    this.ui.toggle.dataset.severity = worst ?? "none";

    const newest = firing[0];
    this.ui.banner.hidden = newest === undefined;
    if (newest !== undefined) {
      this.ui.banner.dataset.severity = worst ?? "info";
      const n = firing.length;
      this.ui.bannerText.textContent = `${n} alert${n === 1 ? "" : "s"} firing · ${newest.rule}: ${safeText(newest.summary)}`;
    }

    const items = this.state.all().map((a) => alertItem(a));
    if (items.length === 0) {
      const empty = document.createElement("li");
      empty.className = "alerts-empty";
      empty.textContent = "No alerts.";
      items.push(empty);
    }
    this.ui.list.replaceChildren(...items);
  }
}

function alertItem(a: WireAlert): HTMLLIElement {
  const li = document.createElement("li");
  li.className = `alert-item sev-${a.severity} is-${a.status}`;
  li.dataset.id = a.id;
  const head = document.createElement("div");
  head.className = "alert-head";
  head.append(
    span("alert-status", a.status === "firing" ? "FIRING" : "RESOLVED"),
    span("alert-sev", a.severity),
    span("alert-rule", a.rule),
    span(
      "alert-time",
      a.status === "firing" ? `since ${shortTime(a.startsAt)}` : `ended ${shortTime(a.endsAt)}`,
    ),
  );
  const summary = document.createElement("p");
  summary.className = "alert-summary";
  summary.textContent = safeText(a.summary);
  li.append(head, summary);
  if (a.evidence.length > 0) {
    const list = document.createElement("ol");
    list.className = "alert-evidence";
    for (const e of a.evidence) list.append(evidenceItem(e));
    li.append(list);
  }
  return li;
}

function evidenceItem(e: WireAlertEvidence): HTMLLIElement {
  const li = document.createElement("li");
  const link = document.createElement("a");
  // Same page: the hash change opens the stream and selects the line, loading it from history when needed.
  link.href = formatUrlState({ stream: e.stream, filter: EMPTY_FILTER, line: e.cursor });
  link.className = "evidence-line";
  link.append(span("evidence-stream", e.stream), span("evidence-text", safeText(e.text)));
  li.append(link);
  return li;
}

function span(className: string, text: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

function shortTime(iso: string | null): string {
  if (iso === null) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
}
