import type { StreamTab } from "./stream-tab.js";

/**
 * The stream tabs, grouped by host: with one host (or none known) the tabs stand as they always did; with several,
 * each host's tabs follow a header button naming the host (it opens the merged view of that host's streams). With
 * two or more streams an "All" tab opens the merged view of every stream. Labels go in as text.
 */

export interface HostGroup {
  /** The host label, or null for streams whose host is not known. */
  host: string | null;
  /** Stream names in the order the server gave them. */
  names: string[];
}

/** Streams grouped by host, groups in order of their first stream (DOM-free). */
export function groupByHost(streams: readonly { name: string; host?: string | undefined }[]): HostGroup[] {
  const groups = new Map<string | null, HostGroup>();
  for (const s of streams) {
    const host = s.host ?? null;
    let g = groups.get(host);
    if (!g) {
      g = { host, names: [] };
      groups.set(host, g);
    }
    g.names.push(s.name);
  }
  return [...groups.values()];
}

/** Lays the tab buttons out in `bar` (they are moved, not rebuilt, so their state stays). */
export function layoutTabs(bar: HTMLElement, tabs: readonly StreamTab[], all: HTMLButtonElement): void {
  const byName = new Map(tabs.map((t) => [t.name, t]));
  const groups = groupByHost(tabs);
  const children: HTMLElement[] = [];
  // Headers kept from the last layout (a merged tab may be using one as its button).
  const heads = new Map<string, HTMLButtonElement>();
  for (const b of bar.querySelectorAll<HTMLButtonElement>("button.tab-host"))
    heads.set(`${b.textContent}\n${b.dataset.merge}`, b);
  for (const g of groups) {
    if (groups.length > 1) {
      const label = g.host ?? "other";
      const merge = g.names.join(",");
      const head = heads.get(`${label}\n${merge}`) ?? document.createElement("button");
      head.type = "button";
      head.className = "tab-host";
      head.textContent = label;
      head.title = `All streams of ${g.host ?? "streams without a host"}, merged by time`;
      head.dataset.merge = merge;
      children.push(head);
    }
    for (const name of g.names) {
      const tab = byName.get(name);
      if (tab) children.push(tab.button);
    }
  }
  all.hidden = tabs.length < 2;
  all.dataset.merge = tabs.map((t) => t.name).join(",");
  children.push(all);
  bar.replaceChildren(...children);
  bar.classList.toggle("grouped", groups.length > 1);
}

/** The "All" tab's button. */
export function allTabButton(): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.setAttribute("role", "tab");
  b.className = "tab-all";
  b.textContent = "All";
  b.title = "Every stream in one list, merged by time";
  return b;
}
