import type { TimeMode } from "./time-format.js";

/**
 * UTC | Local as a two-state segmented control: both choices always visible, the one in use pressed (the old single
 * button both named the current mode and looked pressed in one of them).
 */
export class TimeModeToggle {
  private readonly buttons: HTMLButtonElement[];

  constructor(group: HTMLElement, onPick: (mode: TimeMode) => void) {
    this.buttons = [...group.querySelectorAll<HTMLButtonElement>("button[data-mode]")];
    for (const b of this.buttons)
      b.addEventListener("click", () => {
        const mode = b.dataset.mode === "local" ? "local" : "utc";
        if (b.getAttribute("aria-pressed") !== "true") onPick(mode);
      });
  }

  show(mode: TimeMode): void {
    for (const b of this.buttons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  }
}
