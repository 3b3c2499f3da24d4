import { open, readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import type { Command } from "commander";
import { parseCosignerKey } from "../../integrity/cosignature.js";
import { generateKey, type NoteSigner, type NoteVerifier, SIG_COSIGNATURE_V1 } from "../../integrity/note.js";
import { loadVerifierKey } from "../../integrity/seal-key.js";
import { type FetchText, witnessStep } from "../../witness/witness-check.js";
import { loadWitnessState, saveWitnessState, type WitnessStateFile } from "../../witness/witness-state.js";
import { CliError } from "../cli-error.js";

interface WitnessFlags {
  key?: string;
  witnessKey?: string;
  state: string;
  interval: string;
  once?: boolean;
  token?: string;
  newKey?: string;
  name: string;
}

/** Longest body read from the server: checkpoints and proofs are a few KiB. */
const MAX_BODY_BYTES = 256 * 1024;

const HELP = `
URL is a stream (http://HOST:PORT/api/streams/NAME) or a server (http://HOST:PORT: every sealed stream on it).

Each round, for each stream: fetch the newest checkpoint, check the log's signature (--key), and if this
witness saw an older one, fetch a consistency proof from it and check it (RFC 9162). Then cosign the checkpoint
(C2SP tlog-cosignature, --witness-key) and POST it to the server, which publishes it beside its own signature
(the server must list the witness's public key: serve --witness-key). The newest verified checkpoint per
log (by its checkpoint origin) is kept in --state.

Make a witness key pair with --new-key PREFIX [--name NAME] (PREFIX: signer key, mode 0600; PREFIX.pub: give it
to the server).

Exit status: 0 stopped by a signal (or --once and all consistent); 1 a rollback: a stream's history shrank,
forked or was rewritten (the message says what was seen before and now), or a checkpoint the key did not sign;
2 usage error. Network and server errors are reported and retried; they never change the state.`;

export function registerWitness(program: Command): void {
  program
    .command("witness")
    .summary("watch sealed streams for rollbacks and cosign their checkpoints")
    .description("A standing witness: checks each new checkpoint is consistent with the last one it saw.")
    .argument("[urls...]", "stream or server URLs")
    .option("--key <pub>", "the log's verifier key (file or key string)")
    .option("--witness-key <file>", "this witness's cosigner key (from --new-key)")
    .option("--state <file>", "where the newest checkpoint per stream is kept", "livetrail-witness.json")
    .option("--interval <ms>", "poll interval", "5000")
    .option("--once", "one round, then exit")
    .option("--token <token>", "read token for the server (default $LIVETRAIL_TOKEN)")
    .option("--new-key <prefix>", "write a new witness key pair and exit")
    .option("--name <name>", "key name for --new-key", "livetrail-witness")
    .addHelpText("after", HELP)
    .action(async (urls: string[], flags: WitnessFlags) => {
      if (flags.newKey !== undefined) return writeWitnessKey(flags.newKey, flags.name);
      if (urls.length === 0) throw new CliError("give at least one URL", 2);
      if (flags.key === undefined || flags.witnessKey === undefined) {
        throw new CliError("--key (the log's) and --witness-key (this witness's) are required", 2);
      }
      const interval = Number(flags.interval);
      if (!Number.isInteger(interval) || interval < 10) throw new CliError("--interval must be >= 10 ms", 2);
      let logKey: NoteVerifier;
      let cosigner: NoteSigner;
      try {
        logKey = await loadVerifierKey(flags.key);
        cosigner = parseCosignerKey((await readFile(flags.witnessKey, "utf8")).trim());
      } catch (error) {
        throw new CliError(`key: ${(error as Error).message}`, 2);
      }
      const token = flags.token ?? process.env.LIVETRAIL_TOKEN;
      const state = await loadWitnessState(flags.state).catch((error: Error) => {
        throw new CliError(error.message, 1);
      });
      let stop = false;
      const stopNow = (): void => {
        stop = true;
      };
      process.once("SIGINT", stopNow);
      process.once("SIGTERM", stopNow);
      const client = new ApiClient(token);
      while (!stop) {
        const streams = await streamUrls(client, urls);
        for (const url of streams) await round(client, url, state, flags.state, [logKey], cosigner);
        if (flags.once) break;
        for (let waited = 0; waited < interval && !stop; waited += 50)
          await delay(Math.min(50, interval - waited));
      }
    });
}

async function round(
  client: ApiClient,
  url: string,
  state: WitnessStateFile,
  statePath: string,
  logKeys: NoteVerifier[],
  cosigner: NoteSigner,
): Promise<void> {
  const fetchText: FetchText = (path) => client.text(`${url}/${path}`);
  const recall = (origin: string) => state.logs[origin];
  const outcome = await witnessStep(fetchText, recall, state.urls[url], logKeys, cosigner).catch(
    (error: Error) => {
      process.stderr.write(`livetrail witness: ${url}: ${error.message} (retrying)\n`);
      return null;
    },
  );
  if (outcome === null) return;
  if ("message" in outcome) {
    const what = outcome.kind === "rollback" ? "ROLLBACK" : "INVALID CHECKPOINT";
    throw new CliError(`${what} on ${url}: ${outcome.message}`, 1);
  }
  const before = state.logs[outcome.remembered.origin];
  state.logs[outcome.remembered.origin] = outcome.remembered;
  state.urls[url] = outcome.remembered.origin;
  await saveWitnessState(statePath, state);
  if (outcome.kind !== "same") {
    const posted = await client.post(`${url}/cosignature`, outcome.cosigned).then(
      () => "cosigned",
      (error: Error) => `not cosigned: ${error.message}`,
    );
    const from =
      before === undefined
        ? "first seen"
        : outcome.kind === "rotated"
          ? `a new file after the rotation of the ${before.size} lines seen`
          : `consistent with ${before.size}`;
    process.stdout.write(`${url}: ${outcome.remembered.size} lines, ${from}, ${posted}\n`);
  }
}

/** Stream URLs: a stream URL as given; a server URL stands for its streams that have a checkpoint. */
async function streamUrls(client: ApiClient, urls: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const raw of urls) {
    const url = raw.replace(/\/+$/, "");
    if (/\/api\/streams\/[^/]+$/.test(url)) {
      out.push(url);
      continue;
    }
    try {
      const list = JSON.parse(await client.text(`${url}/api/streams`)) as { name: string }[];
      for (const s of list) {
        const stream = `${url}/api/streams/${encodeURIComponent(s.name)}`;
        const info = await client.text(`${stream}/integrity`).catch(() => null);
        if (info !== null && (JSON.parse(info) as { status: string }).status !== "unsealed") out.push(stream);
      }
    } catch (error) {
      process.stderr.write(`livetrail witness: ${url}: ${(error as Error).message} (retrying)\n`);
    }
  }
  return out;
}

