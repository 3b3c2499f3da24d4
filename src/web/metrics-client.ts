import type { ClientMessage, ContainersSample, HostSample, ServerMessage } from "../protocol/messages.js";

/** The metrics messages (docs/protocol.md, "Metrics"). */
export type MetricsMessage = Extract<
  ServerMessage,
  { type: "metrics" } | { type: "metrics-snapshot" } | { type: "metrics-unsubscribed" }
>;

/** Seconds of history the panel asks for and keeps: its charts' window. */
export const PANEL_HISTORY_S = 900;

/**
 * The page's side of the metrics subscription (DOM-free): subscribed only while the panel is open, so a page with
 * the panel closed costs the server nothing; subscribed again on every new socket (hello); per source (`host`,
 * `containers`), the samples of the last `historySeconds` in time order, older ones dropped.
 */
export class MetricsClient {
  private held: HostSample[] = [];
  private heldContainers: ContainersSample[] = [];
  private wanted = false;
  private subscribed = false;
  /** Whether the server samples host metrics (hello's `metrics`). */
  available = false;
  /** Whether it samples per-container metrics (the Engine API answered). */
  containersAvailable = false;

  constructor(
    private readonly send: (message: ClientMessage) => boolean,
    private readonly onChange: () => void,
    readonly historySeconds = PANEL_HISTORY_S,
  ) {}

  get samples(): readonly HostSample[] {
    return this.held;
  }

  get containerSamples(): readonly ContainersSample[] {
    return this.heldContainers;
  }

  /** A new socket: nothing is subscribed on it yet. */
  onHello(metrics: { sources: string[] } | undefined): void {
    this.available = metrics?.sources.includes("host") ?? false;
    this.containersAvailable = metrics?.sources.includes("containers") ?? false;
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
      this.heldContainers = [];
    }
  }

  onMessage(message: MetricsMessage): void {
    if (message.type === "metrics-snapshot") {
      if (message.source === "host") this.held = [...message.minutes, ...message.seconds];
      else if (message.source === "containers")
        this.heldContainers = [...message.minutes, ...message.seconds];
      else return;
    } else if (message.type === "metrics") {
      if (message.source === "host") this.keep(this.held, message.sample);
      else if (message.source === "containers") this.keep(this.heldContainers, message.sample);
      else return;
    } else return;
    this.onChange();
  }

  /** Appends a newer sample and drops those older than the window. */
  private keep<S extends { t: number }>(held: S[], sample: S): void {
    const last = held[held.length - 1];
    if (last !== undefined && sample.t <= last.t) return;
    held.push(sample);
    const oldest = sample.t - this.historySeconds * 1000;
    let drop = 0;
    while (drop < held.length && (held[drop] as S).t < oldest) drop++;
    if (drop > 0) held.splice(0, drop);
  }

  private subscribe(): void {
    if (this.subscribed || !(this.available || this.containersAvailable)) return;
    this.subscribed = this.send({ type: "metrics-subscribe", history: this.historySeconds });
  }
}
