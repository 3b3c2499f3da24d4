import { afterEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/alerts/delivery/dispatcher.js";
import { parseTargets, type WebhookFormat } from "../../../src/alerts/delivery/targets.js";
import { fakeClock, notification, type Receiver, startReceiver } from "./receiver.js";

const DASHBOARD = "https://logs.example.com";

describe("webhook bodies", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  /** Sends a firing notification and its resolution to one target; returns the two parsed bodies. */
  async function deliver(format: WebhookFormat, dashboardUrl: string | null = DASHBOARD): Promise<unknown[]> {
    receiver = await startReceiver();
    const dispatcher = new Dispatcher({
      targets: parseTargets([{ name: format, url: receiver.url, format }]),
      dashboardUrl,
      clock: fakeClock(),
    });
    dispatcher.send(notification());
    await dispatcher.idle();
    dispatcher.send(notification({ status: "resolved", endsAt: "2026-12-04T12:05:00.000Z" }));
    await dispatcher.idle();
    await dispatcher.close();
    for (const r of receiver.requests) {
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
    }
    return receiver.requests.map((r) => JSON.parse(r.body));
  }

  it("json: the notification as it is, plus one dashboard link per evidence line", async () => {
    const [firing, resolved] = (await deliver("json")) as Record<string, unknown>[];
    expect(firing).toEqual({
      ...notification(),
      links: [
        "https://logs.example.com/#stream=audit&line=1.abc.16.120.6",
        "https://logs.example.com/#stream=audit&line=1.abc.16.170.7",
      ],
    });
    expect(resolved).toMatchObject({ status: "resolved", endsAt: "2026-12-04T12:05:00.000Z" });
  });

  it("json: no links without a dashboard URL", async () => {
    const [firing] = (await deliver("json", null)) as Record<string, unknown>[];
    expect(firing?.links).toEqual([]);
  });

  it("alertmanager: an array of postable alerts, endsAt only on the resolution", async () => {
    const [firing, resolved] = (await deliver("alertmanager")) as Record<string, unknown>[][];
    expect(firing).toHaveLength(1);
    const alert = firing?.[0] as Record<string, unknown>;
    expect(Object.keys(alert).sort()).toEqual(["annotations", "generatorURL", "labels", "startsAt"]);
    expect(alert.labels).toEqual({
      alertname: "errors",
      severity: "critical",
      kind: "rate",
      source: "livetrail",
      stream: "audit",
    });
    expect(alert.startsAt).toBe("2026-12-04T11:59:00.000Z");
    expect(alert.generatorURL).toBe("https://logs.example.com/#stream=audit&line=1.abc.16.170.7");
    const annotations = alert.annotations as Record<string, string>;
    expect(annotations.summary).toBe("7 lines matching /ERROR/ in 1m on audit");
    expect(annotations.count).toBe("7");
    expect(annotations.description).toBe(
      "audit 2026-12-04T11:58:59Z: [2026-12-04T11:58:59Z] ERROR: disk <sda> full & failing\n" +
        "audit 2026-12-04T11:59:00Z: [2026-12-04T11:59:00Z] ERROR: repair job 42 failed",
    );
    for (const value of Object.values(annotations)) expect(typeof value).toBe("string");
    expect(resolved?.[0]).toMatchObject({ endsAt: "2026-12-04T12:05:00.000Z", labels: alert.labels });
  });

  it("alertmanager: label names become valid Prometheus label names", async () => {
    receiver = await startReceiver();
    const dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "am", url: receiver.url, format: "alertmanager" }]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification({ labels: { stream: "audit", "host.name": "a", "9lives": "b" } }));
    await dispatcher.idle();
    await dispatcher.close();
    const [alert] = JSON.parse(receiver.requests[0]?.body ?? "[]") as {
      labels: object;
      generatorURL?: string;
    }[];
    expect(alert?.labels).toMatchObject({ stream: "audit", host_name: "a", _9lives: "b" });
    expect(alert?.generatorURL).toBeUndefined();
  });

  it("slack: the fallback text is escaped too", async () => {
    receiver = await startReceiver();
    const dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "s", url: receiver.url, format: "slack" }]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification({ rule: "a<b>", summary: "7 lines matching /<error> & co/" }));
    await dispatcher.idle();
    await dispatcher.close();
    const body = JSON.parse(receiver.requests[0]?.body ?? "{}") as { text: string; blocks: unknown[] };
    expect(body.text).toBe("[FIRING] a&lt;b&gt; (critical): 7 lines matching /&lt;error&gt; &amp; co/");
    expect(JSON.stringify(body.blocks)).not.toMatch(/<error>|a<b>/);
  });

  it("slack: text plus blocks, evidence escaped for mrkdwn and linked to its line", async () => {
    const [firing, resolved] = (await deliver("slack")) as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[];
    }[];
    expect(firing?.text).toBe("[FIRING] errors (critical): 7 lines matching /ERROR/ in 1m on audit");
    expect(firing?.blocks.map((b) => b.type)).toEqual(["section", "section", "context"]);
    const evidence = firing?.blocks[1]?.text?.text ?? "";
    expect(evidence).toContain("ERROR: disk &lt;sda&gt; full &amp; failing");
    expect(evidence).not.toContain("<sda>");
    expect(evidence).toContain(
      "<https://logs.example.com/#stream=audit&amp;line=1.abc.16.120.6|audit 2026-12-04T11:58:59Z>",
    );
    expect(firing?.blocks[0]?.text?.type).toBe("mrkdwn");
    expect(resolved?.text).toMatch(/^\[RESOLVED\] errors/);
    expect(resolved?.blocks.at(-1)?.elements?.[0]?.text).toContain(
      "2026-12-04T11:59:00.000Z – 2026-12-04T12:05:00.000Z",
    );
  });
});
