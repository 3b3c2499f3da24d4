import { BINARY_FRAMES, decodeBinaryLines } from "../protocol/lines-frame-binary.js";
import type { ClientMessage, ServerMessage } from "../protocol/messages.js";

/**
 * The one WebSocket to the server: connects, reconnects with exponential backoff and jitter (at once when the
 * tab becomes visible or the browser comes back online), measures round-trip time with protocol pings, treats
 * a silent socket as dead, and counts lines per second. What to subscribe to is the caller's business: it is
 * told about every message, including each new `hello`, and resumes from its own cursors. Subscriptions ask for
 * binary lines frames when the server offers them; they are decoded here into the same `lines` messages a JSON
 * frame gives, so callers see one kind.
 */

export type ConnectionState = "connecting" | "open" | "reconnecting" | "offline" | "closed";

export interface ConnectionStatus {
  state: ConnectionState;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** Failed attempts since the last successful connection. */
  attempt: number;
  /** Last heartbeat round trip in ms. */
  rttMs: number | null;
  /** Lines received per second over the last few seconds. */
  linesPerSec: number;
  /** When the last message arrived (epoch ms). */
  lastMessageAt: number | null;
  /** The server's name and version from its hello. */
  server: string | null;
  /** Why the last connection ended. */
  lastClose: string | null;
}

type SocketLike = Pick<WebSocket, "send" | "close" | "readyState"> & {
  /** Set to "arraybuffer" so binary lines frames arrive as bytes to decode at once (not as Blobs). */
  binaryType?: BinaryType | string;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
};

export interface ConnectionOptions {
  url: string;
  onMessage: (msg: ServerMessage) => void;
  onStatus?: (status: ConnectionStatus) => void;
  /** First retry delay; doubles per failed attempt up to maxDelayMs; each delay is jittered down by up to half. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How often to ping; a socket with no message for 3 intervals is considered dead. */
  pingIntervalMs?: number;
  createSocket?: (url: string) => SocketLike;
  random?: () => number;
  log?: (message: string) => void;
}

const OPEN = 1;

