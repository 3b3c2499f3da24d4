import type { AlertNotification } from "../../alert.js";
import type { WebhookFormat } from "../targets.js";
import { alertmanagerBody } from "./alertmanager-body.js";
import { jsonBody } from "./json-body.js";
import { slackBody } from "./slack-body.js";

/** The request body for one notification in a target's format, serialised once for all its attempts. */
export function renderBody(
  format: WebhookFormat,
  n: AlertNotification,
  dashboardUrl: string | null,
  now: () => number,
): string {
  switch (format) {
    case "json":
      return JSON.stringify(jsonBody(n, dashboardUrl));
    case "alertmanager":
      return JSON.stringify(alertmanagerBody(n, dashboardUrl, now));
    case "slack":
      return JSON.stringify(slackBody(n, dashboardUrl));
  }
}
