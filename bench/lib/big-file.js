/**
 * The big log for the cold-start and search benches: ~1 GiB of 100-byte lines, generated once per bench run
 * into the run's temp dir (deleted with it). A 10,000-line block is written repeatedly (the body's content
 * does not matter to either bench), a rare word sits in a few known lines, and the last TAIL lines carry
 * unique sequence numbers so a client can prove it got exactly the last ones.
 */
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeLine } from "./lines.js";

export const RARE = "zanzibarquux";
export const TAIL = 1000;
const BLOCK_LINES = 10_000;

/** @type {Map<string, Promise<BigFile>>} */
const made = new Map();

/** @typedef {{ path: string, bytes: number, lines: number, tailFirstSeq: number, rareCount: number }} BigFile */

/**
 * @param {string} dir
 * @param {number} bytes approximate size
 * @returns {Promise<BigFile>}
 */
export function bigFile(dir, bytes) {
  const key = `${dir}:${bytes}`;
  let p = made.get(key);
  if (!p) {
    p = Promise.resolve(generate(join(dir, `big-${bytes}.log`), bytes));
    made.set(key, p);
  }
  return p;
}

/**
 * @param {string} path
 * @param {number} bytes
 * @returns {BigFile}
 */
function generate(path, bytes) {
  const blockLines = [];
  for (let i = 0; i < BLOCK_LINES; i++) blockLines.push(makeLine(i));
  const block = Buffer.from(blockLines.join(""));
  const blocks = Math.max(1, Math.floor(bytes / block.length));
  // The rare word at the start, at a third, two thirds, and in the very last body line: a search must scan it all.
  const rareAt = new Set([0, Math.floor(blocks / 3), Math.floor((2 * blocks) / 3), blocks - 1]);
  const fd = openSync(path, "w");
  let lines = 0;
  try {
    for (let b = 0; b < blocks; b++) {
      writeSync(fd, block);
      lines += BLOCK_LINES;
      if (rareAt.has(b)) {
        writeSync(fd, makeLine(-2, 0, `note=${RARE}`));
        lines++;
      }
    }
    const tailFirstSeq = 100_000_000;
    const tail = [];
    for (let i = 0; i < TAIL; i++) tail.push(makeLine(tailFirstSeq + i));
    writeSync(fd, tail.join(""));
    lines += TAIL;
    return { path, bytes: statSync(path).size, lines, tailFirstSeq, rareCount: rareAt.size };
  } finally {
    closeSync(fd);
  }
}
