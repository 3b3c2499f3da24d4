import { type Entry, type EntryLevel, parseEntry } from "../core/entry.js";
import { escapeRegExp, foldCase, type LineFilter, type LineText } from "./line-filter.js";

/**
 * Which line rules match each line of one stream, in one pass. The literals the rules require (a level's words
 * count as literals) are joined into two V8 alternations, one of exact literals tested on the line, one of
 * case-folded literals tested on the folded line (escaped literals only, so they cannot backtrack): a line that
 * contains none of them costs those scans and skips every such rule; a line that does goes through the rules
 * of the alternation that hit. Only rules with no known literal (a regex with no fixed text of 3 characters, an info level) are
 * tested on every line. Measured (docs/alerts.md): on 100-byte lines an exact alternation beat a caseless (`i`,
 * `iu`) one 2-4x and a hand-written Aho-Corasick automaton in JS 2-3x; folding widens the first characters an
 * alternation must try, so exact literals stay on the raw text.
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
  private readonly exact: R[] = [];
  private readonly folded: R[] = [];
  private readonly exactAny: RegExp | null;
  private readonly foldedAny: RegExp | null;
  private readonly view = new LineView();

  constructor(readonly rules: readonly R[]) {
    for (const rule of rules) {
      const f = rule.filter;
      (f.literals === null ? this.always : f.literalsFolded ? this.folded : this.exact).push(rule);
    }
    this.exactAny = alternation(this.exact);
    this.foldedAny = alternation(this.folded);
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Calls `hit` for every (rule, line) that matches, in line order; `entry()` parses the line once. */
  run(
    lines: readonly { readonly text: string }[],
    hit: (rule: R, index: number, entry: () => Entry) => void,
  ): void {
    const { always, exact, folded, exactAny, foldedAny, view } = this;
    const entry = (): Entry => view.entry();
    for (let i = 0; i < lines.length; i++) {
      view.reset((lines[i] as { readonly text: string }).text);
      for (const rule of always) if (rule.filter.test(view)) hit(rule, i, entry);
      if (exactAny?.test(view.text))
        for (const rule of exact) if (rule.filter.test(view)) hit(rule, i, entry);
      if (foldedAny?.test(view.folded()))
        for (const rule of folded) if (rule.filter.test(view)) hit(rule, i, entry);
    }
  }
}

function alternation(rules: readonly PlannedRule[]): RegExp | null {
  const literals = [...new Set(rules.flatMap((r) => r.filter.literals as string[]))];
  // A literal that contains another adds nothing to "contains any of them" but an alternative to try.
  const needed = literals.filter((l) => !literals.some((other) => other !== l && l.includes(other)));
  return needed.length === 0 ? null : new RegExp(needed.map(escapeRegExp).join("|"));
}
