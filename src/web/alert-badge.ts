import type { AlertSeverity } from "../protocol/messages.js";

const COLOURS: Readonly<Record<AlertSeverity, string>> = {
  critical: "#d32f2f",
  warning: "#ed8b00",
  info: "#1976d2",
};

/**
 * The tab shows the firing count: `(3) livetrail` as its title and a favicon drawn on a canvas, a disc in the
 * worst severity's colour with the count. With nothing firing both go back to what the page had.
 */
export class AlertBadge {
  private readonly baseTitle = document.title;
  private readonly icon: HTMLLinkElement | null = document.querySelector('link[rel="icon"]');
  private readonly baseIcon = this.icon?.href ?? null;
  private shown = "";

  show(count: number, worst: AlertSeverity | null): void {
    const key = `${count}/${worst}`;
    if (key === this.shown) return;
    this.shown = key;
    document.title = count > 0 ? `(${count}) ${this.baseTitle}` : this.baseTitle;
    if (this.icon === null) return;
    if (count === 0 || worst === null) {
      if (this.baseIcon !== null) this.icon.href = this.baseIcon;
      this.icon.type = "image/svg+xml";
      return;
    }
    const url = drawIcon(count, COLOURS[worst]);
    if (url === null) return;
    this.icon.type = "image/png";
    this.icon.href = url;
  }
}

function drawIcon(count: number, colour: string): string | null {
  const canvas = document.createElement("canvas");
  canvas.width = 32;
  canvas.height = 32;
  const g = canvas.getContext("2d");
  if (g === null) return null;
  g.fillStyle = colour;
  g.beginPath();
  g.arc(16, 16, 16, 0, 2 * Math.PI);
  g.fill();
  g.fillStyle = "#fff";
  g.font = "bold 20px sans-serif";
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillText(count > 9 ? "9+" : String(count), 16, 17);
  return canvas.toDataURL("image/png");
}
