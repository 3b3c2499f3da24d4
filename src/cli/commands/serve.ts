import { hostname } from "node:os";
import { type Command, Option } from "commander";
import type { StreamSource } from "../../backend/backend.js";
import { joinSources } from "../../backend/joined-sources.js";
import { RingBackend } from "../../backend/ring/ring-backend.js";
import type { LivetrailServer } from "../../server/app.js";
import type { StreamSpec } from "../../server/options.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";
import { commandStreams, isCommandSpec, startOnDemand } from "../command-flags.js";
import { startDemo } from "../demo.js";
import { dockerFromSettings } from "../docker-flags.js";
import { globStreams } from "../glob-flags.js";
import { integrityFromSettings } from "../integrity-flags.js";
import { loggingFromLevel } from "../logging-flags.js";
import { missingFileWarnings } from "../missing-files.js";
import { addSecurityFiles } from "../security-flags.js";
import { applySettings } from "../settings/apply-settings.js";
import { type ConfigFile, readConfigFile } from "../settings/config-file.js";
import { type ResolvedSettings, resolveSettings, SettingsError } from "../settings/resolve-settings.js";
import { settingsHelp } from "../settings/settings-docs.js";
import { addSettingOptions, givenFlags } from "../settings/settings-options.js";
import { streamName } from "../settings/streams-config.js";
import { keepSelfSigned } from "../tls-state.js";

/** `serve`'s own options; every setting is in the settings table (src/cli/settings/). */
interface ServeFlags {
  config?: string;
  poll?: boolean;
  demo?: boolean;
}

const HELP = `
NAME
  livetrail serve - serve audit logs live to browsers

SYNOPSIS
  livetrail serve [options] [FILE | NAME=FILE | NAME=GLOB | NAME=DIR/ | NAME=- | NAME=cmd:ARGV | NAME=sh:STRING]...
  livetrail serve --redis URL [options] [NAME]...
  livetrail serve --demo

DESCRIPTION
  Follows each FILE (a stream, named NAME or after the file's base name; the first is the default stream) and
  serves the dashboard, a WebSocket feed, history and search over HTTP, and Server-Sent Events. Every appended
  line is read once and delivered to every subscribed client exactly once; a client that reconnects with its
  last cursor gets exactly the lines after it, also across server restarts.

  With no FILE: $LIVETRAIL_FILE, else ./status/AUTO_REPAIR_AUDIT.log. A file that does not exist yet is
  waited for.

  NAME=- (or -) makes a stream of standard input, e.g. journalctl -f | livetrail serve journal=-. Its lines
  are kept in memory, the newest --stdin-lines / --stdin-bytes of them: history, search and resume work within
  that ring; a client behind it gets a gap, and after a server restart its cursors resume with a gap.

  NAME=cmd:'ARGV' makes a stream of a command's output (stdout and stderr, stderr lines marked), run without a
  shell (ARGV split by shell quoting rules); NAME=sh:'STRING' runs STRING with /bin/sh -c. One process per
  stream, however many clients follow it, started at server start (--cmd-start demand: on the first subscriber),
  restarted with backoff when it exits (each exit is an "exited" event), stopped (SIGTERM, then SIGKILL) when the
  server stops. Its environment is PATH, HOME, LANG and the --cmd-env names only; its lines are kept in memory
  like stdin's (--cmd-lines / --cmd-bytes). See docs/sources.md.

  NAME='DIR/*.log' (quoted, wildcards in the file name only) or NAME=DIR/ makes a stream of every file that
  matches, now and later, named NAME.<file name>. A file is known by its identity, not its name: renamed within
  the glob it stays the same stream; rotated generations (x.log.1, x.log.2.gz, x.log-20261204) are left out.

  --host-label H names the host the file and stdin streams come from (default: this machine's host name); the
  dashboard groups streams by host and merges several into one view ordered by time.

  --redis URL serves Redis streams instead of files (docs/scale-out.md): every stream that \`livetrail ship\`
  agents register there, as they appear, and each NAME given (served from the start, the first the default).
  Any number of servers may serve the same Redis: cursors are the same on all of them, so a client resumes on
  another one with no gap and no duplicate. Appends through the HTTP API go to Redis. When Redis cannot be
  reached the server says so on stderr, keeps serving, and picks the streams up when Redis answers.

  --cluster: the --redis URL is one node of a Redis Cluster (the others are discovered; streams spread over
  its shards). --sentinel NAME: the --redis URL is a Sentinel; the server reads the primary it names NAME and
  follows failovers. The same flags as \`livetrail ship\`.

ENDPOINTS
  /                                    the dashboard (when built into dist/web)
  WS  /ws                              JSON protocol, see docs/protocol.md
  GET /api/streams                     streams with size, lines, last update
  GET /api/streams/NAME/lines          ?before=C | after=C|start | at=ISO-TIME, &limit=N
  GET /api/streams/NAME/search         ?q=TEXT&regex=0|1&case=0|1&limit=N
  GET /api/streams/NAME/line           ?cursor=C: one line, whole (pages show a long line's first 64 KiB)
  GET /api/streams/NAME/events         Server-Sent Events (Last-Event-ID resumes)
  GET /api/streams/NAME/checkpoint     integrity: the newest signed checkpoint (with witness cosignatures)
  GET /api/streams/NAME/proof/...      inclusion?line=N, consistency?from=M[&to=N]; also tile/L/N, bundle?from=&to=
  POST /api/streams/NAME/cosignature   a witness's cosigned checkpoint (see --witness-key, livetrail witness)
  GET /api/alerts                      firing and recent alerts with their evidence (see ALERTS)
  GET /api/audit, WS /ws/audit         the old dashboard's endpoints (default stream, raw text)
  GET /healthz, GET /metrics           health and Prometheus metrics
`;

