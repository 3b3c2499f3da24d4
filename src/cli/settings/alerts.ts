import { AlertsConfigError, type AlertsOptions, parseAlertsConfig } from "../../server/alerts-config.js";
import { group, optional, SettingProblem, structured, toServer } from "./setting.js";

/** docs/alerts.md: rules and webhook targets; only a config file holds them (SIGHUP reloads them). */
export const alerts = group("Alerts (docs/alerts.md):", {
  alerts: optional<AlertsOptions>({
    kind: structured<AlertsOptions>(
      "an object with rules, targets, dashboardUrl",
      (value, base) => {
        try {
          return parseAlertsConfig(value, base);
        } catch (error) {
          if (error instanceof AlertsConfigError) throw new AlertsProblem(error.problems);
          throw error;
        }
      },
      (a) => `${a.rules.length} rules, ${a.targets.length} targets`,
    ),
    defaultText: "none",
    flag: null,
    help: "alert rules and webhook targets",
    doc: "Alert rules, webhook targets and `dashboardUrl` (docs/alerts.md). Reloaded on SIGHUP.",
    apply: toServer("alerts"),
  }),
});

/** Several problems of the alerts section, each already naming its key (alerts.rules[0] ("name").window). */
export class AlertsProblem extends SettingProblem {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}
