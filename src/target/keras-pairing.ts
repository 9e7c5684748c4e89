/**
 * Pairs the variables of a Keras 3 weights file (`.weights.h5`, `.keras`) with those of a TF2
 * object-based checkpoint of the same Keras 3 model (`tf.train.Checkpoint(model=…,
 * optimizer=…).save()`), so that a map written for the TF2 object graph also fills the Keras file;
 * or of a tf.keras 2 `save_weights` checkpoint (TF format, the root is the model) whose layers
 * have the Keras 3 model's attribute names (weights only: its optimizer has slots, not `_variables`).
 *
 * Evidence, in order (Keras 3 `keras/src/saving/saving_lib.py` `H5IOStore` for the file;
 * `keras/src/optimizers/base_optimizer.py` for the optimizer's `_variables` list):
 * 1. `optimizer/vars/N` (or `<attribute>/vars/N` for an optimizer the model holds as an attribute)
 *    is the optimizer's `_variables[N]` (`iterations`, `learning_rate`, then its
 *    state in `add_optimizer_variables` order): the TF2 node at `optimizer/_variables/N`.
 * 2. A layer group (`block_0/attention/key_dense`, or its chain of layer names, the `name`
 *    attributes of the enclosing `vars` groups) is the variables' parent object path below the
 *    model, each local name without leading underscores (`model/block_0/attention/_key_dense/_kernel`);
 *    the index is the variable order of the layer class named by the group (`dense_1`) or of the
 *    one known class whose variable names these are (`gamma`, `beta`: LayerNormalization); for
 *    other classes, the only variable of the dataset's dtype and shape there.
 * 3. A dataset of a layer whose class tfckpt knows gets Keras's `variable.path`
 *    ({@link kerasVariablePaths}); it pairs with the TF2 variable whose full name is that path,
 *    with or without the model's own name in front (Sequential and Functional models).
 * 4. Any other dataset pairs with the only TF2 variable left whose full name is directly under
 *    the dataset's layer name scope with the dataset's dtype and shape (an LSTM's cell).
 *
 * Ambiguity (several candidates when a step begins) leaves a dataset unpaired, never guessed.
 * A pair always has equal dtypes and shapes. Linear in the number of variables and object paths
 * (times the path lengths), except that a layer's variables are grouped by name and by type.
 *
 * @module
 */

import { VARIABLE_VALUE } from "../graph/keys.js";
import { nodeAtPath } from "../graph/object-graph.js";
import { formatType } from "../tensor.js";
import { kerasVariablePaths, LAYER_VARIABLES } from "./keras.js";
import type { TargetAttribute, TargetGraph } from "./target.js";

/** The outcome of {@link pairKerasWithObjectGraph}. */
export interface KerasPairing {
  /** Keras dataset path (`layers/dense/vars/0`) → the TF2 variable it holds. */
  readonly pairs: ReadonlyMap<string, TargetAttribute>;
  /** How each pair was found, by Keras dataset path (`optimizer optimizer/_variables/3`, `layer block_0/attention_norm gamma`, `path cnn/dense/kernel`, …). */
  readonly evidence: ReadonlyMap<string, string>;
  /** Keras datasets no TF2 variable pairs with. */
  readonly unpairedKeras: readonly TargetAttribute[];
  /** TF2 variables (not `save_counter`) no Keras dataset pairs with. */
  readonly unpairedObjectGraph: readonly TargetAttribute[];
}

const same = (a: TargetAttribute, b: TargetAttribute) =>
  a.dtype.name === b.dtype.name && a.shape.join() === b.shape.join();

/** Dtype and shape as one key (`float32[3,4]`). */
const typeKey = (a: TargetAttribute) => formatType(a, true);

/** A TF1-style full name without the `:0` output suffix Keras 2 variables carry. */
const bare = (n: string) => n.replace(/:\d+$/, "");

/**
 * Pairs each dataset of the Keras target `keras` (from `targetFromKeras`) with a variable of the
 * TF2 target `tf2` (a template checkpoint of the same model), as the module describes. Never throws:
 * what it cannot pair is listed.
 */
export function pairKerasWithObjectGraph(keras: TargetGraph, tf2: TargetGraph): KerasPairing {
  const pairs = new Map<string, TargetAttribute>();
  const evidence = new Map<string, string>();
  const taken = new Set<TargetAttribute>();
  const candidates = tf2.attributes.filter(
    (a) => a.name === VARIABLE_VALUE && a.slot === undefined && a.tensors === undefined,
  );
  const pair = (k: TargetAttribute, t: TargetAttribute | undefined, why: string): boolean => {
    if (t === undefined || taken.has(t) || !same(k, t)) return false;
    pairs.set(k.checkpointKey, t);
    evidence.set(k.checkpointKey, why);
    taken.add(t);
    return true;
  };
  const st: Pairing = { keras, tf2, candidates, pairs, taken, pair };
  pairOptimizerVariables(st);
  pairByLayer(st);
  const root = keras.keras?.entries.find((e) => e.kind === "group" && e.path === "vars")?.attrs.name;
  pairByVariablePath(st, root);
  pairByScope(st, typeof root === "string" ? root : undefined);
  return {
    pairs,
    evidence,
    unpairedKeras: keras.attributes.filter((k) => !pairs.has(k.checkpointKey)),
    unpairedObjectGraph: candidates.filter(
      (a) => !taken.has(a) && a.checkpointKey !== "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
    ),
  };
}

