/**
 * draft-mapping, stage 3 (assign): a global one-to-one assignment of model variables maximising
 * the total score, never greedy where it matters: pairs that are each other's clear best by name
 * are fixed first, then an optimal assignment (the `munkres` package) is solved on each connected
 * component of the remaining compatibility graph, with every compatible pair (no candidate
 * cut-off). Then each chosen pair gets its confidence from its score and its margin over every
 * alternative, for the target and for the source.
 *
 * @module
 */
import munkres from "munkres";
import { round } from "./names.js";
import type { Cell, Scores } from "./score.js";

/** Confidence from which an assignment is called "sure". */
export const SURE = 0.9;

/** Score lead over every alternative (for the target and for the source) that makes a match sure. */
const CLEAR_MARGIN = 0.15;

/** Lowest score a clear best (by {@link CLEAR_MARGIN}) needs to be called sure. */
const MIN_CLEAR_SCORE = 0.55;

/** Pairs scoring less are left out. */
const MIN_SCORE = 0.25;

/** Components larger than this (on either side) are solved greedily by score (cubic cost otherwise). */
const MUNKRES_MAX = 400;

/** One chosen pair with its confidence. */
export interface Choice {
  readonly i: number;
  readonly j: number;
  readonly cell: Cell;
  readonly confidence: number;
  readonly reason: string;
  /** Set when the margin over an alternative is too thin: the best alternatives. */
  readonly ambiguous?: ReadonlyArray<{ j: number; score: number }>;
}

/** The best score in `m` but the one of `except`. */
function bestOther(m: ReadonlyMap<number, Cell>, except: number): number {
  let best = 0;
  for (const [k, c] of m) if (k !== except && c.score > best) best = c.score;
  return best;
}

/**
 * How much the total score loses when pair (i, j) gives way to its best alternative: another
 * source k for target i (whose own target, if any, takes j instead, or goes without) or another
 * target for source j (likewise). The margin of a pair, counting that an alternative already
 * taken by a better partner costs that partnership too (a two-swap regret).
 */
function regret(
  rows: ReadonlyArray<ReadonlyMap<number, Cell>>,
  cols: ReadonlyArray<ReadonlyMap<number, Cell>>,
  i: number,
  j: number,
  targetOf: ReadonlyMap<number, number>,
  sourceOf: ReadonlyMap<number, number>,
): number {
  const c = rows[i]?.get(j)?.score ?? 0;
  let loss = c;
  for (const [k, alt] of rows[i] ?? []) {
    if (k === j) continue;
    const i2 = targetOf.get(k);
    const kept = i2 === undefined ? 0 : (rows[i2]?.get(k)?.score ?? 0) - (rows[i2]?.get(j)?.score ?? 0);
    loss = Math.min(loss, c + kept - alt.score);
  }
  for (const [k, alt] of cols[j] ?? []) {
    if (k === i) continue;
    const j2 = sourceOf.get(k);
    const kept = j2 === undefined ? 0 : (rows[k]?.get(j2)?.score ?? 0) - (rows[i]?.get(j2)?.score ?? 0);
    loss = Math.min(loss, c + kept - alt.score);
  }
  return loss;
}

type Rows = ReadonlyArray<ReadonlyMap<number, Cell>>;

/** Pairs each other's clear best with a name-match score: fixed before the optimisation. */
function clearPairs(rows: Rows, cols: Rows): Map<number, number> {
  const fixed = new Map<number, number>();
  rows.forEach((row, i) => {
    let bj = -1;
    let best = 0;
    for (const [j, c] of row)
      if (c.score > best || (c.score === best && j < bj)) {
        best = c.score;
        bj = j;
      }
    if (bj < 0 || best < 0.95) return;
    if (bestOther(row, bj) >= best || bestOther(cols[bj] as ReadonlyMap<number, Cell>, i) >= best) return;
    fixed.set(i, bj);
  });
  return fixed;
}

