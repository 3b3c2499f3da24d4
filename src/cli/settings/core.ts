import { LOG_LEVELS, type LogLevel } from "../../server/logging/log-level.js";
import { bool, choice, group, int, optional, path, setting, text, toServer } from "./setting.js";

/** Where `serve` listens, how it notices file changes, what it logs and samples of itself. */
export const core = group("Server:", {
  host: setting({
    kind: text({
      arg: "<address>",
      describe: "an address or host name",
      samples: ["127.0.0.2", "127.0.0.3", "::1"],
    }),
    default: "127.0.0.1",
    flag: "--host",
    short: "-H",
    help: "address to listen on",
    doc: "Address to listen on. Anything but loopback without tokens is warned about (docs/security.md).",
    apply: toServer("host"),
  }),
  port: setting({
    kind: int({ min: 0, max: 65535, arg: "<port>" }),
    default: 8080,
    flag: "--port",
    short: "-p",
    help: "TCP port (0: any free port)",
    apply: toServer("port"),
  }),
  pollIntervalMs: setting({
    kind: int({ min: 10, max: 9_999_999, unit: "ms" }),
    default: 1000,
    flag: "--poll-interval",
    help: "fallback stat poll interval in milliseconds",
    doc: "How often each file is looked at (stat) besides change events; with `watch` off, the only way changes are seen.",
    apply: toServer("pollIntervalMs"),
  }),
  watch: setting({
    kind: bool,
    default: true,
    flag: "--watch",
    negate: true,
    help: "do not use file change events; find changes by polling only",
    doc: "Use file change events (fs.watch) as well as polling. `--no-watch` (or the hidden `--poll`) turns them off, e.g. on network file systems.",
    apply: toServer("watch"),
  }),
  staticDir: optional<string>({
    kind: path({ arg: "<dir>", describe: "a directory" }),
    defaultText: "the built dashboard (dist/web)",
    flag: "--static-dir",
    help: "serve this built dashboard at / instead of the bundled one",
    apply: toServer("staticDir"),
  }),
  stateDir: optional<string>({
    kind: path({ arg: "<dir>", describe: "a directory" }),
    defaultText: "none: kept in memory",
    flag: "--state-dir",
    help: "keep the alerts stream, the alert rules' state and non-file seals in this directory",
    doc: "Directory for state kept across restarts: the alerts stream (alerts.log), the alert rules' state, and the seal sidecars of streams that are not files. Made if missing.",
    apply: toServer("stateDir"),
  }),
  // No `apply`: serve logs and samples where the library does not by default (serve.ts sets them).
  logLevel: setting<LogLevel>({
    kind: choice(LOG_LEVELS),
    default: "info",
    flag: "--log-level",
    help: "server log on stderr: one line per request and per session",
    doc: "The server's own log on stderr (docs/operations.md): the least severe level written; one line per HTTP request and per WebSocket/SSE session at `info`. Readable text on a terminal, JSON lines otherwise.",
  }),
  hostMetrics: setting({
    kind: bool,
    default: true,
    flag: "--host-metrics",
    negate: true,
    help: "do not sample the host's CPU, memory, load, disk and network (/proc) for the dashboard and /metrics",
    doc: "Sample the host's CPU, memory, load, disk and network (/proc) every second for the dashboard's metrics panel and `livetrail_host_*` on /metrics (docs/metrics.md). `--no-host-metrics` turns it off.",
  }),
});
