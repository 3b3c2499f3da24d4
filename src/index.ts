// The livetrail library: what Node programs import from "livetrail". Re-exports only.

// Writing entries.
export {
  AppendError,
  type AppendOptions,
  type AppendResult,
  appendEntries,
  type EntryInput,
  ShortWriteError,
} from "./append/appender.js";
export {
  EntryError,
  type EntryErrorCode,
  type EntryLevel,
  type EntryOptions,
  escapeMessage,
  formatEntry,
  MAX_ENTRY_BYTES,
  parseLevel,
} from "./append/entry-format.js";
export {
  type Problem,
  type ProblemKind,
  type VerifyOptions,
  type VerifyReport,
  verifyAuditFile,
} from "./append/verify.js";
export { type CursorData, decodeCursor, encodeCursor } from "./backend/file/file-cursor.js";
export { Follower, type FollowerOptions, type FollowerStats, type StartAt } from "./backend/file/follower.js";
export type { FollowerEvent, FollowerListener, GapReason } from "./backend/file/follower-events.js";
export { type Demo, type DemoOptions, startDemo } from "./cli/demo.js";
// Following a file.
export { CursorError, StaleCursorError } from "./core/cursor.js";
export { type Entry, guessLevel, parseEntry } from "./core/entry.js";
export type { Line } from "./core/line.js";
// Speaking the WebSocket protocol (docs/protocol.md).
export { type FrameLine, frameLines } from "./protocol/lines-frame.js";
export type { ClientMessage, LinesFrame, ServerMessage, WireLine } from "./protocol/messages.js";
// Serving streams.
export { createServer, type LivetrailServer, type ServerAddress } from "./server/app.js";
export type { ServerOptions, StreamSpec } from "./server/options.js";
