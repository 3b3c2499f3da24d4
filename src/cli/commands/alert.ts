import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { deliverOnce } from "../../alerts/delivery/dispatcher.js";
import {
  parseDashboardUrl,
  parseTargets,
  redactUrl,
  TargetConfigError,
  type WebhookTarget,
} from "../../alerts/delivery/targets.js";
import { type TestableRule, testNotification } from "../../alerts/delivery/test-notification.js";
import { parseRules, RuleConfigError, type RuleSpec } from "../../alerts/rule-config.js";
import { CliError } from "../cli-error.js";

interface AlertTestOptions {
  config?: string;
  target?: string;
}

export function registerAlert(program: Command): void {
  const alert = program.command("alert").summary("work with alert rules and their webhooks");
  alert
    .command("test")
    .summary("send a rule's notification once to every webhook target")
    .description(
      "Sends one test notification of RULE (its name, kind and severity, marked test=true) to every target in " +
        "the config's alerts.targets, signed as real notifications are, once (no retries), and prints what " +
        "each target answered.",
    )
    .argument("<rule>", "name of a rule in alerts.rules")
    .option("-c, --config <file>", "the server's JSON config file")
    .option("--target <name>", "only this target")
    .addHelpText(
      "after",
      "\nExit status: 0 every target answered 2xx; 1 some target failed; 2 usage or config error.",
    )
    .action(async (ruleName: string, options: AlertTestOptions) => {
      if (options.config === undefined)
        throw new CliError("alert test needs --config FILE (the server's config)", 2);
      const alerts = await readAlertsSection(options.config);
      const rule = findRule(alerts.rules, ruleName, options.config);
      let targets: WebhookTarget[];
      let dashboardUrl: string | null;
      try {
        targets = parseTargets(alerts.targets);
        dashboardUrl = parseDashboardUrl(alerts.dashboardUrl);
      } catch (error) {
        if (error instanceof TargetConfigError)
          throw new CliError(`--config ${options.config}: ${error.message}`, 2);
        throw error;
      }
      if (options.target !== undefined) targets = targets.filter((t) => t.name === options.target);
      if (targets.length === 0) {
        throw new CliError(
          options.target === undefined
            ? `--config ${options.config}: alerts.targets names no webhook target`
            : `--target: no target named "${options.target}"`,
          2,
        );
      }
      const n = testNotification(rule, Date.now());
      // All at once: one slow target does not make the others wait.
      const results = await Promise.all(targets.map((t) => deliverOnce(t, n, dashboardUrl)));
      let failed = 0;
      results.forEach((result, i) => {
        const t = targets[i] as WebhookTarget;
        const where = `${t.name} (${t.format}, ${redactUrl(t.url)})`;
        if (result.ok) {
          process.stdout.write(`${where}: ${result.status}${result.answer ? ` ${result.answer}` : ""}\n`);
        } else {
          failed++;
          process.stdout.write(`${where}: FAILED ${result.error}\n`);
        }
      });
      if (failed > 0) {
        process.stderr.write(`livetrail: ${failed} of ${targets.length} targets failed\n`);
        process.exitCode = 1;
      }
    });
}

interface AlertsSection {
  rules?: unknown;
  targets?: unknown;
  dashboardUrl?: unknown;
}

async function readAlertsSection(path: string): Promise<AlertsSection> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`--config ${path}: ${(error as Error).message}`, 1);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--config ${path}: not valid JSON: ${(error as Error).message}`, 2);
  }
  const alerts = (raw as { alerts?: unknown } | null)?.alerts;
  if (typeof alerts !== "object" || alerts === null || Array.isArray(alerts)) {
    throw new CliError(`--config ${path}: has no "alerts" object`, 2);
  }
  return alerts as AlertsSection;
}

/** The rule by name, after the whole rule list passed the engine's validation (as the server loads it). */
function findRule(rules: unknown, name: string, path: string): TestableRule {
  let specs: RuleSpec[];
  try {
    specs = parseRules(rules ?? []);
  } catch (error) {
    if (error instanceof RuleConfigError) {
      throw new CliError(`--config ${path}: ${error.problems.join(`\n--config ${path}: `)}`, 2);
    }
    throw error;
  }
  const rule = specs.find((r) => r.name === name);
  if (rule === undefined) {
    const names = specs.map((r) => r.name);
    throw new CliError(
      `--config ${path}: no rule named "${name}" in alerts.rules${names.length ? ` (rules: ${names.join(", ")})` : ""}`,
      2,
    );
  }
  return rule;
}
