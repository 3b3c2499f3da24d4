import { open } from "node:fs/promises";
import { openCheckpoint } from "./checkpoint.js";
import { fileLines } from "./file-lines.js";
import { findSidecar } from "./file-verify.js";
import { IntegrityError } from "./integrity-error.js";
import { leafHash } from "./merkle.js";
import type { NoteVerifier } from "./note.js";
import { inclusionProof, verifyInclusion } from "./proofs.js";
import { parseSealPointNote } from "./seal-point.js";
import { Sidecar } from "./sidecar.js";

/**
 * A verifiable excerpt of a sealed log: some of its lines, each with its inclusion proof (RFC 9162 audit path),
 * and the signed checkpoint the proofs lead to. Anyone with the log's public key can check it without the log:
 * every line's exact bytes hash to a leaf that the path puts at its line number in the signed tree. JSON:
 *
 *   { "format": "livetrail-bundle/1", "origin": …, "checkpoint": "<signed note>",
 *     "lines": [{ "line": 500, "offset": 51234, "text": "…", "data": "<base64 of the exact bytes>",
 *                 "proof": ["<base64 hash>", …] }, …] }
 *
 * `data` is what is proven; `text` (present when the bytes are valid UTF-8) is for reading and must decode from
 * `data` exactly, so what a reader sees is what is sealed.
 */

export const BUNDLE_FORMAT = "livetrail-bundle/1";
/** Lines one bundle may hold: an excerpt, not a copy of the log. */
export const MAX_BUNDLE_LINES = 10_000;

export interface BundleLine {
  /** 1-based line number (leaf index + 1). */
  line: number;
  /** Byte offset of the line in the log. */
  offset: number;
  text?: string;
  data: string;
  proof: string[];
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  origin: string;
  checkpoint: string;
  lines: BundleLine[];
}

export class BundleError extends Error {
  override name = "BundleError";
}

/** Which lines: 1-based numbers, or an inclusive range. */
export type LineSelection = readonly number[] | { from: number; to: number };

/**
 * A bundle of the selected lines of a sealed log, proven against its newest checkpoint. Lines after that
 * checkpoint are not sealed yet (BundleError), nor is a line whose bytes no longer match its stored hash.
 */
export async function makeBundle(
  logPath: string,
  selection: LineSelection,
  sidecarDir?: string,
): Promise<Bundle> {
  const wanted = [
    ...new Set(Array.isArray(selection) ? selection : rangeOf(selection as { from: number; to: number })),
  ]
    .filter((n) => Number.isSafeInteger(n))
    .sort((a, b) => a - b);
  if (wanted.length === 0) throw new BundleError("no lines selected");
  if (wanted.length > MAX_BUNDLE_LINES) throw new BundleError(`at most ${MAX_BUNDLE_LINES} lines a bundle`);
  if ((wanted[0] as number) < 1) throw new BundleError("line numbers start at 1");
  const dir = sidecarDir ?? (await findSidecar(logPath));
  if (dir === null) throw new BundleError(`${logPath} is not sealed (no sidecar)`);
  const sidecar = await Sidecar.openReadOnly(dir);
  try {
    const last = await sidecar.lastCheckpoint();
    if (last === null) throw new BundleError(`${dir} holds no checkpoint`);
    const point = parseSealPointNote(last.note);
    const top = wanted.at(-1) as number;
    if (top > point.size)
      throw new BundleError(`line ${top} is not sealed yet (sealed: lines 1..${point.size})`);
    const lines: BundleLine[] = [];
    const handle = await open(logPath, "r");
    try {
      let number = 0;
      let offset = 0;
      let next = 0;
      for await (const { data, end } of fileLines(handle, 0, { to: point.bytes, final: true })) {
        number++;
        if (number === wanted[next]) {
          const index = number - 1;
          const stored = await sidecar.readHashes(0, index, 1);
          if (!leafHash(data).equals(stored)) {
            throw new BundleError(`line ${number} no longer matches its seal: run livetrail verify`);
          }
          const text = readableText(data);
          lines.push({
            line: number,
            offset,
            ...(text === undefined ? {} : { text }),
            data: data.toString("base64"),
            proof: (await inclusionProof(sidecar, index, point.size)).map((h) => h.toString("base64")),
          });
          next++;
          if (next === wanted.length) break;
        }
        offset = end;
      }
      if (next < wanted.length) throw new BundleError(`the file has fewer lines than line ${wanted[next]}`);
    } finally {
      await handle.close();
    }
    return { format: BUNDLE_FORMAT, origin: point.origin, checkpoint: last.note, lines };
  } finally {
    await sidecar.close();
  }
}

