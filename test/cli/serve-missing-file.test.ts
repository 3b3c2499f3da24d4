import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { killStrays } from "./run-cli.js";
import { startServe, stopServe } from "./serve-child.js";

killStrays();

/** `serve` waits for a file that does not exist yet, and says so on stderr at start (a typo would look quiet). */
describe("serve with a missing file", () => {
  const track = useClosers();

  it("warns for the missing file only, naming its stream and path, and still serves", async () => {
    const dir = await makeTempDir("livetrail-missing-");
    track({ close: () => dir.remove() });
    const there = dir.file("there.log");
    await writeFile(there, "[2026-12-05T01:00:00Z] here\n");
    const missing = dir.file("not-yet.log");
    const serve = await startServe([`there=${there}`, `later=${missing}`]);
    track({ close: () => stopServe(serve.child) });
    const warning = `livetrail: warning: later: ${missing} does not exist (yet); waiting for it to appear\n`;
    await waitFor(() => serve.stderr().includes(warning), { message: "the warning on stderr" });
    expect(serve.stderr()).not.toContain(there);
    const streams = (await (await fetch(`${serve.url}/api/streams`)).json()) as { name: string }[];
    expect(streams.map((s) => s.name)).toEqual(["there", "later"]);
  });
});