/** The pairing in progress, shared by its steps. */
interface Pairing {
  readonly keras: TargetGraph;
  readonly tf2: TargetGraph;
  /** The TF2 variables that may pair: plain `VARIABLE_VALUE` attributes, no slots or multi-tensor saveables. */
  readonly candidates: readonly TargetAttribute[];
  /** Pairs so far, by Keras dataset path. */
  readonly pairs: ReadonlyMap<string, TargetAttribute>;
  /** TF2 variables already paired. */
  readonly taken: ReadonlySet<TargetAttribute>;
  /** Pairs `k` with `t` when `t` is defined, untaken and of the same dtype and shape; says whether it did. */
  readonly pair: (k: TargetAttribute, t: TargetAttribute | undefined, why: string) => boolean;
}

/**
 * Step 1: the optimizers' variables by index (`optimizer`, or optimizers the model holds as
 * attributes, `dnn_optimizer/vars/N`, which the TF2 checkpoint has beside the model).
 */
function pairOptimizerVariables(st: Pairing): void {
  const byNode = new Map<number, TargetAttribute>();
  for (const a of st.candidates) if (!byNode.has(a.nodeId)) byNode.set(a.nodeId, a);
  for (const k of st.keras.attributes) {
    const m = /^([^/]+)\/vars\/(\d+)$/.exec(k.checkpointKey);
    if (m === null) continue;
    const node = nodeAtPath(st.tf2.graph, [m[1] as string, "_variables", m[2] as string]);
    if (node !== undefined) st.pair(k, byNode.get(node), `optimizer ${m[1]}/_variables/${m[2]}`);
  }
}

/** A TF2 variable under its parent object path, with its own local name (leading underscores dropped). */
type Named = { attr: TargetAttribute; name: string };

/**
 * Step 2: layer paths against object paths: the dataset's layer group (`block_0/attention/key_dense`)
 * or its chain of layer names is the variable's parent object path below the model, each local name
 * without leading underscores (`model/block_0/attention/_key_dense/_kernel`).
 */
function pairByLayer(st: Pairing): void {
  const byParent = variablesByParent(st);
  const groups = new Map<string, TargetAttribute[]>();
  for (const k of st.keras.attributes) {
    const m = /^(?:(.*)\/)?vars\/\d+$/.exec(k.checkpointKey);
    if (m === null || k.checkpointKey.startsWith("optimizer/") || st.pairs.has(k.checkpointKey)) continue;
    const g = m[1] ?? "";
    const list = groups.get(g) ?? [];
    list.push(k);
    groups.set(g, list);
  }
  const chains = layerNameChains(st.keras);
  for (const [group, members] of groups) {
    const vars = byParent.get(group) ?? byParent.get(chains.get(group) ?? "\0");
    if (vars !== undefined) pairLayerGroup(st, group, members, vars);
  }
}

/**
 * The candidates by parent object path below the model (local names without leading underscores).
 * The model is the root's `model` (tf.train.Checkpoint(model=…)), else the root itself (tf.keras
 * 2's model.save_weights in the TF format).
 */
function variablesByParent(st: Pairing): Map<string, Named[]> {
  const skip = nodeAtPath(st.tf2.graph, ["model"]) !== undefined ? 1 : 0;
  const byParent = new Map<string, Named[]>();
  for (const a of st.candidates) {
    const seen = new Set<string>();
    for (const p of [a.objectPath, ...(a.aliases ?? [])]) {
      const parts = p.split("/").map((n) => n.replace(/^_+/, ""));
      if ((skip === 1 && parts[0] !== "model") || parts.length < skip + 1) continue;
      if (skip === 0 && (parts[0] === "optimizer" || parts[0] === "save_counter")) continue;
      const parent = parts.slice(skip, -1).join("/");
      if (seen.has(parent)) continue;
      seen.add(parent);
      const list = byParent.get(parent) ?? [];
      list.push({ attr: a, name: parts.at(-1) as string });
      byParent.set(parent, list);
    }
  }
  return byParent;
}

