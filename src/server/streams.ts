import { SourceMissingError } from "../backend/backend.js";
import type { Hub } from "./hub.js";

/** The server's streams by name; the first one added is the default stream. */
export class Streams {
  private readonly byName = new Map<string, Hub>();
  private first: Hub | null = null;

  add(hub: Hub): void {
    if (this.byName.has(hub.name)) throw new Error(`duplicate stream name "${hub.name}"`);
    this.byName.set(hub.name, hub);
    this.first ??= hub;
  }

  get(name: string): Hub | undefined {
    return this.byName.get(name);
  }

  get default(): Hub {
    // Streams from a StreamSource may not be known yet (Redis not reachable at start): a 404, not a crash.
    if (this.first === null) throw new SourceMissingError("no stream is known yet");
    return this.first;
  }

  all(): Hub[] {
    return [...this.byName.values()];
  }
}
