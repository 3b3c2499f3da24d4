import { choice, group, int, setting, toServer } from "./setting.js";

/** How lines are kept and delivered: memory budgets per stream and per client, timers. */
export const limits = group("Delivery and limits:", {
  maxLineBytes: setting({
    kind: int(),
    default: 1024 * 1024,
    flag: "--max-line-bytes",
    help: "longest line kept whole (longer ones are cut and marked)",
    apply: toServer("maxLineBytes"),
  }),
  windowLines: setting({
    kind: int({ min: 0 }),
    default: 5_000,
    flag: "--window-lines",
    help: "recent lines kept in memory per stream for instant catch-up",
    apply: toServer("windowLines"),
  }),
  windowBytes: setting({
    kind: int(),
    default: 8 * 1024 * 1024,
    flag: "--window-bytes",
    help: "bytes of recent lines kept in memory per stream",
    apply: toServer("windowBytes"),
  }),
  maxBufferedBytes: setting({
    kind: int(),
    default: 4 * 1024 * 1024,
    flag: "--max-buffered-bytes",
    help: "bytes queued for one client before live delivery to it stops",
    apply: toServer("maxBufferedBytes"),
  }),
  slowClients: setting({
    kind: choice(["catch-up", "gap"]),
    default: "catch-up",
    flag: "--slow-clients",
    help: "a client past --max-buffered-bytes: catch-up (missed lines once it drains) or gap",
    doc: '`"catch-up"`: a client that falls behind gets the missed lines once it drains; `"gap"`: it gets a gap message instead (docs/protocol.md, backpressure).',
    apply: toServer("slowClients"),
  }),
  maxFrameBytes: setting({
    kind: int(),
    default: 256 * 1024,
    flag: "--max-frame-bytes",
    help: "source bytes per lines frame",
    apply: toServer("maxFrameBytes"),
  }),
  heartbeatMs: setting({
    kind: int({ max: 20_000, unit: "ms" }),
    default: 15_000,
    flag: "--heartbeat-ms",
    help: "server ping interval; a client that misses a whole interval is dropped",
    apply: toServer("heartbeatMs"),
  }),
  catchUpChunkLines: setting({
    kind: int(),
    default: 5_000,
    flag: "--catch-up-chunk-lines",
    help: "lines per history read while a client catches up",
    apply: toServer("catchUpChunkLines"),
  }),
  searchTimeoutMs: setting({
    kind: int({ unit: "ms" }),
    default: 5_000,
    flag: "--search-timeout-ms",
    help: "search time limit",
    apply: toServer("searchTimeoutMs"),
  }),
  maxConcurrentSearches: setting({
    kind: int(),
    default: 2,
    flag: "--max-concurrent-searches",
    help: "searches at once; more get 503",
    apply: toServer("maxConcurrentSearches"),
  }),
  closeGraceMs: setting({
    kind: int({ unit: "ms" }),
    default: 2_000,
    flag: "--close-grace-ms",
    help: "how long shutdown waits for clients to complete the close handshake",
    apply: toServer("closeGraceMs"),
  }),
});
