/** Page shortcuts: `/` search, Esc clear, Space pause (not while typing), End newest. */
export interface KeyboardActions {
  focusSearch(): void;
  clearSearch(): void;
  togglePause(): void;
  toEnd(): void;
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

export function installKeyboard(actions: KeyboardActions): () => void {
  const onKey = (ev: KeyboardEvent) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const inField = typing(ev.target);
    if (ev.key === "Escape") {
      if (inField || document.activeElement === document.body) actions.clearSearch();
      return;
    }
    if (inField) return;
    // Space and Enter on a focused button press it; leave those alone.
    const onButton =
      ev.target instanceof HTMLButtonElement ||
      (ev.target instanceof HTMLElement && ev.target.tagName === "SUMMARY");
    if (ev.key === "/") {
      ev.preventDefault();
      actions.focusSearch();
    } else if (ev.key === " " && !onButton) {
      ev.preventDefault();
      actions.togglePause();
    } else if (ev.key === "End") {
      ev.preventDefault();
      actions.toEnd();
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
