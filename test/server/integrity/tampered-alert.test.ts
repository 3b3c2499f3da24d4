import { open } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../../src/integrity/note.js";
import { sealKeyFromString } from "../../../src/integrity/seal-key.js";
import type { IntegrityInfo, WireAlert } from "../../../src/protocol/messages.js";
import { parseAlertsConfig } from "../../../src/server/alerts-config.js";
import { useClosers } from "../../helpers/closer.js";
import type { Received } from "../../helpers/received.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "../harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-tampered-alert-");

const integrityOf = (m: Received): IntegrityInfo | null =>
  m.type === "integrity" && m.stream === "audit" ? m.integrity : null;

describe("a sealed stream found tampered is a source event for the alert rules", () => {
  it("fires a `tampered` rule once, with the finding as its evidence; other source rules stay quiet", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const srv = track(
      await startServer([{ name: "audit", file }], {
        integrity: {
          sealKey: sealKeyFromString(generateKey("livetrail.test/tamper-alert").signerKey),
          everyLines: 1000,
          everyMs: 50,
          checkMs: 50,
        },
        alerts: parseAlertsConfig({
          rules: [
            { name: "trail-tampered", kind: "source", events: ["tampered"], severity: "critical" },
            { name: "trail-gap", kind: "source", events: ["gap"], severity: "warning" },
          ],
        }),
      }),
    );
    const client = track(await TestClient.connect(`${srv.wsUrl}/ws`));
    const lines = makeLines(0, 2000);
    await appendLines(file, lines);
    await client.waitFor((m) => integrityOf(m)?.sealedTo === 2000, { message: "sealed to 2000" });
    expect(client.messages.some((m) => m.type === "alert")).toBe(false);

    const offset = lines.slice(0, 1500).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const handle = await open(file, "r+");
    await handle.write(Buffer.from("X"), 0, 1, offset + 5); // line 1501
    await handle.close();

    const fired = await client.waitFor<Extract<Received, { type: "alert" }>>(
      (m) => m.type === "alert" && m.alert.rule === "trail-tampered",
      { message: "the tampered rule firing" },
    );
    const alert: WireAlert = fired.alert;
    expect(alert).toMatchObject({ status: "firing", severity: "critical", kind: "source" });
    expect(alert.evidence).toHaveLength(1);
    expect(alert.evidence[0]?.stream).toBe("audit");
    expect(alert.evidence[0]?.text).toContain(`line 1501 changed (at byte ${offset})`);

    // More integrity messages for the same tampered state do not fire it again, and the gap rule never fires.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const alerts = client.messages.filter((m) => m.type === "alert");
    expect(alerts.filter((m) => m.type === "alert" && m.alert.status === "firing")).toHaveLength(1);
    const api = (await (await fetch(`${srv.url}/api/alerts`)).json()) as { firing: WireAlert[] };
    expect(api.firing.map((a) => a.rule)).toEqual(["trail-tampered"]);
  });
});
