import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { type VerifyReport, verifyAuditFile } from "../../append/verify.js";
import { BundleError, type BundleReport, verifyBundle } from "../../integrity/bundle.js";
import { findSidecar, type IntegrityReport, verifyIntegrity } from "../../integrity/file-verify.js";
import { IntegrityError } from "../../integrity/integrity-error.js";
import type { NoteVerifier } from "../../integrity/note.js";
import { loadVerifierKey } from "../../integrity/seal-key.js";
import { SidecarError } from "../../integrity/sidecar.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";

interface VerifyCliOptions {
  maxSkew: string;
  maxReport: string;
  json?: boolean;
  key?: string;
  seal?: string;
  bundle?: string;
  format: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .summary("check an audit file: entry format, and its seal when it has one")
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
    .option(
      "--key <pub>",
      "the log's verifier key (FILE.pub from livetrail keygen): check the seal's signatures",
    )
    .option(
      "--seal <dir>",
      "the sidecar to check against (default: FILE.seal, or a rotated file's archived one)",
    )
    .option("--bundle <file>", "check an excerpt bundle (needs --key; no log needed)")
    .option("--no-format", "skip the entry-format check (logs not written by livetrail log)")
    .addHelpText(
      "after",
      `
Integrity: when FILE has a sidecar (FILE.seal/, written by --seal-key sealing) or --key is given, verify also
recomputes the Merkle tree from FILE and checks every signed checkpoint: intact, it prints one line
("verified 1,204,331 lines, 1,205 checkpoints, last sealed 2026-12-04T10:00:01Z"); otherwise the first line that
changed, was deleted or inserted, a truncation below a sealed offset, a checkpoint altered, removed or
reordered, a bad signature or a wrong key. Lines after the last checkpoint are reported as not yet sealed.
Without --key the hashes and roots are checked but not who signed them (said in the output).

Exit status: 0 no problems; 1 format problems found, or the file cannot be read; 2 usage error;
3 the integrity check failed (the log or its seal was changed, or the key is not the signer's).`,
    )
    .action(async (fileArg: string | undefined, options: VerifyCliOptions) => {
      if (options.bundle !== undefined) {
        await verifyBundleFile(options.bundle, options);
        return;
      }
      const maxSkew = nonNegative(options.maxSkew, "--max-skew");
      const maxProblems = Math.floor(nonNegative(options.maxReport, "--max-report"));
      const file = resolveAuditFile(fileArg);
      const key = options.key === undefined ? null : await verifierKey(options.key);
      let report: VerifyReport | null = null;
      try {
        if (options.format) report = await verifyAuditFile(file, { maxSkewMs: maxSkew * 1000, maxProblems });
        const integrity = await integrityOf(file, key, options);
        print(file, report, integrity, options.json === true);
        if (integrity !== null && !integrity.ok) process.exitCode = 3;
        else if (report !== null && !report.ok) process.exitCode = 1;
      } catch (error) {
        // A file that cannot be read is a failure of the check (1), not a wrong command line (2).
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new CliError(`${file}: no such file`, 1);
        if (code === "EISDIR") throw new CliError(`${file}: is a directory`, 1);
        if (code === "EACCES") throw new CliError(`${file}: permission denied`, 1);
        throw error; // other errno errors: one line and exit 1 (describeError)
      }
    });
}

async function verifierKey(path: string): Promise<NoteVerifier> {
  try {
    return await loadVerifierKey(path);
  } catch (error) {
    if (error instanceof IntegrityError) throw new CliError(`--key ${path}: ${error.message}`, 2);
    throw error;
  }
}

