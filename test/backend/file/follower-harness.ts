import { Follower, type FollowerOptions } from "../../../src/backend/file/follower.js";
import type { FollowerEvent } from "../../../src/backend/file/follower-events.js";
import type { Line } from "../../../src/core/line.js";
import { type WaitForOptions, waitFor } from "../../helpers/wait-for.js";

/** A follower plus everything it emitted, in order, for assertions. */
export interface FollowerHarness {
  follower: Follower;
  events: FollowerEvent[];
  /** All lines emitted so far, flattened across batches. */
  lines(): Line[];
  texts(): string[];
  /** Event types in order, with consecutive "lines" batches collapsed into one "lines". */
  kinds(): string[];
  waitForLines(count: number, options?: WaitForOptions): Promise<Line[]>;
  waitForEvent(type: FollowerEvent["type"], options?: WaitForOptions): Promise<FollowerEvent>;
}

/** Creates and starts a follower recording its events; `track` registers it for closing after the test. */
export async function followFile(
  path: string,
  options: FollowerOptions,
  track: <T extends { close(): unknown }>(thing: T) => T,
): Promise<FollowerHarness> {
  const follower = track(new Follower(path, options));
  const events: FollowerEvent[] = [];
  const collected: Line[] = [];
  follower.on((event) => {
    events.push(event);
    if (event.type === "lines") for (const line of event.lines) collected.push(line);
  });
  await follower.start();
  return {
    follower,
    events,
    lines: () => collected,
    texts: () => collected.map((line) => line.text),
    kinds: () => {
      const kinds: string[] = [];
      for (const event of events) {
        if (event.type === "lines" && kinds[kinds.length - 1] === "lines") continue;
        kinds.push(event.type);
      }
      return kinds;
    },
    waitForLines: async (count, waitOptions) => {
      await waitFor(() => collected.length >= count, {
        message: `${count} lines`,
        ...waitOptions,
      });
      return collected;
    },
    waitForEvent: (type, waitOptions) =>
      waitFor(() => events.find((event) => event.type === type), {
        message: `a "${type}" event`,
        ...waitOptions,
      }),
  };
}
