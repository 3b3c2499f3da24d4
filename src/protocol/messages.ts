/**
 * The WebSocket protocol at `/ws` and the JSON shapes of the HTTP API, shared by the server and the web client
 * (types only; the error catalog is protocol/errors.ts). Described for humans in docs/protocol.md; keep both in step.
 */
import type { ErrorCode } from "./errors.js";

export const PROTOCOL_VERSION = 2;

export type Level = "error" | "warn" | "ok" | "info";

/** A line as the HTTP API and SSE carry it (WebSocket `lines` frames carry columns instead: LinesFrame). */
export interface WireLine {
  /** Per-stream sequence number (consecutive for consecutive lines; display only, see docs/protocol.md). */
  seq: number;
  /** The line text, never HTML. */
  text: string;
  /** Cursor after this line: resume from it to receive the next line. */
  c: string;
  /** ISO-8601 timestamp parsed from a `[...]` prefix, when present. */
  ts?: string;
  /** Level guessed from the text. Absent means "info". */
  level?: Exclude<Level, "info">;
  /** Present when the line was cut at the size limit: its real length in bytes. */
  trunc?: number;
  /** "stderr" when the source tells a process's output streams apart and the line came on stderr. */
  ch?: "stderr";
}

/** How a subscription's `lines` arrive: JSON text frames, or binary lines frames (docs/protocol.md). */
export type LinesFrames = "json" | "binary";

export interface StreamInfo {
  name: string;
  default: boolean;
  /**
   * What the stream's cursors promise. Cursors are opaque; `durable` says whether one still resumes after a server
   * restart (a file's do; a ring filled from stdin lives only as long as the server).
   */
  cursors: { durable: boolean };
  /**
   * The host the stream's lines come from (a file stream: `serve --host-label` or the server's host name; a Redis
   * stream: the label its agent registered). Display text, never trusted: the dashboard groups tabs by it.
   */
  host?: string;
  /** The stream's integrity (docs/integrity.md, "Serving and API"); absent when the server does not seal or serve it. */
  integrity?: IntegrityInfo;
  /** What the stream's source is, when it is more than a file or a pipe (a container); absent otherwise. */
  source?: StreamSourceInfo;
}

/** `hello`'s `streams[].source`: display text, never trusted. */
export interface StreamSourceInfo {
  /** What the stream is: "container" (serve --docker), "command" (NAME=cmd:... or sh:...). */
  kind: string;
  /** Its state when `hello` was sent, in the source's words: a container's running, exited, paused, removed... */
  state?: string;
  /** Something the user should know about the source (e.g. "the Docker Engine API ... is not reachable"). */
  note?: string;
}

/**
 * A stream's integrity as the server knows it: `sealed` (signed checkpoints exist; the log's lines up to
 * `verifiedTo` were checked against them), `tampered` (the file no longer matches what was sealed: `finding`
 * says how), `unsealed` (no sidecar yet; with a seal key the server starts one).
 */
export interface IntegrityInfo {
  status: "sealed" | "tampered" | "unsealed";
  /** Lines the newest signed checkpoint covers (its tree size). */
  sealedTo: number;
  /** Lines checked against the checkpoints (recomputed leaf hashes equal the sealed ones): 1..verifiedTo. */
  verifiedTo: number;
  /** The newest checkpoint's time (ISO, to the second), its root (base64) and origin line; null before the first. */
  checkpointTime: string | null;
  root: string | null;
  origin: string | null;
  /** What was found when `tampered`: e.g. "line 3001 (byte 261087) differs from the sealed line". */
  finding?: string;
  /** Whether this server seals the stream (serve --seal-key). */
  sealing: boolean;
  /**
   * Why a stream this server would seal is not (or no longer) sealed: no state directory for a ring's or Redis
   * stream's sidecar, or lines lost before the sealer saw them (a gap). Absent while sealing goes on.
   */
  sealingStopped?: string;
  /** The rotated file's final tree this file's history continues (livetrail-prev), when there is one. */
  prev?: { size: number; root: string };
}

// ---- client -> server ----
export type ClientMessage =
  | {
      type: "subscribe";
      stream: string;
      since?: string;
      tail?: number;
      id?: string;
      /** "binary": `lines` come as binary lines frames (protocol/lines-frame-binary.ts); default "json". */
      frames?: LinesFrames;
    }
  | { type: "unsubscribe"; stream: string; id?: string }
  | { type: "ping"; t?: number }
  /** Metrics samples from now on (docs/metrics.md), after a snapshot of the last `history` seconds (default 3600). */
  | { type: "metrics-subscribe"; history?: number; id?: string }
  | { type: "metrics-unsubscribe"; id?: string };

// ---- server -> client ----
export type GapReason = "file-changed" | "file-gone" | "truncated" | "restarted" | "trimmed" | "slow-client";

