import { afterEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/alerts/delivery/dispatcher.js";
import { parseTargets } from "../../../src/alerts/delivery/targets.js";
import { waitFor } from "../../helpers/wait-for.js";
import { fakeClock, notification, type Receiver, startReceiver } from "./receiver.js";

describe("retries", () => {
  let receiver: Receiver | undefined;
  let dispatcher: Dispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close(100);
    await receiver?.close();
  });

  async function setUp(answers: { status: number; headers?: Record<string, string>; body?: string }[]) {
    receiver = await startReceiver();
    receiver.answers.push(...answers);
    const clock = fakeClock();
    dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "t", url: receiver.url, format: "json" }]),
      dashboardUrl: null,
      clock,
    });
    return { receiver, dispatcher, clock };
  }

  it("503 twice then 200: one delivery in three attempts, with growing jittered delays", async () => {
    const { receiver, dispatcher, clock } = await setUp([{ status: 503 }, { status: 503 }]);
    dispatcher.send(notification());
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    expect(dispatcher.status().targets[0]).toMatchObject({
      sent: 1,
      failed: 0,
      retried: 2,
      dropped: 0,
      queued: 0,
    });
    // Equal jitter with random() = 0.5: 3/4 of 1 s, then of 2 s.
    expect(clock.sleeps).toEqual([750, 1500]);
  });

  it("400: no retry, counted as failed, the answer kept as the last error", async () => {
    const { receiver, dispatcher } = await setUp([{ status: 400, body: "invalid_payload" }]);
    dispatcher.send(notification());
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(1);
    const status = dispatcher.status().targets[0];
    expect(status).toMatchObject({ sent: 0, failed: 1, retried: 0 });
    expect(status?.lastError).toMatchObject({
      status: 400,
      message: "HTTP 400 Bad Request: invalid_payload",
    });
  });

  it("429 with Retry-After: waits what the target asked, then delivers", async () => {
    const { receiver, dispatcher, clock } = await setUp([{ status: 429, headers: { "retry-after": "7" } }]);
    dispatcher.send(notification());
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
    expect(dispatcher.status().targets[0]).toMatchObject({ sent: 1, retried: 1 });
  });

  it("a Retry-After past the limit ends the delivery instead of holding the queue", async () => {
    const { receiver, dispatcher, clock } = await setUp([
      { status: 503, headers: { "retry-after": "86400" } },
    ]);
    dispatcher.send(notification());
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(dispatcher.status().targets[0]?.lastError?.message).toContain(
      "Retry-After 86400 s is past the 300 s limit",
    );
  });

  it("gives up after the last attempt and keeps going with the next notification", async () => {
    const { receiver, dispatcher } = await setUp(Array.from({ length: 5 }, () => ({ status: 500 })));
    dispatcher.send(notification());
    dispatcher.send(notification({ id: "other" }));
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(6);
    const status = dispatcher.status().targets[0];
    expect(status).toMatchObject({ sent: 1, failed: 1, retried: 4 });
    expect(status?.lastError?.message).toBe("HTTP 500 Internal Server Error (after 5 attempts)");
  });

  it("retries a refused connection (no answer at all)", async () => {
    receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close();
    receiver = undefined;
    const clock = fakeClock();
    dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "gone", url, format: "json" }]),
      dashboardUrl: null,
      clock,
      retry: { maxAttempts: 3 },
    });
    dispatcher.send(notification());
    await dispatcher.idle();
    const status = dispatcher.status().targets[0];
    expect(status).toMatchObject({ sent: 0, failed: 1, retried: 2 });
    expect(status?.lastError).toMatchObject({ status: null });
    expect(status?.lastError?.message).toMatch(/^ECONNREFUSED.*\(after 3 attempts\)$/);
  });

  it("times an attempt out after timeoutMs and retries it", async () => {
    receiver = await startReceiver();
    receiver.answers.push({ status: 200, hang: true });
    dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "slow", url: receiver.url, format: "json", timeoutMs: 200 }]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification());
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(2);
    expect(dispatcher.status().targets[0]).toMatchObject({ sent: 1, retried: 1 });
  });

  it("close() past its deadline aborts the request in flight and drops what waits", async () => {
    receiver = await startReceiver();
    receiver.answers.push({ status: 200, hang: true });
    dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "hung", url: receiver.url, format: "json", timeoutMs: 60_000 }]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification());
    dispatcher.send(notification({ id: "second" }));
    await dispatcher.close(200);
    expect(dispatcher.status().targets[0]).toMatchObject({ sent: 0, dropped: 2, queued: 0 });
    dispatcher.send(notification({ id: "late" }));
    expect(dispatcher.status().targets[0]).toMatchObject({ dropped: 3, queued: 0 });
  });

  it("a failing target does not hold up another one", async () => {
    receiver = await startReceiver();
    const good = await startReceiver();
    try {
      dispatcher = new Dispatcher({
        targets: parseTargets([
          { name: "bad", url: receiver.url, format: "json" },
          { name: "good", url: good.url, format: "json" },
        ]),
        dashboardUrl: null,
        clock: fakeClock(),
      });
      receiver.answers.push({ status: 200, hang: true });
      dispatcher.send(notification());
      const d = dispatcher;
      await waitFor(() => d.status().targets[1]?.sent === 1, { message: "the good target's delivery" });
      expect(receiver.requests).toHaveLength(1);
      expect(dispatcher.status().targets.map((t) => [t.name, t.sent])).toEqual([
        ["bad", 0],
        ["good", 1],
      ]);
    } finally {
      await good.close();
    }
  });
});
