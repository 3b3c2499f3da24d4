import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { settingsMarkdown, withSettingsTable } from "../../src/cli/settings/settings-docs.js";
import { flagName } from "../../src/cli/settings/settings-options.js";
import { SETTINGS } from "../../src/cli/settings/settings-table.js";
import { runCli } from "./run-cli.js";

vi.setConfig({ testTimeout: 60_000 });

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("docs/settings.md and serve --help come from the settings table", () => {
  it("docs/settings.md's generated tables are the table's (else: livetrail config docs --write docs/settings.md)", () => {
    const doc = read("docs/settings.md");
    // The whole file as it would be regenerated: a difference shows as a diff of the rows that changed.
    expect(doc, "run: node dist/bin/main.js config docs --write docs/settings.md").toBe(
      withSettingsTable(doc),
    );
    for (const s of SETTINGS) expect(doc).toContain(`| \`${s.key}`);
  });

  it("each row names the setting's flag, variable and default", () => {
    const rows = settingsMarkdown().split("\n");
    for (const s of SETTINGS) {
      const row = rows.find((r) => r.startsWith(`| \`${s.key}\``) || r.startsWith(`| \`${s.key} (`)) ?? "";
      if (s.flag !== null) expect(row).toContain(flagName(s) as string);
      if (s.envName !== null) expect(row).toContain(`\`${s.envName}\``);
      if (typeof s.default === "number") expect(row).toContain(`\`${s.default}\``);
    }
  });

  it("the README links to docs/settings.md", () => {
    expect(read("README.md")).toContain("(docs/settings.md)");
  });

  it("serve --help lists every flag of the table, and the config keys", async () => {
    const { code, stdout } = await runCli(["serve", "--help"]);
    expect(code).toBe(0);
    for (const s of SETTINGS) {
      if (s.flag !== null && s.hidden !== true) expect(stdout).toContain(flagName(s) as string);
      if (s.config !== false) expect(stdout).toMatch(new RegExp(`\\b${s.key}\\b`));
    }
    expect(stdout).toContain("Precedence: flag > environment > config file > default");
  });
});

describe("the table itself", () => {
  it("keys, flags and variables are unique; each variable is LIVETRAIL_ and the key in upper snake case", () => {
    const unique = (list: (string | null | undefined)[]) => {
      const given = list.filter((x) => x != null);
      expect(new Set(given).size).toBe(given.length);
    };
    unique(SETTINGS.map((s) => s.key));
    unique(SETTINGS.map((s) => s.flag));
    unique(SETTINGS.map((s) => s.short));
    unique(SETTINGS.map((s) => s.envName));
    for (const s of SETTINGS) {
      if (s.flag !== null)
        expect(s.envName).toBe(`LIVETRAIL_${s.key.replace(/([A-Z])/g, "_$1").toUpperCase()}`);
      expect(s.help.length).toBeGreaterThan(5);
    }
  });

  it("the table's defaults are the server library's own (a setting left alone changes nothing)", async () => {
    const { resolveOptions } = await import("../../src/server/options.js");
    const { resolveSecurity } = await import("../../src/server/security/security-options.js");
    const { applySettings } = await import("../../src/cli/settings/apply-settings.js");
    const { resolveSettings } = await import("../../src/cli/settings/resolve-settings.js");
    const { values } = resolveSettings({});
    const streams = [{ name: "a", file: "/tmp/a.log" }];
    const applied = applySettings({ ...values, streams });
    const fromTable = resolveOptions(applied.server, "/static");
    const library = resolveOptions({ streams }, "/static");
    const { security: s1, ...rest1 } = fromTable;
    const { security: s2, ...rest2 } = library;
    expect(rest1).toEqual(rest2);
    const plain = (s: ReturnType<typeof resolveSecurity>) => ({ ...s, tokens: s.tokens.size });
    expect(plain(s1)).toEqual(plain(s2));
  });
});
