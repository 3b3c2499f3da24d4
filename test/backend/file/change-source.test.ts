import { appendFile, mkdir, rm, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ChangeSource } from "../../../src/backend/file/change-source.js";
import { useClosers } from "../../helpers/closer.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";

const tempDir = useTempDirs("livetrail-change-");
const track = useClosers();
/** Long enough that a test never sees a poll: any wake-up then came from fs.watch. */
const NO_POLL_MS = 3_600_000;

function counter() {
  let runs = 0;
  return {
    run: async () => void runs++,
    get runs() {
      return runs;
    },
  };
}

describe("ChangeSource", () => {
  it("wakes on a write through fs.watch alone", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "");
    const c = counter();
    const source = track(new ChangeSource(file, c.run, { pollIntervalMs: NO_POLL_MS }));
    source.start();
    expect(source.watching).toBe(true);
    await source.idle();
    const before = c.runs;
    await appendFile(file, "x\n");
    await waitFor(() => c.runs > before, { message: "a wake-up from fs.watch" });
  });

  it("wakes for other names in the directory only when asked to", async () => {
    const dir = await tempDir();
    const c = counter();
    const source = track(new ChangeSource(dir.file("a.log"), c.run, { pollIntervalMs: NO_POLL_MS }));
    source.start();
    await source.idle();
    source.anyNameInDirectory = true;
    const before = c.runs;
    await writeFile(dir.file("a.log.1"), "renamed file grows\n");
    await waitFor(() => c.runs > before, { message: "a wake-up for another name" });
  });

  it("coalesces wake-ups during a run into exactly one more run", async () => {
    const dir = await tempDir();
    let release: () => void = () => undefined;
    let runs = 0;
    const run = () => {
      runs++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    const source = track(
      new ChangeSource(dir.file("a.log"), run, { watch: false, pollIntervalMs: NO_POLL_MS }),
    );
    source.wake();
    expect(runs).toBe(1);
    for (let i = 0; i < 10; i++) source.wake();
    expect(runs).toBe(1);
    release();
    await waitFor(() => runs === 2);
    release();
    await source.idle();
    expect(runs).toBe(2);
  });

  it("starts watching a directory once it exists, and again after it is replaced", async () => {
    const dir = await tempDir();
    const sub = dir.file("not/yet");
    const c = counter();
    const source = track(new ChangeSource(`${sub}/a.log`, c.run, { pollIntervalMs: 20 }));
    source.start();
    expect(source.watching).toBe(false);
    await mkdir(sub, { recursive: true });
    await waitFor(() => source.watching, { message: "the watch on the new directory" });
    await rm(sub, { recursive: true });
    await waitFor(() => !source.watching, { message: "the watch to be dropped with its directory" });
    await mkdir(sub, { recursive: true });
    await waitFor(() => source.watching, { message: "the watch on the recreated directory" });
  });

  it("polls when watching is off", async () => {
    const dir = await tempDir();
    const c = counter();
    const source = track(new ChangeSource(dir.file("a.log"), c.run, { watch: false, pollIntervalMs: 10 }));
    source.start();
    expect(source.watching).toBe(false);
    await waitFor(() => c.runs >= 3, { message: "three polls" });
  });

  it("close() is idempotent, waits for the run in progress, and allows no more runs", async () => {
    const dir = await tempDir();
    const c = counter();
    const source = new ChangeSource(dir.file("a.log"), c.run, { pollIntervalMs: 10 });
    source.start();
    await source.idle();
    await Promise.all([source.close(), source.close()]);
    const after = c.runs;
    source.wake();
    source.start();
    expect(source.watching).toBe(false);
    expect(c.runs).toBe(after);
  });

  it("reports a run that rejects and keeps going", async () => {
    const dir = await tempDir();
    const errors: unknown[] = [];
    let runs = 0;
    const source = track(
      new ChangeSource(
        dir.file("a.log"),
        async () => {
          runs++;
          throw new Error("boom");
        },
        { watch: false, pollIntervalMs: 10, onError: (e) => errors.push(e) },
      ),
    );
    source.start();
    await waitFor(() => runs >= 2);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect((errors[0] as Error).message).toBe("boom");
  });
});
