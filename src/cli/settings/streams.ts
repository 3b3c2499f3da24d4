import { hostLabelProblem } from "../../protocol/host-label.js";
import type { StreamSpec } from "../../server/options.js";
import { group, int, optional, setting, structured, text } from "./setting.js";
import { parseStreamsConfig } from "./streams-config.js";

/** What is served: the config file's streams, the host they come from, the memory of a stdin stream. */
export const streams = group("Streams:", {
  streams: setting({
    kind: structured<StreamSpec[]>(
      '{"NAME": "FILE"} or [{"name", "file", "host"}]',
      parseStreamsConfig,
      (list) => list.map((s) => `${s.name}=${s.file ?? "-"}`).join(","),
    ),
    default: [],
    defaultText: "the FILE arguments, else $LIVETRAIL_FILE, else ./status/AUTO_REPAIR_AUDIT.log",
    flag: null,
    help: "the streams: FILE arguments on the command line",
    doc: 'Streams to serve, the first the default: `{"NAME": "FILE"}` or `[{"name", "file", "host"}]`, files relative to the config file; a FILE may also be `cmd:ARGV`, `sh:STRING`, a glob or a directory (docs/sources.md). On the command line: FILE or NAME=FILE arguments (which replace these).',
  }),
  hostLabel: optional<string>({
    kind: text({
      arg: "<label>",
      describe: "a host label",
      problem: hostLabelProblem,
      samples: ["h1", "h2", "h3"],
    }),
    defaultText: "this machine's host name",
    flag: "--host-label",
    help: "host shown for the file and stdin streams (the dashboard groups streams by host); default: host name",
  }),
  stdinLines: setting({
    kind: int(),
    default: 100_000,
    flag: "--stdin-lines",
    help: "lines of a NAME=- stream kept in memory",
  }),
  stdinBytes: setting({
    kind: int(),
    default: 64 * 1024 * 1024,
    flag: "--stdin-bytes",
    help: "bytes of a NAME=- stream kept in memory",
  }),
});