/** Pairs one layer group's datasets (`members`) with the TF2 variables under its object (`vars`). */
function pairLayerGroup(
  st: Pairing,
  group: string,
  members: readonly TargetAttribute[],
  vars: readonly Named[],
): void {
  // The variable order: the layer class's, named by the group (`dense_1`) or, for a group named
  // after an attribute (`attention_norm`), the one class whose variable names are these.
  const here = new Set(vars.map((v) => v.name));
  const byName = new Map<string, Named[]>();
  const byType = new Map<string, Named[]>();
  for (const v of vars) {
    byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
    if (!st.taken.has(v.attr)) byType.set(typeKey(v.attr), [...(byType.get(typeKey(v.attr)) ?? []), v]);
  }
  const fits = (names: readonly string[]) =>
    names.length >= members.length &&
    here.size === members.length &&
    names.slice(0, members.length).every((n) => here.has(n));
  const named = LAYER_VARIABLES.get((group.split("/").at(-1) as string).replace(/_\d+$/, ""));
  const orders = new Set(
    [...LAYER_VARIABLES.values()]
      .filter((x) => fits(x.names))
      .map((x) => x.names.slice(0, members.length).join()),
  );
  const spec =
    named !== undefined && fits(named.names)
      ? named
      : orders.size === 1
        ? [...LAYER_VARIABLES.values()].find((x) => fits(x.names))
        : undefined;
  for (const k of members) {
    const index = Number(k.checkpointKey.slice(k.checkpointKey.lastIndexOf("/") + 1));
    const name = spec?.names[index];
    const hits = name !== undefined ? (byName.get(name) ?? []) : (byType.get(typeKey(k)) ?? []); // untaken when the layer's pairing began
    if (hits.length === 1)
      st.pair(k, hits[0]?.attr, `layer ${group || "(model)"} ${name ?? `only ${formatType(k, true)}`}`);
  }
}

/** Step 3: Keras variable paths against full names (unique ones only), with the model's name in front or not. */
function pairByVariablePath(st: Pairing, root: unknown): void {
  const layout = st.keras.keras;
  const byFullName = new Map<string, TargetAttribute[]>();
  for (const a of st.candidates) {
    const n = bare(a.fullName);
    const list = byFullName.get(n) ?? [];
    list.push(a);
    byFullName.set(n, list);
  }
  const unique = (n: string) => {
    const list = byFullName.get(n);
    return list?.length === 1 ? list[0] : undefined;
  };
  const paths = layout === undefined ? new Map<string, string>() : kerasVariablePaths(layout);
  for (const k of st.keras.attributes) {
    if (st.pairs.has(k.checkpointKey)) continue;
    const p = paths.get(k.checkpointKey);
    if (p === undefined) continue;
    const withRoot = typeof root === "string" ? unique(`${root}/${p}`) : undefined;
    if (!st.pair(k, withRoot, `path ${root}/${p}`)) st.pair(k, unique(p), `path ${p}`);
  }
}

/** Step 4: what is left: one variable of that dtype and shape directly under the layer's scope. */
function pairByScope(st: Pairing, root: string | undefined): void {
  const scopes = layerScopes(st.keras, root);
  const byScope = new Map<string, TargetAttribute[]>();
  for (const a of st.candidates) {
    if (st.taken.has(a)) continue; // untaken when this step begins: ambiguity is judged once
    const n = bare(a.fullName);
    const key = `${n.slice(0, Math.max(0, n.lastIndexOf("/")))}\0${typeKey(a)}`;
    const list = byScope.get(key) ?? [];
    list.push(a);
    byScope.set(key, list);
  }
  for (const k of st.keras.attributes) {
    if (st.pairs.has(k.checkpointKey)) continue;
    const scope = scopes.get(k.checkpointKey);
    if (scope === undefined) continue;
    const left = byScope.get(`${scope}\0${typeKey(k)}`) ?? [];
    if (left.length === 1) st.pair(k, left[0], `only ${formatType(k, true)} under ${scope}/`);
  }
}

/** Each layer group's chain of layer names (`vars` group `name` attributes), the model's excluded. */
function layerNameChains(keras: TargetGraph): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of keras.keras?.entries ?? [])
    if (e.kind === "group" && e.path.endsWith("/vars") && typeof e.attrs.name === "string")
      names.set(e.path.slice(0, -"/vars".length), e.attrs.name);
  const out = new Map<string, string>();
  for (const group of names.keys()) {
    const parts = group.split("/");
    const chain: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const n = names.get(parts.slice(0, i).join("/"));
      if (n !== undefined) chain.push(n);
    }
    out.set(group, chain.join("/"));
  }
  return out;
}

/**
 * The Keras name scope of each model dataset's layer: the `name` attributes of its enclosing
 * `vars` groups, the model's own first (`encoder/block_0/attention`; `encoder` for the model's own
 * variables). Optimizer datasets have none.
 */
function layerScopes(keras: TargetGraph, root: string | undefined): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of keras.keras?.entries ?? [])
    if (e.kind === "group" && e.path.endsWith("/vars") && typeof e.attrs.name === "string")
      names.set(e.path.slice(0, -"/vars".length), e.attrs.name);
  const out = new Map<string, string>();
  for (const k of keras.attributes) {
    const m = /^(?:(.*)\/)?vars\/\d+$/.exec(k.checkpointKey);
    if (m === null || k.checkpointKey.startsWith("optimizer/")) continue;
    const parts = m[1] === undefined ? [] : m[1].split("/");
    const scope = root === undefined ? [] : [root];
    for (let i = 1; i <= parts.length; i++) {
      const n = names.get(parts.slice(0, i).join("/"));
      if (n !== undefined) scope.push(n);
    }
    if (scope.length > 0) out.set(k.checkpointKey, scope.join("/"));
  }
  return out;
}