export interface BundleReport {
  ok: boolean;
  origin: string;
  /** The checkpoint the bundle is proven against. */
  size: number;
  time: string | null;
  lines: number;
  /** The first problem, when not ok. */
  finding: string | null;
}

/** Checks a bundle with the log's public key alone. Throws BundleError only for input that is not a bundle. */
export function verifyBundle(input: unknown, key: NoteVerifier): BundleReport {
  const bundle = asBundle(input);
  const report: BundleReport = {
    ok: false,
    origin: bundle.origin,
    size: 0,
    time: null,
    lines: bundle.lines.length,
    finding: null,
  };
  let size: number;
  let root: Buffer;
  try {
    const opened = openCheckpoint(bundle.checkpoint, bundle.origin, [key]);
    size = opened.checkpoint.size;
    root = opened.checkpoint.rootHash;
    report.size = size;
    report.time = parseSealPointNote(bundle.checkpoint).time;
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    report.finding = `the checkpoint does not verify with ${key.name}: ${error.message}`;
    return report;
  }
  for (const line of bundle.lines) {
    const data = Buffer.from(line.data, "base64");
    if (data.toString("base64") !== line.data) {
      report.finding = `line ${line.line}: data is not canonical base64`;
      return report;
    }
    if (line.text !== undefined && readableText(data) !== line.text) {
      report.finding = `line ${line.line}: its text is not its sealed bytes (the text was edited)`;
      return report;
    }
    const proof = line.proof.map((h) => Buffer.from(h, "base64"));
    if (!verifyInclusion(leafHash(data), line.line - 1, size, proof, root)) {
      report.finding = `line ${line.line}: not in the signed tree of ${size} lines (its bytes or proof were changed)`;
      return report;
    }
  }
  report.ok = true;
  return report;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function readableText(data: Buffer): string | undefined {
  try {
    return UTF8.decode(data);
  } catch {
    return undefined;
  }
}

function rangeOf({ from, to }: { from: number; to: number }): number[] {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 1 && to >= from)) {
    throw new BundleError(`bad line range ${from}..${to}`);
  }
  if (to - from + 1 > MAX_BUNDLE_LINES) throw new BundleError(`at most ${MAX_BUNDLE_LINES} lines a bundle`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function asBundle(input: unknown): Bundle {
  const b = input as Partial<Bundle> | null;
  const ok =
    b !== null &&
    typeof b === "object" &&
    b.format === BUNDLE_FORMAT &&
    typeof b.origin === "string" &&
    typeof b.checkpoint === "string" &&
    Array.isArray(b.lines) &&
    b.lines.length <= MAX_BUNDLE_LINES &&
    b.lines.every(
      (l) =>
        l !== null &&
        typeof l === "object" &&
        Number.isSafeInteger(l.line) &&
        l.line >= 1 &&
        typeof l.data === "string" &&
        (l.text === undefined || typeof l.text === "string") &&
        Array.isArray(l.proof) &&
        l.proof.length <= 63 &&
        l.proof.every((h) => typeof h === "string"),
    );
  if (!ok) throw new BundleError(`not a ${BUNDLE_FORMAT} bundle`);
  return b as Bundle;
}
