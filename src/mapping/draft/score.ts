/**
 * draft-mapping, stage 2 (score): a score for every compatible (target, source) pair of model
 * variables. Evidence, strongest first: the same `full_name`; the same name after normalisation;
 * the same position (the n-th member of a family of numbered scopes in natural order, or the same
 * scope numbers); the same role (kernel, bias, …); weighted token similarity; a unique
 * dtype/shape partner. Shapes must be equal or equal after a transpose or an attention-head
 * reshape (the transform goes into the line). Pairs that layout knowledge forbids score nothing.
 *
 * @module
 */
import type { VariableInfo } from "../../reader.js";
import type { TargetAttribute } from "../../target/target.js";
import { formatType } from "../../tensor.js";
import type { Transform } from "../../transforms/index.js";
import { type Name, ordinals, tokenSimilarity } from "./names.js";

/** One scored pair. */
export interface Cell {
  score: number;
  /** Built only for the cells that end up in the map (most are never read). */
  why: () => string;
  readonly transforms: readonly Transform[];
}

/** The score matrix, sparse: row i (target) → source index → cell, and the columns. */
export interface Scores {
  readonly rows: ReadonlyArray<ReadonlyMap<number, Cell>>;
  readonly cols: ReadonlyArray<ReadonlyMap<number, Cell>>;
  readonly roleOfT: (i: number) => string;
  readonly roleOfS: (j: number) => string;
}

/**
 * How a source of `s` can become a target of `t`: transforms, or undefined when it cannot. A
 * head reshape (`[H, H]` → `[H, heads, H/heads]` or `[heads, H/heads, H]`, `[H]` →
 * `[heads, H/heads]`) is TF's heads-major split (BERT's `transpose_for_scores`, Keras's
 * `EinsumDense` of `MultiHeadAttention`).
 */
function shapeBridge(
  s: VariableInfo,
  t: TargetAttribute,
): { transforms: Transform[]; why: string } | undefined {
  if (s.dtype !== t.dtype) return undefined;
  const a = s.shape;
  const b = t.shape;
  if (a.join() === b.join()) return { transforms: [], why: "" };
  const n = (x: readonly number[]) => x.reduce((p, q) => p * q, 1);
  if (a.length === 2 && b.length === 2 && a[0] === b[1] && a[1] === b[0]) {
    return { transforms: [{ op: "transpose", perm: [1, 0] }], why: "shape matches after transpose" };
  }
  if (n(a) !== n(b) || n(a) === 0) return undefined;
  const head =
    (a.length === 2 &&
      b.length === 3 &&
      ((b[0] === a[0] && (b[1] as number) * (b[2] as number) === a[1]) ||
        (b[2] === a[1] && (b[0] as number) * (b[1] as number) === a[0]))) ||
    (a.length === 1 && b.length === 2 && (b[0] as number) * (b[1] as number) === a[0]);
  if (head)
    return {
      transforms: [{ op: "reshape", shape: [...b] }],
      why: `shape matches after a head reshape to [${b.join(", ")}]`,
    };
  return undefined;
}

/**
 * In a bucket of more than this many sources of one dtype and size (the bias and norm vectors of
 * a deep transformer), a target is scored against the sources with its role and, when there are
 * more than this many of those, with its role and its position or scope numbers: the true partner
 * shares them in every layout the scorer could call sure, and the work stays near linear.
 */
const LARGE_BUCKET = 256;

/** The pairwise scorer: one pair's cell, or undefined when the shapes or layout knowledge forbid it. */
function pairScorer(
  targets: readonly TargetAttribute[],
  sources: readonly VariableInfo[],
  tName: (t: TargetAttribute) => Name,
  sName: (s: VariableInfo) => Name,
  forbidden: (s: VariableInfo, t: TargetAttribute) => string | undefined,
): (t: TargetAttribute, s: VariableInfo) => Cell | undefined {
  // Token weights: rarity across every source and target name (1 / document frequency), so the
  // one token that tells `query` from `key` outweighs the `bert`, `encoder`, `layer` all share.
  const df = new Map<string, number>();
  for (const n of [...sources.map(sName), ...targets.map(tName)])
    for (const tok of n.distinct) df.set(tok, (df.get(tok) ?? 0) + 1);
  const weight = (tok: string) => 1 / (df.get(tok) ?? 1);
  const sOrd = ordinals(sources, sName);
  const tOrd = ordinals(targets, tName);
  return (t, s) => {
    const bridge = shapeBridge(s, t);
    if (bridge === undefined || forbidden(s, t) !== undefined) return undefined;
    const tn = tName(t);
    const sn = sName(s);
    const penalty = bridge.transforms.length > 0 ? 0.08 : 0;
    const extra = bridge.why === "" ? "" : `, ${bridge.why}`;
    if (t.fullName !== "" && t.fullName === s.name)
      return { score: 0.99 - penalty, why: () => `same full_name${extra}`, transforms: bridge.transforms };
    if (sn.family === tn.family && sn.numberKey === tn.numberKey)
      return {
        score: 0.95 - penalty,
        why: () => `same name after normalisation (${tn.tokens.join("/")})${extra}`,
        transforms: bridge.transforms,
      };
    const sim = tokenSimilarity(sn, tn, weight);
    const role = sn.role === tn.role ? 1 : 0;
    const so = sOrd.get(s) as { ord: number; size: number };
    const to = tOrd.get(t) as { ord: number; size: number };
    const ordinal = so.size === to.size && so.size > 1 && so.ord === to.ord;
    const numbers = sn.numberKey !== "" && sn.numberKey === tn.numberKey;
    const position = ordinal || numbers ? 1 : 0;
    const why = () => {
      const parts = [`names ${Math.round(sim * 100)}% alike`];
      if (role) parts.push(`both ${tn.role}`);
      if (ordinal) parts.push(`both #${so.ord + 1} of ${so.size} in natural order`);
      else if (numbers) parts.push(`same scope numbers (${sn.numberKey})`);
      return parts.join(", ") + extra;
    };
    return {
      score: 0.1 + 0.5 * sim + 0.15 * role + 0.2 * position - penalty,
      why,
      transforms: bridge.transforms,
    };
  };
}

