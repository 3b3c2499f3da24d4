import { hostname } from "node:os";
import { basename } from "node:path";
import type { Command } from "commander";
import { parseRetention, type RetentionPolicy } from "../../ship/retention.js";
import type { ShipEvent } from "../../ship/shipper.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";

interface ShipFlags {
  redis: string;
  hostLabel: string;
  maxlen?: string;
  maxAge?: string;
  cluster?: boolean;
  sentinel?: string;
  pollInterval: string;
}

export function registerShip(program: Command): void {
  program
    .command("ship")
    .summary("ship log files to Redis Streams, exactly once")
    .description(
      "Follow each FILE like `livetrail tail -F` (rotation, truncation, deletion) and append every line to its " +
        "Redis stream (livetrail:{NAME}:lines) with its time, host label and file position. Shipping resumes from " +
        "the stream's newest entry, so a restart of the agent or of Redis neither loses nor doubles a line; a " +
        "file rotated or truncated while the agent was stopped gives a gap marker when lines were lost (a rotated " +
        "file still next to the path, e.g. FILE.1, is drained first). While Redis is unreachable the agent keeps " +
        "its place in each file and retries. NAME defaults to the file's base name.",
    )
    .argument("<streams...>", "FILE or NAME=FILE, one per stream")
    .requiredOption("--redis <url>", "Redis to ship to, e.g. redis://127.0.0.1:6379 (rediss:// for TLS)")
    .option("--cluster", "the --redis address is one node of a Redis Cluster")
    .option("--sentinel <name>", "the --redis address is a Sentinel: ship to the primary it names NAME")
    .option("--host-label <label>", "host label stored with each line", hostname())
    .option("--maxlen <n>", "keep about the newest N entries per stream (XTRIM MAXLEN ~)")
    .option("--max-age <duration>", "drop entries older than this, e.g. 7d, 12h (XTRIM MINID ~)")
    .option("--poll-interval <ms>", "fallback stat poll interval of the file follower", "1000")
    .addHelpText(
      "after",
      "\nTrimmed history reads as a gap on the server, not an error.\n" +
        "Exit status: 0 stopped by SIGINT/SIGTERM (what was read is sent first); 1 a stream cannot be shipped " +
        "(its newest entry is not livetrail's); 2 usage.",
    )
    .action(async (args: string[], flags: ShipFlags) => {
      const streams = streamsFromArgs(args);
      const retention = retentionFrom(flags);
      const pollIntervalMs = Number(flags.pollInterval);
      if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10)
        throw new CliError(
          `--poll-interval needs a whole number of milliseconds >= 10, got "${flags.pollInterval}"`,
          2,
        );
      const hostLabel = flags.hostLabel.trim();
      if (hostLabel === "" || hostLabel.length > 200 || /\p{Cc}/u.test(hostLabel))
        throw new CliError("--host-label must be 1-200 printable characters", 2);
      if (flags.cluster === true && flags.sentinel !== undefined)
        throw new CliError("use either --cluster or --sentinel, not both", 2);
      await ship(streams, {
        url: checkUrl(flags.redis),
        cluster: flags.cluster === true,
        ...(flags.sentinel === undefined ? {} : { sentinelName: flags.sentinel }),
        hostLabel,
        retention,
        pollIntervalMs,
      });
    });
}

interface ShipSettings {
  url: string;
  cluster: boolean;
  sentinelName?: string;
  hostLabel: string;
  retention: RetentionPolicy;
  pollIntervalMs: number;
}

async function ship(streams: { name: string; file: string }[], settings: ShipSettings): Promise<void> {
  // Loaded here: the Redis client is the heaviest module, and no other command needs it.
  const [{ connect }, { Shipper }] = await Promise.all([
    import("../../ship/redis-connection.js"),
    import("../../ship/shipper.js"),
  ]);
  const connection = connect(settings.url, {
    cluster: settings.cluster,
    ...(settings.sentinelName === undefined ? {} : { sentinelName: settings.sentinelName }),
  });
  const say = (text: string) => process.stderr.write(`livetrail ship: ${text}\n`);
  let down = false;
  let fatal = false;
  const report = (event: ShipEvent) => {
    switch (event.type) {
      case "unreachable":
        // Once per outage, whatever the number of streams and retries.
        // A reply error (OOM, READONLY after a failover, LOADING) is Redis answering "no", not a lost connection.
        if (!down)
          say(
            `${event.error.name === "ReplyError" ? "Redis refused to append" : "Redis unreachable"} at ${redacted(settings.url)} (${event.error.message}); keeping the place in each file, retrying`,
          );
        down = true;
        return;
      case "resumed":
        if (down) say(`Redis reachable again; catching up (${event.name} from line ${event.seq})`);
        down = false;
        return;
      case "behind":
        say(
          `${event.name}: Redis's newest entry is ${event.actual}, not ${event.expected} as appended: it lost acknowledged writes (restart without fsync?); shipping again from its newest entry`,
        );
        return;
      case "file":
        say(`${event.name}: ${event.message}`);
        return;
      case "fatal":
        fatal = true;
        say(`${event.name}: cannot ship: ${event.error.message}`);
        return;
    }
  };
  const shippers = streams.map(
    ({ name, file }) =>
      new Shipper({
        name,
        path: file,
        client: connection.client,
        hostLabel: settings.hostLabel,
        retention: settings.retention,
        pollIntervalMs: settings.pollIntervalMs,
        ready: () => connection.ready(3000),
        report,
      }),
  );
  connection.onLost((error) => {
    for (const shipper of shippers) shipper.connectionLost(error);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.all(shippers.map((s) => s.stop()));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await Promise.all(shippers.map((s) => s.run()));
  // A stream that cannot be shipped stops the agent: running on with the others would hide it.
  if (fatal && !stopping) await Promise.all(shippers.map((s) => s.stop()));
  await connection.close();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  if (fatal) throw new CliError("stopped: a stream cannot be shipped (see above)", 1);
}

/** The server's rule for stream names (serve NAME=FILE), so a shipped stream is served under the same name. */
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function streamsFromArgs(args: string[]): { name: string; file: string }[] {
  const used = new Set<string>();
  return args.map((arg) => {
    const eq = arg.indexOf("=");
    // NAME=FILE only when the part before "=" is a valid name (a path may contain "=").
    const named = eq > 0 && STREAM_NAME.test(arg.slice(0, eq));
    const file = resolveAuditFile(named ? arg.slice(eq + 1) : arg);
    const name = named ? arg.slice(0, eq) : nameOf(file);
    if (used.has(name)) throw new CliError(`stream name "${name}" is given twice (use NAME=FILE)`, 2);
    used.add(name);
    return { name, file };
  });
}

/** A stream name from a file's base name, reduced to the allowed characters (as `serve` does). */
function nameOf(file: string): string {
  const cleaned = basename(file)
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  return cleaned === "" ? "stream" : cleaned;
}

function retentionFrom(flags: ShipFlags): RetentionPolicy {
  try {
    return parseRetention({
      ...(flags.maxlen === undefined ? {} : { maxlen: flags.maxlen }),
      ...(flags.maxAge === undefined ? {} : { maxAge: flags.maxAge }),
    });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`--redis needs a URL such as redis://127.0.0.1:6379, got "${text}"`, 2);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new CliError(`--redis needs a redis:// or rediss:// URL, got "${text}"`, 2);
  return text;
}

/** The URL without its password, for messages. */
function redacted(text: string): string {
  const url = new URL(text);
  if (url.password !== "") url.password = "***";
  return url.toString();
}
