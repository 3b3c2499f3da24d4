/**
 * Hashing cost of the integrity tree, per leaf: leafHash (one-shot crypto.hash over a scratch buffer) against the
 * createHash baseline, and TreeBuilder.append (the node hashes, ~1 per leaf). Median CPU time of rounds, JSON on stdout.
 * Needs dist/ (npm run build). Usage: node bench/integrity-hash.js [leaves] [rounds]
 */
import { createHash } from "node:crypto";
import { leafHash, TreeBuilder } from "../dist/integrity/merkle.js";

const LEAVES = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
// Lines shaped like livetrail's entries (~90 bytes).
const lines = Array.from({ length: LEAVES }, (_, i) =>
  Buffer.from(
    `[2025-12-17T17:40:37Z] INFO: auth: user u${i % 977} logged in from 10.0.${i % 256}.${i % 199} sid=${i}`,
  ),
);
const ZERO = Buffer.of(0);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * ns per leaf of each variant over all lines, in CPU time (user + system: other processes on a shared machine
 * take wall time, not ours); rounds interleave the variants, since the noise drifts.
 */
function measure(variants) {
  for (const run of Object.values(variants)) run();
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const t0 = process.cpuUsage();
      run();
      const { user, system } = process.cpuUsage(t0);
      times[name].push(((user + system) * 1000) / LEAVES);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, Math.round(median(xs))]));
}

const hashes = lines.map((l) => leafHash(l));
const result = {
  leaves: LEAVES,
  rounds: ROUNDS,
  lineBytes: Math.round(lines.reduce((n, l) => n + l.length, 0) / LEAVES),
  nsPerLeaf: measure({
    createHashBaseline: () => {
      for (const l of lines) createHash("sha256").update(ZERO).update(l).digest();
    },
    leafHash: () => {
      for (const l of lines) leafHash(l);
    },
    builderAppend: () => {
      TreeBuilder.empty().append(hashes);
    },
    leafHashAndAppend: () => {
      TreeBuilder.empty().append(lines.map((l) => leafHash(l)));
    },
  }),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
