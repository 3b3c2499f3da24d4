import type { Command } from "commander";
import { CliError } from "../cli-error.js";

// Placeholder until the server lands: the server helper replaces this file (same export).
export function registerServe(program: Command): void {
  program
    .command("serve")
    .summary("serve the live dashboard (not implemented yet)")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new CliError("serve is not implemented yet", 1);
    });
}
