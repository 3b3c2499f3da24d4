import type { StreamTab } from "./stream-tab.js";

/**
 * The stream tabs, grouped by kind (files, containers, commands, hosts) and within a kind by host: with one kind
 * and one host (or none known) the tabs stand as they always did; with several kinds each kind's tabs follow a
 * label naming it; with several hosts each host's tabs follow a header button naming the host (it opens the
 * merged view of that host's streams). With two or more streams an "All" tab opens the merged view of every
 * stream. Labels go in as text.
 */

/** The kinds of stream, in the order the bar shows them. */
export const STREAM_KINDS = ["files", "containers", "commands", "hosts"] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** The group of hello's `streams[].source.kind` ("container", "command", "host"); anything else, or none, is "files". */
export function streamKind(kind: unknown): StreamKind {
  const group = `${kind}s`;
  return STREAM_KINDS.includes(group as StreamKind) ? (group as StreamKind) : "files";
}

const kinds = new WeakMap<object, StreamKind>();

/** Records a tab's kind (from hello) for the layout. */
export function setTabKind(tab: StreamTab, kind: unknown): void {
  kinds.set(tab, streamKind(kind));
}

/** A tab's kind as hello said ("files" when it said none). */
export function tabKind(tab: StreamTab): StreamKind {
  return kinds.get(tab) ?? "files";
}

export interface KindGroup<T> {
  kind: StreamKind;
  tabs: T[];
}

/** Tabs grouped by kind, in STREAM_KINDS order; each group keeps the server's order (DOM-free). */
export function groupByKind<T extends object>(
  tabs: readonly T[],
  kindOf: (t: T) => StreamKind = (t) => kinds.get(t) ?? "files",
): KindGroup<T>[] {
  return STREAM_KINDS.map((kind) => ({ kind, tabs: tabs.filter((t) => kindOf(t) === kind) })).filter(
    (g) => g.tabs.length > 0,
  );
}

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
  const byKind = groupByKind(tabs);
  const children: HTMLElement[] = [];
  // Headers kept from the last layout (a merged tab may be using one as its button).
  const heads = new Map<string, HTMLButtonElement>();
  for (const b of bar.querySelectorAll<HTMLButtonElement>("button.tab-host"))
    heads.set(`${b.textContent}\n${b.dataset.merge}`, b);
  for (const k of byKind) {
    if (byKind.length > 1) {
      const label = document.createElement("span");
      label.className = "tab-kind";
      label.textContent = k.kind;
      children.push(label);
    }
    children.push(...hostGroups(k.tabs, groups.length > 1, heads, byName));
  }
  all.hidden = tabs.length < 2;
  all.dataset.merge = tabs.map((t) => t.name).join(",");
  children.push(all);
  bar.replaceChildren(...children);
  bar.classList.toggle("grouped", groups.length > 1);
  bar.classList.toggle("by-kind", byKind.length > 1);
}

/** One kind's tabs, by host: with hosts shown, each host's tabs after its header button. */
function hostGroups(
  tabs: readonly StreamTab[],
  showHosts: boolean,
  heads: Map<string, HTMLButtonElement>,
  byName: Map<string, StreamTab>,
): HTMLElement[] {
  const children: HTMLElement[] = [];
  for (const g of groupByHost(tabs)) {
    if (showHosts) {
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
  return children;
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
