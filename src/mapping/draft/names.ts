/**
 * draft-mapping, names: variable names and object paths read as tokens (scopes split, TF1 /
 * tf.layers / tf-slim / Keras / BERT synonyms), their numbers (scope suffixes, layer indices),
 * weighted token similarity, and each name's position in its family of numbered scopes.
 *
 * @module
 */
import { distance } from "fastest-levenshtein";
import { objectPathFromString } from "../../graph/keys.js";
import type { TargetAttribute } from "../../target/target.js";

/** Name segments read as another (a Map: names from checkpoints are never object-property lookups). */
const SYNONYMS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    weights: "kernel",
    weight: "kernel",
    w: "kernel",
    biases: "bias",
    b: "bias",
    scale: "gamma",
    offset: "beta",
    embeddings: "embedding",
    embedding_weights: "embedding",
    layernorm: "layer_norm",
    layer_normalization: "layer_norm",
    batchnorm: "batch_norm",
    batch_normalization: "batch_norm",
    bn: "batch_norm",
    fc: "dense",
    fully_connected: "dense",
    conv2d: "conv",
    convolution: "conv",
    self: "",
    attributes: "",
    variable_value: "",
    moving_mean: "moving_mean",
    moving_variance: "moving_variance",
  }),
);

/** Structural Keras segments: stripped from names, their number kept as the position. */
const STRUCTURAL = /^(layer_with_weights|layer)-(\d+)$/;

/** A name read as tokens. */
export interface Name {
  /** Non-numeric tokens after synonyms. */
  readonly tokens: readonly string[];
  /** Numbers in order (scope suffixes, layer indices). */
  readonly numbers: readonly number[];
  /** Tokens joined: the family key. */
  readonly family: string;
  /** The variable's role: its last token (kernel, bias, gamma, …). */
  readonly role: string;
  /** Distinct tokens, and the numbers as one string: precomputed for the pairwise scoring. */
  readonly distinct: readonly string[];
  readonly numberKey: string;
}

/** Tokens of a path's segments (`bert/encoder/layer_3/attention/self/query/kernel`). */
function tokenize(segments: readonly string[]): Name {
  const tokens: string[] = [];
  const numbers: number[] = [];
  for (const seg of segments) {
    const st = STRUCTURAL.exec(seg);
    if (st !== null) {
      numbers.push(Number(st[2]));
      continue;
    }
    const lowered = seg
      .replace(/^_+/, "")
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/([a-zA-Z])(\d)/g, "$1_$2")
      .toLowerCase();
    const whole = SYNONYMS.get(lowered);
    const parts = whole !== undefined ? [whole] : lowered.split(/[_\-.\s]+/);
    for (const p of parts) {
      if (p === "") continue;
      if (/^\d+$/.test(p)) {
        numbers.push(Number(p));
        continue;
      }
      const s = SYNONYMS.get(p) ?? p;
      for (const q of s.split("_")) if (q !== "") tokens.push(q);
    }
  }
  return {
    tokens,
    numbers,
    family: tokens.join("/"),
    role: tokens.at(-1) ?? "",
    distinct: [...new Set(tokens)],
    numberKey: numbers.join(","),
  };
}

/** A source variable's name as tokens. */
export function sourceName(name: string): Name {
  return tokenize(name.split("/"));
}

/**
 * A target variable's name as tokens. An object reached by several edges (a Keras 3 kernel is
 * keyed optimizer/_trainable_variables/0 and is also model/_functional/_operations/1/_kernel) is
 * named by its most descriptive path among `paths` (those outside its optimizers): the one with
 * the most word tokens, the first on a tie; a Keras 3 weights file's dataset also by its Keras
 * `variable.path` (its full name).
 */
export function targetName(t: TargetAttribute, paths: readonly string[], keras: boolean): Name {
  let best: Name | undefined;
  for (const p of [...paths, ...(keras && t.fullName !== "" ? [t.fullName] : [])]) {
    const n = tokenize(objectPathFromString(p) ?? p.split("/"));
    if (best === undefined || n.tokens.length > best.tokens.length) best = n;
  }
  return best ?? tokenize(t.objectPath.split("/"));
}

/**
 * Weighted Jaccard similarity of two names' tokens, each token weighted by its rarity across all
 * names (inverse document frequency): `query` vs `key` counts for more than the `bert`,
 * `encoder`, `layer`, `kernel` every variable shares. Tokens of 4+ letters one edit apart
 * (`embedding`/`embeddings`) match.
 */
export function tokenSimilarity(a: Name, b: Name, weight: (token: string) => number): number {
  const A = a.distinct;
  const B = b.distinct;
  if (A.length + B.length === 0) return 0;
  let common = 0;
  let total = 0;
  const used = new Set<number>();
  for (const x of A) {
    const j = B.findIndex(
      (y, k) => !used.has(k) && (y === x || (x.length >= 4 && y.length >= 4 && distance(x, y) <= 1)),
    );
    const w = weight(x);
    total += w;
    if (j >= 0) {
      used.add(j);
      const wy = weight(B[j] as string);
      common += Math.max(w, wy);
      total += wy - w > 0 ? wy - w : 0;
    }
  }
  B.forEach((y, k) => {
    if (!used.has(k)) total += weight(y);
  });
  return total === 0 ? 0 : common / total;
}

/** Position of each item in its family: numbers compared in natural order (missing = -1). */
export function ordinals<T>(
  items: readonly T[],
  name: (x: T) => Name,
): Map<T, { ord: number; size: number }> {
  const byFamily = new Map<string, T[]>();
  for (const it of items) {
    const k = name(it).family;
    const list = byFamily.get(k);
    if (list === undefined) byFamily.set(k, [it]);
    else list.push(it);
  }
  const out = new Map<T, { ord: number; size: number }>();
  for (const group of byFamily.values()) {
    const key = (x: T) => name(x).numbers;
    const sorted = [...group].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (x[i] ?? -1) - (y[i] ?? -1);
        if (d !== 0) return d;
      }
      return 0;
    });
    for (const [i, it] of sorted.entries()) out.set(it, { ord: i, size: sorted.length });
  }
  return out;
}

/** Compares strings by code unit, runs of digits by their value (`dense_2` < `dense_10`). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Rounded to 3 decimals (confidences and scores in the map). */
export const round = (x: number) => Math.round(x * 1000) / 1000;
