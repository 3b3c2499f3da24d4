import { afterEach, describe, expect, it } from "vitest";
import { CommandBackend } from "../../../src/backend/command/command-backend.js";
import { commandEnv } from "../../../src/backend/command/command-env.js";
import { parseCommandSpec } from "../../../src/backend/command/command-spec.js";
import type { AlertsReport } from "../../../src/protocol/messages.js";
import { parseAlertsConfig } from "../../../src/server/alerts-config.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startServer } from "../../server/harness.js";

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

describe("command exits feed the alert rules", () => {
  it("a command that keeps exiting fires a command-exited source rule, with the exit as evidence", async () => {
    const backend = new CommandBackend("flaky", {
      command: parseCommandSpec("sh:echo starting; exit 7"),
      env: commandEnv(process.env, []),
      ring: { maxLines: 100, maxBytes: 1 << 16 },
      start: "boot",
      backoff: { initialMs: 20, maxMs: 40, resetAfterMs: 60_000 },
      stopGraceMs: 500,
    });
    const alerts = parseAlertsConfig(
      {
        rules: [
          { name: "crash loop", kind: "source", events: ["command-exited"], threshold: 2, window: "10m" },
        ],
      },
      process.cwd(),
    );
    const server = await startServer([{ name: "flaky", backend }], { alerts });
    close = () => server.close();
    const report = await waitFor(
      async () => {
        const body = (await (await fetch(`${server.url}/api/alerts`)).json()) as AlertsReport;
        return body.firing.length > 0 ? body : null;
      },
      { message: "the crash loop alert" },
    );
    expect(report.firing[0]).toMatchObject({ rule: "crash loop" });
    expect(JSON.stringify(report.firing[0])).toContain("the command exited (code 7)");
    expect(backend.starts).toBeGreaterThanOrEqual(3);
  });
});
