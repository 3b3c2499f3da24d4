import { spawn } from "node:child_process";
import { readFile, rename, rm, truncate } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseCosignerVerifierKey } from "../../../src/integrity/cosignature.js";
import { parseNote } from "../../../src/integrity/note.js";
import { sealFile } from "../../../src/integrity/seal-file.js";
import { loadSealKey, writeKeyPair } from "../../../src/integrity/seal-key.js";
import { useClosers } from "../../helpers/closer.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, writeLines } from "../harness.js";

const tempDir = useTempDirs("livetrail-witness-");
const track = useClosers();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI as a child process; stopped by its PID after the test if still running. */
function cli(args: string[]): { done: Promise<Run> } {
  const child = spawn(process.execPath, ["dist/bin/main.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  track({
    close: () =>
      child.exitCode === null && child.signalCode === null ? void child.kill("SIGTERM") : undefined,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return { done: new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr }))) };
}

async function setup() {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  const lines = makeLines(0, 5000);
  await writeLines(file, lines);
  const { signerPath, verifierPath } = await writeKeyPair("livetrail.test/log", dir.file("log-key"));
  const key = await loadSealKey(signerPath);
  await sealFile(file, key, { everyLines: 1000 });
  const made = await cli(["witness", "--new-key", dir.file("witness-key"), "--name", "witness.test/w"]).done;
  expect(made.code).toBe(0);
  const witnessPub = (await readFile(dir.file("witness-key.pub"), "utf8")).trim();
  const serve = async () => {
    const srv = await startServer([{ name: "audit", file }], {
      integrity: { logKeys: [key.verifier], witnessKeys: [parseCosignerVerifierKey(witnessPub)] },
    });
    return track(srv);
  };
  const witness = (url: string, extra: string[] = []) =>
    cli([
      "witness",
      `${url}/api/streams/audit`,
      "--key",
      verifierPath,
      "--witness-key",
      dir.file("witness-key"),
      "--state",
      dir.file("witness-state.json"),
      ...extra,
    ]).done;
  return { dir, file, lines, key, serve, witness };
}

const bytesOf = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

describe("livetrail witness", () => {
  it("cosigns what it verified (published beside the log's signature) and follows the log as it grows", async () => {
    const { file, key, serve, witness, dir } = await setup();
    const srv = await serve();
    const first = await witness(srv.url, ["--once"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("5000 lines, first seen, cosigned");
    const note = await (await fetch(`${srv.url}/api/streams/audit/checkpoint`)).text();
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual(["livetrail.test/log", "witness.test/w"]);
    const state = JSON.parse(await readFile(dir.file("witness-state.json"), "utf8"));
    expect(Object.values(state.logs)).toMatchObject([
      { size: 5000, origin: "livetrail/livetrail.test/log/audit.log" },
    ]);

    await appendLines(file, makeLines(5000, 1000));
    await sealFile(file, key, { everyLines: 1000 });
    const next = await witness(srv.url, ["--once"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain("6000 lines, consistent with 5000, cosigned");
  });

  it("follows a rotation whose new file links to the final checkpoint it saw", async () => {
    const { file, key, serve, witness } = await setup();
    const srv = await serve();
    expect((await witness(srv.url, ["--once"])).code).toBe(0);
    await rename(file, `${file}.1`);
    await writeLines(file, makeLines(0, 100, "after rotation"));
    const rotated = await sealFile(file, key);
    expect(rotated.rotated).not.toBeNull();
    const run = await witness(srv.url, ["--once"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("100 lines, a new file after the rotation of the 5000 lines seen, cosigned");
  });

  it("holding an old checkpoint, catches the newest lines deleted and re-sealed (a standing process exits 1)", async () => {
    const { file, lines, key, serve, witness } = await setup();
    let srv = await serve();
    expect((await witness(srv.url, ["--once"])).code).toBe(0);
    await srv.close();
    // The attacker has the key: deletes the sidecar and the last 1000 lines, and seals the rest again.
    await rm(`${file}.seal`, { recursive: true });
    await truncate(file, bytesOf(lines.slice(0, 4000)));
    await sealFile(file, key, { everyLines: 1000 });
    srv = await serve();
    const run = await witness(srv.url, ["--interval", "100"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ROLLBACK");
    expect(run.stderr).toMatch(
      /history shrank: the log's newest checkpoint has 4000 lines .*this witness saw 5000 lines/,
    );
  });

  it("catches a rewritten history that grew past the old size (the consistency proof fails)", async () => {
    const { file, lines, key, serve, witness } = await setup();
    let srv = await serve();
    expect((await witness(srv.url, ["--once"])).code).toBe(0);
    await srv.close();
    await rm(`${file}.seal`, { recursive: true });
    await writeLines(file, [...lines.slice(0, 4000), ...makeLines(4000, 2000, "forged")]);
    await sealFile(file, key, { everyLines: 1000 });
    srv = await serve();
    const run = await witness(srv.url, ["--once"]);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    expect(run.stderr).toMatch(
      /ROLLBACK .*history rewritten: the checkpoint of 6000 lines .* is not an extension of the 5000 lines/,
    );
  });
});