class ApiClient {
  constructor(private readonly token: string | undefined) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === undefined ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  async text(url: string): Promise<string> {
    const res = await fetch(url, { headers: this.headers(), signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (body.length > MAX_BODY_BYTES) throw new Error(`${url}: answer too large`);
    if (!res.ok) throw new Error(`${res.status} ${errorOf(body)}`);
    return body;
  }

  async post(url: string, body: string): Promise<void> {
    const res = await fetch(url, {
      method: "POST",
      headers: this.headers({ "content-type": "text/plain" }),
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`${res.status} ${errorOf(await res.text())}`);
  }
}

function errorOf(body: string): string {
  try {
    const e = JSON.parse(body) as { error?: string; message?: string };
    return `${e.error ?? ""}: ${e.message ?? ""}`;
  } catch {
    return body.slice(0, 200);
  }
}

async function writeWitnessKey(prefix: string, name: string): Promise<void> {
  const { signerKey, verifierKey } = generateKey(name, SIG_COSIGNATURE_V1);
  try {
    const signer = await open(prefix, "wx", 0o600);
    await signer.writeFile(`${signerKey}\n`).finally(() => signer.close());
    const verifier = await open(`${prefix}.pub`, "wx", 0o644);
    await verifier.writeFile(`${verifierKey}\n`).finally(() => verifier.close());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new CliError(`${prefix}: exists; not overwriting a key`, 1);
    throw error;
  }
  process.stdout.write(
    `witness signer key: ${prefix} (keep it secret)\nwitness verifier key: ${prefix}.pub\n${verifierKey}\n`,
  );
}
