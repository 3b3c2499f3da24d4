import type { Cluster, Redis } from "ioredis";
import { decodeEntry, EMPTY_TOP, type StreamTop, topAfter } from "../backend/redis/entry.js";
import { NO_TOP } from "./append-script.js";

/**
 * Where an agent resumes a stream, read from the stream itself: its newest entry is the last thing this agent
 * appended (no one else ships this log), and every entry it writes carries the file identity and the byte offset
 * where shipping goes on (after a line: the offset after it; after a gap marker: where the follower went on),
 * written in the same XADD as the entry. So the resume point can never be ahead of or behind what the stream
 * holds: no checkpoint key, no dedup window.
 */
export interface ResumePoint {
  /** The newest entry's ID (`0-0` for an empty stream): the next batch is appended only above it. */
  topId: string;
  top: StreamTop;
  /** The file position to go on from, null when the stream is empty (ship the file from its start). */
  file: { identity: string; offset: number } | null;
}

/** The newest entry was not written by an agent: where to resume cannot be told, and guessing could duplicate. */
export class ForeignStreamError extends Error {
  override name = "ForeignStreamError";
}

type Raw = [Buffer, Buffer[]][];

export async function readResumePoint(client: Redis | Cluster, key: string): Promise<ResumePoint> {
  const newest = (await client.xrevrangeBuffer(key, "+", "-", "COUNT", 1)) as Raw;
  const first = newest[0];
  if (first === undefined) return { topId: NO_TOP, top: EMPTY_TOP, file: null };
  const record = decodeEntry(first[0], first[1]);
  let top: StreamTop;
  try {
    top = topAfter(record);
  } catch (error) {
    throw new ForeignStreamError((error as Error).message);
  }
  if (record.kind === "foreign" || record.file === undefined || record.offset === undefined) {
    throw new ForeignStreamError(
      `the newest entry of ${key} (${record.id}) carries no file position: was it written by something other than livetrail ship?`,
    );
  }
  return { topId: record.id, top, file: { identity: record.file, offset: record.offset } };
}