/** Connected components of the compatibility graph, without the fixed targets and sources (union-find). */
function components(
  rows: Rows,
  sources: number,
  fixedT: ReadonlySet<number>,
  fixedS: ReadonlySet<number>,
): Array<{ ts: number[]; ss: number[] }> {
  const T = rows.length;
  const parent = Array.from({ length: T + sources }, (_, k) => k);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r] as number;
    for (let y = x; parent[y] !== r; ) {
      const next = parent[y] as number;
      parent[y] = r;
      y = next;
    }
    return r;
  };
  rows.forEach((row, i) => {
    if (fixedT.has(i)) return;
    for (const j of row.keys()) {
      if (fixedS.has(j)) continue;
      const a = find(i);
      const b = find(T + j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  });
  const out = new Map<number, { ts: number[]; ss: number[] }>();
  rows.forEach((row, i) => {
    if (fixedT.has(i) || ![...row.keys()].some((j) => !fixedS.has(j))) return;
    const r = find(i);
    const c = out.get(r) ?? { ts: [], ss: [] };
    c.ts.push(i);
    out.set(r, c);
  });
  for (let j = 0; j < sources; j++) if (!fixedS.has(j)) out.get(find(T + j))?.ss.push(j);
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
}

/** The optimal one-to-one pairs of one component (greedy by score, ties by index, when it is very large). */
function solve(rows: Rows, ts: readonly number[], ss: readonly number[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  if (Math.max(ts.length, ss.length) <= MUNKRES_MAX) {
    const BIG = 1e6;
    const cost = ts.map((i) => ss.map((j) => 1 - (rows[i]?.get(j)?.score ?? 1 - BIG)));
    for (const [a, b] of munkres(cost)) {
      const i = ts[a] as number;
      const j = ss[b] as number;
      if (rows[i]?.has(j)) pairs.push([i, j]);
    }
    return pairs;
  }
  const live = new Set(ss);
  const edges: Array<[number, number, number]> = [];
  for (const i of ts) for (const [j, c] of rows[i] ?? []) if (live.has(j)) edges.push([c.score, i, j]);
  edges.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const ti = new Set<number>();
  const sj = new Set<number>();
  for (const [, i, j] of edges) {
    if (ti.has(i) || sj.has(j)) continue;
    ti.add(i);
    sj.add(j);
    pairs.push([i, j]);
  }
  return pairs;
}

/** Solves the assignment and grades each chosen pair. */
export function assignPairs(scores: Scores): Choice[] {
  const { rows, cols } = scores;
  const fixed = clearPairs(rows, cols);
  const fixedS = new Set(fixed.values());
  const pairs: Array<[number, number]> = [...fixed];
  for (const { ts, ss } of components(rows, cols.length, new Set(fixed.keys()), fixedS))
    pairs.push(...solve(rows, ts, ss));
  const targetOf = new Map<number, number>();
  const sourceOf = new Map<number, number>();
  for (const [i, j] of pairs) {
    targetOf.set(j, i);
    sourceOf.set(i, j);
  }
  const out: Choice[] = [];
  for (const [i, j] of pairs.sort((a, b) => a[0] - b[0])) {
    const cell = rows[i]?.get(j);
    if (cell === undefined || cell.score < MIN_SCORE) continue;
    out.push(grade(scores, i, j, cell, regret(rows, cols, i, j, targetOf, sourceOf)));
  }
  return out;
}

/**
 * A chosen pair's confidence: its score, raised to sure when it is clearly the best on both
 * sides (by `margin`, with the same role and a good score: as strong as a name match), lowered
 * and flagged when an alternative is nearly as good.
 */
function grade(scores: Scores, i: number, j: number, cell: Cell, margin: number): Choice {
  let confidence = cell.score;
  let reason = cell.why();
  if (margin >= CLEAR_MARGIN && cell.score >= MIN_CLEAR_SCORE && scores.roleOfT(i) === scores.roleOfS(j)) {
    confidence = Math.max(confidence, SURE);
    reason = `${reason}; clearly the best on both sides (margin ${round(margin)})`;
  }
  let ambiguous: Array<{ j: number; score: number }> | undefined;
  if (margin < 0.05) {
    confidence = Math.min(confidence, 0.5);
    reason = `ambiguous: ${reason}`;
    ambiguous = [...(scores.rows[i] ?? [])]
      .map(([k, c]) => ({ j: k, score: round(c.score) }))
      .sort((a, b) => b.score - a.score || a.j - b.j)
      .slice(0, 5);
  }
  return {
    i,
    j,
    cell,
    confidence: round(Math.max(0, Math.min(1, confidence))),
    reason,
    ...(ambiguous !== undefined ? { ambiguous } : {}),
  };
}

/**
 * Sibling evidence: a pair whose parent scopes are those of a sure pair (`…/dense/kernel` ↔
 * `…/_output_dense/_kernel` sure ⇒ `…/dense/bias` ↔ `…/_output_dense/bias`), each the only one of
 * its role in its scope, is sure too: variables of one layer move together. Scope pairs that sure
 * lines contradict (one scope paired with two) give nothing.
 */
export function promoteSiblings(
  choices: readonly Choice[],
  scopeT: (i: number) => string,
  scopeS: (j: number) => string,
  roleT: (i: number) => string,
  roleS: (j: number) => string,
  targets: number,
  sources: number,
): Choice[] {
  const forward = new Map<string, string | null>();
  const backward = new Map<string, string | null>();
  const witness = new Map<string, Choice>();
  for (const c of choices) {
    if (c.confidence < SURE) continue;
    const a = scopeT(c.i);
    const b = scopeS(c.j);
    forward.set(a, forward.has(a) && forward.get(a) !== b ? null : b);
    backward.set(b, backward.has(b) && backward.get(b) !== a ? null : a);
    if (!witness.has(a)) witness.set(a, c);
  }
  const countT = new Map<string, number>();
  const countS = new Map<string, number>();
  for (let i = 0; i < targets; i++) {
    const k = `${scopeT(i)}\u0000${roleT(i)}`;
    countT.set(k, (countT.get(k) ?? 0) + 1);
  }
  for (let j = 0; j < sources; j++) {
    const k = `${scopeS(j)}\u0000${roleS(j)}`;
    countS.set(k, (countS.get(k) ?? 0) + 1);
  }
  return choices.map((c) => {
    if (c.confidence >= SURE) return c;
    const a = scopeT(c.i);
    const b = scopeS(c.j);
    if (forward.get(a) !== b || backward.get(b) !== a || roleT(c.i) !== roleS(c.j)) return c;
    if (countT.get(`${a}\u0000${roleT(c.i)}`) !== 1 || countS.get(`${b}\u0000${roleS(c.j)}`) !== 1) return c;
    const w = witness.get(a) as Choice;
    const { ambiguous: _, ...rest } = c;
    return {
      ...rest,
      confidence: SURE,
      reason: `${c.reason.replace(/^ambiguous: /, "")}; the only ${roleT(c.i)} of a scope pair a sure line joins (${roleT(w.i)}: ${round(w.confidence)})`,
    };
  });
}
