import type { RawData, WebSocket } from "ws";
import type { AlertNotification } from "../alerts/alert.js";
import { parseClientMessage } from "../protocol/client-message.js";
import { CloseCode, type ErrorCode } from "../protocol/errors.js";
import {
  type ClientMessage,
  type IntegrityInfo,
  PROTOCOL_VERSION,
  type ServerMessage,
  type StreamInfo,
} from "../protocol/messages.js";
import type { ServerAlerts } from "./alerts-wiring.js";
import { type DeliveryOptions, Subscription } from "./delivery/subscription.js";
import type { MetricsChannel } from "./metrics-feed.js";
import { MetricsDelivery } from "./metrics-feed-delivery.js";
import type { Streams } from "./streams.js";
import { WsConnection } from "./ws-connection.js";
import { WsSink } from "./ws-sink.js";

export interface WsSessionOptions {
  serverName: string;
  heartbeatMs: number;
  maxBufferedBytes: number;
  maxSubscriptions: number;
  delivery: DeliveryOptions;
  /** Called once when the socket is gone, so the server can forget the session. */
  onClose: (session: WsSession) => void;
  /** A client stopped answering pings and was dropped. */
  onHeartbeatTimeout: () => void;
  /** A stream's integrity for `hello` (undefined: the stream has none). */
  integrityOf?: (stream: string) => IntegrityInfo | undefined;
  /** With alert rules: every session gets an `alerts` snapshot after `hello`, then each `alert` as it happens. */
  alerts: ServerAlerts | null;
  /** Metrics sources a client may subscribe to (`metrics-subscribe`); empty: none. */
  metricsFeeds: readonly MetricsChannel[];
}

/**
 * One `/ws` client, the transport: parses its messages, holds its subscriptions (several streams on one socket,
 * which deliver the lines), answers the heartbeat. A bad message gets an error frame and the connection stays
 * usable.
 */
export class WsSession extends WsConnection {
  readonly transport = "ws" as const;
  private closed = false;
  private readonly subscriptions = new Map<string, Subscription>();
  /** JSON for everything; lines of subscriptions that asked for binary frames go through binarySink. */
  private readonly sink: WsSink;
  private binarySink: WsSink | null = null;
  private stopAlerts: (() => void) | null = null;
  private alertsBehind = false;
  /** Made on the first `metrics-subscribe`: sockets that never ask hold nothing for metrics. */
  private metrics: MetricsDelivery | null = null;

  constructor(
    ws: WebSocket,
    private readonly streams: Streams,
    private readonly options: WsSessionOptions,
  ) {
    super(ws, options.onHeartbeatTimeout);
    this.sink = this.newSink("json");
  }

  private binaryLinesSink(): WsSink {
    this.binarySink ??= this.newSink("binary");
    return this.binarySink;
  }

  private newSink(format: "json" | "binary"): WsSink {
    const ws = this.ws;
    return new WsSink(ws, format, this.options.maxBufferedBytes, () =>
      ws.close(CloseCode.slowClient, "slow client"),
    );
  }

  start(): void {
    this.ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on("close", () => this.dispose());
    const feeds = this.options.metricsFeeds;
    this.send({
      type: "hello",
      v: PROTOCOL_VERSION,
      server: this.options.serverName,
      ...(feeds.length === 0
        ? {}
        : { metrics: { sources: feeds.map((f) => f.name), intervalMs: feeds[0]?.intervalMs ?? 1000 } }),
      streams: this.streams.all().map((hub) => {
        const integrity = this.options.integrityOf?.(hub.name);
        const info: StreamInfo = { name: hub.name, default: hub.isDefault, cursors: hub.backend.cursors };
        if (hub.host !== undefined) info.host = hub.host;
        if (integrity !== undefined) info.integrity = integrity;
        const source = hub.backend.about?.();
        if (source !== undefined) info.source = source;
        return info;
      }),
      heartbeatMs: this.options.heartbeatMs,
      frames: ["json", "binary"],
    });
    const alerts = this.options.alerts;
    if (alerts !== null) {
      this.sendAlerts(alerts);
      // Rare and small (evidence is bounded), so every dashboard gets them; old clients ignore the type.
      this.stopAlerts = alerts.listen((alert) => this.onAlert(alerts, alert));
    }
  }

  private sendAlerts(alerts: ServerAlerts): void {
    const { firing, recent } = alerts.snapshot();
    this.send({ type: "alerts", firing, recent });
  }

