import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type CursorData, decodeCursor } from "../backend/file/file-cursor.js";
import { isMissing, matches } from "../backend/file/file-identity.js";
import type { StartAt } from "../backend/file/follower.js";
import { cursorTail, prefixOf } from "../core/cursor.js";

/**
 * Which files an agent reads, from where, when it (re)starts: the file the stream's newest line came from, at the
 * offset after that line, then whatever the path holds now.
 *
 * - The path still names that file: follow it from the offset (the follower itself notices a truncation below it).
 * - The path names another file (rotated while the agent was down): the old file is looked for next to the path
 *   under a name starting with the path's (`app.log.1`, `app.log-20251204`: logrotate's and most tools' names);
 *   found, it is drained from the offset first, then the path is followed from its start, and nothing is lost.
 * - Not found: the follower, given the old cursor, reports a gap (the lines after the offset are gone) and follows
 *   the path from its start.
 */
export interface FollowSource {
  path: string;
  start: StartAt;
  /** Read to the end of file once, then stop (a rotated file no one writes any more). */
  drainOnly: boolean;
}

/** The file part the agent stores in each entry (`f`): the file cursor's prefix, opaque to readers. */
export function fileIdentityOf(lineCursor: string): string {
  return prefixOf(lineCursor);
}

/** The file cursor at `offset` of the file `identity` names (seq 0: the agent numbers lines itself). */
export function cursorAt(identity: string, offset: number): { text: string; data: CursorData } {
  const text = identity + cursorTail(offset, 0);
  return { text, data: decodeCursor(text) };
}

/** Candidate siblings looked at, at most: a directory of thousands of old logs is not fingerprinted whole. */
const MAX_CANDIDATES = 200;

export async function planFollow(
  path: string,
  resume: { identity: string; offset: number } | null,
): Promise<FollowSource[]> {
  if (resume === null) return [{ path, start: { from: "start" }, drainOnly: false }];
  const cursor = cursorAt(resume.identity, resume.offset);
  const here = { path, start: { cursor: cursor.text }, drainOnly: false };
  if ((await matches(path, cursor.data)) === "same") return [here];
  const moved = await findMoved(path, cursor.data);
  if (moved === null) return [here];
  return [
    { path: moved, start: { cursor: cursor.text }, drainOnly: true },
    { path, start: { from: "start" }, drainOnly: false },
  ];
}

/**
 * A file next to `path`, named after it, that is the file `data` names (same device, inode and head bytes): where
 * a rotated file went (also where the agent reads back the bytes of its last lines).
 */
export async function findMoved(path: string, data: CursorData): Promise<string | null> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  const candidates = names.filter((name) => name !== base && name.startsWith(base)).sort();
  for (const name of candidates.slice(0, MAX_CANDIDATES)) {
    const candidate = join(dir, name);
    try {
      if ((await matches(candidate, data)) === "same") return candidate;
    } catch {
      // A directory, a file we may not read: not the one we are looking for.
    }
  }
  return null;
}
