import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { makeBundle } from "../../src/integrity/bundle.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { CLI, finished, killStrays, runCli, start, withoutLivetrailEnv } from "./run-cli.js";

// Real processes on a shared, busy machine: each can take seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
killStrays();

async function keys(dir: { file(name: string): string }): Promise<{ signer: string; verifier: string }> {
  const signer = dir.file("ops.key");
  const result = await runCli(["keygen", "--name", "ops", "--out", signer]);
  expect(result.code).toBe(0);
  return { signer, verifier: `${signer}.pub` };
}

describe("livetrail keygen", () => {
  it("writes the signer key 0600 and the verifier key, and never overwrites them", async () => {
    const dir = await tempDir();
    const { signer, verifier } = await keys(dir);
    expect((await stat(signer)).mode & 0o777).toBe(0o600);
    expect(await readFile(signer, "utf8")).toMatch(/^PRIVATE\+KEY\+ops\+[0-9a-f]{8}\+\S+\n$/);
    expect(await readFile(verifier, "utf8")).toMatch(/^ops\+[0-9a-f]{8}\+\S+\n$/);
    const again = await runCli(["keygen", "--name", "ops", "--out", signer]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; not overwriting a key/);
    expect((await runCli(["keygen", "--name", "two words"])).code).toBe(2);
  });
});

describe("livetrail log --seal-key and verify, end to end", () => {
  it("seals as it writes; verify prints one summary line, --json, and exit 3 with the finding once edited", async () => {
    const dir = await tempDir();
    const { signer, verifier } = await keys(dir);
    const log = dir.file("audit.log");
    const input = Array.from({ length: 2500 }, (_, i) => `event ${i + 1}`).join("\n");
    const write = await runCli(["log", "-f", log, "--seal-key", signer, "-"], { input });
    expect(write).toMatchObject({ code: 0, stderr: "" });
    await runCli(["log", "-f", log, "--seal-key", signer, "one more"]);

    const ok = await runCli(["verify", log, "--key", verifier]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^verified 2,501 lines, \d+ checkpoints?, last sealed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/,
    );

    const json = await runCli(["verify", log, "--key", verifier, "--json"]);
    const parsed = JSON.parse(json.stdout) as {
      ok: boolean;
      integrity: { ok: boolean; sealedLines: number; findings: unknown[] };
    };
    expect(parsed).toMatchObject({ ok: true, integrity: { ok: true, sealedLines: 2501, findings: [] } });

    // Written without sealing: not yet sealed, not tampered.
    await runCli(["log", "-f", log, "unsealed entry"]);
    const later = await runCli(["verify", log, "--key", verifier]);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/; 1 later line not yet sealed\n$/);

    const text = await readFile(log, "utf8");
    await writeFile(log, text.replace("event 1234\n", "event 9999\n"));
    const bad = await runCli(["verify", log, "--key", verifier]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/line-changed: line 1234 changed \(at byte \d+\) \(covered by checkpoint/);
    const badJson = JSON.parse((await runCli(["verify", log, "--key", verifier, "--json"])).stdout) as {
      integrity: { findings: { kind: string; line: number }[] };
    };
    expect(badJson.integrity.findings).toEqual([
      expect.objectContaining({ kind: "line-changed", line: 1234 }),
    ]);

    // A key that is not the signer's.
    const other = dir.file("other.key");
    await runCli(["keygen", "--name", "ops", "--out", other]);
    await writeFile(log, text);
    const wrong = await runCli(["verify", log, "--key", `${other}.pub`]);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toMatch(/wrong-key: \d+ checkpoints are not signed by ops\+/);
    // A key but no seal.
    const plain = dir.file("plain.log");
    await runCli(["log", "-f", plain, "x"]);
    const unsealed = await runCli(["verify", plain, "--key", verifier]);
    expect(unsealed.code).toBe(3);
    expect(unsealed.stderr).toMatch(/not sealed/);
  });

  it("two concurrent `log --seal-key` writers stay verifiable", async () => {
    const dir = await tempDir();
    const { signer, verifier } = await keys(dir);
    const log = dir.file("audit.log");
    const writers = [0, 1].map((w) => {
      const child = start(process.execPath, [CLI, "log", "-f", log, "--seal-key", signer, "-"], {
        env: withoutLivetrailEnv(),
      });
      const done = finished(child);
      // Lines trickle in, so the two processes' writes and seals interleave.
      void (async () => {
        for (let i = 0; i < 40; i++) {
          child.stdin?.write(`writer ${w} line ${i}\n`);
          await new Promise((r) => setTimeout(r, 5));
        }
        child.stdin?.end();
      })();
      return done;
    });
    const results = await Promise.all(writers);
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: "" });
    const report = await runCli(["verify", log, "--key", verifier, "--json"]);
    const parsed = JSON.parse(report.stdout) as {
      lines: number;
      integrity: { ok: boolean; sealedLines: number };
    };
    expect(parsed.lines).toBe(80);
    expect(parsed.integrity).toMatchObject({ ok: true, sealedLines: 80 });
  });

  it("a rotated set verifies as one history", async () => {
    const dir = await tempDir();
    const { signer, verifier } = await keys(dir);
    const log = dir.file("audit.log");
    await runCli(["log", "-f", log, "--seal-key", signer, "-"], { input: "a\nb\nc\n" });
    await rename(log, `${log}.1`);
    await runCli(["log", "-f", log, "--seal-key", signer, "after rotation"]);
    const old = await runCli(["verify", `${log}.1`, "--key", verifier]);
    expect(old.code).toBe(0);
    expect(old.stdout).toMatch(/^verified 3 lines/);
    const current = await runCli(["verify", log, "--key", verifier]);
    expect(current.code).toBe(0);
    expect(current.stdout).toMatch(
      /^verified 1 lines?, 1 checkpoint, .*continues a rotated file \(3 lines, linked\)/,
    );
  });

  it("bundles verify offline and fail when one line is edited", async () => {
    const dir = await tempDir();
    const { signer, verifier } = await keys(dir);
    const log = dir.file("audit.log");
    await runCli(["log", "-f", log, "--seal-key", signer, "-"], {
      input: Array.from({ length: 300 }, (_, i) => `entry ${i + 1}`).join("\n"),
    });
    const bundle = await makeBundle(log, { from: 100, to: 104 });
    expect(bundle.lines.map((l) => l.line)).toEqual([100, 101, 102, 103, 104]);
    // Elsewhere: only the bundle and the public key.
    const away = await tempDir();
    const file = away.file("excerpt.json");
    const pub = away.file("ops.pub");
    await writeFile(pub, await readFile(verifier));
    await writeFile(file, JSON.stringify(bundle));
    const ok = await runCli(["verify", "--bundle", file, "--key", pub]);
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toMatch(
      /^verified 5 lines of livetrail\/ops\/audit\.log against its checkpoint of 300 lines, sealed /,
    );

    const edited = structuredClone(bundle);
    const line = edited.lines[2] as { text?: string; data: string };
    line.text = (line.text as string).replace("entry 102", "entry 999");
    line.data = Buffer.from(line.text).toString("base64");
    await writeFile(file, JSON.stringify(edited));
    const bad = await runCli(["verify", "--bundle", file, "--key", pub]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/bundle check FAILED: line 102: not in the signed tree of 300 lines/);

    const textOnly = structuredClone(bundle);
    (textOnly.lines[0] as { text?: string }).text = "something else";
    await writeFile(file, JSON.stringify(textOnly));
    expect((await runCli(["verify", "--bundle", file, "--key", pub])).stdout).toMatch(
      /line 100: its text is not its sealed bytes/,
    );
  });
});
