import type { AlertSeverity, WireAlert } from "../protocol/messages.js";

/** Alerts the page holds at most (recent ones beyond it are dropped oldest first; firing ones are always kept). */
const MAX_ALERTS = 200;
const RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/**
 * What the dashboard knows of the server's alerts: each episode (by id) in its latest state, from the first
 * `alerts` snapshot and every `alert` message after it. No DOM here.
 */
export class AlertsState {
  /** By id, oldest change first (a change moves the episode to the end). */
  private readonly byId = new Map<string, WireAlert>();
  /** True once the server said it evaluates alert rules (an `alerts` message came). */
  enabled = false;

  /** The snapshot a (re)connect brings: it replaces what was held. */
  reset(firing: readonly WireAlert[], recent: readonly WireAlert[]): void {
    this.enabled = true;
    this.byId.clear();
    // Oldest first, so the newest ends up last; a firing alert's own state wins over its entry in recent.
    for (const a of [...recent].reverse()) this.byId.set(a.id, a);
    for (const a of [...firing].reverse()) {
      this.byId.delete(a.id);
      this.byId.set(a.id, a);
    }
    this.trim();
  }

  /** One notification; returns true when it is a new firing episode (worth a browser notification). */
  apply(alert: WireAlert): boolean {
    this.enabled = true;
    const known = this.byId.get(alert.id);
    this.byId.delete(alert.id);
    this.byId.set(alert.id, alert);
    this.trim();
    return alert.status === "firing" && known === undefined;
  }

  /** Firing alerts, newest first. */
  firing(): WireAlert[] {
    return this.all().filter((a) => a.status === "firing");
  }

  /** Every held episode, newest change first. */
  all(): WireAlert[] {
    return [...this.byId.values()].reverse();
  }

  /** The most severe level among firing alerts, null when none fires. */
  worst(): AlertSeverity | null {
    let worst: AlertSeverity | null = null;
    for (const a of this.byId.values()) {
      if (a.status === "firing" && (worst === null || RANK[a.severity] > RANK[worst])) worst = a.severity;
    }
    return worst;
  }

  private trim(): void {
    if (this.byId.size <= MAX_ALERTS) return;
    for (const [id, a] of this.byId) {
      if (this.byId.size <= MAX_ALERTS) break;
      if (a.status !== "firing") this.byId.delete(id);
    }
  }
}