/** After the generated SETTINGS and CONFIG FILE sections. */
const HELP_AFTER_SETTINGS = `
ALERTS
  With "alerts" in the config file every stream is checked against its rules as lines arrive; notifications go
  to the webhook targets, to the dashboard (banner, panel), to GET /api/alerts and to the "alerts" stream. With
  --state-dir (or "stateDir") the alerts stream is the file DIR/alerts.log and the rules' state (silence times,
  baselines) is kept in DIR/alerts-state.json across restarts; without it both live in memory.

SECURITY
  Listens on 127.0.0.1 by default, with no authentication unless tokens are given: --read-token/--write-token
  (or LIVETRAIL_READ_TOKENS / LIVETRAIL_WRITE_TOKENS, comma-separated, or --token-file), TLS with --tls-cert and
  --tls-key or --tls-self-signed, other WebSocket origins with --allow-origin, limits with --rate-limit and the
  --max-* flags. Write tokens enable POST /api/streams/NAME/entries. See docs/security.md and docs/deploy.md.

INTEGRITY
  --seal-key KEY (from livetrail keygen) seals every stream as it is served: a signed checkpoint every
  --seal-every-lines lines or --seal-every-ms after the first unsealed line. A file's sidecar is FILE.seal/;
  a stdin stream's (NAME=-) or a Redis stream's is DIR/seal/NAME.seal/ under --state-dir DIR, so without
  --state-dir those are not sealed (said at start). Their checkpoints name the source (ring:<run id>, a new
  chain each run; redis:<key>); lines lost before the sealer saw them (a gap) stop that stream's sealing. Without it, a file that has a
  sidecar (FILE.seal/) is still served and checked (--log-key PUB to check its signatures too). The dashboard
  shows each stream as sealed and verified to line N, tampered (with what changed) or unsealed, and raises an
  alarm when the history it saw before is rolled back. See docs/integrity.md.

SIGNALS
  SIGINT, SIGTERM   stop gracefully: clients get close code 1001 (going away) and reconnect elsewhere/later.
  SIGHUP            with --config: read the file's "alerts" again and apply its rules and targets (alerts that
                    stay firing keep firing); a config with errors is reported and the old rules are kept.
                    Other settings take a restart.

EXIT STATUS
  0 stopped by a signal; 1 could not start (port in use, unreadable config); 2 usage error.

EXAMPLES
  livetrail serve ./status/AUTO_REPAIR_AUDIT.log
  livetrail serve audit=/var/log/audit.log app=/var/log/app.log --port 9000
  livetrail serve --demo
  livetrail serve --redis redis://10.0.0.5:6379 --host 0.0.0.0 --token-file tokens.txt
  journalctl -f -o cat | livetrail serve journal=- audit=status/AUTO_REPAIR_AUDIT.log
`;

