/**
 * On a narrow screen the toolbar shows only the filter box and a Tools button; the filter options, pause, time
 * and export open below it (styles.css hides them while `data-open` is absent, and only at narrow widths, so on
 * a wide screen the button is hidden and everything shows).
 */
export function installToolbarCollapse(toolbar: HTMLElement, button: HTMLButtonElement): void {
  const set = (open: boolean) => {
    button.setAttribute("aria-expanded", String(open));
    if (open) toolbar.dataset.open = "";
    else delete toolbar.dataset.open;
  };
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
}
