import { group, int, list, optional, path, pathOrInline, setting } from "./setting.js";

/** docs/integrity.md, "Serving and API": sealing as served, keys to check with. Key files are read at start. */
export const integrity = group("Integrity (docs/integrity.md):", {
  sealKey: optional<string>({
    kind: path({ arg: "<file>", describe: "a signer key file" }),
    flag: "--seal-key",
    help: "seal every stream with this signer key (livetrail keygen; non-file streams need --state-dir)",
    doc: "Signer key file (from `livetrail keygen`): every stream is sealed as it is served. The key stays in its file.",
  }),
  logKeys: setting({
    kind: list({ arg: "<pub>", describe: "verifier key files or keys", item: pathOrInline }),
    default: [],
    flag: "--log-key",
    help: "the log's verifier key (file or key) to check checkpoints with (repeatable)",
  }),
  witnessKeys: setting({
    kind: list({ arg: "<pub>", describe: "witness key files or keys", item: pathOrInline }),
    default: [],
    flag: "--witness-key",
    help: "accept cosignatures by this witness (file or key, repeatable)",
  }),
  sealEveryLines: setting({
    kind: int(),
    default: 1000,
    flag: "--seal-every-lines",
    help: "a checkpoint after this many new lines",
  }),
  sealEveryMs: setting({
    kind: int({ unit: "ms" }),
    default: 1000,
    flag: "--seal-every-ms",
    help: "a checkpoint this long after the first unsealed line",
  }),
});
