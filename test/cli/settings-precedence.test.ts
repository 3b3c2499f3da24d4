import { writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { parseConfigText } from "../../src/cli/settings/config-file.js";
import { resolveSettings, SettingsError } from "../../src/cli/settings/resolve-settings.js";
import { SETTINGS } from "../../src/cli/settings/settings-table.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { killStrays, runCli } from "./run-cli.js";
import { asArgv, asFlag, asJson, LAYERED, samples } from "./settings-samples.js";

vi.setConfig({ testTimeout: 120_000 });
const tempDir = useTempDirs("livetrail-settings-");
killStrays();

const configOf = (values: Record<string, unknown>) =>
  parseConfigText(JSON.stringify(values, null, 2), "/etc/livetrail/test.json");

/** The environment without any LIVETRAIL_ variable of the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LIVETRAIL_")));
  return { ...env, ...extra };
}

describe("precedence: flag > environment > config file > default, for every setting of the table", () => {
  it("covers the whole table: every setting is layered, a merged token list, or config-only (streams, alerts)", () => {
    const merged = SETTINGS.filter((s) => s.merge === true).map((s) => s.key);
    const configOnly = SETTINGS.filter((s) => s.flag === null).map((s) => s.key);
    expect(merged).toEqual(["readTokens", "writeTokens"]);
    expect(configOnly).toEqual(["streams", "alerts"]);
    expect(LAYERED.length + merged.length + configOnly.length).toBe(SETTINGS.length);
  });

  for (const s of LAYERED) {
    it(`${s.key}: ${s.flag} > ${s.envName} > config "${s.key}" > default`, () => {
      const [flagText, envText, configText] = samples(s);
      const cwd = "/srv";
      const config = configOf({ [s.key]: asJson(s, configText) });
      const env = { [s.envName as string]: envText };
      const flags = { [s.key]: asFlag(s, flagText) };
      const fromConfig = s.kind.fromJson(asJson(s, configText), "/etc/livetrail");
      const fromEnv = s.kind.fromText(envText, cwd);
      const fromFlag = s.kind.repeatable
        ? flagText.split(",").flatMap((t) => s.kind.fromText(t, cwd) as unknown[])
        : s.kind.arg === null
          ? s.negate !== true
          : s.kind.fromText(flagText, cwd);
      // Each layer must change the value, or the test could not tell which one won.
      expect(fromConfig).not.toEqual(s.default);
      expect(fromEnv).not.toEqual(fromConfig);
      expect(fromFlag).not.toEqual(fromEnv);

      const at = (input: Parameters<typeof resolveSettings>[0]) => {
        // One setting alone may break a rule between settings (--identity-header needs --trust-proxy).
        const r = resolveSettings({ cwd, checkRules: false, ...input });
        return [r.values[s.key as keyof typeof r.values], r.sources[s.key as keyof typeof r.sources]];
      };
      expect(at({})).toEqual([s.default, "default"]);
      expect(at({ config })).toEqual([fromConfig, "config"]);
      expect(at({ config, env })).toEqual([fromEnv, "env"]);
      expect(at({ config, env, flags })).toEqual([fromFlag, "flag"]);
      expect(at({ env, flags })).toEqual([fromFlag, "flag"]);
    });
  }

  it("tokens: flag and environment tokens are all accepted; a config file may not hold them", () => {
    for (const s of SETTINGS.filter((x) => x.merge === true)) {
      const r = resolveSettings({
        flags: { [s.key]: ["flag-token-000000000001"] },
        env: { [s.envName as string]: "env-token-00000000000001, env-token-00000000000002" },
      });
      expect(r.values[s.key as "readTokens"]).toEqual([
        "flag-token-000000000001",
        "env-token-00000000000001",
        "env-token-00000000000002",
      ]);
      expect(r.sources[s.key as "readTokens"]).toBe("flag");
      expect(() => resolveSettings({ config: configOf({ [s.key]: ["x".repeat(20)] }) })).toThrow(
        new RegExp(`"${s.key}" cannot be in a config file: it is a secret`),
      );
    }
  });

  it("streams and alerts come from the config file only, paths against its directory", () => {
    const config = configOf({ streams: { app: "logs/app.log" }, alerts: { rules: [] } });
    const r = resolveSettings({ config, env: { LIVETRAIL_STREAMS: "x=/y", LIVETRAIL_ALERTS: "{}" } });
    expect(r.values.streams).toEqual([{ name: "app", file: "/etc/livetrail/logs/app.log" }]);
    expect(r.values.alerts?.rules).toEqual([]);
    expect(r.sources.streams).toBe("config");
  });

  it("every problem is reported at once, each naming its flag, variable or config key and line", () => {
    const config = parseConfigText('{\n  "port": 70000,\n  "prot": 1,\n  "slowClients": "drop"\n}', "c.json");
    let error: unknown;
    try {
      resolveSettings({ config, env: { LIVETRAIL_MAX_LINE_BYTES: "lots" }, flags: { heartbeatMs: "0" } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).problems).toEqual([
      '--config c.json:3: unknown setting "prot" (the settings: docs/settings.md)',
      "--config c.json:2: port needs a whole number 0..65535, got 70000",
      'LIVETRAIL_MAX_LINE_BYTES needs a whole number >= 1, got "lots"',
      '--config c.json:4: slowClients needs "catch-up" or "gap", got "drop"',
      '--heartbeat-ms needs a whole number 1..20000 (ms), got "0"',
    ]);
  });

  it("the real CLI: `config print --json` shows each setting from the config file, then the environment, then flags", async () => {
    const dir = await tempDir();
    const file = dir.file("livetrail.json");
    const configValues: Record<string, unknown> = {};
    const env: Record<string, string> = {};
    const argv: string[] = [];
    for (const s of LAYERED) {
      const [flagText, envText, configText] = samples(s);
      configValues[s.key] = asJson(s, configText);
      env[s.envName as string] = envText;
      argv.push(...asArgv(s, flagText));
    }
    await writeFile(file, JSON.stringify(configValues, null, 2));
    const print = async (withEnv: boolean, withFlags: boolean) => {
      const r = await runCli(["config", "print", "--json", "--config", file, ...(withFlags ? argv : [])], {
        cwd: dir.path,
        env: cleanEnv(withEnv ? env : {}),
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Record<string, { value: unknown; source: string }>;
    };
    const layers = [
      { got: await print(false, false), source: "config" },
      { got: await print(true, false), source: "env" },
      { got: await print(true, true), source: "flag" },
    ];
    const config = parseConfigText(JSON.stringify(configValues), file);
    const flags = Object.fromEntries(LAYERED.map((s) => [s.key, asFlag(s, samples(s)[0])]));
    const inputs = [{ config }, { config, env }, { config, env, flags }];
    layers.forEach(({ got, source }, i) => {
      const expected = resolveSettings({ cwd: dir.path, checkRules: false, ...inputs[i] }).values as Record<
        string,
        unknown
      >;
      for (const s of LAYERED) {
        expect(got[s.key]?.source, s.key).toBe(source);
        if (s.secret !== true) expect(got[s.key]?.value, s.key).toEqual(expected[s.key]);
      }
    });
  });
});
