import { type Entry, type EntryLevel, parseEntry } from "../core/entry.js";
import { escapeRegExp, type LineFilter } from "./line-filter.js";

/**
 * Which line rules match each line of one stream, in one pass. The rules' required literals are joined into two
 * V8 alternations (exact and caseless; escaped literals only, so linear): a line that contains none of them
 * costs two scans and skips every filtered rule. Only rules with no known literal (a level alone, a regex with
 * no fixed text) are tested on every line. The entry (level, time) is parsed at most once per line, when asked.
 */
export interface PlannedRule {
  readonly filter: LineFilter;
}

export class MatchPlan<R extends PlannedRule> {
  private readonly always: R[] = [];
  private readonly exact: R[] = [];
  private readonly caseless: R[] = [];
  private readonly exactAny: RegExp | null;
  private readonly caselessAny: RegExp | null;

  constructor(readonly rules: readonly R[]) {
    for (const rule of rules) {
      const f = rule.filter;
      if (f.literal === null) this.always.push(rule);
      else (f.literalCaseless ? this.caseless : this.exact).push(rule);
    }
    this.exactAny = alternation(this.exact, "u");
    this.caselessAny = alternation(this.caseless, "iu");
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Calls `hit` for every (rule, line) that matches, in line order; `entry` parses the line once. */
  run(
    lines: readonly { readonly text: string }[],
    hit: (rule: R, index: number, entry: () => Entry) => void,
  ): void {
    const { always, exact, caseless, exactAny, caselessAny } = this;
    for (let i = 0; i < lines.length; i++) {
      const text = (lines[i] as { readonly text: string }).text;
      let parsed: Entry | undefined;
      const entry = (): Entry => {
        parsed ??= parseEntry(text);
        return parsed;
      };
      const level = (): EntryLevel => entry().level;
      for (const rule of always) if (rule.filter.test(text, level)) hit(rule, i, entry);
      if (exactAny?.test(text))
        for (const rule of exact) if (rule.filter.test(text, level)) hit(rule, i, entry);
      if (caselessAny?.test(text))
        for (const rule of caseless) if (rule.filter.test(text, level)) hit(rule, i, entry);
    }
  }
}

function alternation(rules: readonly PlannedRule[], flags: string): RegExp | null {
  const literals = [...new Set(rules.map((r) => r.filter.literal as string))];
  return literals.length === 0 ? null : new RegExp(literals.map(escapeRegExp).join("|"), flags);
}
