import { createHash } from "node:crypto";
import type { AlertEvidence, AlertNotification, AlertStatus } from "./alert.js";
import { EvidenceRing, type TimedEvidence } from "./evidence.js";
import type { RuleSpec } from "./rule-config.js";
import type { Scheduler } from "./scheduler.js";

/** What an alert reports to its engine: each notification, and each episode it kept quiet (cooldown). */
export interface AlertHost {
  readonly scheduler: Scheduler;
  notify(notification: AlertNotification): void;
  /** The alert starts firing: the engine builds the notification at the end of the batch being read, so it
   * carries every matching line of that batch. */
  announce(alert: AlertState): void;
  suppressed(rule: string): void;
}

/**
 * One alert: a rule and one set of group labels. inactive → firing → resolved (→ firing again). A trigger
 * starts an episode or extends it; the episode resolves once no trigger came for the rule's resolveAfter
 * (checked by one timer, re-armed lazily, so a storm costs no timer work per line). Cooldown is the least time
 * between two firing notifications: an episode that starts sooner is held, and announced when the cooldown
 * ends if it is still firing; one that resolves before that is never announced (counted as suppressed).
 */
export class AlertState {
  status: "inactive" | AlertStatus = "inactive";
  startedAt = 0;
  lastTriggerAt = 0;
  count = 0;
  /** Whether this episode's firing notification went out. */
  announced = false;
  private lastAnnouncedAt = Number.NEGATIVE_INFINITY;
  private evidenceSince = 0;
  private summary: (count: number) => string = () => "";
  private readonly ring: EvidenceRing;
  private resolveTimer: (() => void) | null = null;
  private holdTimer: (() => void) | null = null;
  private id = "";

  constructor(
    readonly rule: RuleSpec,
    readonly labels: Readonly<Record<string, string>>,
    private readonly host: AlertHost,
  ) {
    this.ring = new EvidenceRing(rule.evidence);
  }

  get firing(): boolean {
    return this.status === "firing";
  }

  /** A matching line or event: kept as evidence, counted when firing. */
  observe(item: TimedEvidence): void {
    this.ring.push(item);
    if (this.status === "firing") this.count++;
  }

  /**
   * The rule's condition holds at `now`. A new episode counts `count` lines, with the evidence observed since
   * `since`; `autoResolve` false leaves resolution to resolve() (silence).
   */
  trigger(
    now: number,
    since: number,
    count: number,
    summary: (count: number) => string,
    autoResolve = true,
  ): void {
    this.lastTriggerAt = now;
    if (this.status === "firing") return;
    this.status = "firing";
    this.startedAt = now;
    this.count = count;
    this.evidenceSince = since;
    this.summary = summary;
    this.announced = false;
    this.id = createHash("sha256")
      .update(`${this.rule.name}\0${JSON.stringify(this.labels)}\0${now}`)
      .digest("hex")
      .slice(0, 20);
    const canAnnounceAt = this.lastAnnouncedAt + this.rule.cooldownMs;
    if (now >= canAnnounceAt) this.announce(now);
    else {
      this.holdTimer = this.host.scheduler.at(canAnnounceAt, () => {
        this.holdTimer = null;
        if (this.status === "firing" && !this.announced) this.announce(this.host.scheduler.now());
      });
    }
    if (autoResolve) this.armResolve(now + this.rule.resolveAfterMs);
  }

  /** Ends the episode now (a silence broken by a matching line, a rule removed by a reload). */
  resolve(now: number): void {
    if (this.status !== "firing") return;
    this.cancelTimers();
    this.status = "resolved";
    if (this.announced) this.host.notify(this.notification(now));
    else this.host.suppressed(this.rule.name);
    this.ring.clear();
  }

  /** Restores an episode announced before a restart (persisted state), without announcing it again. */
  restore(
    now: number,
    startedAt: number,
    id: string,
    count: number,
    summary: (count: number) => string,
    autoResolve: boolean,
  ): void {
    this.status = "firing";
    this.startedAt = startedAt;
    this.lastTriggerAt = now;
    this.lastAnnouncedAt = startedAt;
    this.announced = true;
    this.id = id;
    this.count = count;
    this.summary = summary;
    this.evidenceSince = Number.NEGATIVE_INFINITY;
    if (autoResolve) this.armResolve(now + this.rule.resolveAfterMs);
  }

  get episodeId(): string {
    return this.id;
  }

  /** The alert as it stands (for snapshots). */
  notification(now: number): AlertNotification {
    const resolved = this.status === "resolved";
    return {
      id: this.id,
      rule: this.rule.name,
      kind: this.rule.kind,
      severity: this.rule.severity,
      status: resolved ? "resolved" : "firing",
      labels: { ...this.labels },
      summary: this.summary(this.count),
      startsAt: new Date(this.startedAt).toISOString(),
      endsAt: resolved ? new Date(now).toISOString() : null,
      count: this.count,
      evidence: this.evidence(),
    };
  }

  evidence(): AlertEvidence[] {
    return this.ring.since(this.evidenceSince).map((item) => item.evidence);
  }

  /** The evidence with the times it was seen (the state file keeps it). */
  timedEvidence(): TimedEvidence[] {
    return this.ring.since(Number.NEGATIVE_INFINITY);
  }

  dispose(): void {
    this.cancelTimers();
  }

  private announce(now: number): void {
    this.announced = true;
    this.lastAnnouncedAt = now;
    this.host.announce(this);
  }

  private armResolve(atMs: number): void {
    this.resolveTimer = this.host.scheduler.at(atMs, () => {
      this.resolveTimer = null;
      if (this.status !== "firing") return;
      const due = this.lastTriggerAt + this.rule.resolveAfterMs;
      if (this.host.scheduler.now() >= due) this.resolve(this.host.scheduler.now());
      else this.armResolve(due);
    });
  }

  private cancelTimers(): void {
    this.resolveTimer?.();
    this.resolveTimer = null;
    this.holdTimer?.();
    this.holdTimer = null;
  }
}
