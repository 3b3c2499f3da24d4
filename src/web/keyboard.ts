/** Page shortcuts: `/` search, Esc clear, Space pause (not while typing), End newest, `?` the list of them. */
export interface KeyboardActions {
  focusSearch(): void;
  clearSearch(): void;
  togglePause(): void;
  toEnd(): void;
  showHelp(): void;
}

/** One shortcut as the help overlay lists it (DOM-free, so a test can read the same table). */
export interface Shortcut {
  keys: readonly string[];
  does: string;
  /** Where it works, when not anywhere on the page. */
  where?: string;
}

/**
 * Every shortcut the page answers: the ones below and the filter box's Enter/Shift+Enter (bound in the app).
 * The help overlay is drawn from this table, so it cannot list a key that does nothing.
 */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ["/"], does: "Focus the filter" },
  { keys: ["Esc"], does: "Clear the filter (or close a dialog)" },
  { keys: ["Enter"], does: "Next match", where: "in the filter box" },
  { keys: ["Shift", "Enter"], does: "Previous match", where: "in the filter box" },
  { keys: ["Space"], does: "Pause or resume", where: "when not typing" },
  { keys: ["End"], does: "Jump to the newest line" },
  { keys: ["?"], does: "Show these shortcuts" },
];

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
    } else if (ev.key === "?") {
      ev.preventDefault();
      actions.showHelp();
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
