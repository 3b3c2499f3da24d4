import type { Command } from "commander";
import { CliError } from "../cli-error.js";

// Replaced by the real command once the core follower is committed.
export function registerTail(program: Command): void {
  program
    .command("tail")
    .summary("print entries of an audit file live")
    .argument("[file]")
    .action(() => {
      throw new CliError("tail is not implemented yet", 1);
    });
}
