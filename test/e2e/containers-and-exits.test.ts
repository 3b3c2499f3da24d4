import { describe, expect, it } from "vitest";
import { CommandBackend } from "../../src/backend/command/command-backend.js";
import { commandEnv } from "../../src/backend/command/command-env.js";
import { parseCommandSpec } from "../../src/backend/command/command-spec.js";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { EngineStatsStandIn, type StandInContainer } from "../metrics/engine-stats-stand-in.js";
import { openDashboard, startStack, useBuiltDashboard, visibleRowTexts } from "./dashboard-harness.js";

const shared = useBuiltDashboard("livetrail-web-containers-");
const MiB = 1024 * 1024;

describe("per-container charts and command exits in a real browser", () => {
  const track = useClosers();

  it("draws a CPU and a memory line per container (stand-in Engine API) and shows a command's exit as a marker row", async () => {
    // A STAND-IN for the Docker Engine API v1.43 (see engine-stats-stand-in.ts): no engine runs here.
    const dir = await makeTempDir("livetrail-e2e-engine-");
    track({ close: () => dir.remove() });
    const container = (name: string, c: string): StandInContainer => ({
      id: c.repeat(64),
      name,
      state: "running",
      cpuNs: 1e9,
      memoryUsage: 200 * MiB,
      inactiveFile: 50 * MiB,
      limit: 1024 * MiB,
    });
    const engine = new EngineStatsStandIn(dir.file("docker.sock"), [
      container("web", "a"),
      container("db", "b"),
    ]);
    await engine.start();
    track({ close: () => engine.stop() });
    // The containers' counters move as time passes: web uses 40 % of a CPU, db 10 %.
    const moving = setInterval(() => {
      (engine.containers[0] as StandInContainer).cpuNs += 0.08e9;
      (engine.containers[1] as StandInContainer).cpuNs += 0.02e9;
      engine.systemNs += 0.4e9; // 200 ms of a 2-CPU host
    }, 200);
    track({ close: async () => clearInterval(moving) });

    const job = new CommandBackend("job", {
      command: parseCommandSpec("sh:echo job started; exit 3"),
      env: commandEnv(process.env, []),
      ring: { maxLines: 100, maxBytes: 1 << 16 },
      start: "boot",
      backoff: { initialMs: 2000, maxMs: 2000, resetAfterMs: 60_000 },
      stopGraceMs: 500,
    });
    const stack = track(
      await startStack(shared.web.path, [], {
        streams: [{ name: "job", backend: job }],
        containerMetrics: { host: `unix://${engine.socketPath}` },
      }),
    );
    const page = await openDashboard(shared.browser, stack.url);
    track({ close: () => page.context().close() });
    const consoleErrors: string[] = [];
    page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });

    // The command exits 3 and restarts 2 s later, every time: its exit is a marker row after its line.
    await waitFor(
      async () =>
        (await visibleRowTexts(page)).some((t) =>
          t.includes("process exited with code 3 · restarting in 2 s"),
        ),
      { timeoutMs: 15_000, message: "the exit marker row" },
    );
    const rows = await visibleRowTexts(page);
    const marker = rows.findIndex((t) => t.includes("process exited with code 3"));
    expect(rows[marker - 1]).toContain("job started");

    // Only containers are sampled (no host metrics): the panel opens with their two charts.
    await page.locator("#metrics-toggle").waitFor({ state: "visible" });
    await page.click("#metrics-toggle");
    expect(await page.locator("#metrics-containers").isVisible()).toBe(true);
    const points = async (id: string) => Number((await page.getAttribute(`#${id}`, "data-points")) ?? 0);
    await waitFor(async () => (await points("metrics-containers-cpu")) >= 2, {
      timeoutMs: 20_000,
      message: "2 container samples drawn",
    });
    expect(await page.getAttribute("#metrics-containers", "data-containers")).toBe("web,db");
    for (const id of ["metrics-containers-cpu", "metrics-containers-mem"]) {
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1);
      expect(await page.locator(`#${id} .u-legend`).textContent(), id).toMatch(/web.*db/);
    }
    expect(consoleErrors).toEqual([]);
  }, 90_000);
});
