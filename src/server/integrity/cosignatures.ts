import { createHash } from "node:crypto";
import { formatNote, type NoteSignature, type NoteVerifier, parseNote } from "../../integrity/note.js";

/** Checkpoints whose cosignatures are kept (the newest ones; a witness cosigns what it last saw). */
const KEPT_CHECKPOINTS = 64;

export class CosignatureError extends Error {
  override name = "CosignatureError";
  constructor(
    message: string,
    readonly code: "bad_cosignature" | "unknown_witness",
  ) {
    super(message);
  }
}

/**
 * Witness cosignatures (C2SP tlog-cosignature) accepted for a stream's checkpoints, in memory: each one verified
 * with a configured witness key, kept per checkpoint text, the newest per witness, and published by appending
 * them to the checkpoint's note (a signed note carries any number of signatures).
 */
export class Cosignatures {
  /** sha256(checkpoint text) → (witness name+id → signature). */
  private readonly byText = new Map<string, Map<string, NoteSignature>>();

  constructor(private readonly witnessKeys: readonly NoteVerifier[]) {}

  /**
   * Accepts the cosignatures in `posted` (a signed note: the checkpoint text with the witness's signature
   * lines) when its text is `checkpointText`. Every signature by a witness key must verify; signatures by other
   * keys are ignored when the note also carries the log's (they are the log's own), else refused.
   */
  accept(posted: string, checkpointText: string | undefined, logKeys: readonly NoteVerifier[]): string[] {
    let note: ReturnType<typeof parseNote>;
    try {
      note = parseNote(posted);
    } catch (error) {
      throw new CosignatureError(`not a signed note: ${(error as Error).message}`, "bad_cosignature");
    }
    if (checkpointText === undefined || note.text !== checkpointText) {
      throw new CosignatureError("the note's text is not a checkpoint of this stream", "bad_cosignature");
    }
    const text = Buffer.from(note.text);
    const accepted: NoteSignature[] = [];
    for (const sig of note.signatures) {
      const witness = this.witnessKeys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
      if (witness === undefined) {
        if (logKeys.some((k) => k.name === sig.name && k.keyId === sig.keyId)) continue;
        throw new CosignatureError(`${sig.name} is not one of this server's witnesses`, "unknown_witness");
      }
      if (!witness.verify(text, sig.signature)) {
        throw new CosignatureError(`the cosignature by ${sig.name} does not verify`, "bad_cosignature");
      }
      accepted.push(sig);
    }
    if (accepted.length === 0)
      throw new CosignatureError("no witness cosignature in the note", "bad_cosignature");
    const key = digest(note.text);
    const kept = this.byText.get(key) ?? new Map<string, NoteSignature>();
    for (const sig of accepted) kept.set(`${sig.name}+${sig.keyId}`, sig);
    this.byText.delete(key);
    this.byText.set(key, kept);
    while (this.byText.size > KEPT_CHECKPOINTS) this.byText.delete(this.byText.keys().next().value as string);
    return accepted.map((s) => s.name);
  }

  /** The checkpoint note with every cosignature accepted for it appended. */
  publish(note: string): string {
    const parsed = parseNote(note);
    const kept = this.byText.get(digest(parsed.text));
    if (kept === undefined) return note;
    const present = new Set(parsed.signatures.map((s) => `${s.name}+${s.keyId}`));
    const added = [...kept].filter(([id]) => !present.has(id)).map(([, sig]) => sig);
    return formatNote({ text: parsed.text, signatures: [...parsed.signatures, ...added] });
  }

  /** Names of the witnesses that cosigned this checkpoint text. */
  witnesses(note: string): string[] {
    return [...(this.byText.get(digest(parseNote(note).text))?.values() ?? [])].map((s) => s.name);
  }
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
