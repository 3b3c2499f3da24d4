// The livetrail library: what Node programs import from "livetrail". Re-exports only.
export {
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
