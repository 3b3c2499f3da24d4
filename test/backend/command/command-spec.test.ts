import { describe, expect, it } from "vitest";
import { Backoff } from "../../../src/backend/command/backoff.js";
import { commandEnv, envNameProblem } from "../../../src/backend/command/command-env.js";
import { isCommandSpec, parseCommandSpec } from "../../../src/backend/command/command-spec.js";

describe("command specs: cmd: is an argv in shell quoting, run without a shell; sh: is a shell string", () => {
  it("splits cmd: by shell quoting rules and keeps $VAR literal (no shell expands it)", () => {
    expect(parseCommandSpec(`cmd:journalctl -f -o 'short-iso' "a b" c\\ d $HOME`).argv).toEqual([
      "journalctl",
      "-f",
      "-o",
      "short-iso",
      "a b",
      "c d",
      "$HOME",
    ]);
    expect(parseCommandSpec("cmd:kubectl logs -f pod # a comment").argv).toEqual([
      "kubectl",
      "logs",
      "-f",
      "pod",
    ]);
  });

  it("runs sh: with /bin/sh -c, the string as given", () => {
    expect(parseCommandSpec("sh:tail -f a.log | grep -v DEBUG").argv).toEqual([
      "/bin/sh",
      "-c",
      "tail -f a.log | grep -v DEBUG",
    ]);
  });

  it("refuses shell operators and globs in cmd: with a hint, and empty commands", () => {
    expect(() => parseCommandSpec("cmd:tail -f a.log | grep x")).toThrow(/runs no shell, so "\|".*sh:/);
    expect(() => parseCommandSpec("cmd:cat *.log")).toThrow(/"\*\.log"/);
    expect(() => parseCommandSpec("cmd:a > b")).toThrow(/">"/);
    expect(() => parseCommandSpec("cmd:   ")).toThrow(/needs a command/);
    expect(() => parseCommandSpec("sh:")).toThrow(/needs a command string/);
  });

  it("tells command specs from paths", () => {
    expect(isCommandSpec("cmd:ls")).toBe(true);
    expect(isCommandSpec("sh:ls")).toBe(true);
    expect(isCommandSpec("/var/log/cmd:x")).toBe(false);
    expect(isCommandSpec("./cmd:x")).toBe(false);
  });
});

describe("a command's environment is explicit", () => {
  it("passes PATH, HOME, LANG and the allowed names only, never the server's secrets", () => {
    const server = {
      PATH: "/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      LIVETRAIL_READ_TOKENS: "s3cret",
      TZ: "UTC",
    };
    expect(commandEnv(server, [])).toEqual({ PATH: "/bin", HOME: "/root", LANG: "C.UTF-8" });
    expect(commandEnv(server, ["TZ", "UNSET"])).toEqual({
      PATH: "/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      TZ: "UTC",
    });
    expect(commandEnv({}, []).PATH).toBe("/usr/local/bin:/usr/bin:/bin");
    expect(envNameProblem("KUBECONFIG")).toBeNull();
    expect(envNameProblem("A=B")).toMatch(/not an environment variable name/);
  });
});

describe("restart backoff", () => {
  it("doubles while the process keeps exiting quickly, up to the maximum, and starts over after a healthy run", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 5000 });
    expect([10, 10, 10, 10, 10, 10].map((ran) => backoff.next(ran))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoff.next(5000)).toBe(100);
    expect(backoff.next(4999)).toBe(200);
  });

  it("refuses a maximum below the first wait", () => {
    expect(() => new Backoff({ initialMs: 100, maxMs: 50, resetAfterMs: 0 })).toThrow(RangeError);
  });
});
