/** What one client connection was sent, for its session log line: lines and the streams they came from. */
export interface Tally {
  lines: number;
  streams: Set<string>;
}

// Keyed by the connection's own object (its WebSocket, its SSE response): gone with it, nothing to clean up.
const tallies = new WeakMap<object, Tally>();

/** Counts `lines` of `stream` sent to `peer` (a Sink's peer); a sink with no peer is not counted. */
export function tallyLines(peer: object | undefined, stream: string, lines: number): void {
  if (peer === undefined) return;
  const tally = tallies.get(peer);
  if (tally === undefined) tallies.set(peer, { lines, streams: new Set([stream]) });
  else {
    tally.lines += lines;
    tally.streams.add(stream);
  }
}

export function tallyOf(peer: object): Tally | undefined {
  return tallies.get(peer);
}
