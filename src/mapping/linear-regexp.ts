/**
 * Regular expressions that run in time linear in the input: assignment-map patterns (`fromPattern`)
 * and globs (`ignore`, optimizer `variables`) are matched against names from untrusted checkpoints,
 * where a backtracking engine (JavaScript's `RegExp`) can take exponential time on a hostile name
 * (`(a+)+$` against `aaaa…b`). RE2JS is RE2's automaton in JavaScript: no backreferences or
 * lookaround, whole-string matches in O(pattern × name).
 *
 * @module
 */
import { RE2JS } from "re2js";

/** A compiled pattern, matched against whole strings. */
export class LinearRegExp {
  /** The pattern as written (without the anchoring added here). */
  readonly source: string;
  /** Number of capture groups. */
  readonly groups: number;
  readonly #re: RE2JS;

  /**
   * Compiles `source` (RE2 syntax, a subset of JavaScript's without backreferences/lookaround).
   * @param dotAll  `.` also matches `\n` (globs)
   * @throws Error (RE2JSSyntaxException) with RE2's message for an invalid or unsupported pattern
   */
  constructor(source: string, dotAll = false) {
    this.source = source;
    this.#re = RE2JS.compile(source, dotAll ? RE2JS.DOTALL : 0);
    this.groups = this.#re.groupCount();
  }

  /** True when the whole of `s` matches. */
  test(s: string): boolean {
    return this.#re.matcher(s).matches();
  }

  /**
   * Matches the whole of `s`: `[whole, capture 1, …]` (undefined for a group that took no part,
   * as `RegExp.exec` gives), or null.
   */
  exec(s: string): (string | undefined)[] | null {
    const m = this.#re.matcher(s);
    if (!m.matches()) return null;
    const out: (string | undefined)[] = [];
    for (let i = 0; i <= this.groups; i++) out.push(m.group(i) ?? undefined);
    return out;
  }
}
