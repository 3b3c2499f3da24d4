/** The suites, in the order `npm run bench` runs them. */
import { fanout } from "./fanout.js";
import { latency } from "./latency.js";
import { throughput } from "./throughput.js";

/** @type {Record<string, (ctx: import("../lib/context.js").Context) => Promise<object>>} */
export const suites = { latency, throughput, fanout };