/** The integrity report when the file is sealed or a key was given; null when neither. */
async function integrityOf(
  file: string,
  key: NoteVerifier | null,
  options: VerifyCliOptions,
): Promise<IntegrityReport | null> {
  const sidecar = options.seal ?? (await findSidecar(file));
  if (sidecar === null) {
    if (key === null) return null;
    throw new CliError(`${file}: not sealed (no ${file}.seal/ and no archived sidecar names this file)`, 3);
  }
  const size = (await stat(file)).size;
  const bar =
    process.stderr.isTTY && !options.json && size >= PROGRESS_MIN_BYTES ? await progressBar(size) : null;
  try {
    return await verifyIntegrity(file, sidecar, {
      key,
      ...(bar === null ? {} : { onProgress: (done: number) => bar.update(done) }),
    });
  } catch (error) {
    if (error instanceof SidecarError) throw new CliError(error.message, 3);
    throw error;
  } finally {
    bar?.stop();
  }
}

/** Files this big get a progress bar on a terminal (a few seconds of work and more). */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

/** cli-progress's bar on stderr, counting MiB (loaded only here: every other command starts without it). */
async function progressBar(total: number): Promise<{ update(done: number): void; stop(): void }> {
  const { Presets, SingleBar } = await import("cli-progress");
  const bar = new SingleBar(
    {
      format: "verifying [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta}s",
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const mib = (n: number) => Math.round(n / 1048576);
  bar.start(mib(total), 0);
  return { update: (done) => bar.update(mib(done)), stop: () => bar.stop() };
}

function print(
  file: string,
  report: VerifyReport | null,
  integrity: IntegrityReport | null,
  json: boolean,
): void {
  if (json) {
    const out =
      report === null ? { file, integrity } : integrity === null ? report : { ...report, integrity };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  // With a seal, an intact file's format report is the one summary line's business; problems are still shown.
  if (report !== null && (integrity === null || !report.ok)) process.stdout.write(renderReport(report));
  if (integrity !== null) process.stdout.write(renderIntegrity(integrity));
}

const count = (n: number) => n.toLocaleString("en-US");

function renderIntegrity(r: IntegrityReport): string {
  if (r.ok) {
    let line = `verified ${count(r.sealedLines)} lines, ${count(r.checkpoints)} checkpoint${r.checkpoints === 1 ? "" : "s"}, last sealed ${r.lastSealed}`;
    if (r.unsealedLines > 0)
      line += `; ${count(r.unsealedLines)} later line${r.unsealedLines === 1 ? "" : "s"} not yet sealed`;
    if (r.prev !== null)
      line += `; continues a rotated file (${count(r.prev.size)} lines${r.prev.linked ? ", linked" : ", its sidecar not found"})`;
    if (r.identity === "copy") line += "; a copy of the sealed file";
    if (r.signatures === "not-checked") line += "; signatures NOT checked (no --key)";
    return `${line}\n`;
  }
  let out = `integrity check FAILED for ${r.file} (seal ${r.sidecar}):\n`;
  for (const f of r.findings) out += `  ${f.kind}: ${f.message}\n`;
  if (r.sealedLines > 0)
    out += `  intact up to line ${count(r.sealedLines)} (checkpoint sealed ${r.lastSealed})\n`;
  return out;
}

async function verifyBundleFile(path: string, options: VerifyCliOptions): Promise<void> {
  if (options.key === undefined) throw new CliError("--bundle needs --key (the log's verifier key)", 2);
  const key = await verifierKey(options.key);
  let input: unknown;
  try {
    input = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) throw new CliError(`${path}: not JSON`, 1);
    throw error;
  }
  let report: BundleReport;
  try {
    report = verifyBundle(input, key);
  } catch (error) {
    if (error instanceof BundleError) throw new CliError(`${path}: ${error.message}`, 1);
    throw error;
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.ok) {
    process.stdout.write(
      `verified ${count(report.lines)} line${report.lines === 1 ? "" : "s"} of ${report.origin} against its checkpoint of ${count(report.size)} lines, sealed ${report.time}\n`,
    );
  } else process.stdout.write(`bundle check FAILED: ${report.finding}\n`);
  if (!report.ok) process.exitCode = 3;
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
