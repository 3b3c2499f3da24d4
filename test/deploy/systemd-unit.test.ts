import { execFile } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";

/**
 * deploy/livetrail.service through systemd's own checks: `systemd-analyze verify` (syntax, directives, the
 * command) and `systemd-analyze security --offline` (the hardening score). Both read the unit file only; no
 * systemd needs to run. Skipped where systemd-analyze is not installed.
 */

vi.setConfig({ testTimeout: 60_000 });
const tempDir = useTempDirs();
const exec = promisify(execFile);

const unit = await readFile(new URL("../../deploy/livetrail.service", import.meta.url), "utf8");
const analyze = await exec("systemd-analyze", ["--version"]).then(
  () => true,
  () => false,
);
const EXEC = "/usr/bin/livetrail";

/** The unit in a temp dir; `verify` wants ExecStart's program to exist, so it points at an executable stand-in. */
async function unitCopy(): Promise<string> {
  const dir = await tempDir();
  const program = dir.file("livetrail");
  await writeFile(program, "#!/bin/sh\nexit 0\n");
  await chmod(program, 0o755);
  const file = dir.file("livetrail.service");
  await writeFile(file, unit.replace(`ExecStart=${EXEC} `, `ExecStart=${program} `));
  return file;
}

describe("deploy/livetrail.service", () => {
  it("runs livetrail as its own user with a state directory and the logs read-only", () => {
    const settings = new Map<string, string[]>();
    for (const [, key = "", value = ""] of unit.matchAll(/^(\w+)=(.*)$/gm))
      settings.set(key, [...(settings.get(key) ?? []), value]);
    expect(settings.get("User")).toEqual(["livetrail"]);
    expect(settings.get("StateDirectory")).toEqual(["livetrail"]);
    expect(settings.get("ProtectSystem")).toEqual(["strict"]);
    expect(settings.get("NoNewPrivileges")).toEqual(["yes"]);
    expect(settings.get("ExecStart")?.[0]).toMatch(new RegExp(`^${EXEC} serve `));
    // systemd expands $STATE_DIRECTORY (from StateDirectory=) in ExecStart.
    expect(unit).toContain(`--state-dir $\{STATE_DIRECTORY}`);
    // The followed file lies under a read-only path.
    const readOnly = settings.get("ReadOnlyPaths")?.[0]?.split(/\s+/) ?? [];
    const followed = /audit=(\S+)/.exec(unit)?.[1] ?? "";
    expect(readOnly.some((dir) => followed.startsWith(`${dir}/`))).toBe(true);
  });

  it.skipIf(!analyze)("passes systemd-analyze verify", async () => {
    const file = await unitCopy();
    const { stdout, stderr } = await exec("systemd-analyze", ["verify", file]);
    expect(`${stdout}${stderr}`.trim()).toBe("");
  });

  it.skipIf(!analyze)("scores at most 2.0 (OK) in systemd-analyze security", async () => {
    const file = await unitCopy();
    const { stdout } = await exec("systemd-analyze", ["security", "--offline=true", "--no-pager", file]);
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
    expect(score).toBeLessThanOrEqual(2);
  });
});
