import type { AlertTargetStatus, WireAlert, WireAlertEvidence } from "../protocol/messages.js";
import { AlertBadge } from "./alert-badge.js";
import { AlertNotifier } from "./alert-notifier.js";
import { AlertsState } from "./alerts-state.js";
import { anyFailing, shortTime, targetView } from "./delivery-status.js";
import { EMPTY_FILTER } from "./filter.js";
import { fetchAlertsReport } from "./history-api.js";
import { safeText } from "./safe-text.js";
import { formatUrlState } from "./url-state.js";

/** Between `GET /api/alerts` requests while the panel is open. */
const POLL_MS = 5_000;
/** From an `alert` message to the request that sees how its delivery went (a first attempt, not its retries). */
const AFTER_ALERT_MS = 2_000;
/** Between requests while a delivery is still queued (retrying) and the panel is closed. */
const FOLLOW_UP_MS = 5_000;

export interface AlertsPanelElements {
  banner: HTMLElement;
  bannerText: HTMLElement;
  toggle: HTMLButtonElement;
  count: HTMLElement;
  /** The topbar button's warning mark: some webhook target's last delivery failed. */
  deliveryMark: HTMLElement;
  panel: HTMLElement;
  list: HTMLElement;
  /** The panel's webhook section (hidden when the server has no targets) and its list. */
  delivery: HTMLElement;
  targets: HTMLElement;
  notify: HTMLButtonElement;
  close: HTMLButtonElement;
}

/**
 * The dashboard's alerts: a banner while any alert fires (coloured by the worst severity, with the count and the
 * newest summary), a panel of firing and recent alerts with their evidence lines (each a link that opens its
 * stream at that line), the tab's title and favicon, and browser notifications. Everything from the server goes
 * into the DOM as text.
 *
 * Webhook delivery is not on the WebSocket: the panel reads the targets from `GET /api/alerts` when it opens and
 * every few seconds while open, and also at each snapshot and a little after alert messages, so the topbar button's
 * warning mark shows a broken target without the panel open.
 */
export class AlertsPanel {
  private readonly state = new AlertsState();
  private readonly badge = new AlertBadge();
  private readonly notifier: AlertNotifier;
  private poll: ReturnType<typeof setInterval> | undefined;
  private afterAlert: ReturnType<typeof setTimeout> | undefined;
  private fetching = false;

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
    void this.refreshDelivery();
  }

  /** One `alert` message. */
  onAlert(alert: WireAlert): void {
    if (this.state.apply(alert)) this.notifier.notify(alert);
    this.render();
    // Delivery runs after the notification, so ask a moment later; a burst of alerts makes one request.
    this.refreshLater(AFTER_ALERT_MS);
  }

  /** One pending later request at most: a newer reason replaces the older one. */
  private refreshLater(ms: number): void {
    clearTimeout(this.afterAlert);
    this.afterAlert = setTimeout(() => void this.refreshDelivery(), ms);
  }

  private setOpen(open: boolean): void {
    this.ui.panel.hidden = !open;
    this.ui.toggle.setAttribute("aria-expanded", String(open));
    clearInterval(this.poll);
    this.poll = undefined;
    if (!open) return;
    void this.refreshDelivery();
    this.poll = setInterval(() => void this.refreshDelivery(), POLL_MS);
  }

  /** One `GET /api/alerts` at a time; a slow server is asked again only after it answered. */
  private async refreshDelivery(): Promise<void> {
    if (this.fetching) return;
    this.fetching = true;
    try {
      const report = await fetchAlertsReport();
      const targets = report.enabled ? report.targets : [];
      this.renderDelivery(targets);
      // Retries can take a while (default backoff: up to ~15 s): while something is still queued, look again,
      // so the mark shows the outcome without the panel open. Bounded by the queue emptying.
      if (this.ui.panel.hidden && targets.some((t) => t.queued > 0)) this.refreshLater(FOLLOW_UP_MS);
    } catch (error) {
      this.renderDeliveryError((error as Error).message);
    } finally {
      this.fetching = false;
    }
  }

  private renderDelivery(targets: readonly AlertTargetStatus[]): void {
    const failing = anyFailing(targets);
    this.ui.deliveryMark.hidden = !failing;
    this.ui.toggle.classList.toggle("delivery-failing", failing);
    this.ui.delivery.hidden = targets.length === 0;
    this.ui.targets.replaceChildren(...targets.map(targetItem));
  }

  /** The mark keeps what the last answer said; the panel says the status is unknown now. */
  private renderDeliveryError(message: string): void {
    const li = document.createElement("li");
    li.className = "delivery-unknown";
    li.textContent = `Delivery status unavailable: ${safeText(message)}`;
    this.ui.delivery.hidden = false;
    this.ui.targets.replaceChildren(li);
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

function targetItem(t: AlertTargetStatus): HTMLLIElement {
  const v = targetView(t);
  const li = document.createElement("li");
  li.className = `delivery-target ${v.failing ? "is-failing" : "is-ok"}`;
  li.dataset.target = t.name;
  const head = document.createElement("div");
  head.className = "delivery-head";
  head.append(
    span("delivery-name", v.name),
    span("delivery-host", v.host),
    span("delivery-counts", v.counts),
  );
  li.append(head);
  if (v.error !== null) {
    const p = document.createElement("p");
    p.className = "delivery-error";
    p.textContent = v.error;
    li.append(p);
  }
  return li;
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
      a.status === "firing"
        ? `since ${shortTime(a.startsAt)}`
        : `ended ${a.endsAt === null ? "" : shortTime(a.endsAt)}`,
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
