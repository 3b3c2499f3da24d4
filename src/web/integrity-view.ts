import type { IntegrityInfo, StreamInfo } from "../protocol/messages.js";
import { webSha256 } from "./consistency-check.js";
import { showAlarm, showBadge, showUnchecked } from "./integrity-badge.js";
import { IntegrityWitness } from "./integrity-witness.js";

/** The dashboard's integrity: badges from hello and `integrity` messages, and this browser as a witness. */
export class IntegrityView {
  private readonly witness: IntegrityWitness;

  constructor(private readonly tabOf: (stream: string) => HTMLElement | undefined) {
    this.witness = new IntegrityWitness({
      storage: window.localStorage,
      serverOrigin: location.origin,
      sha: webSha256,
      fetchText: async (stream, path) => {
        const url = new URL(`api/streams/${encodeURIComponent(stream)}/${path}`, document.baseURI);
        const res = await fetch(url, { credentials: "same-origin" });
        if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
        return res.text();
      },
      onAlarm: showAlarm,
      onUnchecked: showUnchecked,
    });
  }

  onHello(streams: readonly StreamInfo[]): void {
    for (const s of streams) if (s.integrity !== undefined) this.onIntegrity(s.name, s.integrity);
  }

  onIntegrity(stream: string, info: IntegrityInfo): void {
    const tab = this.tabOf(stream);
    if (tab !== undefined) showBadge(tab, info);
    void this.witness.observe(stream, info);
  }
}
