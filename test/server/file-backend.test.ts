import { appendFile, rename, unlink, writeFile } from "node:fs/promises";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { streamBackendContract } from "./backend-contract.js";

const toText = (lines: string[]) => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);

streamBackendContract("FileBackend", async (initial) => {
  const dir = await makeTempDir("livetrail-backend-");
  const file = dir.file("stream.log");
  await writeFile(file, toText(initial));
  return {
    backend: new FileBackend("stream", file, { pollIntervalMs: 50 }),
    append: (lines) => appendFile(file, toText(lines)),
    replace: async (lines) => {
      await rename(file, `${file}.1`);
      await writeFile(file, toText(lines));
    },
    remove: () => unlink(file),
    close: () => dir.remove(),
  };
});
