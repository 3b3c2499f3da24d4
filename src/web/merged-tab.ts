import { MergedStore } from "./merged-store.js";
import { StreamTab } from "./stream-tab.js";
import type { RowMark } from "./view/row-renderer.js";

/** Colours for stream chips (styles.css `.src.c0` … `.c7`), by the stream's place among all streams. */
const COLOURS = 8;

/**
 * A tab showing several streams merged by time (merged-store.ts). It is never subscribed: its members are, each
 * with its own cursor, so a reconnect resumes every stream exactly and the merged view just follows them.
 */
export class MergedTab extends StreamTab {
  readonly merge: MergedStore;
  private readonly marks: RowMark[];

  constructor(
    readonly members: readonly StreamTab[],
    /** Each member's colour (its index among all the page's streams). */
    colours: readonly number[],
    cap: number,
    button: HTMLButtonElement,
  ) {
    super(members.map((m) => m.name).join(","), false, cap, button);
    this.merge = new MergedStore(
      this.store,
      members.map((m) => m.store),
    );
    const hosts = new Set(members.map((m) => m.host));
    this.marks = members.map((m, i) => ({
      // The host is named on the chip when the merged streams come from more than one.
      label: hosts.size > 1 && m.host !== undefined ? `${m.host} · ${m.name}` : m.name,
      title: m.host === undefined ? m.name : `${m.name} on ${m.host}`,
      colour: (colours[i] ?? i) % COLOURS,
    }));
  }

  /** The names of the merged streams, in order. */
  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  override streamOf(row: number): string {
    return this.members[this.merge.sourceOf(row)]?.name ?? "";
  }

  /** The chip of a row: its stream (and host). */
  markOf(row: number): RowMark | null {
    return this.marks[this.merge.sourceOf(row)] ?? null;
  }

  /** Every member is live (catch-up done on this socket). */
  get allLive(): boolean {
    return this.members.every((m) => m.live);
  }

  override close(): void {
    this.merge.close();
    super.close();
  }
}
