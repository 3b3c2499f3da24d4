import { chmod, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, killStrays, runCli, start, withoutLivetrailEnv } from "./run-cli.js";

vi.setConfig({ testTimeout: 120_000 });
const tempDir = useTempDirs("livetrail-config-");
killStrays();

const READ = "config-read-token-0123456789";

describe("livetrail config check FILE", () => {
  it("accepts an existing config file (streams as an object or an array, alerts) and the security settings", async () => {
    const dir = await tempDir();
    const asObject = dir.file("object.json");
    await writeFile(
      asObject,
      JSON.stringify({
        streams: { audit: "logs/audit.log", app: "logs/app.log" },
        port: 9000,
        windowLines: 50,
        slowClients: "gap",
        stateDir: "state",
        alerts: { rules: [{ name: "errors", kind: "match", pattern: "ERROR" }] },
      }),
    );
    const asArray = dir.file("array.json");
    await writeFile(
      asArray,
      JSON.stringify({
        streams: [{ name: "audit", file: "/var/log/audit.log", host: "web-1" }],
        tokenFile: "tokens",
        tlsCert: "cert.pem",
        tlsKey: "key.pem",
        allowOrigins: ["https://logs.example.com"],
        allowedHosts: ["logs.example.com"],
        trustProxies: ["10.0.0.0/8"],
        identityHeader: "x-forwarded-user",
        sessionTtl: 3600,
        rateLimit: 600,
        limitLoopback: true,
        sealKey: "seal.key",
        sealEveryLines: 500,
      }),
    );
    const one = await runCli(["config", "check", asObject]);
    expect([one.code, one.stderr, one.stdout]).toEqual([0, "", `${asObject}: ok (6 settings)\n`]);
    const two = await runCli(["config", "check", asArray]);
    expect([two.code, two.stderr, two.stdout]).toEqual([0, "", `${asArray}: ok (13 settings)\n`]);
  });

  it("exits 2 listing every problem with its line and key, security settings and secrets included", async () => {
    const dir = await tempDir();
    const file = dir.file("bad.json");
    await writeFile(
      file,
      [
        "{",
        '  "port": "80",',
        '  "readTokens": ["a-secret-token-000000000001"],',
        '  "tlsCert": 42,',
        '  "allowOrigins": ["logs.example.com/path"],',
        '  "trustProxies": "10.0.0.0/99",',
        '  "limitLoopback": "yes",',
        '  "alerts": { "rules": [{ "name": "slow", "kind": "rate", "pattern": "x", "threshold": 5 }] },',
        '  "prot": 1',
        "}",
      ].join("\n"),
    );
    const r = await runCli(["config", "check", file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      `livetrail: --config ${file}:3: "readTokens" cannot be in a config file: it is a secret (use LIVETRAIL_READ_TOKENS, or "tokenFile")`,
      `livetrail: --config ${file}:9: unknown setting "prot" (the settings: docs/settings.md)`,
      `livetrail: --config ${file}:2: port needs a whole number 0..65535, got "80"`,
      `livetrail: --config ${file}:5: allowOrigins: invalid origin "logs.example.com/path": expected e.g. https://logs.example.com`,
      `livetrail: --config ${file}:6: trustProxies: "10.0.0.0/99" is not an IP address or CIDR range`,
      `livetrail: --config ${file}:4: tlsCert needs a PEM file, got 42`,
      `livetrail: --config ${file}:7: limitLoopback needs true or false, got "yes"`,
      `livetrail: --config ${file}:8: alerts.rules[0] ("slow").window: required: the sliding window, a duration like 1m`,
    ]);
    expect(r.stderr).not.toContain("a-secret-token");
  });

  it("finds settings that conflict: half a TLS pair, an identity header without trusted proxies", async () => {
    const dir = await tempDir();
    const file = dir.file("half.json");
    await writeFile(file, JSON.stringify({ tlsCert: "cert.pem", identityHeader: "x-forwarded-user" }));
    const r = await runCli(["config", "check", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "livetrail: --tls-cert and --tls-key go together\n" +
        "livetrail: --identity-header needs --trust-proxy: only a trusted proxy may set it\n",
    );
  });

  it("a file that is not JSON is a usage error (2); one that cannot be read, a failure (1)", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("broken.json"), '{ "port": 80,');
    const broken = await runCli(["config", "check", dir.file("broken.json")]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json: not valid JSON/);
    const missing = await runCli(["config", "check", dir.file("missing.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("missing.json");
  });
});

describe("livetrail config print", () => {
  it("shows each setting's value and source, with tokens and the Redis password masked", async () => {
    const dir = await tempDir();
    const file = dir.file("livetrail.json");
    await writeFile(file, JSON.stringify({ port: 9000, redis: "redis://user:hunter2-secret@10.0.0.5:6379" }));
    const r = await runCli(
      ["config", "print", "--config", file, "--read-token", "flag-token-secret-0000001"],
      {
        env: withoutLivetrailEnv({
          LIVETRAIL_PORT: "9001",
          LIVETRAIL_WRITE_TOKENS: "env-token-secret-00000001",
        }),
      },
    );
    expect(r.code).toBe(0);
    const row = (key: string) => r.stdout.split("\n").find((l) => l.trim().startsWith(`${key} `)) ?? "";
    expect(row("port")).toMatch(/^\s+port\s+9001\s+env$/);
    expect(row("host")).toMatch(/^\s+host\s+127\.0\.0\.1\s+default$/);
    expect(row("readTokens")).toMatch(/\*\*\*\* \(1 token\)\s+flag$/);
    expect(row("writeTokens")).toMatch(/\*\*\*\* \(1 token\)\s+env$/);
    expect(row("redis")).toMatch(/redis:\/\/user@10\.0\.0\.5:6379\s+config$/);
    for (const secret of ["flag-token-secret", "env-token-secret", "hunter2"])
      expect(r.stdout).not.toContain(secret);
  });

  it("refuses bad flags and variables like serve, naming them", async () => {
    const r = await runCli(["config", "print", "--heartbeat-ms", "99999"], {
      env: withoutLivetrailEnv({ LIVETRAIL_TLS_SELF_SIGNED: "maybe" }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--heartbeat-ms needs a whole number 1..20000 (ms), got "99999"');
    expect(r.stderr).toContain('LIVETRAIL_TLS_SELF_SIGNED needs true or false (1/0, yes/no), got "maybe"');
  });
});

/** A port something else listens on, so a server told to use it would fail. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe("serve takes its settings from the config file, the environment and flags", () => {
  it("security settings in the config file apply; the environment beats the file, a flag beats both", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("audit.log"), "[2026-12-04T10:00:00Z] hello settings\n");
    await writeFile(dir.file("tokens"), `read ${READ}\n`);
    await chmod(dir.file("tokens"), 0o600);
    const busy = await busyPort();
    try {
      await writeFile(
        dir.file("livetrail.json"),
        JSON.stringify({
          streams: { audit: "audit.log" },
          port: busy.port,
          tokenFile: "tokens",
          maxSearchResults: 100,
        }),
      );
      const child = start(
        process.execPath,
        [CLI, "serve", "--config", dir.file("livetrail.json"), "--max-search-results", "7"],
        { env: withoutLivetrailEnv({ LIVETRAIL_PORT: "0" }) },
      );
      const result = finished(child, 60_000);
      let out = "";
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
        timeoutMs: 30_000,
        message: "url",
      });
      expect(new URL(url).port).not.toBe(String(busy.port));
      const auth = { headers: { authorization: `Bearer ${READ}` } };
      expect((await fetch(`${url}/api/streams`)).status).toBe(401);
      expect((await fetch(`${url}/api/streams`, auth)).status).toBe(200);
      const search = (limit: number) => fetch(`${url}/api/streams/audit/search?q=hello&limit=${limit}`, auth);
      expect((await search(7)).status).toBe(200);
      expect((await search(8)).status).toBe(400);
      child.kill("SIGTERM");
      expect((await result).code).toBe(0);
    } finally {
      busy.server.close();
    }
  });
});
