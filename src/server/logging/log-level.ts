/** The server log's levels, least severe last but "silent" (pino's names). Apart from log-settings.ts so the
 * settings table can name them without loading fastify. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