export type ServerMessage =
  | {
      type: "hello";
      v: number;
      server: string;
      streams: StreamInfo[];
      heartbeatMs: number;
      /** Present when the server samples metrics (a client may then send `metrics-subscribe`). */
      metrics?: { sources: string[]; intervalMs: number };
      /** The kinds of `lines` frames a subscribe may ask for (`frames`); absent from servers that have only JSON. */
      frames?: LinesFrames[];
    }
  /** Subscription accepted; `cursor` is where delivery starts (the `since` cursor, or null for "before the tail"). */
  | { type: "subscribed"; stream: string; id?: string; cursor: string | null }
  /**
   * Catch-up (tail or resume) is complete: every line after this is live. `cursor` is the position after the last
   * line delivered so far (null when the file does not exist yet). Sent once per subscription.
   */
  | { type: "live"; stream: string; cursor: string | null }
  | { type: "unsubscribed"; stream: string; id?: string }
  | LinesFrame
  | { type: "truncated"; stream: string; cursor: string }
  | { type: "rotated"; stream: string; cursor: string }
  /** The source started over (a stream that lives in memory was restarted); positions before do not compare. */
  | { type: "restarted"; stream: string; cursor: string }
  | { type: "missing"; stream: string }
  /**
   * A command stream's process exited after the line at `cursor`: its exit `code` or the `signal` that ended it;
   * it starts again in `restartInMs` ms (null: not restarted, the server is stopping).
   */
  | {
      type: "exited";
      stream: string;
      cursor: string;
      code: number | null;
      signal: string | null;
      restartInMs: number | null;
    }
  | {
      type: "gap";
      stream: string;
      reason: GapReason;
      /** Last cursor the client got (null when unknown). */
      from: string | null;
      /** Where delivery continues; lines between from and to can be fetched over HTTP while the file holds them. */
      to: string;
      /** Lines skipped, when known. */
      skipped?: number;
    }
  | { type: "error"; code: ErrorCode; message: string; id?: string; stream?: string }
  /** A stream's integrity changed (a new checkpoint, or the file found changed under the server). To every socket. */
  | { type: "integrity"; stream: string; integrity: IntegrityInfo }
  | { type: "pong"; t?: number }
  /** Sent once after `hello` when the server evaluates alert rules: what is firing now and the latest changes. */
  | { type: "alerts"; firing: WireAlert[]; recent: WireAlert[] }
  /** An alert changed state (fired or resolved), as it happens. */
  | { type: "alert"; alert: WireAlert }
  /**
   * The answer to `metrics-subscribe`, per source: its history, oldest first; `minutes` (one sample per minute)
   * reach back before `seconds` (one per interval). Sent again after the client drained when it fell behind.
   */
  | {
      type: "metrics-snapshot";
      source: "host";
      intervalMs: number;
      minutes: HostSample[];
      seconds: HostSample[];
    }
  | {
      type: "metrics-snapshot";
      source: "containers";
      intervalMs: number;
      minutes: ContainersSample[];
      seconds: ContainersSample[];
    }
  /** One new sample, every interval, to sockets that subscribed; a client past its queue budget skips some. */
  | { type: "metrics"; source: "host"; sample: HostSample }
  | { type: "metrics"; source: "containers"; sample: ContainersSample }
  | { type: "metrics-unsubscribed"; id?: string };

// ---- metrics (the `metrics` messages; docs/metrics.md) ----

/**
 * One sample of the host: rates over the interval that ends at `t`, levels at `t`. Other sources (per-container
 * CPU and memory from the Docker Engine API) add sample shapes of their own under another `source`.
 */
export interface HostSample {
  /** Unix time (ms) at the end of the interval (for a minute sample: the minute's start). */
  t: number;
  /** Share of all CPUs' time in each mode over the interval, in percent; `busy` is 100 - idle - iowait. */
  cpu: Record<"busy" | "user" | "nice" | "system" | "idle" | "iowait" | "irq" | "softirq" | "steal", number>;
  /** Bytes: `used` is total - available (MemAvailable: what new work can get without swapping). */
  mem: { total: number; available: number; used: number };
  /** The 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /**
   * Bytes per second read from and written to whole disks (partitions, loop and RAM devices left out), and the
   * used and free (to unprivileged users) bytes of the state or log directory's filesystem, when it can be read.
   */
  disk: { read: number; write: number; used?: number; free?: number };
  /** Bytes per second received and sent per network interface (lo left out; at most 16 interfaces). */
  net: Record<string, { rx: number; tx: number }>;
}

/** One container in a `containers` sample (docs/metrics.md, "Containers"). */
export interface ContainerMetrics {
  name: string;
  /** Share of one CPU over the interval (100 = one whole CPU; up to 100 × online CPUs), as `docker stats` shows. */
  cpuPercent: number;
  /** Memory used less the droppable page cache (inactive_file). */
  memoryBytes: number;
  /** The container's memory limit (the host's memory when it has none). */
  memoryLimitBytes: number;
}

/** A sample of the `containers` source: the running containers sampled that interval, by name. */
export interface ContainersSample {
  t: number;
  containers: ContainerMetrics[];
}

// ---- alerts (the `alert`/`alerts` messages and `GET /api/alerts`) ----

export type AlertSeverity = "info" | "warning" | "critical";

