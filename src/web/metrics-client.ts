import type { ClientMessage, HostSample, ServerMessage } from "../protocol/messages.js";

/** The host metrics messages (docs/protocol.md, "Metrics"). */
export type MetricsMessage = Extract<
  ServerMessage,
  { type: "metrics" } | { type: "metrics-snapshot" } | { type: "metrics-unsubscribed" }
>;

/** Seconds of history the panel asks for and keeps: its charts' window. */
export const PANEL_HISTORY_S = 900;

/**
 * The page's side of the metrics subscription (DOM-free): subscribed only while the panel is open, so a page with
 * the panel closed costs the server nothing; subscribed again on every new socket (hello); the samples of the
 * last `historySeconds` in time order, older ones dropped.
 */
export class MetricsClient {
  private held: HostSample[] = [];
  private wanted = false;
  private subscribed = false;
  /** Whether the server samples host metrics (hello's `metrics`). */
  available = false;

  constructor(
    private readonly send: (message: ClientMessage) => boolean,
    private readonly onChange: () => void,
    readonly historySeconds = PANEL_HISTORY_S,
  ) {}

  get samples(): readonly HostSample[] {
    return this.held;
  }

  /** A new socket: nothing is subscribed on it yet. */
  onHello(metrics: { sources: string[] } | undefined): void {
    this.available = metrics?.sources.includes("host") ?? false;
    this.subscribed = false;
    if (this.wanted) this.subscribe();
    this.onChange();
  }

  setWanted(on: boolean): void {
    this.wanted = on;
    if (on) this.subscribe();
    else if (this.subscribed) {
      this.send({ type: "metrics-unsubscribe" });
      this.subscribed = false;
      this.held = [];
    }
  }

  onMessage(message: MetricsMessage): void {
    if (message.type === "metrics-snapshot") {
      if (message.source !== "host") return;
      this.held = [...message.minutes, ...message.seconds];
    } else if (message.type === "metrics") {
      if (message.source !== "host") return;
      const last = this.held[this.held.length - 1];
      if (last !== undefined && message.sample.t <= last.t) return;
      this.held.push(message.sample);
      const oldest = message.sample.t - this.historySeconds * 1000;
      let drop = 0;
      while (drop < this.held.length && (this.held[drop] as HostSample).t < oldest) drop++;
      if (drop > 0) this.held.splice(0, drop);
    } else return;
    this.onChange();
  }

  private subscribe(): void {
    if (this.subscribed || !this.available) return;
    this.subscribed = this.send({ type: "metrics-subscribe", history: this.historySeconds });
  }
}
