import { readFile, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { FeedEvent } from "../../../src/backend/backend.js";
import { CommandBackend, type CommandBackendOptions } from "../../../src/backend/command/command-backend.js";
import { commandEnv } from "../../../src/backend/command/command-env.js";
import { parseCommandSpec } from "../../../src/backend/command/command-spec.js";
import type { Line } from "../../../src/core/line.js";
import type { Received } from "../../helpers/received.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startServer, TestClient } from "../../server/harness.js";
import { alive } from "./process-alive.js";

const tempDir = useTempDirs("livetrail-cmd-");

/** Everything a test started, stopped after it (servers close their commands; bare backends are stopped). */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function commandBackend(
  name: string,
  sh: string,
  extra: Partial<CommandBackendOptions> = {},
): CommandBackend {
  const backend = new CommandBackend(name, {
    command: parseCommandSpec(`sh:${sh}`),
    env: commandEnv(process.env, []),
    ring: { maxLines: 1000, maxBytes: 1 << 20 },
    start: "boot",
    // Quick restarts, so a test sees the second run at once.
    backoff: { initialMs: 50, maxMs: 1000, resetAfterMs: 10_000 },
    stopGraceMs: 500,
    ...extra,
  });
  cleanups.push(() => backend.stop());
  return backend;
}

/** Follows a backend as a hub would; returns what it reported. */
async function follow(
  backend: CommandBackend,
): Promise<{ events: FeedEvent[]; lines: () => Line[]; close(): Promise<void> }> {
  const events: FeedEvent[] = [];
  const feed = await backend.follow({ tail: 100 }, (event) => events.push(event));
  cleanups.push(() => feed.close());
  const lines = () => events.flatMap((e) => (e.type === "lines" ? e.lines : []));
  return { events, lines, close: () => feed.close() };
}

async function pids(file: string): Promise<number[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

describe("command streams: one process per stream, restarted, its output in a ring", () => {
  it("starts one process for three WebSocket clients, marks stderr, shows the exit and restarts it", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pids");
    const go = dir.file("go");
    // Each run records its PID, prints on both channels, then exits with 3 once told to (the go file).
    const script = `echo $$ >> '${pidFile}'; echo "out $$"; echo "err $$" >&2; while [ ! -e '${go}' ]; do sleep 0.02; done; rm '${go}'; exit 3`;
    const backend = commandBackend("job", script);
    const server = await startServer([{ name: "job", backend }]);
    cleanups.push(() => server.close());
    const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(`${server.wsUrl}/ws`)));
    cleanups.push(async () => void (await Promise.all(clients.map((c) => c.close()))));
    const [first] = await waitFor(async () => ((await pids(pidFile)).length === 1 ? pids(pidFile) : null));
    for (const client of clients) {
      await client.subscribe("job", { tail: 100 });
      await client.waitForText(`err ${first}`);
      await client.waitForText(`out ${first}`);
    }
    expect(await pids(pidFile)).toEqual([first]);
    const marks = clients[0]?.lines("job").map((l) => [l.text, l.ch]);
    expect(marks).toEqual(
      expect.arrayContaining([
        [`out ${first}`, undefined],
        [`err ${first}`, "stderr"],
      ]),
    );

    await writeFile(go, "");
    for (const client of clients) {
      const exited = await client.waitFor<Extract<Received, { type: "exited" }>>((m) => m.type === "exited");
      expect(exited).toMatchObject({ stream: "job", code: 3, signal: null, restartInMs: 50 });
      // The event comes after the run's last line, at its cursor.
      const before = client.lines("job").at(-1);
      expect(exited.cursor).toBe(before?.c);
    }
    const second = await waitFor(async () => (await pids(pidFile))[1]);
    expect(second).not.toBe(first);
    for (const client of clients) await client.waitForText(`out ${second}`);
    expect(await pids(pidFile)).toEqual([first, second]);
    expect(backend.starts).toBe(2);
    // The restarted run's lines continue the same stream: history reads both runs in order.
    const page = (await (await fetch(`${server.url}/api/streams/job/lines?after=start&limit=10`)).json()) as {
      lines: { text: string }[];
    };
    expect(page.lines.map((l) => l.text).filter((t) => t.startsWith("out"))).toEqual([
      `out ${first}`,
      `out ${second}`,
    ]);
  });

  it("keeps a bounded ring: the oldest lines are dropped and a reader behind them gets a trimmed gap", async () => {
    const backend = commandBackend(
      "many",
      "i=1; while [ $i -le 50 ]; do echo line-$i; i=$((i+1)); done; exec sleep 1000",
      {
        ring: { maxLines: 10, maxBytes: 1 << 20 },
      },
    );
    const feed = await follow(backend);
    await waitFor(() => feed.lines().some((l) => l.text === "line-50"));
    const firstCursor = (feed.lines()[0] as Line).cursor;
    const held = await backend.readAfter(null, 100);
    expect(held.lines.map((l) => l.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line-${41 + i}`));
    const plan = await backend.resumeFrom(firstCursor, null);
    expect(plan).toMatchObject({ kind: "gap", reason: "trimmed", skipped: 39 });

    // A WebSocket client resuming from the dropped line: the gap, then what the ring holds.
    const server = await startServer([{ name: "many", backend }]);
    cleanups.push(() => server.close());
    const client = await TestClient.connect(`${server.wsUrl}/ws`);
    cleanups.push(() => client.close());
    await client.subscribe("many", { since: firstCursor });
    expect(client.messages.find((m) => m.type === "gap")).toMatchObject({ reason: "trimmed", skipped: 39 });
    expect(client.texts("many")).toEqual(held.lines.map((l) => l.text));
  });

  it("reads the command no faster than the live clients take it: paused, the command blocks on its pipe", async () => {
    const backend = commandBackend("burst", "seq 1 200000");
    let release: (() => void) | null = null;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let paced = true;
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 0, pace: () => (paced ? gate : null) }, (e) => events.push(e));
    cleanups.push(() => feed.close());
    const count = () => events.reduce((n, e) => n + (e.type === "lines" ? e.lines.length : 0), 0);
    await waitFor(() => count() > 0);
    // Give a reader that ignores the pace every chance to read on.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count()).toBeLessThan(200_000);
    expect(events.some((e) => e.type === "exited")).toBe(false);
    expect(alive(backend.pid as number)).toBe(true);
    paced = false;
    (release as unknown as () => void)();
    await waitFor(() => events.some((e) => e.type === "exited"), { message: "the exit" });
    expect(count()).toBe(200_000);
    const last = events.flatMap((e) => (e.type === "lines" ? e.lines : [])).at(-1);
    expect(last?.text).toBe("200000");
  });

  it("joins a UTF-8 character split across writes, and keeps a last line without newline at the exit, marked", async () => {
    const backend = commandBackend(
      "utf8",
      "printf 'caf\\303'; sleep 0.1; printf '\\251 au lait\\r\\npartial'; exit 0",
    );
    const feed = await follow(backend);
    await waitFor(() => feed.events.some((e) => e.type === "exited"));
    const lines = feed.lines();
    expect(lines.map((l) => l.text)).toEqual(["café au lait", "partial"]);
    expect(lines[1]?.unterminated).toBe(true);
    expect(lines[0]?.end).toBe(lines[1]?.start);
    const exited = feed.events.find((e) => e.type === "exited");
    expect(exited).toMatchObject({ code: 0, signal: null, cursor: lines[1]?.cursor });
  });

  it("reports a signal as the exit; a command that cannot start is an error, tried again", async () => {
    const killed = commandBackend("killed", "kill -9 $$");
    const feed = await follow(killed);
    const exited = await waitFor(() => feed.events.find((e) => e.type === "exited"));
    expect(exited).toMatchObject({ code: null, signal: "SIGKILL" });

    const missing = commandBackend("missing", "unused", {
      command: parseCommandSpec("cmd:/no/such/program --flag"),
    });
    const failures = await follow(missing);
    await waitFor(() => failures.events.filter((e) => e.type === "error").length >= 2, {
      message: "two failed starts",
    });
    const error = failures.events.find((e) => e.type === "error") as Extract<FeedEvent, { type: "error" }>;
    expect(error.error.message).toMatch(/ENOENT.*trying again in \d+ ms/);
  });

  it("gives the command only the explicit environment", async () => {
    const backend = commandBackend("env", "env; exec sleep 1000", {
      env: commandEnv(
        {
          PATH: process.env.PATH,
          HOME: "/nonexistent",
          LANG: "C.UTF-8",
          LIVETRAIL_READ_TOKENS: "s3cret",
          EXTRA_ONE: "yes",
          OTHER: "no",
        },
        ["EXTRA_ONE"],
      ),
    });
    const feed = await follow(backend);
    await waitFor(() => feed.lines().some((l) => l.text.startsWith("EXTRA_ONE=")));
    const names = feed.lines().map((l) => l.text.slice(0, l.text.indexOf("=")));
    // sh adds PWD (and may add SHLVL, _) of its own; nothing else comes from the server.
    expect(names.filter((n) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(n)).sort()).toEqual([
      "EXTRA_ONE",
      "HOME",
      "LANG",
      "PATH",
    ]);
  });

  it("on demand: no process until wanted", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pid");
    const backend = commandBackend("lazy", `echo $$ > '${pidFile}'; exec sleep 1000`, { start: "demand" });
    const feed = await follow(backend);
    // Give a process that should not exist every chance to show itself first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pids(pidFile)).toEqual([]);
    expect(backend.pid).toBeNull();
    backend.wanted();
    backend.wanted();
    const [pid] = await waitFor(async () => ((await pids(pidFile)).length > 0 ? pids(pidFile) : null));
    expect(alive(pid as number)).toBe(true);
    expect(backend.starts).toBe(1);
    await feed.close();
    expect(alive(pid as number)).toBe(false);
  });

  it("stops the process group when the server closes: no child or grandchild is left, even one ignoring SIGTERM", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pids");
    // The shell ignores SIGTERM and runs a grandchild: SIGKILL to the group after the grace time ends both.
    const stubborn = commandBackend(
      "stubborn",
      `trap '' TERM; sleep 1000 & echo $! >> '${pidFile}'; echo $$ >> '${pidFile}'; while true; do sleep 0.05; done`,
      { stopGraceMs: 200 },
    );
    const plain = commandBackend("plain", "echo ready; exec sleep 1000");
    const server = await startServer([
      { name: "stubborn", backend: stubborn },
      { name: "plain", backend: plain },
    ]);
    const both = await waitFor(async () => ((await pids(pidFile)).length === 2 ? pids(pidFile) : null));
    const plainPid = await waitFor(() => plain.pid);
    for (const pid of [...both, plainPid]) expect(alive(pid)).toBe(true);
    await server.close();
    // SIGKILLed processes take a moment to be torn down on a loaded machine: wait for it (an orphan never goes).
    for (const pid of [...both, plainPid]) {
      await waitFor(() => !alive(pid), { timeoutMs: 5000, message: `pid ${pid} to be gone` });
    }
    expect(stubborn.pid).toBeNull();
  });
});
