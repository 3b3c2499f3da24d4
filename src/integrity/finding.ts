/** What `verify` found wrong with a sealed log, precise enough to act on: which line, where, which checkpoint. */

export type FindingKind =
  | "line-changed"
  | "line-deleted"
  | "line-inserted"
  | "lines-swapped"
  | "lines-changed" // changed between two checkpoints, the sidecar's hashes edited to match
  | "truncated"
  | "bytes-mismatch"
  | "hashes-damaged"
  | "checkpoint-damaged"
  | "checkpoint-malformed"
  | "checkpoint-removed"
  | "checkpoint-reordered"
  | "bad-signature"
  | "wrong-key"
  | "rotation-link"
  | "no-checkpoints";

export interface Finding {
  kind: FindingKind;
  message: string;
  /** 1-based line number in the file as it is now. */
  line?: number;
  /** Byte offset of that line's first byte. */
  offset?: number;
  /** The signed checkpoint that covers it. */
  checkpoint?: { seq: number; size: number; bytes: number; time: string } | undefined;
}
