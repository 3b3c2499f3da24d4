import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Digest } from "../../src/alerts/summary/digest.js";
import { type Receiver, startReceiver } from "../alerts/delivery/receiver.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer } from "../server/harness.js";
import { killStrays, runCli, withoutLivetrailEnv } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs();
const HOUR = 3_600_000;

/** `[time] message` stamped `hoursAgo` before now (to the second). */
function stamp(hoursAgo: number, message: string): string {
  const t = new Date(Date.now() - hoursAgo * HOUR).toISOString().replace(/\.\d{3}Z$/, "Z");
  return `[${t}] ${message}`;
}

/**
 * A log with known counts in the last 24 h: 30 health checks (ok, one shape), 6 repair failures (error, one
 * shape, numbers, IPs and UUIDs differ), 2 warnings, 1 info line and a continuation line without a stamp;
 * before the period: 5 errors and 3 ok lines that must not count.
 */
function knownLog(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) lines.push(stamp(48 - i, `ERROR: stale failure ${i}`));
  for (let i = 0; i < 3; i++) lines.push(stamp(30 - i, "OK: old pass"));
  for (let i = 0; i < 30; i++) lines.push(stamp(23 - i * 0.5, `OK: health check passed in ${10 + i}ms`));
  for (let i = 0; i < 6; i++) {
    lines.push(
      stamp(
        12 - i,
        `ERROR: repair job ${400 + i} failed on 10.0.0.${i} req=3f2a9c1e-1111-2222-3333-44445555666${i}`,
      ),
    );
  }
  lines.push(stamp(3, "WARN: disk at 91% on /dev/sda1"));
  lines.push(stamp(2, "WARN: disk at 93% on /dev/sda1"));
  lines.push(stamp(1, "Weekly self-heal: started"));
  lines.push("    at continuation (no stamp)");
  return lines;
}

async function writeLog(lines: string[], name = "audit.log"): Promise<string> {
  const dir = await tempDir();
  const path = dir.file(name);
  await writeFile(path, `${lines.join("\n")}\n`);
  return path;
}

function alertLine(kind: string, rule: string, status: "firing" | "resolved", hoursAgo: number): string {
  const at = new Date(Date.now() - hoursAgo * HOUR).toISOString();
  return stamp(
    hoursAgo,
    JSON.stringify({
      id: `${rule}-1`,
      rule,
      kind,
      severity: kind === "silence" ? "critical" : "warning",
      status,
      labels: { stream: "audit" },
      summary: `${rule} ${status}`,
      startsAt: at,
      endsAt: status === "resolved" ? at : null,
      count: 3,
      evidence: [],
    }),
  );
}

