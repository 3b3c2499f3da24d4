import type { Command } from "commander";
import { DigestBuilder } from "../../alerts/summary/digest.js";
import {
  fileSource,
  httpSource,
  type LineSource,
  readPeriod,
  SummaryReadError,
} from "../../alerts/summary/line-source.js";
import { parseSince } from "../../alerts/summary/period.js";
import { type PostFormat, postDigest } from "../../alerts/summary/post.js";
import { type DigestFormat, renderDigest } from "../../alerts/summary/render.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";

interface SummaryOptions {
  since: string;
  url?: string;
  stream?: string;
  alerts?: string;
  format: string;
  top: string;
  post?: string;
  postFormat?: string;
}

const FORMATS: readonly DigestFormat[] = ["text", "markdown", "json"];

export function registerSummary(program: Command): void {
  program
    .command("summary")
    .summary("digest of a period: counts, top messages, errors, alerts")
    .description(
      "Summarises the lines of a period: counts by level and by stream, the most frequent messages grouped by " +
        "shape (numbers, ids, hex, UUIDs, durations, IPs and times masked), the first and last error, and the " +
        "alerts fired and silences (from the alerts stream, when there is one). Reads FILE (default " +
        "$LIVETRAIL_FILE, else ./status/AUTO_REPAIR_AUDIT.log) from the period's first line on, or a running " +
        "server's HTTP API with --url (token from $LIVETRAIL_TOKEN). For cron or a systemd timer: see " +
        "docs/alerts.md, Summary.",
    )
    .argument("[file]", "log file to summarise")
    .option(
      "--since <when>",
      "start of the period: a span back from now (30m, 24h, 7d, 2w) or an ISO time",
      "24h",
    )
    .option("--url <url>", "read a livetrail server's streams instead of a file")
    .option("--stream <name>", "with --url: only this stream")
    .option("--alerts <file>", "without --url: the file of the alerts stream")
    .option("--format <format>", "text, markdown or json", "text")
    .option("--top <n>", "how many messages to list", "10")
    .option("--post <url>", "also POST the digest to this webhook")
    .option("--post-format <format>", "json or slack (default: slack for hooks.slack.com, else json)")
    .addHelpText("after", "\nExit status: 0 done; 1 the log could not be read or the post failed; 2 usage.")
    .action(async (fileArg: string | undefined, options: SummaryOptions) => {
      const nowMs = Date.now();
      const sinceMs = parseSince(options.since, nowMs);
      if (sinceMs === null) {
        throw new CliError(
          `--since needs a span (30m, 24h, 7d, 2w) or a past ISO time, got "${options.since}"`,
          2,
        );
      }
      const format = options.format as DigestFormat;
      if (!FORMATS.includes(format))
        throw new CliError(`--format needs text, markdown or json, got "${options.format}"`, 2);
      const top = Number(options.top);
      if (!/^\d{1,3}$/.test(options.top) || top < 1)
        throw new CliError(`--top needs a number 1..999, got "${options.top}"`, 2);
      const postFormat =
        options.post === undefined ? null : choosePostFormat(options.post, options.postFormat);

      const builder = new DigestBuilder({ sinceMs, untilMs: nowMs, topN: top });
      let source: LineSource;
      if (options.url !== undefined) {
        if (fileArg !== undefined) throw new CliError("give either FILE or --url, not both", 2);
        if (options.alerts !== undefined)
          throw new CliError("--alerts is for files; --url reads the server's alerts stream", 2);
        if (!/^https?:\/\//.test(options.url))
          throw new CliError(`--url needs an http(s) URL, got "${options.url}"`, 2);
        const token = process.env.LIVETRAIL_TOKEN?.trim() || null;
        source = httpSource(options.url, token, options.stream ?? null);
      } else {
        if (options.stream !== undefined) throw new CliError("--stream needs --url", 2);
        const file = resolveAuditFile(fileArg);
        source = fileSource(file, options.alerts === undefined ? null : resolveAuditFile(options.alerts));
      }
      let missing: string[];
      try {
        ({ missing } = await readPeriod(source, sinceMs, builder));
      } catch (error) {
        if (error instanceof SummaryReadError) throw new CliError(error.message, 1);
        throw error;
      }
      if (options.url === undefined && missing.length > 0) {
        throw new CliError(`${resolveAuditFile(fileArg)}: no such file`, 1);
      }
      for (const stream of missing)
        process.stderr.write(`livetrail: stream ${stream}: its file does not exist\n`);
      const digest = builder.result();
      process.stdout.write(renderDigest(digest, format));
      if (options.post !== undefined && postFormat !== null) {
        const result = await postDigest(options.post, digest, postFormat);
        if (!result.ok) throw new CliError(`--post ${new URL(options.post).host}: ${result.error}`, 1);
      }
    });
}

function choosePostFormat(url: string, given: string | undefined): PostFormat {
  let host: string;
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http");
    host = u.hostname;
  } catch {
    throw new CliError(`--post needs an http(s) URL, got "${url}"`, 2);
  }
  if (given === undefined) return host === "hooks.slack.com" ? "slack" : "json";
  if (given !== "json" && given !== "slack")
    throw new CliError(`--post-format needs json or slack, got "${given}"`, 2);
  return given;
}
