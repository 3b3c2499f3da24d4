import type { Command } from "commander";
import { type VerifyReport, verifyAuditFile } from "../../append/verify.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";

interface VerifyCliOptions {
  maxSkew: string;
  maxReport: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .summary("check an audit file for malformed lines")
    .description(
      "Check every line of an audit file: valid UTF-8, `[<ISO-8601 time>] message`, a real timestamp not " +
        "earlier than the previous entry's (by more than --max-skew), no control characters, at most 64 KiB, " +
        "and a newline at the end of the file. Prints a summary and each problem with its line number. " +
        "The file is streamed: any size works in bounded memory. FILE defaults to $LIVETRAIL_FILE, else " +
        "./status/AUTO_REPAIR_AUDIT.log.",
    )
    .argument("[file]", "audit file to check")
    .option("--max-skew <seconds>", "tolerate timestamps this much earlier than the previous entry", "1")
    .option("--max-report <n>", "show at most this many problems (all are counted)", "100")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nExit status: 0 no problems; 1 problems found, or the file cannot be read; 2 usage error.",
    )
    .action(async (fileArg: string | undefined, options: VerifyCliOptions) => {
      const maxSkew = nonNegative(options.maxSkew, "--max-skew");
      const maxProblems = Math.floor(nonNegative(options.maxReport, "--max-report"));
      const file = resolveAuditFile(fileArg);
      let report: VerifyReport;
      try {
        report = await verifyAuditFile(file, { maxSkewMs: maxSkew * 1000, maxProblems });
      } catch (error) {
        // A file that cannot be read is a failure of the check (1), not a wrong command line (2).
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new CliError(`${file}: no such file`, 1);
        if (code === "EISDIR") throw new CliError(`${file}: is a directory`, 1);
        if (code === "EACCES") throw new CliError(`${file}: permission denied`, 1);
        throw error; // other errno errors: one line and exit 1 (describeError)
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}

function nonNegative(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new CliError(`${flag} needs a number >= 0, got "${text}"`, 2);
  }
  return n;
}

function renderReport(r: VerifyReport): string {
  const span = r.firstTime ? `, ${r.firstTime} .. ${r.lastTime}` : "";
  const reordered = r.reordered > 0 ? `, ${r.reordered} within the skew tolerance` : "";
  let out = `${r.file}: ${r.lines} lines, ${r.bytes} bytes, ${r.entries} entries${span}${reordered}\n`;
  if (r.ok) return `${out}ok: no problems\n`;
  const counts = Object.entries(r.counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  out += `${r.problemCount} problem${r.problemCount === 1 ? "" : "s"} (${counts})\n`;
  for (const p of r.problems) out += `  line ${p.line}: ${p.kind}: ${p.detail}\n`;
  const hidden = r.problemCount - r.problems.length;
  if (hidden > 0) out += `  ... and ${hidden} more (raise --max-report to see them)\n`;
  return out;
}