/**
 * Exponential backoff with "equal jitter": the step doubles per attempt up to max, and the wait is between half
 * the step and the step, so many clients dropped at once do not all come back in the same instant.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: number): number {
  const step = Math.min(maxMs, minMs * 2 ** attempt);
  return Math.round(step / 2 + (step / 2) * random);
}

export class Connection {
  private socket: SocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  /** The current server's hello offered binary lines frames (subscribes then ask for them). */
  private binaryFrames = false;
  private readonly rate: { at: number; n: number }[] = [];
  private readonly removers: (() => void)[] = [];
  private readonly opts: Required<Omit<ConnectionOptions, "onStatus">> & Pick<ConnectionOptions, "onStatus">;
  readonly status: ConnectionStatus = {
    state: "connecting",
    retryAt: null,
    attempt: 0,
    rttMs: null,
    linesPerSec: 0,
    lastMessageAt: null,
    server: null,
    lastClose: null,
  };

  constructor(options: ConnectionOptions) {
    this.opts = {
      minDelayMs: 500,
      maxDelayMs: 30_000,
      pingIntervalMs: 5_000,
      createSocket: (url) => new WebSocket(url),
      random: Math.random,
      log: (m) => console.info(`[livetrail] ${m}`),
      ...options,
    };
  }

  start(): void {
    if (typeof document !== "undefined") {
      this.listen(document, "visibilitychange", () => {
        if (document.visibilityState === "visible") this.reconnectNow("tab visible again");
      });
    }
    if (typeof window !== "undefined") {
      this.listen(window, "online", () => this.reconnectNow("browser back online"));
      this.listen(window, "offline", () => {
        // An open socket may well still work (a server on this machine or LAN): keep it; if the network is
        // really gone, the heartbeat drops it and the retry sees the browser offline. Marking it "offline" here
        // would let the "online" event open a second socket beside it.
        if (this.socket) {
          this.opts.log("browser offline: keeping the current connection while it answers");
          return;
        }
        this.opts.log("browser offline: waiting for the network");
        this.setState("offline");
        this.clearRetry();
      });
    }
    this.connect();
  }

  /** Sends if connected; returns false otherwise (the caller resends on the next hello). */
  send(msg: ClientMessage): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    const out: ClientMessage =
      msg.type === "subscribe" && this.binaryFrames && msg.frames === undefined
        ? { ...msg, frames: BINARY_FRAMES }
        : msg;
    this.socket.send(JSON.stringify(out));
    return true;
  }

  /** Skips the backoff wait (no-op while connected or connecting). */
  reconnectNow(why: string): void {
    if (this.closed || this.status.state === "open" || this.status.state === "connecting") return;
    this.opts.log(`${why}: reconnecting now`);
    this.clearRetry();
    this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearRetry();
    this.stopPing();
    for (const remove of this.removers.splice(0)) remove();
    this.dropSocket(1000, "page closed");
    this.setState("closed");
  }

  private connect(): void {
    if (this.closed) return;
    this.dropSocket(1000, "replaced by a new connection");
    this.setState("connecting");
    this.opts.log(`connecting to ${this.opts.url}`);
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch (e) {
      this.scheduleRetry(e instanceof Error ? e.message : String(e));
      return;
    }
    this.socket = socket;
    this.binaryFrames = false;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.opts.log("connected: live streaming active");
      this.setState("open");
      this.startPing();
    };
    socket.onmessage = (ev) => this.onData(ev.data);
    socket.onerror = () => {
      // The close event follows with the details; nothing to do here.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPing();
      const why = `code ${ev.code}${ev.reason ? ` (${ev.reason})` : ""}`;
      this.scheduleRetry(why);
    };
  }

  private onData(data: unknown): void {
    const now = Date.now();
    this.status.lastMessageAt = now;
    let msg: ServerMessage;
    if (data instanceof ArrayBuffer) {
      try {
        msg = decodeBinaryLines(new Uint8Array(data));
      } catch (error) {
        this.opts.log(`ignored a binary frame: ${(error as Error).message}`);
        return;
      }
    } else {
      try {
        msg = JSON.parse(String(data)) as ServerMessage;
      } catch {
        this.opts.log("ignored a frame that is not JSON");
        return;
      }
    }
    if (msg.type === "pong") {
      if (typeof msg.t === "number") this.status.rttMs = Math.max(0, Math.round(performance.now() - msg.t));
      this.emitStatus();
      return;
    }
    if (msg.type === "hello") {
      // Only a server that says hello counts as back: one that accepts and closes at once (shutting down)
      // keeps the backoff growing.
      this.status.attempt = 0;
      this.status.server = msg.server;
      this.binaryFrames = msg.frames?.includes(BINARY_FRAMES) ?? false;
      this.opts.log(
        `server ${msg.server} speaks protocol v${msg.v}; streams: ${msg.streams.map((s) => s.name).join(", ")}`,
      );
    } else if (msg.type === "lines") {
      this.countLines(now, msg.text.length);
    } else if (msg.type === "gap") {
      this.opts.log(
        `gap in ${msg.stream}: ${msg.reason}${msg.skipped !== undefined ? `, ${msg.skipped} lines` : ""}`,
      );
    } else if (msg.type === "error") {
      this.opts.log(`server error ${msg.code}: ${msg.message}`);
    }
    this.opts.onMessage(msg);
  }

  private countLines(now: number, n: number): void {
    const sec = Math.floor(now / 1000);
    const last = this.rate[this.rate.length - 1];
    if (last && last.at === sec) last.n += n;
    else this.rate.push({ at: sec, n });
    this.refreshRate(now);
  }

  private refreshRate(now: number): void {
    const window = 5;
    const oldest = Math.floor(now / 1000) - window;
    while (this.rate.length > 0 && (this.rate[0] as { at: number }).at <= oldest) this.rate.shift();
    const total = this.rate.reduce((sum, r) => sum + r.n, 0);
    this.status.linesPerSec = Math.round(total / window);
  }

  private startPing(): void {
    this.stopPing();
    const interval = this.opts.pingIntervalMs;
    const ping = () => {
      const now = Date.now();
      this.refreshRate(now);
      // No message for three intervals (our pings get pongs, so this is not a quiet log): the socket is dead.
      if (this.status.lastMessageAt !== null && now - this.status.lastMessageAt > 3 * interval) {
        this.opts.log("no answer to heartbeats: dropping the connection");
        this.dropSocket(4000, "heartbeat timeout");
        this.scheduleRetry("heartbeat timeout");
        return;
      }
      this.send({ type: "ping", t: performance.now() });
      this.emitStatus();
    };
    this.status.lastMessageAt = Date.now();
    ping();
    this.pingTimer = setInterval(ping, interval);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private scheduleRetry(why: string): void {
    if (this.closed) return;
    this.status.lastClose = why;
    this.clearRetry();
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.opts.log(`disconnected (${why}); offline, will reconnect when the network is back`);
      this.setState("offline");
      return;
    }
    const delay = backoffDelay(
      this.status.attempt,
      this.opts.minDelayMs,
      this.opts.maxDelayMs,
      this.opts.random(),
    );
    this.status.attempt++;
    this.status.retryAt = Date.now() + delay;
    this.opts.log(`disconnected (${why}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /**
   * Closes the current socket, if any, after detaching every handler: a socket left attached would keep
   * delivering its subscriptions beside its successor's, so every line would arrive twice.
   */
  private dropSocket(code: number, reason: string): void {
    const s = this.socket;
    this.socket = null;
    this.stopPing();
    if (!s) return;
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    // A no-op rather than null: closing a socket still connecting can report an error, which Node's `ws` would
    // throw if nothing listened.
    s.onerror = () => {};
    s.close(code, reason);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.status.retryAt = null;
  }

  private setState(state: ConnectionState): void {
    this.status.state = state;
    if (state !== "reconnecting") this.status.retryAt = null;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.opts.onStatus?.(this.status);
  }

  private listen(target: EventTarget, type: string, fn: () => void): void {
    target.addEventListener(type, fn);
    this.removers.push(() => target.removeEventListener(type, fn));
  }
}