/**
 * The sources a target is scored against: those of its (dtype, elements) bucket (every shape
 * bridge keeps both); in a large bucket those with its role, and in a large role block those with
 * its position or scope numbers as well.
 */
function candidateIndex(
  targets: readonly TargetAttribute[],
  sources: readonly VariableInfo[],
  tName: (t: TargetAttribute) => Name,
  sName: (s: VariableInfo) => Name,
): (t: TargetAttribute) => readonly number[] {
  const sOrd = ordinals(sources, sName);
  const tOrd = ordinals(targets, tName);
  const bucketKey = (v: { dtype: { name: string }; shape: readonly number[] }) =>
    `${v.dtype.name}|${v.shape.reduce((p, q) => p * q, 1)}`;
  const index = new Map<string, number[]>();
  const push = (k: string, j: number) => {
    const b = index.get(k);
    if (b === undefined) index.set(k, [j]);
    else b.push(j);
  };
  sources.forEach((s, j) => {
    push(bucketKey(s), j);
  });
  sources.forEach((s, j) => {
    const k = bucketKey(s);
    if ((index.get(k)?.length ?? 0) <= LARGE_BUCKET) return;
    const n = sName(s);
    const o = sOrd.get(s) as { ord: number; size: number };
    push(`${k}|${n.role}`, j);
    push(`${k}|${n.role}|o${o.ord}/${o.size}`, j);
    if (n.numberKey !== "") push(`${k}|${n.role}|n${n.numberKey}`, j);
  });
  return (t) => {
    const k = bucketKey(t);
    const bucket = index.get(k) ?? [];
    if (bucket.length <= LARGE_BUCKET) return bucket;
    const n = tName(t);
    const sameRole = index.get(`${k}|${n.role}`) ?? [];
    if (sameRole.length === 0) return bucket;
    if (sameRole.length <= LARGE_BUCKET) return sameRole;
    const o = tOrd.get(t) as { ord: number; size: number };
    const near = new Set([
      ...(index.get(`${k}|${n.role}|o${o.ord}/${o.size}`) ?? []),
      ...(n.numberKey === "" ? [] : (index.get(`${k}|${n.role}|n${n.numberKey}`) ?? [])),
    ]);
    return near.size > 0 ? [...near].sort((a, b) => a - b) : sameRole;
  };
}

/** Scores every compatible pair of `targets` × `sources`. */
export function scorePairs(
  targets: readonly TargetAttribute[],
  sources: readonly VariableInfo[],
  tName: (t: TargetAttribute) => Name,
  sName: (s: VariableInfo) => Name,
  forbidden: (s: VariableInfo, t: TargetAttribute) => string | undefined,
): Scores {
  const score = pairScorer(targets, sources, tName, sName, forbidden);
  const candidates = candidateIndex(targets, sources, tName, sName);
  const rows: Array<Map<number, Cell>> = targets.map((t) => {
    const row = new Map<number, Cell>();
    for (const j of candidates(t)) {
      const c = score(t, sources[j] as VariableInfo);
      if (c !== undefined) row.set(j, c);
    }
    return row;
  });
  const cols: Array<Map<number, Cell>> = sources.map(() => new Map());
  rows.forEach((row, i) => {
    for (const [j, c] of row) cols[j]?.set(i, c);
  });
  const scores: Scores = {
    rows,
    cols,
    roleOfT: (i) => tName(targets[i] as TargetAttribute).role,
    roleOfS: (j) => sName(sources[j] as VariableInfo).role,
  };
  uniquePartners(scores, targets);
  return scores;
}

/**
 * Unique partners: the only compatible source with this role for a target, and the only target
 * of that role for the source, score as sure (exact shapes) or nearly (a transform).
 */
function uniquePartners(scores: Scores, targets: readonly TargetAttribute[]): void {
  const { rows, cols, roleOfT, roleOfS } = scores;
  rows.forEach((row, i) => {
    let only: number | undefined;
    let count = 0;
    for (const j of row.keys())
      if (roleOfS(j) === roleOfT(i)) {
        only = j;
        count++;
      }
    if (count !== 1 || only === undefined) return;
    let colCount = 0;
    for (const k of cols[only]?.keys() ?? []) if (roleOfT(k) === roleOfT(i)) colCount++;
    const c = row.get(only) as Cell;
    if (colCount === 1 && c.score < 0.9) {
      c.score = c.transforms.length === 0 ? 0.9 : 0.85;
      const before = c.why;
      c.why = () =>
        `only ${formatType(targets[i] as TargetAttribute, true)} ${roleOfT(i)} on either side; ${before()}`;
    }
  });
}