describe("livetrail summary", () => {
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
  });

  it("counts a known log's last 24 h by level, groups messages with their numbers masked", async () => {
    const file = await writeLog(knownLog());
    const result = await runCli(["summary", file, "--since", "24h", "--format", "json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const digest = JSON.parse(result.stdout) as Digest;
    expect(digest.lines).toBe(40);
    expect(digest.byLevel).toEqual({ error: 6, warn: 2, ok: 30, info: 2 });
    expect(digest.streams).toEqual([
      { stream: "audit.log", lines: 40, byLevel: { error: 6, warn: 2, ok: 30, info: 2 } },
    ]);
    expect(digest.top.slice(0, 3).map((m) => [m.count, m.template])).toEqual([
      [30, "OK: health check passed in <duration>"],
      [6, "ERROR: repair job <n> failed on <ip> req=<uuid>"],
      [2, "WARN: disk at <n>% on /dev/sda<n>"],
    ]);
    expect(digest.top[0]?.maxUndercount).toBe(0);
    expect(digest.firstError?.text).toContain("repair job 400 failed");
    expect(digest.lastError?.text).toContain("repair job 405 failed");
    expect(Date.parse(digest.firstError?.time ?? "")).toBeLessThan(Date.parse(digest.lastError?.time ?? ""));
    expect(digest.alerts).toBeNull();
    expect(Date.parse(digest.until) - Date.parse(digest.since)).toBe(24 * HOUR);
  });

  it("a shorter period counts only its lines", async () => {
    const file = await writeLog(knownLog());
    const result = await runCli(["summary", file, "--since", "150m", "--format", "json"]);
    const digest = JSON.parse(result.stdout) as Digest;
    // The second warning (2 h ago), the info line (1 h ago) and its continuation.
    expect(digest.byLevel).toEqual({ error: 0, warn: 1, ok: 0, info: 2 });
    expect(digest.firstError).toBeNull();
  });

  it("notes alerts fired and silences from the alerts stream's file", async () => {
    const file = await writeLog(knownLog());
    const alerts = await writeLog(
      [
        alertLine("rate", "old storm", "firing", 30),
        alertLine("rate", "repair failures", "firing", 11),
        alertLine("rate", "repair failures", "resolved", 6),
        alertLine("silence", "self-heal missing", "firing", 4),
        "not a notification",
      ],
      "alerts.log",
    );
    const result = await runCli(["summary", file, "--alerts", alerts, "--format", "json"]);
    const digest = JSON.parse(result.stdout) as Digest;
    expect(digest.alerts?.firedCount).toBe(2);
    expect(digest.alerts?.resolvedCount).toBe(1);
    expect(digest.alerts?.fired.map((a) => a.rule)).toEqual(["repair failures", "self-heal missing"]);
    expect(digest.alerts?.silences.map((a) => [a.rule, a.severity])).toEqual([
      ["self-heal missing", "critical"],
    ]);

    const text = await runCli(["summary", file, "--alerts", alerts]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("lines: 40 (error 6 · warn 2 · ok 30 · info 2)");
    expect(text.stdout).toContain(
      "\n  30  OK: health check passed in <duration>\n      e.g. OK: health check passed in 10ms\n",
    );
    expect(text.stdout).toContain("alerts fired: 2 (resolved: 1)");
    expect(text.stdout).toMatch(
      /silences: 1\n {2}\S+ self-heal missing \(critical, silence\): self-heal missing firing/,
    );
  });

  it("markdown: tables with the log's text escaped", async () => {
    const file = await writeLog([stamp(1, "ERROR: a | b `c` <d>")]);
    const result = await runCli(["summary", file, "--format", "markdown"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("| audit.log | 1 | 1 | 0 | 0 | 0 |");
    expect(result.stdout).toContain("| 1 | error | ERROR: a \\| b \\`c\\` \\<d\\> |");
  });

  it("reads a server's streams over HTTP with LIVETRAIL_TOKEN, the alerts stream included", async () => {
    const audit = await writeLog(knownLog());
    const other = await writeLog([stamp(5, "ERROR: other failed"), stamp(50, "ERROR: too old")], "other.log");
    const alerts = await writeLog([alertLine("silence", "health missing", "firing", 2)], "alerts.log");
    const token = "summary-test-read-token-0123456789";
    const server = await startServer(
      [
        { name: "audit", file: audit },
        { name: "other", file: other },
        { name: "alerts", file: alerts },
      ],
      { security: { readTokens: [token] } },
    );
    try {
      const refused = await runCli(["summary", "--url", server.url, "--format", "json"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("the server wants a token (set LIVETRAIL_TOKEN");

      const env = withoutLivetrailEnv({ LIVETRAIL_TOKEN: token });
      const result = await runCli(["summary", "--url", server.url, "--format", "json"], { env });
      expect(result.stderr).toBe("");
      const digest = JSON.parse(result.stdout) as Digest;
      expect(digest.streams.map((s) => [s.stream, s.lines, s.byLevel.error])).toEqual([
        ["audit", 40, 6],
        ["other", 1, 1],
      ]);
      expect(digest.byLevel).toEqual({ error: 7, warn: 2, ok: 30, info: 2 });
      expect(digest.alerts?.silences.map((a) => a.rule)).toEqual(["health missing"]);
      // Across streams, by time: the other stream's error (5 h ago) came after the last repair failure (7 h ago).
      expect(digest.firstError?.text).toContain("repair job 400");
      expect(digest.lastError).toMatchObject({ stream: "other" });

      const one = await runCli(["summary", "--url", server.url, "--stream", "other", "--format", "json"], {
        env,
      });
      expect((JSON.parse(one.stdout) as Digest).lines).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("--post sends the digest as JSON or as a Slack message", async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const file = await writeLog(knownLog());
    const json = await runCli(["summary", file, "--post", receiver.url]);
    expect(json.code).toBe(0);
    const body = JSON.parse(receiver.requests[0]?.body ?? "{}");
    expect(body).toMatchObject({ type: "livetrail.summary", lines: 40, byLevel: { error: 6 } });

    const slack = await runCli(["summary", file, "--post", receiver.url, "--post-format", "slack"]);
    expect(slack.code).toBe(0);
    const message = JSON.parse(receiver.requests[1]?.body ?? "{}");
    expect(message.text).toBe("livetrail summary: 40 lines, 6 errors");
    expect(message.blocks[0].text.text).toContain("OK: health check passed in &lt;duration&gt;");

    receiver.answers.push({ status: 500, body: "down" });
    const failed = await runCli(["summary", file, "--post", receiver.url]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("HTTP 500 Internal Server Error: down");
  });

  it.each([
    [["--since", "yesterday"], '--since needs a span (30m, 24h, 7d, 2w) or a past ISO time, got "yesterday"'],
    [["--format", "html"], '--format needs text, markdown or json, got "html"'],
    [["--stream", "x"], "--stream needs --url"],
    [["--post", "ftp://x"], '--post needs an http(s) URL, got "ftp://x"'],
  ])("usage errors exit 2: %j", async (args, message) => {
    const file = await writeLog(knownLog());
    const result = await runCli(["summary", file, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("a missing file exits 1", async () => {
    const dir = await tempDir();
    const result = await runCli(["summary", dir.file("nope.log")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nope.log: no such file");
  });
});
