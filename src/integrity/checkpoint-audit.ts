import type { CheckpointLog } from "./checkpoint-log.js";
import type { Finding } from "./finding.js";
import { IntegrityError } from "./integrity-error.js";
import { type NoteVerifier, openNote, parseNote } from "./note.js";
import { parseSealPoint, parseSealPointNote, type SealPoint } from "./seal-point.js";
import { hex8 } from "./sealer.js";

/**
 * The first half of `verify`: reads every checkpoint record of a sidecar, checks its signature with the given key
 * and its place in the sequence, and returns the checkpoints the content check may rely on. A record whose bytes
 * were changed, a signature that fails, a key that is not the signer's, a number missing from the sequence (a
 * removed checkpoint) or one out of order (a reordered or replayed one) each become a finding.
 */

export interface AuditedCheckpoints {
  /** Checkpoints that parse and (with a key) verify, in record order. */
  points: SealPoint[];
  findings: Finding[];
  /** Records in the file, good or not. */
  records: number;
  /** Bytes of a torn last record (a crash while sealing; not a finding, the next seal cuts it). */
  tornBytes: number;
}

export function auditCheckpoints(log: CheckpointLog, key: NoteVerifier | null): AuditedCheckpoints {
  const findings: Finding[] = [];
  const points: SealPoint[] = [];
  for (const d of log.damaged) {
    findings.push({
      kind: "checkpoint-damaged",
      message: `the checkpoint record at byte ${d.offset} of the checkpoints file was changed (${d.reason})`,
    });
  }
  let badSignatures = 0;
  let firstBad: string | null = null;
  const otherSigners = new Set<string>();
  let unsignedByKey = 0;
  /** Numbers that records failing their signature claim: they are there (altered), not removed. */
  const otherSeqs = new Set<number>();
  for (const record of log.records) {
    let text: string;
    try {
      if (key === null) text = parseNote(record.note).text;
      else text = openNote(record.note, [key]).text;
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      if (error.code === "invalid-signature") {
        badSignatures++;
        const claimed = claimedSeq(record.note);
        if (claimed !== null) otherSeqs.add(claimed);
        firstBad ??= `checkpoint record ${record.index + 1}`;
      } else if (error.code === "unverified-note") {
        unsignedByKey++;
        for (const s of parseNote(record.note).signatures) otherSigners.add(`${s.name}+${hex8(s.keyId)}`);
      } else {
        findings.push({
          kind: "checkpoint-malformed",
          message: `checkpoint record ${record.index + 1}: ${error.message}`,
        });
      }
      continue;
    }
    try {
      points.push(parseSealPoint(text));
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      findings.push({
        kind: "checkpoint-malformed",
        message: `checkpoint record ${record.index + 1}: ${error.message}`,
      });
    }
  }
  if (badSignatures > 0) {
    findings.push({
      kind: "bad-signature",
      message: `${badSignatures} checkpoint${badSignatures === 1 ? "" : "s"} fail${badSignatures === 1 ? "s" : ""} the signature check (first: ${firstBad}): the checkpoint was altered after signing`,
    });
  }
  if (unsignedByKey > 0 && key !== null) {
    const by = [...otherSigners].join(", ") || "nobody";
    findings.push({
      kind: "wrong-key",
      message: `${unsignedByKey} checkpoint${unsignedByKey === 1 ? " is" : "s are"} not signed by ${key.name}+${hex8(key.keyId)} (signed by ${by})`,
    });
  }
  findings.push(...sequenceFindings(points, otherSeqs));
  return { points, findings, records: log.records.length, tornBytes: log.tornBytes };
}

/** Checkpoint numbers must run 1, 2, 3, … with sizes and byte lengths that never shrink. */
function sequenceFindings(points: readonly SealPoint[], otherSeqs: ReadonlySet<number>): Finding[] {
  const findings: Finding[] = [];
  let expected = 1;
  let previous: SealPoint | null = null;
  const present = new Set([...points.map((p) => p.seq), ...otherSeqs]);
  for (const p of points) {
    // Numbers skipped here that come later are a reordering (reported there), not a removal.
    const missing = Array.from({ length: Math.max(0, p.seq - expected) }, (_, i) => expected + i);
    if (missing.some((n) => !present.has(n))) {
      const gap = p.seq - expected;
      findings.push({
        kind: "checkpoint-removed",
        message: `checkpoint${gap === 1 ? ` ${expected} is` : `s ${expected}..${p.seq - 1} are`} missing (the one after ${previous === null ? "the start" : `checkpoint ${previous.seq} (line ${previous.size})`} is checkpoint ${p.seq})`,
        checkpoint: summary(p),
      });
    } else if (p.seq < expected) {
      findings.push({
        kind: "checkpoint-reordered",
        message: `checkpoint ${p.seq} comes after checkpoint ${expected - 1}: checkpoints were reordered or replayed`,
        checkpoint: summary(p),
      });
    }
    if (previous !== null && (p.size < previous.size || p.bytes < previous.bytes)) {
      findings.push({
        kind: "checkpoint-reordered",
        message: `checkpoint ${p.seq} seals ${p.size} lines after checkpoint ${previous.seq} sealed ${previous.size}: a history never shrinks`,
        checkpoint: summary(p),
      });
    }
    expected = Math.max(expected, p.seq + 1);
    previous = p;
  }
  return findings;
}

function claimedSeq(note: string): number | null {
  try {
    return parseSealPointNote(note).seq;
  } catch {
    return null;
  }
}

export function summary(p: SealPoint): Finding["checkpoint"] {
  return { seq: p.seq, size: p.size, bytes: p.bytes, time: p.time };
}
