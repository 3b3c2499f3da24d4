import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { parseAlertRecord } from "../../src/alerts/summary/alert-records.js";
import type { AlertsReport, LinesPage, WireAlert } from "../../src/protocol/messages.js";
import { parseAlertsConfig } from "../../src/server/alerts-config.js";
import { ManualScheduler } from "../alerts/manual-scheduler.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, startServer, TestClient, writeLines } from "./harness.js";

const tempDir = useTempDirs("livetrail-alerts-");
const track = useClosers();

/** A webhook receiver on loopback that records every request. */
async function receiver(): Promise<{
  url: string;
  got: { headers: IncomingHttpHeaders; body: unknown }[];
  close(): Promise<void>;
}> {
  const got: { headers: IncomingHttpHeaders; body: unknown }[] = [];
  const server: Server = createHttpServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      text += d;
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const stamp = (): string => `[${new Date().toISOString().replace(/\.\d+Z$/, "Z")}]`;

describe("server alerts", () => {
  it("a storm of matching lines fires one webhook and one alert message; the API, the alerts stream and /metrics show it", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, [`${stamp()} started`]);
    const hook = track(await receiver());
    const alerts = parseAlertsConfig({
      rules: [{ name: "disk-full", kind: "match", pattern: "DISK FULL", severity: "critical", evidence: 5 }],
      targets: [{ name: "hook", url: hook.url, format: "json" }],
    });
    const { server, url, wsUrl } = track(
      await startServer([{ name: "app", file: log }], { alerts, stateDir: dir.file("state") }),
    );
    const ws = await TestClient.connect(`${wsUrl}/ws`);
    track({ close: () => ws.ws.close() });
    const client = { c: ws };
    const snapshot = await client.c.waitFor((m) => m.type === "alerts");
    expect(snapshot).toMatchObject({ type: "alerts", firing: [], recent: [] });
    client.c.send({ type: "subscribe", stream: "app" });
    await client.c.waitFor((m) => m.type === "live");

    // Three matching lines in one write, then (a later read) two more: one episode, one notification.
    const hostile = `${stamp()} ERROR: DISK FULL on /var <img src=x onerror=alert(1)>`;
    await appendLines(log, [
      `${stamp()} ERROR: DISK FULL on /`,
      `${stamp()} ok`,
      `${stamp()} ERROR: DISK FULL on /srv`,
    ]);
    await client.c.waitFor((m) => m.type === "alert");
    await appendLines(log, [hostile, `${stamp()} marker-after`]);
    await client.c.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("marker-after")));
    await waitFor(() => server.alerts?.deliveryStatus().targets[0]?.queued === 0 && hook.got.length >= 1);

    const alertMessages = client.c.messages.filter((m) => m.type === "alert");
    expect(alertMessages).toHaveLength(1);
    expect(hook.got).toHaveLength(1);
    const alert = (alertMessages[0] as { alert: WireAlert }).alert;
    expect(alert).toMatchObject({
      rule: "disk-full",
      status: "firing",
      severity: "critical",
      labels: { stream: "app" },
    });
    expect((hook.got[0]?.body as { id?: string } | undefined)?.id).toBe(alert.id);

    // The rules run in a worker: a firing alert's evidence in /api/alerts is up to 250 ms old, exact after flush().
    await server.alerts?.flush();
    const report = (await (await fetch(`${url}/api/alerts`)).json()) as AlertsReport;
    expect(report.enabled).toBe(true);
    expect(report.firing.map((a) => a.id)).toEqual([alert.id]);
    const evidence = report.firing[0]?.evidence ?? [];
    expect(evidence.map((e) => e.text)).toEqual([
      `${evidence[0]?.text.slice(0, 22)} ERROR: DISK FULL on /`,
      `${evidence[1]?.text.slice(0, 22)} ERROR: DISK FULL on /srv`,
      hostile,
    ]);
    expect(report.targets[0]).toMatchObject({ name: "hook", sent: 1, failed: 0 });
    // Each evidence cursor names its line: the line route returns it, and paging after it continues with the next.
    const first = evidence[0];
    expect(first?.link).toBe(`/#stream=app&line=${encodeURIComponent(first?.cursor ?? "")}`);
    const line = (await (
      await fetch(`${url}/api/streams/app/line?cursor=${encodeURIComponent(first?.cursor ?? "")}`)
    ).json()) as { line: { text: string } };
    expect(line.line.text).toBe(first?.text);
    const next = (await (
      await fetch(`${url}/api/streams/app/lines?after=${encodeURIComponent(first?.cursor ?? "")}&limit=1`)
    ).json()) as LinesPage;
    expect(next.lines[0]?.text).toMatch(/\] ok$/);

    // The alerts stream holds one readable line, coloured by its label, that the summary reads back.
    const page = await waitFor(async () => {
      const p = (await (await fetch(`${url}/api/streams/alerts/lines`)).json()) as LinesPage;
      return p.lines.length > 0 ? p : null;
    });
    expect(page.lines).toHaveLength(1);
    expect(page.lines[0]?.text).toMatch(
      /^\[[^\]]+\] ERROR: FIRING critical disk-full: .* \(stream app\) \{"id":/,
    );
    expect(page.lines[0]?.level).toBe("error");
    expect(parseAlertRecord(page.lines[0]?.text ?? "")).toMatchObject({ id: alert.id, status: "firing" });

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('livetrail_alerts_fired_total{rule="disk-full"} 1');
    expect(metrics).toContain('livetrail_alerts_firing{rule="disk-full"} 1');
    expect(metrics).toContain('livetrail_webhook_sent_total{target="hook"} 1');
    expect(metrics).toContain('livetrail_webhook_failed_total{target="hook"} 0');
  });

  it("a new dashboard gets what is firing in its first alerts message; without rules /api/alerts says so", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, []);
    const alerts = parseAlertsConfig({ rules: [{ name: "boom", kind: "match", pattern: "boom" }] });
    const { server, wsUrl } = track(await startServer([{ name: "app", file: log }], { alerts }));
    await appendLines(log, [`${stamp()} boom`]);
    await waitFor(() => (server.alerts?.snapshot().firing.length ?? 0) > 0);
    const client = await TestClient.connect(`${wsUrl}/ws`);
    track({ close: () => client.ws.close() });
    const snapshot = await client.waitFor((m) => m.type === "alerts");
    expect(snapshot).toMatchObject({ firing: [{ rule: "boom", status: "firing" }] });
    // Without a state directory the alerts stream is in memory: its cursors do not survive a restart.
    const hello = client.messages.find((m) => m.type === "hello") as {
      streams: { name: string; cursors: unknown }[];
    };
    expect(hello.streams.find((s) => s.name === "alerts")?.cursors).toEqual({ durable: false });

    const plain = track(await startServer([{ name: "app", file: log }]));
    expect(await (await fetch(`${plain.url}/api/alerts`)).json()).toEqual({
      enabled: false,
      firing: [],
      recent: [],
      targets: [],
    });
  });

  it("the alerts section: stateFile against the config's directory, unknown keys and every problem named", () => {
    expect(parseAlertsConfig({ rules: [], stateFile: "s/a.json" }, "/etc/lt").stateFile).toBe(
      "/etc/lt/s/a.json",
    );
    expect(() =>
      parseAlertsConfig({ rule: [], rules: [{ name: "x", kind: "silence" }], targets: [{ name: "t" }] }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringContaining("alerts.rule: unknown key"),
          expect.stringContaining('alerts.rules[0] ("x").pattern'),
          expect.stringContaining('alerts.rules[0] ("x").period'),
          expect.stringContaining("alerts.targets[0]"),
        ],
      }),
    );
  });

  it("GET /api/alerts needs the read token; close() waits for a webhook still being delivered", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, []);
    // A receiver that answers only when told: the notification is in flight when the server closes.
    let answer: (() => void) | null = null;
    const got: unknown[] = [];
    const slow = createHttpServer((req, res) => {
      let text = "";
      req.on("data", (d: Buffer) => {
        text += d.toString();
      });
      req.on("end", () => {
        answer = () => {
          got.push(JSON.parse(text));
          res.writeHead(204).end();
        };
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    track({ close: () => new Promise<void>((resolve) => slow.close(() => resolve())) });
    const alerts = parseAlertsConfig({
      rules: [{ name: "boom", kind: "match", pattern: "boom" }],
      targets: [
        { name: "slow", url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, format: "json" },
      ],
    });
    const { server, url } = await startServer([{ name: "app", file: log }], {
      alerts,
      security: { readTokens: ["r3ad-t0ken-for-the-alerts-test"] },
    });
    expect((await fetch(`${url}/api/alerts`)).status).toBe(401);
    const authed = await fetch(`${url}/api/alerts`, {
      headers: { authorization: "Bearer r3ad-t0ken-for-the-alerts-test" },
    });
    expect(((await authed.json()) as AlertsReport).enabled).toBe(true);

    await appendLines(log, [`${stamp()} boom`]);
    await waitFor(() => answer !== null, { message: "the webhook request to arrive" });
    const closed = server.close();
    let closedYet = false;
    void closed.then(() => {
      closedYet = true;
    });
    // The server is waiting for the answer (its drain deadline is 5 s): answering lets close() finish.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedYet).toBe(false);
    (answer as unknown as () => void)();
    await closed;
    expect(got).toHaveLength(1);
    expect(server.alerts?.deliveryStatus().targets[0]).toMatchObject({ sent: 1, dropped: 0 });
  });

  it("a silence rule on injected time: fires after its period, resolves with the next line, both in the alerts stream", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, []);
    const scheduler = new ManualScheduler();
    const alerts = {
      ...parseAlertsConfig({
        rules: [
          {
            name: "health-checks-stopped",
            kind: "silence",
            pattern: "Health check passed",
            period: "10m",
            severity: "critical",
          },
        ],
      }),
      scheduler,
    };
    const { server, url, wsUrl } = track(await startServer([{ name: "app", file: log }], { alerts }));
    const client = await TestClient.connect(`${wsUrl}/ws`);
    track({ close: () => client.ws.close() });
    client.send({ type: "subscribe", stream: "app" });
    await client.waitFor((m) => m.type === "live");
    const hub = server.streams.get("app");
    await appendLines(log, ["Health check passed"]);
    await waitFor(() => hub?.counters.linesRead === 1);

    scheduler.advance(9 * 60_000);
    // The engine notifies synchronously: nothing has fired before the period is over.
    expect(server.alerts?.snapshot().recent).toEqual([]);
    scheduler.advance(60_000 + 1);
    const fired = (await client.waitFor((m) => m.type === "alert")) as { alert: WireAlert };
    expect(fired.alert).toMatchObject({ rule: "health-checks-stopped", status: "firing", kind: "silence" });

    await appendLines(log, ["Health check passed"]);
    const resolved = (await client.waitFor(
      (m) => m.type === "alert" && (m as { alert: WireAlert }).alert.status === "resolved",
    )) as { alert: WireAlert };
    expect(resolved.alert.id).toBe(fired.alert.id);

    const page = await waitFor(async () => {
      const p = (await (await fetch(`${url}/api/streams/alerts/lines`)).json()) as LinesPage;
      return p.lines.length === 2 ? p : null;
    });
    expect(page.lines.map((l) => l.level ?? "info")).toEqual(["error", "ok"]);
    expect(page.lines[1]?.text).toMatch(/\] OK: RESOLVED critical health-checks-stopped: /);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('livetrail_alerts_resolved_total{rule="health-checks-stopped"} 1');
    expect(metrics).toContain('livetrail_alerts_firing{rule="health-checks-stopped"} 0');
  });

  it("reload with new targets: later notifications go to the new target; unchanged rules keep their alerts", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, []);
    const first = track(await receiver());
    const second = track(await receiver());
    const rules = [{ name: "boom", kind: "match", pattern: "boom" }];
    const config = (url: string, more: unknown[] = []) =>
      parseAlertsConfig({ rules: [...rules, ...more], targets: [{ name: "hook", url, format: "json" }] });
    const { server, url } = track(
      await startServer([{ name: "app", file: log }], { alerts: config(first.url) }),
    );
    await appendLines(log, [`${stamp()} boom`]);
    await waitFor(() => first.got.length === 1);
    const firing = server.alerts?.snapshot().firing.map((a) => a.id);

    server.alerts?.reload(config(second.url, [{ name: "zap", kind: "match", pattern: "zap" }]));
    expect(server.alerts?.snapshot().firing.map((a) => a.id)).toEqual(firing);
    await appendLines(log, [`${stamp()} zap`]);
    await waitFor(() => second.got.length === 1);
    expect((second.got[0]?.body as { rule?: string } | undefined)?.rule).toBe("zap");
    expect(first.got).toHaveLength(1);
    const report = (await (await fetch(`${url}/api/alerts`)).json()) as AlertsReport;
    expect(report.targets).toMatchObject([{ name: "hook", sent: 1 }]);

    // The same targets again keep the dispatcher (and its counters); a new secret alone replaces it.
    const same = config(second.url, [{ name: "zap", kind: "match", pattern: "zap" }]);
    server.alerts?.reload(same);
    expect(server.alerts?.deliveryStatus().targets[0]?.sent).toBe(1);
    const signedWith = (secret: string) =>
      parseAlertsConfig({
        rules: [
          ...rules,
          { name: "zap", kind: "match", pattern: "zap" },
          { name: "bang", kind: "match", pattern: "bang" },
        ],
        targets: [{ name: "hook", url: second.url, format: "json", secret }],
      });
    server.alerts?.reload(signedWith("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    await appendLines(log, [`${stamp()} bang`]);
    await waitFor(() => server.alerts?.deliveryStatus().targets[0]?.sent === 1);
    expect(second.got[1]?.headers["webhook-signature"]).toMatch(/^v1,/);
    server.alerts?.reload(signedWith("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="));
    expect(server.alerts?.deliveryStatus().targets[0]?.sent).toBe(0);
  });
});
