import { afterEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/alerts/delivery/dispatcher.js";
import { parseTargets } from "../../../src/alerts/delivery/targets.js";
import { TokenBucket } from "../../../src/alerts/delivery/token-bucket.js";
import { waitFor } from "../../helpers/wait-for.js";
import { fakeClock, notification, type Receiver, startReceiver } from "./receiver.js";

describe("rate limit", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  it("token bucket: burst at once, then one per 60/perMinute s", () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ perMinute: 2, burst: 2 }, clock.now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    expect(bucket.waitMs()).toBe(30_000);
    clock.advance(29_999);
    expect(bucket.take()).toBe(false);
    clock.advance(1);
    expect(bucket.take()).toBe(true);
    clock.advance(10 * 60_000);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  it("over the limit: a waiting notification of the same alert is replaced, past the queue bound dropped", async () => {
    receiver = await startReceiver();
    const clock = fakeClock();
    const dispatcher = new Dispatcher({
      targets: parseTargets([
        { name: "t", url: receiver.url, format: "json", rateLimit: { perMinute: 1, burst: 1 } },
      ]),
      dashboardUrl: null,
      clock,
      maxQueue: 3,
    });
    dispatcher.send(notification({ id: "a" }));
    dispatcher.send(notification({ id: "b", count: 1 }));
    dispatcher.send(notification({ id: "c" }));
    dispatcher.send(notification({ id: "d" })); // the queue holds 3: dropped
    dispatcher.send(notification({ id: "b", count: 2 })); // replaces the waiting b
    dispatcher.send(
      notification({ id: "b", count: 3, status: "resolved", endsAt: "2026-12-04T12:01:00.000Z" }),
    );
    expect(dispatcher.status().targets[0]).toMatchObject({ queued: 3, dropped: 1, coalesced: 2 });
    await dispatcher.idle();
    const sent = receiver.requests.map(
      (r) => JSON.parse(r.body) as { id: string; count: number; status: string },
    );
    expect(sent.map((n) => [n.id, n.count, n.status])).toEqual([
      ["a", 7, "firing"],
      ["b", 3, "resolved"],
      ["c", 7, "firing"],
    ]);
    // One token a minute: the second and third waited for theirs.
    expect(clock.sleeps).toEqual([60_000, 60_000]);
    expect(dispatcher.status().targets[0]).toMatchObject({ sent: 3, dropped: 1, coalesced: 2, queued: 0 });
    await dispatcher.close();
  });

  it("a newer state of the notification in flight goes behind it, not in its place", async () => {
    receiver = await startReceiver();
    receiver.answers.push({ status: 200, delayMs: 200 });
    const dispatcher = new Dispatcher({
      targets: parseTargets([
        { name: "t", url: receiver.url, format: "json", rateLimit: { perMinute: 1, burst: 1 } },
      ]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification({ id: "a" }));
    const r = receiver;
    await waitFor(() => r.requests.length === 1, { message: "the first request in flight" });
    dispatcher.send(notification({ id: "a", status: "resolved", endsAt: "2026-12-04T12:01:00.000Z" }));
    await dispatcher.idle();
    expect(receiver.requests.map((q) => JSON.parse(q.body).status)).toEqual(["firing", "resolved"]);
    expect(dispatcher.status().targets[0]).toMatchObject({ sent: 2, coalesced: 0 });
    await dispatcher.close();
  });
});
