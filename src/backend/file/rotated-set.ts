import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The rotated files beside a followed path, in logrotate's names: `NAME.N` and `NAME.N.gz` (N = 1, 2, …; a higher
 * N is older) and the `dateext` form `NAME-YYYYMMDD[HH…]` and `NAME-YYYYMMDD[HH…].gz` (a later date is newer).
 * Together with the path itself they are the stream's history, oldest first. Only names are looked at here;
 * which file a cursor names is decided by identity (file-identity.ts, gz-file.ts), never by name, since every
 * rotation renames them all.
 */
export interface RotatedFile {
  path: string;
  /** gzip-compressed: read through zlib, positions are offsets in the uncompressed bytes. */
  gz: boolean;
}

const NUMBERED = /^\.([1-9][0-9]{0,5})(\.gz)?$/;
const DATED = /^-([0-9]{8,14})(\.gz)?$/;

/** The rotated files of `path`, oldest first (dated ones before numbered ones: logrotate uses one scheme). */
export async function listRotated(path: string): Promise<RotatedFile[]> {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const numbered: { n: number; file: RotatedFile }[] = [];
  const dated: { key: string; file: RotatedFile }[] = [];
  for (const entry of entries) {
    if (!entry.startsWith(name) || entry.length === name.length) continue;
    const rest = entry.slice(name.length);
    const file = (gz: string | undefined): RotatedFile => ({ path: join(dir, entry), gz: gz !== undefined });
    const n = NUMBERED.exec(rest);
    if (n !== null) {
      numbered.push({ n: Number(n[1]), file: file(n[2]) });
      continue;
    }
    const d = DATED.exec(rest);
    if (d !== null) dated.push({ key: d[1] as string, file: file(d[2]) });
  }
  numbered.sort((a, b) => b.n - a.n);
  dated.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [
    ...plainFirst(dated.map((d) => [d.key, d.file])),
    ...plainFirst(numbered.map((n) => [n.n, n.file])),
  ];
}

/**
 * Both `NAME.3` and `NAME.3.gz` exist for a moment while logrotate compresses: the plain one is the original and
 * the other still being written, so only the plain one counts.
 */
function plainFirst(sorted: [unknown, RotatedFile][]): RotatedFile[] {
  const out: RotatedFile[] = [];
  const plainKeys = new Set(sorted.filter(([, file]) => !file.gz).map(([key]) => key));
  for (const [key, file] of sorted) if (!(file.gz && plainKeys.has(key))) out.push(file);
  return out;
}
