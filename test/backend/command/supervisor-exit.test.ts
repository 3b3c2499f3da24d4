import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { alive } from "./process-alive.js";

const tempDir = useTempDirs("livetrail-supervisor-");
/** The built module (test/global-setup.ts builds dist/ first): a plain node process can import it. */
const SUPERVISOR = fileURLToPath(new URL("../../../dist/backend/command/supervisor.js", import.meta.url));

describe("a server that dies without stopping its commands", () => {
  it("takes their process groups along when it exits on an uncaught error", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pid");
    const script = `
      import { Supervisor } from ${JSON.stringify(SUPERVISOR)};
      import { existsSync } from "node:fs";
      const s = new Supervisor({
        argv: ["/bin/sh", "-c", "sleep 1000 & echo $! > ${pidFile}; wait"],
        env: { PATH: process.env.PATH },
        backoff: { initialMs: 1000, maxMs: 1000, resetAfterMs: 1000 },
        stopGraceMs: 1000,
      }, { started() {}, output() { return null; }, exited() {}, failed() {} });
      s.start();
      const wait = setInterval(() => {
        if (existsSync(${JSON.stringify(pidFile)})) { clearInterval(wait); throw new Error("crash"); }
      }, 10);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    const grandchild = await waitFor(async () => Number((await readFile(pidFile, "utf8")).trim()) || null);
    await waitFor(() => !alive(grandchild), { timeoutMs: 5000, message: `pid ${grandchild} gone` });
    expect(alive(grandchild)).toBe(false);
  });
});
