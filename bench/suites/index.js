/** The suites, in the order `npm run bench` runs them. */

import { alerts } from "./alerts.js";
import { browser } from "./browser.js";
import { churn } from "./churn.js";
import { coldStart } from "./cold-start.js";
import { docker } from "./docker.js";
import { fanout } from "./fanout.js";
import { idleClients } from "./idle-clients.js";
import { integrity } from "./integrity.js";
import { latency } from "./latency.js";
import { pausedCatchUp } from "./paused-catch-up.js";
import { redis } from "./redis.js";
import { search } from "./search.js";
import { slowClients } from "./slow-clients.js";
import { sources } from "./sources.js";
import { throughput } from "./throughput.js";

/** @type {Record<string, (ctx: import("../lib/context.js").Context) => Promise<object>>} */
export const suites = {
  latency,
  throughput,
  alerts,
  fanout,
  churn,
  "idle-clients": idleClients,
  "slow-clients": slowClients,
  "paused-catch-up": pausedCatchUp,
  "cold-start": coldStart,
  search,
  redis,
  sources,
  docker,
  integrity,
  browser,
};
