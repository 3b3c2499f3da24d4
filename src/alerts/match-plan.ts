import { type Entry, type EntryLevel, parseEntry } from "../core/entry.js";
import { escapeRegExp, foldCase, type LineFilter, type LineText } from "./line-filter.js";

/**
 * Which line rules match each line of one stream, in one pass. The literals the rules require (a level's words
 * count as literals), case-folded, are joined into one V8 alternation tested on the folded line (escaped
 * literals only, so it cannot backtrack; folded is a superset of exact): a line that contains none of them
 * costs one lower-casing and one scan and skips every such rule; a line that does goes through each such rule's
 * own test. Only rules with no known literal (a regex with no fixed text of 3 characters, an info level) are
 * tested on every line. Measured (docs/alerts.md): an exact alternation beat a caseless (`i`, `iu`) one 2-4x
 * and a hand-written Aho-Corasick automaton in JS 2-3x on 100-byte lines.
 */
export interface PlannedRule {
  readonly filter: LineFilter;
}

/** The line being evaluated, reused for every line (no allocation per line). */
class LineView implements LineText {
  text = "";
  private lower: string | undefined;
  private parsed: Entry | undefined;

  reset(text: string): void {
    this.text = text;
    this.lower = undefined;
    this.parsed = undefined;
  }

  folded(): string {
    this.lower ??= foldCase(this.text);
    return this.lower;
  }

  entry(): Entry {
    this.parsed ??= parseEntry(this.text);
    return this.parsed;
  }

  level(): EntryLevel {
    return this.entry().level;
  }
}

export class MatchPlan<R extends PlannedRule> {
  private readonly always: R[] = [];
  private readonly filtered: R[] = [];
  private readonly any: RegExp | null;
  private readonly view = new LineView();

  constructor(readonly rules: readonly R[]) {
    for (const rule of rules) (rule.filter.literals === null ? this.always : this.filtered).push(rule);
    const literals = [...new Set(this.filtered.flatMap((r) => r.filter.literals as string[]))];
    this.any = literals.length === 0 ? null : new RegExp(literals.map(escapeRegExp).join("|"));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Calls `hit` for every (rule, line) that matches, in line order; `entry()` parses the line once. */
  run(
    lines: readonly { readonly text: string }[],
    hit: (rule: R, index: number, entry: () => Entry) => void,
  ): void {
    const { always, filtered, any, view } = this;
    const entry = (): Entry => view.entry();
    for (let i = 0; i < lines.length; i++) {
      view.reset((lines[i] as { readonly text: string }).text);
      for (const rule of always) if (rule.filter.test(view)) hit(rule, i, entry);
      if (any?.test(view.folded()))
        for (const rule of filtered) if (rule.filter.test(view)) hit(rule, i, entry);
    }
  }
}
