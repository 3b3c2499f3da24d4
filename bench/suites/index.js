/** The suites, in the order `npm run bench` runs them. */
import { latency } from "./latency.js";

/** @type {Record<string, (ctx: import("../lib/context.js").Context) => Promise<object>>} */
export const suites = { latency };
