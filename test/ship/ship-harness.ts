import type { ChildProcess } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { Redis } from "ioredis";
import { decodeEntry, type StreamRecord, streamKey } from "../../src/backend/redis/entry.js";
import { CLI, start } from "../cli/run-cli.js";

/** A running `livetrail ship` agent (the built CLI in a child process) and what it said on stderr. */
export interface Agent {
  child: ChildProcess;
  readonly stderr: string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startAgent(args: string[]): Agent {
  const child = start(process.execPath, [CLI, "ship", ...args]);
  child.stdin?.end();
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Line `i` (1-based) of the test logs: exactly 100 bytes with its LF, with a timestamp and its number. */
export function lineOf(i: number): string {
  const head = `[2026-12-04T19:00:00Z] line ${String(i).padStart(9, "0")} `;
  return head + "x".repeat(99 - head.length);
}

/** Appends lines `from`..`to` (inclusive) to a file. */
export async function writeLines(path: string, from: number, to: number): Promise<void> {
  const parts: string[] = [];
  for (let i = from; i <= to; i++) parts.push(`${lineOf(i)}\n`);
  await appendFile(path, parts.join(""));
}

export function client(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Every entry of a stream, oldest first, decoded by the codec (read with XRANGE in pages). */
export async function readStream(redis: Redis, name: string): Promise<StreamRecord[]> {
  const key = streamKey(name);
  const records: StreamRecord[] = [];
  let from = "-";
  for (;;) {
    const page = (await redis.xrangeBuffer(key, from, "+", "COUNT", 20_000)) as [Buffer, Buffer[]][];
    for (const [id, fields] of page) records.push(decodeEntry(id, fields));
    const last = page[page.length - 1];
    if (page.length < 20_000 || last === undefined) return records;
    from = `(${last[0].toString("latin1")}`;
  }
}

export async function streamLength(redis: Redis, name: string): Promise<number> {
  return redis.xlen(streamKey(name));
}

/**
 * Checks that a stream holds lines `1..count` of `lineOf`, each once, in order, with consecutive sequence numbers
 * and positions; returns a description of the first problem, or null.
 */
export function problemWithLines(records: StreamRecord[], count: number): string | null {
  const lines = records.filter((r) => r.kind === "line");
  if (records.length !== lines.length) return `${records.length - lines.length} entries are not lines`;
  if (lines.length !== count) return `${lines.length} lines, expected ${count}`;
  let position = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Extract<StreamRecord, { kind: "line" }>;
    const text = line.bytes.toString("utf8");
    if (text !== lineOf(i + 1)) return `entry ${i + 1} holds "${text.slice(0, 40)}…"`;
    if (line.seq !== i + 1) return `entry ${i + 1} has sequence number ${line.seq}`;
    position += line.bytes.length + 1;
    if (line.position !== position)
      return `entry ${i + 1} is at position ${line.position}, expected ${position}`;
    if (line.offset !== (i + 1) * 100) return `entry ${i + 1} has file offset ${line.offset}`;
  }
  return null;
}
