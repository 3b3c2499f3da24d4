import { EMPTY_FILTER, type FilterSpec } from "./filter.js";

/**
 * The shareable part of the view, kept in the URL hash: `#stream=…&q=…&case=1&re=1&all=1&line=CURSOR`, or for a
 * merged view `#merge=a,b&…` (stream names have no commas).
 */
export interface UrlState {
  stream: string | null;
  /** The streams of a merged view, in order (null: one stream). */
  merge?: string[] | null;
  filter: FilterSpec;
  /** Cursor of the selected line. */
  line: string | null;
}

export function readUrlState(hash: string): UrlState {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const merge = p.get("merge");
  return {
    stream: p.get("stream"),
    merge: merge === null ? null : merge.split(",").filter((n) => n !== ""),
    filter: {
      text: p.get("q") ?? "",
      caseSensitive: p.get("case") === "1",
      regex: p.get("re") === "1",
      onlyMatching: p.get("all") !== "1",
    },
    line: p.get("line"),
  };
}

export function formatUrlState(state: UrlState): string {
  const p = new URLSearchParams();
  if (state.merge) p.set("merge", state.merge.join(","));
  else if (state.stream) p.set("stream", state.stream);
  if (state.filter.text) p.set("q", state.filter.text);
  if (state.filter.caseSensitive) p.set("case", "1");
  if (state.filter.regex) p.set("re", "1");
  if (state.filter.onlyMatching !== EMPTY_FILTER.onlyMatching) p.set("all", "1");
  if (state.line) p.set("line", state.line);
  const s = p.toString();
  return s ? `#${s}` : "";
}

/**
 * Keeps the page's hash in step with the view (replaceState: no history entry per selection) and reports a hash
 * the user changed (pasted or edited), never one written here.
 */
export class UrlSync {
  private last = "";
  private readonly onHash = () => {
    if (location.hash === this.last) return;
    this.last = location.hash;
    this.onChange(readUrlState(location.hash));
  };

  constructor(private readonly onChange: (state: UrlState) => void) {}

  /** The state the page was opened with; from here on, hash changes are reported. */
  start(): UrlState {
    this.last = location.hash;
    window.addEventListener("hashchange", this.onHash);
    return readUrlState(location.hash);
  }

  write(state: UrlState): void {
    const hash = formatUrlState(state);
    if (hash === this.last) return;
    this.last = hash;
    history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  }

  /** A link to a state of this page (to copy). */
  link(state: UrlState): string {
    return `${location.origin}${location.pathname}${location.search}${formatUrlState(state)}`;
  }

  close(): void {
    window.removeEventListener("hashchange", this.onHash);
  }
}
