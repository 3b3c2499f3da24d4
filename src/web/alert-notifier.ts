import type { WireAlert } from "../protocol/messages.js";

/**
 * Browser notifications for alerts that start firing. The page never asks on its own: the user's click on the
 * button asks for permission; the button goes away once the browser has an answer.
 */
export class AlertNotifier {
  private readonly supported = typeof Notification !== "undefined";

  constructor(private readonly button: HTMLButtonElement) {
    button.addEventListener("click", () => {
      if (!this.supported) return;
      void Notification.requestPermission().then(() => this.sync());
    });
    this.sync();
  }

  notify(alert: WireAlert): void {
    if (!this.supported || Notification.permission !== "granted") return;
    // The tag makes a repeat of the same episode replace its notification instead of stacking.
    new Notification(`${alert.severity.toUpperCase()}: ${alert.rule}`, {
      body: alert.summary,
      tag: alert.id,
    });
  }

  private sync(): void {
    const permission = this.supported ? Notification.permission : "denied";
    this.button.hidden = permission !== "default";
  }
}
