import { createHmac, timingSafeEqual } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/alerts/delivery/dispatcher.js";
import { parseSecret, sign } from "../../../src/alerts/delivery/signing.js";
import { parseTargets } from "../../../src/alerts/delivery/targets.js";
import { fakeClock, notification, type Receiver, startReceiver } from "./receiver.js";

/**
 * A verifier written from the Standard Webhooks spec, independent of src/: strip `whsec_`, base64-decode the key,
 * HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>`, compare with each space-separated `v1,` entry.
 */
function verify(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): boolean {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sigs = headers["webhook-signature"];
  if (typeof id !== "string" || typeof ts !== "string" || typeof sigs !== "string") return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest();
  return sigs.split(" ").some((entry) => {
    const [version, b64] = entry.split(",");
    if (version !== "v1" || b64 === undefined) return false;
    const got = Buffer.from(b64, "base64");
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

// The example the Standard Webhooks reference libraries test against.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("Standard Webhooks signatures", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  it("reproduces the spec's example, and the independent verifier accepts it", () => {
    const headers = {
      "webhook-id": VECTOR.id,
      "webhook-timestamp": String(VECTOR.timestamp),
      "webhook-signature": VECTOR.signature,
    };
    expect(verify(VECTOR.secret, headers, VECTOR.body)).toBe(true);
    expect(verify(VECTOR.secret, headers, `${VECTOR.body} `)).toBe(false);
    expect(sign(parseSecret(VECTOR.secret), VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it("signs every delivered request so the independent verifier accepts it; none without a secret", async () => {
    receiver = await startReceiver();
    const secret = `whsec_${Buffer.from("a 32-byte key for the test, ok!!").toString("base64")}`;
    const clock = fakeClock();
    const dispatcher = new Dispatcher({
      targets: parseTargets([
        { name: "signed", url: receiver.url, format: "json", secret },
        { name: "plain", url: receiver.url, format: "slack" },
      ]),
      dashboardUrl: null,
      clock,
    });
    dispatcher.send(notification());
    dispatcher.send(notification({ status: "resolved", endsAt: "2026-12-04T12:05:00.000Z" }));
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(4);
    const signed = receiver.requests.filter((r) => r.headers["webhook-signature"] !== undefined);
    expect(signed).toHaveLength(2);
    for (const r of signed) {
      expect(verify(secret, r.headers, r.body)).toBe(true);
      expect(verify(secret, r.headers, `${r.body} `)).toBe(false);
      expect(r.headers["webhook-timestamp"]).toBe(String(Math.floor(clock.now() / 1000)));
    }
    // The firing and its resolution are two messages: two ids.
    expect(signed[0]?.headers["webhook-id"]).not.toBe(signed[1]?.headers["webhook-id"]);
    await dispatcher.close();
  });

  it("keeps one message id across the attempts of one notification", async () => {
    receiver = await startReceiver();
    receiver.answers.push({ status: 503 });
    const secret = `whsec_${Buffer.alloc(24, 1).toString("base64")}`;
    const dispatcher = new Dispatcher({
      targets: parseTargets([{ name: "s", url: receiver.url, format: "json", secret }]),
      dashboardUrl: null,
      clock: fakeClock(),
    });
    dispatcher.send(notification());
    await dispatcher.idle();
    const [first, second] = receiver.requests;
    expect(first?.headers["webhook-id"]).toBeDefined();
    expect(second?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
    expect(verify(secret, second?.headers ?? {}, second?.body ?? "")).toBe(true);
    await dispatcher.close();
  });
});
