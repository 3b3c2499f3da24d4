import type { FeedEvent, FollowOptions, LiveFeed, StreamBackend } from "./backend.js";
import { FileBackend, type FileBackendOptions } from "./file/file-backend.js";

/**
 * The backend for a stream named by a path: the embedded default, one local file. The server asks here instead of
 * knowing which kinds of source exist; a stream that brings its own backend (a ring on stdin, later Redis) skips it.
 */
export function backendForFile(name: string, file: string, options: FileBackendOptions): StreamBackend {
  return new FileBackend(name, file, options);
}

export type { FileBackendOptions } from "./file/file-backend.js";
/**
 * A file's identity (device, inode and a fingerprint of its first bytes), the one its cursors name: a source that
 * finds files (backend/glob/) tells a renamed file from a new one by it.
 */
export { type FileIdentity, identify as identifyFile } from "./file/file-identity.js";

/**
 * A file read as records, one per line, by a backend that turns them into its own lines (backend/docker/): the
 * file backend's feed, history, cursors and seek over the records, and a feed that can start after a cursor.
 */
export interface RecordFile extends StreamBackend {
  readonly path: string;
  followFrom(
    cursor: string | null,
    options: FollowOptions,
    listener: (event: FeedEvent) => void,
  ): Promise<LiveFeed>;
}

export type RecordFileOptions = FileBackendOptions;

export function recordFile(name: string, file: string, options: RecordFileOptions): RecordFile {
  return new FileBackend(name, file, options);
}
