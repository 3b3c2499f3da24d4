import type { Command } from "commander";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";
import { printResults, readServeConfig, runDoctor } from "../doctor/run-doctor.js";
import { readToken } from "../remote-tail/remote-target.js";
import { security } from "../settings/security.js";
import { addSettingOptions, givenFlags } from "../settings/settings-options.js";

interface DoctorFlags {
  config?: string;
  port?: string;
  host?: string;
  url?: string;
}

/** The security flags doctor looks at, as given (serve's names: src/cli/settings/security.ts). */
interface GivenSecurity {
  readTokens?: string[];
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function registerDoctor(program: Command): void {
  const doctor = program
    .command("doctor")
    .summary("check what commonly breaks a livetrail setup, and say how to fix it")
    .description(
      "Checks the setup `livetrail serve` would run with (give it the same streams and flags): each log is " +
        "readable (run doctor as the service's user), the token file is private, inotify limits leave room, the " +
        "port is free (or who holds it), the log's newest timestamps are not ahead of this host's clock, the TLS " +
        "certificate is valid; with --url, a request through the reverse proxy: /healthz, a WebSocket upgrade " +
        "carrying the page's origin, and over https whether X-Forwarded-Proto arrives. One line per check: ok, " +
        "warn or fail, with the fix.",
    )
    .argument("[streams...]", "FILE or NAME=FILE, as for serve")
    .option("-c, --config <file>", "serve's JSON config file (its streams, host and port)")
    .option("-p, --port <port>", "TCP port serve would listen on (default 8080)")
    .option("-H, --host <address>", "address serve would listen on (default 127.0.0.1)")
    .option("--url <url>", "the public URL through the reverse proxy, to check what arrives through it")
    .addHelpText("after", "\nExit status: 0 no check failed (warnings allowed); 1 a check failed; 2 usage.")
    .action(async (args: string[], flags: DoctorFlags, command: Command) => {
      const given = givenFlags(command) as GivenSecurity;
      const config = flags.config === undefined ? { files: [] } : await readServeConfig(flags.config);
      const files =
        args.length > 0 ? args.map(fileOf) : config.files.length > 0 ? config.files : [resolveAuditFile()];
      const portText = flags.port ?? String(config.port ?? 8080);
      const port = Number(portText);
      if (!/^\d{1,5}$/.test(portText) || port > 65535)
        throw new CliError(`--port needs 0..65535, got "${portText}"`, 2);
      const results = await runDoctor({
        files,
        host: flags.host ?? config.host ?? "127.0.0.1",
        port,
        ...(given.tokenFile === undefined ? {} : { tokenFile: given.tokenFile }),
        ...(given.tlsCert === undefined ? {} : { tlsCert: given.tlsCert }),
        ...(given.tlsKey === undefined ? {} : { tlsKey: given.tlsKey }),
        ...(flags.url === undefined ? {} : { url: flags.url, token: await proxyToken(given) }),
      });
      printResults(results);
      if (results.some((r) => r.status === "fail")) process.exitCode = 1;
    });
  // serve's own security flags (from the settings table), so a serve command line can be checked as it is.
  addSettingOptions(doctor, [security]);
}

/** NAME=FILE or FILE, as serve reads its arguments. */
function fileOf(arg: string): string {
  const eq = arg.indexOf("=");
  const named = eq > 0 && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(arg.slice(0, eq));
  return resolveAuditFile(named ? arg.slice(eq + 1) : arg);
}

/** The token for requests through the proxy: the token file's, LIVETRAIL_TOKEN, or a configured read token. */
async function proxyToken(flags: GivenSecurity): Promise<string | null> {
  try {
    const token = await readToken(flags.tokenFile);
    if (token !== null) return token;
  } catch {
    // An unreadable token file is the token-file check's finding.
  }
  return flags.readTokens?.[0] ?? process.env.LIVETRAIL_READ_TOKENS?.split(",")[0]?.trim() ?? null;
}
