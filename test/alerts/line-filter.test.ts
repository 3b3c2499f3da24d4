import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import { compileFilter, requiredLiteral } from "../../src/alerts/line-filter.js";
import { MatchPlan } from "../../src/alerts/match-plan.js";

const spec = (pattern: string, regex: boolean, caseSensitive = true) => ({
  pattern,
  regex,
  caseSensitive,
  levels: null,
});
const anyLevel = () => "info" as const;

describe("line filters", () => {
  it("finds a literal every match must contain, or none", () => {
    expect(requiredLiteral("disk (check|probe) failed on node-\\d+")).toBe(" failed on node-");
    expect(requiredLiteral("Weekly self-heal: All checks passed")).toBe(
      "Weekly self-heal: All checks passed",
    );
    expect(requiredLiteral("latency=\\d{3,}ms")).toBe("latency=");
    expect(requiredLiteral("abcd?e")).toBe("abc");
    expect(requiredLiteral("ERROR|CRITICAL")).toBeNull();
    expect(requiredLiteral("[a-z]+\\d")).toBeNull();
    expect(requiredLiteral("x\\.y\\.z")).toBe("x.y.z");
    expect(requiredLiteral("\\Qa.b\\E")).toBeNull();
  });

  it("matches exactly what RE2 matches, literal prefilter or not (random lines)", () => {
    const patterns = [
      "disk (check|probe) failed",
      "fail(ed|ure)",
      "ab+c",
      "(?i)self-heal.*passed",
      "x\\.y",
      "a[bc]d?e",
      "ERROR|CRITICAL",
    ];
    const alphabet = fc.constantFrom(
      ..."abcdeSELFHAL-heal passed xy.ERRORfail edure disk probe check".split(""),
    );
    const line = fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join(""));
    for (const caseSensitive of [true, false]) {
      for (const p of patterns) {
        const filter = compileFilter(spec(p, true, caseSensitive));
        const re = RE2JS.compile(p, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
        fc.assert(
          fc.property(fc.tuple(line, line), ([a, b]) => {
            for (const text of [a, b, a + p.replace(/[\\()|?+*.[\]]/g, "") + b]) {
              expect(filter.test(text, anyLevel)).toBe(re.test(text));
            }
          }),
          { numRuns: 200 },
        );
      }
    }
  });

  it("literals: exact by default, Unicode case folding when caseless", () => {
    expect(compileFilter(spec("Health check passed", false)).test("[t] Health check passed", anyLevel)).toBe(
      true,
    );
    expect(compileFilter(spec("Health check passed", false)).test("[t] health check passed", anyLevel)).toBe(
      false,
    );
    const caseless = compileFilter(spec("kelvin", false, false));
    expect(caseless.test("\u212Aelvin scale", anyLevel)).toBe(true);
    expect(caseless.test("KELVIN", anyLevel)).toBe(true);
    expect(compileFilter(spec("a.b", false)).test("axb", anyLevel)).toBe(false);
  });

  it("one plan gives each rule the lines it matches, and levels only where asked", () => {
    const rules = [
      { id: "lit", filter: compileFilter(spec("disk", false)) },
      { id: "ci", filter: compileFilter(spec("TIMEOUT", false, false)) },
      { id: "re", filter: compileFilter(spec("node-\\d+ down", true)) },
      { id: "nolit", filter: compileFilter(spec("E[RX]R", true)) },
      {
        id: "lvl",
        filter: compileFilter({ pattern: null, regex: false, caseSensitive: true, levels: ["error"] }),
      },
    ];
    const plan = new MatchPlan(rules);
    const lines = [
      "disk full",
      "a timeout",
      "node-7 down",
      "EXR",
      "[2026-12-01T12:00:00Z] ERROR: boom",
      "quiet",
    ];
    const hits: string[] = [];
    plan.run(
      lines.map((text) => ({ text })),
      (rule, i) => hits.push(`${rule.id}:${i}`),
    );
    expect(hits.sort()).toEqual(["ci:1", "lit:0", "lvl:4", "nolit:3", "nolit:4", "re:2"].sort());
  });

  it("a hostile regex on a long line finishes (linear time), where a backtracking engine would not", async () => {
    // In a worker, so a regression (a backtracking regex) is ended at the deadline instead of freezing the run.
    const url = new URL("../../dist/alerts/line-filter.js", import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then(({ compileFilter }) => {
        const f = compileFilter({ pattern: "(a+)+$", regex: true, caseSensitive: true, levels: null });
        const level = () => "info";
        const long = "a".repeat(200000) + "b";
        const { parentPort } = require("node:worker_threads");
        parentPort.postMessage([f.test(long, level), f.test("aaaa", level), f.test("a".repeat(5000) + "!", level)]);
      });`,
      { eval: true },
    );
    try {
      const result = await new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("the hostile regex did not finish within 30 s")),
          30_000,
        );
        worker.once("message", (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        worker.once("error", reject);
      });
      expect(result).toEqual([false, true, false]);
    } finally {
      await worker.terminate();
    }
  });
});
