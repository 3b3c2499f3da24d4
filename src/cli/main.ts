#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { describeError } from "./cli-error.js";
import { registerAlert } from "./commands/alert.js";
import { registerConfig } from "./commands/config.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerKeygen } from "./commands/keygen.js";
import { registerLog } from "./commands/log.js";
import { registerServe } from "./commands/serve.js";
import { registerShip } from "./commands/ship.js";
import { registerSummary } from "./commands/summary.js";
import { registerTail } from "./commands/tail.js";
import { registerVerify } from "./commands/verify.js";
import { registerWitness } from "./commands/witness.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

// `livetrail tail | head` closes our stdout early: that is a normal end, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const program = new Command("livetrail")
  .description("Follow append-only audit logs exactly and stream them live to browsers.")
  .version(version, "-V, --version")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerServe(program);
registerShip(program);
registerLog(program);
registerTail(program);
registerVerify(program);
registerWitness(program);
registerKeygen(program);
registerAlert(program);
registerSummary(program);
registerConfig(program);
registerDoctor(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message; help and --version end normally, every other parse error is usage.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const { message, exitCode } = describeError(error);
    process.stderr.write(`livetrail: ${message}\n`);
    process.exitCode = exitCode;
  }
}