  /**
   * A client backed up past its budget gets no more `alert` messages (they would pile up in its queue); once it
   * has drained, one fresh `alerts` snapshot stands for everything it missed.
   */
  private onAlert(alerts: ServerAlerts, alert: AlertNotification): void {
    if (this.alertsBehind) return;
    const data = JSON.stringify({ type: "alert", alert } satisfies ServerMessage);
    // The same budget lines frames keep to (send-budget.ts): it goes out only if the queue stays within it.
    const queued = this.sink.bufferedBytes();
    if (queued === 0 || queued + Buffer.byteLength(data) <= this.options.maxBufferedBytes) {
      this.sink.send(data);
      return;
    }
    this.alertsBehind = true;
    void this.sink.drained().then(() => {
      this.alertsBehind = false;
      if (!this.closed) this.sendAlerts(alerts);
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.markAlive();
    if (isBinary) {
      this.error("bad_message", "send JSON text frames, not binary");
      return;
    }
    const parsed = parseClientMessage(rawToString(data));
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message, parsed.id);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ClientMessage): void {
    switch (message.type) {
      case "ping":
        this.send(message.t === undefined ? { type: "pong" } : { type: "pong", t: message.t });
        return;
      case "subscribe": {
        const hub = this.streams.get(message.stream);
        if (hub === undefined) {
          this.error("unknown_stream", `no stream named "${message.stream}"`, message.id, message.stream);
          return;
        }
        if (this.subscriptions.has(hub.name)) {
          this.error("already_subscribed", `already subscribed to "${hub.name}"`, message.id, hub.name);
          return;
        }
        if (this.subscriptions.size >= this.options.maxSubscriptions) {
          this.error(
            "too_many_subscriptions",
            `at most ${this.options.maxSubscriptions} subscriptions per connection`,
            message.id,
            hub.name,
          );
          return;
        }
        if (message.since !== undefined) {
          try {
            hub.backend.check(message.since);
          } catch (error) {
            this.error("bad_cursor", (error as Error).message, message.id, hub.name);
            return;
          }
        }
        // Both sinks are the same socket (one queue, one budget); only how lines frames are sent differs.
        const sink = message.frames === "binary" ? this.binaryLinesSink() : this.sink;
        const subscription = new Subscription(hub, sink, {
          delivery: this.options.delivery,
          ...(message.id === undefined ? {} : { id: message.id }),
          onEnd: () => {
            if (this.subscriptions.get(hub.name) === subscription) this.subscriptions.delete(hub.name);
          },
        });
        this.subscriptions.set(hub.name, subscription);
        const request = message.since !== undefined ? { since: message.since } : { tail: message.tail ?? 0 };
        void subscription.start(request);
        return;
      }
      case "metrics-subscribe":
        if (this.options.metricsFeeds.length === 0) {
          this.error("metrics_off", "this server samples no metrics (serve --no-host-metrics)", message.id);
          return;
        }
        this.metrics ??= new MetricsDelivery(this.sink, this.options.metricsFeeds);
        this.metrics.subscribe(message.history);
        return;
      case "metrics-unsubscribe":
        this.metrics?.unsubscribe();
        this.send(
          message.id === undefined
            ? { type: "metrics-unsubscribed" }
            : { type: "metrics-unsubscribed", id: message.id },
        );
        return;
      case "unsubscribe": {
        const subscription = this.subscriptions.get(message.stream);
        if (subscription === undefined) {
          this.error("not_subscribed", `not subscribed to "${message.stream}"`, message.id, message.stream);
          return;
        }
        subscription.close();
        this.subscriptions.delete(message.stream);
        this.send(
          message.id === undefined
            ? { type: "unsubscribed", stream: message.stream }
            : { type: "unsubscribed", stream: message.stream, id: message.id },
        );
        return;
      }
    }
  }

  private error(code: ErrorCode, message: string, id?: string, stream?: string): void {
    const frame: ServerMessage = { type: "error", code, message };
    if (id !== undefined) frame.id = id;
    if (stream !== undefined) frame.stream = stream;
    this.send(frame);
  }

  private send(message: ServerMessage): void {
    this.sink.send(JSON.stringify(message));
  }

  /** A message for the whole socket, not one subscription (a stream's integrity changed). */
  notify(message: ServerMessage): void {
    if (!this.closed) this.send(message);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopAlerts?.();
    this.metrics?.unsubscribe();
    for (const subscription of this.subscriptions.values()) subscription.close();
    this.subscriptions.clear();
    this.options.onClose(this);
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
