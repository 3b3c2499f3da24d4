import { describe, expect, it } from "vitest";
import { groupByHost } from "../../src/web/tab-bar.js";
import { formatUrlState, readUrlState } from "../../src/web/url-state.js";

describe("tabs by host and the merged view's URL", () => {
  it("groups streams by host in order of their first stream, unknown hosts together", () => {
    expect(
      groupByHost([
        { name: "web", host: "web-1" },
        { name: "db", host: "db-2" },
        { name: "app", host: "web-1" },
        { name: "stdin" },
      ]),
    ).toEqual([
      { host: "web-1", names: ["web", "app"] },
      { host: "db-2", names: ["db"] },
      { host: null, names: ["stdin"] },
    ]);
    expect(groupByHost([{ name: "a" }, { name: "b" }])).toEqual([{ host: null, names: ["a", "b"] }]);
  });

  it("keeps a merged selection in the hash, instead of one stream", () => {
    const filter = { text: "timeout", caseSensitive: false, regex: false, onlyMatching: true };
    const hash = formatUrlState({ stream: "a,b", merge: ["web", "db.2"], filter, line: null });
    expect(hash).toBe("#merge=web%2Cdb.2&q=timeout");
    expect(readUrlState(hash)).toMatchObject({ stream: null, merge: ["web", "db.2"], filter });
    expect(readUrlState("#stream=web").merge).toBeNull();
    expect(readUrlState("#merge=").merge).toEqual([]);
  });
});
