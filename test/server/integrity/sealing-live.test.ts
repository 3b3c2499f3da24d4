import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { open, readFile, rename, truncate } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { findSidecar, verifyIntegrity } from "../../../src/integrity/file-verify.js";
import { generateKey } from "../../../src/integrity/note.js";
import { sealFile } from "../../../src/integrity/seal-file.js";
import { sealKeyFromString, writeKeyPair } from "../../../src/integrity/seal-key.js";
import { readSealPoint } from "../../../src/integrity/seal-point.js";
import type { IntegrityInfo } from "../../../src/protocol/messages.js";
import type { IntegrityEvent } from "../../../src/server/integrity/sealing.js";
import { useClosers } from "../../helpers/closer.js";
import type { Received } from "../../helpers/received.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "../harness.js";

const tempDir = useTempDirs("livetrail-sealing-");
const track = useClosers();

const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
/** RFC 9162 MTH, independent of src/integrity. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return sha(Buffer.of(0), leaves[0] as Buffer);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

type IntegrityMessage = Extract<Received, { type: "integrity" }>;
const integrityOf = (m: Received, stream = "audit"): IntegrityInfo | null =>
  m.type === "integrity" && m.stream === stream ? m.integrity : null;

async function sealingServer() {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  await writeLines(file, []);
  const key = sealKeyFromString(generateKey("livetrail.test/live").signerKey);
  const events: IntegrityEvent[] = [];
  const srv = await startServer([{ name: "audit", file }], {
    integrity: {
      sealKey: key,
      everyLines: 1000,
      everyMs: 50,
      checkMs: 50,
      onIntegrity: (e) => events.push(e),
    },
  });
  track(srv);
  const client = track(await TestClient.connect(`${srv.wsUrl}/ws`));
  return { file, key, srv, client, events };
}

describe("serve --seal-key: sealing live, and tampering under a running server", () => {
  it("seals appended lines as they are served: hello, integrity messages, a checkpoint covering every line", async () => {
    const { file, key, srv, client, events } = await sealingServer();
    const hello = client.messages[0] as Extract<Received, { type: "hello" }>;
    expect(hello.streams[0]?.integrity).toMatchObject({ status: "unsealed", sealing: true, sealedTo: 0 });
    await client.subscribe("audit", { tail: 0 });
    const lines = makeLines(0, 5000);
    for (let i = 0; i < 5000; i += 500) await appendLines(file, lines.slice(i, i + 500));
    const done = await client.waitFor<IntegrityMessage>((m) => integrityOf(m)?.sealedTo === 5000, {
      message: "a checkpoint covering 5000 lines",
    });
    expect(done.integrity).toMatchObject({ status: "sealed", verifiedTo: 5000, sealing: true });
    await client.waitForLines(5000, "audit");
    const note = await (await fetch(`${srv.url}/api/streams/audit/checkpoint`)).text();
    const point = readSealPoint(note, [key.verifier]);
    expect(point.size).toBe(5000);
    expect(point.root.equals(mth(lines.map((l) => Buffer.from(l))))).toBe(true);
    expect(point.root.toString("base64")).toBe(done.integrity.root);
    // Alert rules see the same changes, with what came before.
    expect(events.some((e) => e.integrity.sealedTo === 5000 && e.previous !== null)).toBe(true);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/livetrail_integrity_sealed_lines\{stream="audit"\} 5000/);
    expect(metrics).toMatch(/livetrail_integrity_tampered\{stream="audit"\} 0/);
  });

  it("a byte rewritten in a sealed line: an integrity message with status tampered naming the line", async () => {
    const { file, srv, client } = await sealingServer();
    const lines = makeLines(0, 5000);
    await appendLines(file, lines);
    await client.waitFor((m) => integrityOf(m)?.sealedTo === 5000, { message: "sealed to 5000" });
    const offset = lines.slice(0, 3000).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const handle = await open(file, "r+");
    await handle.write(Buffer.from("X"), 0, 1, offset + 5); // line 3001, inside its timestamp
    await handle.close();
    const tampered = await client.waitFor<IntegrityMessage>((m) => integrityOf(m)?.status === "tampered", {
      message: "an integrity message with status tampered",
    });
    expect(tampered.integrity.finding).toContain(
      `line 3001 changed (at byte ${offset}) (covered by checkpoint 4`,
    );
    expect(tampered.integrity.verifiedTo).toBe(3000);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/livetrail_integrity_tampered\{stream="audit"\} 1/);
    // A client connecting now learns it from hello.
    const late = track(await TestClient.connect(`${srv.wsUrl}/ws`));
    const hello = late.messages[0] as Extract<Received, { type: "hello" }>;
    expect(hello.streams[0]?.integrity?.status).toBe("tampered");
  });

  it("a byte rewritten in the first line, with a server that only serves (no key): tampered", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 3000));
    const key = sealKeyFromString(generateKey("livetrail.test/serve-only").signerKey);
    await sealFile(file, key, { everyLines: 1000 });
    const srv = track(
      await startServer([{ name: "audit", file }], { integrity: { logKeys: [key.verifier], checkMs: 50 } }),
    );
    const client = track(await TestClient.connect(`${srv.wsUrl}/ws`));
    await waitFor(
      async () => {
        const info = (await (await fetch(`${srv.url}/api/streams/audit/integrity`)).json()) as IntegrityInfo;
        return info.verifiedTo === 3000;
      },
      { message: "verified at start" },
    );
    const handle = await open(file, "r+");
    await handle.write(Buffer.from("1"), 0, 1, 2); // "[2025-" becomes "[2125-"
    await handle.close();
    const tampered = await client.waitFor<IntegrityMessage>((m) => integrityOf(m)?.status === "tampered", {
      message: "tampered after the head was rewritten",
    });
    expect(tampered.integrity.finding).toMatch(/^line 1 changed \(at byte 0\)/);
  });

  it("a truncation below a sealed offset: tampered, with the sizes", async () => {
    const { file, client } = await sealingServer();
    await appendLines(file, makeLines(0, 2000));
    await client.waitFor((m) => integrityOf(m)?.sealedTo === 2000, { message: "sealed to 2000" });
    await truncate(file, 1000);
    const tampered = await client.waitFor<IntegrityMessage>((m) => integrityOf(m)?.status === "tampered", {
      message: "tampered after a truncation",
    });
    expect(tampered.integrity.finding).toMatch(
      /^truncated below a sealed offset: the file ends at byte 1000 inside line \d+/,
    );
  });

  it("a rotation: the old file's rest is sealed, the new file's history links to its final root, still sealed", async () => {
    const { file, client } = await sealingServer();
    await appendLines(file, makeLines(0, 2000));
    const before = await client.waitFor<IntegrityMessage>((m) => integrityOf(m)?.sealedTo === 2000, {
      message: "sealed to 2000",
    });
    await rename(file, `${file}.1`);
    await writeLines(file, makeLines(0, 500, "rotated"));
    const after = await client.waitFor<IntegrityMessage>(
      (m) => integrityOf(m)?.sealedTo === 500 && integrityOf(m)?.prev !== undefined,
      { message: "the new file sealed, linked to the old one" },
    );
    expect(
      after.integrity,
      JSON.stringify(client.messages.filter((m) => m.type === "integrity")),
    ).toMatchObject({ status: "sealed", prev: { size: 2000, root: before.integrity.root } });
    expect(client.messages.some((m) => integrityOf(m)?.status === "tampered")).toBe(false);
  });

  it("appends that go on through a rotation, with a second sealer taking turns: both files verify, linked", async () => {
    const { file, key, client } = await sealingServer();
    // The writer appends in small batches without waiting for the sealer; halfway the log is rotated (renamed,
    // a new file at the path) and the writing goes on in the new file. Between batches another sealer (this
    // thread: the sidecar's lock is a file, so it stands for `livetrail log --seal-key` in another process) seals
    // too, so the server's worker and it take turns under the lock, across the rotation.
    let before = 0;
    let after = 0;
    for (let batch = 0; batch < 40; batch++) {
      if (batch === 20) {
        await rename(file, `${file}.1`);
        await writeLines(file, []);
      }
      const rotated = batch >= 20;
      await appendLines(file, makeLines(rotated ? after : before, 97, rotated ? "rotated" : "line"));
      if (rotated) after += 97;
      else before += 97;
      if (batch % 5 === 4) await sealFile(file, key, { everyLines: 1000 });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const last = await client.waitFor<IntegrityMessage>(
      (m) => integrityOf(m)?.sealedTo === after && integrityOf(m)?.prev !== undefined,
      { message: `the new file sealed to ${after}, linked to the old one`, timeoutMs: 20_000 },
    );
    expect(client.messages.some((m) => integrityOf(m)?.status === "tampered")).toBe(false);
    expect(last.integrity).toMatchObject({ status: "sealed", prev: { size: before } });
    // The core's verify, as `livetrail verify` runs it: the rotated file against its archived sidecar, and the
    // new file against its own, whose first checkpoint links to the old one's final root.
    const oldSidecar = await findSidecar(`${file}.1`);
    expect(oldSidecar).toMatch(/audit\.log\.seal\.[0-9a-f]{12}$/);
    const old = await verifyIntegrity(`${file}.1`, oldSidecar as string, { key: key.verifier, threads: 1 });
    expect(old).toMatchObject({ ok: true, findings: [], sealedLines: before, unsealedLines: 0 });
    const now = await verifyIntegrity(file, `${file}.seal`, { key: key.verifier, threads: 1 });
    expect(now).toMatchObject({ ok: true, findings: [], sealedLines: after, unsealedLines: 0 });
    expect(now.prev).toMatchObject({ size: before, linked: true });
    // The old file's final root is the tree of every line written to it, computed independently.
    const oldLines = makeLines(0, before).map((l) => Buffer.from(l));
    expect(last.integrity.prev?.root).toBe(mth(oldLines).toString("base64"));
  });

  it("livetrail serve --seal-key (a real child process) seals what is appended while it runs", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { signerPath } = await writeKeyPair("livetrail.test/cli", dir.file("seal-key"));
    const child = spawn(
      process.execPath,
      [
        "dist/bin/main.js",
        "serve",
        "--seal-key",
        signerPath,
        "--port",
        "0",
        "--poll-interval",
        "50",
        `audit=${file}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    track({ close: () => (child.exitCode === null ? void child.kill("SIGTERM") : undefined) });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], { message: "the serve URL" });
    await appendLines(file, makeLines(0, 5000));
    const info = await waitFor(
      async () => {
        const i = (await (await fetch(`${url}/api/streams/audit/integrity`)).json()) as IntegrityInfo;
        return i.sealedTo === 5000 ? i : null;
      },
      { message: "the child to seal 5000 lines", timeoutMs: 20_000 },
    );
    expect(info).toMatchObject({ status: "sealed", verifiedTo: 5000, sealing: true });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const checkpoints = await readFile(`${file}.seal/checkpoints`, "utf8");
    expect(checkpoints).toContain("\n5000\n");
    const verify = spawnSync(
      process.execPath,
      ["dist/bin/main.js", "verify", file, "--key", `${signerPath}.pub`, "--no-format"],
      {
        encoding: "utf8",
      },
    );
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/verified 5,000 lines/);
  });
});
