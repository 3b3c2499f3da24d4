import { describe, expect, it } from "vitest";
import {
  parseDashboardUrl,
  parseTargets,
  sameTargets,
  TargetConfigError,
} from "../../../src/alerts/delivery/targets.js";

const SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

describe("parseTargets", () => {
  it("reads every key, with defaults for the optional ones", () => {
    const [full, plain] = parseTargets([
      {
        name: "ops",
        url: "https://hooks.example.com/x",
        format: "slack",
        secret: SECRET,
        rateLimit: { perMinute: 6, burst: 2 },
        timeoutMs: 2500,
        headers: { Authorization: "Bearer t" },
      },
      { name: "am", url: "http://127.0.0.1:9093/api/v2/alerts", format: "alertmanager" },
    ]);
    expect(full).toMatchObject({
      name: "ops",
      format: "slack",
      rateLimit: { perMinute: 6, burst: 2 },
      timeoutMs: 2500,
      headers: { Authorization: "Bearer t" },
    });
    expect(full?.secret?.key).toEqual(Buffer.alloc(32, 7));
    // The key never shows in a dump of the config.
    expect(JSON.stringify(full)).not.toContain(Buffer.alloc(32, 7).toString("base64"));
    expect(plain).toMatchObject({ secret: null, rateLimit: null, timeoutMs: 10_000, headers: {} });
    expect(parseTargets(undefined)).toEqual([]);
  });

  it.each([
    [{ name: "a", url: "ftp://x", format: "json" }, 'alerts.targets[0] ("a").url: must be an http(s) URL'],
    [{ name: "a", url: "http://x", format: "xml" }, '("a").format: must be one of json, alertmanager, slack'],
    [{ name: "a b", url: "http://x", format: "json" }, "alerts.targets[0].name: must be"],
    [{ name: "a", url: "http://x", format: "json", sekret: "" }, '("a").sekret: not a target setting'],
    [{ name: "a", url: "http://x", format: "json", secret: "abc" }, '("a").secret: must start with "whsec_"'],
    [
      { name: "a", url: "http://x", format: "json", secret: "whsec_AAAA" },
      ".secret: must encode 24 to 64 bytes",
    ],
    [
      { name: "a", url: "http://x", format: "json", rateLimit: { perMinute: 0 } },
      ".rateLimit.perMinute: must be",
    ],
    [{ name: "a", url: "http://x", format: "json", rateLimit: { per: 1 } }, ".rateLimit.per: not a rate"],
    [{ name: "a", url: "http://x", format: "json", timeoutMs: 5 }, '("a").timeoutMs: must be whole'],
    [
      { name: "a", url: "http://x", format: "json", headers: { "x-a": "1\r\nx: 2" } },
      ".headers.x-a: must be a",
    ],
    [
      { name: "a", url: "http://x", format: "json", headers: { "webhook-id": "1" } },
      ".headers.webhook-id: set by livetrail",
    ],
  ])("refuses %j naming the target and key", (target, message) => {
    expect(() => parseTargets([target])).toThrow(TargetConfigError);
    expect(() => parseTargets([target])).toThrow(message);
  });

  it("refuses a name used twice and a non-array", () => {
    const t = { name: "a", url: "http://x", format: "json" };
    expect(() => parseTargets([t, t])).toThrow('alerts.targets[1] ("a").name: another target has this name');
    expect(() => parseTargets({})).toThrow("alerts.targets: must be an array");
  });

  it("reads the dashboard URL without its trailing slash", () => {
    expect(parseDashboardUrl("https://logs.example.com/")).toBe("https://logs.example.com");
    expect(parseDashboardUrl(undefined)).toBeNull();
    expect(() => parseDashboardUrl("logs.example.com")).toThrow(
      "alerts.dashboardUrl: must be an http(s) URL",
    );
  });

  it("sameTargets tells a changed secret apart, though secrets serialise redacted", () => {
    const one = (secret: string) => parseTargets([{ name: "a", url: "http://x", format: "json", secret }]);
    const other = `whsec_${Buffer.alloc(32, 8).toString("base64")}`;
    expect(JSON.stringify(one(SECRET))).toBe(JSON.stringify(one(other)));
    expect(sameTargets(one(SECRET), one(SECRET))).toBe(true);
    expect(sameTargets(one(SECRET), one(other))).toBe(false);
    expect(sameTargets(one(SECRET), [])).toBe(false);
  });
});
