import { appendFile, rename, writeFile } from "node:fs/promises";
import { MovableFileBackend } from "../../../src/backend/glob/movable-file-backend.js";
import { makeTempDir } from "../../helpers/temp-dir.js";
import { streamBackendContract } from "../contract/stream-backend.contract.js";

const toText = (lines: string[]) => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);

// A glob stream's backend after its file was renamed: every backend promise holds through the move.
streamBackendContract("MovableFileBackend (after a rename)", async (initial) => {
  const dir = await makeTempDir("livetrail-movable-");
  await writeFile(dir.file("a.log"), toText(initial));
  const backend = new MovableFileBackend("stream", dir.file("a.log"), { pollIntervalMs: 50 });
  await rename(dir.file("a.log"), dir.file("b.log"));
  await backend.moveTo(dir.file("b.log"));
  return {
    backend,
    append: (lines) => appendFile(dir.file("b.log"), toText(lines)),
    reopen: async () => new MovableFileBackend("stream", dir.file("b.log"), { pollIntervalMs: 50 }),
    close: () => dir.remove(),
  };
});
