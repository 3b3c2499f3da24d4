import { isLoopback } from "./client-address.js";

export type CapVerdict = { ok: true; release: () => void } | { ok: false; reason: "total" | "address" };

/**
 * Counts open streaming connections (WebSocket and SSE) in total and per client address. acquire() either
 * admits a connection and hands back its release (idempotent) or says which cap is full.
 */
export class ConnectionCaps {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
    private readonly limitLoopback: boolean,
  ) {}

  get open(): number {
    return this.total;
  }

  acquire(address: string): CapVerdict {
    if (this.total >= this.maxTotal) return { ok: false, reason: "total" };
    const counted = this.limitLoopback || !isLoopback(address);
    const current = this.byAddress.get(address) ?? 0;
    if (counted && current >= this.maxPerAddress) return { ok: false, reason: "address" };
    this.total++;
    this.byAddress.set(address, current + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const n = (this.byAddress.get(address) ?? 1) - 1;
        if (n <= 0) this.byAddress.delete(address);
        else this.byAddress.set(address, n);
      },
    };
  }
}
