import type { AlertNotification } from "../../alert.js";
import { evidenceLinks } from "./links.js";

/** The generic body: the notification as the engine made it, plus `links[i]` opening `evidence[i]`. */
export interface JsonBody extends AlertNotification {
  links: string[];
}

export function jsonBody(n: AlertNotification, dashboardUrl: string | null): JsonBody {
  return { ...n, links: evidenceLinks(n, dashboardUrl) };
}
