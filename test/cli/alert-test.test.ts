import { createHmac } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "../alerts/delivery/receiver.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { killStrays, runCli } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs();
const SECRET = `whsec_${Buffer.from("alert test secret of 32 bytes!!!").toString("base64")}`;

describe("livetrail alert test", () => {
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
  });

  async function config(alerts: unknown): Promise<string> {
    const dir = await tempDir();
    const path = dir.file("livetrail.json");
    await writeFile(path, JSON.stringify({ streams: { audit: "audit.log" }, alerts }));
    return path;
  }

  it("sends the rule's notification once to every target and prints each answer", async () => {
    const ok = await startReceiver();
    const slack = await startReceiver();
    const broken = await startReceiver();
    receivers.push(ok, slack, broken);
    slack.answers.push({ status: 200, body: "ok" });
    broken.answers.push({ status: 400, body: "invalid_payload" });
    const path = await config({
      dashboardUrl: "https://logs.example.com",
      rules: [
        { name: "other", kind: "match", pattern: "x" },
        {
          name: "self-heal missing",
          kind: "silence",
          severity: "critical",
          pattern: "passed",
          period: "8d",
          streams: ["audit"],
        },
      ],
      targets: [
        { name: "generic", url: ok.url, format: "json", secret: SECRET },
        { name: "chat", url: slack.url, format: "slack" },
        { name: "bad", url: broken.url, format: "alertmanager" },
      ],
    });
    const result = await runCli(["alert", "test", "self-heal missing", "--config", path]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^generic \(json, http:\/\/127\.0\.0\.1:\d+\/…\): 200 ok$/),
      expect.stringMatching(/^chat \(slack, http:\/\/127\.0\.0\.1:\d+\/…\): 200 ok$/),
      expect.stringMatching(
        /^bad \(alertmanager, http:\/\/127\.0\.0\.1:\d+\/…\): FAILED HTTP 400 Bad Request: invalid_payload$/,
      ),
    ]);
    expect(result.stderr).toBe("livetrail: 1 of 3 targets failed\n");
    // Once each, no retry of the 400.
    expect([ok, slack, broken].map((r) => r.requests.length)).toEqual([1, 1, 1]);

    const generic = ok.requests[0];
    const body = JSON.parse(generic?.body ?? "{}");
    expect(body).toMatchObject({
      rule: "self-heal missing",
      kind: "silence",
      severity: "critical",
      status: "firing",
      labels: { stream: "audit", test: "true" },
      evidence: [],
      links: [],
    });
    const h = generic?.headers ?? {};
    const mac = createHmac("sha256", Buffer.from(SECRET.slice("whsec_".length), "base64"))
      .update(`${h["webhook-id"]}.${h["webhook-timestamp"]}.${generic?.body}`)
      .digest("base64");
    expect(h["webhook-signature"]).toBe(`v1,${mac}`);
    expect(JSON.parse(slack.requests[0]?.body ?? "{}").text).toMatch(
      /^\[FIRING\] self-heal missing \(critical\)/,
    );
    expect(JSON.parse(broken.requests[0]?.body ?? "[]")[0].labels).toMatchObject({
      alertname: "self-heal missing",
      test: "true",
    });
  });

  it("exits 0 when every target answers 2xx; --target picks one", async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    receivers.push(a, b);
    const path = await config({
      rules: [{ name: "errors", kind: "rate", pattern: "ERROR", threshold: 5, window: "1m" }],
      targets: [
        { name: "a", url: a.url, format: "json" },
        { name: "b", url: b.url, format: "json" },
      ],
    });
    const result = await runCli(["alert", "test", "errors", "--config", path, "--target", "b"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect([a.requests.length, b.requests.length]).toEqual([0, 1]);
    expect(JSON.parse(b.requests[0]?.body ?? "{}")).toMatchObject({ severity: "warning", kind: "rate" });
  });

  it("reports a target nobody answers as failed", async () => {
    const gone = await startReceiver();
    await gone.close();
    const path = await config({
      rules: [{ name: "errors", kind: "match", pattern: "ERROR" }],
      targets: [{ name: "gone", url: gone.url, format: "json" }],
    });
    const result = await runCli(["alert", "test", "errors", "--config", path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^gone \(json, http:\/\/127\.0\.0\.1:\d+\/…\): FAILED ECONNREFUSED/);
  });

  it.each([
    [{ rules: [], targets: [] }, ["nope"], 'no rule named "nope" in alerts.rules'],
    [
      {
        rules: [{ name: "r", kind: "match", pattern: "x" }],
        targets: [{ name: "t", url: "ftp://x", format: "json" }],
      },
      ["r"],
      'alerts.targets[0] ("t").url: must be an http(s) URL',
    ],
    [
      { rules: [{ name: "r", kind: "match", pattern: "x" }] },
      ["r"],
      "alerts.targets names no webhook target",
    ],
    // The whole rule list passes the engine's validation first, as when the server loads it.
    [{ rules: [{ name: "r", kind: "match" }], targets: [] }, ["r"], 'alerts.rules[0] ("r").pattern:'],
    [
      { rules: [{ name: "r", kind: "bogus" }], targets: [] },
      ["r"],
      'alerts.rules[0] ("r").kind: expected one of',
    ],
  ])("usage errors exit 2 with a message naming the problem (%#)", async (alerts, args, message) => {
    const path = await config(alerts);
    const result = await runCli(["alert", "test", ...args, "--config", path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });

  it("needs --config", async () => {
    const result = await runCli(["alert", "test", "r"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("alert test needs --config FILE");
  });
});