export function registerServe(program: Command): void {
  const serve = program
    .command("serve")
    .summary("serve audit logs live to browsers (dashboard, WebSocket, SSE, HTTP API)")
    .description("Follow log files and stream them to browsers. See below for endpoints and settings.")
    .argument("[streams...]", "FILE or NAME=FILE, one per stream (first = default)")
    .option("-c, --config <file>", "JSON file with the same settings (see CONFIG FILE)")
    .addOption(new Option("--poll", "same as --no-watch").hideHelp())
    .option("--demo", "serve a demo audit log that keeps growing (nothing to set up)");
  addSettingOptions(serve)
    .addHelpText("after", HELP + settingsHelp() + HELP_AFTER_SETTINGS)
    .action(async (args: string[], flags: ServeFlags, command: Command) => {
      const given = givenFlags(command);
      if (flags.poll === true) given.watch = false;
      const config = flags.config === undefined ? null : await readConfigFile(flags.config);
      const { values } = settingsOrUsageError(config, given);
      const { server: options, security } = applySettings(values);
      options.integrity = await integrityFromSettings(values);
      // A token file group or others may read is refused here unless --allow-insecure-token-file.
      await addSecurityFiles(security, values, { refuseInsecure: true });
      keepSelfSigned(options);
      // The CLI logs and samples the host by default; the library (createServer) does neither unless asked.
      Object.assign(options, loggingFromLevel(values.logLevel));
      if (values.hostMetrics) options.hostMetrics = {};

      let demo: Awaited<ReturnType<typeof startDemo>> | null = null;
      let stdin: RingBackend | null = null;
      let redisLabel: string | null = null;
      if (values.redis !== undefined) {
        if (flags.demo) throw new CliError("--demo serves its own file: give no --redis with it", 2);
        const { redisStreamSource } = await import("../redis-serve.js");
        const source = redisStreamSource(
          {
            url: values.redis,
            ...(values.cluster ? { cluster: true } : {}),
            ...(values.sentinel === undefined ? {} : { sentinelName: values.sentinel }),
          },
          args,
          values.maxLineBytes,
        );
        options.streams = [];
        options.streamSource = source.source;
        redisLabel = source.label;
      } else if (flags.demo) {
        if (args.length > 0) throw new CliError("--demo serves its own file: give no FILE with it", 2);
        demo = await startDemo();
        options.streams = [{ name: "audit", file: demo.file }];
      } else if (args.length > 0) {
        options.streams = streamsFromArgs(args, (name) => {
          stdin = new RingBackend(name, {
            maxLines: values.stdinLines,
            maxBytes: values.stdinBytes,
            maxLineBytes: values.maxLineBytes,
          });
          return stdin;
        });
      } else if (options.streams.length === 0 && !values.docker) {
        const file = resolveAuditFile();
        options.streams = [{ name: streamName(file), file }];
      }

      // File and stdin streams come from this machine; a config file's own "host" per stream wins.
      const host = values.hostLabel ?? hostname();
      options.streams = options.streams.map((s) => ({ ...s, host: s.host ?? host }));
      options.streams = commandStreams(options.streams, values, values.maxLineBytes);
      const { pollIntervalMs, watch, maxLineBytes } = values;
      const globbed = globStreams(options.streams, values.globRescanMs, {
        pollIntervalMs,
        watch,
        maxLineBytes,
      });
      options.streams = globbed.streams;
      const docker = await dockerFromSettings(values, {
        pollIntervalMs,
        watch,
        maxLineBytes,
        hostLabel: host,
        taken: options.streams.map((s) => s.name),
      });
      if (docker?.containerMetrics !== undefined) options.containerMetrics = docker.containerMetrics;
      // Streams found at run time: Redis's, a glob's files, Docker's containers.
      options.streamSource = joinSources(
        [options.streamSource, globbed.source, docker?.source].filter((s): s is StreamSource => s != null),
      );

      // Loaded here, not at the top: `livetrail log` and `tail` should not pay for loading the web server.
      const { createServer } = await import("../../server/app.js");
      let server: ReturnType<typeof createServer>;
      try {
        server = createServer(options);
      } catch (error) {
        await demo?.close();
        if (error instanceof TypeError) throw new CliError(error.message, 2);
        throw error;
      }
      if (stdin !== null) readStdinInto(stdin);
      const stopped = new Promise<string>((resolveSignal) => {
        process.once("SIGINT", () => resolveSignal("SIGINT"));
        process.once("SIGTERM", () => resolveSignal("SIGTERM"));
      });
      const configFile = flags.config;
      if (configFile !== undefined) process.on("SIGHUP", () => void reloadAlerts(server, configFile));
      try {
        const address = await server.listen();
        startOnDemand(server);
        if (!isLoopback(server.options.host) && !server.options.security.authRequired) {
          process.stderr.write(
            `livetrail: warning: listening on ${server.options.host} without authentication: anyone who can ` +
              "reach this port can read these logs\n",
          );
        }
        for (const warning of await missingFileWarnings(options.streams)) process.stderr.write(warning);
        const lineStreams =
          redisLabel !== null
            ? ["the Redis streams"]
            : options.streams.filter((s) => s.backend).map((s) => s.name);
        if (options.integrity?.sealKey !== undefined && lineStreams.length > 0) {
          process.stderr.write(
            options.stateDir === undefined
              ? `livetrail: warning: ${lineStreams.join(", ")} not sealed: a stream that is not a file keeps its sidecar under --state-dir (or "stateDir"), and none is given\n`
              : `livetrail: sealing ${lineStreams.join(", ")} from the lines served; sidecars in ${options.stateDir}/seal/\n`,
          );
        }
        const list =
          redisLabel !== null
            ? `the streams of Redis at ${redisLabel}`
            : [
                ...options.streams.map((s) => `${s.name}=${s.file ?? "-"}`),
                ...globbed.labels,
                ...(docker ? [docker.label] : []),
              ].join(", ");
        process.stdout.write(`livetrail: serving ${list} at ${address.url}\n`);
        const tls = server.options.security.tls;
        if (tls?.selfSigned) {
          const kept =
            tls.kept === null ? "" : ` (${tls.kept.reused ? "reused from" : "kept in"} ${tls.kept.certFile})`;
          process.stderr.write(`livetrail: self-signed certificate SHA-256 ${tls.fingerprint()}${kept}\n`);
        }
        const signal = await stopped;
        process.stderr.write(`livetrail: ${signal}: shutting down\n`);
      } catch (error) {
        // Only the socket's own errors are about the port: a state directory's EACCES names its path instead.
        const { code, syscall } = error as NodeJS.ErrnoException;
        if (syscall !== "listen") throw error;
        if (code === "EADDRINUSE") throw new CliError(`port ${options.port} is already in use`, 1);
        if (code === "EACCES") throw new CliError(`not allowed to listen on port ${options.port}`, 1);
        if (code === "EADDRNOTAVAIL") throw new CliError(`cannot listen on address ${options.host}`, 1);
        throw error;
      } finally {
        await server.close();
        await demo?.close();
        // A stdin stream that never ended must not keep the process alive after the server stopped.
        if (stdin !== null) process.stdin.destroy();
      }
    });
}

