import type { ConnectionStatus } from "./connection.js";
import { formatTime, type TimeMode } from "./time-format.js";

/**
 * The connection indicator: a coloured dot and a word (live / reconnecting in Ns / offline), the time of the
 * last line, and a tooltip with round-trip time, lines per second and a small quality meter. While the shown
 * stream's file is missing, an open connection says "Waiting for file" (amber), not a green "Live".
 */
export class StatusView {
  private status: ConnectionStatus | null = null;
  private lastLineAt: number | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** The shown stream, when its file does not exist (yet). */
  private waitingFor: string | null = null;
  timeMode: TimeMode = "utc";

  constructor(
    private readonly el: {
      root: HTMLElement;
      label: HTMLElement;
      updated: HTMLElement;
      details: HTMLElement;
      meter: HTMLElement;
    },
  ) {}

  update(status: ConnectionStatus): void {
    this.status = status;
    const needsTicker = status.state === "reconnecting";
    if (needsTicker && this.ticker === null) this.ticker = setInterval(() => this.render(), 250);
    if (!needsTicker && this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    this.render();
  }

  linesArrived(at: number): void {
    const last = this.lastLineAt;
    this.lastLineAt = at;
    // The shown time has one-second resolution: redraw once per second at most, not per batch.
    if (last === null || Math.floor(last / 1000) !== Math.floor(at / 1000)) this.render();
  }

  /** The shown stream's file is missing (its name), or not (null). */
  setWaiting(stream: string | null): void {
    if (stream === this.waitingFor) return;
    this.waitingFor = stream;
    this.render();
  }

  render(): void {
    const s = this.status;
    if (!s) return;
    const { root, label, updated, details, meter } = this.el;
    const waiting = s.state === "open" && this.waitingFor !== null;
    root.dataset.state = waiting ? "waiting" : s.state;
    let text: string;
    switch (s.state) {
      case "open":
        text = waiting ? "Waiting for file" : "Live";
        break;
      case "connecting":
        text = "Connecting…";
        break;
      case "reconnecting": {
        const secs = s.retryAt === null ? 0 : Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        text = `Reconnecting in ${secs} s`;
        break;
      }
      case "offline":
        text = "Offline";
        break;
      default:
        text = "Closed";
    }
    label.textContent = text;
    const [, time] = formatTime(this.lastLineAt ?? Number.NaN, this.timeMode);
    updated.textContent = time ? `updated ${time}` : "";
    const quality = s.state !== "open" ? 0 : s.rttMs === null ? 2 : s.rttMs < 100 ? 3 : s.rttMs < 500 ? 2 : 1;
    meter.dataset.quality = String(quality);
    meter.setAttribute("aria-label", `connection quality ${quality} of 3`);
    const lines = [
      waiting ? `State: connected; the file of “${this.waitingFor}” does not exist yet` : `State: ${text}`,
      `Round trip: ${s.rttMs === null ? "–" : `${s.rttMs} ms`}`,
      `Lines/s: ${s.linesPerSec}`,
      `Server: ${s.server ?? "–"}`,
    ];
    if (s.attempt > 0) lines.push(`Failed attempts: ${s.attempt}`);
    if (s.lastClose) lines.push(`Last disconnect: ${s.lastClose}`);
    details.textContent = lines.join("\n");
  }

  close(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }
}
