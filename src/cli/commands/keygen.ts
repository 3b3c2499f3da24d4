import type { Command } from "commander";
import { IntegrityError } from "../../integrity/integrity-error.js";
import { isValidKeyName } from "../../integrity/note.js";
import { writeKeyPair } from "../../integrity/seal-key.js";
import { CliError } from "../cli-error.js";

interface KeygenOptions {
  name: string;
  out?: string;
}

export function registerKeygen(program: Command): void {
  program
    .command("keygen")
    .summary("make a key pair for sealing logs")
    .description(
      "Write a new Ed25519 key pair in the C2SP signed-note format: the signer key to PREFIX (mode 0600; " +
        "`log --seal-key` and `serve --seal-key` take it) and the verifier key to PREFIX.pub (give it to whoever " +
        "verifies: `verify --key PREFIX.pub` needs nothing else). An existing file is never overwritten.",
    )
    .option("-n, --name <name>", "key name, shown in every signature (no spaces or +)", "livetrail")
    .option("-o, --out <prefix>", "where to write the keys (default: ./<name>.key and ./<name>.key.pub)")
    .addHelpText(
      "after",
      "\nExit status: 0 written; 1 a key file exists or cannot be written; 2 usage error.",
    )
    .action(async (options: KeygenOptions) => {
      if (!isValidKeyName(options.name)) {
        throw new CliError(`--name "${options.name}" is not a key name (no spaces, no "+")`, 2);
      }
      const prefix = options.out ?? `${options.name}.key`;
      try {
        const { signerPath, verifierPath, verifierKey } = await writeKeyPair(options.name, prefix);
        process.stdout.write(
          `signer key:   ${signerPath} (keep it secret)\nverifier key: ${verifierPath}\n${verifierKey}\n`,
        );
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") {
          throw new CliError(`${(error as NodeJS.ErrnoException).path}: exists; not overwriting a key`, 1);
        }
        if (error instanceof IntegrityError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
