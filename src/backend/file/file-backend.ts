import { open, stat } from "node:fs/promises";
import type { Line } from "../../core/line.js";
import type {
  LiveFeed,
  ReadAfterResult,
  ReadBeforeResult,
  SearchOutcome,
  SearchQuery,
  SourceInfo,
  StreamBackend,
} from "../backend.js";
import { decodeCursor, encodeCursor } from "./file-cursor.js";
import { identify, isMissing, matches } from "./file-identity.js";
import { Follower, type FollowerOptions } from "./follower.js";
import type { FollowerEvent } from "./follower-events.js";
import { type HistoryOptions, readAfter, readBefore, readTail } from "./history.js";
import { searchFile } from "./search.js";
import { seekTime } from "./time-seek.js";

export interface FileBackendOptions {
  /** Fallback stat poll of the follower (ms). */
  pollIntervalMs?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Longer lines are cut to this many bytes and marked. */
  maxLineBytes?: number;
  /** Source bytes one history read (page, tail, catch-up chunk) holds at most; default 8 MiB. */
  maxReadBytes?: number;
}

const DEFAULT_MAX_READ_BYTES = 8 * 1024 * 1024;

/** A stream backed by one append-only log file: the follower for live lines, history reads for the rest. */
export class FileBackend implements StreamBackend {
  private readonly history: HistoryOptions;

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly options: FileBackendOptions = {},
  ) {
    this.history = {
      maxBytes: options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES,
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    };
  }

  async follow(
    options: { tail: number; pace?: FollowerOptions["pace"] },
    listener: (event: FollowerEvent) => void,
  ): Promise<LiveFeed> {
    const follower = new Follower(this.path, {
      start: options.tail > 0 ? { tail: options.tail } : { from: "end" },
      ...(this.options.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.options.pollIntervalMs }),
      ...(this.options.watch === undefined ? {} : { watch: this.options.watch }),
      ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      ...(options.pace === undefined ? {} : { pace: options.pace }),
    });
    follower.on(listener);
    try {
      await follower.start();
    } catch (error) {
      await follower.close();
      throw error;
    }
    return {
      get cursor() {
        return follower.cursor;
      },
      close: () => follower.close(),
    };
  }

  readAfter(cursor: string | null, limit: number): Promise<ReadAfterResult> {
    return readAfter(this.path, cursor, limit, this.history);
  }

  async readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    const { lines, more } = await readBefore(this.path, cursor, limit, this.history);
    const first = lines[0];
    return { lines, more, cursor: first === undefined ? cursor : this.cursorBefore(first) };
  }

  cursorBefore(line: Line): string {
    const after = decodeCursor(line.cursor);
    return encodeCursor({
      fileId: after.fileId,
      fpLen: after.fpLen,
      offset: line.start,
      seq: Math.max(0, line.seq - 1),
    });
  }

  async tail(n: number): Promise<ReadAfterResult> {
    const { lines, cursor } = await readTail(this.path, n, this.history);
    return { lines, cursor, more: false };
  }

  async seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    const end = await readTail(this.path, 0);
    const endAt = decodeCursor(end.cursor);
    const offset = await seekTime(this.path, atMs, endAt.offset);
    if (offset >= endAt.offset) return { lines: [], cursor: end.cursor, more: false };
    // The line number at `offset` is unknown without reading everything before it: number from the seek point.
    const from = encodeCursor({ fileId: endAt.fileId, fpLen: endAt.fpLen, offset, seq: 0 });
    return readAfter(this.path, from, limit, this.history);
  }

  search(query: SearchQuery): Promise<SearchOutcome> {
    return searchFile(this.path, query);
  }

  locate(cursor: string): Promise<"same" | "changed" | "gone"> {
    return matches(this.path, decodeCursor(cursor));
  }

  async sameSource(a: string, b: string): Promise<boolean> {
    const x = decodeCursor(a);
    const y = decodeCursor(b);
    if (x.fpLen === y.fpLen) return x.fileId === y.fileId;
    // Fingerprints of different lengths only compare through the file itself: both must name the one at the path.
    const [p, q] = await Promise.all([matches(this.path, x), matches(this.path, y)]);
    return p === "same" && q === "same";
  }

  positionOf(cursor: string): number {
    return decodeCursor(cursor).offset;
  }

  async startCursor(): Promise<string | null> {
    try {
      const identity = await identify(this.path);
      return encodeCursor({ fileId: identity.fileId, fpLen: identity.fpLen, offset: 0, seq: 0 });
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async info(): Promise<SourceInfo> {
    try {
      const s = await stat(this.path);
      return { exists: true, size: s.size, mtimeMs: s.mtimeMs };
    } catch (error) {
      if (isMissing(error)) return { exists: false, size: 0, mtimeMs: null };
      throw error;
    }
  }

  async openRaw(): Promise<NodeJS.ReadableStream | null> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, "r");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    // The stream owns the handle and closes it when done or destroyed.
    return handle.createReadStream({ start: 0 });
  }
}
