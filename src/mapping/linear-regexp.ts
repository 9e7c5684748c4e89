/**
 * Regular expressions that run in time linear in the input: assignment-map patterns (`fromPattern`)
 * and globs (`ignore`, optimizer `variables`) are matched against names from untrusted checkpoints,
 * where a backtracking engine (JavaScript's `RegExp`) can take exponential time on a hostile name
 * (`(a+)+$` against `aaaa…b`). RE2JS is RE2's automaton in JavaScript: no backreferences or
 * lookaround, whole-string matches in O(pattern × name).
 *
 * @module
 */
import { createRequire } from "node:module";
import type { RE2JS } from "re2js";

/** RE2JS, loaded on the first pattern: maps without patterns or globs never pay for it. */
let engine: typeof RE2JS | undefined;
function re2(): typeof RE2JS {
  engine ??= (createRequire(import.meta.url)("re2js") as { RE2JS: typeof RE2JS }).RE2JS;
  return engine;
}

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
    const RE2 = re2();
    this.#re = RE2.compile(source, dotAll ? RE2.DOTALL : 0);
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
