import { readFile, stat, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { AlertsReport } from "../../src/protocol/messages.js";
import { CLI, finished, killStrays, runCli, start } from "../cli/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, writeLines } from "./harness.js";

const tempDir = useTempDirs("livetrail-alerts-cli-");
killStrays();

const stamp = (): string => `[${new Date().toISOString().replace(/\.\d+Z$/, "Z")}]`;

function config(rules: unknown[]): string {
  return JSON.stringify({
    streams: { app: "app.log" },
    stateDir: "state",
    pollIntervalMs: 50,
    alerts: { rules },
  });
}

const BOOM = { name: "boom", kind: "match", pattern: "boom", severity: "critical" };
const ZAP = { name: "zap", kind: "match", pattern: "zap", severity: "warning" };

describe("serve --config with alerts (the real CLI)", () => {
  it("SIGHUP applies new rules, keeps a firing alert firing, and keeps the old rules when the file is wrong", async () => {
    const dir = await tempDir();
    await writeLines(dir.file("app.log"), []);
    const cfg = dir.file("livetrail.json");
    await writeFile(cfg, config([BOOM]));
    const child = start(process.execPath, [CLI, "serve", "--config", cfg, "--port", "0"]);
    const done = finished(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const base = await waitFor(() => /at (http:\/\/\S+)/.exec(stdout)?.[1], { timeoutMs: 30_000 });
    const alerts = async (): Promise<AlertsReport> =>
      (await (await fetch(`${base}/api/alerts`)).json()) as AlertsReport;

    await appendLines(dir.file("app.log"), [`${stamp()} boom went the disk`]);
    const fired = await waitFor(async () => (await alerts()).firing[0]);
    expect(fired).toMatchObject({ rule: "boom", status: "firing" });

    await writeFile(cfg, config([BOOM, ZAP]));
    child.kill("SIGHUP");
    await waitFor(() => stderr.includes("reloaded 2 alert rules"));
    expect((await alerts()).firing.map((a) => a.id)).toEqual([fired.id]);
    await appendLines(dir.file("app.log"), [`${stamp()} zap`]);
    const both = await waitFor(async () => {
      const r = await alerts();
      return r.firing.length === 2 ? r : null;
    });
    expect(both.firing.map((a) => a.rule).sort()).toEqual(["boom", "zap"]);

    // A wrong rule: reported with its name and key, the rules in force stay.
    await writeFile(cfg, config([BOOM, { ...ZAP, windw: "1m" }]));
    child.kill("SIGHUP");
    await waitFor(() => stderr.includes("keeping the old alert rules"));
    expect(stderr).toContain('alerts.rules[1] ("zap").windw');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('livetrail_alerts_firing{rule="boom"} 1');
    expect(metrics).toContain('livetrail_alerts_firing{rule="zap"} 1');

    child.kill("SIGTERM");
    const result = await done;
    expect(result.code).toBe(0);
    // The alerts stream's file holds both notifications; the engine wrote its state on the way out.
    const log = await readFile(dir.file("state/alerts.log"), "utf8");
    expect(log).toMatch(/ERROR: FIRING critical boom: /);
    expect(log).toMatch(/WARN: FIRING warning zap: /);
    expect((await stat(dir.file("state/alerts-state.json"))).isFile()).toBe(true);
  });

  it("an alerts section with errors exits 2 naming the rule or target and the key", async () => {
    const dir = await tempDir();
    const cfg = dir.file("bad.json");
    await writeFile(
      cfg,
      JSON.stringify({
        streams: { app: "app.log" },
        alerts: {
          rules: [{ name: "slow", kind: "rate", pattern: "x", threshold: 5 }],
          targets: [{ name: "hook", url: "ftp://nope" }],
        },
      }),
    );
    const result = await runCli(["serve", "--config", cfg, "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('alerts.rules[0] ("slow").window');
    expect(result.stderr).toMatch(/alerts\.targets\[0\] \("hook"\)\.url/);
  });

  it("a state directory that cannot be made stops serve with its path and reason (not a port error)", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("afile"), "not a directory\n");
    await writeLines(dir.file("app.log"), []);
    const cfg = dir.file("livetrail.json");
    await writeFile(
      cfg,
      JSON.stringify({ streams: { app: "app.log" }, stateDir: "afile/state", alerts: { rules: [BOOM] } }),
    );
    const result = await runCli(["serve", "--config", cfg, "--port", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${dir.file("afile/state")}: a parent is not a directory (ENOTDIR)`);
  });
});
