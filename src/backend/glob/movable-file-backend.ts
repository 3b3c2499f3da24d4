import type { Line } from "../../core/line.js";
import type {
  CursorScheme,
  FeedEvent,
  FollowOptions,
  LiveFeed,
  ReadAfterResult,
  ReadBeforeResult,
  ResumePlan,
  SearchOutcome,
  SearchQuery,
  SourceInfo,
  StreamBackend,
} from "../backend.js";
import { backendForFile, type FileBackendOptions } from "../sources.js";

/** Lines per history read while the feed moves to a file's new name. */
const MOVE_READ_LINES = 5_000;

/**
 * A file stream whose file may be renamed (a glob stream: `a.log` renamed to `b.log` stays the same stream): a
 * file backend on the file's current path, replaced by one on its new path by moveTo(). Cursors name the file,
 * not the path, so they stay valid across the move; the live feed goes on from the last line delivered, with no
 * line lost or repeated.
 */
export class MovableFileBackend implements StreamBackend {
  private current: StreamBackend;
  private feed: LiveFeed | null = null;
  private listener: ((event: FeedEvent) => void) | null = null;
  private followOptions: FollowOptions | null = null;
  /** The cursor after the last line the feed delivered (lines at or before it are not delivered again). */
  private delivered: string | null = null;
  /** Moves run one at a time. */
  private moving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly name: string,
    private currentPath: string,
    private readonly options: FileBackendOptions,
  ) {
    this.current = backendForFile(name, currentPath, options);
  }

  get path(): string {
    return this.currentPath;
  }

  get cursors(): CursorScheme {
    return this.current.cursors;
  }

  async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    this.listener = listener;
    this.followOptions = options;
    this.feed = await this.current.follow(options, (event) => this.forward(event));
    const self = this;
    return {
      get cursor() {
        return self.delivered ?? self.feed?.cursor ?? null;
      },
      close: async () => {
        this.closed = true;
        await this.moving;
        await this.feed?.close();
      },
    };
  }

  /** The file is now at `path` (same identity): reads and the live feed follow it there. */
  moveTo(path: string): Promise<void> {
    this.moving = this.moving.then(() => this.move(path));
    return this.moving;
  }

  private async move(path: string): Promise<void> {
    if (this.closed || path === this.currentPath) return;
    const next = backendForFile(this.name, path, this.options);
    this.currentPath = path;
    this.current = next;
    if (this.feed === null || this.followOptions === null) return;
    await this.feed.close();
    this.feed = null;
    if (this.closed) return;
    // Events of the new feed wait until the lines between the old feed's last one and its start are delivered.
    let queue: FeedEvent[] | null = [];
    const feed = await next.follow({ ...this.followOptions, tail: 1 }, (event) => {
      if (queue === null) this.forward(event);
      else queue.push(event);
    });
    this.feed = feed;
    let from = this.delivered;
    const stop = feed.cursor;
    while (from !== null && stop !== null && next.compare(from, stop) < 0) {
      const page = await next.readAfter(from, MOVE_READ_LINES);
      const lines = page.lines.filter((l) => next.compare(l.cursor, stop) <= 0);
      if (lines.length === 0) break;
      this.forward({ type: "lines", lines });
      from = page.cursor;
    }
    const waiting = queue;
    queue = null;
    for (const event of waiting) this.forward(event);
  }

  /** Hands feed events on, without the lines already delivered (the new feed starts with the last one). */
  private forward(event: FeedEvent): void {
    if (this.listener === null) return;
    if (event.type !== "lines") {
      if (event.type === "reset" || event.type === "gap")
        this.delivered = event.type === "reset" ? event.cursor : event.to;
      this.listener(event);
      return;
    }
    const after = this.delivered;
    const lines =
      after === null ? event.lines : event.lines.filter((l) => this.current.compare(l.cursor, after) > 0);
    const last = lines.at(-1);
    if (last === undefined) return;
    this.delivered = last.cursor;
    this.listener({ type: "lines", lines });
  }

  resumeFrom(cursor: string, followed: string | null): Promise<ResumePlan> {
    return this.current.resumeFrom(cursor, followed);
  }
  // Bound: callers may take these off the backend (RecentWindow destructures compare).
  readonly check = (cursor: string): void => this.current.check(cursor);
  readonly compare = (a: string, b: string): number => this.current.compare(a, b);
  readonly continues = (prev: Line, next: Line): boolean => this.current.continues(prev, next);
  readonly cursorBefore = (line: Line): string => this.current.cursorBefore(line);

  readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult> {
    return this.current.readAfter(cursor, limit, maxBytes);
  }
  readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    return this.current.readBefore(cursor, limit);
  }
  tail(n: number): Promise<ReadAfterResult> {
    return this.current.tail(n);
  }
  tailCursor(n: number): Promise<string | null> {
    return this.current.tailCursor(n);
  }
  seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    return this.current.seek(atMs, limit);
  }
  search(query: SearchQuery): Promise<SearchOutcome> {
    return this.current.search(query);
  }
  info(followed: string | null): Promise<SourceInfo> {
    return this.current.info(followed);
  }
  openRaw(): Promise<NodeJS.ReadableStream | null> {
    return this.current.openRaw();
  }
  exactBytes(lines: readonly Line[]): Promise<(Buffer | null)[]> {
    return this.current.exactBytes?.(lines) ?? Promise.resolve(lines.map(() => null));
  }
}
