import { MergedTab } from "./merged-tab.js";
import type { StatusView } from "./status-view.js";
import type { StreamTab } from "./stream-tab.js";
import { tabKind } from "./tab-bar.js";

/**
 * What the log area says when it has no lines to show: the file is missing ("Waiting for the file of …", and the
 * status says "Waiting for file" rather than a green "Live"), or the stream is live and empty ("No entries yet —
 * append with `livetrail log …`"); and, as a strip over the rows, that a file whose lines are shown went away.
 * Drawn again after every render of the view, so it goes as soon as lines come.
 */
export class StreamStateView {
  private shown = "";

  constructor(
    private readonly el: HTMLElement,
    private readonly status: StatusView,
  ) {}

  show(tab: StreamTab | null): void {
    const missing = tab !== null && !(tab instanceof MergedTab) && tab.missing;
    this.status.setWaiting(missing ? (tab?.name ?? null) : null);
    const rows = tab?.store.length ?? 0;
    const state = !tab
      ? ""
      : missing
        ? rows === 0
          ? "missing"
          : "gone"
        : tab.live && rows === 0
          ? "empty"
          : "";
    const key = `${state}\u0000${tab?.name ?? ""}\u0000${tab?.host ?? ""}`;
    if (key === this.shown) return;
    this.shown = key;
    this.el.hidden = state === "";
    this.el.dataset.state = state;
    if (!tab || state === "") {
      this.el.replaceChildren();
      return;
    }
    const title = document.createElement("p");
    title.className = "stream-state-title";
    const hint = document.createElement("p");
    const where = tab.host ? ` on ${tab.host}` : "";
    if (state === "gone") {
      // Lines are held: a strip over the top of the log, not a message over the rows.
      title.textContent = `The file of stream “${tab.name}”${where} is not there now`;
      hint.textContent = "Lines resume when it is back.";
    } else if (state === "missing") {
      title.textContent = `Waiting for the file of stream “${tab.name}”${where} to appear`;
      hint.textContent =
        "The file does not exist yet. Its lines show here as soon as it is written; the server's log names its path.";
    } else if (tabKind(tab) === "files" && !(tab instanceof MergedTab)) {
      title.textContent = "No entries yet";
      const code = document.createElement("code");
      code.textContent = "livetrail log …";
      hint.append(`Stream “${tab.name}”${where} is empty — append with `, code);
    } else {
      title.textContent = "No lines yet";
      hint.textContent = `Stream “${tab.name}”${where} has not written anything; new lines show here as they come.`;
    }
    this.el.replaceChildren(title, hint);
  }
}
