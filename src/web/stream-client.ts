import { frameLines, samePosition } from "../protocol/lines-frame.js";
import type { ServerMessage, StreamInfo } from "../protocol/messages.js";
import { Connection, type ConnectionOptions, type ConnectionStatus } from "./connection.js";
import { exitedText } from "./exit-marker.js";
import type { StreamStore } from "./store.js";

/**
 * The live side of the page without the page: one Connection, a store per stream it is told about, and the
 * per-stream protocol around them: subscribe on every hello (resuming after the last line each store holds, or
 * asking for the tail the first time), put lines, gaps and markers into the store, drop a repeated boundary line,
 * and start a stream over when the server cannot read its cursor. No DOM: it runs under Node with a `ws` socket.
 */

/** What the client keeps per stream: its store and where its delivery stands (a StreamTab fits). */
export interface FeedTarget {
  readonly name: string;
  readonly store: StreamStore;
  /** Catch-up done on the current socket. */
  live: boolean;
  /** The server says the stream's file does not exist (yet). */
  missing: boolean;
}

/** The messages about one stream's delivery (lines, its catch-up, gaps and markers). */
type StreamMessage = Extract<
  ServerMessage,
  { type: "lines" | "live" | "gap" | "truncated" | "rotated" | "restarted" | "exited" | "missing" }
>;

export interface StreamClientHooks<T extends FeedTarget = FeedTarget> {
  /**
   * A (new) hello, before the client subscribes: the place to `add` the streams the page did not know yet
   * (streams not added are not subscribed).
   */
  hello(streams: StreamInfo[], msg: Extract<ServerMessage, { type: "hello" }>): void;
  /** `count` new rows went into a stream's store; `news` when they are live (not the first tail). */
  lines(target: T, count: number, news: boolean): void;
  /** A stream's catch-up is done on this socket. */
  live(target: T): void;
  /** A stream's file is missing. */
  missing(target: T): void;
  /** A gap or marker row went into a stream's store. */
  gap(target: T): void;
  /** Messages that are not a stream's lines (metrics, alerts, integrity, errors). */
  message(msg: ServerMessage): void;
  status(status: ConnectionStatus): void;
}

export interface StreamClientOptions<T extends FeedTarget = FeedTarget>
  extends Pick<
    ConnectionOptions,
    "url" | "createSocket" | "minDelayMs" | "maxDelayMs" | "pingIntervalMs" | "log"
  > {
  /** Lines asked for on a stream's first subscribe. */
  tail: number;
  hooks: StreamClientHooks<T>;
}

export class StreamClient<T extends FeedTarget = FeedTarget> {
  private readonly targets = new Map<string, T>();
  private readonly conn: Connection;
  private readonly hooks: StreamClientHooks<T>;
  private readonly tail: number;

  constructor(options: StreamClientOptions<T>) {
    const { tail, hooks, ...conn } = options;
    this.tail = tail;
    this.hooks = hooks;
    this.conn = new Connection({
      ...conn,
      onMessage: (msg) => this.onMessage(msg),
      onStatus: (s) => {
        if (s.state !== "open") for (const t of this.targets.values()) t.live = false;
        this.hooks.status(s);
      },
    });
  }

  get status(): ConnectionStatus {
    return this.conn.status;
  }

  /** Starts delivering to `target` from the next hello on (call it from `hooks.hello` to be subscribed at once). */
  add(target: T): void {
    this.targets.set(target.name, target);
  }

  get(name: string): T | undefined {
    return this.targets.get(name);
  }

  start(): void {
    this.conn.start();
  }

  /** Sends a message on the current socket (false when not connected: nothing is queued). */
  send(msg: Parameters<Connection["send"]>[0]): boolean {
    return this.conn.send(msg);
  }

  close(): void {
    this.conn.close();
  }

  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "hello":
        this.hooks.hello(msg.streams, msg);
        this.subscribeAll();
        return;
      case "error":
        this.hooks.message(msg);
        if (msg.code === "bad_cursor" && msg.stream) this.restart(msg.stream);
        return;
      case "lines":
      case "live":
      case "gap":
      case "truncated":
      case "rotated":
      case "restarted":
      case "exited":
      case "missing":
        this.onStream(msg);
        return;
      default:
        this.hooks.message(msg);
    }
  }

  /** A new socket: (re)subscribe every stream, resuming after the last line each one holds. */
  private subscribeAll(): void {
    for (const t of this.targets.values()) {
      const since = t.store.resumeCursor;
      this.conn.send(
        since !== null
          ? { type: "subscribe", stream: t.name, since }
          : { type: "subscribe", stream: t.name, tail: Math.min(this.tail, t.store.cap) },
      );
    }
  }

  /**
   * The server cannot read our resume cursor (e.g. a cursor format from another version): start the stream
   * over from its tail rather than show nothing. What was held is dropped, so nothing shows twice.
   */
  private restart(name: string): void {
    const t = this.targets.get(name);
    if (!t) return;
    t.store.clear();
    t.store.resumeCursor = null;
    this.conn.send({ type: "subscribe", stream: name, tail: Math.min(this.tail, t.store.cap) });
  }

  private onStream(msg: StreamMessage): void {
    const t = this.targets.get(msg.stream);
    if (!t) return;
    const s = t.store;
    switch (msg.type) {
      case "live":
        t.live = true;
        // An empty file delivers no line to take the resume cursor from; without this one a reconnect would ask
        // for the tail again and silently miss whatever was written beyond it meanwhile. (A missing file has no
        // cursor yet: null.)
        if (s.resumeCursor === null && msg.cursor !== null) s.resumeCursor = msg.cursor;
        this.hooks.live(t);
        return;
      case "lines": {
        const lines = frameLines(msg);
        // The protocol resumes exactly after our cursor; this only guards against a repeated boundary line.
        const first = lines[0];
        const fresh = first && samePosition(first.c, s.resumeCursor) ? lines.slice(1) : lines;
        if (fresh.length === 0) return;
        t.missing = false;
        // The first tail of a stream is what was there, not news; lines after it (live or resumed) are.
        const news = t.live || s.resumeCursor !== null;
        s.appendLive(fresh);
        this.hooks.lines(t, fresh.length, news);
        return;
      }
      case "gap":
        s.appendGap({ from: msg.from, to: msg.to, skipped: msg.skipped, reason: msg.reason });
        this.hooks.gap(t);
        return;
      case "truncated":
      case "rotated":
      case "restarted":
        s.appendGap({ from: msg.cursor, to: msg.cursor, reason: `marker-${msg.type}`, unavailable: true });
        this.hooks.gap(t);
        return;
      case "exited":
        s.appendGap({
          from: msg.cursor,
          to: msg.cursor,
          reason: "marker-exited",
          unavailable: true,
          note: exitedText(msg),
        });
        this.hooks.gap(t);
        return;
      case "missing":
        t.missing = true;
        this.hooks.missing(t);
        return;
    }
  }
}
