import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import {
  compileFilter,
  foldCase,
  type LineText,
  requiredLiteral,
  requiredLiterals,
} from "../../src/alerts/line-filter.js";
import { MatchPlan } from "../../src/alerts/match-plan.js";
import { type EntryLevel, parseEntry } from "../../src/core/entry.js";

const spec = (pattern: string, regex: boolean, caseSensitive = true) => ({
  pattern,
  regex,
  caseSensitive,
  levels: null,
});
/** A line as the plan hands it to rules (no level words: level() says info). */
function line(text: string): LineText {
  return { text, folded: () => foldCase(text), level: () => "info" };
}

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
    expect(requiredLiterals("ERROR|CRITICAL")).toEqual(["ERROR", "CRITICAL"]);
    expect(requiredLiterals("disk (a|b) full|[x|y]node down")).toEqual(["disk ", "node down"]);
    expect(requiredLiterals("ERROR|\\d+")).toBeNull();
  });

  it("a level's words are in every line core/entry.ts gives that level (the prefilter drops none)", () => {
    const words = [
      "error",
      "Errors",
      "FAIL",
      "failed",
      "failure",
      "exception",
      "Critical",
      "fatal",
      "warn",
      "WARNING",
      "warnings",
      "ok",
      "OK:",
      "O\u212a",
      "passed",
      "success",
      "successful",
      "succeeded",
      "restored",
      "healthy",
      "ERROR:",
      "WARN:",
      "INFO:",
      "x",
      "-",
      " ",
      "\u0130",
      "\u017f",
    ];
    const message = fc
      .array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 3 })), { maxLength: 8 })
      .map((w) => w.join(" "));
    const filters = (["error", "warn", "ok"] as EntryLevel[]).map((level) => ({
      level,
      filter: compileFilter({ pattern: null, regex: false, caseSensitive: true, levels: [level] }),
    }));
    fc.assert(
      fc.property(message, fc.boolean(), (m, stamped) => {
        const text = stamped ? `[2026-12-01T12:00:00Z] ${m}` : m;
        const level = parseEntry(text).level;
        for (const { level: want, filter } of filters) {
          const plan = new MatchPlan([{ filter }]);
          let hit = false;
          plan.run([{ text }], () => {
            hit = true;
          });
          expect(hit).toBe(level === want);
        }
      }),
      { numRuns: 3000 },
    );
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
    const text = fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join(""));
    for (const caseSensitive of [true, false]) {
      for (const p of patterns) {
        const filter = compileFilter(spec(p, true, caseSensitive));
        const re = RE2JS.compile(p, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
        fc.assert(
          fc.property(fc.tuple(text, text), ([a, b]) => {
            for (const t of [a, b, a + p.replace(/[\\()|?+*.[\]]/g, "") + b]) {
              expect(filter.test(line(t))).toBe(re.test(t));
            }
          }),
          { numRuns: 200 },
        );
      }
    }
  });

  it("literals: exact by default, Unicode case folding when caseless", () => {
    expect(compileFilter(spec("Health check passed", false)).test(line("[t] Health check passed"))).toBe(
      true,
    );
    expect(compileFilter(spec("Health check passed", false)).test(line("[t] health check passed"))).toBe(
      false,
    );
    const caseless = compileFilter(spec("kelvin", false, false));
    expect(caseless.test(line("\u212Aelvin scale"))).toBe(true);
    expect(caseless.test(line("KELVIN"))).toBe(true);
    expect(compileFilter(spec("passed", false, false)).test(line("PAſſED"))).toBe(true);
    expect(compileFilter(spec("a.b", false)).test(line("axb"))).toBe(false);
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
        const line = (text) => ({ text, folded: () => text.toLowerCase(), level: () => "info" });
        const long = "a".repeat(200000) + "b";
        const { parentPort } = require("node:worker_threads");
        parentPort.postMessage([f.test(line(long)), f.test(line("aaaa")), f.test(line("a".repeat(5000) + "!"))]);
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
