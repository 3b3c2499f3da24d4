#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { describeError } from "./cli-error.js";

/**
 * The commands in the order --help lists them, each loaded only when it is needed: `livetrail serve ...` loads
 * serve's modules alone (not verify's, witness's, doctor's ...): less to compile at every start. A first
 * argument that names no command (--help, help, a typo) loads them all, so commander can list or suggest them.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  serve: async () => (await import("./commands/serve.js")).registerServe,
  ship: async () => (await import("./commands/ship.js")).registerShip,
  log: async () => (await import("./commands/log.js")).registerLog,
  tail: async () => (await import("./commands/tail.js")).registerTail,
  verify: async () => (await import("./commands/verify.js")).registerVerify,
  witness: async () => (await import("./commands/witness.js")).registerWitness,
  keygen: async () => (await import("./commands/keygen.js")).registerKeygen,
  alert: async () => (await import("./commands/alert.js")).registerAlert,
  summary: async () => (await import("./commands/summary.js")).registerSummary,
  config: async () => (await import("./commands/config.js")).registerConfig,
  doctor: async () => (await import("./commands/doctor.js")).registerDoctor,
};

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

const named = process.argv[2];
const loaders =
  named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]] : Object.values(COMMANDS);
const registers = await Promise.all(
  loaders.map((load) => (load as () => Promise<(program: Command) => void>)()),
);
for (const register of registers) register(program);

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
