import type { FastifyInstance } from "fastify";
import type { AlertsReport } from "../../protocol/messages.js";
import type { ServerContext } from "../context.js";

const DISABLED: AlertsReport = { enabled: false, firing: [], recent: [], targets: [] };

/**
 * `GET /api/alerts`: firing and recent alerts with their evidence (each line with its dashboard link) and the
 * webhook targets' counters. Behind the read token like every `/api/` route (the security plugin).
 */
export function registerAlertsRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/api/alerts", async (): Promise<AlertsReport> => ctx.alerts?.report() ?? DISABLED);
}