/** The settings from flags, environment and the config file; any problem is a usage error (exit 2), all listed. */
function settingsOrUsageError(config: ConfigFile | null, flags: Record<string, unknown>): ResolvedSettings {
  try {
    return resolveSettings({ flags, env: process.env, config });
  } catch (error) {
    if (error instanceof SettingsError) throw new CliError(error.problems.join("\nlivetrail: "), 2);
    throw error;
  }
}

/** SIGHUP: the config file's alerts again; on any error the rules in force stay. */
async function reloadAlerts(server: LivetrailServer, path: string): Promise<void> {
  try {
    const config = await readConfigFile(path);
    const { alerts } = resolveSettings({ env: process.env, config }).values;
    if (server.alerts === null) {
      process.stderr.write("livetrail: SIGHUP: the server started without alerts; restart to add them\n");
      return;
    }
    if (alerts === undefined) {
      process.stderr.write(
        `livetrail: SIGHUP: --config ${path} has no "alerts" any more; keeping the old rules\n`,
      );
      return;
    }
    server.alerts.reload(alerts);
    process.stderr.write(`livetrail: SIGHUP: reloaded ${alerts.rules.length} alert rules from ${path}\n`);
  } catch (error) {
    const problems =
      error instanceof SettingsError
        ? error.problems
        : [error instanceof CliError ? error.message : String(error)];
    for (const problem of problems) process.stderr.write(`livetrail: SIGHUP: ${problem}\n`);
    process.stderr.write("livetrail: SIGHUP: keeping the old alert rules\n");
  }
}

function streamsFromArgs(args: string[], stdin: (name: string) => RingBackend): StreamSpec[] {
  const streams: StreamSpec[] = [];
  const used = new Set<string>();
  let stdinUsed = false;
  for (const arg of args) {
    const eq = arg.indexOf("=");
    // NAME=FILE only when the part before "=" is a valid name (a path may contain "=").
    const named = eq > 0 && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(arg.slice(0, eq));
    const given = named ? arg.slice(eq + 1) : arg;
    if (given === "-") {
      if (stdinUsed) throw new CliError("standard input (-) can feed one stream only", 2);
      stdinUsed = true;
      const name = named ? arg.slice(0, eq) : "stdin";
      if (used.has(name)) throw new CliError(`stream name "${name}" is given twice`, 2);
      used.add(name);
      streams.push({ name, backend: stdin(name) });
      continue;
    }
    const file = isCommandSpec(given) ? given : resolveAuditFile(given);
    let name = named ? arg.slice(0, eq) : streamName(file);
    if (used.has(name)) {
      if (named) throw new CliError(`stream name "${name}" is given twice`, 2);
      let n = 2;
      while (used.has(`${name}-${n}`)) n++;
      name = `${name}-${n}`;
    }
    used.add(name);
    streams.push({ name, file });
  }
  return streams;
}

/** Feeds standard input to the ring as it arrives; its end leaves the lines served (a last partial one too). */
function readStdinInto(ring: RingBackend): void {
  process.stdin.on("data", (chunk: Buffer) => ring.write(chunk));
  process.stdin.once("end", () => ring.end());
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
