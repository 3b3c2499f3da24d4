import { describe, expect, it } from "vitest";
import type { AlertTargetStatus } from "../../src/protocol/messages.js";
import { anyFailing, lastAttemptFailed, targetView } from "../../src/web/delivery-status.js";

function target(over: Partial<AlertTargetStatus> = {}): AlertTargetStatus {
  return {
    name: "pager",
    format: "json",
    url: "https://hooks.example.com:8443",
    queued: 0,
    sent: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
    coalesced: 0,
    lastError: null,
    lastSentAt: null,
    ...over,
  };
}

const ERROR = { at: "2026-12-04T19:00:05.123Z", message: "HTTP 500 Internal Server Error", status: 500 };

describe("delivery status", () => {
  it("a target that never failed is fine and shows its counts and host", () => {
    const t = target({ sent: 3, dropped: 1, lastSentAt: "2026-12-04T19:00:00.000Z" });
    expect(lastAttemptFailed(t)).toBe(false);
    expect(targetView(t)).toEqual({
      name: "pager",
      host: "hooks.example.com:8443",
      counts: "3 sent · 0 failed · 1 dropped",
      failing: false,
      error: null,
    });
  });

  it("the last error counts while no success came after it", () => {
    const failedOnly = target({ failed: 1, lastError: ERROR });
    expect(lastAttemptFailed(failedOnly)).toBe(true);
    const successBefore = target({ failed: 1, lastError: ERROR, lastSentAt: "2026-12-04T19:00:01.000Z" });
    expect(lastAttemptFailed(successBefore)).toBe(true);
    const successAfter = target({ failed: 1, lastError: ERROR, lastSentAt: "2026-12-04T19:00:06.000Z" });
    expect(lastAttemptFailed(successAfter)).toBe(false);
    expect(anyFailing([target(), successAfter])).toBe(false);
    expect(anyFailing([target(), successAfter, failedOnly])).toBe(true);
    expect(anyFailing([])).toBe(false);
  });

  it("the error shows its status and time, and a past error stays visible after a success", () => {
    const v = targetView(target({ failed: 1, queued: 2, lastError: ERROR }));
    expect(v.failing).toBe(true);
    expect(v.counts).toBe("0 sent · 1 failed · 0 dropped · 2 queued");
    expect(v.error).toBe("status 500 at 2026-12-04 19:00:05 UTC: HTTP 500 Internal Server Error");
    const recovered = targetView(
      target({ lastError: ERROR, lastSentAt: "2026-12-04T19:01:00.000Z", failed: 1, sent: 1 }),
    );
    expect(recovered.failing).toBe(false);
    expect(recovered.error).toContain("status 500");
    const noAnswer = targetView(target({ lastError: { ...ERROR, status: null, message: "ECONNREFUSED" } }));
    expect(noAnswer.error).toBe("no answer at 2026-12-04 19:00:05 UTC: ECONNREFUSED");
  });

  it("control and bidi characters in server text are shown as escapes", () => {
    const v = targetView(
      target({ name: "a\u202eb", lastError: { ...ERROR, message: "HTTP 500: <b>x</b>\u202eevil\u0007" } }),
    );
    expect(v.name).toBe("a\\u202eb");
    expect(v.error).toContain("<b>x</b>\\u202eevil\\x07");
    expect(targetView(target({ url: "not a url" })).host).toBe("not a url");
  });
});
