import type { StreamBackend } from "./backend.js";
import { FileBackend, type FileBackendOptions } from "./file/file-backend.js";

/**
 * The backend for a stream named by a path: the embedded default, one local file. The server asks here instead of
 * knowing which kinds of source exist; a stream that brings its own backend (a ring on stdin, later Redis) skips it.
 */
export function backendForFile(name: string, file: string, options: FileBackendOptions): StreamBackend {
  return new FileBackend(name, file, options);
}
