import { SHORTCUTS } from "./keyboard.js";

/**
 * The `?` overlay: the page's shortcuts, drawn from keyboard.ts's table. A modal <dialog>, so Esc closes it and
 * focus stays inside while it is open (and goes back where it was after).
 */
export class HelpOverlay {
  constructor(
    private readonly el: {
      dialog: HTMLDialogElement;
      list: HTMLElement;
      open: HTMLElement;
      close: HTMLElement;
    },
  ) {
    el.list.replaceChildren(
      ...SHORTCUTS.flatMap((s) => {
        const dt = document.createElement("dt");
        s.keys.forEach((k, i) => {
          if (i > 0) dt.append(" + ");
          const kbd = document.createElement("kbd");
          kbd.textContent = k;
          dt.append(kbd);
        });
        const dd = document.createElement("dd");
        dd.textContent = s.where ? `${s.does} (${s.where})` : s.does;
        return [dt, dd];
      }),
    );
    el.open.addEventListener("click", () => this.show());
    el.close.addEventListener("click", () => el.dialog.close());
  }

  show(): void {
    if (!this.el.dialog.open) this.el.dialog.showModal();
  }
}
