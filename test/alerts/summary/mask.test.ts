import { describe, expect, it } from "vitest";
import { maskMessage } from "../../../src/alerts/summary/mask.js";
import { MessageGroups } from "../../../src/alerts/summary/message-groups.js";

describe("maskMessage", () => {
  it.each([
    ["repair job 42 failed after 3 retries", "repair job <n> failed after <n> retries"],
    ["request 3f2a9c1e-1111-2222-3333-444455556666 done", "request <uuid> done"],
    ["commit 9fceb02d0ae598e95dc970b74767f19372d61af8 deployed", "commit <hex> deployed"],
    ["segfault at 0x7ffd3a2b", "segfault at <hex>"],
    ["took 250ms, then 1.5s, total 1h30m", "took <duration>, then <duration>, total <duration>"],
    ["waited 3 seconds for 2 minutes", "waited <duration> for <duration>"],
    ["from 10.0.0.12:5432 and 192.168.1.1", "from <ip> and <ip>"],
    ["peer 2001:db8::ff00:42:8329 and fe80::1", "peer <ip> and <ip>"],
    ["at 12:30:45 on 2026-12-04T11:59:00Z", "at <time> on <time>"],
    ["user req8f3a21 and job_20431 by user42x", "user <id> and <id> by <id>"],
    ["disk at 91% on /dev/sda1", "disk at <n>% on /dev/sda<n>"],
    ["Weekly self-heal: All checks passed", "Weekly self-heal: All checks passed"],
  ])("%s", (message, template) => {
    expect(maskMessage(message)).toBe(template);
  });

  it("groups messages that differ only in their variable parts", () => {
    expect(maskMessage("job 41 took 3.2s on 10.1.1.1")).toBe(maskMessage("job 42 took 19ms on 10.9.9.9"));
    expect(maskMessage("job 41 took 3.2s")).not.toBe(maskMessage("task 41 took 3.2s"));
  });
});

describe("MessageGroups", () => {
  it("holds at most its capacity; frequent shapes stay exact, re-admitted ones say how short they may be", () => {
    const groups = new MessageGroups(10);
    for (let i = 0; i < 1000; i++) {
      groups.add("frequent", "frequent", "info", i);
      groups.add(`rare ${i}`, `rare ${i}`, "info", i);
      expect(groups.size).toBeLessThanOrEqual(10);
    }
    const [top, second] = groups.top(2);
    expect(top).toMatchObject({
      template: "frequent",
      count: 1000,
      maxUndercount: 0,
      firstMs: 0,
      lastMs: 999,
    });
    expect(second?.count).toBe(1);
    expect(second?.maxUndercount).toBeGreaterThan(0);
    expect(groups.evicted).toBeGreaterThan(900);
  });
});
