/**
 * Light, dark or the system's choice, remembered in localStorage. The page's colours come from `data-theme` on
 * <html> (styles.css: an explicit theme wins over `prefers-color-scheme`); `onChange` redraws what paints its
 * colours itself (the canvas charts read them from CSS).
 */

export type Theme = "system" | "light" | "dark";

const KEY = "livetrail.theme";

/** The stored choice; anything else (nothing stored, an old value, storage refused) is "system". */
export function readTheme(storage: Pick<Storage, "getItem"> | null): Theme {
  let v: string | null = null;
  try {
    v = storage?.getItem(KEY) ?? null;
  } catch {
    // Storage refused (privacy settings): follow the system.
  }
  return themeOf(v);
}

export function installThemeToggle(select: HTMLSelectElement, onChange: () => void): void {
  const theme = readTheme(localStorage);
  select.value = theme;
  apply(theme);
  select.addEventListener("change", () => {
    const t = themeOf(select.value);
    try {
      if (t === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, t);
    } catch {
      // Not remembered, still applied.
    }
    apply(t);
    onChange();
  });
  // Following the system: its switch changes what the charts must paint.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (themeOf(select.value) === "system") onChange();
  });
}

function apply(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

function themeOf(v: string | null): Theme {
  return v === "light" || v === "dark" ? v : "system";
}