/** One line that made a rule fire: open the dashboard at it with `#stream=<stream>&line=<cursor>`. */
export interface WireAlertEvidence {
  stream: string;
  /** The line's text (at most ~1 KiB, cut with "…"), never HTML. */
  text: string;
  /** The entry's own time, when the line has one. */
  time: string | null;
  /** The cursor after the line (`GET /api/streams/NAME/line?cursor=` returns it whole). */
  cursor: string;
}

/** One alert notification (one change of state of one alert: a rule and its group). */
export interface WireAlert {
  /** Stable for one firing episode; its resolution repeats it. */
  id: string;
  rule: string;
  kind: "match" | "rate" | "anomaly" | "silence" | "source";
  severity: AlertSeverity;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  summary: string;
  startsAt: string;
  endsAt: string | null;
  count: number;
  /** The newest matching lines (bounded per rule), oldest first. */
  evidence: WireAlertEvidence[];
}

/**
 * Consecutive lines of one file, as columns: no object, cursor, timestamp or level per line, so the frame costs
 * little more than the text to build and to parse (see docs/protocol.md); timestamps and levels are derived from
 * the text, by the same rules (src/core/entry.ts) wherever they are needed. Line i has sequence number `seq + i`; its
 * cursor has the offset of the `cursor` field minus the sizes of the lines after it (lines-frame.ts derives it).
 */
export interface LinesFrame {
  type: "lines";
  stream: string;
  /** Sequence number of the first line; the others follow one by one. */
  seq: number;
  /** Cursor after the last line: resume from it to receive the next line. */
  cursor: string;
  /** Line texts, never HTML. */
  text: string[];
  /** Bytes each line occupies in the file, terminator included. */
  sizes: number[];
  /** Lines cut at the size limit, by line index: their real length in bytes. */
  trunc?: Record<number, number>;
  /** Lines that came on stderr (sources that tell a process's streams apart), by line index. */
  err?: number[];
  /** The source's own time of each line that has one apart from its text (Docker's `time`), by line index. */
  ts?: Record<number, string>;
}

// ---- HTTP API (JSON bodies) ----

/** `GET /api/streams` item. */
export interface StreamSummary {
  name: string;
  default: boolean;
  /** Current file size in bytes (0 when the file is missing). */
  size: number;
  /** Lines read by the server since it started following (the file may hold more). */
  lines: number;
  /** ISO time of the last change the server saw, null when none yet. */
  lastUpdate: string | null;
  /** Position after the last line read, null when the file does not exist. */
  cursor: string | null;
  /** Clients subscribed to this stream now (WebSocket and SSE). */
  clients: number;
}

/** `GET /api/streams/:name/lines` response. */
export interface LinesPage {
  stream: string;
  lines: WireLine[];
  /** Pass as `before=` to get the page before this one (position before the first line); null when empty. */
  before: string | null;
  /** Pass as `after=` to get the page after this one (position after the last line). */
  after: string | null;
  /** More lines exist in the direction read (`before` paging: older lines; else: newer lines). */
  more: boolean;
}

/** `GET /api/streams/:name/search` response. */
export interface SearchResult {
  stream: string;
  matches: WireLine[];
  /** True when `limit` matches were found before the end of the file (more may exist). */
  limited: boolean;
  /** True when the search was stopped at its time limit (pathological regex or huge file). */
  timedOut: boolean;
  /** Bytes of the file examined. */
  scannedBytes: number;
}

/**
 * `GET /api/streams/:name/count?after=C&before=C` response: the lines strictly after `after` and up to `before`
 * (either omitted: from the start / to the end), as a gap row tells them.
 */
export interface RangeCount {
  lines: number;
  errors: number;
  warnings: number;
  /** The first and last counted lines' times (null: none had one; `lastTime` also when the count was cut). */
  firstTime: string | null;
  lastTime: string | null;
  /** False when counting stopped at the time limit: the numbers are a lower bound. */
  exact: boolean;
}

/** `GET /api/alerts` response. */
export interface AlertsReport {
  /** False when the server has no alert rules configured (then everything else is empty). */
  enabled: boolean;
  /** Alerts firing now, newest first; each evidence line with `link`, the dashboard at that line. */
  firing: LinkedAlert[];
  /** The latest notifications (firing and resolved), newest first, each episode once in its latest state. */
  recent: LinkedAlert[];
  /** Webhook targets and their delivery counters. */
  targets: AlertTargetStatus[];
}

export interface LinkedAlert extends Omit<WireAlert, "evidence"> {
  evidence: (WireAlertEvidence & { link: string })[];
}

export interface AlertTargetStatus {
  name: string;
  format: "json" | "alertmanager" | "slack";
  /** Scheme and host only (a webhook path is often its credential). */
  url: string;
  queued: number;
  sent: number;
  failed: number;
  retried: number;
  dropped: number;
  coalesced: number;
  lastError: { at: string; message: string; status: number | null } | null;
  lastSentAt: string | null;
}

/** Every HTTP error body. */
export interface HttpError {
  error: string;
  message: string;
}
