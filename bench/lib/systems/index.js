/** The systems under test by name. */
import { frontail } from "./frontail.js";
import { livetrail } from "./livetrail.js";
import { websocketd } from "./websocketd.js";

/** @type {Record<string, import("./types.js").System>} */
export const systems = { livetrail, frontail, websocketd };
